/*
 * teddy_fields.h - typed field reader over a cJSON object (private), the C twin of
 * protocol/_fields.py FieldReader: every bad field is recorded with its SPEC §1.2
 * reason and dotted path, and reading goes on, so one pass lists every error.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cJSON.h"
#include "teddy_json.h"

typedef bool (*tf_pattern_fn)(const char *s);

typedef struct {
    const cJSON *obj;
    char prefix[TEDDY_FIELD_NAME_MAX];
    teddy_field_errors_t *errs;
} tf_reader_t;

/** Reader over `obj` (must be an object) recording into `errs` (cleared by caller). */
void tf_init(tf_reader_t *r, const cJSON *obj, teddy_field_errors_t *errs);
void tf_fail(tf_reader_t *r, const char *key, teddy_field_reason_t reason);
bool tf_has_errors(const tf_reader_t *r);

/** Bounds: NO_MAX for "no maximum". Lengths count code points (Python len). */
#define TF_NO_MAX ((size_t)-1)

/** Required string; NULL (and an error) when invalid. */
const char *tf_string(tf_reader_t *r, const char *key, size_t min_len, size_t max_len,
                      tf_pattern_fn pattern);
/** Optional string: absent or null gives NULL with no error; *bad set on error. */
const char *tf_optional_string(tf_reader_t *r, const char *key, size_t min_len, size_t max_len,
                               tf_pattern_fn pattern, bool *bad);
/** Required hex string (returned as is; callers lower-case). */
const char *tf_hex_string(tf_reader_t *r, const char *key, size_t min_len, size_t max_len,
                          bool exact);
/** Required integer in [min, max] (as doubles; use +-INFINITY-like bounds via has_*). */
bool tf_integer(tf_reader_t *r, const char *key, bool has_min, double min, bool has_max,
                double max, int64_t *out);
/** Optional integer: returns true when present and valid; *bad set on error. */
bool tf_optional_integer(tf_reader_t *r, const char *key, bool has_min, double min, bool has_max,
                         double max, int64_t *out, bool *bad);
/** Boolean: required unless has_default (then absent/null gives the default). */
bool tf_boolean(tf_reader_t *r, const char *key, bool has_default, bool def, bool *out);
/** Field must equal a string constant. */
void tf_equals_str(tf_reader_t *r, const char *key, const char *expected);
/** Field must equal an integer constant. */
void tf_equals_int(tf_reader_t *r, const char *key, int64_t expected);
/** ISO 8601 timestamp string (Python datetime.fromisoformat). */
const char *tf_iso_timestamp(tf_reader_t *r, const char *key);
/** Required nested object: sub-reader with prefix "key." on the same error list. */
bool tf_nested(tf_reader_t *r, const char *key, tf_reader_t *sub);
/** Raw member lookup (NULL when absent). */
const cJSON *tf_get_raw(const tf_reader_t *r, const char *key);

/** Copy a checked string into a fixed buffer; records too_long when it does not fit. */
void tf_copy(tf_reader_t *r, const char *key, const char *value, char *dst, size_t dst_size);
/** Lower-case ASCII in place. */
void tf_lower(char *s);

/**
 * Print `item` compact (cJSON_PrintUnformatted == protocol compact_dumps for the
 * values the device sends) into `out`. ESP_ERR_NO_MEM, ESP_ERR_INVALID_SIZE.
 */
esp_err_t tf_print(const cJSON *item, char *out, size_t out_size, size_t *out_len);
/** Clear an error list (count = 0). */
void tf_errors_clear(teddy_field_errors_t *errs);
/** Record the "not an object" error of protocol.errors.NotAnObjectError. */
void tf_not_object(teddy_field_errors_t *errs);
