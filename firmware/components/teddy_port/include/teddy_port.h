/*
 * teddy_port.h - the one platform header of the Teddy firmware.
 *
 * Everything the portable core (components/teddy_core) needs from a board: clock,
 * randomness, console, NVS, the two OTA app slots and otadata, Wi-Fi, SNTP, HTTP,
 * the WebSocket, microphone, speaker, button and reset. Two implementations exist and
 * CMake picks one: port_idf (ESP-IDF: esp_http_client, esp_websocket_client,
 * esp_ota_ops, nvs_flash, I2S) and port_linux (libcurl, libwebsockets, files).
 *
 * Threading model (the one rule both ports honour): the core runs on ONE thread, the
 * "app thread", which calls teddy_port_poll() in a loop. Every callback registered
 * through this header is invoked from inside teddy_port_poll() on that thread, never
 * from a driver task or signal handler. So an event-loop port (Linux: curl multi +
 * lws_service + poll(2)) dispatches directly, and a FreeRTOS port (ESP-IDF: Wi-Fi,
 * HTTP, WS and I2S tasks) posts events into a queue that teddy_port_poll() drains.
 * Data pointers handed to a callback are valid only during that call (copy them).
 * Functions that are not callbacks are called from the app thread only, unless noted.
 *
 * Correlation ids (req_id, conn_id, capture_id) are never 0 and never reused within
 * a boot; after a cancel/close/stop no further callback arrives for that id, so the
 * core can ignore late work it has abandoned (mirrors emulator/core/effects.py).
 *
 * Strings are UTF-8, NUL-terminated. NVS namespaces and keys are at most 15 chars
 * (the ESP-IDF NVS limit). SPEC references are to protocol/SPEC.md.
 */
#ifndef TEDDY_PORT_H
#define TEDDY_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teddy_err.h"
#include "teddy_model.h" /* slot names, reset reasons, capture kinds (generated) */
#include "teddy_wire.h"  /* SPEC constants (generated from protocol/constants.py) */

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------
 * Lifetime, event loop, clock, randomness
 * ------------------------------------------------------------------------------- */

/*
 * Bring the board up (NVS, flash, audio, console). Platform-specific options are set
 * beforehand through the port's own header (port_linux: teddy_port_linux.h). Runs the
 * bootloader's slot choice on ports that emulate one (SPEC §5.5), so
 * teddy_port_boot_info() is valid afterwards.
 */
esp_err_t teddy_port_init(void);

/* Release everything (sockets, requests, captures); safe to call twice. */
void teddy_port_deinit(void);

/*
 * Wait up to timeout_ms for I/O and dispatch every pending callback on the calling
 * (app) thread. Returns ESP_OK, or ESP_ERR_INVALID_STATE when the platform is
 * shutting down (Linux: console EOF, SIGTERM) and the app loop should return.
 */
esp_err_t teddy_port_poll(uint32_t timeout_ms);

/* Milliseconds since this boot (monotonic, never goes back): the SPEC §8 uptime. */
uint64_t teddy_port_now_ms(void);

/* Fill buf with cryptographically strong random bytes (claim nonce, SPEC §2.3). */
void teddy_port_random(void *buf, size_t len);

/* ---------------------------------------------------------------------------------
 * Boot facts (bootloader, efuses, the running image's app descriptor)
 * ------------------------------------------------------------------------------- */

#define TEDDY_PORT_SLOT_COUNT TEDDY_SLOT_COUNT
#define TEDDY_PORT_VERSION_MAX 32 /* esp_app_desc_t.version is char[32] */
#define TEDDY_PORT_REASON_MAX 24

typedef struct {
    char fw_version[TEDDY_PORT_VERSION_MAX];  /* app descriptor version of the running image */
    int slot;                                 /* running slot, 0 = ota_0, 1 = ota_1 */
    char reset_reason[TEDDY_PORT_REASON_MAX]; /* SPEC §8.2: poweron, sw, panic, ... */
    char chip[16];                            /* SPEC §5.1 chip name: esp32, esp32s3, ... */
    uint32_t image_secure_version;            /* secure_version of the running image */
    uint32_t efuse_secure_version;            /* anti-rollback counter (SPEC §5.4) */
    size_t slot_size;                         /* bytes per app slot */
    bool pending_verify;  /* the running image is new and must confirm itself (§5.5) */
    bool rolled_back;     /* the bootloader fell back at this boot: report it (§5.5) */
    char rollback_from[TEDDY_PORT_VERSION_MAX];
    char rollback_to[TEDDY_PORT_VERSION_MAX];
    char rollback_reason[TEDDY_PORT_REASON_MAX]; /* not_confirmed, panic, self_test_failed */
    bool network_broken;      /* test hook (host only): image marker selftest:fail */
    int32_t panic_after_ms;   /* test hook (host only): image marker panic_after_ms, -1 none */
} teddy_port_boot_info_t;

