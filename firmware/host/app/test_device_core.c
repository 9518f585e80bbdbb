/*
 * test_device_core.c - the device state machine without any I/O (cmocka).
 *
 * Drives teddy_device_t with hand-made inputs and checks the effects it asks for,
 * the way tests/emulator/test_core_device.py drives emulator/core: boot -> wifi ->
 * config (ETag) -> time -> claim (HMAC verifiable with the OOB seed, SPEC §2.2) ->
 * WebSocket with the Bearer header (SPEC §6.1) -> ws.open; the SPEC §2.6 retry
 * policy; the SPEC §6.1 refusal hold; bad frames; console replies. Every event line the
 * core prints is checked against the device model's catalogue (teddy_event_check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cJSON.h"
#include "teddy_crypto.h"
#include "teddy_device.h"
#include "teddy_event.h"

#define MAX_FX 256

typedef struct {
    teddy_effect_kind_t kind;
    char a[4096]; /* line / url / ns.key=value / text */
    char b[1024]; /* body / header */
    uint32_t id;
    int code;
} rec_t;

static rec_t s_fx[MAX_FX];
static int s_n;

/* An event line must match the SPEC §8.2 catalogue of the device model; free text
 * (ESP-IDF log lines) is left alone. */
static void check_event_line(const char *line)
{
    teddy_event_t ev;
    esp_err_t err = teddy_event_parse(line, &ev);
    if (err == ESP_ERR_NOT_FOUND) {
        return;
    }
    if (err != ESP_OK) {
        fail_msg("malformed event line: %s", line);
    }
    char why[160];
    if (teddy_event_check(ev.name, ev.data, why, sizeof(why)) != ESP_OK) {
        fail_msg("%s: %s", line, why);
    }
    teddy_event_free(&ev);
}

static void sink(const teddy_effect_t *fx, void *ctx)
{
    (void)ctx;
    assert_true(s_n < MAX_FX);
    rec_t *r = &s_fx[s_n++];
    memset(r, 0, sizeof(*r));
    r->kind = fx->kind;
    switch (fx->kind) {
    case TEDDY_FX_PRINT:
        snprintf(r->a, sizeof(r->a), "%s", fx->u.print.line);
        check_event_line(fx->u.print.line);
        break;
    case TEDDY_FX_NVS_SET:
        if (fx->u.nvs.type == TEDDY_NVS_STR) {
            snprintf(r->a, sizeof(r->a), "%s.%s=%s", fx->u.nvs.ns, fx->u.nvs.key, fx->u.nvs.str);
        } else {
            snprintf(r->a, sizeof(r->a), "%s.%s=%lld", fx->u.nvs.ns, fx->u.nvs.key,
                     (long long)fx->u.nvs.num);
        }
        break;
    case TEDDY_FX_HTTP_REQUEST:
        r->id = fx->u.http.req_id;
        snprintf(r->a, sizeof(r->a), "%s %s", fx->u.http.method, fx->u.http.url);
        snprintf(r->b, sizeof(r->b), "%s", fx->u.http.body != NULL ? fx->u.http.body : "");
        break;
    case TEDDY_FX_WS_CONNECT:
        r->id = fx->u.ws.conn_id;
        snprintf(r->a, sizeof(r->a), "%s", fx->u.ws.url);
        snprintf(r->b, sizeof(r->b), "%s: %s", fx->u.ws.headers[0].name,
                 fx->u.ws.headers[0].value);
        break;
    case TEDDY_FX_SET_TIMER:
        r->id = fx->u.timer.id;
        break;
    default:
        break;
    }
}

static void fake_random(void *buf, size_t len) { memset(buf, 0x5A, len); }

static teddy_device_t *boot(const char *oob)
{
    teddy_device_init_t init = {.sink = sink, .random_bytes = fake_random, .boot_count = 1};
    init.build = (teddy_build_t){.server_url = "http://srv:8000/", .device_id = "Teddy-ESP32-001",
                                 .chip = "esp32", .oob_secret = oob, .child_id = "child-001",
                                 .child_name = "Mia Rose", .has_child_age = true,
                                 .child_age = 7, .volume = 70};
    teddy_timing_fast(&init.timing);
    snprintf(init.boot.fw_version, sizeof(init.boot.fw_version), "1.0.0");
    snprintf(init.boot.reset_reason, sizeof(init.boot.reset_reason), "poweron");
    init.boot.slot_size = 0x180000;
    init.boot.panic_after_ms = -1;
    teddy_device_t *dev = NULL;
    assert_int_equal(teddy_device_create(&init, &dev), ESP_OK);
    s_n = 0;
    teddy_device_start(dev, 5);
    return dev;
}

/* Index of the first effect of `kind` at or after `from` whose text contains `needle`. */
static int find(int from, teddy_effect_kind_t kind, const char *needle)
{
    for (int i = from; i < s_n; i++) {
        if (s_fx[i].kind == kind && (needle == NULL || strstr(s_fx[i].a, needle) != NULL)) {
            return i;
        }
    }
    return -1;
}

