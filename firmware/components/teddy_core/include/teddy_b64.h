/*
 * teddy_b64.h - strict standard base64 (SPEC §7.1 `audio_data`).
 *
 * The decoder refuses everything another decoder could read differently (same
 * rules as protocol/_pcm.py): characters outside A-Z a-z 0-9 + /, whitespace,
 * missing or misplaced padding, and non-zero trailing bits (the text must
 * re-encode to itself).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "teddy_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Characters of the padded encoding of `n` bytes, without the NUL. */
size_t teddy_b64_encoded_len(size_t n);
/** Upper bound of bytes decoded from `text_len` characters. */
size_t teddy_b64_decoded_max(size_t text_len);

/**
 * Encode `len` bytes, padded, no line breaks, NUL-terminated.
 * ESP_ERR_INVALID_SIZE when out_size < teddy_b64_encoded_len(len) + 1.
 * `out_len` (may be NULL) receives the character count.
 */
esp_err_t teddy_b64_encode(const uint8_t *in, size_t len, char *out, size_t out_size,
                           size_t *out_len);

/**
 * Strictly decode `text_len` characters (no NUL needed).
 * ESP_ERR_INVALID_ARG for non-canonical input, ESP_ERR_INVALID_SIZE when `out_size`
 * is too small. `out` may be NULL when out_size is 0 and the text is empty.
 */
esp_err_t teddy_b64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size,
                           size_t *out_len);

#ifdef __cplusplus
}
#endif
