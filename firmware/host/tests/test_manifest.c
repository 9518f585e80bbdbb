/*
 * test_manifest.c - manifest parsing and the update decision against
 * manifests.json (SPEC §5.1, §5.4).
 */
#include <stdlib.h>

#include "teddy_manifest.h"
#include "vectors.h"

static void check_manifest(const char *id, const cJSON *want, const teddy_manifest_t *m)
{
    TV_STR_EQ(id, m->version, tv_str(want, "version", id));
    TV_STR_EQ(id, m->url, tv_str(want, "url", id));
    TV_STR_EQ(id, m->sha256, tv_str(want, "sha256", id));
    TV_INT_EQ(id, m->size, tv_int(want, "size", id));
    TV_CHECK(id, m->mandatory == tv_bool(want, "mandatory", id));
    TV_INT_EQ(id, m->secure_version, tv_int(want, "secure_version", id));
    TV_STR_EQ(id, m->chip, tv_str(want, "chip", id));
    TV_STR_EQ(id, m->notes, tv_str(want, "notes", id));
}

static void test_manifest_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("manifests.json");
    const cJSON *c;
    int parse = 0, decide = 0;
    teddy_manifest_t *m = malloc(sizeof(*m));
    assert_non_null(m);
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const char *kind = tv_str(c, "kind", id);
        const cJSON *expect = tv_get(c, "expect", id);
        teddy_field_errors_t errs;
        esp_err_t err = teddy_manifest_from_json(tv_get(c, "manifest", id), m, &errs);
        if (strcmp(kind, "parse") == 0) {
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(expect, "manifest");
            if (want) {
                TV_CHECK(id, err == ESP_OK);
                check_manifest(id, want, m);
                /* The text path the device uses gives the same result. */
                char *text = tv_print(tv_get(c, "manifest", id));
                TV_CHECK(id, teddy_manifest_parse(text, strlen(text), m, &errs) == ESP_OK);
                check_manifest(id, want, m);
                cJSON_free(text);
            } else {
                TV_CHECK(id, err == ESP_ERR_INVALID_ARG);
                tv_check_errors(id, tv_get(expect, "errors", id), &errs);
            }
            parse++;
        } else {
            TV_STR_EQ(id, kind, "decide");
            TV_CHECK(id, err == ESP_OK);
            const cJSON *dev = tv_get(c, "device", id);
            teddy_update_decision_t d;
            TV_CHECK(id, teddy_manifest_decide(m, tv_str(dev, "running_version", id),
                                               tv_str(dev, "chip", id),
                                               (uint32_t)tv_int(dev, "secure_version", id),
                                               &d) == ESP_OK);
            TV_STR_EQ(id, teddy_update_action_str(d.action), tv_str(expect, "action", id));
            TV_STR_EQ(id, teddy_update_reason_str(d.reason), tv_str(expect, "reason", id));
            decide++;
        }
    }
    print_message("manifests.json: %d parse + %d decide cases\n", parse, decide);
    free(m);
    cJSON_Delete(root);
}

static void test_manifest_text_errors(void **state)
{
    (void)state;
    teddy_manifest_t *m = malloc(sizeof(*m));
    teddy_field_errors_t errs;
    assert_int_equal(teddy_manifest_parse("{\"a\":1,\"a\":2}", 13, m, &errs), ESP_ERR_INVALID_ARG);
    assert_int_equal(errs.count, 0);
    assert_int_equal(teddy_manifest_parse("7", 1, m, &errs), ESP_ERR_INVALID_ARG);
    assert_int_equal(errs.count, 1);
    teddy_update_decision_t d;
    memset(m, 0, sizeof(*m));
    strcpy(m->chip, "esp32");
    strcpy(m->version, "1.0.0");
    assert_int_equal(teddy_manifest_decide(m, "not-a-version", "esp32", 0, &d), ESP_ERR_INVALID_ARG);
    int chip;
    assert_int_equal(teddy_chip_id("esp32s3", &chip), ESP_OK);
    assert_int_equal(chip, 9);
    assert_int_equal(teddy_chip_id("esp8266", &chip), ESP_ERR_NOT_FOUND);
    assert_string_equal(teddy_chip_name(13), "esp32c6");
    assert_null(teddy_chip_name(1));
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_vectors),
        cmocka_unit_test(test_manifest_text_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
