/*
 * device_internal.h - state shared by the device_*.c modules (private to teddy_core).
 *
 * One struct per emulator/core module (config.py, claim.py, link.py, chat.py, ota.py,
 * download.py) inside struct teddy_device, which also holds the shared context of
 * context.py: clock, state, timers, ids, the in-RAM NVS view and HTTP routing. NVS keys
 * (TEDDY_NVS_*), events (EMIT_*), states, timers and wire constants are generated
 * (teddy_model.h, device_events.h, teddy_wire.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "device_events.h"
#include "teddy_answer.h"
#include "teddy_device.h"
#include "teddy_image.h"
#include "teddy_manifest.h"
#include "teddy_msg.h"

#define DEV_URL_MAX 512
#define DEV_SESSION_MAX (TEDDY_AUDIO_SESSION_ID_MAX + 8)
#define DEV_HTTP_SLOTS 8
#define DEV_PLAYING_MAX 4

typedef enum {
    DEV_HTTP_NONE = 0,
    DEV_HTTP_CONFIG,
    DEV_HTTP_CLAIM,
    DEV_HTTP_REFRESH,
    DEV_HTTP_MANIFEST,
    DEV_HTTP_DOWNLOAD,
} dev_http_owner_t;

typedef struct {
    char ns[16], key[16];
    bool is_str;
    char *str;
    int64_t num; /* u32 and i32 keys */
} dev_kv_t;

typedef struct {
    uint32_t req;
    bool continue_boot;
} dev_config_t;

typedef struct {
    uint32_t req;
    bool background;
    uint32_t attempt; /* consecutive claim failures (claim.fail `attempt`) */
    uint32_t refresh_failures;
    bool stale_retry_used, omit_timestamp, gave_up;
    bool has_deadline; /* SPEC §3.2: deadlines live on the uptime clock */
    uint64_t access_deadline_ms;
    char last_nonce[65]; /* quirks reuse_nonce, retry_same_nonce: "" = none yet */
    bool same_nonce;     /* retry_same_nonce: the next claim replays last_nonce */
} dev_auth_t;

typedef struct {
    uint32_t conn_id; /* 0 = none */
    bool is_open;
    char url[DEV_URL_MAX];
    uint32_t attempt, refusals;
    char hold_reason[TEDDY_ANSWER_CODE_SIZE]; /* "" = none */
    bool has_opened_at;
    uint64_t opened_at_ms;
} dev_link_t;

typedef struct {
    bool active;
    uint32_t id;
    teddy_cmd_id_t command; /* the console command it answers: TEDDY_CMD_TALK / _BUTTON */
    char session[DEV_SESSION_MAX];
    bool started;
    bool start_late; /* the quirk audio_before_start: audio_start follows chunk 0 */
    uint8_t *buffer; /* one uplink chunk being filled */
    size_t buffer_len;
    size_t pcm_total;
    uint32_t chunks;
} dev_capture_t;

typedef struct {
    dev_capture_t capture;
    uint32_t pending; /* utterances/texts sent and not yet answered */
    bool reply_active;
    teddy_audio_rx_t reply;
    char reply_text[1024];
    char dead_reply[DEV_SESSION_MAX]; /* "" = none */
    char playing[DEV_PLAYING_MAX][DEV_SESSION_MAX];
    uint32_t utterances;
} dev_chat_t;

/* Streaming structural check of an app image (truncated / bad_checksum / bad_hash). */
typedef struct {
    size_t pos;           /* bytes seen */
    int stage;            /* header, segment header, segment data, pad, digest, done */
    uint8_t hdr[24];
    uint8_t seg_hdr[8];
    size_t need;          /* bytes left in the current stage */
    unsigned segments, seg_index;
    bool hash_appended;
    uint8_t checksum;
    uint8_t stored_digest[32];
    teddy_sha256_t sha;   /* over bytes [0, end of checksum block) */
    teddy_image_err_t error;
} dev_imgcheck_t;

typedef struct {
    teddy_manifest_t manifest;
    int slot;
    size_t received;
    uint32_t attempts; /* failed attempts (SPEC §5.2: give up after 5) */
    bool reading;      /* re-reading the partial slot of a resumed download */
    size_t read_target;
    teddy_image_verifier_t verifier;
    bool verifier_ready;
    dev_imgcheck_t check;
    uint32_t req;
    size_t range_from;
    char etag[128];
    uint32_t next_tenth;
} dev_download_t;

typedef struct {
    uint32_t req;
    teddy_manifest_t *waiting; /* non-mandatory, waits for idle */
    dev_download_t *download;
    bool confirmed;
    bool first_check_done;
} dev_ota_t;

