/*
 * device_runner.h - state of the loop in device_runner.c / device_runner_io.c (private).
 *
 * Ids: the core numbers its requests, connections and captures itself (sans-I/O);
 * the port numbers its own. The runner maps one to the other.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teddy_device.h"

#define RUNNER_HTTP_SLOTS 8
#define RUNNER_MAP_SLOTS 4
#define RUNNER_MAX_HEADERS 32
#define RUNNER_MAX_BODY 65536 /* SPEC bodies are a few KiB; more is a broken server */

typedef struct runner_pending {
    struct runner_pending *next;
    teddy_input_t in;
    uint8_t storage[];
} runner_pending_t;

typedef struct {
    bool used, stream, overflow;
    uint32_t core_id, port_id;
    int status;
    size_t n_headers;
    teddy_port_header_t headers[RUNNER_MAX_HEADERS];
    char *hstore; /* the header strings */
    uint8_t *body;
    size_t len;
} runner_http_t;

typedef struct {
    bool used;
    uint32_t core_id, port_id;
} runner_map_t;

typedef struct {
    teddy_device_t *dev;
    bool timer_armed[TEDDY_TIMER_COUNT];
    uint64_t timer_at[TEDDY_TIMER_COUNT];
    runner_pending_t *pending;
    bool reboot;
    char reboot_reason[24];
    runner_http_t http[RUNNER_HTTP_SLOTS];
    runner_map_t ws[RUNNER_MAP_SLOTS];
    runner_map_t cap[RUNNER_MAP_SLOTS];
} runner_t;

void runner_queue(runner_t *r, const teddy_input_t *in, const void *data, size_t len,
                  const char *text);
void runner_deliver(runner_t *r, const teddy_input_t *in);
void runner_io_effect(runner_t *r, const teddy_effect_t *fx);
void runner_http_start(runner_t *r, const teddy_effect_t *fx);
void runner_http_cancel(runner_t *r, uint32_t core_id);
void runner_http_free(runner_http_t *h);
void runner_release(runner_t *r);
void runner_on_line(const char *line, void *arg);
void runner_on_button(bool pressed, void *arg);
runner_t *runner_current(void);
