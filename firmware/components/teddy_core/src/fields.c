/*
 * fields.c - typed field reader (see private_include/teddy_fields.h) and the SPEC
 * §1.2 reason names. Mirrors protocol/_fields.py FieldReader one method at a time,
 * including its quirks: a required field that is JSON null is "must_be_string"
 * (present but wrong type), not "required"; bool is never an integer.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "teddy_fields.h"
#include "teddy_util.h"

static const char *const REASONS[] = {
    "", "required", "must_be_object", "must_be_string", "must_be_integer", "must_be_boolean",
    "too_short", "too_long", "invalid_characters", "not_hex", "odd_length", "wrong_length",
    "out_of_range", "unsupported_value", "not_semver", "not_url", "not_iso8601",
};

const char *teddy_field_reason_str(teddy_field_reason_t reason)
{
    if ((size_t)reason >= sizeof(REASONS) / sizeof(REASONS[0])) {
        return "";
    }
    return REASONS[reason];
}

/* dst = a + b + c, truncated to fit (field paths are short; see TEDDY_FIELD_NAME_MAX). */
static void join(char *dst, size_t size, const char *a, const char *b, const char *c)
{
    size_t n = 0;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        for (const char *p = parts[i]; *p && n + 1 < size; p++) {
            dst[n++] = *p;
        }
    }
    dst[n] = '\0';
}

void tf_init(tf_reader_t *r, const cJSON *obj, teddy_field_errors_t *errs)
{
    r->obj = obj;
    r->prefix[0] = '\0';
    r->errs = errs;
}

void tf_fail(tf_reader_t *r, const char *key, teddy_field_reason_t reason)
{
    teddy_field_errors_t *e = r->errs;
    if (e->count >= TEDDY_MAX_FIELD_ERRORS) {
        return;
    }
    teddy_field_error_t *item = &e->items[e->count++];
    join(item->field, sizeof(item->field), r->prefix, key, "");
    item->reason = reason;
}

bool tf_has_errors(const tf_reader_t *r)
{
    return r->errs->count > 0;
}

const cJSON *tf_get_raw(const tf_reader_t *r, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(r->obj, key);
}

/* Python _get: missing (or null when optional) -> NULL; required+missing fails. */
static const cJSON *get(tf_reader_t *r, const char *key, bool required)
{
    const cJSON *v = tf_get_raw(r, key);
    if (!v || (cJSON_IsNull(v) && !required)) {
        if (required) {
            tf_fail(r, key, TEDDY_REASON_REQUIRED);
        }
        return NULL;
    }
    return v;
}

static const char *check_str(tf_reader_t *r, const char *key, const cJSON *v, size_t min_len,
                             size_t max_len, tf_pattern_fn pattern)
{
    if (!cJSON_IsString(v) || !v->valuestring) {
        tf_fail(r, key, TEDDY_REASON_MUST_BE_STRING);
        return NULL;
    }
    size_t n = teddy_utf8_len(v->valuestring);
    teddy_field_reason_t reason = TEDDY_REASON_NONE;
    if (n < min_len) {
        reason = TEDDY_REASON_TOO_SHORT;
    } else if (max_len != TF_NO_MAX && n > max_len) {
        reason = TEDDY_REASON_TOO_LONG;
    } else if (pattern && !pattern(v->valuestring)) {
        reason = TEDDY_REASON_INVALID_CHARACTERS;
    }
    if (reason != TEDDY_REASON_NONE) {
        tf_fail(r, key, reason);
        return NULL;
    }
    return v->valuestring;
}

const char *tf_string(tf_reader_t *r, const char *key, size_t min_len, size_t max_len,
                      tf_pattern_fn pattern)
{
    const cJSON *v = get(r, key, true);
    return v ? check_str(r, key, v, min_len, max_len, pattern) : NULL;
}

const char *tf_optional_string(tf_reader_t *r, const char *key, size_t min_len, size_t max_len,
                               tf_pattern_fn pattern, bool *bad)
{
    const cJSON *v = get(r, key, false);
    if (!v) {
        return NULL;
    }
    const char *s = check_str(r, key, v, min_len, max_len, pattern);
    if (!s && bad) {
        *bad = true;
    }
    return s;
}

const char *tf_hex_string(tf_reader_t *r, const char *key, size_t min_len, size_t max_len,
                          bool exact)
{
    const cJSON *v = get(r, key, true);
    if (!v) {
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        tf_fail(r, key, TEDDY_REASON_MUST_BE_STRING);
        return NULL;
    }
    const char *s = v->valuestring;
    size_t n = 0;
    teddy_field_reason_t reason = TEDDY_REASON_NONE;
    for (; s[n]; n++) {
        if (!teddy_isxdigit((unsigned char)s[n])) {
            reason = TEDDY_REASON_NOT_HEX;
            break;
        }
    }
    if (reason == TEDDY_REASON_NONE) {
        if (exact && n != min_len) {
            reason = TEDDY_REASON_WRONG_LENGTH;
        } else if (n < min_len) {
            reason = TEDDY_REASON_TOO_SHORT;
        } else if (n > max_len) {
            reason = TEDDY_REASON_TOO_LONG;
        } else if (n % 2) {
            reason = TEDDY_REASON_ODD_LENGTH;
        }
    }
    if (reason != TEDDY_REASON_NONE) {
        tf_fail(r, key, reason);
        return NULL;
    }
    return s;
}

