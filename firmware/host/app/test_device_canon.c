/*
 * test_device_canon.c - the C core's canonical JSON of inputs and effects (cmocka).
 *
 * protocol/vectors/device_io.json (generated from protocol/device_model.yaml) holds one
 * object per input and effect kind; protocol/device_codec.py passes the same file. Each
 * `json` must read into a teddy_input_t / teddy_effect_t and write back as `canonical`,
 * byte for byte, so both cores share one form for trace vectors. Malformed objects are
 * refused with the field named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "teddy_canon.h"
#include "vectors.h"

static void round_trip(const cJSON *c)
{
    const char *id = tv_id(c);
    bool input = strcmp(tv_str(c, "direction", id), "input") == 0;
    const cJSON *json = tv_get(c, "json", id);
    teddy_canon_store_t store = {0};
    char why[160] = "";
    cJSON *back = NULL;
    if (input) {
        teddy_input_t in;
        if (teddy_canon_read_input(json, &in, &store, why, sizeof(why)) != ESP_OK) {
            fail_msg("case %s: not read: %s", id, why);
        }
        back = teddy_canon_input(&in);
    } else {
        teddy_effect_t fx;
        if (teddy_canon_read_effect(json, &fx, &store, why, sizeof(why)) != ESP_OK) {
            fail_msg("case %s: not read: %s", id, why);
        }
        back = teddy_canon_effect(&fx);
    }
    TV_CHECK(id, back != NULL);
    char *got = tv_print(back), *want = tv_print(tv_get(c, "canonical", id));
    TV_STR_EQ(id, got, want);
    cJSON_free(got);
    cJSON_free(want);
    cJSON_Delete(back);
    teddy_canon_store_free(&store);
}

static void test_every_kind_round_trips(void **state)
{
    (void)state;
    cJSON *root = tv_load("device_io.json");
    /* The vector file and teddy_model.h come from the same model. */
    assert_string_equal(tv_str(root, "model_sha256", "device_io.json"), TEDDY_MODEL_SHA256);
    size_t inputs = 0, effects = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        round_trip(c);
        *(strcmp(tv_str(c, "direction", tv_id(c)), "input") == 0 ? &inputs : &effects) += 1;
    }
    assert_true(inputs >= TEDDY_IN_COUNT && effects >= TEDDY_FX_COUNT);
    print_message("device_io.json: %zu input and %zu effect cases\n", inputs, effects);
    cJSON_Delete(root);
}

static void test_malformed_objects_are_refused(void **state)
{
    (void)state;
    static const struct {
        bool input;
        const char *json, *names;
    } bad[] = {
        {true, "{\"kind\":\"wifi_sideways\"}", "kind"},
        {true, "{\"kind\":\"console_line\"}", "console_line.text"},
        {true, "{\"kind\":\"console_line\",\"text\":\"x\",\"extra\":1}", "console_line.extra"},
        {true, "{\"kind\":\"timer_fired\",\"name\":\"coffee\",\"at_ms\":1}", "timer_fired.name"},
        {true, "{\"kind\":\"time_synced\",\"epoch\":1.5}", "time_synced.epoch"},
        {true, "{\"kind\":\"capture_chunk\",\"capture_id\":1,\"pcm\":\"@@\"}", "capture_chunk.pcm"},
        {false, "{\"kind\":\"nvs_set\",\"namespace\":\"auth\",\"key\":\"nope\",\"value\":1}",
         "nvs_set.value"},
        {false, "{\"kind\":\"nvs_set\",\"namespace\":\"settings\",\"key\":\"volume\",\"value\":\"x\"}",
         "nvs_set.value"},
        {false, "{\"kind\":\"reboot\",\"reason\":\"tired\"}", "reboot.reason"},
        {false, "{\"kind\":\"slot_erase\",\"slot\":\"ota_9\"}", "slot_erase.slot"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *obj = cJSON_Parse(bad[i].json);
        assert_non_null(obj);
        teddy_canon_store_t store = {0};
        char why[160] = "";
        teddy_input_t in;
        teddy_effect_t fx;
        esp_err_t err = bad[i].input ? teddy_canon_read_input(obj, &in, &store, why, sizeof(why))
                                     : teddy_canon_read_effect(obj, &fx, &store, why, sizeof(why));
        TV_CHECK(bad[i].json, err == ESP_ERR_INVALID_ARG);
        TV_CHECK(bad[i].json, strncmp(why, bad[i].names, strlen(bad[i].names)) == 0);
        teddy_canon_store_free(&store);
        cJSON_Delete(obj);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_round_trips),
        cmocka_unit_test(test_malformed_objects_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
