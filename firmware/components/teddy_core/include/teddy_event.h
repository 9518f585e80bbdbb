/*
 * teddy_event.h - `@teddy <uptime_ms> <event> <json-object>` event lines (SPEC §8),
 * ported from protocol/eventline.py.
 *
 * Every target prints the same lines so one scenario can assert on all of them.
 * The JSON is compact, keys in insertion order, raw UTF-8, exactly what
 * cJSON_PrintUnformatted writes. Lines never contain "\n" (JSON escapes it).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "teddy_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEDDY_EVENT_PREFIX "@teddy "
#define TEDDY_EVENT_NAME_MAX 63

/** True when `name` matches [a-z][a-z0-9_]*(\.[a-z0-9_]+)*. */
bool teddy_event_name_valid(const char *name);

/**
 * Format an event line (without newline) into `buf`:
 * "@teddy <uptime_ms> <name> <json_object>". `json_object` must be a compact JSON
 * object text (NULL means "{}"); it is copied as is. ESP_ERR_INVALID_ARG for a bad
 * name or a json_object not starting with '{', ESP_ERR_INVALID_SIZE when it does
 * not fit (then `buf` holds a truncated, NUL-terminated prefix).
 */
esp_err_t teddy_event_printf(char *buf, size_t len, uint64_t uptime_ms, const char *name,
                             const char *json_object);
/** Same with the data as a cJSON object, printed compact (NULL means {}). */
esp_err_t teddy_event_format(char *buf, size_t len, uint64_t uptime_ms, const char *name,
                             const cJSON *data);

typedef struct {
    uint64_t uptime_ms;
    char name[TEDDY_EVENT_NAME_MAX + 1];
    cJSON *data; /* owned object; free with teddy_event_free */
} teddy_event_t;

/**
 * Parse one console line (a trailing "\r\n" is ignored). ESP_ERR_NOT_FOUND for free
 * text (not starting with "@teddy "), ESP_ERR_INVALID_ARG for a malformed event
 * line, ESP_OK with `out` filled otherwise.
 */
esp_err_t teddy_event_parse(const char *line, teddy_event_t *out);
void teddy_event_free(teddy_event_t *ev);

/**
 * SPEC §8 catalogue: the fields `name` must carry, NULL-terminated; NULL when the
 * event is unknown.
 */
const char *const *teddy_event_required_fields(const char *name);
/** Number of catalogue entries, and the i-th event name (for tests). */
size_t teddy_event_catalogue_size(void);
const char *teddy_event_catalogue_name(size_t i);
/** ESP_OK when the event is in the catalogue and `data` has every required field. */
esp_err_t teddy_event_validate(const char *name, const cJSON *data);

#ifdef __cplusplus
}
#endif
