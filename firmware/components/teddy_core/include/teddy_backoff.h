/*
 * teddy_backoff.h - exponential backoff with jitter (SPEC §2.6 claim retries,
 * §6.2 WebSocket reconnects), ported from emulator/core/timing.py backoff_ms.
 *
 * delay = min(max_ms, base_ms * 2^(attempt-1)) * (1 + u), u uniform in
 * [-jitter, +jitter], rounded, never negative. The RNG is injected so tests and the
 * host build are reproducible (sans-I/O); on the board it is esp_random.
 */
#pragma once

#include <stdint.h>

#include "teddy_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Uniform 32-bit random number source. */
typedef uint32_t (*teddy_rng_fn)(void *ctx);

/**
 * One delay for `attempt` (1 = first retry; 0 is treated as 1). `jitter` is a
 * fraction (0.25 = ±25 %); rng may be NULL only when jitter is 0.
 */
uint32_t teddy_backoff_ms(uint32_t attempt, uint32_t base_ms, uint32_t max_ms, double jitter,
                          teddy_rng_fn rng, void *rng_ctx);

/** Stateful helper: counts attempts between resets. */
typedef struct {
    uint32_t base_ms;
    uint32_t max_ms;
    double jitter;
    teddy_rng_fn rng;
    void *rng_ctx;
    uint32_t attempt; /* attempts made since the last reset */
} teddy_backoff_t;

void teddy_backoff_init(teddy_backoff_t *b, uint32_t base_ms, uint32_t max_ms, double jitter,
                        teddy_rng_fn rng, void *rng_ctx);
/** Count one more failed attempt and return the delay before the next one. */
uint32_t teddy_backoff_next(teddy_backoff_t *b);
/** Back to the first attempt (after a success). */
void teddy_backoff_reset(teddy_backoff_t *b);

/** xorshift32 RNG for hosts and tests; `ctx` points at a non-zero uint32_t state. */
uint32_t teddy_rng_xorshift32(void *ctx);

#ifdef __cplusplus
}
#endif
