/*
 * teddy_msg.h - WebSocket chat messages (SPEC §6.3 device -> server, §6.4 server ->
 * device, §7.3 downlink frames).
 *
 * Parsers map every failure to the exact SPEC §6.3 error code and field name of
 * protocol/messages.py, so server, emulator and C core refuse the same frames for
 * the same reason. Unknown extra fields are tolerated; unknown types are not.
 * Builders write compact JSON in the key order of the Python `to_json`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "teddy_err.h"
#include "teddy_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TEDDY_DOWNLINK_MAX_FRAME_BYTES (SPEC §7.3: every frame is < this),
 * TEDDY_DOWNLINK_PCM_BYTES, TEDDY_UPLINK_MAX_FRAME_BYTES (SPEC §6.6),
 * TEDDY_UPLINK_CHUNK_BYTES (SPEC §7.2) and TEDDY_MAX_TEXT_MESSAGE_CHARS are teddy_wire.h's
 * (protocol/constants.py). */
#define TEDDY_AUDIO_SESSION_ID_MAX TEDDY_AUDIO_SESSION_ID_MAX_LEN
#define TEDDY_CHUNK_ID_MAX TEDDY_CHUNK_ID_MAX_LEN
#define TEDDY_MSG_NO_LIMIT SIZE_MAX /* max_bytes value: no size check */

/** SPEC §6.3 error codes (`error.error_code`). */
typedef enum {
    TEDDY_WS_OK = 0,
    TEDDY_WS_INVALID_JSON,
    TEDDY_WS_INVALID_MESSAGE,
    TEDDY_WS_UNKNOWN_MESSAGE_TYPE,
    TEDDY_WS_BINARY_NOT_SUPPORTED,
    TEDDY_WS_MESSAGE_TOO_LARGE,
    TEDDY_WS_UNKNOWN_AUDIO_SESSION,
    TEDDY_WS_NO_AUDIO_DATA,
    TEDDY_WS_AUDIO_TOO_SHORT,
    TEDDY_WS_AUDIO_TOO_LONG,
    TEDDY_WS_INVALID_AUDIO_DATA,
    TEDDY_WS_EMPTY_TEXT,
    TEDDY_WS_PROCESSING_ERROR,
} teddy_ws_error_t;

/** Wire name ("invalid_json", ...); "" for TEDDY_WS_OK. */
const char *teddy_ws_error_str(teddy_ws_error_t code);

/** Why a frame was refused: code, the field it names ("" when none) and prose. */
typedef struct {
    teddy_ws_error_t code;
    char field[48];
    char message[128];
} teddy_msg_error_t;

/* --- server -> device (SPEC §6.4) ---------------------------------------------------- */

typedef enum {
    TEDDY_SMSG_SYSTEM = 1,
    TEDDY_SMSG_TEXT_RESPONSE,
    TEDDY_SMSG_AUDIO_RESPONSE,
    TEDDY_SMSG_ERROR,
} teddy_server_msg_type_t;

/**
 * A parsed server message. String pointers point into `root` (owned) and stay
 * valid until teddy_server_msg_free; a pointer is NULL when the field is absent
 * or does not belong to the message type. `pcm` is heap memory (owned).
 */
typedef struct {
    teddy_server_msg_type_t type;
    const char *timestamp;        /* ISO 8601, every server message */
    /* system */
    const char *data_type;        /* data.type, e.g. "connection_established" */
    const cJSON *data;            /* the whole `data` object (unknown data types pass) */
    const char *session_id;       /* connection_established */
    const char *message;          /* connection_established */
    const char *server_time;      /* connection_established */
    const char *status;           /* audio_start_ack */
    const char *session_status;   /* heartbeat_response */
    /* text_response, audio_response and audio_start_ack */
    const char *audio_session_id;
    const char *text;             /* text_response; audio_response (seq 0 only) */
    const char *transcript;       /* text_response, optional */
    /* audio_response */
    int64_t seq;
    bool is_final;
    uint8_t *pcm;
    size_t pcm_len;
    /* error */
    const char *error_code;
    const char *error_message;
    cJSON *root;
} teddy_server_msg_t;

/**
 * Parse one server text frame like protocol.messages.parse_server_message:
 * size limit (`max_bytes`, normally TEDDY_DOWNLINK_MAX_FRAME_BYTES - 1, or
 * TEDDY_MSG_NO_LIMIT), strict JSON, known type, ISO 8601 `timestamp`, fields.
 * ESP_ERR_INVALID_ARG with `err` filled when refused, ESP_ERR_NO_MEM on allocation
 * failure. On success free `out` with teddy_server_msg_free. `text` needs no NUL.
 */
esp_err_t teddy_msg_parse_server(const char *text, size_t len, size_t max_bytes,
                                 teddy_server_msg_t *out, teddy_msg_error_t *err);
/** Release what a successful parse owns; safe on a zeroed struct. */
void teddy_server_msg_free(teddy_server_msg_t *msg);

