/*
 * teddy_device.h - the device state machine: one sans-I/O core per boot.
 *
 * The C twin of emulator/core (device.py and friends): the same SPEC §8.3 states
 * (boot, wifi, config, time_sync, claiming, connecting, idle, listening, thinking,
 * speaking, updating, offline), the same SPEC §8.2 event lines, the same SPEC §9
 * console commands and retry policies (SPEC §2.6 claim, §3.2 refresh, §6.2
 * reconnect, §5.2 download resume, §5.5 self-test and rollback).
 *
 * Inputs in, effects out, no I/O and no clock: every input carries the uptime at
 * which it happened, every effect goes to the sink in the order it must be carried
 * out (flash writes complete before the next effect, as emulator/host.py does).
 * Pointers inside an effect or an input are valid only during the call. The sink
 * must not call back into the device; it may queue inputs for later.
 *
 *   teddy_device_t *dev;
 *   teddy_device_create(&init, &dev);         // build, timing, boot facts, sink
 *   teddy_device_nvs_load_str(dev, "auth", "access_token", "...");  // NVS as read
 *   teddy_device_start(dev, now_ms);          // boot{...}, wifi
 *   teddy_device_handle(dev, &input, now_ms); // forever
 *   teddy_device_destroy(dev);                // reset: RAM is lost
 *
 * teddy_app_run() (device_runner.c) is the loop that drives it through teddy_port.h
 * on both the host and the board.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teddy_err.h"
#include "teddy_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- states and timers ---------------------------------------------------------------- */

typedef enum {
    TEDDY_STATE_BOOT = 0,
    TEDDY_STATE_WIFI,
    TEDDY_STATE_TIME_SYNC,
    TEDDY_STATE_CONFIG,
    TEDDY_STATE_CLAIMING,
    TEDDY_STATE_CONNECTING,
    TEDDY_STATE_IDLE,
    TEDDY_STATE_LISTENING,
    TEDDY_STATE_THINKING,
    TEDDY_STATE_SPEAKING,
    TEDDY_STATE_UPDATING,
    TEDDY_STATE_OFFLINE,
} teddy_state_t;

/** SPEC §8.3 name ("idle", ...). */
const char *teddy_state_str(teddy_state_t state);

/** The core's timers (emulator/core timer names). */
typedef enum {
    TEDDY_TIMER_CLAIM_RETRY = 0,
    TEDDY_TIMER_AUTH_RETRY,
    TEDDY_TIMER_TOKEN_REFRESH,
    TEDDY_TIMER_WS_RETRY,
    TEDDY_TIMER_HEARTBEAT,
    TEDDY_TIMER_SELFTEST,
    TEDDY_TIMER_OTA_PERIODIC,
    TEDDY_TIMER_OTA_RETRY,
    TEDDY_TIMER_CONFIG_REFRESH,
    TEDDY_TIMER_PANIC,
    TEDDY_TIMER_COUNT,
} teddy_timer_t;

/* --- configuration -------------------------------------------------------------------- */

/** Compiled-in defaults (Kconfig on the board, CLI flags on the host); NVS settings
 * override child_*, server and volume (SPEC §9.2). Strings are copied. */
typedef struct {
    const char *server_url; /* http://host:port */
    const char *device_id;  /* used until mfg/device_id exists in NVS */
    const char *chip;       /* "esp32" */
    const char *oob_secret; /* NULL: the seed derivation of SPEC §2.1 */
    const char *child_id;
    const char *child_name;
    int child_age;
    int volume;
} teddy_build_t;

/** Every delay in ms of uptime (emulator/core/timing.py DeviceTiming). */
typedef struct {
    uint32_t claim_backoff_base_ms, claim_backoff_max_ms;
    double claim_jitter;
    uint32_t reconnect_base_ms, reconnect_max_ms;
    double reconnect_jitter;
    uint32_t reconnect_reset_ms;
    uint32_t session_replaced_holdoff_ms;
    uint32_t heartbeat_interval_ms; /* 0: the server's heartbeat_interval */
    uint32_t self_test_limit_ms;
    uint32_t ota_check_interval_ms;
    uint32_t ota_retry_ms;
    uint32_t ota_max_attempts;
    uint32_t config_max_age_ms;
    uint32_t token_refresh_margin_ms;
    uint32_t http_timeout_ms;
} teddy_timing_t;

