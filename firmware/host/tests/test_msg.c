/*
 * test_msg.c - WebSocket messages: messages_valid.json / messages_invalid.json
 * (SPEC §6.3, §6.4) in both directions, and device frame encoding.
 */
#include <stdio.h>
#include <stdlib.h>

#include "teddy_msg.h"
#include "vectors.h"

#define SERVER_LIMIT (TEDDY_DOWNLINK_MAX_FRAME_BYTES - 1)
#define DEVICE_LIMIT TEDDY_UPLINK_MAX_FRAME_BYTES

static void check_pcm(const char *id, const cJSON *want_hex, const uint8_t *pcm, size_t len)
{
    size_t n;
    uint8_t *want = tv_hex(want_hex->valuestring, &n);
    TV_INT_EQ(id, len, n);
    TV_CHECK(id, n == 0 || memcmp(pcm, want, n) == 0);
    free(want);
}

static void check_opt_str(const char *id, const char *key, const cJSON *want, const char *got)
{
    if (cJSON_IsNull(want)) {
        if (got) {
            fail_msg("case %s: %s = '%s', want null", id, key, got);
        }
    } else {
        TV_STR_EQ(id, got, want->valuestring);
    }
}

/* Object minus its "type" member, for SystemMessage.data / Heartbeat.fields. */
static cJSON *without_type(const cJSON *obj)
{
    cJSON *copy = cJSON_Duplicate(obj, true);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "type");
    return copy;
}

static void check_device_fields(const char *id, const cJSON *fields, const teddy_device_msg_t *m)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, fields)
    {
        const char *k = f->string;
        if (strcmp(k, "audio_session_id") == 0) {
            check_opt_str(id, k, f, m->audio_session_id);
        } else if (strcmp(k, "pcm_hex") == 0) {
            check_pcm(id, f, m->pcm, m->pcm_len);
        } else if (strcmp(k, "chunk_id") == 0) {
            if (cJSON_IsNumber(f)) {
                TV_CHECK(id, m->chunk_id_is_int && m->chunk_id_int == (int64_t)f->valuedouble);
            } else {
                TV_CHECK(id, !m->chunk_id_is_int);
                TV_STR_EQ(id, m->chunk_id_str, f->valuestring);
            }
        } else if (strcmp(k, "is_final") == 0) {
            TV_CHECK(id, m->is_final == cJSON_IsTrue(f));
        } else if (strcmp(k, "text") == 0) {
            TV_STR_EQ(id, m->text, f->valuestring);
        } else if (strcmp(k, "fields") == 0) {
            cJSON *got = without_type(m->root);
            TV_CHECK(id, cJSON_Compare(got, f, true));
            cJSON_Delete(got);
        } else {
            fail_msg("case %s: the C test does not know field '%s'", id, k);
        }
    }
}

static void check_server_fields(const char *id, const cJSON *fields, const teddy_server_msg_t *m)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, fields)
    {
        const char *k = f->string;
        if (strcmp(k, "data_type") == 0) {
            TV_STR_EQ(id, m->data_type, f->valuestring);
        } else if (strcmp(k, "data") == 0) {
            cJSON *got = without_type(m->data);
            TV_CHECK(id, cJSON_Compare(got, f, true));
            cJSON_Delete(got);
        } else if (strcmp(k, "text") == 0) {
            check_opt_str(id, k, f, m->text);
        } else if (strcmp(k, "transcript") == 0) {
            check_opt_str(id, k, f, m->transcript);
        } else if (strcmp(k, "audio_session_id") == 0) {
            check_opt_str(id, k, f, m->audio_session_id);
        } else if (strcmp(k, "seq") == 0) {
            TV_INT_EQ(id, m->seq, (int64_t)f->valuedouble);
        } else if (strcmp(k, "is_final") == 0) {
            TV_CHECK(id, m->is_final == cJSON_IsTrue(f));
        } else if (strcmp(k, "pcm_hex") == 0) {
            check_pcm(id, f, m->pcm, m->pcm_len);
        } else if (strcmp(k, "error_code") == 0) {
            TV_STR_EQ(id, m->error_code, f->valuestring);
        } else {
            fail_msg("case %s: the C test does not know field '%s'", id, k);
        }
    }
}

