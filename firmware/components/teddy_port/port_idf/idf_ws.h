/*
 * idf_ws.h - what the three WebSocket files of port_idf share (private).
 *
 * idf_ws.c owns the registry and the esp_websocket_client events; idf_ws_tx.c the conn
 * objects and the one sender task (sends, close frames, esp_websocket_client_destroy);
 * idf_ws_probe.c the read-back of a refused handshake's 403 body (SPEC §6.1).
 */
#ifndef IDF_WS_H
#define IDF_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_websocket_client.h"
#include "teddy_port.h"

typedef struct ws_conn {
    uint32_t id;
    esp_websocket_client_handle_t client;
    teddy_port_ws_cb_t cb;
    void *arg;
    char *url;
    size_t n_hdrs;
    char **hdr_kv; /* name0, value0, ...: kept for the refusal probe */
    volatile bool abandon;  /* the app is done with it: post nothing, block on nothing */
    bool final_posted;      /* REFUSED/CLOSED queued (guarded by the registry lock) */
    /* Written by the websocket task only. */
    bool opened;
    int close_code;         /* from the server's close frame, 0 = none */
    char close_reason[124]; /* RFC 6455: at most 123 bytes of reason */
    struct idf_ws_rx *rx;   /* message being assembled */
    size_t rx_len;
    bool rx_binary;
    bool rx_oversize;
    struct ws_conn *next;
} ws_conn_t;

/* Sender task (idf_ws_tx.c). Items run in order; CLOSE and DESTROY free the conn. */
esp_err_t idf_ws_tx_init(void);
esp_err_t idf_ws_tx_text(ws_conn_t *conn, const char *text, size_t len);
/* Send a close frame (code, reason) if still connected, then destroy and free. */
void idf_ws_tx_close(ws_conn_t *conn, int code, const char *reason);
/* Destroy and free without a close frame (the link already ended or is abandoned). */
void idf_ws_tx_destroy(ws_conn_t *conn);
/* A conn with copies of the URL and the handshake headers (no client yet). */
ws_conn_t *idf_ws_conn_new(const char *url, const teddy_port_header_t *headers, size_t n);
/* Free a conn whose client is already destroyed or was never created. */
void idf_ws_conn_free(ws_conn_t *conn);

/* Repeat the refused upgrade with esp_http_client and read the SPEC §1.2 body
 * (websocket task; blocking). *body is malloc'd (may be NULL), *len its size. */
void idf_ws_probe(const ws_conn_t *conn, int *status, char **body, size_t *len);

#endif /* IDF_WS_H */