struct teddy_device {
    /* build (copied) */
    char server_url[256], device_id[65], chip[16], oob_secret[65], child_id[65];
    char child_name[128]; /* "": the claim's */
    bool has_oob, has_child_age;
    int child_age, volume;
    teddy_timing_t timing;
    teddy_port_boot_info_t boot;
    uint32_t boot_count;
    uint32_t rng;
    void (*random_bytes)(void *buf, size_t len);
    teddy_effect_sink_t sink;
    void *sink_ctx;
    /* context */
    uint64_t now_ms;
    teddy_state_t state;
    bool wifi_up;
    bool wifi_off; /* `wifi down` was typed: a join in flight must not bring the link up */
    bool time_synced;
    int64_t epoch;
    uint64_t synced_at_ms;
    bool armed[TEDDY_TIMER_COUNT];
    uint64_t timer_at[TEDDY_TIMER_COUNT];
    uint32_t next_id;
    dev_kv_t *kv;
    size_t kv_n, kv_cap;
    struct {
        uint32_t id;
        dev_http_owner_t owner;
    } http[DEV_HTTP_SLOTS];
    /* SPEC Appendix C quirks: NULL = off, else its value ("" for none); RAM only */
    char *quirk[TEDDY_QUIRK_COUNT];
    /* modules */
    dev_config_t config;
    dev_auth_t auth;
    dev_link_t link;
    dev_chat_t chat;
    dev_ota_t ota;
};

/* Not `dev_t`: newlib's sys/types.h (ESP-IDF) already defines that name. */
typedef struct teddy_device tdev_t;

