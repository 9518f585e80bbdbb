/*
 * teddy_msg_internal.h - helpers shared by msg_parse.c and msg_build.c (private).
 */
#pragma once

#include "teddy_fields.h"
#include "teddy_msg.h"

/** Fill `err` (may be NULL) with a code, a field ("" when NULL) and a message. */
void tm_set_error(teddy_msg_error_t *err, teddy_ws_error_t code, const char *field,
                  const char *message);
/** [A-Za-z0-9_-]+ audio session id pattern with its 64-char limit (SPEC §6.3). */
bool tm_session_id_ok(const char *s);
/** [a-z][a-z0-9_]* (error codes and system data types, SPEC §6.3/§6.4). */
bool tm_snake_case(const char *s);
/**
 * Strict PCM base64 (SPEC §7.1): decoded bytes into a new heap buffer (NULL for
 * empty). ESP_ERR_INVALID_ARG for bad base64 or an odd byte count.
 */
esp_err_t tm_decode_pcm(const char *b64, uint8_t **pcm, size_t *pcm_len);
