/*
 * event.c - `@teddy <uptime_ms> <event> <json-object>` lines (SPEC §8), ported from
 * protocol/eventline.py: formatting (what the device prints), parsing (what tests
 * and tools read back) and the SPEC §8 catalogue of required fields.
 *
 * A line that starts with "@teddy " but is malformed is an error, never free
 * text: a harness must not silently skip an event it was meant to see.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "teddy_event.h"
#include "teddy_json.h"
#include "teddy_util.h"

#define PREFIX_LEN (sizeof(TEDDY_EVENT_PREFIX) - 1)

typedef struct {
    const char *name;
    const char *fields[5]; /* NULL-terminated */
} catalogue_entry_t;

/* SPEC §8.2: event name -> fields it must carry (more are allowed). */
static const catalogue_entry_t CATALOGUE[] = {
    {"boot", {"fw_version", "slot", "reset_reason", "device_id", NULL}},
    {"wifi.up", {"ip", NULL}},
    {"wifi.down", {NULL}},
    {"config.ok", {"etag", "cached", NULL}},
    {"config.fail", {"status", "error", NULL}},
    {"time.synced", {"epoch", NULL}},
    {"claim.ok", {"device_session_id", "child_id", "age", NULL}},
    {"claim.fail", {"status", "code", "attempt", "retry_in_ms", NULL}},
    {"token.refreshed", {NULL}},
    {"ws.open", {"url", NULL}},
    {"ws.close", {"code", "reason", NULL}},
    {"audio.tx.start", {"audio_session_id", NULL}},
    {"audio.tx.end", {"audio_session_id", "bytes", "chunks", NULL}},
    {"audio.rx.start", {"audio_session_id", NULL}},
    {"audio.rx.end", {"audio_session_id", "bytes", "frames", "text", NULL}},
    {"text.rx", {"text", "transcript", NULL}},
    {"ota.available", {"version", "size", NULL}},
    {"ota.none", {"reason", NULL}},
    {"ota.progress", {"bytes", "total", NULL}},
    {"ota.verify.fail", {"reason", NULL}},
    {"ota.applied", {"version", "slot", NULL}},
    {"ota.rollback", {"from", "to", "reason", NULL}},
    {"state", {"from", "to", NULL}},
    {"error", {"code", "message", NULL}},
    {"cmd.ok", {"cmd", NULL}},
    {"cmd.error", {"cmd", "reason", NULL}},
};
#define N_EVENTS (sizeof(CATALOGUE) / sizeof(CATALOGUE[0]))

static bool lower_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || teddy_isdigit((unsigned char)c) || c == '_';
}

/* [a-z][a-z0-9_]*(\.[a-z0-9_]+)* over s[0..len) */
static bool name_valid_n(const char *s, size_t len)
{
    if (len == 0 || len > TEDDY_EVENT_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z')) {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        if (s[i] == '.') {
            if (i + 1 >= len || !lower_word_char(s[i + 1])) {
                return false; /* empty segment: "a..b" or "a." */
            }
        } else if (!lower_word_char(s[i])) {
            return false;
        }
    }
    return true;
}

bool teddy_event_name_valid(const char *name)
{
    return name && name_valid_n(name, strlen(name));
}

esp_err_t teddy_event_printf(char *buf, size_t len, uint64_t uptime_ms, const char *name,
                             const char *json_object)
{
    if (!buf || len == 0 || !teddy_event_name_valid(name)) {
        return ESP_ERR_INVALID_ARG;
    }
    json_object = json_object ? json_object : "{}";
    if (json_object[0] != '{' || strchr(json_object, '\n')) {
        return ESP_ERR_INVALID_ARG; /* one event per line (SPEC §8.1) */
    }
    int n = snprintf(buf, len, TEDDY_EVENT_PREFIX "%" PRIu64 " %s %s", uptime_ms, name,
                     json_object);
    if (n < 0) {
        return ESP_FAIL;
    }
    return (size_t)n < len ? ESP_OK : ESP_ERR_INVALID_SIZE;
}

