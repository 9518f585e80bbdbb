/*
 * vectors.h - loading the protocol/vectors JSON files in the cmocka tests.
 *
 * The C tests read the very files the Python tests read (TEDDY_VECTORS_DIR is a
 * compile definition), so changing one value in a vector fails both suites.
 * Failures name the vector file and case id.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cJSON.h"

/** Parse TEDDY_VECTORS_DIR/<name>; fails the test when missing or not JSON. */
cJSON *tv_load(const char *name);
/** The "cases" array of a loaded vector file (fails when absent or empty). */
const cJSON *tv_cases(const cJSON *root);
/** Required member accessors; they fail the test (naming `id`) on a wrong type. */
const cJSON *tv_get(const cJSON *obj, const char *key, const char *id);
const char *tv_str(const cJSON *obj, const char *key, const char *id);
/** String or NULL for JSON null / absent. */
const char *tv_opt_str(const cJSON *obj, const char *key);
int64_t tv_int(const cJSON *obj, const char *key, const char *id);
bool tv_bool(const cJSON *obj, const char *key, const char *id);
/** Case id (every case has one). */
const char *tv_id(const cJSON *c);
/** Decode hex into a new heap buffer (free it); fails on bad hex. */
uint8_t *tv_hex(const char *hex, size_t *len);
/** Whole file into a NUL-terminated heap buffer. */
char *tv_read_file(const char *path, size_t *len);
/** Print compactly (heap string, free with cJSON_free). */
char *tv_print(const cJSON *item);

#define TV_CHECK(id, cond)                                                                        \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fail_msg("case %s: check failed: %s", (id), #cond);                                   \
        }                                                                                         \
    } while (0)

#define TV_STR_EQ(id, got, want)                                                                  \
    do {                                                                                          \
        const char *g_ = (got), *w_ = (want);                                                     \
        if (!g_ || !w_ || strcmp(g_, w_) != 0) {                                                  \
            fail_msg("case %s: %s = '%s', want '%s'", (id), #got, g_ ? g_ : "(null)",              \
                     w_ ? w_ : "(null)");                                                         \
        }                                                                                         \
    } while (0)

#define TV_INT_EQ(id, got, want)                                                                  \
    do {                                                                                          \
        long long g_ = (long long)(got), w_ = (long long)(want);                                  \
        if (g_ != w_) {                                                                           \
            fail_msg("case %s: %s = %lld, want %lld", (id), #got, g_, w_);                        \
        }                                                                                         \
    } while (0)

#include "teddy_json.h"

/**
 * Compare field errors with a vector's [{"field","reason"}] list, order not
 * significant (the vector files say so); fails naming the case.
 */
void tv_check_errors(const char *id, const cJSON *expected, const teddy_field_errors_t *got);