/* --- device -> server (SPEC §6.3) ---------------------------------------------------- */

typedef enum {
    TEDDY_DMSG_AUDIO_START = 1,
    TEDDY_DMSG_AUDIO_CHUNK,
    TEDDY_DMSG_AUDIO_END,
    TEDDY_DMSG_HEARTBEAT,
    TEDDY_DMSG_TEXT_MESSAGE,
} teddy_device_msg_type_t;

/** A parsed device message (for tests and tools; same ownership rules as above). */
typedef struct {
    teddy_device_msg_type_t type;
    const char *audio_session_id; /* NULL when absent/null */
    /* audio_chunk */
    uint8_t *pcm;
    size_t pcm_len;
    bool chunk_id_is_int;
    int64_t chunk_id_int;
    const char *chunk_id_str;
    bool is_final;
    /* text_message */
    const char *text;
    cJSON *root;                  /* heartbeat: every field is in here */
} teddy_device_msg_t;

/** Parse one device frame like parse_device_message (max_bytes normally 16384). */
esp_err_t teddy_msg_parse_device(const char *text, size_t len, size_t max_bytes,
                                 teddy_device_msg_t *out, teddy_msg_error_t *err);
void teddy_device_msg_free(teddy_device_msg_t *msg);

/*
 * Builders: write NUL-terminated compact JSON into `out`; ESP_ERR_INVALID_SIZE when
 * `out_size` is too small, ESP_ERR_INVALID_ARG for a bad argument. `out_len` (may be
 * NULL) receives strlen(out). Device messages carry no timestamp (emulator/core/link.py).
 */

/** {"type":"audio_start"[,"audio_session_id":id]}; id NULL = omitted. */
esp_err_t teddy_msg_build_audio_start(const char *audio_session_id, char *out, size_t out_size,
                                      size_t *out_len);
/**
 * {"type":"audio_chunk","audio_data":b64,"chunk_id":"<id>"[,"audio_session_id":id],
 *  "is_final":bool}. `pcm_len` must be even (whole s16 samples).
 * Needs about 4/3 * pcm_len + 200 bytes; see teddy_msg_audio_chunk_size.
 */
esp_err_t teddy_msg_build_audio_chunk(const uint8_t *pcm, size_t pcm_len, const char *chunk_id,
                                      const char *audio_session_id, bool is_final, char *out,
                                      size_t out_size, size_t *out_len);
/** Buffer size that always fits an audio_chunk of `pcm_len` bytes with 64-char ids. */
size_t teddy_msg_audio_chunk_size(size_t pcm_len);
/** {"type":"audio_end","audio_session_id":id}. */
esp_err_t teddy_msg_build_audio_end(const char *audio_session_id, char *out, size_t out_size,
                                    size_t *out_len);
/**
 * {"type":"heartbeat"[,"device_id":..][,"uptime_ms":..][,"status":..]}: the fields
 * emulator/core/link.py sends; NULL strings and uptime_ms < 0 are omitted.
 */
esp_err_t teddy_msg_build_heartbeat(const char *device_id, int64_t uptime_ms, const char *status,
                                    char *out, size_t out_size, size_t *out_len);
/** {"type":"text_message","text":...}; text must be 1..1000 chars and not blank. */
esp_err_t teddy_msg_build_text_message(const char *text, char *out, size_t out_size,
                                       size_t *out_len);

/**
 * Server-side `audio_response` frame (SPEC §7.3), key order of protocol.messages
 * AudioResponse.to_json plus `timestamp`; used by tests, fuzz seeds and host
 * tools that play the server's part. text NULL = omitted, timestamp NULL = omitted.
 */
esp_err_t teddy_msg_build_audio_response(const char *audio_session_id, int64_t seq,
                                         const uint8_t *pcm, size_t pcm_len, bool is_final,
                                         const char *text, const char *timestamp, char *out,
                                         size_t out_size, size_t *out_len);

/* --- downlink reply assembly (SPEC §7.3) -------------------------------------------- */

/**
 * Device-side collector of audio_response frames (protocol.audio.AudioResponseAssembler).
 * The caller consumes each frame's PCM (plays it); the assembler checks order.
 */
typedef struct {
    char audio_session_id[TEDDY_AUDIO_SESSION_ID_MAX + 1];
    bool started;
    bool done;
    int64_t frame_count;
    size_t pcm_bytes;
} teddy_audio_rx_t;

void teddy_audio_rx_reset(teddy_audio_rx_t *rx);
/**
 * Account for the next frame (msg->type must be AUDIO_RESPONSE). ESP_OK and
 * `*complete` true once the final frame arrived; ESP_ERR_INVALID_ARG (err code
 * invalid_message) for a frame out of order, of another session or after the end.
 */
esp_err_t teddy_audio_rx_feed(teddy_audio_rx_t *rx, const teddy_server_msg_t *msg,
                              bool *complete, teddy_msg_error_t *err);

#ifdef __cplusplus
}
#endif