esp_err_t teddy_port_boot_info(teddy_port_boot_info_t *out);

/*
 * Reset the board with this SPEC §8.2 reason ("sw", "panic"). ESP-IDF: never returns.
 * Ports without a real reset (Linux) close all I/O, remember the reason for the next
 * boot and return; teddy_port_poll() then returns ESP_ERR_INVALID_STATE and the app
 * loop re-runs teddy_port_init() (which boots again through the bootloader).
 */
void teddy_port_restart(const char *reset_reason);

/* True once teddy_port_restart() was called on a port where it returns. */
bool teddy_port_restart_pending(void);

/* ---------------------------------------------------------------------------------
 * Console: SPEC §8 event lines out, SPEC §9 command lines in
 * ------------------------------------------------------------------------------- */

/* Write one line; the port appends "\n". Lines are written whole and in order. */
void teddy_port_console_write(const char *line);

/* One complete input line without its line terminator (CR/LF stripped). */
typedef void (*teddy_port_line_cb_t)(const char *line, void *arg);

/* Register the receiver of console input lines (one receiver; NULL to stop). */
void teddy_port_console_set_callback(teddy_port_line_cb_t cb, void *arg);

/* ---------------------------------------------------------------------------------
 * NVS (durable once the call returns; the port commits)
 * ------------------------------------------------------------------------------- */

/* ESP_ERR_NOT_FOUND when absent; ESP_ERR_INVALID_SIZE when *len is too small
 * (then *len holds the size needed including the NUL). On success *len = strlen+1. */
esp_err_t teddy_port_nvs_get_str(const char *ns, const char *key, char *out, size_t *len);
esp_err_t teddy_port_nvs_set_str(const char *ns, const char *key, const char *value);
/* Blob: same size rules as get_str, without a NUL. */
esp_err_t teddy_port_nvs_get_blob(const char *ns, const char *key, void *out, size_t *len);
esp_err_t teddy_port_nvs_set_blob(const char *ns, const char *key, const void *value,
                                  size_t len);
esp_err_t teddy_port_nvs_get_u32(const char *ns, const char *key, uint32_t *out);
esp_err_t teddy_port_nvs_set_u32(const char *ns, const char *key, uint32_t value);
/* Signed 32-bit values (the model's i32 keys, e.g. settings/child_age). */
esp_err_t teddy_port_nvs_get_i32(const char *ns, const char *key, int32_t *out);
esp_err_t teddy_port_nvs_set_i32(const char *ns, const char *key, int32_t value);
/* Erase one key, or the whole namespace when key is NULL. Absent keys are not errors. */
esp_err_t teddy_port_nvs_erase(const char *ns, const char *key);

/* ---------------------------------------------------------------------------------
 * OTA app slots and otadata (SPEC §5.2 download/resume, §5.5 rollback)
 * ------------------------------------------------------------------------------- */

typedef enum {
    TEDDY_OTA_STATE_EMPTY = 0,      /* no app image */
    TEDDY_OTA_STATE_NEW,            /* written, set to boot, not booted yet */
    TEDDY_OTA_STATE_PENDING_VERIFY, /* booted once, must confirm (mark valid) */
    TEDDY_OTA_STATE_VALID,
    TEDDY_OTA_STATE_INVALID,        /* the app gave up (self-test failed) */
    TEDDY_OTA_STATE_ABORTED,        /* the bootloader gave up (never confirmed) */
} teddy_ota_state_t;

/* Erase a slot (not the running one). */
esp_err_t teddy_port_slot_erase(int slot);
/* Write len bytes at offset; writes go forward from 0 or from a resume offset. */
esp_err_t teddy_port_slot_write(int slot, size_t offset, const void *data, size_t len);
/* Read back what was written (resume re-hash, SPEC §5.2); short slots read as 0xFF. */
esp_err_t teddy_port_slot_read(int slot, size_t offset, void *buf, size_t len);
/* otadata: boot `slot` next as a NEW image that must verify itself. */
esp_err_t teddy_port_ota_set_boot(int slot);
/* The running pending-verify image passed its self-test: mark valid, cancel the
 * rollback, raise the anti-rollback counter to secure_version if higher. */
esp_err_t teddy_port_ota_mark_valid(uint32_t secure_version);
/* The running image failed its self-test; the next boot falls back (reason is
 * reported as ota.rollback{reason}). Does not reset by itself. */
