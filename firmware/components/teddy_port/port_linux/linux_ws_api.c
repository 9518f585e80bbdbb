/*
 * linux_ws_api.c - the app-thread side of the host WebSocket (teddy_port.h): connect,
 * send, close, Wi-Fi drop, and the routing of service-thread events to the caller's
 * callback (linux_ws.c runs libwebsockets).
 *
 * A connection's callback is routed by id; closing removes the route first, so no
 * callback follows a close (teddy_port.h). Work for the service thread is queued on
 * the connection under lx_ws_lock and the loop is woken with lws_cancel_service.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libwebsockets.h>

#include "lx_internal.h"
#include "lx_ws.h"

typedef struct {
    uint32_t id;
    teddy_port_ws_cb_t cb;
    void *arg;
} ws_route_t;

static ws_route_t lx_ws_routes[8]; /* app thread only */

void lx_ws_routes_reset(void) { memset(lx_ws_routes, 0, sizeof(lx_ws_routes)); }

/* --- app-thread side: routing and dispatch ---------------------------------------- */

static ws_route_t *find_route(uint32_t id)
{
    for (size_t i = 0; id != 0 && i < sizeof(lx_ws_routes) / sizeof(lx_ws_routes[0]); i++) {
        if (lx_ws_routes[i].id == id) {
            return &lx_ws_routes[i];
        }
    }
    return NULL;
}

static void dispatch(void *payload)
{
    lx_ws_event_t *ev = payload;
    ws_route_t *r = find_route(ev->id);
    if (r == NULL) {
        return; /* closed by the app: no callback follows */
    }
    teddy_ws_event_t out = {.kind = ev->kind, .status = ev->status, .data = ev->data,
                            .len = ev->len, .close_code = ev->close_code, .reason = ev->reason};
    ws_route_t copy = *r;
    if (ev->kind == TEDDY_WS_EV_REFUSED || ev->kind == TEDDY_WS_EV_CLOSED) {
        r->id = 0;
    }
    copy.cb(copy.id, &out, copy.arg);
}

void lx_ws_post(uint32_t id, teddy_ws_event_kind_t kind, int status, int code,
                const char *reason, const void *data, size_t len)
{
    lx_ws_event_t *ev = calloc(1, sizeof(*ev) + len + 1);
    if (ev == NULL) {
        return;
    }
    ev->id = id;
    ev->kind = kind;
    ev->status = status;
    ev->close_code = code;
    snprintf(ev->reason, sizeof(ev->reason), "%s", reason != NULL ? reason : "");
    if (data != NULL && len > 0) {
        memcpy(ev->data, data, len);
    }
    ev->len = len;
    lx_post(dispatch, ev);
}

/* --- app-thread API (teddy_port.h) ------------------------------------------------------ */

esp_err_t teddy_port_ws_connect(const char *url, const teddy_port_header_t *headers,
                                size_t n_headers, teddy_port_ws_cb_t cb, void *arg,
                                uint32_t *out_conn_id)
{
    if (url == NULL || cb == NULL || !lx_ws_running) {
        return ESP_ERR_INVALID_ARG;
    }
    ws_route_t *route = NULL;
    for (size_t i = 0; route == NULL && i < sizeof(lx_ws_routes) / sizeof(lx_ws_routes[0]); i++) {
        if (lx_ws_routes[i].id == 0) {
            route = &lx_ws_routes[i];
        }
    }
    lx_conn_t *c = route != NULL ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        return ESP_ERR_NO_MEM;
    }
    c->rx = malloc(TEDDY_PORT_WS_MAX_FRAME + 1);
    c->url = strdup(url);
    for (size_t i = 0; i < n_headers; i++) {
        if (strcasecmp(headers[i].name, "Authorization") == 0) {
            free(c->auth);
            c->auth = strdup(headers[i].value);
        }
    }
    if (c->rx == NULL || c->url == NULL || lx_ws_split_url(c) != ESP_OK) {
        esp_err_t err = c->rx == NULL || c->url == NULL ? ESP_ERR_NO_MEM : ESP_ERR_INVALID_ARG;
        lx_ws_free_conn(c);
        return err;
    }
    c->id = lx_new_id();
    *route = (ws_route_t){.id = c->id, .cb = cb, .arg = arg};
    if (out_conn_id != NULL) {
        *out_conn_id = c->id;
    }
    if (!lx_wifi_online() || lx_network_broken()) {
        lx_ws_post(c->id, TEDDY_WS_EV_CLOSED, 0, 1006, "network_unreachable", NULL, 0);
        lx_ws_free_conn(c);
        return ESP_OK;
    }
    pthread_mutex_lock(&lx_ws_lock);
    c->next = lx_ws_conns;
    lx_ws_conns = c;
    pthread_mutex_unlock(&lx_ws_lock);
    lws_cancel_service(lx_ws_ctx);
    return ESP_OK;
}

static lx_conn_t *find_conn(uint32_t id)
{
    for (lx_conn_t *c = lx_ws_conns; c != NULL; c = c->next) {
        if (c->id == id && !c->destroyed) {
            return c;
        }
    }
    return NULL;
}

esp_err_t teddy_port_ws_send_text(uint32_t conn_id, const char *text, size_t len)
{
    lx_msg_t *m = malloc(sizeof(*m) + LWS_PRE + len);
    if (m == NULL) {
        return ESP_ERR_NO_MEM;
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    pthread_mutex_lock(&lx_ws_lock);
    lx_conn_t *c = find_conn(conn_id);
    if (c == NULL || !c->established || c->close_requested || c->drop) {
        pthread_mutex_unlock(&lx_ws_lock);
        free(m);
        return ESP_ERR_INVALID_STATE;
    }
    lx_msg_t **pp = &c->outq;
    while (*pp != NULL) {
        pp = &(*pp)->next;
    }
    *pp = m;
    pthread_mutex_unlock(&lx_ws_lock);
    lws_cancel_service(lx_ws_ctx);
    return ESP_OK;
}

void teddy_port_ws_close(uint32_t conn_id, int code, const char *reason)
{
    ws_route_t *r = find_route(conn_id);
    if (r != NULL) {
        r->id = 0; /* no callback follows */
    }
    pthread_mutex_lock(&lx_ws_lock);
    lx_conn_t *c = find_conn(conn_id);
    if (c != NULL) {
        if (c->established) {
            c->close_requested = true;
            c->close_code = code;
            snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason != NULL ? reason : "");
        } else {
            c->abandoned = true;
        }
    }
    pthread_mutex_unlock(&lx_ws_lock);
    if (lx_ws_ctx != NULL) {
        lws_cancel_service(lx_ws_ctx);
    }
}

void lx_ws_drop_all(void)
{
    pthread_mutex_lock(&lx_ws_lock);
    for (lx_conn_t *c = lx_ws_conns; c != NULL; c = c->next) {
        if (c->established) {
            c->drop = true; /* queued frames (a 1000 close) go out first */
        } else {
            c->abandoned = true;
        }
    }
    pthread_mutex_unlock(&lx_ws_lock);
    for (size_t i = 0; i < sizeof(lx_ws_routes) / sizeof(lx_ws_routes[0]); i++) {
        if (lx_ws_routes[i].id != 0) {
            /* the core already treats the link as lost (it cleared its conn id) */
            lx_ws_post(lx_ws_routes[i].id, TEDDY_WS_EV_CLOSED, 0, 1006, "wifi_lost", NULL, 0);
        }
    }
    if (lx_ws_ctx != NULL) {
        lws_cancel_service(lx_ws_ctx);
    }
}
