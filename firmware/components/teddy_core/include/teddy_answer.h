/*
 * teddy_answer.h - what a device reads from a server's answer, and how it quotes it in
 * an event line: the C twin of protocol/server_answer.py (SPEC §1.1 device decoding,
 * SPEC §8.1 bounds, SPEC §8.2 "What the server said"), held to it by the shared vectors
 * protocol/vectors/server_answers.json.
 *
 *   teddy_body_parse      a body as both cores parse it: valid UTF-8, strict JSON
 *                         (teddy_json_parse), no U+0000 in a string
 *   teddy_server_error    code + message of an error answer: SPEC §1.2 error.code /
 *                         error.message, else FastAPI's {"detail": "<text>"}, else a
 *                         quoted prefix of the body; the code falls back to http_<status>
 *   teddy_bad_fields      field + message of a 200 body that failed validation
 *   teddy_quote           server text made safe for an event line (one line, no
 *                         controls, at most N UTF-8 bytes ending "...")
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cJSON.h"
#include "teddy_err.h"
#include "teddy_json.h"
#include "teddy_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEDDY_ANSWER_CODE_SIZE (TEDDY_SERVER_CODE_MAX_BYTES + 1)
#define TEDDY_ANSWER_TEXT_SIZE (TEDDY_SERVER_TEXT_MAX_BYTES + 1)
#define TEDDY_ANSWER_CUT "..."

/** An error answer as an event reports it (protocol.server_answer.ServerError). */
typedef struct {
    char code[TEDDY_ANSWER_CODE_SIZE];
    char message[TEDDY_ANSWER_TEXT_SIZE];
} teddy_server_error_t;

/** A 200 body the device cannot use (protocol.server_answer.BadAnswer). */
typedef struct {
    char field[TEDDY_FIELD_NAME_MAX]; /* the first invalid member, sorted; "" = the body */
    char message[TEDDY_ANSWER_TEXT_SIZE];
} teddy_bad_answer_t;

/** True when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates,
 * or code points above U+10FFFF), as Python's strict decoder wants it. */
bool teddy_utf8_valid(const char *s, size_t len);

/** True when a body may be parsed as JSON at all (SPEC §1.1): well-formed UTF-8 and no
 * `\u0000` escape in a string (C strings end there). teddy_body_parse checks it first. */
bool teddy_body_readable(const char *body, size_t len);

/**
 * Parse an HTTP body the way every device core does (SPEC §1.1): ESP_ERR_INVALID_ARG
 * when it is not UTF-8, not strict JSON (teddy_json_parse: nesting, duplicate keys,
 * lone surrogates) or holds U+0000 in a string; ESP_ERR_NO_MEM; ESP_OK with `*out`.
 */
esp_err_t teddy_body_parse(const char *body, size_t len, cJSON **out);

/**
 * Quote len bytes of server text into `out` (at least max_bytes + 1 bytes): it ends at
 * a NUL byte; a byte that does not start well-formed UTF-8 reads as '?'; C0/C1 controls,
 * DEL, U+2028 and U+2029 become spaces; runs of spaces become one; leading and trailing
 * spaces go; more than max_bytes is cut at a character boundary to end with "...".
 * Returns the length written.
 */
size_t teddy_quote(const char *in, size_t len, char *out, size_t max_bytes);

/** The code and message of an error answer with `status` and `body` (SPEC §8.2). */
void teddy_server_error(int status, const char *body, size_t len, teddy_server_error_t *out);

/** The field and message of a body that failed validation; no errors (errs NULL or
 * empty: the body was not JSON) gives field "" and "(body): invalid_json". */
void teddy_bad_fields(const teddy_field_errors_t *errs, teddy_bad_answer_t *out);

#ifdef __cplusplus
}
#endif