esp_err_t teddy_port_ota_mark_invalid(const char *reason);
/* The rollback report of this boot was printed; forget it. */
esp_err_t teddy_port_ota_ack_rollback(void);
esp_err_t teddy_port_ota_get_state(int slot, teddy_ota_state_t *out);

/* ---------------------------------------------------------------------------------
 * Network: Wi-Fi station and SNTP
 * ------------------------------------------------------------------------------- */

/* up=true with the station IP, or up=false when the link dropped / failed. */
typedef void (*teddy_port_wifi_cb_t)(bool up, const char *ip, void *arg);

/* Join the configured network; the callback reports up/down, also later drops. */
esp_err_t teddy_port_wifi_connect(teddy_port_wifi_cb_t cb, void *arg);
/* Leave the network (console `wifi down`); reports up=false. */
esp_err_t teddy_port_wifi_disconnect(void);

/* Epoch seconds once SNTP answered. */
typedef void (*teddy_port_time_cb_t)(int64_t epoch, void *arg);
esp_err_t teddy_port_time_sync(teddy_port_time_cb_t cb, void *arg);

/* ---------------------------------------------------------------------------------
 * HTTP client (claim, refresh, config, manifest, image download with Range)
 * ------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *value;
} teddy_port_header_t;

typedef struct {
    const char *method; /* "GET", "POST" */
    const char *url;    /* absolute http:// or https:// URL */
    /* Extra request headers: Content-Type, Authorization, If-None-Match, Range, If-Range. */
    const teddy_port_header_t *headers;
    size_t n_headers;
    const char *body; /* NULL for none */
    size_t body_len;
    uint32_t timeout_ms; /* whole request, 0 = port default */
} teddy_port_http_request_t;

typedef enum {
    TEDDY_HTTP_EV_HEADERS, /* once: status + response headers (names lower-case) */
    TEDDY_HTTP_EV_DATA,    /* 0..n: body bytes in order */
    TEDDY_HTTP_EV_DONE,    /* final: the body is complete */
    TEDDY_HTTP_EV_FAILED,  /* final: transport failure (connect, timeout, reset), maybe
                              after HEADERS/DATA (a cut download) */
} teddy_http_event_kind_t;

typedef struct {
    teddy_http_event_kind_t kind;
    int status;                         /* HEADERS */
    const teddy_port_header_t *headers; /* HEADERS */
    size_t n_headers;
    const uint8_t *data; /* DATA */
    size_t len;
    const char *reason; /* FAILED: short text */
} teddy_http_event_t;

typedef void (*teddy_port_http_cb_t)(uint32_t req_id, const teddy_http_event_t *ev,
                                     void *arg);

/* Start a request; everything in *req is copied. Events: HEADERS, DATA*, DONE, or
 * FAILED at any point. Redirects are not followed (SPEC never redirects). */
esp_err_t teddy_port_http_start(const teddy_port_http_request_t *req, teddy_port_http_cb_t cb,
                                void *arg, uint32_t *out_req_id);
/* Abort; no callback follows for req_id. Unknown ids are ignored. */
void teddy_port_http_cancel(uint32_t req_id);

/* ---------------------------------------------------------------------------------
 * WebSocket client (SPEC §6)
 * ------------------------------------------------------------------------------- */

/* Largest server frame the device accepts; bigger ones close the link with 1009
 * (SPEC §6.6: every downlink frame is < 8192 bytes encoded). */
#define TEDDY_PORT_WS_MAX_FRAME 8191

typedef enum {
    TEDDY_WS_EV_OPEN,    /* the upgrade succeeded (101) */
    TEDDY_WS_EV_REFUSED, /* final: upgrade answered with another status (403 + body) */
    TEDDY_WS_EV_TEXT,    /* one complete text message */
    TEDDY_WS_EV_BINARY,  /* a binary message arrived (only its size is reported) */
    TEDDY_WS_EV_CLOSED,  /* final: code 1006 when it dropped without a close frame */
} teddy_ws_event_kind_t;

typedef struct {
    teddy_ws_event_kind_t kind;
    int status;          /* REFUSED: HTTP status, 0 when it never got one */
    const char *data;    /* TEXT: message; REFUSED: response body (may be empty) */
    size_t len;          /* TEXT/REFUSED: bytes in data; BINARY: message size */
    int close_code;      /* CLOSED */
    const char *reason;  /* CLOSED: close reason ("" when none) */
} teddy_ws_event_t;

typedef void (*teddy_port_ws_cb_t)(uint32_t conn_id, const teddy_ws_event_t *ev, void *arg);

