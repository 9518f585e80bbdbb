/*
 * test_answer.c - what the device reads from a server's answer (teddy_answer.h, SPEC
 * §1.1, §8.1, §8.2): the shared vectors server_answers.json (the Python core reads the
 * same file, tests/protocol/test_protocol_server_answer.py), and hostile bodies: random
 * bytes and random JSON strings must always quote into one valid, bounded event line.
 */
#include <stdio.h>
#include <stdlib.h>

#include "teddy_answer.h"
#include "teddy_event.h"
#include "vectors.h"

static teddy_field_reason_t reason_of(const char *id, const char *name)
{
    for (int r = TEDDY_REASON_REQUIRED; r <= TEDDY_REASON_NOT_ISO8601; r++) {
        if (strcmp(teddy_field_reason_str((teddy_field_reason_t)r), name) == 0) {
            return (teddy_field_reason_t)r;
        }
    }
    fail_msg("case %s: unknown field reason %s", id, name);
    return TEDDY_REASON_NONE;
}

static void check_error_case(const cJSON *c, const char *id)
{
    size_t len = 0;
    uint8_t *body = tv_hex(tv_str(c, "body", id), &len);
    const cJSON *expect = tv_get(c, "expect", id);
    teddy_server_error_t got;
    teddy_server_error((int)tv_int(c, "status", id), (const char *)body, len, &got);
    TV_STR_EQ(id, got.code, tv_str(expect, "code", id));
    TV_STR_EQ(id, got.message, tv_str(expect, "message", id));
    free(body);
}

static void check_fields_case(const cJSON *c, const char *id)
{
    teddy_field_errors_t errs = {0};
    const cJSON *e;
    cJSON_ArrayForEach(e, tv_get(c, "errors", id))
    {
        teddy_field_error_t *item = &errs.items[errs.count++];
        snprintf(item->field, sizeof(item->field), "%s", tv_str(e, "field", id));
        item->reason = reason_of(id, tv_str(e, "reason", id));
    }
    const cJSON *expect = tv_get(c, "expect", id);
    teddy_bad_answer_t got;
    teddy_bad_fields(&errs, &got);
    TV_STR_EQ(id, got.field, tv_str(expect, "field", id));
    TV_STR_EQ(id, got.message, tv_str(expect, "message", id));
}

static void test_server_answer_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("server_answers.json");
    const cJSON *c;
    int errors = 0, fields = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        if (strcmp(tv_str(c, "kind", id), "error") == 0) {
            check_error_case(c, id);
            errors++;
        } else {
            check_fields_case(c, id);
            fields++;
        }
    }
    assert_true(errors > 20 && fields > 3);
    teddy_bad_answer_t none;
    teddy_bad_fields(NULL, &none); /* no error list at all: the body was not JSON */
    assert_string_equal(none.message, "(body): invalid_json");
    cJSON_Delete(root);
}

/* The quoted text must sit in an event line that parses back to itself (SPEC §8.1). */
static void assert_printable(const char *code, const char *message)
{
    assert_true(strlen(code) > 0 && strlen(code) <= TEDDY_SERVER_CODE_MAX_BYTES);
    assert_true(strlen(message) <= TEDDY_SERVER_TEXT_MAX_BYTES);
    const char *texts[] = {code, message};
    for (int t = 0; t < 2; t++) {
        const char *s = texts[t];
        size_t n = strlen(s);
        assert_true(teddy_utf8_valid(s, n));
        assert_true(n == 0 || (s[0] != ' ' && s[n - 1] != ' '));
        for (size_t i = 0; i < n; i++) {
            unsigned char b = (unsigned char)s[i];
            assert_true(b >= 0x20 && b != 0x7F);
        }
        assert_null(strstr(s, "\xe2\x80\xa8"));
        assert_null(strstr(s, "\xe2\x80\xa9"));
        assert_null(strstr(s, "\xc2\x85")); /* a C1 control (NEL) */
    }
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "code", code);
    cJSON_AddStringToObject(data, "message", message);
    char line[1024];
    assert_int_equal(teddy_event_format(line, sizeof(line), 1, "ws.refused", data), ESP_OK);
    assert_null(strchr(line, '\n'));
    teddy_event_t ev;
    assert_int_equal(teddy_event_parse(line, &ev), ESP_OK);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ev.data, "message")), message);
    teddy_event_free(&ev);
    cJSON_Delete(data);
}

static uint32_t next_random(uint32_t *x)
{
    *x ^= *x << 13; /* xorshift32: the same bodies on every run */
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_random_bytes_quote_into_a_line(void **state)
{
    (void)state;
    static const char pieces[][8] = {"{", "}", "\"", ":", ",", "\\", "\\u0000", "error", "code",
                                     "message", "detail", "\xc3\xbc", "\xf0\x9f\x90\xbb", "\n"};
    uint32_t x = 0x1234567u;
    char body[3000];
    for (int round = 0; round < 3000; round++) {
        size_t len = next_random(&x) % sizeof(body);
        for (size_t i = 0; i < len;) {
            if (next_random(&x) % 3 == 0) { /* grammar-ish pieces, else any byte */
                const char *p = pieces[next_random(&x) % (sizeof(pieces) / sizeof(pieces[0]))];
                size_t n = strlen(p);
                n = n < len - i ? n : len - i;
                memcpy(body + i, p, n);
                i += n;
            } else {
                body[i++] = (char)(next_random(&x) & 0xFF);
            }
        }
        teddy_server_error_t got;
        teddy_server_error(400 + (int)(next_random(&x) % 200), body, len, &got);
        assert_printable(got.code, got.message);
    }
}

static void test_random_spec_bodies_quote_into_a_line(void **state)
{
    (void)state;
    /* Valid UTF-8 pieces a hostile server can put in a SPEC §1.2 string. */
    static const char pieces[][8] = {"a",  " ",  "\t", "\n", "\x01", "\x7f", "\xc2\x85",
                                     "\xe2\x80\xa8", "\xc3\xbc", "\xf0\x9f\x90\xbb", "\"",
                                     "\\", "\xc2\xa0", "Z"};
    uint32_t x = 0xBEEF01u;
    for (int round = 0; round < 2000; round++) {
        char text[1200];
        size_t len = 0, want = next_random(&x) % 1000;
        while (len < want) {
            const char *p = pieces[next_random(&x) % (sizeof(pieces) / sizeof(pieces[0]))];
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        text[len] = '\0';
        cJSON *body = cJSON_CreateObject();
        cJSON *error = cJSON_AddObjectToObject(body, "error");
        cJSON_AddStringToObject(error, "code", round % 2 ? text : "x");
        cJSON_AddStringToObject(error, "message", text);
        char *printed = cJSON_PrintUnformatted(body);
        teddy_server_error_t got;
        teddy_server_error(403, printed, strlen(printed), &got);
        assert_printable(got.code, got.message);
        cJSON_free(printed);
        cJSON_Delete(body);
    }
}

static void test_quote_bounds(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(teddy_quote("abcdefghijklmnop", 16, out, 10), 10);
    assert_string_equal(out, "abcdefg...");
    assert_int_equal(teddy_quote(NULL, 0, out, 10), 0);
    assert_int_equal(teddy_quote("  \t\r\n ", 6, out, 10), 0);
    assert_false(teddy_utf8_valid("\xed\xa0\x80", 3)); /* an encoded surrogate */
    assert_true(teddy_utf8_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_answer_vectors),
        cmocka_unit_test(test_random_bytes_quote_into_a_line),
        cmocka_unit_test(test_random_spec_bodies_quote_into_a_line),
        cmocka_unit_test(test_quote_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
