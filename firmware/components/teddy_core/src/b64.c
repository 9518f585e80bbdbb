/*
 * b64.c - strict standard base64 for PCM payloads (SPEC §7.1), matching
 * protocol/_pcm.py: a text is accepted only if it re-encodes to itself, so a
 * C decoder and a Python decoder can never read different bytes from it.
 */
#include <stdbool.h>
#include <string.h>

#include "teddy_b64.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t teddy_b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t teddy_b64_decoded_max(size_t text_len)
{
    return text_len / 4 * 3;
}

esp_err_t teddy_b64_encode(const uint8_t *in, size_t len, char *out, size_t out_size,
                           size_t *out_len)
{
    size_t need = teddy_b64_encoded_len(len);
    if ((!in && len) || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    if (out_size < need + 1) {
        return ESP_ERR_INVALID_SIZE;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t rest = len - i;
        if (rest > 1) {
            v |= (uint32_t)in[i + 1] << 8;
        }
        if (rest > 2) {
            v |= in[i + 2];
        }
        out[o++] = ALPHABET[(v >> 18) & 63];
        out[o++] = ALPHABET[(v >> 12) & 63];
        out[o++] = rest > 1 ? ALPHABET[(v >> 6) & 63] : '=';
        out[o++] = rest > 2 ? ALPHABET[v & 63] : '=';
    }
    out[o] = '\0';
    if (out_len) {
        *out_len = o;
    }
    return ESP_OK;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

esp_err_t teddy_b64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_size,
                           size_t *out_len)
{
    if (!text && text_len) {
        return ESP_ERR_INVALID_ARG;
    }
    if (text_len % 4) {
        return ESP_ERR_INVALID_ARG; /* padding is mandatory */
    }
    size_t pad = 0;
    if (text_len) {
        pad = text[text_len - 1] == '=' ? (text[text_len - 2] == '=' ? 2 : 1) : 0;
    }
    size_t n = text_len / 4 * 3 - pad;
    if (n > out_size || (n && !out)) {
        return ESP_ERR_INVALID_SIZE;
    }
    size_t o = 0;
    for (size_t i = 0; i < text_len; i += 4) {
        bool last = i + 4 == text_len;
        size_t data_chars = last ? 4 - pad : 4;
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            int d = 0;
            if (j < data_chars) {
                d = b64_val(text[i + j]);
                if (d < 0) {
                    return ESP_ERR_INVALID_ARG; /* '=' in the middle, whitespace, url-safe */
                }
            }
            v = v << 6 | (uint32_t)d;
        }
        /* Canonical: the bits the padding hides must be zero. */
        if ((pad == 1 && last && (v & 0xFF)) || (pad == 2 && last && (v & 0xFFFF))) {
            return ESP_ERR_INVALID_ARG;
        }
        out[o++] = (uint8_t)(v >> 16);
        if (!last || pad < 2) {
            out[o++] = (uint8_t)(v >> 8);
        }
        if (!last || pad < 1) {
            out[o++] = (uint8_t)v;
        }
    }
    if (out_len) {
        *out_len = o;
    }
    return ESP_OK;
}
