/*
 * teddy_event.h - `@teddy <uptime_ms> <event> <json-object>` event lines (SPEC §8),
 * ported from protocol/eventline.py; the catalogue is the device model's (TEDDY_EVENTS).
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
#include "teddy_model.h"
#include "teddy_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TEDDY_EVENT_PREFIX ("@teddy ") is teddy_wire.h's (protocol/constants.py). */
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

/** Number of catalogue entries, and the i-th event name (teddy_model.h TEDDY_EVENTS). */
size_t teddy_event_catalogue_size(void);
const char *teddy_event_catalogue_name(size_t i);
/**
 * Check an event against the device model's SPEC §8.2 catalogue: ESP_ERR_NOT_FOUND for
 * an unknown name, ESP_ERR_INVALID_ARG when a required member is missing or a member
 * has the wrong type or a value outside its closed list (a `cmd.ok`'s SPEC §9.3 reply
 * members are type-checked when present), else ESP_OK. Further members are allowed.
 * `data` is an object as teddy_event_parse read it (integers carry the strict parser's
 * integer mark). `why` (may be NULL) gets the first problem in words.
 */
esp_err_t teddy_event_check(const char *name, const cJSON *data, char *why, size_t why_size);
/** teddy_event_check without the words. */
esp_err_t teddy_event_validate(const char *name, const cJSON *data);

#ifdef __cplusplus
}
#endif
