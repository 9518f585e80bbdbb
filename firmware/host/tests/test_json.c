/*
 * test_json.c - the strict JSON loader (SPEC §1.1: what Python's strict_loads
 * refuses, C refuses), base64 (SPEC §7.1), ISO 8601 timestamps (SPEC §6.4) and the
 * device's lenient config reading (SPEC §4.1, §4.3).
 */
#include <stdio.h>
#include <stdlib.h>

#include "teddy_b64.h"
#include "teddy_json.h"
#include "teddy_msg.h"
#include "vectors.h"

static esp_err_t parse(const char *text)
{
    cJSON *root = NULL;
    esp_err_t err = teddy_json_parse(text, strlen(text), &root);
    cJSON_Delete(root);
    return err;
}

static void test_strict_json(void **state)
{
    (void)state;
    static const char *const good[] = {
        "{}", " [1, -0, 0.5, 1e3, 1E-2, -1.5e+3] ", "\"\\u00e9\\n\"", "null", "true",
        "{\"a\":{\"b\":[{}]}}", "{\"a\":1,\"b\":{\"a\":2}}",
    };
    static const char *const bad[] = {
        "", " ", "{", "01", "+1", "1.", ".5", "-", "1e", "NaN", "Infinity", "-Infinity",
        "{\"a\":1,\"a\":2}", "[1,]", "{\"a\":1,}", "{'a':1}", "\"a\tb\"", "\"\\x\"",
        "\"\\u12\"", "{} x", "[1] [2]", "tru", "nul", "{\"a\" 1}", "\"abc",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (parse(good[i]) != ESP_OK) {
            fail_msg("refused good JSON %s", good[i]);
        }
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i]) != ESP_ERR_INVALID_ARG) {
            fail_msg("accepted bad JSON '%s'", bad[i]);
        }
    }
    /* Nesting is limited instead of recursing without bound. */
    char deep[2 * TEDDY_JSON_MAX_DEPTH + 3];
    memset(deep, '[', TEDDY_JSON_MAX_DEPTH + 1);
    memset(deep + TEDDY_JSON_MAX_DEPTH + 1, ']', TEDDY_JSON_MAX_DEPTH + 1);
    deep[2 * TEDDY_JSON_MAX_DEPTH + 2] = '\0';
    assert_int_equal(parse(deep), ESP_ERR_INVALID_ARG);
    deep[TEDDY_JSON_MAX_DEPTH] = ' ';
    deep[TEDDY_JSON_MAX_DEPTH + 1] = ' ';
    assert_int_equal(parse(deep), ESP_OK);
    /* Integer literals are marked: 7 is an integer, 7.0 and 7e0 are not. */
    cJSON *root = NULL;
    assert_int_equal(teddy_json_parse("[7,7.0,7e0,-3]", 14, &root), ESP_OK);
    assert_true(teddy_json_is_int(cJSON_GetArrayItem(root, 0)));
    assert_false(teddy_json_is_int(cJSON_GetArrayItem(root, 1)));
    assert_false(teddy_json_is_int(cJSON_GetArrayItem(root, 2)));
    assert_true(teddy_json_is_int(cJSON_GetArrayItem(root, 3)));
    cJSON_Delete(root);
    /* Not NUL-terminated input: only `len` bytes are read. */
    assert_int_equal(teddy_json_parse("{}garbage", 2, &root), ESP_OK);
    cJSON_Delete(root);
    assert_int_equal(teddy_utf8_len("\xc3\xbc\xf0\x9f\x90\xbb" "a"), 3);
}

static void test_b64(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *b64;
    } pairs[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
                 {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    char enc[32];
    uint8_t dec[32];
    size_t n;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        size_t rl = strlen(pairs[i].raw);
        assert_int_equal(teddy_b64_encode((const uint8_t *)pairs[i].raw, rl, enc, sizeof(enc), &n),
                         ESP_OK);
        assert_string_equal(enc, pairs[i].b64);
        assert_int_equal(n, teddy_b64_encoded_len(rl));
        assert_int_equal(teddy_b64_decode(pairs[i].b64, strlen(pairs[i].b64), dec, sizeof(dec), &n),
                         ESP_OK);
        assert_int_equal(n, rl);
        assert_memory_equal(dec, pairs[i].raw, rl);
    }
    static const char *const bad[] = {"Zg", "Zg=", "Zh==", "Zm9=", "Z===", "====", "Zm 9v",
                                      "Zm9v\n", "Zm-v", "Zm_v", "Zg==Zg==", "=Zm9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (teddy_b64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec), &n) != ESP_ERR_INVALID_ARG) {
            fail_msg("accepted bad base64 '%s'", bad[i]);
        }
    }
    assert_int_equal(teddy_b64_decode("Zm9vYmFy", 8, dec, 5, &n), ESP_ERR_INVALID_SIZE);
    assert_int_equal(teddy_b64_encode((const uint8_t *)"foo", 3, enc, 4, &n), ESP_ERR_INVALID_SIZE);
}

