/*
 * test_image.c - app image header/app-descriptor/checksum/hash checks and the
 * manifest verification against images.json (SPEC §5.3, §5.4), plus the streaming
 * verifier the OTA writer uses, fed the same images in small chunks.
 */
#include <stdlib.h>

#include "teddy_image.h"
#include "vectors.h"

/* --- protocol.image.build_app_image, to check each read case's "build" recipe ------- */

typedef struct {
    const char *chip;
    uint32_t drom, iram;
} layout_t;

static const layout_t LAYOUTS[] = {
    {"esp32", 0x3F400000, 0x40080000}, {"esp32s2", 0x3F000000, 0x40020000},
    {"esp32s3", 0x3C000000, 0x40370000}, {"esp32c3", 0x3C000000, 0x4037C000},
    {"esp32c2", 0x3C000000, 0x4037C000}, {"esp32c6", 0x42800000, 0x40800000},
    {"esp32h2", 0x42800000, 0x40800000},
};

static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    return 4;
}

static uint8_t *build_image(const char *version, const char *chip, uint32_t secure,
                            const char *project, const uint8_t *payload, size_t payload_len,
                            size_t *out_len)
{
    const layout_t *l = NULL;
    int chip_id = -1;
    for (size_t i = 0; i < sizeof(LAYOUTS) / sizeof(LAYOUTS[0]); i++) {
        if (strcmp(LAYOUTS[i].chip, chip) == 0) {
            l = &LAYOUTS[i];
        }
    }
    assert_non_null(l);
    assert_int_equal(teddy_chip_id(chip, &chip_id), ESP_OK);
    uint8_t desc[256] = {0};
    put32(desc, TEDDY_APP_DESC_MAGIC);
    put32(desc + 4, secure);
    memcpy(desc + 16, version, strlen(version));
    memcpy(desc + 48, project, strlen(project));
    memcpy(desc + 80, "00:00:00", 8);
    memcpy(desc + 96, "Jan  1 2025", 11);
    memcpy(desc + 112, "v5.4.1", 6);
    teddy_sha256_t s;
    teddy_sha256_init(&s);
    teddy_sha256_update(&s, version, strlen(version));
    teddy_sha256_update(&s, payload, payload_len);
    teddy_sha256_finish(&s, desc + 144);
    teddy_sha256_free(&s);
    desc[178] = 99; /* max_efuse_blk_rev_full */
    desc[180] = 16; /* mmu_page_size (log2) */
    desc[181] = 2;  /* DIO */
    size_t seg0 = (256 + payload_len + 3) / 4 * 4, seg1 = 16;
    uint8_t *img = calloc(24 + 8 + seg0 + 8 + seg1 + 16 + 32, 1);
    uint8_t *p = img;
    *p++ = 0xE9, *p++ = 2, *p++ = 2, *p++ = 0x20;
    p += put32(p, l->iram);
    *p++ = 0xEE, p += 3;
    *p++ = (uint8_t)chip_id, *p++ = (uint8_t)(chip_id >> 8);
    *p++ = 0, *p++ = 0, *p++ = 0, *p++ = 0xFF, *p++ = 0xFF, p += 4;
    *p++ = 1; /* hash appended */
    p += put32(p, l->drom + 32);
    p += put32(p, (uint32_t)seg0);
    memcpy(p, desc, 256);
    memcpy(p + 256, payload, payload_len);
    uint8_t sum = 0xEF;
    for (size_t i = 0; i < seg0; i++) {
        sum ^= p[i];
    }
    p += seg0;
    p += put32(p, l->iram);
    p += put32(p, (uint32_t)seg1);
    p += seg1; /* zeros: xor unchanged */
    size_t pos = (size_t)(p - img);
    size_t index = pos + 15 - pos % 16;
    img[index] = sum;
    teddy_sha256(img, index + 1, img + index + 1);
    *out_len = index + 1 + 32;
    return img;
}

