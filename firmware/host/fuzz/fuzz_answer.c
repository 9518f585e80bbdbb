/*
 * fuzz_answer.c - libFuzzer harness for what the device reads from a server's answer
 * (teddy_answer.h, SPEC §8.4): whatever the body, the code and message it yields must
 * be valid UTF-8 without control characters, within their bounds, and print as one
 * event line that parses back to the same text (SPEC §8.1).
 */
#include <stdlib.h>
#include <string.h>

#include "teddy_answer.h"
#include "teddy_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s, size_t max_bytes, bool nonempty)
{
    size_t n = strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    if (n > max_bytes || (nonempty && n == 0) || !teddy_utf8_valid(s, n)) {
        abort();
    }
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' ')) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        bool c1 = u[i] == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F;
        bool separator = u[i] == 0xE2 && i + 2 < n && u[i + 1] == 0x80 &&
                         (u[i + 2] == 0xA8 || u[i + 2] == 0xA9);
        if (u[i] < 0x20 || u[i] == 0x7F || c1 || separator) {
            abort();
        }
    }
}

static void round_trip(const char *code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "message", message);
    char line[1024];
    teddy_event_t ev;
    if (teddy_event_format(line, sizeof(line), 7, "error", o) != ESP_OK ||
        teddy_event_parse(line, &ev) != ESP_OK ||
        strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(ev.data, "message")), message) != 0) {
        abort();
    }
    teddy_event_free(&ev);
    cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    teddy_server_error_t said;
    teddy_server_error(404, body, size, &said);
    check(said.code, TEDDY_SERVER_CODE_MAX_BYTES, true);
    check(said.message, TEDDY_SERVER_TEXT_MAX_BYTES, false);
    round_trip(said.code, said.message);
    char quoted[TEDDY_ANSWER_TEXT_SIZE];
    teddy_quote(body, size, quoted, TEDDY_SERVER_TEXT_MAX_BYTES);
    check(quoted, TEDDY_SERVER_TEXT_MAX_BYTES, false);
    cJSON *doc = NULL;
    if (teddy_body_parse(body, size, &doc) == ESP_OK && !teddy_utf8_valid(body, size)) {
        abort(); /* SPEC §1.1: only well-formed UTF-8 is JSON to a device */
    }
    cJSON_Delete(doc);
    return 0;
}
