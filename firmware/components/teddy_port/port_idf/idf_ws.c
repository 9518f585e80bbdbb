/*
 * idf_ws.c - teddy_port WebSocket on esp_websocket_client (SPEC §6): the handshake with
 * `Authorization: Bearer <access>` (esp_websocket_client_append_header), an 8 KiB
 * receive buffer (SPEC §7.3: every downlink frame is < 8192 bytes), messages assembled
 * whole before the core sees them, close codes read from the server's close frame.
 *
 * Events (websocket task -> app queue): CONNECTED -> OPEN; a complete text message ->
 * TEXT (through the byte budget: a slow app thread back-pressures TCP); binary ->
 * BINARY with its size; the end of the link -> exactly one final event:
 *   - handshake answered with a status other than 101 -> REFUSED{status, body}, the
 *     body read back by idf_ws_probe() (esp_websocket_client does not expose it);
 *   - TCP/TLS connect failure -> CLOSED{1006, "connect_failed"};
 *   - a server close frame -> CLOSED{code (1005 without one), reason};
 *   - a message over TEDDY_PORT_WS_MAX_FRAME -> the port closes with 1009 (SPEC §6.6);
 *   - a drop without a close frame, or Wi-Fi lost -> CLOSED{1006, ...}.
 * The client runs with auto-reconnect off: the core owns reconnect and backoff (SPEC
 * §6.2). esp_websocket_client_stop/close/destroy may not run in the websocket task, so
 * they run in the sender task (idf_ws_tx.c), which also frees the conn afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "sdkconfig.h"
#if CONFIG_MBEDTLS_CERTIFICATE_BUNDLE
#include "esp_crt_bundle.h"
#endif

#include "idf_internal.h"
#include "idf_ws.h"

static const char *TAG = "teddy_ws";

#define WS_RX_BUFFER 8192 /* SPEC §7.3 esp_websocket_client buffer_size */
#define OP_CONT 0x0
#define OP_TEXT 0x1
#define OP_BINARY 0x2
#define OP_CLOSE 0x8

typedef enum { WS_MSG_EVENT, WS_MSG_OVERSIZE } ws_msg_kind_t;

typedef struct idf_ws_rx {
    idf_msg_t base;
    uint32_t conn_id;
    ws_msg_kind_t what;
    teddy_ws_event_kind_t kind;
    int status;
    int close_code;
    char reason[124];
    size_t len;
    char data[]; /* TEXT message / REFUSED body, NUL-terminated */
} ws_msg_t;

static SemaphoreHandle_t s_lock; /* guards s_conns and final_posted */
static ws_conn_t *s_conns;

static ws_conn_t *find_locked(uint32_t id)
{
    for (ws_conn_t *c = s_conns; c != NULL; c = c->next) {
        if (c->id == id) {
            return c;
        }
    }
    return NULL;
}

/* Remove from the registry (app thread): no callback follows for this id. */
static ws_conn_t *unlink_conn(uint32_t id)
{
    xSemaphoreTake(s_lock, portMAX_DELAY);
    ws_conn_t *found = NULL;
    for (ws_conn_t **pp = &s_conns; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            found = *pp;
            *pp = found->next;
            found->abandon = true;
            break;
        }
    }
    xSemaphoreGive(s_lock);
    return found;
}

static void run_ws(idf_msg_t *msg)
{
    ws_msg_t *m = (ws_msg_t *)msg;
    xSemaphoreTake(s_lock, portMAX_DELAY);
    ws_conn_t *c = find_locked(m->conn_id);
    xSemaphoreGive(s_lock);
    if (c == NULL) {
        return; /* closed by the app, or already finished */
    }
    teddy_ws_event_t ev = {.kind = m->kind, .status = m->status, .data = m->data,
                           .len = m->len, .close_code = m->close_code, .reason = m->reason};
    teddy_port_ws_cb_t cb = c->cb;
    void *arg = c->arg;
    if (m->what == WS_MSG_OVERSIZE) {
        /* SPEC §6.6: a frame over the 8 KiB receive buffer ends the link with 1009. */
        unlink_conn(c->id);
        idf_ws_tx_close(c, 1009, "message too big");
        ev.kind = TEDDY_WS_EV_CLOSED;
        ev.close_code = 1009;
        ev.reason = "message too big";
    } else if (m->kind == TEDDY_WS_EV_REFUSED || m->kind == TEDDY_WS_EV_CLOSED) {
        unlink_conn(c->id);
        idf_ws_tx_destroy(c);
    }
    cb(m->conn_id, &ev, arg);
}

static ws_msg_t *new_msg(const ws_conn_t *c, teddy_ws_event_kind_t kind, size_t cap)
{
    ws_msg_t *m = idf_msg_alloc(sizeof(*m) + cap + 1, run_ws);
    if (m != NULL) {
        m->conn_id = c->id;
        m->kind = kind;
    }
    return m;
}

