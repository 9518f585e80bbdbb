/*
 * device_runner_http.c - HTTP between the core and teddy_port.h (runner part).
 *
 * The core numbers its requests; the port numbers its own. Non-streaming responses
 * are collected here (status, headers, body up to 64 KiB) and handed to the core
 * whole, like the emulator's HttpResponse; streaming ones (the firmware image) pass
 * through chunk by chunk as HTTP_STREAM_* inputs. A slot is freed before the core
 * sees the final event, so the core may start its next request from inside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "device_runner.h"

static runner_http_t *http_by_port(runner_t *r, uint32_t port_id)
{
    for (int i = 0; i < RUNNER_HTTP_SLOTS; i++) {
        if (r->http[i].used && r->http[i].port_id == port_id) {
            return &r->http[i];
        }
    }
    return NULL;
}

void runner_http_free(runner_http_t *h)
{
    free(h->hstore);
    free(h->body);
    memset(h, 0, sizeof(*h));
}

static void keep_headers(runner_http_t *h, const teddy_http_event_t *ev)
{
    size_t total = 0, n = ev->n_headers < RUNNER_MAX_HEADERS ? ev->n_headers : RUNNER_MAX_HEADERS;
    for (size_t i = 0; i < n; i++) {
        total += strlen(ev->headers[i].name) + strlen(ev->headers[i].value) + 2;
    }
    free(h->hstore);
    h->hstore = malloc(total + 1);
    h->n_headers = 0;
    char *p = h->hstore;
    for (size_t i = 0; p != NULL && i < n; i++) {
        size_t ln = strlen(ev->headers[i].name) + 1, lv = strlen(ev->headers[i].value) + 1;
        memcpy(p, ev->headers[i].name, ln);
        h->headers[i].name = p;
        p += ln;
        memcpy(p, ev->headers[i].value, lv);
        h->headers[i].value = p;
        p += lv;
        h->n_headers = i + 1;
    }
    h->status = ev->status;
}

static void on_http(uint32_t port_id, const teddy_http_event_t *ev, void *arg)
{
    runner_t *r = arg;
    runner_http_t *h = http_by_port(r, port_id);
    if (h == NULL) {
        return;
    }
    teddy_input_t in = {.id = h->core_id};
    switch (ev->kind) {
    case TEDDY_HTTP_EV_HEADERS:
        keep_headers(h, ev);
        if (h->stream) {
            in.kind = TEDDY_IN_HTTP_STREAM_START;
            in.status = ev->status;
            in.headers = h->headers;
            in.n_headers = h->n_headers;
            runner_deliver(r, &in);
        }
        return;
    case TEDDY_HTTP_EV_DATA:
        if (h->stream) {
            in.kind = TEDDY_IN_HTTP_STREAM_DATA;
            in.data = ev->data;
            in.len = ev->len;
            runner_deliver(r, &in);
        } else if (h->len + ev->len > RUNNER_MAX_BODY) {
            h->overflow = true;
        } else {
            uint8_t *grown = realloc(h->body, h->len + ev->len + 1);
            if (grown == NULL) {
                h->overflow = true;
                return;
            }
            h->body = grown;
            memcpy(h->body + h->len, ev->data, ev->len);
            h->len += ev->len;
        }
        return;
    case TEDDY_HTTP_EV_DONE:
        if (h->stream) {
            in.kind = TEDDY_IN_HTTP_STREAM_END;
        } else if (h->overflow) {
            in.kind = TEDDY_IN_HTTP_FAILED;
            in.text = "body_too_large";
        } else {
            in.kind = TEDDY_IN_HTTP_RESPONSE;
            in.status = h->status;
            in.headers = h->headers;
            in.n_headers = h->n_headers;
            in.data = h->body != NULL ? h->body : (const uint8_t *)"";
            in.len = h->len;
        }
        break;
    case TEDDY_HTTP_EV_FAILED:
    default:
        in.kind = TEDDY_IN_HTTP_FAILED;
        in.text = ev->reason != NULL ? ev->reason : "transport";
        break;
    }
    /* final: free the slot before the core sees it (it may start a new request), keep
     * the memory until it is done */
    runner_http_t copy = *h;
    if (in.headers == h->headers) {
        in.headers = copy.headers;
    }
    memset(h, 0, sizeof(*h));
    runner_deliver(r, &in);
    runner_http_free(&copy);
}

void runner_http_start(runner_t *r, const teddy_effect_t *fx)
{
    runner_http_t *h = NULL;
    for (int i = 0; i < RUNNER_HTTP_SLOTS && h == NULL; i++) {
        h = r->http[i].used ? NULL : &r->http[i];
    }
    teddy_input_t fail = {.kind = TEDDY_IN_HTTP_FAILED, .id = fx->u.http.req_id};
    if (h == NULL) {
        runner_queue(r, &fail, NULL, 0, "no_slot");
        return;
    }
    teddy_port_http_request_t req = {.method = fx->u.http.method, .url = fx->u.http.url,
                                     .headers = fx->u.http.headers,
                                     .n_headers = fx->u.http.n_headers, .body = fx->u.http.body,
                                     .body_len = fx->u.http.body_len};
    uint32_t port_id = 0;
    if (teddy_port_http_start(&req, on_http, r, &port_id) != ESP_OK) {
        runner_queue(r, &fail, NULL, 0, "start_failed");
        return;
    }
    h->used = true;
    h->stream = fx->u.http.stream;
    h->core_id = fx->u.http.req_id;
    h->port_id = port_id;
}

void runner_http_cancel(runner_t *r, uint32_t core_id)
{
    for (int i = 0; i < RUNNER_HTTP_SLOTS; i++) {
        if (r->http[i].used && r->http[i].core_id == core_id) {
            teddy_port_http_cancel(r->http[i].port_id);
            runner_http_free(&r->http[i]);
        }
    }
}