static void feed(teddy_device_t *dev, teddy_input_t in, uint64_t now)
{
    teddy_device_handle(dev, &in, now);
}

static void respond(teddy_device_t *dev, uint32_t id, int status, const char *etag,
                    const char *body, uint64_t now)
{
    teddy_port_header_t h = {"etag", etag};
    teddy_input_t in = {.kind = TEDDY_IN_HTTP_RESPONSE, .id = id, .status = status,
                        .headers = etag != NULL ? &h : NULL, .n_headers = etag != NULL,
                        .data = (const uint8_t *)body, .len = strlen(body)};
    feed(dev, in, now);
}

static const char CLAIM_OK[] =
    "{\"access_token\":\"aaa.bbb.ccc\",\"refresh_token\":\"rrr.sss.ttt\",\"token_type\":\"Bearer\","
    "\"expires_in\":3600,\"refresh_expires_in\":604800,"
    "\"device_session_id\":\"0b7c5f0e-6a3a-4a55-9a36-2c6f0b8e2d11\","
    "\"child_profile\":{\"id\":\"child-001\",\"name\":\"Mia\",\"age\":7,\"language\":\"en\"},"
    "\"device_config\":{\"websocket_url\":\"ws://srv:8000/api/v1/esp32/private/chat\","
    "\"heartbeat_interval\":30,\"max_message_size\":16384,\"audio\":{\"format\":\"pcm_s16le\","
    "\"sample_rate\":16000,\"channels\":1,\"chunk_bytes\":4096}}}";

static const char ESTABLISHED[] =
    "{\"type\":\"system\",\"data\":{\"type\":\"connection_established\",\"session_id\":\"s-1\","
    "\"message\":\"Hello Mia!\",\"server_time\":\"2025-01-01T00:00:00+00:00\"},"
    "\"timestamp\":\"2025-01-01T00:00:00+00:00\"}";

/* Boot to the claim request; returns its effect index. */
static int to_claim(teddy_device_t *dev)
{
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_WIFI_UP, .text = "10.0.0.2"}, 10);
    int cfg = find(0, TEDDY_FX_HTTP_REQUEST, "GET http://srv:8000/api/v1/esp32/config");
    assert_true(cfg >= 0);
    respond(dev, s_fx[cfg].id, 200, "\"abc\"", "{\"ws_path\":\"/api/v1/esp32/private/chat\"}", 20);
    assert_true(find(cfg, TEDDY_FX_PRINT, "config.ok {\"etag\":\"\\\"abc\\\"\",\"cached\":false}") > 0);
    assert_true(find(cfg, TEDDY_FX_SYNC_TIME, NULL) > 0);
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_TIME_SYNCED, .epoch = 1700000000}, 30);
    int claim = find(cfg, TEDDY_FX_HTTP_REQUEST, "POST http://srv:8000/api/v1/pair/claim");
    assert_true(claim > 0);
    return claim;
}

static void test_boot_claim_connect(void **state)
{
    (void)state;
    teddy_device_t *dev = boot(NULL);
    assert_non_null(strstr(s_fx[0].a, "@teddy 5 boot {\"fw_version\":\"1.0.0\",\"slot\":\"ota_0\""));
    assert_true(find(0, TEDDY_FX_WIFI_CONNECT, NULL) > 0);
    int claim = to_claim(dev);
    /* SPEC §2.2: the HMAC in the body verifies with the seed OOB and the sent nonce. */
    cJSON *body = cJSON_Parse(s_fx[claim].b);
    assert_non_null(body);
    const char *nonce = cJSON_GetObjectItem(body, "nonce")->valuestring;
    char oob[TEDDY_OOB_HEX_LEN + 1], hmac[TEDDY_HMAC_HEX_LEN + 1];
    assert_int_equal(teddy_oob_derive("Teddy-ESP32-001", NULL, oob), ESP_OK);
    assert_int_equal(teddy_claim_hmac_hex(oob, "Teddy-ESP32-001", "child-001", nonce, hmac), ESP_OK);
    assert_string_equal(cJSON_GetObjectItem(body, "hmac_hex")->valuestring, hmac);
    assert_int_equal((int)cJSON_GetObjectItem(body, "timestamp")->valuedouble, 1700000000);
    cJSON_Delete(body);

    respond(dev, s_fx[claim].id, 200, NULL, CLAIM_OK, 40);
    /* SPEC §3.2: the refresh token is durable before the access token. */
    int rt = find(claim, TEDDY_FX_NVS_SET, "auth.refresh_token=rrr.sss.ttt");
    int at = find(claim, TEDDY_FX_NVS_SET, "auth.access_token=aaa.bbb.ccc");
    assert_true(rt > 0 && at > rt);
    int ws = find(claim, TEDDY_FX_WS_CONNECT, NULL);
    assert_true(ws > at);
    assert_string_equal(s_fx[ws].a, "ws://srv:8000/api/v1/esp32/private/chat?device_id=Teddy-ESP32-001"
                                    "&child_id=child-001&child_name=Mia%20Rose&child_age=7");
    assert_string_equal(s_fx[ws].b, "Authorization: Bearer aaa.bbb.ccc");

    feed(dev, (teddy_input_t){.kind = TEDDY_IN_WS_OPENED, .id = s_fx[ws].id}, 50);
    assert_int_equal(find(ws, TEDDY_FX_PRINT, "ws.open"), -1); /* not before established */
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_WS_TEXT, .id = s_fx[ws].id,
                              .data = (const uint8_t *)ESTABLISHED, .len = strlen(ESTABLISHED)},
         55);
    assert_true(find(ws, TEDDY_FX_PRINT, "ws.open {\"url\":\"ws://srv:8000/api/v1/esp32/private/chat\"}") > 0);
    assert_int_equal(teddy_device_state(dev), TEDDY_STATE_IDLE);
    assert_true(find(ws, TEDDY_FX_HTTP_REQUEST, "GET http://srv:8000/api/v1/esp32/firmware?device_id=") > 0);

    int before = s_n;
    const char bad[] = "{not json";
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_WS_TEXT, .id = s_fx[ws].id,
                              .data = (const uint8_t *)bad, .len = strlen(bad)},
         60);
    assert_true(find(before, TEDDY_FX_PRINT, "error {\"code\":\"invalid_json\"") > 0);
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_CONSOLE_LINE, .text = "status"}, 70);
    assert_true(find(before, TEDDY_FX_PRINT, "cmd.ok {\"cmd\":\"status\",\"state\":\"idle\"") > 0);
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_CONSOLE_LINE, .text = "set child_age x"}, 71);
    assert_true(find(before, TEDDY_FX_PRINT, "cmd.error {\"cmd\":\"set\",\"reason\":\"bad_value\"") > 0);
    teddy_device_destroy(dev);
}

