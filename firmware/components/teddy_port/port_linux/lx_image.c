/*
 * lx_image.c - the host bootloader's view of an app image (SPEC §5.3).
 *
 * The ROM/bootloader only boots a slot holding a complete, intact ESP app image:
 * 0xE9 header, segments, XOR checksum, appended SHA-256, and an esp_app_desc_t at the
 * start of the first segment (version, secure_version). This is that check, plus the
 * factory image a blank flash gets (same bytes as protocol.image.build_app_image with
 * an empty payload) and the TEDDY-BEHAVIOUR marker of emulator/README.md, which lets
 * scenarios publish firmware that misbehaves on the host too.
 */
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "lx_image.h"
#include "mbedtls/md.h"
#include "teddy_model.h"
#include "teddy_wire.h"

#define HDR_LEN 24
#define SEG_HDR_LEN 8
#define DESC_LEN 256
#define DESC_MAGIC 0xABCD5432u
#define DIGEST_LEN 32

typedef struct {
    const char *name;
    uint16_t chip_id;
    uint32_t drom_base, iram_base;
} chip_layout_t;

/* protocol/image.py CHIP_LAYOUTS (esptool memory maps); chip ids from teddy_wire.h. */
static const chip_layout_t CHIPS[] = {
    {"esp32", TEDDY_CHIP_ID_ESP32, 0x3F400000u, 0x40080000u},
    {"esp32s2", TEDDY_CHIP_ID_ESP32S2, 0x3F000000u, 0x40020000u},
    {"esp32s3", TEDDY_CHIP_ID_ESP32S3, 0x3C000000u, 0x40370000u},
    {"esp32c3", TEDDY_CHIP_ID_ESP32C3, 0x3C000000u, 0x4037C000u},
    {"esp32c2", TEDDY_CHIP_ID_ESP32C2, 0x3C000000u, 0x4037C000u},
    {"esp32c6", TEDDY_CHIP_ID_ESP32C6, 0x42800000u, 0x40800000u},
    {"esp32h2", TEDDY_CHIP_ID_ESP32H2, 0x42800000u, 0x40800000u},
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void sha256(const uint8_t *data, size_t len, uint8_t out[DIGEST_LEN])
{
    /* mbedtls_md() has the same signature in mbedTLS 2.28 and 3.x. */
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data, len, out);
}

bool lx_image_check(const uint8_t *data, size_t len, lx_image_info_t *info)
{
    if (len < HDR_LEN || data[0] != 0xE9) {
        return false;
    }
    unsigned count = data[1];
    if (count < 1 || count > 16 || data[23] > 1) {
        return false;
    }
    size_t pos = HDR_LEN;
    uint8_t checksum = 0xEF;
    size_t first_seg = 0, first_len = 0;
    for (unsigned i = 0; i < count; i++) {
        if (pos + SEG_HDR_LEN > len) {
            return false;
        }
        size_t size = rd32(data + pos + 4);
        pos += SEG_HDR_LEN;
        if (size > len - pos) {
            return false;
        }
        if (i == 0) {
            first_seg = pos;
            first_len = size;
        }
        for (size_t j = 0; j < size; j++) {
            checksum ^= data[pos + j];
        }
        pos += size;
    }
    size_t index = pos + 15 - pos % 16;
    if (index >= len || data[index] != checksum) {
        return false;
    }
    size_t end = index + 1;
    if (data[23] == 1) {
        uint8_t digest[DIGEST_LEN];
        if (end + DIGEST_LEN > len) {
            return false;
        }
        sha256(data, end, digest);
        if (memcmp(digest, data + end, DIGEST_LEN) != 0) {
            return false;
        }
    }
    if (first_len < DESC_LEN || rd32(data + first_seg) != DESC_MAGIC) {
        return false;
    }
    memset(info, 0, sizeof(*info));
    info->secure_version = rd32(data + first_seg + 4);
    memcpy(info->version, data + first_seg + 16, 31);
    info->version[31] = '\0';
    info->chip_id = (uint16_t)(data[12] | data[13] << 8);
    return true;
}

