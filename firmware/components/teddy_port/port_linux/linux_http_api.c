/*
 * linux_http_api.c - the app-thread side of the host HTTP client (teddy_port.h):
 * starting, cancelling and failing requests, and routing worker events to the
 * caller's callback by request id (linux_http.c runs libcurl).
 *
 * A request is routed until its final event (DONE/FAILED) or a cancel, so no callback
 * follows either. Wi-Fi down or a broken network (TEDDY-BEHAVIOUR marker) fail a
 * request at once with `network_unreachable`, like the emulator's HttpAdapter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lx_http.h"
#include "lx_internal.h"

static lx_http_route_t lx_http_routes[32];

void lx_http_routes_reset(void) { memset(lx_http_routes, 0, sizeof(lx_http_routes)); }

static lx_http_route_t *lx_http_route(uint32_t id)
{
    for (size_t i = 0; i < sizeof(lx_http_routes) / sizeof(lx_http_routes[0]); i++) {
        if (lx_http_routes[i].id == id && id != 0) {
            return &lx_http_routes[i];
        }
    }
    return NULL;
}

void lx_http_dispatch(void *payload)
{
    lx_http_event_t *ev = payload;
    lx_http_route_t *r = lx_http_route(ev->id);
    if (r == NULL) {
        return; /* cancelled: no callback follows (teddy_port.h) */
    }
    teddy_http_event_t out = {.kind = ev->kind, .status = ev->status, .reason = ev->reason};
    if (ev->kind == TEDDY_HTTP_EV_HEADERS) {
        out.headers = ev->headers;
        out.n_headers = ev->n_headers;
    } else if (ev->kind == TEDDY_HTTP_EV_DATA) {
        out.data = ev->data;
        out.len = ev->len;
    }
    lx_http_route_t copy = *r;
    if (ev->kind == TEDDY_HTTP_EV_DONE || ev->kind == TEDDY_HTTP_EV_FAILED) {
        r->id = 0;
    }
    copy.cb(copy.id, &out, copy.arg);
}

static CURL *make_easy(const teddy_port_http_request_t *req, lx_http_req_t *r)
{
    CURL *e = curl_easy_init();
    if (e == NULL) {
        return NULL;
    }
    uint32_t timeout = req->timeout_ms != 0 ? req->timeout_ms : lx_opts()->http_timeout_ms;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    /* A stall (no byte for the timeout) fails the request, a slow download does not. */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)((timeout + 999) / 1000));
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)READ_CHUNK);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, lx_http_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, lx_http_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "teddy-fw-host");
    if (req->body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    }
    /* no "Expect: 100-continue" round trip; an empty Accept-Encoding = identity */
    r->hdrs = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; i < req->n_headers && r->hdrs != NULL; i++) {
        char line[2048];
        snprintf(line, sizeof(line), "%s: %s", req->headers[i].name, req->headers[i].value);
        r->hdrs = curl_slist_append(r->hdrs, line);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    return e;
}

esp_err_t teddy_port_http_start(const teddy_port_http_request_t *req, teddy_port_http_cb_t cb,
                                void *arg, uint32_t *out_req_id)
{
    if (req == NULL || req->url == NULL || req->method == NULL || cb == NULL || !lx_http_running) {
        return ESP_ERR_INVALID_ARG;
    }
    lx_http_route_t *slot = NULL; /* a free routing slot */
    for (size_t i = 0; slot == NULL && i < sizeof(lx_http_routes) / sizeof(lx_http_routes[0]); i++) {
        if (lx_http_routes[i].id == 0) {
            slot = &lx_http_routes[i];
        }
    }
    if (slot == NULL) {
        return ESP_ERR_NO_MEM;
    }
    uint32_t id = lx_new_id();
    *slot = (lx_http_route_t){.id = id, .cb = cb, .arg = arg};
    if (out_req_id != NULL) {
        *out_req_id = id;
    }
    if (!lx_wifi_online() || lx_network_broken()) {
        lx_http_post_simple(id, TEDDY_HTTP_EV_FAILED, "network_unreachable");
        return ESP_OK;
    }
    lx_http_req_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        slot->id = 0;
        return ESP_ERR_NO_MEM;
    }
    r->id = id;
    if (req->body != NULL) {
        r->body = malloc(req->body_len + 1);
        if (r->body != NULL) {
            memcpy(r->body, req->body, req->body_len);
            r->body[req->body_len] = '\0';
        }
    }
    r->easy = make_easy(req, r);
    if (r->easy == NULL || (req->body != NULL && r->body == NULL)) {
        lx_http_free_req(r);
        slot->id = 0;
        return ESP_ERR_NO_MEM;
    }
    pthread_mutex_lock(&lx_http_lock);
    r->next = lx_http_reqs;
    lx_http_reqs = r;
    pthread_mutex_unlock(&lx_http_lock);
    curl_multi_wakeup(lx_http_multi);
    return ESP_OK;
}

void teddy_port_http_cancel(uint32_t req_id)
{
    lx_http_route_t *r = lx_http_route(req_id);
    if (r == NULL) {
        return;
    }
    r->id = 0;
    pthread_mutex_lock(&lx_http_lock);
    for (lx_http_req_t *q = lx_http_reqs; q != NULL; q = q->next) {
        if (q->id == req_id) {
            q->cancelled = true;
        }
    }
    pthread_mutex_unlock(&lx_http_lock);
    curl_multi_wakeup(lx_http_multi);
}

void lx_http_abort_all(void)
{
    /* Wi-Fi went down: every request in flight fails (the core decides what next). */
    pthread_mutex_lock(&lx_http_lock);
    for (lx_http_req_t *q = lx_http_reqs; q != NULL; q = q->next) {
        if (!q->cancelled) {
            q->cancelled = true;
            lx_http_post_simple(q->id, TEDDY_HTTP_EV_FAILED, "network_unreachable");
        }
    }
    pthread_mutex_unlock(&lx_http_lock);
    if (lx_http_multi != NULL) {
        curl_multi_wakeup(lx_http_multi);
    }
}
