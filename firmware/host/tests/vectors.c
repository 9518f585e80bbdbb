/*
 * vectors.c - helpers of vectors.h.
 */
#include "vectors.h"

#include "teddy_json.h"

#include <stdio.h>
#include <stdlib.h>

char *tv_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_msg("cannot open %s", path);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    assert_int_equal(got, (size_t)n);
    buf[n] = '\0';
    if (len) {
        *len = (size_t)n;
    }
    return buf;
}

cJSON *tv_load(const char *name)
{
    char path[1024];
    /* TEDDY_VECTORS_DIR in the environment wins: the mutation check points the
     * tests at an edited copy of the vectors to prove a changed value fails them. */
    const char *dir = getenv("TEDDY_VECTORS_DIR");
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : TEDDY_VECTORS_DIR, name);
    size_t len;
    char *text = tv_read_file(path, &len);
    /* Parsed with the core's strict parser: integer literals stay distinguishable
     * from floats (1 vs 1.0), exactly as the Python tests see them. */
    cJSON *root = NULL;
    esp_err_t err = teddy_json_parse(text, len, &root);
    free(text);
    if (err != ESP_OK) {
        fail_msg("%s is not strict JSON (%s)", path, esp_err_to_name(err));
    }
    return root;
}

const cJSON *tv_cases(const cJSON *root)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    if (!cJSON_IsArray(cases) || cJSON_GetArraySize(cases) == 0) {
        fail_msg("vector file without cases");
    }
    return cases;
}

const cJSON *tv_get(const cJSON *obj, const char *key, const char *id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        fail_msg("case %s: vector lacks '%s'", id, key);
    }
    return v;
}

const char *tv_str(const cJSON *obj, const char *key, const char *id)
{
    const cJSON *v = tv_get(obj, key, id);
    if (!cJSON_IsString(v)) {
        fail_msg("case %s: '%s' is not a string", id, key);
    }
    return v->valuestring;
}

const char *tv_opt_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t tv_int(const cJSON *obj, const char *key, const char *id)
{
    const cJSON *v = tv_get(obj, key, id);
    if (!cJSON_IsNumber(v)) {
        fail_msg("case %s: '%s' is not a number", id, key);
    }
    return (int64_t)v->valuedouble;
}

bool tv_bool(const cJSON *obj, const char *key, const char *id)
{
    const cJSON *v = tv_get(obj, key, id);
    if (!cJSON_IsBool(v)) {
        fail_msg("case %s: '%s' is not a boolean", id, key);
    }
    return cJSON_IsTrue(v);
}

const char *tv_id(const cJSON *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "id");
    return cJSON_IsString(v) ? v->valuestring : "(no id)";
}

uint8_t *tv_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    assert_int_equal(n % 2, 0);
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            fail_msg("bad hex in vector");
        }
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return out;
}

char *tv_print(const cJSON *item)
{
    char *s = cJSON_PrintUnformatted(item);
    assert_non_null(s);
    return s;
}

void tv_check_errors(const char *id, const cJSON *expected, const teddy_field_errors_t *got)
{
    if (!cJSON_IsArray(expected)) {
        fail_msg("case %s: 'errors' is not a list", id);
    }
    size_t want = (size_t)cJSON_GetArraySize(expected);
    bool used[TEDDY_MAX_FIELD_ERRORS] = {false};
    if (got->count != want) {
        for (size_t i = 0; i < got->count; i++) {
            print_error("  got %s: %s\n", got->items[i].field,
                        teddy_field_reason_str(got->items[i].reason));
        }
        fail_msg("case %s: %zu field errors, want %zu", id, got->count, want);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, expected)
    {
        const char *field = tv_str(e, "field", id);
        const char *reason = tv_str(e, "reason", id);
        bool found = false;
        for (size_t i = 0; i < got->count && !found; i++) {
            if (!used[i] && strcmp(got->items[i].field, field) == 0 &&
                strcmp(teddy_field_reason_str(got->items[i].reason), reason) == 0) {
                used[i] = found = true;
            }
        }
        if (!found) {
            fail_msg("case %s: missing field error %s: %s", id, field, reason);
        }
    }
}
