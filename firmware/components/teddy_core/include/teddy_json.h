/*
 * teddy_json.h - strict JSON loading, field errors, and the HTTP bodies a device
 * builds or parses: claim request (SPEC §2.3), claim 200 (§2.5), token refresh
 * (§3.2) and the config body (§4.1).
 *
 * JSON is cJSON, made as strict as protocol/_fields.py `strict_loads`: a strict
 * RFC 8259 grammar pre-pass (no leading zeros, no "+1", no "1.", no raw control
 * characters in strings, no trailing garbage), duplicate keys refused, nesting
 * limited. Integer literals are marked so that 7 and 7.0 differ, as they do in
 * Python (a float where an integer is required is `must_be_integer`).
 *
 * Field errors use the SPEC §1.2 reason codes; each parser collects every error,
 * like FieldReader, so a test can compare the full list with a vector.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "teddy_err.h"
#include "teddy_model.h" /* TEDDY_JSON_MAX_DEPTH (the device model's json_max_depth) */
#include "teddy_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- strict JSON ------------------------------------------------------------------ */

/**
 * Parse `len` bytes of JSON text (no NUL needed) into `*out` (free with cJSON_Delete).
 * ESP_ERR_INVALID_ARG when the text is not strict JSON, ESP_ERR_NO_MEM on allocation
 * failure. Any JSON value is accepted at top level.
 */
esp_err_t teddy_json_parse(const char *text, size_t len, cJSON **out);
/** True when `item` is a number written as an integer literal in the parsed text. */
bool teddy_json_is_int(const cJSON *item);
/** Number of Unicode code points in a UTF-8 string (Python `len` of a str). */
size_t teddy_utf8_len(const char *s);

/* --- field errors (SPEC §1.2) -------------------------------------------------------- */

typedef enum {
    TEDDY_REASON_NONE = 0,
    TEDDY_REASON_REQUIRED,
    TEDDY_REASON_MUST_BE_OBJECT,
    TEDDY_REASON_MUST_BE_STRING,
    TEDDY_REASON_MUST_BE_INTEGER,
    TEDDY_REASON_MUST_BE_BOOLEAN,
    TEDDY_REASON_TOO_SHORT,
    TEDDY_REASON_TOO_LONG,
    TEDDY_REASON_INVALID_CHARACTERS,
    TEDDY_REASON_NOT_HEX,
    TEDDY_REASON_ODD_LENGTH,
    TEDDY_REASON_WRONG_LENGTH,
    TEDDY_REASON_OUT_OF_RANGE,
    TEDDY_REASON_UNSUPPORTED_VALUE,
    TEDDY_REASON_NOT_SEMVER,
    TEDDY_REASON_NOT_URL,
    TEDDY_REASON_NOT_ISO8601,
} teddy_field_reason_t;

/** Wire name of a reason ("required", "must_be_string", ...); "" for NONE. */
const char *teddy_field_reason_str(teddy_field_reason_t reason);

#define TEDDY_FIELD_NAME_MAX 48
#define TEDDY_MAX_FIELD_ERRORS 24

typedef struct {
    char field[TEDDY_FIELD_NAME_MAX]; /* dotted path, e.g. "child_profile.age"; "" = body */
    teddy_field_reason_t reason;
} teddy_field_error_t;

typedef struct {
    size_t count; /* errors beyond TEDDY_MAX_FIELD_ERRORS are dropped (count stays capped) */
    teddy_field_error_t items[TEDDY_MAX_FIELD_ERRORS];
} teddy_field_errors_t;

/* --- claim request (SPEC §2.3) ------------------------------------------------------- */

#define TEDDY_DEVICE_ID_MAX TEDDY_DEVICE_ID_MAX_LEN      /* SPEC §1.3 (teddy_wire.h) */
#define TEDDY_CHILD_ID_MAX TEDDY_CHILD_ID_MAX_LEN
#define TEDDY_FW_VERSION_MAX TEDDY_FIRMWARE_VERSION_MAX_LEN

/** Claim request; strings are borrowed. firmware_version NULL = omitted. */
typedef struct {
    const char *device_id;
    const char *child_id;
    const char *nonce;     /* lower-case hex, 32..64 chars */
    const char *hmac_hex;  /* lower-case hex, 64 chars */
    const char *firmware_version;
    bool has_timestamp;
    int64_t timestamp;     /* epoch seconds, only when has_timestamp */
} teddy_claim_request_t;

/**
 * Compact JSON body in the order of protocol.claim.ClaimRequest.to_json.
 * ESP_ERR_INVALID_ARG for missing required strings, ESP_ERR_INVALID_SIZE when
 * `out_size` is too small. `out_len` (may be NULL) receives strlen(out).
 */
esp_err_t teddy_claim_request_build(const teddy_claim_request_t *req, char *out,
                                    size_t out_size, size_t *out_len);

/** Normalised claim request as the server validates it (nonce/hmac lower-cased). */
typedef struct {
    char device_id[TEDDY_DEVICE_ID_MAX + 1];
    char child_id[TEDDY_CHILD_ID_MAX + 1];
    char nonce[64 + 1];
    char hmac_hex[64 + 1];
    bool has_firmware_version;
    char firmware_version[TEDDY_FW_VERSION_MAX + 1];
    bool has_timestamp;
    int64_t timestamp;
} teddy_claim_request_parsed_t;

