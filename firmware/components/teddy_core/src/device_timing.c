/*
 * device_timing.c - the timing knobs (emulator/core/timing.py DeviceTiming).
 *
 * The fast defaults make tests finish in seconds; teddy_timing_real gives what SPEC
 * §2.6 and §6.2 prescribe for a board (claim backoff 1 s doubling to 30 s ±25 %,
 * reconnect 2 s doubling to 60 s ±20 %). teddy_timing_set lets the host CLI and the
 * scenarios' `device.timing` override single fields by their Python names.
 */
#include <stddef.h>
#include <string.h>

#include "teddy_device.h"

void teddy_timing_fast(teddy_timing_t *t)
{
    memset(t, 0, sizeof(*t));
    t->claim_backoff_base_ms = 100;
    t->claim_backoff_max_ms = 30000;
    t->claim_jitter = 0.25;
    t->reconnect_base_ms = 100;
    t->reconnect_max_ms = 60000;
    t->reconnect_jitter = 0.2;
    t->reconnect_reset_ms = 60000;
    t->session_replaced_holdoff_ms = 60000;
    t->heartbeat_interval_ms = 0;
    t->self_test_limit_ms = 5000;
    t->ota_check_interval_ms = 6u * 3600u * 1000u;
    t->ota_retry_ms = 100;
    t->ota_max_attempts = 5;
    t->config_max_age_ms = 600000;
    t->token_refresh_margin_ms = 60000;
    t->http_timeout_ms = 10000;
}

void teddy_timing_real(teddy_timing_t *t)
{
    teddy_timing_fast(t);
    t->claim_backoff_base_ms = 1000;
    t->reconnect_base_ms = 2000;
    t->self_test_limit_ms = 60000;
    t->ota_retry_ms = 2000;
    t->http_timeout_ms = 15000;
}

typedef struct {
    const char *name;
    size_t offset;
    bool is_double;
} field_t;

#define U32(f) {#f, offsetof(teddy_timing_t, f), false}
#define DBL(f) {#f, offsetof(teddy_timing_t, f), true}

static const field_t FIELDS[] = {
    U32(claim_backoff_base_ms), U32(claim_backoff_max_ms), DBL(claim_jitter),
    U32(reconnect_base_ms),     U32(reconnect_max_ms),     DBL(reconnect_jitter),
    U32(reconnect_reset_ms),    U32(session_replaced_holdoff_ms),
    U32(heartbeat_interval_ms), U32(self_test_limit_ms),   U32(ota_check_interval_ms),
    U32(ota_retry_ms),          U32(ota_max_attempts),     U32(config_max_age_ms),
    U32(token_refresh_margin_ms), U32(http_timeout_ms),
};

esp_err_t teddy_timing_set(teddy_timing_t *t, const char *name, double value)
{
    if (strcmp(name, "wifi_join_ms") == 0) {
        return ESP_OK; /* a driver setting on the host (teddy_port_linux options) */
    }
    for (size_t i = 0; i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++) {
        if (strcmp(FIELDS[i].name, name) != 0) {
            continue;
        }
        if (value < 0) {
            return ESP_ERR_INVALID_ARG;
        }
        char *base = (char *)t + FIELDS[i].offset;
        if (FIELDS[i].is_double) {
            *(double *)(void *)base = value;
        } else {
            *(uint32_t *)(void *)base = value > 4294967295.0 ? UINT32_MAX : (uint32_t)value;
        }
        return ESP_OK;
    }
    return ESP_ERR_NOT_FOUND;
}
