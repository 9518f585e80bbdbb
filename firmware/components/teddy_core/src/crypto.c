/*
 * crypto.c - OOB seed derivation (SPEC §2.1), claim HMAC (SPEC §2.2), nonces and
 * a streaming SHA-256 for OTA images (SPEC §5.4).
 *
 * Only mbedtls_md_* calls are used: they have the same int-returning signatures in
 * mbedTLS 2.28 and 3.x, unlike mbedtls_sha256_starts (void in 2.x, renamed _ret).
 */
#include <string.h>

#include "teddy_crypto.h"
#include "teddy_util.h"

static const mbedtls_md_info_t *sha256_info(void)
{
    return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
}

esp_err_t teddy_sha256_init(teddy_sha256_t *s)
{
    if (!s) {
        return ESP_ERR_INVALID_ARG;
    }
    mbedtls_md_init(&s->md);
    s->ready = false;
    const mbedtls_md_info_t *info = sha256_info();
    if (!info) {
        return ESP_ERR_NOT_SUPPORTED;
    }
    int rc = mbedtls_md_setup(&s->md, info, 0);
    if (rc != 0) {
        mbedtls_md_free(&s->md);
        return rc == MBEDTLS_ERR_MD_ALLOC_FAILED ? ESP_ERR_NO_MEM : ESP_FAIL;
    }
    if (mbedtls_md_starts(&s->md) != 0) {
        mbedtls_md_free(&s->md);
        return ESP_FAIL;
    }
    s->ready = true;
    return ESP_OK;
}

esp_err_t teddy_sha256_update(teddy_sha256_t *s, const void *data, size_t len)
{
    if (!s || !s->ready || (!data && len)) {
        return ESP_ERR_INVALID_ARG;
    }
    if (len == 0) {
        return ESP_OK;
    }
    return mbedtls_md_update(&s->md, data, len) == 0 ? ESP_OK : ESP_FAIL;
}

esp_err_t teddy_sha256_finish(teddy_sha256_t *s, uint8_t out[TEDDY_SHA256_LEN])
{
    if (!s || !s->ready || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    return mbedtls_md_finish(&s->md, out) == 0 ? ESP_OK : ESP_FAIL;
}

void teddy_sha256_free(teddy_sha256_t *s)
{
    if (s && s->ready) {
        mbedtls_md_free(&s->md);
        s->ready = false;
    }
}

esp_err_t teddy_sha256(const void *data, size_t len, uint8_t out[TEDDY_SHA256_LEN])
{
    const mbedtls_md_info_t *info = sha256_info();
    if ((!data && len) || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!info) {
        return ESP_ERR_NOT_SUPPORTED;
    }
    static const uint8_t empty = 0;
    return mbedtls_md(info, len ? data : &empty, len, out) == 0 ? ESP_OK : ESP_FAIL;
}

void teddy_hex_encode(const uint8_t *in, size_t len, char *out, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0F];
    }
    out[2 * len] = '\0';
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

esp_err_t teddy_hex_decode(const char *hex, uint8_t *out, size_t out_size, size_t *out_len)
{
    if (!hex) {
        return ESP_ERR_INVALID_ARG;
    }
    size_t n = strlen(hex);
    if (n % 2) {
        return ESP_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < n; i++) {
        if (hex_val(hex[i]) < 0) {
            return ESP_ERR_INVALID_ARG;
        }
    }
    if (n / 2 > out_size) {
        return ESP_ERR_INVALID_SIZE;
    }
    for (size_t i = 0; i < n / 2; i++) {
        out[i] = (uint8_t)(hex_val(hex[2 * i]) << 4 | hex_val(hex[2 * i + 1]));
    }
    if (out_len) {
        *out_len = n / 2;
    }
    return ESP_OK;
}

