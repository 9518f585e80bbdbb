/*
 * device_ctx.c - the shared context of one boot (emulator/core/context.py).
 *
 * Owns the plumbing every device module uses: SPEC §8 event lines stamped with the
 * current uptime, the SPEC §8.3 `state{from,to}` transitions, correlation ids,
 * timers (armed here, fired by the runner, a stale firing is ignored), backoff with
 * the injected RNG, the wall clock from the last SNTP sync, and HTTP routing by
 * request id. Nothing here reads a clock or touches I/O: effects go to the sink.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "teddy_backoff.h"
#include "teddy_event.h"
#include "teddy_json.h"

#define LINE_MAX_BYTES 8192

void dev_fx(tdev_t *d, const teddy_effect_t *fx) { d->sink(fx, d->sink_ctx); }

static void print_line(tdev_t *d, const char *line)
{
    teddy_effect_t fx = {.kind = TEDDY_FX_PRINT};
    fx.u.print.line = line;
    dev_fx(d, &fx);
}

cJSON *dev_obj(void) { return cJSON_CreateObject(); }

char *dev_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL) {
        memcpy(copy, s, n);
    }
    return copy;
}

bool dev_quirk(const tdev_t *d, teddy_quirk_t q)
{
    return (unsigned)q < TEDDY_QUIRK_COUNT && d->quirk[q] != NULL;
}

const char *dev_quirk_value(const tdev_t *d, teddy_quirk_t q)
{
    return dev_quirk(d, q) ? d->quirk[q] : NULL;
}

bool dev_quirk_set(tdev_t *d, teddy_quirk_t q, const char *value)
{
    if ((unsigned)q >= TEDDY_QUIRK_COUNT) {
        return false;
    }
    char *copy = value != NULL ? dev_strdup(value) : NULL;
    if (value != NULL && copy == NULL) {
        return false;
    }
    free(d->quirk[q]);
    d->quirk[q] = copy;
    return true;
}

void dev_emit_event(tdev_t *d, teddy_event_id_t event, cJSON *data)
{
    const char *name = TEDDY_EVENTS[event].name;
    char *line = malloc(LINE_MAX_BYTES);
    if (line != NULL) {
        esp_err_t err = teddy_event_format(line, LINE_MAX_BYTES, d->now_ms, name, data);
        if (err == ESP_OK) {
            print_line(d, line);
        } else {
            /* An event that cannot be formatted is a firmware bug: say so, once. */
            snprintf(line, LINE_MAX_BYTES, "E (%llu) teddy: event %s not printable (%s)",
                     (unsigned long long)d->now_ms, name, esp_err_to_name(err));
            print_line(d, line);
        }
        free(line);
    }
    cJSON_Delete(data);
}

void dev_log(tdev_t *d, const char *fmt, ...)
{
    char msg[512], line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* ESP-IDF log format; never starts with "@teddy " */
    snprintf(line, sizeof(line), "I (%llu) teddy: %s", (unsigned long long)d->now_ms, msg);
    print_line(d, line);
}

void dev_set_state(tdev_t *d, teddy_state_t to)
{
    /* SPEC §8.3: print state{from,to} on every change, never for a no-op. */
    if (to == d->state) {
        return;
    }
    teddy_state_t from = d->state;
    d->state = to;
    EMIT_STATE(d, .from = from, .to = to);
}

uint32_t dev_new_id(tdev_t *d)
{
    if (++d->next_id == 0) {
        d->next_id = 1;
    }
    return d->next_id;
}

uint32_t dev_rand(tdev_t *d) { return teddy_rng_xorshift32(&d->rng); }

static uint32_t rng_fn(void *ctx) { return teddy_rng_xorshift32(ctx); }

uint32_t dev_backoff(tdev_t *d, uint32_t attempt, uint32_t base, uint32_t max, double jitter)
{
    return teddy_backoff_ms(attempt, base, max, jitter, rng_fn, &d->rng);
}

void dev_arm(tdev_t *d, teddy_timer_t t, uint64_t delay_ms)
{
    d->armed[t] = true;
    d->timer_at[t] = d->now_ms + delay_ms;
    teddy_effect_t fx = {.kind = TEDDY_FX_SET_TIMER};
    fx.u.timer.id = t;
    fx.u.timer.at_ms = d->timer_at[t];
    dev_fx(d, &fx);
}

void dev_disarm(tdev_t *d, teddy_timer_t t)
{
    if (!d->armed[t]) {
        return;
    }
    d->armed[t] = false;
    teddy_effect_t fx = {.kind = TEDDY_FX_CANCEL_TIMER};
    fx.u.timer.id = t;
    dev_fx(d, &fx);
}

bool dev_wall_clock(const tdev_t *d, int64_t *epoch)
{
    if (!d->time_synced) {
        return false;
    }
    *epoch = d->epoch + (int64_t)((d->now_ms - d->synced_at_ms) / 1000u);
    return true;
}

/* --- HTTP routing -------------------------------------------------------------------- */

uint32_t dev_http(tdev_t *d, dev_http_owner_t owner, const char *method, const char *url,
                  const teddy_port_header_t *headers, size_t n_headers, const char *body,
                  bool stream)
{
    uint32_t id = dev_new_id(d);
    size_t slot = DEV_HTTP_SLOTS;
    for (size_t i = 0; i < DEV_HTTP_SLOTS; i++) {
        if (d->http[i].id == 0) {
            slot = i;
            break;
        }
    }
    if (slot == DEV_HTTP_SLOTS) {
        slot = 0; /* cannot happen with one request per owner; the oldest loses */
    }
    d->http[slot].id = id;
    d->http[slot].owner = owner;
    teddy_effect_t fx = {.kind = TEDDY_FX_HTTP_REQUEST};
    fx.u.http.req_id = id;
    fx.u.http.method = method;
    fx.u.http.url = url;
    fx.u.http.headers = headers;
    fx.u.http.n_headers = n_headers;
    fx.u.http.body = body;
    fx.u.http.body_len = body != NULL ? strlen(body) : 0;
    fx.u.http.stream = stream;
    dev_fx(d, &fx);
    return id;
}

void dev_http_done(tdev_t *d, uint32_t req)
{
    for (size_t i = 0; req != 0 && i < DEV_HTTP_SLOTS; i++) {
        if (d->http[i].id == req) {
            d->http[i].id = 0;
            d->http[i].owner = DEV_HTTP_NONE;
        }
    }
}

void dev_http_cancel(tdev_t *d, uint32_t *req)
{
    if (*req == 0) {
        return;
    }
    if (dev_http_owner(d, *req) != DEV_HTTP_NONE) {
        dev_http_done(d, *req);
        teddy_effect_t fx = {.kind = TEDDY_FX_HTTP_CANCEL};
        fx.u.http.req_id = *req;
        dev_fx(d, &fx);
    }
    *req = 0;
}

dev_http_owner_t dev_http_owner(const tdev_t *d, uint32_t req)
{
    for (size_t i = 0; req != 0 && i < DEV_HTTP_SLOTS; i++) {
        if (d->http[i].id == req) {
            return d->http[i].owner;
        }
    }
    return DEV_HTTP_NONE;
}

const char *dev_header(const teddy_input_t *in, const char *name)
{
    for (size_t i = 0; i < in->n_headers; i++) {
        if (strcmp(in->headers[i].name, name) == 0) {
            return in->headers[i].value;
        }
    }
    return NULL;
}

/* RFC 3986 percent-encoding of a query value (SPEC §6.1: a space is %20). */
void dev_pct_encode(char *out, size_t size, const char *in)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0' && o + 4 < size; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}