static void test_claim_retry_policy(void **state)
{
    (void)state;
    teddy_device_t *dev = boot("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    int claim = to_claim(dev);
    respond(dev, s_fx[claim].id, 503, NULL, "{\"error\":{\"code\":\"internal_error\"}}", 40);
    int fail = find(claim, TEDDY_FX_PRINT, "claim.fail {\"status\":503,\"code\":\"internal_error\",\"attempt\":1");
    assert_true(fail > 0);
    assert_true(find(fail, TEDDY_FX_SET_TIMER, NULL) > 0); /* backs off, then claims again */
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_TIMER_FIRED, .timer = TEDDY_TIMER_CLAIM_RETRY,
                              .at_ms = 1000000},
         1000);
    assert_int_equal(find(fail, TEDDY_FX_HTTP_REQUEST, "POST"), -1); /* stale firing ignored */
    respond(dev, 9999, 200, NULL, CLAIM_OK, 41);                       /* unknown request id */
    assert_int_equal(find(fail, TEDDY_FX_PRINT, "claim.ok"), -1);
    teddy_device_destroy(dev);

    dev = boot(NULL);
    claim = to_claim(dev);
    respond(dev, s_fx[claim].id, 401, NULL, "{\"error\":{\"code\":\"invalid_signature\"}}", 40);
    assert_true(find(claim, TEDDY_FX_PRINT, "\"code\":\"invalid_signature\",\"attempt\":1,\"retry_in_ms\":0") > 0);
    assert_int_equal(teddy_device_state(dev), TEDDY_STATE_OFFLINE);
    teddy_device_destroy(dev);
}

static void test_age_refusal_holds_until_a_setting_changes(void **state)
{
    (void)state;
    teddy_device_t *dev = boot(NULL);
    int claim = to_claim(dev);
    respond(dev, s_fx[claim].id, 200, NULL, CLAIM_OK, 40);
    int ws = find(claim, TEDDY_FX_WS_CONNECT, NULL);
    const char body[] = "{\"error\":{\"code\":\"age_out_of_range\",\"message\":\"3..13\"}}";
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_WS_REFUSED, .id = s_fx[ws].id, .status = 403,
                              .data = (const uint8_t *)body, .len = strlen(body)},
         50);
    assert_true(find(ws, TEDDY_FX_PRINT,
                     "ws.refused {\"url\":\"ws://srv:8000/api/v1/esp32/private/chat\",\"status\":403,"
                     "\"reason\":\"age_out_of_range\",\"message\":\"3..13\"}") > 0);
    assert_int_equal(find(ws + 1, TEDDY_FX_WS_CONNECT, NULL), -1); /* held: no retry */
    assert_int_equal(find(ws + 1, TEDDY_FX_HTTP_REQUEST, "POST"), -1);
    feed(dev, (teddy_input_t){.kind = TEDDY_IN_CONSOLE_LINE, .text = "set child_age 13"}, 60);
    int again = find(ws + 1, TEDDY_FX_WS_CONNECT, NULL);
    assert_true(again > 0);
    assert_non_null(strstr(s_fx[again].a, "child_age=13"));
    teddy_device_destroy(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_claim_connect),
        cmocka_unit_test(test_claim_retry_policy),
        cmocka_unit_test(test_age_refusal_holds_until_a_setting_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
