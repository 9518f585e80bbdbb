/*
 * test_claim.c - claim request (claim_requests.json, SPEC §2.3), claim 200 bodies
 * (claim_responses.json, SPEC §2.5) and the refresh bodies (SPEC §3.2).
 */
#include <stdlib.h>

#include "teddy_json.h"
#include "vectors.h"

static void check_request_fields(const char *id, const cJSON *want,
                                 const teddy_claim_request_parsed_t *got)
{
    TV_STR_EQ(id, got->device_id, tv_str(want, "device_id", id));
    TV_STR_EQ(id, got->child_id, tv_str(want, "child_id", id));
    TV_STR_EQ(id, got->nonce, tv_str(want, "nonce", id));
    TV_STR_EQ(id, got->hmac_hex, tv_str(want, "hmac_hex", id));
    const char *fw = tv_opt_str(want, "firmware_version");
    TV_CHECK(id, got->has_firmware_version == (fw != NULL));
    if (fw) {
        TV_STR_EQ(id, got->firmware_version, fw);
    }
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(want, "timestamp");
    TV_CHECK(id, got->has_timestamp == cJSON_IsNumber(ts));
    if (cJSON_IsNumber(ts)) {
        TV_INT_EQ(id, got->timestamp, (int64_t)ts->valuedouble);
    }
}

/* What the device sends, rebuilt from the normalised request, must be that request. */
static void check_request_build(const char *id, const teddy_claim_request_parsed_t *p,
                                const cJSON *want)
{
    teddy_claim_request_t req = {
        .device_id = p->device_id,
        .child_id = p->child_id,
        .nonce = p->nonce,
        .hmac_hex = p->hmac_hex,
        .firmware_version = p->has_firmware_version ? p->firmware_version : NULL,
        .has_timestamp = p->has_timestamp,
        .timestamp = p->timestamp,
    };
    char body[1024];
    size_t n = 0;
    TV_CHECK(id, teddy_claim_request_build(&req, body, sizeof(body), &n) == ESP_OK);
    TV_CHECK(id, n == strlen(body));
    cJSON *rebuilt = cJSON_Parse(body);
    cJSON *expected = cJSON_Duplicate(want, true);
    /* Python's normalised request lists optional fields as null when absent. */
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(expected, "firmware_version"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(expected, "firmware_version");
    }
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(expected, "timestamp"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(expected, "timestamp");
    }
    TV_CHECK(id, rebuilt && cJSON_Compare(rebuilt, expected, true));
    cJSON_Delete(rebuilt);
    cJSON_Delete(expected);
}

static void test_claim_request_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("claim_requests.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const cJSON *expect = tv_get(c, "expect", id);
        const cJSON *status = tv_get(expect, "status", id);
        teddy_claim_request_parsed_t got;
        teddy_field_errors_t errs;
        esp_err_t err = teddy_claim_request_parse(tv_get(c, "body", id), &got, &errs);
        if (cJSON_IsString(status)) {
            TV_STR_EQ(id, status->valuestring, "valid");
            TV_CHECK(id, err == ESP_OK);
            check_request_fields(id, tv_get(expect, "request", id), &got);
            check_request_build(id, &got, tv_get(expect, "request", id));
        } else if (tv_int(expect, "status", id) == 400) {
            /* malformed_json: the body is not an object */
            TV_STR_EQ(id, tv_str(expect, "code", id), "malformed_json");
            TV_CHECK(id, err == ESP_ERR_INVALID_ARG);
            TV_CHECK(id, errs.count == 1 && errs.items[0].field[0] == '\0' &&
                             errs.items[0].reason == TEDDY_REASON_MUST_BE_OBJECT);
        } else {
            TV_INT_EQ(id, tv_int(expect, "status", id), 422);
            TV_CHECK(id, err == ESP_ERR_INVALID_ARG);
            tv_check_errors(id, tv_get(expect, "errors", id), &errs);
        }
        n++;
    }
    print_message("claim_requests.json: %d cases\n", n);
    cJSON_Delete(root);
}