/** Test-speed defaults (DeviceTiming()). */
void teddy_timing_fast(teddy_timing_t *t);
/** What a real board uses (DeviceTiming.realistic()). */
void teddy_timing_real(teddy_timing_t *t);
/** Set one field by its DeviceTiming name ("ota_retry_ms"); ESP_ERR_NOT_FOUND if unknown. */
esp_err_t teddy_timing_set(teddy_timing_t *t, const char *name, double value);

/* --- effects (core -> drivers) ---------------------------------------------------------- */

typedef enum {
    TEDDY_FX_PRINT = 0,       /* print.line */
    TEDDY_FX_SET_TIMER,       /* timer.id fires at timer.at_ms (replaces it) */
    TEDDY_FX_CANCEL_TIMER,    /* timer.id */
    TEDDY_FX_NVS_SET_STR,     /* nvs.ns, nvs.key, nvs.str: durable before the next effect */
    TEDDY_FX_NVS_SET_U32,     /* nvs.ns, nvs.key, nvs.u32 */
    TEDDY_FX_NVS_ERASE,       /* nvs.ns, nvs.key (NULL = the namespace) */
    TEDDY_FX_WIFI_CONNECT,
    TEDDY_FX_WIFI_DISCONNECT,
    TEDDY_FX_SYNC_TIME,
    TEDDY_FX_HTTP_REQUEST,    /* http.* ; answered by HTTP_RESPONSE/FAILED or STREAM_* */
    TEDDY_FX_HTTP_CANCEL,     /* http.req_id */
    TEDDY_FX_WS_CONNECT,      /* ws.conn_id, ws.url, ws.headers */
    TEDDY_FX_WS_SEND,         /* ws.conn_id, ws.text/len */
    TEDDY_FX_WS_CLOSE,        /* ws.conn_id, ws.code, ws.reason */
    TEDDY_FX_START_CAPTURE,   /* capture.id, capture.kind, capture.value */
    TEDDY_FX_STOP_CAPTURE,    /* capture.id */
    TEDDY_FX_PLAY,            /* audio.session, audio.pcm/len */
    TEDDY_FX_PLAY_END,        /* audio.session, audio.cut: answered by PLAYBACK_DONE */
    TEDDY_FX_SAVE_AUDIO,      /* audio.name, audio.pcm/len: append to a recording */
    TEDDY_FX_SET_VOLUME,      /* audio.volume */
    TEDDY_FX_SLOT_ERASE,      /* flash.slot */
    TEDDY_FX_SLOT_WRITE,      /* flash.slot, flash.offset, flash.data/len */
    TEDDY_FX_SLOT_READ,       /* flash.slot, flash.offset, flash.len: answered by SLOT_DATA */
    TEDDY_FX_OTA_SET_BOOT,    /* flash.slot */
    TEDDY_FX_OTA_MARK_VALID,  /* flash.slot, flash.secure_version */
    TEDDY_FX_OTA_MARK_INVALID,/* flash.slot, flash.reason */
    TEDDY_FX_OTA_ACK_ROLLBACK,
    TEDDY_FX_REBOOT,          /* reboot.reason: SPEC §8.2 reset reason ("sw", "panic") */
} teddy_effect_kind_t;

typedef struct {
    teddy_effect_kind_t kind;
    union {
        struct { const char *line; } print;
        struct { teddy_timer_t id; uint64_t at_ms; } timer;
        struct { const char *ns, *key, *str; uint32_t u32; } nvs;
        struct {
            uint32_t req_id;
            const char *method, *url;
            const teddy_port_header_t *headers;
            size_t n_headers;
            const char *body; /* NULL for none */
            size_t body_len;
            bool stream;      /* answer with HTTP_STREAM_* (firmware download) */
        } http;
        struct {
            uint32_t conn_id;
            const char *url;
            const teddy_port_header_t *headers;
            size_t n_headers;
            const char *text;
            size_t len;
            int code;
            const char *reason;
        } ws;
        struct { uint32_t id; teddy_capture_kind_t kind; const char *value; } capture;
        struct {
            const char *session;
            const char *name;
            const uint8_t *pcm;
            size_t len;
            bool cut;
            int volume;
        } audio;
        struct {
            int slot;
            size_t offset;
            const uint8_t *data;
            size_t len;
            uint32_t secure_version;
            const char *reason;
        } flash;
        struct { const char *reason; } reboot;
    } u;
} teddy_effect_t;

typedef void (*teddy_effect_sink_t)(const teddy_effect_t *fx, void *ctx);

/* --- inputs (drivers -> core) ----------------------------------------------------------- */