uint8_t *lx_image_build(const char *version, const char *chip, uint32_t secure_version,
                        size_t *out_len)
{
    const chip_layout_t *layout = NULL;
    for (size_t i = 0; i < sizeof(CHIPS) / sizeof(CHIPS[0]); i++) {
        if (strcmp(CHIPS[i].name, chip) == 0) {
            layout = &CHIPS[i];
        }
    }
    if (layout == NULL || strlen(version) >= 32) {
        return NULL;
    }
    /* header + DROM (desc) + IRAM (16 zero bytes) + checksum block + digest */
    size_t body = HDR_LEN + SEG_HDR_LEN + DESC_LEN + SEG_HDR_LEN + 16;
    size_t index = body + 15 - body % 16;
    size_t total = index + 1 + DIGEST_LEN;
    uint8_t *img = calloc(1, total);
    if (img == NULL) {
        return NULL;
    }
    img[0] = 0xE9;
    img[1] = 2;
    img[2] = 2;    /* DIO */
    img[3] = 0x20; /* 4 MB, 40 MHz */
    wr32(img + 4, layout->iram_base);
    img[8] = 0xEE; /* WP pin disabled */
    img[12] = (uint8_t)layout->chip_id;
    img[13] = (uint8_t)(layout->chip_id >> 8);
    img[17] = 0xFF; /* max_rev_full 0xFFFF */
    img[18] = 0xFF;
    img[23] = 1; /* hash appended */
    uint8_t *seg = img + HDR_LEN;
    wr32(seg, layout->drom_base + HDR_LEN + SEG_HDR_LEN);
    wr32(seg + 4, DESC_LEN);
    uint8_t *desc = seg + SEG_HDR_LEN;
    wr32(desc, DESC_MAGIC);
    wr32(desc + 4, secure_version);
    memcpy(desc + 16, version, strlen(version));
    memcpy(desc + 48, "teddy", 5);
    memcpy(desc + 80, "00:00:00", 8);
    memcpy(desc + 96, "Jan  1 2025", 11);
    memcpy(desc + 112, "v5.4.1", 6);
    sha256((const uint8_t *)version, strlen(version), desc + 144);
    desc[176] = 0;  /* min_efuse_blk_rev_full (u16) */
    desc[178] = 99; /* max_efuse_blk_rev_full (u16) */
    desc[180] = 16; /* mmu_page_size log2 */
    desc[181] = 2;  /* spi_flash_mode DIO */
    uint8_t *iram = desc + DESC_LEN;
    wr32(iram, layout->iram_base);
    wr32(iram + 4, 16);
    uint8_t checksum = 0xEF;
    for (size_t j = 0; j < DESC_LEN; j++) {
        checksum ^= desc[j];
    }
    img[index] = checksum; /* the IRAM segment is zeros: no effect on the XOR */
    sha256(img, index + 1, img + index + 1);
    *out_len = total;
    return img;
}

void lx_image_behaviour(const uint8_t *data, size_t len, bool *network_broken,
                        int32_t *panic_after_ms)
{
    static const char marker[] = TEDDY_BEHAVIOUR_MARKER; /* the device model's */
    const size_t mlen = sizeof(marker) - 1;
    *network_broken = false;
    *panic_after_ms = -1;
    for (size_t i = 0; i + mlen <= len; i++) {
        if (memcmp(data + i, marker, mlen) != 0) {
            continue;
        }
        size_t rest = len - i - mlen;
        char *text = malloc(rest + 1);
        if (text == NULL) {
            return;
        }
        memcpy(text, data + i + mlen, rest);
        text[rest] = '\0';
        /* raw_decode semantics: the JSON object may be followed by anything. */
        cJSON *obj = cJSON_ParseWithOpts(text, NULL, false);
        free(text);
        if (cJSON_IsObject(obj)) {
            cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, TEDDY_BEHAVIOUR_SELFTEST);
            cJSON *pa = cJSON_GetObjectItemCaseSensitive(obj, TEDDY_BEHAVIOUR_PANIC_AFTER_MS);
            *network_broken = cJSON_IsString(st) && strcmp(st->valuestring, "fail") == 0;
            if (cJSON_IsNumber(pa) && pa->valuedouble >= 0 && pa->valuedouble < 2e9 &&
                pa->valuedouble == (double)(int32_t)pa->valuedouble) {
                *panic_after_ms = (int32_t)pa->valuedouble;
            }
        }
        cJSON_Delete(obj);
        return; /* the first marker only */
    }
}
