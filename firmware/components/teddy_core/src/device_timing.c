/*
 * device_timing.c - the timing knobs, from the device model's `timing:` table.
 *
 * TEDDY_TIMING_FIELDS (teddy_model.h, generated from protocol/device_model.yaml) holds
 * each field's fast default (tests finish in seconds) and the realistic one a board
 * uses (SPEC §2.6 claim backoff 1 s doubling to 30 s ±25 %, §6.2 reconnect 2 s doubling
 * to 60 s ±20 %); the Python core's DeviceTiming is generated from the same table.
 * teddy_timing_set lets the host CLI and the scenarios' `device.timing` override
 * single fields by their model names.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "teddy_device.h"

static void store(teddy_timing_t *t, const teddy_timing_field_t *f, double value)
{
    char *base = (char *)t + f->offset;
    if (f->kind == TEDDY_TIMING_RATIO) {
        *(double *)(void *)base = value;
    } else {
        *(uint32_t *)(void *)base = value > 4294967295.0 ? UINT32_MAX : (uint32_t)value;
    }
}

static void fill(teddy_timing_t *t, bool real)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < TEDDY_TIMING_FIELD_COUNT; i++) {
        const teddy_timing_field_t *f = &TEDDY_TIMING_FIELDS[i];
        if (!f->driver) {
            store(t, f, real ? f->real : f->fast);
        }
    }
}

void teddy_timing_fast(teddy_timing_t *t) { fill(t, false); }

void teddy_timing_real(teddy_timing_t *t) { fill(t, true); }

esp_err_t teddy_timing_set(teddy_timing_t *t, const char *name, double value)
{
    const teddy_timing_field_t *f = teddy_timing_field(name);
    if (f == NULL) {
        return ESP_ERR_NOT_FOUND;
    }
    if (value < 0) {
        return ESP_ERR_INVALID_ARG;
    }
    if (!f->driver) { /* a driver field (wifi_join_ms) is the port's option */
        store(t, f, value);
    }
    return ESP_OK;
}