static void queue_final(uint32_t id, teddy_ws_event_kind_t kind, int status, int code,
                        const char *reason, const char *body, size_t body_len)
{
    ws_msg_t *m = idf_msg_alloc(sizeof(*m) + body_len + 1, run_ws);
    if (m == NULL) {
        return;
    }
    m->conn_id = id;
    m->kind = kind;
    m->status = status;
    m->close_code = code;
    idf_strlcpy(m->reason, reason, sizeof(m->reason));
    if (body_len > 0) {
        memcpy(m->data, body, body_len);
    }
    m->len = body_len;
    (void)idf_post(&m->base);
}

/* Queue the one final event of a conn (websocket task); later attempts are ignored. */
static void post_final(ws_conn_t *c, teddy_ws_event_kind_t kind, int status, int code,
                       const char *reason, char *body, size_t body_len)
{
    xSemaphoreTake(s_lock, portMAX_DELAY);
    bool first = !c->final_posted;
    c->final_posted = true;
    xSemaphoreGive(s_lock);
    if (first) {
        queue_final(c->id, kind, status, code, reason, body, body_len);
    }
    free(body);
}

static void on_data(ws_conn_t *c, const esp_websocket_event_data_t *d)
{
    if (d->op_code == OP_CLOSE) {
        const uint8_t *p = (const uint8_t *)d->data_ptr;
        c->close_code = d->data_len >= 2 ? (p[0] << 8 | p[1]) : 1005; /* 1005: no status */
        size_t rl = d->data_len > 2 ? (size_t)d->data_len - 2 : 0;
        rl = rl < sizeof(c->close_reason) - 1 ? rl : sizeof(c->close_reason) - 1;
        memcpy(c->close_reason, d->data_ptr + (d->data_len >= 2 ? 2 : 0), rl);
        c->close_reason[rl] = '\0';
        return;
    }
    if (d->op_code != OP_TEXT && d->op_code != OP_BINARY && d->op_code != OP_CONT) {
        return; /* ping/pong: answered by the client itself */
    }
    bool first_piece = d->payload_offset == 0;
    if (first_piece && d->op_code != OP_CONT) { /* a new message starts */
        free(c->rx);
        c->rx = NULL;
        c->rx_len = 0;
        c->rx_binary = d->op_code == OP_BINARY;
        c->rx_oversize = false;
    }
    if (first_piece && c->rx_len + (size_t)d->payload_len > TEDDY_PORT_WS_MAX_FRAME) {
        c->rx_oversize = true;
    }
    if (!c->rx_oversize && !c->rx_binary) {
        if (c->rx == NULL) {
            /* Unfragmented frames (the server's case) get exactly their size. */
            size_t cap = d->fin ? (size_t)d->payload_len : TEDDY_PORT_WS_MAX_FRAME;
            c->rx = new_msg(c, TEDDY_WS_EV_TEXT, cap);
            if (c->rx == NULL) {
                c->rx_oversize = true; /* cannot hold it: treat like too big */
            }
        }
        if (c->rx != NULL && d->data_len > 0) {
            memcpy(c->rx->data + c->rx_len, d->data_ptr, (size_t)d->data_len);
        }
    }
    c->rx_len += (size_t)(d->data_len > 0 ? d->data_len : 0);
    bool frame_done = d->payload_offset + d->data_len >= d->payload_len;
    if (!frame_done || !d->fin) {
        return;
    }
    if (c->rx_oversize) {
        ws_msg_t *m = new_msg(c, TEDDY_WS_EV_CLOSED, 0);
        if (m != NULL) {
            m->what = WS_MSG_OVERSIZE;
            (void)idf_post(&m->base);
        }
    } else if (c->rx_binary) {
        ws_msg_t *m = new_msg(c, TEDDY_WS_EV_BINARY, 0);
        if (m != NULL) {
            m->len = c->rx_len; /* only the size is reported */
            (void)idf_post(&m->base);
        }
    } else {
        ws_msg_t *m = c->rx;
        c->rx = NULL;
        m->len = c->rx_len;
        m->data[m->len] = '\0';
        (void)idf_post_bulk(&m->base, m->len, &c->abandon);
    }
    c->rx_len = 0;
}

static void on_link_end(ws_conn_t *c, const esp_websocket_event_data_t *d, bool clean)
{
    if (c->opened) {
        if (c->close_code != 0) {
            post_final(c, TEDDY_WS_EV_CLOSED, 0, c->close_code, c->close_reason, NULL, 0);
        } else {
            post_final(c, TEDDY_WS_EV_CLOSED, 0, clean ? 1005 : 1006,
                       clean ? "" : "connection_lost", NULL, 0);
        }
        return;
    }
    int status = d != NULL ? d->error_handle.esp_ws_handshake_status_code : 0;
    if (status > 0 && status != 101 && !c->abandon) {
        char *body = NULL;
        size_t len = 0;
        idf_ws_probe(c, &status, &body, &len); /* SPEC §6.1 refusal reason */
        post_final(c, TEDDY_WS_EV_REFUSED, status, 0, "", body, len);
        return;
    }
    post_final(c, TEDDY_WS_EV_CLOSED, 0, 1006, "connect_failed", NULL, 0);
}

