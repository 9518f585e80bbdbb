/*
 * test_backoff.c - claim/reconnect backoff (SPEC §2.6, §6.2), the schedule of
 * emulator/core/timing.py backoff_ms: base * 2^(attempt-1), capped, ±jitter.
 */
#include "teddy_backoff.h"
#include "vectors.h"

static uint32_t fixed_rng(void *ctx)
{
    return *(uint32_t *)ctx;
}

static void test_no_jitter_schedule(void **state)
{
    (void)state;
    static const uint32_t want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (uint32_t a = 1; a <= 7; a++) {
        assert_int_equal(teddy_backoff_ms(a, 1000, 30000, 0.0, NULL, NULL), want[a - 1]);
    }
    assert_int_equal(teddy_backoff_ms(0, 1000, 30000, 0.0, NULL, NULL), 1000);
    assert_int_equal(teddy_backoff_ms(1000, 1000, 30000, 0.0, NULL, NULL), 30000);
    assert_int_equal(teddy_backoff_ms(1, 4000000000u, 4294967295u, 0.0, NULL, NULL), 4000000000u);
    assert_int_equal(teddy_backoff_ms(40, 4000000000u, 4294967295u, 0.0, NULL, NULL), UINT32_MAX);
}

static void test_jitter_bounds(void **state)
{
    (void)state;
    uint32_t lo = 0, hi = UINT32_MAX, mid = UINT32_MAX / 2;
    assert_int_equal(teddy_backoff_ms(1, 1000, 30000, 0.25, fixed_rng, &lo), 750);
    assert_int_equal(teddy_backoff_ms(1, 1000, 30000, 0.25, fixed_rng, &hi), 1250);
    assert_int_equal(teddy_backoff_ms(1, 1000, 30000, 0.25, fixed_rng, &mid), 1000);
    uint32_t seed = 42;
    for (int i = 0; i < 1000; i++) {
        uint32_t d = teddy_backoff_ms(3, 2000, 60000, 0.2, teddy_rng_xorshift32, &seed);
        assert_true(d >= 6400 && d <= 9600);
    }
    assert_int_equal(teddy_backoff_ms(1, 1000, 30000, 1.0, fixed_rng, &lo), 0);
}

static void test_stateful(void **state)
{
    (void)state;
    teddy_backoff_t b;
    teddy_backoff_init(&b, 2000, 60000, 0.0, NULL, NULL);
    assert_int_equal(teddy_backoff_next(&b), 2000);
    assert_int_equal(teddy_backoff_next(&b), 4000);
    assert_int_equal(b.attempt, 2);
    teddy_backoff_reset(&b);
    assert_int_equal(teddy_backoff_next(&b), 2000);
    uint32_t zero = 0;
    assert_int_not_equal(teddy_rng_xorshift32(&zero), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_jitter_schedule),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_stateful),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
