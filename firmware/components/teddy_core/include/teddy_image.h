/*
 * teddy_image.h - ESP-IDF app image checks (SPEC §5.3, §5.4), ported from
 * protocol/image.py and the verification half of protocol/manifest.py.
 *
 * Layout: 24-byte header (0xE9, segment count, flash mode/size, entry, extended
 * header with the chip id and hash_appended), segments (8-byte header + data), the
 * XOR checksum in the last byte of the next 16-byte block, then an optional SHA-256
 * of everything before it. The first segment starts with the 256-byte
 * esp_app_desc_t (magic 0xABCD5432) that carries version and secure_version.
 *
 * Failures are ESP_FAIL with a teddy_image_err_t reason whose string is the SPEC
 * §5.4 `ota.verify.fail{reason}` value.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teddy_crypto.h"
#include "teddy_err.h"
#include "teddy_manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEDDY_IMAGE_MAGIC 0xE9
#define TEDDY_APP_DESC_MAGIC 0xABCD5432u
#define TEDDY_IMAGE_HEADER_LEN 24
#define TEDDY_SEGMENT_HEADER_LEN 8
#define TEDDY_APP_DESC_LEN 256
#define TEDDY_IMAGE_MAX_SEGMENTS 16
/* Header + first segment header + app descriptor: enough to decide early, as
 * esp_https_ota does before it writes the rest of the image. */
#define TEDDY_IMAGE_PEEK_LEN (TEDDY_IMAGE_HEADER_LEN + TEDDY_SEGMENT_HEADER_LEN + TEDDY_APP_DESC_LEN)

typedef enum {
    TEDDY_IMAGE_OK = 0,
    TEDDY_IMAGE_SIZE_MISMATCH,
    TEDDY_IMAGE_SHA256_MISMATCH,
    TEDDY_IMAGE_BAD_MAGIC,
    TEDDY_IMAGE_TRUNCATED,
    TEDDY_IMAGE_BAD_CHECKSUM,
    TEDDY_IMAGE_BAD_HASH,
    TEDDY_IMAGE_WRONG_CHIP,
    TEDDY_IMAGE_SECURE_VERSION_TOO_LOW,
    TEDDY_IMAGE_VERSION_MISMATCH,
} teddy_image_err_t;

/** "size_mismatch", "sha256_mismatch", ...; "" for TEDDY_IMAGE_OK. */
const char *teddy_image_err_str(teddy_image_err_t reason);

typedef struct {
    uint8_t segment_count;
    uint8_t flash_mode;
    uint8_t flash_size_freq;
    uint32_t entry;
    uint8_t wp_pin;
    uint16_t chip_id;
    uint8_t min_rev;
    uint16_t min_rev_full;
    uint16_t max_rev_full;
    bool hash_appended;
} teddy_image_header_t;

typedef struct {
    uint32_t secure_version;
    char version[32];        /* NUL-terminated (the last byte is forced to 0) */
    char project_name[32];
    char time[16];
    char date[16];
    char idf_ver[32];
    uint8_t app_elf_sha256[32];
    uint16_t min_efuse_blk_rev_full;
    uint16_t max_efuse_blk_rev_full;
    uint8_t mmu_page_size;
    uint8_t spi_flash_mode;
} teddy_app_desc_t;

/** Parse the 24-byte header: bad_magic (wrong magic, 0 or >16 segments, bad hash flag) or truncated. */
esp_err_t teddy_image_header_parse(const uint8_t *data, size_t len, teddy_image_header_t *out,
                                   teddy_image_err_t *reason);
/** Parse a 256-byte esp_app_desc_t: truncated or bad_magic. */
esp_err_t teddy_app_desc_parse(const uint8_t *data, size_t len, teddy_app_desc_t *out,
                               teddy_image_err_t *reason);
/** Header and app descriptor from the first TEDDY_IMAGE_PEEK_LEN bytes of an image. */
esp_err_t teddy_image_peek(const uint8_t *prefix, size_t len, teddy_image_header_t *header,
                           teddy_app_desc_t *desc, teddy_image_err_t *reason);

/** What a whole-image read reports (protocol.image.read_app_image, strict). */
typedef struct {
    teddy_image_header_t header;
    teddy_app_desc_t desc;
    uint8_t checksum;        /* stored */
    uint8_t calc_checksum;
    size_t length;           /* image length without trailing padding */
} teddy_image_info_t;

/** Parse and check a whole image: bad_magic, truncated, bad_checksum, bad_hash. */
esp_err_t teddy_image_read(const uint8_t *data, size_t len, teddy_image_info_t *out,
                           teddy_image_err_t *reason);

/**
 * Full check of a downloaded image against its manifest (protocol.manifest.verify_image):
 * size, sha256, structure, chip, secure_version, version == manifest version.
 */
esp_err_t teddy_image_verify(const uint8_t *data, size_t len, const teddy_manifest_t *m,
                             const char *chip, uint32_t min_secure_version,
                             teddy_image_info_t *out, teddy_image_err_t *reason);

/**
 * Streaming verifier used while an image downloads (protocol.manifest.ImageVerifier):
 * running SHA-256 and size, early header/app-descriptor identity checks once the
 * first TEDDY_IMAGE_PEEK_LEN bytes are in. Not copyable after init.
 */
typedef struct {
    const teddy_manifest_t *manifest; /* borrowed, must outlive the verifier */
    char chip[TEDDY_CHIP_NAME_MAX + 1];
    uint32_t min_secure_version;
    size_t bytes_received;
    teddy_sha256_t sha;
    uint8_t prefix[TEDDY_IMAGE_PEEK_LEN];
    size_t prefix_len;
    bool have_desc;
    teddy_image_header_t header;
    teddy_app_desc_t desc;
    uint8_t digest[TEDDY_SHA256_LEN]; /* valid after a successful finish */
} teddy_image_verifier_t;

esp_err_t teddy_image_verifier_init(teddy_image_verifier_t *v, const teddy_manifest_t *m,
                                    const char *chip, uint32_t min_secure_version);
/** Account for the next bytes; ESP_FAIL with `reason` as early as a check can fail. */
esp_err_t teddy_image_verifier_feed(teddy_image_verifier_t *v, const uint8_t *chunk, size_t len,
                                    teddy_image_err_t *reason);
/** Final size and SHA-256 checks; ESP_OK means the image may be activated. */
esp_err_t teddy_image_verifier_finish(teddy_image_verifier_t *v, teddy_image_err_t *reason);
void teddy_image_verifier_free(teddy_image_verifier_t *v);

#ifdef __cplusplus
}
#endif