esp_err_t teddy_oob_derive(const char *device_id, const char *salt, char out[TEDDY_OOB_HEX_LEN + 1])
{
    uint8_t digest[TEDDY_SHA256_LEN];
    char inner[TEDDY_SHA256_HEX_LEN + 1];
    teddy_sha256_t s;
    if (!device_id || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    salt = salt ? salt : TEDDY_OOB_SEED_SALT;
    /* inner = hex(SHA256(device_id ":" salt)), lower-case, id exactly as given. */
    esp_err_t err = teddy_sha256_init(&s);
    if (err != ESP_OK) {
        return err;
    }
    err = teddy_sha256_update(&s, device_id, strlen(device_id));
    if (err == ESP_OK) {
        err = teddy_sha256_update(&s, ":", 1);
    }
    if (err == ESP_OK) {
        err = teddy_sha256_update(&s, salt, strlen(salt));
    }
    if (err == ESP_OK) {
        err = teddy_sha256_finish(&s, digest);
    }
    teddy_sha256_free(&s);
    if (err != ESP_OK) {
        return err;
    }
    teddy_hex_encode(digest, sizeof(digest), inner, false);
    /* outer = UPPER(hex(SHA256(inner salt))) */
    err = teddy_sha256_init(&s);
    if (err != ESP_OK) {
        return err;
    }
    err = teddy_sha256_update(&s, inner, TEDDY_SHA256_HEX_LEN);
    if (err == ESP_OK) {
        err = teddy_sha256_update(&s, salt, strlen(salt));
    }
    if (err == ESP_OK) {
        err = teddy_sha256_finish(&s, digest);
    }
    teddy_sha256_free(&s);
    if (err == ESP_OK) {
        teddy_hex_encode(digest, sizeof(digest), out, true);
    }
    return err;
}

esp_err_t teddy_claim_hmac_hex(const char *oob_hex, const char *device_id, const char *child_id,
                               const char *nonce_hex, char out[TEDDY_HMAC_HEX_LEN + 1])
{
    uint8_t key[TEDDY_OOB_HEX_LEN / 2];
    uint8_t nonce[128];
    uint8_t mac[TEDDY_SHA256_LEN];
    size_t key_len = 0, nonce_len = 0;
    if (!oob_hex || !device_id || !child_id || !nonce_hex || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    if (strlen(oob_hex) != TEDDY_OOB_HEX_LEN ||
        teddy_hex_decode(oob_hex, key, sizeof(key), &key_len) != ESP_OK) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err = teddy_hex_decode(nonce_hex, nonce, sizeof(nonce), &nonce_len);
    if (err != ESP_OK) {
        return err;
    }
    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    const mbedtls_md_info_t *info = sha256_info();
    int rc = info ? mbedtls_md_setup(&ctx, info, 1) : -1;
    /* SPEC §2.2: device_id || child_id || raw nonce bytes, ids exactly as sent. */
    if (rc == 0) {
        rc = mbedtls_md_hmac_starts(&ctx, key, key_len);
    }
    if (rc == 0) {
        rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)device_id, strlen(device_id));
    }
    if (rc == 0) {
        rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)child_id, strlen(child_id));
    }
    if (rc == 0 && nonce_len) {
        rc = mbedtls_md_hmac_update(&ctx, nonce, nonce_len);
    }
    if (rc == 0) {
        rc = mbedtls_md_hmac_finish(&ctx, mac);
    }
    mbedtls_md_free(&ctx);
    if (rc != 0) {
        return rc == MBEDTLS_ERR_MD_ALLOC_FAILED ? ESP_ERR_NO_MEM : ESP_FAIL;
    }
    teddy_hex_encode(mac, sizeof(mac), out, false);
    return ESP_OK;
}

esp_err_t teddy_nonce_hex(const uint8_t *random_bytes, size_t len, char *out, size_t out_size)
{
    if (!random_bytes || !out || len < TEDDY_NONCE_MIN_BYTES || len > TEDDY_NONCE_MAX_BYTES) {
        return ESP_ERR_INVALID_ARG;
    }
    if (out_size < 2 * len + 1) {
        return ESP_ERR_INVALID_SIZE;
    }
    teddy_hex_encode(random_bytes, len, out, false);
    return ESP_OK;
}

bool teddy_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < len; i++) {
        diff |= (uint8_t)(x[i] ^ y[i]);
    }
    return diff == 0;
}
