/*
 * teddy_device.h - the device state machine: one sans-I/O core per boot.
 *
 * The C twin of emulator/core (device.py and friends): the same SPEC §8.3 states,
 * SPEC §8.2 event lines, SPEC §9 console commands, timers, inputs and effects - all
 * the generated vocabulary of teddy_model.h (protocol/device_model.yaml) - and the
 * same retry policies (SPEC §2.6 claim, §3.2 refresh, §6.2 reconnect, §5.2 download
 * resume, §5.5 self-test and rollback).
 *
 * Inputs in, effects out, no I/O and no clock: every input carries the uptime at
 * which it happened, every effect goes to the sink in the order it must be carried
 * out (flash writes complete before the next effect, as emulator/host.py does).
 * Pointers inside an effect or an input are valid only during the call. The sink
 * must not call back into the device; it may queue inputs for later.
 *
 *   teddy_device_t *dev;
 *   teddy_device_create(&init, &dev);         // build, timing, boot facts, sink
 *   teddy_device_nvs_load_str(dev, TEDDY_NVS_AUTH_ACCESS_TOKEN, "...");  // NVS as read
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

/* States (teddy_state_t, TEDDY_STATE_*), timers (teddy_timer_t, TEDDY_TIMER_*), input
 * and effect kinds (TEDDY_IN_*, TEDDY_FX_*) and the timing struct (teddy_timing_t) are
 * generated into teddy_model.h; teddy_state_str() gives a state's SPEC §8.3 name. */

/* --- configuration -------------------------------------------------------------------- */

/** Compiled-in defaults (Kconfig on the board, CLI flags on the host, the model's
 * `build: true` settings); NVS settings override child_*, server and volume (SPEC
 * §9.2). Strings are copied; a NULL one takes the model's TEDDY_DEFAULT_* value.
 * child_name and child_age are unset by default: the device then uses the claim's
 * child profile (SPEC §2.5); when set they win over it, like a console `set`. */
typedef struct {
    const char *server_url; /* http://host:port */
    const char *device_id;  /* used until mfg/device_id exists in NVS */
    const char *chip;       /* "esp32" */
    const char *oob_secret; /* NULL: the seed derivation of SPEC §2.1 */
    const char *child_id;
    const char *child_name; /* NULL or "": the claim's child_profile.name */
    bool has_child_age;     /* false: the claim's child_profile.age */
    int child_age;
    int volume;
    /* SPEC Appendix C device quirks on from boot (--quirk NAME[=VALUE]): non-NULL = on,
     * with its value ("" for a quirk that takes none). Copied; held in RAM only. */
    const char *quirks[TEDDY_QUIRK_COUNT];
} teddy_build_t;

/** The model's fast (test) timing defaults (DeviceTiming()). */
void teddy_timing_fast(teddy_timing_t *t);
/** What a real board uses (DeviceTiming.realistic()). */
void teddy_timing_real(teddy_timing_t *t);
/**
 * Set one field by its model name ("ota_retry_ms"): ESP_ERR_NOT_FOUND if unknown,
 * ESP_ERR_INVALID_ARG if negative. A driver field (wifi_join_ms) is accepted and left
 * to the port's options (teddy-fw-host routes it).
 */
esp_err_t teddy_timing_set(teddy_timing_t *t, const char *name, double value);

/* --- effects (core -> drivers) ---------------------------------------------------------- */

/* Effect kinds (teddy_effect_kind_t): TEDDY_FX_PRINT (print.line), SET_TIMER /
 * CANCEL_TIMER (timer.id, timer.at_ms), NVS_SET (nvs.ns, nvs.key, nvs.type, nvs.str or
 * nvs.num: durable before the next effect), NVS_ERASE (nvs.key NULL = the namespace),
 * WIFI_CONNECT, WIFI_DISCONNECT, SYNC_TIME, HTTP_REQUEST (http.*; answered by
 * HTTP_RESPONSE/FAILED or STREAM_*), HTTP_CANCEL, WS_CONNECT / WS_SEND / WS_CLOSE (ws.*),
 * START_CAPTURE / STOP_CAPTURE (capture.*), PLAY / PLAY_END (audio.session, pcm, sample_rate,
 * received, cut; answered by PLAYBACK_DONE), SAVE_AUDIO (audio.name, pcm: APPENDED to the recording),
 * SET_VOLUME (audio.volume), SLOT_ERASE / SLOT_WRITE / SLOT_READ (flash.*; answered by
 * SLOT_DATA), OTA_SET_BOOT, OTA_MARK_VALID, OTA_MARK_INVALID, OTA_ACK_ROLLBACK, REBOOT
 * (reboot.reason). Their canonical JSON form is teddy_canon.h's. */

typedef struct {
    teddy_effect_kind_t kind;
    union {
        struct { const char *line; } print;
        struct { teddy_timer_t id; uint64_t at_ms; } timer;
        struct {
            const char *ns, *key;
            teddy_nvs_type_t type; /* the model's type of ns/key */
            const char *str;       /* TEDDY_NVS_STR */
            int64_t num;           /* TEDDY_NVS_U32 / TEDDY_NVS_I32 */
        } nvs;
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
            uint32_t sample_rate;     /* PLAY: the DAC's rate (SPEC §7.1, Appendix C) */
            const uint8_t *received;  /* PLAY: the frame as sent when pcm differs, else NULL */
            size_t received_len;
        } audio;
        struct {
            int slot;
            size_t offset;
            const uint8_t *data;
            size_t len;
            uint32_t secure_version;
            const char *reason;
        } flash;
        struct { teddy_reset_reason_t reason; } reboot;
    } u;
} teddy_effect_t;

typedef void (*teddy_effect_sink_t)(const teddy_effect_t *fx, void *ctx);

/* --- inputs (drivers -> core) ----------------------------------------------------------- */

/* Input kinds (teddy_input_kind_t) and the members they use: CONSOLE_LINE (text),
 * TIMER_FIRED (timer, at_ms), WIFI_UP (text = ip), WIFI_DOWN, TIME_SYNCED (epoch),
 * HTTP_RESPONSE (id, status, headers with lower-case names, data/len = body),
 * HTTP_FAILED (id, text = reason), HTTP_STREAM_START (id, status, headers),
 * HTTP_STREAM_DATA (id, data/len), HTTP_STREAM_END (id), WS_OPENED (id), WS_REFUSED (id,
 * status, data/len = body), WS_TEXT (id, data/len), WS_BINARY (id, len = size),
 * WS_CLOSED (id, code, text = reason), CAPTURE_STARTED (id), CAPTURE_FAILED (id, text =
 * reason, message), CAPTURE_CHUNK (id, data/len = pcm), CAPTURE_ENDED (id),
 * PLAYBACK_DONE (text = audio_session_id), SLOT_DATA (slot, offset, data/len). */

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

/** NVS contents as read from flash before start (no effect is emitted); the keys the
 * core reads are TEDDY_NVS_KEYS (teddy_model.h), with their types. */
esp_err_t teddy_device_nvs_load_str(teddy_device_t *dev, const char *ns, const char *key,
                                    const char *value);
/** A u32 or i32 key's value. */
esp_err_t teddy_device_nvs_load_int(teddy_device_t *dev, const char *ns, const char *key,
                                    int64_t value);

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
