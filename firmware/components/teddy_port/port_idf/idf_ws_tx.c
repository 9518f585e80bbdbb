/*
 * idf_ws_tx.c - the WebSocket sender task: text frames in order, close frames, and
 * esp_websocket_client_destroy().
 *
 * Why a task instead of calling esp_websocket_client_send_text() on the app thread:
 * the websocket task holds the client's lock while it runs our event handler, and that
 * handler may wait for the app queue's byte budget (idf_ws.c, back-pressure). An app
 * thread blocked on the same lock could then never drain the queue. Queuing the frame
 * here keeps the app thread free, so the budget always drains. Closing and destroying
 * also block (they wait for the websocket task to end) and may not run in the
 * websocket task itself, so they are done here too, after every frame queued before.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/task.h"

#include "idf_internal.h"
#include "idf_ws.h"

static const char *TAG = "teddy_ws_tx";

#define TX_QUEUE_LEN 16
#define SEND_TIMEOUT_MS 5000
#define CLOSE_TIMEOUT_MS 2000

typedef enum { TX_TEXT, TX_CLOSE, TX_DESTROY } tx_op_t;

typedef struct {
    tx_op_t op;
    ws_conn_t *conn;
    int code;
    size_t len;
    char data[]; /* TEXT frame, or the close reason (NUL-terminated) */
} tx_item_t;

static QueueHandle_t s_txq;

void idf_ws_conn_free(ws_conn_t *conn)
{
    if (conn == NULL) {
        return;
    }
    for (size_t i = 0; conn->hdr_kv != NULL && i < 2 * conn->n_hdrs; i++) {
        free(conn->hdr_kv[i]);
    }
    free(conn->hdr_kv);
    free(conn->url);
    free(conn->rx);
    free(conn);
}

ws_conn_t *idf_ws_conn_new(const char *url, const teddy_port_header_t *headers, size_t n)
{
    ws_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->url = strdup(url);
    c->hdr_kv = calloc(2 * n + 1, sizeof(char *));
    bool ok = c->url != NULL && c->hdr_kv != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        c->hdr_kv[2 * i] = strdup(headers[i].name);
        c->hdr_kv[2 * i + 1] = strdup(headers[i].value);
        c->n_hdrs = i + 1;
        ok = c->hdr_kv[2 * i] != NULL && c->hdr_kv[2 * i + 1] != NULL;
    }
    if (!ok) {
        idf_ws_conn_free(c);
        return NULL;
    }
    return c;
}

static void do_text(tx_item_t *item)
{
    ws_conn_t *c = item->conn;
    if (c->abandon || !esp_websocket_client_is_connected(c->client)) {
        return; /* closed meanwhile: the core hears CLOSED, not a send error */
    }
    int sent = esp_websocket_client_send_text(c->client, item->data, (int)item->len,
                                              pdMS_TO_TICKS(SEND_TIMEOUT_MS));
    if (sent != (int)item->len) {
        /* The client aborts the link itself on a write error: CLOSED 1006 follows. */
        ESP_LOGW(TAG, "send of %u bytes failed (%d)", (unsigned)item->len, sent);
    }
}

static void do_close(tx_item_t *item)
{
    ws_conn_t *c = item->conn;
    if (esp_websocket_client_is_connected(c->client)) {
        /* SPEC §6.2: 1000 normal (`wifi down`, factory reset), 1001 reboot/ota, 1009. */
        esp_websocket_client_close_with_code(c->client, item->code, item->data,
                                             (int)strlen(item->data),
                                             pdMS_TO_TICKS(CLOSE_TIMEOUT_MS));
    }
    esp_websocket_client_destroy(c->client); /* stops the websocket task first */
    idf_ws_conn_free(c);
}

static void do_destroy(tx_item_t *item)
{
    esp_websocket_client_destroy(item->conn->client);
    idf_ws_conn_free(item->conn);
}

static void tx_task(void *arg)
{
    (void)arg;
    for (;;) {
        tx_item_t *item = NULL;
        if (xQueueReceive(s_txq, &item, portMAX_DELAY) != pdTRUE || item == NULL) {
            continue;
        }
        switch (item->op) {
        case TX_TEXT: do_text(item); break;
        case TX_CLOSE: do_close(item); break;
        case TX_DESTROY: do_destroy(item); break;
        }
        free(item);
    }
}

static esp_err_t enqueue(tx_op_t op, ws_conn_t *conn, int code, const char *data, size_t len,
                         TickType_t wait)
{
    tx_item_t *item = malloc(sizeof(*item) + len + 1);
    if (item == NULL) {
        return ESP_ERR_NO_MEM;
    }
    item->op = op;
    item->conn = conn;
    item->code = code;
    item->len = len;
    if (len > 0) {
        memcpy(item->data, data, len);
    }
    item->data[len] = '\0';
    if (xQueueSend(s_txq, &item, wait) != pdTRUE) {
        free(item);
        return ESP_ERR_TIMEOUT;
    }
    return ESP_OK;
}

esp_err_t idf_ws_tx_text(ws_conn_t *conn, const char *text, size_t len)
{
    if (text == NULL && len > 0) {
        return ESP_ERR_INVALID_ARG;
    }
    /* A short wait only: the queue drains at network speed, and the app thread must
     * not block for long (see the file comment). */
    return enqueue(TX_TEXT, conn, 0, text, len, pdMS_TO_TICKS(200));
}

void idf_ws_tx_close(ws_conn_t *conn, int code, const char *reason)
{
    /* Close and destroy must happen, or the client leaks: wait for a slot. */
    size_t rl = strnlen(reason, 123); /* RFC 6455 control frames: 125-byte payload */
    if (enqueue(TX_CLOSE, conn, code, reason, rl, portMAX_DELAY) != ESP_OK) {
        ESP_LOGE(TAG, "close of conn %" PRIu32 " lost", conn->id);
    }
}

void idf_ws_tx_destroy(ws_conn_t *conn)
{
    if (enqueue(TX_DESTROY, conn, 0, NULL, 0, portMAX_DELAY) != ESP_OK) {
        ESP_LOGE(TAG, "destroy of conn %" PRIu32 " lost", conn->id);
    }
}

esp_err_t idf_ws_tx_init(void)
{
    s_txq = xQueueCreate(TX_QUEUE_LEN, sizeof(tx_item_t *));
    if (s_txq == NULL) {
        return ESP_ERR_NO_MEM;
    }
    /* Stack: esp_websocket_client_close_with_code + destroy, no TLS work here. */
    if (xTaskCreate(tx_task, "teddy_ws_tx", 4096, NULL, 5, NULL) != pdPASS) {
        return ESP_ERR_NO_MEM;
    }
    return ESP_OK;
}
