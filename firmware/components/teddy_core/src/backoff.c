/*
 * backoff.c - exponential backoff with jitter for claim retries (SPEC §2.6) and
 * WebSocket reconnects (SPEC §6.2), ported from emulator/core/timing.py so the
 * firmware retries on the same schedule as the emulator.
 */
#include <math.h>

#include "teddy_backoff.h"

uint32_t teddy_backoff_ms(uint32_t attempt, uint32_t base_ms, uint32_t max_ms, double jitter,
                          teddy_rng_fn rng, void *rng_ctx)
{
    /* 2^30 already exceeds any sensible cap; keeps the shift defined. */
    uint32_t exponent = attempt > 1 ? attempt - 1 : 0;
    exponent = exponent > 30 ? 30 : exponent;
    uint64_t delay = (uint64_t)base_ms << exponent;
    delay = delay < max_ms ? delay : max_ms;
    double spread = 0.0;
    if (jitter > 0 && rng) {
        /* uniform in [-jitter, +jitter], like random.uniform */
        double u = (double)rng(rng_ctx) / 4294967295.0;
        spread = -jitter + 2.0 * jitter * u;
    }
    /* nearbyint: round-half-even, as Python round() */
    double value = nearbyint((double)delay * (1.0 + spread));
    if (value <= 0) {
        return 0;
    }
    return value >= 4294967295.0 ? UINT32_MAX : (uint32_t)value;
}

void teddy_backoff_init(teddy_backoff_t *b, uint32_t base_ms, uint32_t max_ms, double jitter,
                        teddy_rng_fn rng, void *rng_ctx)
{
    b->base_ms = base_ms;
    b->max_ms = max_ms;
    b->jitter = jitter;
    b->rng = rng;
    b->rng_ctx = rng_ctx;
    b->attempt = 0;
}

uint32_t teddy_backoff_next(teddy_backoff_t *b)
{
    if (b->attempt < UINT32_MAX) {
        b->attempt++;
    }
    return teddy_backoff_ms(b->attempt, b->base_ms, b->max_ms, b->jitter, b->rng, b->rng_ctx);
}

void teddy_backoff_reset(teddy_backoff_t *b)
{
    b->attempt = 0;
}

uint32_t teddy_rng_xorshift32(void *ctx)
{
    uint32_t *state = ctx;
    uint32_t x = *state ? *state : 0x9E3779B9u; /* a zero state would stay zero */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}
