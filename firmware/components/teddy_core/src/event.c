/*
 * event.c - `@teddy <uptime_ms> <event> <json-object>` lines (SPEC §8), ported from
 * protocol/eventline.py: formatting (what the device prints), parsing (what tests
 * and tools read back) and checking a line against the device model's SPEC §8.2
 * catalogue (TEDDY_EVENTS: members, their types and closed values).
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

size_t teddy_event_catalogue_size(void)
{
    return TEDDY_EVENT_COUNT;
}

const char *teddy_event_catalogue_name(size_t i)
{
    return i < TEDDY_EVENT_COUNT ? TEDDY_EVENTS[i].name : NULL;
}

static bool has_type(const cJSON *v, teddy_event_type_t type)
{
    switch (type) {
    case TEDDY_EV_STR:
        return cJSON_IsString(v);
    case TEDDY_EV_INT:
        return teddy_json_is_int(v);
    case TEDDY_EV_BOOL:
        return cJSON_IsBool(v);
    case TEDDY_EV_STR_LIST: {
        if (!cJSON_IsArray(v)) {
            return false;
        }
        const cJSON *item;
        cJSON_ArrayForEach(item, v)
        {
            if (!cJSON_IsString(item)) {
                return false;
            }
        }
        return true;
    }
    default: /* TEDDY_EV_SETTING_VALUE */
        return cJSON_IsString(v) || teddy_json_is_int(v);
    }
}

static const char *const TYPE_WORDS[] = {"a string", "an integer", "a boolean",
                                         "an array of strings", "an integer or a string"};

/* ESP_OK, or ESP_ERR_INVALID_ARG with the problem with `fields` in why. */
static esp_err_t check_fields(const teddy_event_field_t *fields, size_t n, bool optional,
                              const cJSON *data, char *why, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        const teddy_event_field_t *f = &fields[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, f->name);
        if (v == NULL) {
            if (f->required && !optional) {
                snprintf(why, size, "lacks %s", f->name);
                return ESP_ERR_INVALID_ARG;
            }
            continue;
        }
        if (!has_type(v, f->type)) {
            snprintf(why, size, "%s must be %s", f->name, TYPE_WORDS[f->type]);
            return ESP_ERR_INVALID_ARG;
        }
        if (f->values != TEDDY_VOCAB_NONE && !teddy_vocab_has(f->values, v->valuestring)) {
            snprintf(why, size, "%s: %s is not an allowed value", f->name, v->valuestring);
            return ESP_ERR_INVALID_ARG;
        }
    }
    return ESP_OK;
}

esp_err_t teddy_event_check(const char *name, const cJSON *data, char *why, size_t why_size)
{
    char scratch[8];
    if (why == NULL || why_size == 0) {
        why = scratch;
        why_size = sizeof(scratch);
    }
    why[0] = '\0';
    const teddy_event_spec_t *spec = teddy_event_spec(name);
    if (spec == NULL) {
        snprintf(why, why_size, "unknown event %s", name != NULL ? name : "(null)");
        return ESP_ERR_NOT_FOUND;
    }
    esp_err_t err = check_fields(spec->fields, spec->n_fields, false, data, why, why_size);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(data, "cmd");
    if (err == ESP_OK && strcmp(name, "cmd.ok") == 0 && cJSON_IsString(cmd)) {
        for (int id = 0; id < TEDDY_CMD_COUNT; id++) {
            size_t n = 0;
            const teddy_event_field_t *reply = teddy_cmd_reply((teddy_cmd_id_t)id, &n);
            if (strcmp(TEDDY_CMDS[id].name, cmd->valuestring) == 0) {
                err = check_fields(reply, n, true, data, why, why_size);
            }
        }
    }
    return err;
}

esp_err_t teddy_event_validate(const char *name, const cJSON *data)
{
    return teddy_event_check(name, data, NULL, 0);
}