static void check_response_fields(const char *id, const cJSON *body,
                                  const teddy_claim_response_t *r)
{
    const cJSON *p = tv_get(body, "child_profile", id);
    const cJSON *d = tv_get(body, "device_config", id);
    const cJSON *a = tv_get(d, "audio", id);
    TV_STR_EQ(id, r->access_token, tv_str(body, "access_token", id));
    TV_STR_EQ(id, r->refresh_token, tv_str(body, "refresh_token", id));
    TV_INT_EQ(id, r->expires_in, tv_int(body, "expires_in", id));
    TV_INT_EQ(id, r->refresh_expires_in, tv_int(body, "refresh_expires_in", id));
    TV_STR_EQ(id, r->device_session_id, tv_str(body, "device_session_id", id));
    TV_STR_EQ(id, r->child_profile.id, tv_str(p, "id", id));
    TV_STR_EQ(id, r->child_profile.name, tv_str(p, "name", id));
    TV_INT_EQ(id, r->child_profile.age, tv_int(p, "age", id));
    TV_STR_EQ(id, r->child_profile.language, tv_str(p, "language", id));
    TV_STR_EQ(id, r->device_config.websocket_url, tv_str(d, "websocket_url", id));
    TV_INT_EQ(id, r->device_config.heartbeat_interval, tv_int(d, "heartbeat_interval", id));
    TV_INT_EQ(id, r->device_config.max_message_size, tv_int(d, "max_message_size", id));
    TV_INT_EQ(id, r->device_config.chunk_bytes, tv_int(a, "chunk_bytes", id));
}

static void test_claim_response_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("claim_responses.json");
    const cJSON *c;
    int n = 0;
    teddy_claim_response_t *r = malloc(sizeof(*r));
    assert_non_null(r);
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const cJSON *body = tv_get(c, "body", id);
        const cJSON *expect = tv_get(c, "expect", id);
        const char *status = tv_str(expect, "status", id);
        teddy_field_errors_t errs;
        esp_err_t err = teddy_claim_response_from_json(body, r, &errs);
        if (strcmp(status, "valid") == 0) {
            TV_CHECK(id, err == ESP_OK);
            check_response_fields(id, body, r);
            /* And through the text path the device really uses. */
            char *text = tv_print(body);
            TV_CHECK(id, teddy_claim_response_parse(text, strlen(text), r, &errs) == ESP_OK);
            check_response_fields(id, body, r);
            cJSON_free(text);
        } else {
            TV_STR_EQ(id, status, "invalid");
            TV_CHECK(id, err == ESP_ERR_INVALID_ARG);
            tv_check_errors(id, tv_get(expect, "errors", id), &errs);
        }
        n++;
    }
    print_message("claim_responses.json: %d cases\n", n);
    free(r);
    cJSON_Delete(root);
}

static void test_claim_response_text_errors(void **state)
{
    (void)state;
    teddy_claim_response_t *r = malloc(sizeof(*r));
    teddy_field_errors_t errs;
    assert_int_equal(teddy_claim_response_parse("{", 1, r, &errs), ESP_ERR_INVALID_ARG);
    assert_int_equal(errs.count, 0);
    assert_int_equal(teddy_claim_response_parse("[]", 2, r, &errs), ESP_ERR_INVALID_ARG);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].reason, TEDDY_REASON_MUST_BE_OBJECT);
    free(r);
}

static void test_refresh_bodies(void **state)
{
    (void)state;
    char body[128];
    size_t n;
    assert_int_equal(teddy_refresh_request_build("r.t", body, sizeof(body), &n), ESP_OK);
    assert_string_equal(body, "{\"refresh_token\":\"r.t\"}");
    assert_int_equal(teddy_refresh_request_build("", body, sizeof(body), &n), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_refresh_request_build("r.t", body, 10, &n), ESP_ERR_INVALID_SIZE);
    teddy_refresh_response_t *r = malloc(sizeof(*r));
    teddy_field_errors_t errs;
    const char *ok = "{\"access_token\":\"a\",\"refresh_token\":\"b\",\"token_type\":\"Bearer\","
                     "\"expires_in\":3600,\"refresh_expires_in\":604800}";
    assert_int_equal(teddy_refresh_response_parse(ok, strlen(ok), r, &errs), ESP_OK);
    assert_string_equal(r->access_token, "a");
    assert_string_equal(r->refresh_token, "b");
    assert_int_equal(r->refresh_expires_in, 604800);
    const char *bad = "{\"access_token\":\"\",\"refresh_token\":\"b\",\"token_type\":\"bearer\","
                      "\"expires_in\":1.0}";
    assert_int_equal(teddy_refresh_response_parse(bad, strlen(bad), r, &errs), ESP_ERR_INVALID_ARG);
    assert_int_equal(errs.count, 4); /* too_short, unsupported_value, must_be_integer, required */
    assert_string_equal(errs.items[0].field, "access_token");
    assert_int_equal(errs.items[0].reason, TEDDY_REASON_TOO_SHORT);
    assert_int_equal(errs.items[2].reason, TEDDY_REASON_MUST_BE_INTEGER);
    assert_int_equal(errs.items[3].reason, TEDDY_REASON_REQUIRED);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_request_vectors),
        cmocka_unit_test(test_claim_response_vectors),
        cmocka_unit_test(test_claim_response_text_errors),
        cmocka_unit_test(test_refresh_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