static int64_t to_i64(double d)
{
    if (d >= 9223372036854775807.0) {
        return INT64_MAX; /* Python ints are unbounded; saturate rather than overflow */
    }
    if (d <= -9223372036854775808.0) {
        return INT64_MIN;
    }
    return (int64_t)d;
}

static bool check_int(tf_reader_t *r, const char *key, const cJSON *v, bool has_min, double min,
                      bool has_max, double max, int64_t *out)
{
    if (!teddy_json_is_int(v)) {
        tf_fail(r, key, TEDDY_REASON_MUST_BE_INTEGER);
        return false;
    }
    double d = v->valuedouble;
    if ((has_min && d < min) || (has_max && d > max)) {
        tf_fail(r, key, TEDDY_REASON_OUT_OF_RANGE);
        return false;
    }
    *out = to_i64(d);
    return true;
}

bool tf_integer(tf_reader_t *r, const char *key, bool has_min, double min, bool has_max,
                double max, int64_t *out)
{
    const cJSON *v = get(r, key, true);
    *out = 0;
    return v ? check_int(r, key, v, has_min, min, has_max, max, out) : false;
}

bool tf_optional_integer(tf_reader_t *r, const char *key, bool has_min, double min, bool has_max,
                         double max, int64_t *out, bool *bad)
{
    const cJSON *v = get(r, key, false);
    *out = 0;
    if (!v) {
        return false;
    }
    bool ok = check_int(r, key, v, has_min, min, has_max, max, out);
    if (!ok && bad) {
        *bad = true;
    }
    return ok;
}

bool tf_boolean(tf_reader_t *r, const char *key, bool has_default, bool def, bool *out)
{
    const cJSON *v = get(r, key, !has_default);
    *out = def;
    if (!v) {
        return has_default;
    }
    if (!cJSON_IsBool(v)) {
        tf_fail(r, key, TEDDY_REASON_MUST_BE_BOOLEAN);
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

void tf_equals_str(tf_reader_t *r, const char *key, const char *expected)
{
    const cJSON *v = get(r, key, true);
    if (!v) {
        return;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        tf_fail(r, key, TEDDY_REASON_MUST_BE_STRING);
    } else if (strcmp(v->valuestring, expected) != 0) {
        tf_fail(r, key, TEDDY_REASON_UNSUPPORTED_VALUE);
    }
}

void tf_equals_int(tf_reader_t *r, const char *key, int64_t expected)
{
    const cJSON *v = get(r, key, true);
    if (!v) {
        return;
    }
    if (!teddy_json_is_int(v)) {
        tf_fail(r, key, TEDDY_REASON_MUST_BE_INTEGER);
    } else if (v->valuedouble != (double)expected) {
        tf_fail(r, key, TEDDY_REASON_UNSUPPORTED_VALUE);
    }
}

const char *tf_iso_timestamp(tf_reader_t *r, const char *key)
{
    const char *s = tf_string(r, key, 1, TF_NO_MAX, NULL);
    if (s && !teddy_iso8601_valid(s)) {
        tf_fail(r, key, TEDDY_REASON_NOT_ISO8601);
        return NULL;
    }
    return s;
}

bool tf_nested(tf_reader_t *r, const char *key, tf_reader_t *sub)
{
    const cJSON *v = get(r, key, true);
    if (!v) {
        return false;
    }
    if (!cJSON_IsObject(v)) {
        tf_fail(r, key, TEDDY_REASON_MUST_BE_OBJECT);
        return false;
    }
    sub->obj = v;
    sub->errs = r->errs;
    join(sub->prefix, sizeof(sub->prefix), r->prefix, key, ".");
    return true;
}

void tf_copy(tf_reader_t *r, const char *key, const char *value, char *dst, size_t dst_size)
{
    if (!value) {
        if (dst_size) {
            dst[0] = '\0';
        }
        return;
    }
    if (!teddy_strlcpy(dst, value, dst_size)) {
        tf_fail(r, key, TEDDY_REASON_TOO_LONG); /* only for buffers sized below the spec */
    }
}

void tf_lower(char *s)
{
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            *s = (char)(*s - 'A' + 'a');
        }
    }
}

esp_err_t tf_print(const cJSON *item, char *out, size_t out_size, size_t *out_len)
{
    char *text = cJSON_PrintUnformatted(item);
    if (!text) {
        return ESP_ERR_NO_MEM;
    }
    size_t n = strlen(text);
    esp_err_t err = ESP_OK;
    if (n + 1 > out_size) {
        err = ESP_ERR_INVALID_SIZE;
        if (out_size) {
            out[0] = '\0';
        }
    } else {
        memcpy(out, text, n + 1);
        if (out_len) {
            *out_len = n;
        }
    }
    cJSON_free(text);
    return err;
}

void tf_errors_clear(teddy_field_errors_t *errs)
{
    if (errs) {
        errs->count = 0;
    }
}

void tf_not_object(teddy_field_errors_t *errs)
{
    tf_reader_t r = {.obj = NULL, .prefix = "", .errs = errs};
    tf_fail(&r, "", TEDDY_REASON_MUST_BE_OBJECT);
}