/**
 * Validate a decoded claim body like ClaimRequest.from_json (used by tests and to
 * self-check what the device sends). ESP_ERR_INVALID_ARG with `errs` filled when
 * invalid; a body that is not an object gives one error {"", must_be_object}.
 */
esp_err_t teddy_claim_request_parse(const cJSON *body, teddy_claim_request_parsed_t *out,
                                    teddy_field_errors_t *errs);

/* --- claim response and refresh (SPEC §2.5, §3.2) ------------------------------------ */

#define TEDDY_TOKEN_MAX 4096          /* characters, as protocol.claim._TOKEN_MAX_LEN */
#define TEDDY_SESSION_ID_MAX 64
#define TEDDY_CHILD_NAME_MAX_BYTES 120 /* 30 code points of up to 4 UTF-8 bytes */
#define TEDDY_LANGUAGE_MAX 35
#define TEDDY_URL_MAX 255

typedef struct {
    char id[TEDDY_CHILD_ID_MAX + 1];
    char name[TEDDY_CHILD_NAME_MAX_BYTES + 1];
    int64_t age; /* any integer here; 3..13 is enforced by the server (SPEC §6.1) */
    char language[TEDDY_LANGUAGE_MAX + 1];
} teddy_child_profile_t;

typedef struct {
    char websocket_url[TEDDY_URL_MAX + 1];
    int64_t heartbeat_interval;  /* seconds */
    int64_t max_message_size;    /* bytes */
    int64_t chunk_bytes;         /* device_config.audio.chunk_bytes (even, 2..8192) */
} teddy_device_config_t;

/** Claim 200 body (~8.5 KiB: allocate statically or on the heap, not on a task stack). */
typedef struct {
    char access_token[TEDDY_TOKEN_MAX + 1];  /* JWTs are ASCII: chars == bytes */
    char refresh_token[TEDDY_TOKEN_MAX + 1];
    int64_t expires_in;
    int64_t refresh_expires_in;
    char device_session_id[TEDDY_SESSION_ID_MAX + 1];
    teddy_child_profile_t child_profile;
    teddy_device_config_t device_config;
} teddy_claim_response_t;

/** Refresh 200 body (new access token and rotated refresh token). */
typedef struct {
    char access_token[TEDDY_TOKEN_MAX + 1];  /* JWTs are ASCII: chars == bytes */
    char refresh_token[TEDDY_TOKEN_MAX + 1];
    int64_t expires_in;
    int64_t refresh_expires_in;
} teddy_refresh_response_t;

/**
 * Strictly parse a claim 200 body (JSON text) like ClaimResponse.from_json.
 * ESP_ERR_INVALID_ARG when invalid: `errs` (may be NULL) lists every field error;
 * text that is not JSON gives zero field errors, a non-object one {"", must_be_object}.
 */
esp_err_t teddy_claim_response_parse(const char *text, size_t len, teddy_claim_response_t *out,
                                     teddy_field_errors_t *errs);
/** Same, from an already parsed JSON value. */
esp_err_t teddy_claim_response_from_json(const cJSON *body, teddy_claim_response_t *out,
                                         teddy_field_errors_t *errs);

/** Refresh request body `{"refresh_token":...}` (SPEC §3.2). */
esp_err_t teddy_refresh_request_build(const char *refresh_token, char *out, size_t out_size,
                                      size_t *out_len);
/** Strictly parse a refresh 200 body like RefreshResponse.from_json. */
esp_err_t teddy_refresh_response_parse(const char *text, size_t len,
                                       teddy_refresh_response_t *out, teddy_field_errors_t *errs);

/* --- config body (SPEC §4.1, §4.3) ------------------------------------------------------ */

#define TEDDY_NTP_MAX 4
#define TEDDY_HOST_MAX 253

/**
 * What the device uses from GET /api/v1/esp32/config. Parsing is lenient on
 * purpose (SPEC §4.3: config is never a reason to stop booting): a missing or
 * mistyped member keeps its default, as emulator/core/config.py does.
 */
typedef struct {
    char host[TEDDY_HOST_MAX + 1];       /* "" when absent */
    int64_t port;                        /* 0 when absent */
    bool tls;                            /* false */
    char ws_path[TEDDY_URL_MAX + 1];     /* "/api/v1/esp32/private/chat" */
    char firmware_endpoint[TEDDY_URL_MAX + 1]; /* "/api/v1/esp32/firmware" */
    size_t ntp_count;
    char ntp[TEDDY_NTP_MAX][TEDDY_HOST_MAX + 1];
    bool ota_enabled;                    /* features.ota, true */
    bool strict_tls;                     /* features.strict_tls, false */
    char firmware_version[TEDDY_FW_VERSION_MAX + 1]; /* "" when absent */
    int64_t heartbeat_interval;          /* seconds, 30 when absent or not a positive int */
} teddy_config_t;

/** Fill `cfg` with the defaults above. */
void teddy_config_defaults(teddy_config_t *cfg);
/**
 * Parse a config body. ESP_ERR_INVALID_ARG when it is not a JSON object (then
 * `cfg` holds the defaults); members are read leniently otherwise.
 */
esp_err_t teddy_config_parse(const char *text, size_t len, teddy_config_t *cfg);
/**
 * SPEC §4.1: the path of `websocket_url` must equal `ws_path`. Returns true when
 * they match; `actual_path` (may be NULL) receives the URL's path.
 */
bool teddy_config_ws_path_matches(const teddy_config_t *cfg, const char *websocket_url,
                                  char *actual_path, size_t actual_path_size);

#ifdef __cplusplus
}
#endif