typedef enum {
    TEDDY_IN_CONSOLE_LINE = 0, /* text */
    TEDDY_IN_TIMER_FIRED,      /* timer, at_ms */
    TEDDY_IN_WIFI_UP,          /* text = ip */
    TEDDY_IN_WIFI_DOWN,
    TEDDY_IN_TIME_SYNCED,      /* epoch */
    TEDDY_IN_HTTP_RESPONSE,    /* id, status, headers (lower-case names), data/len = body */
    TEDDY_IN_HTTP_FAILED,      /* id, text = reason */
    TEDDY_IN_HTTP_STREAM_START,/* id, status, headers */
    TEDDY_IN_HTTP_STREAM_DATA, /* id, data/len */
    TEDDY_IN_HTTP_STREAM_END,  /* id */
    TEDDY_IN_WS_OPENED,        /* id */
    TEDDY_IN_WS_REFUSED,       /* id, status, data/len = body */
    TEDDY_IN_WS_TEXT,          /* id, data/len */
    TEDDY_IN_WS_BINARY,        /* id, len = size */
    TEDDY_IN_WS_CLOSED,        /* id, code, text = reason */
    TEDDY_IN_CAPTURE_STARTED,  /* id */
    TEDDY_IN_CAPTURE_FAILED,   /* id, text = reason, message */
    TEDDY_IN_CAPTURE_CHUNK,    /* id, data/len = pcm */
    TEDDY_IN_CAPTURE_ENDED,    /* id */
    TEDDY_IN_PLAYBACK_DONE,    /* text = audio_session_id */
    TEDDY_IN_SLOT_DATA,        /* slot, offset, data/len */
} teddy_input_kind_t;

typedef struct {
    teddy_input_kind_t kind;
    uint32_t id;
    int status;
    int code;
    const teddy_port_header_t *headers;
    size_t n_headers;
    const uint8_t *data;
    size_t len;
    const char *text;
    const char *message;
    int64_t epoch;
    teddy_timer_t timer;
    uint64_t at_ms;
    int slot;
    size_t offset;
} teddy_input_t;

/* --- lifetime --------------------------------------------------------------------------- */

typedef struct teddy_device teddy_device_t;

typedef struct {
    teddy_build_t build;
    teddy_timing_t timing;
    teddy_port_boot_info_t boot; /* from the bootloader (teddy_port_boot_info) */
    uint32_t boot_count;         /* this boot's number (sys/boot_count) */
    uint32_t rng_seed;           /* jitter and ids (not nonces) */
    void (*random_bytes)(void *buf, size_t len); /* claim nonces (SPEC §2.3): a CSPRNG */
    teddy_effect_sink_t sink;
    void *sink_ctx;
} teddy_device_init_t;

esp_err_t teddy_device_create(const teddy_device_init_t *init, teddy_device_t **out);
void teddy_device_destroy(teddy_device_t *dev);

/** The NVS keys the core reads (NULL-terminated list of "ns/key" strings, type 's'
 * or 'u' in the first char: "s:auth/access_token"). The runner loads each one. */
const char *const *teddy_device_nvs_keys(void);
/** NVS contents as read from flash before start (no effect is emitted). */
esp_err_t teddy_device_nvs_load_str(teddy_device_t *dev, const char *ns, const char *key,
                                    const char *value);
esp_err_t teddy_device_nvs_load_u32(teddy_device_t *dev, const char *ns, const char *key,
                                    uint32_t value);

/** Power-on: boot{...}, a pending rollback report, join Wi-Fi. */
void teddy_device_start(teddy_device_t *dev, uint64_t now_ms);
/** One input that happened at uptime now_ms. */
void teddy_device_handle(teddy_device_t *dev, const teddy_input_t *in, uint64_t now_ms);
teddy_state_t teddy_device_state(const teddy_device_t *dev);

/* --- the loop (device_runner.c, uses teddy_port.h) ------------------------------------ */

/**
 * Run one boot: read the boot facts and NVS, create the core, carry out its effects
 * through teddy_port.h until the core asks for a reset (returns ESP_OK after calling
 * teddy_port_restart) or teddy_port_poll() says the platform is going away
 * (ESP_ERR_INVALID_STATE). On ESP-IDF a reset never returns.
 */
esp_err_t teddy_app_run(const teddy_build_t *build, const teddy_timing_t *timing,
                        uint32_t rng_seed);

#ifdef __cplusplus
}
#endif