/* Open ws:// or wss:// url with extra handshake headers (Authorization: Bearer ...,
 * SPEC §6.1). Events: OPEN then TEXT/BINARY* then CLOSED, or REFUSED/CLOSED alone. */
esp_err_t teddy_port_ws_connect(const char *url, const teddy_port_header_t *headers,
                                size_t n_headers, teddy_port_ws_cb_t cb, void *arg,
                                uint32_t *out_conn_id);
/* Queue one text frame (sent in order). ESP_ERR_INVALID_STATE when not open. */
esp_err_t teddy_port_ws_send_text(uint32_t conn_id, const char *text, size_t len);
/* Send a close frame and drop the link; no callback follows for conn_id. */
void teddy_port_ws_close(uint32_t conn_id, int code, const char *reason);

/* ---------------------------------------------------------------------------------
 * Audio: PCM s16le, 16000 Hz, mono (SPEC §7.1)
 * ------------------------------------------------------------------------------- */

#define TEDDY_PORT_SAMPLE_RATE TEDDY_SAMPLE_RATE

/* teddy_capture_kind_t (teddy_model.h): TEDDY_CAPTURE_CLIP (value: clip name or file,
 * console `talk <clip>`), TEDDY_CAPTURE_PHRASE (value: text to synthesise, `talk
 * "<phrase>"`), TEDDY_CAPTURE_LIVE (the microphone until teddy_port_capture_stop). */

typedef enum {
    TEDDY_CAPTURE_EV_STARTED,
    TEDDY_CAPTURE_EV_CHUNK, /* PCM in order, any size (the core re-chunks to 4096) */
    TEDDY_CAPTURE_EV_ENDED, /* final */
    TEDDY_CAPTURE_EV_FAILED /* final: reason is a SPEC §9.3 reason (bad_value, ...) */
} teddy_capture_event_kind_t;

typedef struct {
    teddy_capture_event_kind_t kind;
    const uint8_t *pcm; /* CHUNK */
    size_t len;
    const char *reason;  /* FAILED */
    const char *message; /* FAILED: human text */
} teddy_capture_event_t;

typedef void (*teddy_port_capture_cb_t)(uint32_t capture_id, const teddy_capture_event_t *ev,
                                        void *arg);

/* Open an audio source. Events: STARTED, CHUNK*, ENDED; or FAILED. */
esp_err_t teddy_port_capture_start(teddy_capture_kind_t kind, const char *value,
                                   teddy_port_capture_cb_t cb, void *arg,
                                   uint32_t *out_capture_id);
/* End a capture early (button release): ENDED follows for a live capture. */
void teddy_port_capture_stop(uint32_t capture_id);

/* Called when a reply finished playing (or was cut). */
typedef void (*teddy_port_play_cb_t)(const char *audio_session_id, void *arg);

/* Queue reply PCM for the speaker (SPEC §7.3): exactly what the DAC is to play, with the
 * DAC (I2S) running at sample_rate (16000 per SPEC §7.1, another rate only with the
 * playback_rate quirk of Appendix C); a change of rate waits for what is queued to play.
 * Linux also keeps it, scaled by the volume as the DAC plays it, as <audio>/out-<id>.wav
 * (+ out-<id>.json). What the server sent is kept by the runner (teddy_port_audio_save,
 * rx-<id>.wav). */
esp_err_t teddy_port_speaker_play(const char *audio_session_id, const uint8_t *pcm,
                                  size_t len, uint32_t sample_rate);
/* The reply is complete (or cut short): finish playing, then call cb once. */
esp_err_t teddy_port_speaker_end(const char *audio_session_id, bool cut,
                                 teddy_port_play_cb_t cb, void *arg);
/* Volume 0..100 (console `set volume`). */
void teddy_port_speaker_set_volume(int volume);
/* Keep a copy of sent PCM (Linux: <audio>/<name>, e.g. tx-<id>.wav): each call APPENDS
 * len bytes to the recording `name` (created empty by the first call of this boot), so
 * a 30 s utterance never has to sit in RAM. ESP_ERR_NOT_SUPPORTED where there is
 * nowhere to keep it (the core ignores that). */
esp_err_t teddy_port_audio_save(const char *name, const uint8_t *pcm, size_t len);

/* ---------------------------------------------------------------------------------
 * Button (push-to-talk, GPIO0 on the board)
 * ------------------------------------------------------------------------------- */

typedef void (*teddy_port_button_cb_t)(bool pressed, void *arg);
/* Register the receiver of button edges (debounced). Ports without a button accept
 * the call and never report (the console `button press|release` still works). */
void teddy_port_button_set_callback(teddy_port_button_cb_t cb, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* TEDDY_PORT_H */
