/*
 * teddy_crypto.h - claim cryptography and a streaming SHA-256 (SPEC §2.1, §2.2, §5.4).
 *
 * Everything goes through mbedTLS `mbedtls_md_*` calls, which exist with the same
 * signatures in mbedTLS 2.28 (Debian/Ubuntu hosts) and 3.x (ESP-IDF 5.x), so one
 * source builds on both. Randomness is always supplied by the caller (sans-I/O).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbedtls/md.h"
#include "teddy_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEDDY_SHA256_LEN 32
#define TEDDY_SHA256_HEX_LEN 64     /* without the NUL */
#define TEDDY_OOB_HEX_LEN 64        /* SPEC §2.1: 64 upper-case hex chars */
#define TEDDY_HMAC_HEX_LEN 64       /* SPEC §2.2: 64 lower-case hex chars */
#define TEDDY_NONCE_MIN_BYTES 16    /* SPEC §2.3: nonce is 32..64 hex chars */
#define TEDDY_NONCE_MAX_BYTES 32
#define TEDDY_OOB_SEED_SALT "ai-teddy-bear-oob-secret-v1"

/** Streaming SHA-256 (OTA image hash, SPEC §5.4). Init before use, free after. */
typedef struct {
    mbedtls_md_context_t md;
    bool ready; /* true between a successful init and free */
} teddy_sha256_t;

/** Prepare `s` for hashing; on error nothing needs freeing. */
esp_err_t teddy_sha256_init(teddy_sha256_t *s);
/** Hash `len` more bytes (len 0 is allowed, data may then be NULL). */
esp_err_t teddy_sha256_update(teddy_sha256_t *s, const void *data, size_t len);
/** Write the 32-byte digest; `s` must then be freed (or re-initialised). */
esp_err_t teddy_sha256_finish(teddy_sha256_t *s, uint8_t out[TEDDY_SHA256_LEN]);
/** Release `s`; safe on a zeroed or already freed context. */
void teddy_sha256_free(teddy_sha256_t *s);
/** One-shot SHA-256 of `len` bytes. */
esp_err_t teddy_sha256(const void *data, size_t len, uint8_t out[TEDDY_SHA256_LEN]);

/** Hex-encode `len` bytes into `out` (2*len chars + NUL); `upper` picks the case. */
void teddy_hex_encode(const uint8_t *in, size_t len, char *out, bool upper);
/**
 * Decode a hex string (either case, even length) into `out`.
 * ESP_ERR_INVALID_ARG for a non-hex char or odd length, ESP_ERR_INVALID_SIZE when
 * `out_size` is too small. `*out_len` receives the byte count.
 */
esp_err_t teddy_hex_decode(const char *hex, uint8_t *out, size_t out_size, size_t *out_len);

/**
 * Seed OOB secret of a device (SPEC §2.1):
 * UPPER(hex(SHA256(hex(SHA256(device_id ":" salt)) salt))), inner hex lower-case.
 * `salt` NULL means TEDDY_OOB_SEED_SALT. `out` receives 64 chars + NUL.
 */
esp_err_t teddy_oob_derive(const char *device_id, const char *salt,
                           char out[TEDDY_OOB_HEX_LEN + 1]);

/**
 * Claim HMAC (SPEC §2.2): lower-case hex HMAC-SHA256 with key = bytes(oob_hex) and
 * message = device_id || child_id || bytes(nonce_hex), ids exactly as sent.
 * ESP_ERR_INVALID_ARG when oob_hex is not 64 hex chars or nonce_hex is not hex.
 */
esp_err_t teddy_claim_hmac_hex(const char *oob_hex, const char *device_id,
                               const char *child_id, const char *nonce_hex,
                               char out[TEDDY_HMAC_HEX_LEN + 1]);

/**
 * Lower-case hex nonce from caller-supplied random bytes (16..32 bytes, SPEC §2.3).
 * `out` needs 2*len+1 bytes (65 is always enough).
 */
esp_err_t teddy_nonce_hex(const uint8_t *random_bytes, size_t len, char *out, size_t out_size);

/** Constant-time comparison of two equal-length buffers (true when equal). */
bool teddy_ct_equal(const void *a, const void *b, size_t len);

#ifdef __cplusplus
}
#endif
