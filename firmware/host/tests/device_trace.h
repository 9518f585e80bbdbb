/*
 * device_trace.h - reading a device trace vector for the C core (test support).
 *
 * A trace (a file in protocol/vectors/device_traces, SPEC §10) is a setup - build
 * settings, timing (zero jitter), boot facts, NVS as read, RNG seed, claim nonces - and
 * steps of one input with the effects it must produce, all in the canonical JSON of
 * teddy_canon.h. tests/emulator/device_traces.py reads the same files for the Python
 * core. Every problem in a file fails the test with the file and the place named
 * ("chat_turn.json: setup.boot.slot: ...").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "teddy_device.h"

#define TRACE_MAX_NONCES 16
#define TRACE_NONCE_BYTES 16 /* SPEC §2.3: 16 random bytes per claim */

typedef struct {
    const char *file;            /* base name, for messages */
    cJSON *root;                 /* the parsed file; strings of `init` point into it */
    teddy_device_init_t init;    /* sink and random_bytes are the driver's */
    const cJSON *nvs;            /* setup.nvs: nvs_set objects, loaded after create */
    uint8_t nonces[TRACE_MAX_NONCES][TRACE_NONCE_BYTES];
    size_t n_nonces;
} trace_t;

/** The folder of the trace files: $TEDDY_VECTORS_DIR/device_traces, else the build's. */
const char *trace_dir(void);
/** Parse `dir/file` and its setup into `t` (fails the test on any problem). */
void trace_open(trace_t *t, const char *dir, const char *file);
/** Load setup.nvs into a created core (teddy_device_nvs_load_*). */
void trace_load_nvs(const trace_t *t, teddy_device_t *dev);
void trace_close(trace_t *t);

/** Fail the test naming the trace file and the place; never returns. */
void trace_fail(const trace_t *t, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/** Member `key` of object `obj`, failing when absent. */
const cJSON *trace_get(const trace_t *t, const cJSON *obj, const char *key, const char *where);
/** Fail when `obj` is not an object or has a member outside `keys` (NULL-terminated). */
void trace_keys(const trace_t *t, const cJSON *obj, const char *const *keys, const char *where);
/** A non-negative JSON integer literal. */
int64_t trace_uint(const trace_t *t, const cJSON *obj, const char *key, const char *where);