/* Python's encode_message(parse(text)) == text for these; C builders must agree. */
static void check_device_reencode(const char *id, const char *text, const teddy_device_msg_t *m)
{
    char out[8192];
    esp_err_t err = ESP_ERR_NOT_SUPPORTED;
    switch (m->type) {
    case TEDDY_DMSG_AUDIO_START:
        err = teddy_msg_build_audio_start(m->audio_session_id, out, sizeof(out), NULL);
        break;
    case TEDDY_DMSG_AUDIO_CHUNK:
        if (m->chunk_id_is_int || !cJSON_IsBool(cJSON_GetObjectItem(m->root, "is_final")) ||
            cJSON_GetArraySize(m->root) != 4 + (m->audio_session_id != NULL)) {
            return; /* not a shape the device sends (Python does not round-trip it either) */
        }
        err = teddy_msg_build_audio_chunk(m->pcm, m->pcm_len, m->chunk_id_str, m->audio_session_id,
                                          m->is_final, out, sizeof(out), NULL);
        break;
    case TEDDY_DMSG_AUDIO_END:
        err = teddy_msg_build_audio_end(m->audio_session_id, out, sizeof(out), NULL);
        break;
    case TEDDY_DMSG_TEXT_MESSAGE:
        err = teddy_msg_build_text_message(m->text, out, sizeof(out), NULL);
        break;
    case TEDDY_DMSG_HEARTBEAT:
        if (cJSON_GetArraySize(m->root) != 1) {
            return; /* the device's own heartbeat fields are tested below */
        }
        err = teddy_msg_build_heartbeat(NULL, -1, NULL, out, sizeof(out), NULL);
        break;
    }
    TV_CHECK(id, err == ESP_OK);
    TV_STR_EQ(id, out, text);
}

static void check_server_reencode(const char *id, const char *text, const teddy_server_msg_t *m)
{
    if (m->type != TEDDY_SMSG_AUDIO_RESPONSE) {
        return;
    }
    char out[8192];
    TV_CHECK(id, teddy_msg_build_audio_response(m->audio_session_id, m->seq, m->pcm, m->pcm_len,
                                                m->is_final, m->text, m->timestamp, out,
                                                sizeof(out), NULL) == ESP_OK);
    TV_STR_EQ(id, out, text);
}

static void test_messages_valid(void **state)
{
    (void)state;
    cJSON *root = tv_load("messages_valid.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const char *text = tv_str(c, "text", id);
        const char *dir = tv_str(c, "direction", id);
        const char *type = tv_str(c, "type", id);
        teddy_msg_error_t err;
        if (strcmp(dir, "device") == 0) {
            static const char *const names[] = {"", "audio_start", "audio_chunk", "audio_end",
                                                "heartbeat", "text_message"};
            teddy_device_msg_t m;
            esp_err_t e = teddy_msg_parse_device(text, strlen(text), DEVICE_LIMIT, &m, &err);
            if (e != ESP_OK) {
                fail_msg("case %s: refused with %s (%s)", id, teddy_ws_error_str(err.code),
                         err.message);
            }
            TV_STR_EQ(id, names[m.type], type);
            check_device_fields(id, tv_get(c, "fields", id), &m);
            check_device_reencode(id, text, &m);
            teddy_device_msg_free(&m);
        } else {
            static const char *const names[] = {"", "system", "text_response", "audio_response",
                                                "error"};
            TV_STR_EQ(id, dir, "server");
            teddy_server_msg_t m;
            esp_err_t e = teddy_msg_parse_server(text, strlen(text), SERVER_LIMIT, &m, &err);
            if (e != ESP_OK) {
                fail_msg("case %s: refused with %s (%s)", id, teddy_ws_error_str(err.code),
                         err.message);
            }
            TV_STR_EQ(id, names[m.type], type);
            TV_CHECK(id, m.timestamp != NULL);
            check_server_fields(id, tv_get(c, "fields", id), &m);
            check_server_reencode(id, text, &m);
            teddy_server_msg_free(&m);
        }
        n++;
    }
    print_message("messages_valid.json: %d cases\n", n);
    cJSON_Delete(root);
}

