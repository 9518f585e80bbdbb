/*
 * image.c - reading and checking ESP-IDF app images (SPEC §5.3, §5.4), ported from
 * protocol/image.py read_app_image / peek_app_header and protocol/manifest.py
 * verify_image.
 *
 * All lengths from the image are 32-bit values an attacker controls: offsets are
 * computed in uint64_t and compared with the buffer length before any access.
 */
#include <string.h>

#include "teddy_image_internal.h"

#define CHECKSUM_SEED 0xEF
#define SEG1_SIZE_OFFSET (TEDDY_IMAGE_HEADER_LEN + 4)
#define APP_DESC_OFFSET (TEDDY_IMAGE_HEADER_LEN + TEDDY_SEGMENT_HEADER_LEN)

static const char *const REASONS[] = {
    "", "size_mismatch", "sha256_mismatch", "bad_magic", "truncated", "bad_checksum",
    "bad_hash", "wrong_chip", "secure_version_too_low", "version_mismatch",
};

const char *teddy_image_err_str(teddy_image_err_t reason)
{
    if ((size_t)reason >= sizeof(REASONS) / sizeof(REASONS[0])) {
        return "";
    }
    return REASONS[reason];
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static esp_err_t fail(teddy_image_err_t *reason, teddy_image_err_t why)
{
    if (reason) {
        *reason = why;
    }
    return ESP_FAIL;
}

static esp_err_t ok(teddy_image_err_t *reason)
{
    if (reason) {
        *reason = TEDDY_IMAGE_OK;
    }
    return ESP_OK;
}

esp_err_t teddy_image_header_parse(const uint8_t *data, size_t len, teddy_image_header_t *out,
                                   teddy_image_err_t *reason)
{
    if (len == 0) {
        return fail(reason, TEDDY_IMAGE_TRUNCATED);
    }
    if (data[0] != TEDDY_IMAGE_MAGIC) {
        return fail(reason, TEDDY_IMAGE_BAD_MAGIC);
    }
    if (len < TEDDY_IMAGE_HEADER_LEN) {
        return fail(reason, TEDDY_IMAGE_TRUNCATED);
    }
    teddy_image_header_t h = {
        .segment_count = data[1],
        .flash_mode = data[2],
        .flash_size_freq = data[3],
        .entry = le32(data + 4),
        .wp_pin = data[8],
        .chip_id = le16(data + 12),
        .min_rev = data[14],
        .min_rev_full = le16(data + 15),
        .max_rev_full = le16(data + 17),
        .hash_appended = data[23] == 1,
    };
    /* bad_magic covers "this does not look like an app image" (SPEC §5.4). */
    if (h.segment_count < 1 || h.segment_count > TEDDY_IMAGE_MAX_SEGMENTS || data[23] > 1) {
        return fail(reason, TEDDY_IMAGE_BAD_MAGIC);
    }
    if (out) {
        *out = h;
    }
    return ok(reason);
}

static void cstr(char *dst, const uint8_t *src, size_t size)
{
    memcpy(dst, src, size);
    dst[size - 1] = '\0'; /* C code relies on the NUL the writer keeps room for */
}

esp_err_t teddy_app_desc_parse(const uint8_t *data, size_t len, teddy_app_desc_t *out,
                               teddy_image_err_t *reason)
{
    if (len < TEDDY_APP_DESC_LEN) {
        return fail(reason, TEDDY_IMAGE_TRUNCATED);
    }
    if (le32(data) != TEDDY_APP_DESC_MAGIC) {
        return fail(reason, TEDDY_IMAGE_BAD_MAGIC);
    }
    if (out) {
        memset(out, 0, sizeof(*out));
        out->secure_version = le32(data + 4);
        cstr(out->version, data + 16, sizeof(out->version));
        cstr(out->project_name, data + 48, sizeof(out->project_name));
        cstr(out->time, data + 80, sizeof(out->time));
        cstr(out->date, data + 96, sizeof(out->date));
        cstr(out->idf_ver, data + 112, sizeof(out->idf_ver));
        memcpy(out->app_elf_sha256, data + 144, sizeof(out->app_elf_sha256));
        out->min_efuse_blk_rev_full = le16(data + 176);
        out->max_efuse_blk_rev_full = le16(data + 178);
        out->mmu_page_size = data[180];
        out->spi_flash_mode = data[181];
    }
    return ok(reason);
}

esp_err_t teddy_image_peek(const uint8_t *prefix, size_t len, teddy_image_header_t *header,
                           teddy_app_desc_t *desc, teddy_image_err_t *reason)
{
    esp_err_t err = teddy_image_header_parse(prefix, len, header, reason);
    if (err != ESP_OK) {
        return err;
    }
    if (len < TEDDY_IMAGE_PEEK_LEN) {
        return fail(reason, TEDDY_IMAGE_TRUNCATED);
    }
    if (le32(prefix + SEG1_SIZE_OFFSET) < TEDDY_APP_DESC_LEN) {
        return fail(reason, TEDDY_IMAGE_BAD_MAGIC);
    }
    return teddy_app_desc_parse(prefix + APP_DESC_OFFSET, TEDDY_APP_DESC_LEN, desc, reason);
}

esp_err_t teddy_image_read(const uint8_t *data, size_t len, teddy_image_info_t *out,
                           teddy_image_err_t *reason)
{
    teddy_image_info_t info;
    memset(&info, 0, sizeof(info));
    esp_err_t err = teddy_image_header_parse(data, len, &info.header, reason);
    if (err != ESP_OK) {
        return err;
    }
    uint64_t pos = TEDDY_IMAGE_HEADER_LEN;
    uint8_t sum = CHECKSUM_SEED;
    const uint8_t *seg0 = NULL;
    uint64_t seg0_len = 0;
    for (unsigned i = 0; i < info.header.segment_count; i++) {
        if (pos + TEDDY_SEGMENT_HEADER_LEN > len) {
            return fail(reason, TEDDY_IMAGE_TRUNCATED);
        }
        uint64_t size = le32(data + pos + 4);
        uint64_t start = pos + TEDDY_SEGMENT_HEADER_LEN;
        if (start + size > len) {
            return fail(reason, TEDDY_IMAGE_TRUNCATED);
        }
        if (i == 0) {
            seg0 = data + start;
            seg0_len = size;
        }
        for (uint64_t j = 0; j < size; j++) {
            sum ^= data[start + j];
        }
        pos = start + size;
    }
    /* The checksum is the last byte of the 16-byte block after the segments. */
    uint64_t index = pos + 15 - pos % 16;
    if (index >= len) {
        return fail(reason, TEDDY_IMAGE_TRUNCATED);
    }
    uint64_t end = index + 1;
    bool hash_ok = true;
    if (info.header.hash_appended) {
        uint8_t digest[TEDDY_SHA256_LEN];
        if (end + TEDDY_SHA256_LEN > len) {
            return fail(reason, TEDDY_IMAGE_TRUNCATED);
        }
        if (teddy_sha256(data, (size_t)end, digest) != ESP_OK) {
            return ESP_ERR_NO_MEM;
        }
        hash_ok = memcmp(digest, data + end, TEDDY_SHA256_LEN) == 0;
    }
    bool desc_ok = teddy_app_desc_parse(seg0, (size_t)seg0_len, &info.desc, NULL) == ESP_OK;
    info.checksum = data[index];
    info.calc_checksum = sum;
    info.length = (size_t)(end + (info.header.hash_appended ? TEDDY_SHA256_LEN : 0));
    if (info.checksum != info.calc_checksum) {
        return fail(reason, TEDDY_IMAGE_BAD_CHECKSUM);
    }
    if (!hash_ok) {
        return fail(reason, TEDDY_IMAGE_BAD_HASH);
    }
    if (!desc_ok) {
        return fail(reason, TEDDY_IMAGE_BAD_MAGIC); /* first segment is not esp_app_desc_t */
    }
    if (out) {
        *out = info;
    }
    return ok(reason);
}

esp_err_t teddy_image_check_identity(const teddy_image_header_t *h, const teddy_app_desc_t *d,
                                     const teddy_manifest_t *m, const char *chip,
                                     uint32_t min_secure_version, teddy_image_err_t *reason)
{
    const char *image_chip = teddy_chip_name(h->chip_id);
    if (!image_chip || strcmp(image_chip, chip) != 0 || strcmp(m->chip, chip) != 0) {
        return fail(reason, TEDDY_IMAGE_WRONG_CHIP);
    }
    if (d->secure_version < min_secure_version) {
        return fail(reason, TEDDY_IMAGE_SECURE_VERSION_TOO_LOW);
    }
    if (strcmp(d->version, m->version) != 0) {
        return fail(reason, TEDDY_IMAGE_VERSION_MISMATCH); /* defect 16 */
    }
    return ok(reason);
}

esp_err_t teddy_image_verify(const uint8_t *data, size_t len, const teddy_manifest_t *m,
                             const char *chip, uint32_t min_secure_version,
                             teddy_image_info_t *out, teddy_image_err_t *reason)
{
    uint8_t digest[TEDDY_SHA256_LEN];
    char hex[TEDDY_SHA256_HEX_LEN + 1];
    teddy_image_info_t info;
    if (!m || !chip || (!data && len)) {
        return ESP_ERR_INVALID_ARG;
    }
    /* Order (SPEC §5.4): size, sha256, structure, chip, secure_version, version. */
    if (m->size < 0 || (uint64_t)m->size != len) {
        return fail(reason, TEDDY_IMAGE_SIZE_MISMATCH);
    }
    if (teddy_sha256(data, len, digest) != ESP_OK) {
        return ESP_ERR_NO_MEM;
    }
    teddy_hex_encode(digest, sizeof(digest), hex, false);
    if (strcmp(hex, m->sha256) != 0) {
        return fail(reason, TEDDY_IMAGE_SHA256_MISMATCH);
    }
    esp_err_t err = teddy_image_read(data, len, &info, reason);
    if (err != ESP_OK) {
        return err;
    }
    err = teddy_image_check_identity(&info.header, &info.desc, m, chip, min_secure_version,
                                     reason);
    if (err == ESP_OK && out) {
        *out = info;
    }
    return err;
}