/* device_ctx.c: output, state, ids, timers, HTTP plumbing */
void dev_fx(tdev_t *d, const teddy_effect_t *fx);
/* Print one event (takes `data`); the EMIT_<EVENT> macros of device_events.h call it. */
void dev_emit_event(tdev_t *d, teddy_event_id_t event, cJSON *data);
void dev_log(tdev_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dev_set_state(tdev_t *d, teddy_state_t to);
uint32_t dev_new_id(tdev_t *d);
uint32_t dev_rand(tdev_t *d);
void dev_arm(tdev_t *d, teddy_timer_t t, uint64_t delay_ms);
void dev_disarm(tdev_t *d, teddy_timer_t t);
uint32_t dev_backoff(tdev_t *d, uint32_t attempt, uint32_t base, uint32_t max, double jitter);
bool dev_wall_clock(const tdev_t *d, int64_t *epoch);
uint32_t dev_http(tdev_t *d, dev_http_owner_t owner, const char *method, const char *url,
                  const teddy_port_header_t *headers, size_t n_headers, const char *body,
                  bool stream);
void dev_http_done(tdev_t *d, uint32_t req);
void dev_http_cancel(tdev_t *d, uint32_t *req);
dev_http_owner_t dev_http_owner(const tdev_t *d, uint32_t req);
const char *dev_header(const teddy_input_t *in, const char *name);
cJSON *dev_obj(void);
void dev_pct_encode(char *out, size_t size, const char *in);
/* strdup (not in C11). */
char *dev_strdup(const char *s);
/* SPEC Appendix C: is the quirk on; its value (NULL when off). */
bool dev_quirk(const tdev_t *d, teddy_quirk_t q);
const char *dev_quirk_value(const tdev_t *d, teddy_quirk_t q);
/* Switch a quirk on (value copied; "" for none) or off (value NULL); false: no memory. */
bool dev_quirk_set(tdev_t *d, teddy_quirk_t q, const char *value);

/* device_answers.c: why a request failed, as claim.fail, token.refresh.fail, config.fail
 * and ota.none print it (SPEC §8.2; emulator/core/answers.py). */
typedef struct {
    int status; /* 0: no answer (transport) */
    char code[TEDDY_ANSWER_CODE_SIZE];
    char message[TEDDY_ANSWER_TEXT_SIZE];
    char field[TEDDY_FIELD_NAME_MAX];
} dev_failure_t;
#define DEV_TRANSPORT "transport" /* the code of a request that got no answer */
/* A transport failure (its reason quoted as the message) or an error answer. */
void dev_failure_of(const teddy_input_t *in, dev_failure_t *out);
/* A 200/304 whose body the device cannot use; errs NULL: it was not JSON. */
void dev_failure_bad(int status, const char *code, const teddy_field_errors_t *errs,
                     dev_failure_t *out);
/* A plain answer (status only), for the ota.none rows that are decisions. */
void dev_failure_none(int status, dev_failure_t *out);
/* The body of an answer as both cores read it (SPEC §1.1): UTF-8, no U+0000 escape. */
bool dev_body_readable(const teddy_input_t *in);

/* device_kv.c: the in-RAM NVS view; every change is also an NVS effect. Keys are the
 * model's (pass TEDDY_NVS_<NS>_<KEY>, the `ns, key` pair); a value of the wrong type, or
 * a key the model does not have, is a core bug: logged, nothing stored. */
const char *dev_nvs_str(const tdev_t *d, const char *ns, const char *key);
bool dev_nvs_int(const tdev_t *d, const char *ns, const char *key, int64_t *out);
void dev_nvs_set_str(tdev_t *d, const char *ns, const char *key, const char *value);
void dev_nvs_set_int(tdev_t *d, const char *ns, const char *key, int64_t value);
void dev_nvs_erase(tdev_t *d, const char *ns);
esp_err_t dev_kv_put(tdev_t *d, const char *ns, const char *key, const char *str, int64_t num,
                     bool is_str);
void dev_kv_free(tdev_t *d);
const char *dev_device_id(const tdev_t *d);
const char *dev_server_url(const tdev_t *d, char *buf, size_t size);
const char *dev_child_id(const tdev_t *d);
const char *dev_child_name(const tdev_t *d);
int dev_child_age(const tdev_t *d);
int dev_volume(const tdev_t *d);

/* device_config.c */
void dev_config_fetch(tdev_t *d, bool continue_boot);
void dev_config_cancel(tdev_t *d);
void dev_config_on_http(tdev_t *d, const teddy_input_t *in);
bool dev_config_ota_enabled(const tdev_t *d);
void dev_config_check_ws_path(tdev_t *d, const char *websocket_url);

/* device_auth.c */
void dev_auth_authenticate(tdev_t *d);
void dev_auth_claim(tdev_t *d);
void dev_auth_refresh(tdev_t *d, bool background);
void dev_auth_drop_tokens(tdev_t *d);
void dev_auth_cancel(tdev_t *d);
bool dev_auth_has_tokens(const tdev_t *d);
bool dev_auth_needs_refresh(const tdev_t *d);
void dev_auth_on_timer(tdev_t *d, teddy_timer_t t);
void dev_auth_on_http(tdev_t *d, dev_http_owner_t owner, const teddy_input_t *in);

/* device_link.c */
void dev_link_connect(tdev_t *d);
void dev_link_close(tdev_t *d, int code, const char *reason);
void dev_link_release_hold(tdev_t *d);
bool dev_link_send(tdev_t *d, const char *text, size_t len);
void dev_link_on_ws(tdev_t *d, const teddy_input_t *in);
void dev_link_on_closed(tdev_t *d, int code, const char *reason);
void dev_link_on_timer(tdev_t *d, teddy_timer_t t);

/* device_chat.c */
teddy_state_t dev_chat_substate(const tdev_t *d);
bool dev_chat_idle(const tdev_t *d);
void dev_chat_start_capture(tdev_t *d, teddy_cmd_id_t command, teddy_capture_kind_t kind,
                            const char *value);
void dev_chat_stop_capture(tdev_t *d);
bool dev_chat_send_text(tdev_t *d, const char *text);
void dev_chat_on_capture(tdev_t *d, const teddy_input_t *in);
void dev_chat_on_message(tdev_t *d, const teddy_server_msg_t *msg);
void dev_chat_on_playback_done(tdev_t *d, const char *session);
void dev_chat_on_link_lost(tdev_t *d);
void dev_chat_free(tdev_t *d);

/* device_ota.c */
void dev_ota_on_boot(tdev_t *d);
void dev_ota_on_ws_open(tdev_t *d);
void dev_ota_on_timer(tdev_t *d, teddy_timer_t t);
bool dev_ota_check(tdev_t *d, bool automatic);
void dev_ota_on_manifest(tdev_t *d, const teddy_input_t *in);
void dev_ota_on_idle(tdev_t *d);
void dev_ota_on_rollback_reported(tdev_t *d, const char *from_version);
bool dev_ota_busy(const tdev_t *d);
bool dev_ota_updating(const tdev_t *d);
void dev_ota_download_failed(tdev_t *d, const char *reason, const char *message);
void dev_ota_download_verified(tdev_t *d, const char *version, int slot);
void dev_ota_free(tdev_t *d);

/* device_download.c */
dev_download_t *dev_dl_new(tdev_t *d, const teddy_manifest_t *m, int slot);
void dev_dl_free(dev_download_t *dl);
void dev_dl_begin(tdev_t *d, dev_download_t *dl);
void dev_dl_resume(tdev_t *d, dev_download_t *dl);
void dev_dl_on_http(tdev_t *d, dev_download_t *dl, const teddy_input_t *in);
void dev_dl_on_slot_data(tdev_t *d, dev_download_t *dl, const teddy_input_t *in);

/* device_imgcheck.c */
esp_err_t dev_imgcheck_init(dev_imgcheck_t *c);
void dev_imgcheck_feed(dev_imgcheck_t *c, const uint8_t *data, size_t len);
/* TEDDY_IMAGE_OK when the stream was one complete, intact image. */
teddy_image_err_t dev_imgcheck_finish(dev_imgcheck_t *c);
void dev_imgcheck_free(dev_imgcheck_t *c);

/* device_commands.c */
void dev_commands_handle(tdev_t *d, const char *line);

/* device_core.c */
void dev_settle(tdev_t *d);
void dev_wifi_lost(tdev_t *d, bool by_user);
void dev_going_down(tdev_t *d, const char *reason);
void dev_after_config(tdev_t *d);
void dev_on_ws_open(tdev_t *d);
void dev_on_ws_lost(tdev_t *d);