static void check_build(const char *id, const cJSON *b, const uint8_t *img, size_t len)
{
    size_t plen, n;
    uint8_t *payload = tv_hex(tv_str(b, "payload_hex", id), &plen);
    uint8_t *built = build_image(tv_str(b, "version", id), tv_str(b, "chip", id),
                                 (uint32_t)tv_int(b, "secure_version", id),
                                 tv_str(b, "project_name", id), payload, plen, &n);
    TV_INT_EQ(id, n, len);
    TV_CHECK(id, memcmp(built, img, len) == 0);
    free(built);
    free(payload);
}


static void check_read(const char *id, const cJSON *c, const uint8_t *img, size_t len)
{
    const cJSON *expect = tv_get(c, "expect", id);
    teddy_image_info_t info;
    teddy_image_err_t why = TEDDY_IMAGE_OK;
    esp_err_t err = teddy_image_read(img, len, &info, &why);
    const char *want_err = tv_opt_str(expect, "error");
    if (want_err) {
        TV_CHECK(id, err == ESP_FAIL);
        TV_STR_EQ(id, teddy_image_err_str(why), want_err);
        return;
    }
    TV_CHECK(id, err == ESP_OK);
    TV_STR_EQ(id, teddy_chip_name(info.header.chip_id), tv_str(expect, "chip", id));
    TV_INT_EQ(id, info.header.chip_id, tv_int(expect, "chip_id", id));
    TV_STR_EQ(id, info.desc.version, tv_str(expect, "version", id));
    TV_STR_EQ(id, info.desc.project_name, tv_str(expect, "project_name", id));
    TV_INT_EQ(id, info.desc.secure_version, tv_int(expect, "secure_version", id));
    TV_INT_EQ(id, info.header.segment_count, tv_int(expect, "segment_count", id));
    TV_INT_EQ(id, info.length, tv_int(expect, "length", id));
    /* The early peek (first 288 bytes) sees the same identity. */
    teddy_image_header_t h;
    teddy_app_desc_t d;
    TV_CHECK(id, teddy_image_peek(img, len, &h, &d, NULL) == ESP_OK);
    TV_STR_EQ(id, d.version, info.desc.version);
    TV_INT_EQ(id, h.chip_id, info.header.chip_id);
}

static void test_image_read_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("images.json");
    const cJSON *c;
    int n = 0, builds = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        if (strcmp(tv_str(c, "kind", id), "read") != 0) {
            continue;
        }
        size_t len;
        uint8_t *img = tv_hex(tv_str(c, "image_hex", id), &len);
        check_read(id, c, img, len);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(c, "build");
        if (cJSON_IsObject(b)) {
            check_build(id, b, img, len);
            builds++;
        }
        free(img);
        n++;
    }
    print_message("images.json: %d read cases (%d rebuilt byte-for-byte)\n", n, builds);
    cJSON_Delete(root);
}

/* Streaming, 97 bytes at a time (not aligned to anything on purpose). */
static teddy_image_err_t stream(const uint8_t *img, size_t len, const teddy_manifest_t *m,
                                const char *chip, uint32_t min_sv)
{
    teddy_image_verifier_t *v = malloc(sizeof(*v));
    teddy_image_err_t why = TEDDY_IMAGE_OK;
    assert_int_equal(teddy_image_verifier_init(v, m, chip, min_sv), ESP_OK);
    esp_err_t err = ESP_OK;
    for (size_t off = 0; off < len && err == ESP_OK; off += 97) {
        size_t n = len - off < 97 ? len - off : 97;
        err = teddy_image_verifier_feed(v, img + off, n, &why);
    }
    if (err == ESP_OK) {
        err = teddy_image_verifier_finish(v, &why);
    }
    teddy_image_verifier_free(v);
    free(v);
    return err == ESP_OK ? TEDDY_IMAGE_OK : why;
}