static void test_messages_invalid(void **state)
{
    (void)state;
    cJSON *root = tv_load("messages_invalid.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const char *text = tv_str(c, "text", id);
        const char *dir = tv_str(c, "direction", id);
        const cJSON *max = cJSON_GetObjectItemCaseSensitive(c, "max_bytes");
        bool device = strcmp(dir, "device") == 0;
        size_t limit = cJSON_IsNumber(max) ? (size_t)max->valuedouble
                       : device           ? DEVICE_LIMIT
                                          : SERVER_LIMIT;
        teddy_msg_error_t err;
        esp_err_t e;
        if (device) {
            teddy_device_msg_t m;
            e = teddy_msg_parse_device(text, strlen(text), limit, &m, &err);
            if (e == ESP_OK) {
                teddy_device_msg_free(&m);
            }
        } else {
            TV_STR_EQ(id, dir, "server");
            teddy_server_msg_t m;
            e = teddy_msg_parse_server(text, strlen(text), limit, &m, &err);
            if (e == ESP_OK) {
                teddy_server_msg_free(&m);
            }
        }
        TV_CHECK(id, e == ESP_ERR_INVALID_ARG);
        TV_STR_EQ(id, teddy_ws_error_str(err.code), tv_str(c, "error_code", id));
        const char *field = tv_opt_str(c, "field");
        TV_STR_EQ(id, err.field, field ? field : "");
        n++;
    }
    print_message("messages_invalid.json: %d cases\n", n);
    cJSON_Delete(root);
}

static void test_device_builders(void **state)
{
    (void)state;
    char out[512];
    size_t n;
    assert_int_equal(teddy_msg_build_heartbeat("teddy-esp32-1", 1500, "alive", out, sizeof(out), &n),
                     ESP_OK);
    assert_string_equal(out, "{\"type\":\"heartbeat\",\"device_id\":\"teddy-esp32-1\","
                             "\"uptime_ms\":1500,\"status\":\"alive\"}");
    assert_int_equal(n, strlen(out));
    assert_int_equal(teddy_msg_build_heartbeat("d", 5000000000LL, NULL, out, sizeof(out), NULL),
                     ESP_OK);
    assert_string_equal(out, "{\"type\":\"heartbeat\",\"device_id\":\"d\",\"uptime_ms\":5000000000}");
    assert_int_equal(teddy_msg_build_text_message(" \n", out, sizeof(out), NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_msg_build_text_message("a\"\\\n\x01", out, sizeof(out), NULL), ESP_OK);
    assert_string_equal(out, "{\"type\":\"text_message\",\"text\":\"a\\\"\\\\\\n\\u0001\"}");
    assert_int_equal(teddy_msg_build_audio_end("bad id", out, sizeof(out), NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_msg_build_audio_start(NULL, out, 10, NULL), ESP_ERR_INVALID_SIZE);
    uint8_t pcm[4096];
    for (size_t i = 0; i < sizeof(pcm); i++) {
        pcm[i] = (uint8_t)i;
    }
    assert_int_equal(teddy_msg_build_audio_chunk(pcm, 3, "1", NULL, false, out, sizeof(out), NULL),
                     ESP_ERR_INVALID_ARG);
    size_t cap = teddy_msg_audio_chunk_size(sizeof(pcm));
    char *big = malloc(cap);
    assert_int_equal(teddy_msg_build_audio_chunk(pcm, sizeof(pcm), "12", "utt-9", true, big, cap, &n),
                     ESP_OK);
    assert_true(n <= TEDDY_UPLINK_MAX_FRAME_BYTES);
    teddy_device_msg_t m;
    teddy_msg_error_t err;
    assert_int_equal(teddy_msg_parse_device(big, n, DEVICE_LIMIT, &m, &err), ESP_OK);
    assert_int_equal(m.pcm_len, sizeof(pcm));
    assert_memory_equal(m.pcm, pcm, sizeof(pcm));
    assert_string_equal(m.chunk_id_str, "12");
    assert_string_equal(m.audio_session_id, "utt-9");
    assert_true(m.is_final);
    teddy_device_msg_free(&m);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_valid),
        cmocka_unit_test(test_messages_invalid),
        cmocka_unit_test(test_device_builders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