/* Python 3.11 datetime.fromisoformat() verdicts, checked with the project's venv. */
static void test_iso8601_via_server_messages(void **state)
{
    (void)state;
    static const struct {
        const char *ts;
        bool ok;
    } cases[] = {
        {"2025-01-01T00:00:00+00:00", true}, {"2025-01-01T00:00:00Z", true},
        {"2025-01-01T00:00:00.1234567", true}, {"2025-01-01 00:00", true},
        {"2025-01-01T00", true}, {"2025-01-01", true}, {"20250101T000000", true},
        {"2025-01-01T00:00:00+0000", true}, {"2025-01-01T00:00:00,5", true},
        {"2025-W01-1", true}, {"2025-01-01x00:00", true}, {"2024-02-29", true},
        {"2025-01-01T00:00:00-05:30", true}, {"2025-01-01T0000", true},
        {"2025-01-01T00:00:00.123+05", true}, {"2025-01-01T00:00:00+00:00:00.5", true},
        {"2025-01-01T24:00:00", false}, {"2025-01-01T00:00:00.", false}, {"2025-02-29", false},
        {"2025-01-01T00:00:00 ", false}, {"2025-01-01T00:00:00+05:30Z", false},
        {"2025-001", false}, {"yesterday", false}, {"2025-13-01", false}, {"", false},
        /* CPython 3.11 quirks the C port keeps on purpose */
        {"2025-01-01T00.5", true}, {"2025-01-01T00x+01:00", true},
        {"2025-01-01T00:00:00.123456abc+00:00", true}, {"2025-01-01T00:00+00:99", true},
        {"2025-01-01T00:00+24:00", false}, {"2025-01-01T00:00:00Z05", false},
        {"2026-W53", true}, {"2025-W53", false}, {"2025W011T00", true}, {"0000-01-01", false},
        {"2025-01-01\u00e900:00", true}, {"20250101\u00e900:00", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char frame[256];
        snprintf(frame, sizeof(frame),
                 "{\"type\":\"text_response\",\"text\":\"hi\",\"timestamp\":\"%s\"}", cases[i].ts);
        teddy_server_msg_t m;
        teddy_msg_error_t err;
        esp_err_t e = teddy_msg_parse_server(frame, strlen(frame), 8191, &m, &err);
        if ((e == ESP_OK) != cases[i].ok) {
            fail_msg("timestamp '%s': C says %s, Python says %s", cases[i].ts,
                     e == ESP_OK ? "valid" : "invalid", cases[i].ok ? "valid" : "invalid");
        }
        if (e == ESP_OK) {
            teddy_server_msg_free(&m);
        } else {
            assert_string_equal(err.field, "timestamp");
        }
    }
}

static void test_config(void **state)
{
    (void)state;
    teddy_config_t *cfg = malloc(sizeof(*cfg));
    const char *body = "{\"host\":\"192.168.1.10\",\"port\":8000,\"tls\":false,"
                       "\"ws_path\":\"/api/v1/esp32/private/chat\","
                       "\"firmware_endpoint\":\"/api/v1/esp32/firmware\","
                       "\"ntp\":[\"pool.ntp.org\",\"time.google.com\",7],"
                       "\"features\":{\"ota\":false,\"strict_tls\":true},"
                       "\"app_version\":\"1.3.0\",\"firmware_version\":\"1.2.0\","
                       "\"heartbeat_interval\":15}";
    assert_int_equal(teddy_config_parse(body, strlen(body), cfg), ESP_OK);
    assert_string_equal(cfg->host, "192.168.1.10");
    assert_int_equal(cfg->port, 8000);
    assert_int_equal(cfg->ntp_count, 2);
    assert_string_equal(cfg->ntp[1], "time.google.com");
    assert_false(cfg->ota_enabled);
    assert_true(cfg->strict_tls);
    assert_string_equal(cfg->firmware_version, "1.2.0");
    assert_int_equal(cfg->heartbeat_interval, 15);
    char path[64];
    assert_true(teddy_config_ws_path_matches(cfg, "ws://h:8000/api/v1/esp32/private/chat?x=1",
                                             path, sizeof(path)));
    assert_false(teddy_config_ws_path_matches(cfg, "wss://h/ws/esp32/connect", path, sizeof(path)));
    assert_string_equal(path, "/ws/esp32/connect");
    /* Lenient: wrong types keep defaults; config never stops a boot (SPEC §4.3). */
    const char *odd = "{\"heartbeat_interval\":1.5,\"features\":[],\"ws_path\":3}";
    assert_int_equal(teddy_config_parse(odd, strlen(odd), cfg), ESP_OK);
    assert_int_equal(cfg->heartbeat_interval, 30);
    assert_true(cfg->ota_enabled);
    assert_string_equal(cfg->ws_path, "/api/v1/esp32/private/chat");
    assert_int_equal(teddy_config_parse("[]", 2, cfg), ESP_ERR_INVALID_ARG);
    assert_int_equal(cfg->heartbeat_interval, 30);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strict_json),
        cmocka_unit_test(test_b64),
        cmocka_unit_test(test_iso8601_via_server_messages),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