static void test_image_verify_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("images.json");
    const cJSON *c;
    int n = 0;
    teddy_manifest_t *m = malloc(sizeof(*m));
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        if (strcmp(tv_str(c, "kind", id), "verify") != 0) {
            TV_STR_EQ(id, tv_str(c, "kind", id), "read");
            continue;
        }
        size_t len;
        uint8_t *img = tv_hex(tv_str(c, "image_hex", id), &len);
        teddy_field_errors_t errs;
        TV_CHECK(id, teddy_manifest_from_json(tv_get(c, "manifest", id), m, &errs) == ESP_OK);
        const cJSON *dev = tv_get(c, "device", id);
        const char *chip = tv_str(dev, "chip", id);
        uint32_t min_sv = (uint32_t)tv_int(dev, "min_secure_version", id);
        const cJSON *expect = tv_get(c, "expect", id);
        const char *want_err = tv_opt_str(expect, "error");
        teddy_image_info_t info;
        teddy_image_err_t why = TEDDY_IMAGE_OK;
        esp_err_t err = teddy_image_verify(img, len, m, chip, min_sv, &info, &why);
        teddy_image_err_t streamed = stream(img, len, m, chip, min_sv);
        if (want_err) {
            TV_CHECK(id, err == ESP_FAIL);
            TV_STR_EQ(id, teddy_image_err_str(why), want_err);
            /* The streaming writer leaves checksum/hash to the bootloader (esp_ota_end). */
            if (why == TEDDY_IMAGE_BAD_CHECKSUM || why == TEDDY_IMAGE_BAD_HASH) {
                TV_CHECK(id, streamed == TEDDY_IMAGE_OK);
            } else {
                TV_STR_EQ(id, teddy_image_err_str(streamed), want_err);
            }
        } else {
            TV_CHECK(id, err == ESP_OK);
            TV_STR_EQ(id, info.desc.version, tv_str(expect, "version", id));
            TV_CHECK(id, streamed == TEDDY_IMAGE_OK);
        }
        free(img);
        n++;
    }
    print_message("images.json: %d verify cases (also streamed)\n", n);
    free(m);
    cJSON_Delete(root);
}

static void test_verifier_refuses_early(void **state)
{
    (void)state;
    size_t len;
    static const uint8_t payload[4] = {1, 2, 3, 4};
    uint8_t *img = build_image("1.3.0", "esp32s3", 0, "teddy", payload, 4, &len);
    teddy_manifest_t *m = calloc(1, sizeof(*m));
    strcpy(m->chip, "esp32");
    strcpy(m->version, "1.3.0");
    m->size = (int64_t)len;
    teddy_image_verifier_t *v = malloc(sizeof(*v));
    teddy_image_err_t why;
    assert_int_equal(teddy_image_verifier_init(v, m, "esp32", 0), ESP_OK);
    assert_int_equal(teddy_image_verifier_feed(v, img, 100, &why), ESP_OK);
    /* wrong chip is known once the first 288 bytes are in, long before the end */
    assert_int_equal(teddy_image_verifier_feed(v, img + 100, 200, &why), ESP_FAIL);
    assert_int_equal(why, TEDDY_IMAGE_WRONG_CHIP);
    teddy_image_verifier_free(v);
    assert_int_equal(teddy_image_verifier_init(v, m, "esp32", 0), ESP_OK);
    uint8_t junk[4] = {0x16, 0, 0, 0};
    assert_int_equal(teddy_image_verifier_feed(v, junk, 4, &why), ESP_FAIL);
    assert_int_equal(why, TEDDY_IMAGE_BAD_MAGIC);
    teddy_image_verifier_free(v);
    assert_int_equal(teddy_image_verifier_init(v, m, "esp32", 0), ESP_OK);
    assert_int_equal(teddy_image_verifier_feed(v, img, len, &why), ESP_FAIL);
    assert_int_equal(why, TEDDY_IMAGE_WRONG_CHIP);
    teddy_image_verifier_free(v);
    m->size = 10;
    assert_int_equal(teddy_image_verifier_init(v, m, "esp32s3", 0), ESP_OK);
    assert_int_equal(teddy_image_verifier_feed(v, img, 11, &why), ESP_FAIL);
    assert_int_equal(why, TEDDY_IMAGE_SIZE_MISMATCH);
    teddy_image_verifier_free(v);
    free(v);
    free(m);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_read_vectors),
        cmocka_unit_test(test_image_verify_vectors),
        cmocka_unit_test(test_verifier_refuses_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
