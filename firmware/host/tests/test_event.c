/*
 * test_event.c - `@teddy` event lines against eventlines.json (SPEC §8): parsing,
 * formatting, and the catalogue of required fields.
 */
#include <stdlib.h>
#include <string.h>

#include "teddy_event.h"
#include "teddy_json.h"
#include "vectors.h"

static void test_eventline_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("eventlines.json");
    const cJSON *c;
    int parsed = 0, formatted = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const char *line = tv_str(c, "line", id);
        const char *kind = tv_opt_str(c, "kind");
        if (kind && strcmp(kind, "format") == 0) {
            char out[1024];
            TV_CHECK(id, teddy_event_format(out, sizeof(out), (uint64_t)tv_int(c, "uptime_ms", id),
                                            tv_str(c, "name", id), tv_get(c, "data", id)) == ESP_OK);
            TV_STR_EQ(id, out, line);
            formatted++;
            continue;
        }
        const cJSON *expect = tv_get(c, "expect", id);
        teddy_event_t ev;
        esp_err_t err = teddy_event_parse(line, &ev);
        if (cJSON_IsNull(expect)) {
            TV_CHECK(id, err == ESP_ERR_NOT_FOUND); /* free text */
        } else if (cJSON_IsString(expect)) {
            TV_STR_EQ(id, expect->valuestring, "error");
            TV_CHECK(id, err == ESP_ERR_INVALID_ARG);
        } else {
            TV_CHECK(id, err == ESP_OK);
            TV_INT_EQ(id, ev.uptime_ms, tv_int(expect, "uptime_ms", id));
            TV_STR_EQ(id, ev.name, tv_str(expect, "name", id));
            TV_CHECK(id, cJSON_Compare(ev.data, tv_get(expect, "data", id), true));
            /* Formatting the parsed event gives the line back (minus any \r\n). */
            char out[1024];
            size_t len = strcspn(line, "\r\n");
            TV_CHECK(id, teddy_event_format(out, sizeof(out), ev.uptime_ms, ev.name, ev.data) ==
                             ESP_OK);
            TV_CHECK(id, strlen(out) == len && memcmp(out, line, len) == 0);
            teddy_event_free(&ev);
        }
        parsed++;
    }
    print_message("eventlines.json: %d parse + %d format cases\n", parsed, formatted);
    cJSON_Delete(root);
}

static void test_catalogue_vector(void **state)
{
    (void)state;
    cJSON *root = tv_load("eventlines.json");
    const cJSON *cat = tv_get(root, "catalogue", "catalogue");
    const cJSON *e;
    size_t n = 0;
    cJSON_ArrayForEach(e, cat)
    {
        const teddy_event_spec_t *spec = teddy_event_spec(e->string);
        if (!spec) {
            fail_msg("catalogue: C does not know event %s", e->string);
        }
        size_t i = 0; /* the vector lists the required members, in order */
        const cJSON *f;
        cJSON_ArrayForEach(f, e)
        {
            while (i < spec->n_fields && !spec->fields[i].required) {
                i++;
            }
            TV_CHECK(e->string, i < spec->n_fields);
            TV_STR_EQ(e->string, spec->fields[i].name, f->valuestring);
            i++;
        }
        while (i < spec->n_fields && !spec->fields[i].required) {
            i++;
        }
        TV_CHECK(e->string, i == spec->n_fields);
        n++;
    }
    assert_int_equal(n, teddy_event_catalogue_size());
    print_message("eventlines.json catalogue: %zu events\n", n);
    cJSON_Delete(root);
}

static void test_printf_and_validate(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(teddy_event_printf(buf, sizeof(buf), 12, "wifi.up", "{\"ip\":\"10.0.0.2\"}"),
                     ESP_OK);
    assert_string_equal(buf, "@teddy 12 wifi.up {\"ip\":\"10.0.0.2\"}");
    assert_int_equal(teddy_event_printf(buf, sizeof(buf), 1, "Bad", NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_event_printf(buf, sizeof(buf), 1, "a..b", NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_event_printf(buf, sizeof(buf), 1, "a", "[]"), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_event_printf(buf, 10, 1, "state", NULL), ESP_ERR_INVALID_SIZE);
    assert_int_equal(teddy_event_printf(buf, sizeof(buf), 0, "x", NULL), ESP_OK);
    assert_string_equal(buf, "@teddy 0 x {}");
    cJSON *d = cJSON_Parse("{\"from\":\"idle\",\"to\":\"listening\"}");
    assert_int_equal(teddy_event_validate("state", d), ESP_OK);
    assert_int_equal(teddy_event_validate("claim.ok", d), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_event_validate("nope", d), ESP_ERR_NOT_FOUND);
    cJSON_Delete(d);
    /* Types and closed values come from the device model (teddy_model.h). */
    static const struct {
        const char *name, *json;
        esp_err_t want;
    } checks[] = {
        {"state", "{\"from\":\"idle\",\"to\":\"dancing\"}", ESP_ERR_INVALID_ARG},
        {"ws.close", "{\"code\":1000,\"reason\":\"normal\",\"url\":\"ws://h/p\"}", ESP_OK},
        {"ws.close", "{\"code\":1000,\"reason\":\"normal\"}", ESP_ERR_INVALID_ARG}, /* no url */
        {"ws.close", "{\"code\":\"1000\",\"reason\":\"normal\",\"url\":\"\"}", ESP_ERR_INVALID_ARG},
        {"ws.close", "{\"code\":1000.5,\"reason\":\"normal\",\"url\":\"\"}", ESP_ERR_INVALID_ARG},
        {"token.refresh.fail",
         "{\"status\":401,\"code\":\"x\",\"next\":\"claim\",\"retry_in_ms\":0,\"message\":\"\","
         "\"field\":\"\"}",
         ESP_OK},
        {"token.refresh.fail",
         "{\"status\":401,\"code\":\"x\",\"next\":\"later\",\"retry_in_ms\":0,\"message\":\"\","
         "\"field\":\"\"}",
         ESP_ERR_INVALID_ARG}, /* next is retry or claim */
        {"config.ok", "{\"etag\":\"x\",\"cached\":1}", ESP_ERR_INVALID_ARG},
        {"cmd.error", "{\"cmd\":\"x\",\"reason\":\"bad_value\"}", ESP_OK},
        {"cmd.error", "{\"cmd\":\"x\",\"reason\":\"bad_value\",\"message\":7}", ESP_ERR_INVALID_ARG},
        {"cmd.ok", "{\"cmd\":\"status\",\"wifi\":\"yes\"}", ESP_ERR_INVALID_ARG},
        {"cmd.ok", "{\"cmd\":\"help\",\"commands\":[\"talk\"]}", ESP_OK},
        {"cmd.ok", "{\"cmd\":\"dance\"}", ESP_ERR_INVALID_ARG},
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        cJSON *data = NULL;
        assert_int_equal(teddy_json_parse(checks[i].json, strlen(checks[i].json), &data), ESP_OK);
        char why[128];
        TV_CHECK(checks[i].json, teddy_event_check(checks[i].name, data, why, sizeof(why)) ==
                                     checks[i].want);
        cJSON_Delete(data);
    }
    teddy_event_t ev;
    assert_int_equal(teddy_event_parse("@teddy 99999999999999999999999 a {}", &ev),
                     ESP_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eventline_vectors),
        cmocka_unit_test(test_catalogue_vector),
        cmocka_unit_test(test_printf_and_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
