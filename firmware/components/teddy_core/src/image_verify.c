/*
 * image_verify.c - streaming verification while an OTA image downloads (SPEC
 * §5.4), the C twin of protocol.manifest.ImageVerifier.
 *
 * Like esp_https_ota, the header and app descriptor are checked as soon as the
 * first TEDDY_IMAGE_PEEK_LEN bytes are in, so a wrong chip, a rollback or a
 * version other than the manifest's is refused before the rest is written to
 * flash. The running SHA-256 and byte count are checked at the end.
 */
#include <string.h>

#include "teddy_image_internal.h"

static esp_err_t fail(teddy_image_err_t *reason, teddy_image_err_t why)
{
    if (reason) {
        *reason = why;
    }
    return ESP_FAIL;
}

esp_err_t teddy_image_verifier_init(teddy_image_verifier_t *v, const teddy_manifest_t *m,
                                    const char *chip, uint32_t min_secure_version)
{
    if (!v || !m || !chip) {
        return ESP_ERR_INVALID_ARG;
    }
    memset(v, 0, sizeof(*v));
    v->manifest = m;
    if (strlen(chip) >= sizeof(v->chip)) {
        return ESP_ERR_INVALID_ARG;
    }
    strcpy(v->chip, chip);
    v->min_secure_version = min_secure_version;
    return teddy_sha256_init(&v->sha);
}

esp_err_t teddy_image_verifier_feed(teddy_image_verifier_t *v, const uint8_t *chunk, size_t len,
                                    teddy_image_err_t *reason)
{
    if (!v || !v->sha.ready || (!chunk && len)) {
        return ESP_ERR_INVALID_ARG;
    }
    if (reason) {
        *reason = TEDDY_IMAGE_OK;
    }
    v->bytes_received += len;
    if (v->manifest->size < 0 || v->bytes_received > (uint64_t)v->manifest->size) {
        return fail(reason, TEDDY_IMAGE_SIZE_MISMATCH);
    }
    esp_err_t err = teddy_sha256_update(&v->sha, chunk, len);
    if (err != ESP_OK) {
        return err;
    }
    if (v->have_desc || v->prefix_len >= TEDDY_IMAGE_PEEK_LEN) {
        return ESP_OK;
    }
    size_t take = TEDDY_IMAGE_PEEK_LEN - v->prefix_len;
    take = take < len ? take : len;
    memcpy(v->prefix + v->prefix_len, chunk, take);
    v->prefix_len += take;
    if (v->prefix_len > 0 && v->prefix[0] != TEDDY_IMAGE_MAGIC) {
        return fail(reason, TEDDY_IMAGE_BAD_MAGIC);
    }
    if (v->prefix_len == TEDDY_IMAGE_PEEK_LEN) {
        err = teddy_image_peek(v->prefix, v->prefix_len, &v->header, &v->desc, reason);
        if (err == ESP_OK) {
            err = teddy_image_check_identity(&v->header, &v->desc, v->manifest, v->chip,
                                             v->min_secure_version, reason);
        }
        if (err != ESP_OK) {
            return err;
        }
        v->have_desc = true;
    }
    return ESP_OK;
}

esp_err_t teddy_image_verifier_finish(teddy_image_verifier_t *v, teddy_image_err_t *reason)
{
    char hex[TEDDY_SHA256_HEX_LEN + 1];
    if (!v || !v->sha.ready) {
        return ESP_ERR_INVALID_ARG;
    }
    if (v->manifest->size < 0 || v->bytes_received != (uint64_t)v->manifest->size) {
        return fail(reason, TEDDY_IMAGE_SIZE_MISMATCH);
    }
    esp_err_t err = teddy_sha256_finish(&v->sha, v->digest);
    teddy_sha256_free(&v->sha);
    if (err != ESP_OK) {
        return err;
    }
    teddy_hex_encode(v->digest, sizeof(v->digest), hex, false);
    if (strcmp(hex, v->manifest->sha256) != 0) {
        return fail(reason, TEDDY_IMAGE_SHA256_MISMATCH);
    }
    if (!v->have_desc) {
        /* Shorter than header + descriptor: bad_magic or truncated, like peek_app_header. */
        err = teddy_image_peek(v->prefix, v->prefix_len, NULL, NULL, reason);
        return err != ESP_OK ? err : fail(reason, TEDDY_IMAGE_TRUNCATED);
    }
    if (reason) {
        *reason = TEDDY_IMAGE_OK;
    }
    return ESP_OK;
}

void teddy_image_verifier_free(teddy_image_verifier_t *v)
{
    if (v) {
        teddy_sha256_free(&v->sha);
    }
}
