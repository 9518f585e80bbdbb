/*
 * teddy_canon.h - the canonical JSON form of the core's inputs and effects.
 *
 * The device model (protocol/device_model.yaml `inputs:`, `effects:`; teddy_model.h
 * TEDDY_INPUT_KINDS / TEDDY_EFFECT_KINDS) gives every kind its fields in order and each
 * field type its JSON form: {"kind": "<kind>", <field>: <value>, ...} with bytes in
 * standard base64, request headers as [[name, value], ...], response headers as an
 * object, timers / slots / capture sources / reset reasons by name. Python writes and
 * reads the same form (protocol/device_codec.py), so trace vectors replay on both cores.
 *
 *   cJSON *j = teddy_canon_effect(fx);            // always every field, in model order
 *   teddy_canon_store_t store = {0};
 *   teddy_canon_read_input(obj, &in, &store, why, sizeof(why));  // defaults may be left out
 *   ... teddy_device_handle(dev, &in, now_ms) ...
 *   teddy_canon_store_free(&store);               // decoded bytes and header arrays
 *
 * Strings of a decoded input/effect point into `obj` (keep it alive meanwhile) or into
 * `store`.
 */
#pragma once

#include <stddef.h>

#include "cJSON.h"
#include "teddy_device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEDDY_CANON_MAX_BLOCKS 8
#define TEDDY_CANON_MAX_HEADERS 32

typedef struct {
    void *blocks[TEDDY_CANON_MAX_BLOCKS]; /* decoded bytes, freed by teddy_canon_store_free */
    size_t n_blocks;
    teddy_port_header_t headers[TEDDY_CANON_MAX_HEADERS];
    size_t n_headers;
} teddy_canon_store_t;

/** The canonical JSON object of an effect / input (NULL: out of memory, bad kind). */
cJSON *teddy_canon_effect(const teddy_effect_t *fx);
cJSON *teddy_canon_input(const teddy_input_t *in);

/**
 * Read a canonical JSON object. ESP_ERR_INVALID_ARG (with the problem in `why`, which
 * may be NULL) for an unknown kind or field, a missing field without default, a value
 * of the wrong type or outside its closed list; ESP_ERR_NO_MEM.
 */
esp_err_t teddy_canon_read_effect(const cJSON *obj, teddy_effect_t *out,
                                  teddy_canon_store_t *store, char *why, size_t why_size);
esp_err_t teddy_canon_read_input(const cJSON *obj, teddy_input_t *out,
                                 teddy_canon_store_t *store, char *why, size_t why_size);
void teddy_canon_store_free(teddy_canon_store_t *store);

#ifdef __cplusplus
}
#endif