/* esp_event handler, runs in the websocket task of this conn. */
static void on_ws_event(void *arg, esp_event_base_t base, int32_t id, void *event_data)
{
    (void)base;
    ws_conn_t *c = arg;
    const esp_websocket_event_data_t *d = event_data;
    switch (id) {
    case WEBSOCKET_EVENT_CONNECTED: {
        c->opened = true;
        ws_msg_t *m = new_msg(c, TEDDY_WS_EV_OPEN, 0);
        if (m != NULL) {
            m->status = 101;
            (void)idf_post(&m->base);
        }
        break;
    }
    case WEBSOCKET_EVENT_DATA:
        if (!c->abandon) {
            on_data(c, d);
        }
        break;
    case WEBSOCKET_EVENT_DISCONNECTED:
        on_link_end(c, d, false);
        break;
    case WEBSOCKET_EVENT_CLOSED:
        on_link_end(c, d, true);
        break;
    case WEBSOCKET_EVENT_FINISH:
        on_link_end(c, NULL, false); /* no-op when a final event was already queued */
        free(c->rx);
        c->rx = NULL;
        break;
    default:
        break;
    }
}

esp_err_t teddy_port_ws_connect(const char *url, const teddy_port_header_t *headers,
                                size_t n_headers, teddy_port_ws_cb_t cb, void *arg,
                                uint32_t *out_conn_id)
{
    if (url == NULL || cb == NULL || (headers == NULL && n_headers > 0)) {
        return ESP_ERR_INVALID_ARG;
    }
    ws_conn_t *c = idf_ws_conn_new(url, headers, n_headers);
    if (c == NULL) {
        return ESP_ERR_NO_MEM;
    }
    c->id = idf_new_id();
    c->cb = cb;
    c->arg = arg;
    esp_websocket_client_config_t cfg = {
        .uri = c->url,                 /* path and percent-encoded query (SPEC §6.1) */
        .buffer_size = WS_RX_BUFFER,
        .disable_auto_reconnect = true, /* the core reconnects with backoff (SPEC §6.2) */
        .task_stack = 8192,            /* TLS handshake + the refusal probe */
        .task_prio = 5,
        .network_timeout_ms = 10000,
        .ping_interval_sec = 20,
#if CONFIG_MBEDTLS_CERTIFICATE_BUNDLE
        .crt_bundle_attach = esp_crt_bundle_attach,
#endif
    };
    c->client = esp_websocket_client_init(&cfg);
    esp_err_t err = c->client != NULL ? ESP_OK : ESP_ERR_NO_MEM;
    for (size_t i = 0; err == ESP_OK && i < c->n_hdrs; i++) {
        /* Before start: the transport copies the headers when the task connects. */
        err = esp_websocket_client_append_header(c->client, c->hdr_kv[2 * i],
                                                 c->hdr_kv[2 * i + 1]);
    }
    if (err == ESP_OK) {
        err = esp_websocket_register_events(c->client, WEBSOCKET_EVENT_ANY, on_ws_event, c);
    }
    if (err == ESP_OK) {
        xSemaphoreTake(s_lock, portMAX_DELAY);
        c->next = s_conns;
        s_conns = c;
        xSemaphoreGive(s_lock);
        err = esp_websocket_client_start(c->client);
        if (err != ESP_OK) {
            unlink_conn(c->id);
        }
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "connect %s: %s", url, esp_err_to_name(err));
        if (c->client != NULL) {
            esp_websocket_client_destroy(c->client);
        }
        idf_ws_conn_free(c);
        return err;
    }
    if (out_conn_id != NULL) {
        *out_conn_id = c->id;
    }
    return ESP_OK;
}

esp_err_t teddy_port_ws_send_text(uint32_t conn_id, const char *text, size_t len)
{
    xSemaphoreTake(s_lock, portMAX_DELAY);
    ws_conn_t *c = find_locked(conn_id);
    bool usable = c != NULL && c->opened && !c->final_posted;
    xSemaphoreGive(s_lock);
    if (!usable) {
        return ESP_ERR_INVALID_STATE;
    }
    return idf_ws_tx_text(c, text, len);
}

void teddy_port_ws_close(uint32_t conn_id, int code, const char *reason)
{
    ws_conn_t *c = unlink_conn(conn_id);
    if (c != NULL) {
        idf_ws_tx_close(c, code, reason != NULL ? reason : "");
    }
}

void idf_ws_drop_all(void)
{
    /* Wi-Fi lost (any task): every link ends as a drop without a close frame. The
     * destroy happens when the app thread delivers the final event (run_ws). Under the
     * lock: a conn cannot be unlinked and freed meanwhile. */
    xSemaphoreTake(s_lock, portMAX_DELAY);
    for (ws_conn_t *c = s_conns; c != NULL; c = c->next) {
        if (!c->final_posted) {
            c->final_posted = true;
            queue_final(c->id, TEDDY_WS_EV_CLOSED, 0, 1006, "wifi_lost", NULL, 0);
        }
    }
    xSemaphoreGive(s_lock);
}

esp_err_t idf_ws_init(void)
{
    s_lock = xSemaphoreCreateMutex();
    if (s_lock == NULL) {
        return ESP_ERR_NO_MEM;
    }
    return idf_ws_tx_init();
}
