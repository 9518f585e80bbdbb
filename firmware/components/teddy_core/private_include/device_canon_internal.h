/*
 * device_canon_internal.h - which struct member holds each canonical field (private to
 * device_canon.c and device_canon_read.c).
 */
#pragma once

#include <stdbool.h>

#include "teddy_device.h"

#define CANON_MAX_FIELDS 6

typedef enum {
    M_NONE = 0,
    /* teddy_input_t */
    I_TEXT, I_MESSAGE, I_ID, I_STATUS, I_CODE, I_HEADERS, I_DATA, I_LEN, I_EPOCH, I_TIMER,
    I_AT_MS, I_SLOT, I_OFFSET,
    /* teddy_effect_t */
    F_LINE, F_TIMER, F_AT_MS, F_NVS_NS, F_NVS_KEY, F_NVS_VALUE, F_REQ, F_METHOD, F_URL,
    F_HTTP_HEADERS, F_BODY, F_STREAM, F_CONN, F_WS_URL, F_WS_HEADERS, F_WS_TEXT, F_WS_CODE,
    F_WS_REASON, F_CAPTURE, F_SOURCE, F_VALUE, F_SESSION, F_NAME, F_PCM, F_CUT, F_VOLUME,
    F_SAMPLE_RATE, F_RECEIVED,
    F_SLOT, F_OFFSET, F_DATA, F_LENGTH, F_SECURE, F_REASON, F_RESET,
} canon_member_t;

/* One row per kind: the member of each model field, in the model's order. */
extern const canon_member_t CANON_IN_BIND[TEDDY_IN_COUNT][CANON_MAX_FIELDS];
extern const canon_member_t CANON_FX_BIND[TEDDY_FX_COUNT][CANON_MAX_FIELDS];

/** True when `row` names exactly the model's fields of `kind`. */
bool canon_bound(const canon_member_t *row, const teddy_io_kind_t *kind);