/* JSON has no NaN/Infinity: Python's compact_dumps(allow_nan=False) refuses them, and
 * cJSON would silently print "null" - so a non-finite number is an error here too. */
static bool all_finite(const cJSON *item)
{
    for (; item; item = item->next) {
        if (cJSON_IsNumber(item) && !isfinite(item->valuedouble)) {
            return false;
        }
        if ((cJSON_IsObject(item) || cJSON_IsArray(item)) && !all_finite(item->child)) {
            return false;
        }
    }
    return true;
}

esp_err_t teddy_event_format(char *buf, size_t len, uint64_t uptime_ms, const char *name,
                             const cJSON *data)
{
    if (data && (!cJSON_IsObject(data) || !all_finite(data->child))) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!data) {
        return teddy_event_printf(buf, len, uptime_ms, name, "{}");
    }
    char *json = cJSON_PrintUnformatted(data);
    if (!json) {
        return ESP_ERR_NO_MEM;
    }
    esp_err_t err = teddy_event_printf(buf, len, uptime_ms, name, json);
    cJSON_free(json);
    return err;
}

esp_err_t teddy_event_parse(const char *line, teddy_event_t *out)
{
    if (!line || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n')) {
        len--; /* Python: line.rstrip("\r\n") */
    }
    if (len < PREFIX_LEN || memcmp(line, TEDDY_EVENT_PREFIX, PREFIX_LEN) != 0) {
        return ESP_ERR_NOT_FOUND; /* free text */
    }
    if (memchr(line, '\n', len)) {
        return ESP_ERR_INVALID_ARG; /* the regex's "." never matches a newline */
    }
    size_t i = PREFIX_LEN, start = i;
    uint64_t uptime = 0;
    while (i < len && teddy_isdigit((unsigned char)line[i])) {
        unsigned d = (unsigned)(line[i] - '0');
        if (uptime > (UINT64_MAX - d) / 10) {
            return ESP_ERR_INVALID_ARG;
        }
        uptime = uptime * 10 + d;
        i++;
    }
    if (i == start || i >= len || line[i] != ' ') {
        return ESP_ERR_INVALID_ARG;
    }
    start = ++i;
    while (i < len && line[i] != ' ') {
        i++;
    }
    if (i >= len || !name_valid_n(line + start, i - start)) {
        return ESP_ERR_INVALID_ARG;
    }
    size_t name_len = i - start;
    const char *json = line + i + 1;
    size_t json_len = len - i - 1;
    if (json_len < 2 || json[0] != '{' || json[json_len - 1] != '}') {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *data = NULL;
    esp_err_t err = teddy_json_parse(json, json_len, &data);
    if (err != ESP_OK) {
        return err == ESP_ERR_NO_MEM ? err : ESP_ERR_INVALID_ARG;
    }
    if (!cJSON_IsObject(data)) {
        cJSON_Delete(data);
        return ESP_ERR_INVALID_ARG;
    }
    out->uptime_ms = uptime;
    memcpy(out->name, line + start, name_len);
    out->name[name_len] = '\0';
    out->data = data;
    return ESP_OK;
}

void teddy_event_free(teddy_event_t *ev)
{
    if (ev) {
        cJSON_Delete(ev->data);
        ev->data = NULL;
    }
}

const char *const *teddy_event_required_fields(const char *name)
{
    for (size_t i = 0; name && i < N_EVENTS; i++) {
        if (strcmp(CATALOGUE[i].name, name) == 0) {
            return CATALOGUE[i].fields;
        }
    }
    return NULL;
}

size_t teddy_event_catalogue_size(void)
{
    return N_EVENTS;
}

const char *teddy_event_catalogue_name(size_t i)
{
    return i < N_EVENTS ? CATALOGUE[i].name : NULL;
}

esp_err_t teddy_event_validate(const char *name, const cJSON *data)
{
    const char *const *fields = teddy_event_required_fields(name);
    if (!fields) {
        return ESP_ERR_NOT_FOUND;
    }
    for (; *fields; fields++) {
        if (!cJSON_GetObjectItemCaseSensitive(data, *fields)) {
            return ESP_ERR_INVALID_ARG;
        }
    }
    return ESP_OK;
}
