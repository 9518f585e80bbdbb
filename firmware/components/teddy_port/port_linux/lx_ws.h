/* lx_ws.h - WebSocket connection state shared by linux_ws.c and lx_ws_probe.c (private). */
#ifndef LX_WS_H
#define LX_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "teddy_port.h"

struct lws;

typedef struct lx_msg {
    struct lx_msg *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the text */
} lx_msg_t;

typedef struct lx_conn {
    struct lx_conn *next;
    uint32_t id;
    struct lws *wsi;
    char *url;  /* as given: ws[s]://host[:port]/path?query */
    char *auth; /* Authorization header value */
    char host[256];
    char path[2048];
    int port;
    bool tls;
    /* app requests (under the lock) */
    lx_msg_t *outq;
    bool close_requested, drop, abandoned;
    int close_code;
    char close_reason[124];
    /* service thread state */
    bool connecting, established, reported, destroyed;
    unsigned char *rx;
    size_t rx_len;
    bool rx_binary;
    bool oversize; /* a message over TEDDY_PORT_WS_MAX_FRAME: closing with 1009 */
    int peer_code, local_code;
    char peer_reason[124], local_reason[124];
} lx_conn_t;

/* Event payload posted to the app thread. */
typedef struct {
    uint32_t id;
    teddy_ws_event_kind_t kind;
    int status, close_code;
    char reason[128];
    size_t len;
    char data[]; /* TEXT / REFUSED body, NUL-terminated */
} lx_ws_event_t;

void lx_ws_post(uint32_t id, teddy_ws_event_kind_t kind, int status, int code,
                const char *reason, const void *data, size_t len);
/* Split c->url into host, port, path (with query), tls. */
esp_err_t lx_ws_split_url(lx_conn_t *c);
/* Repeat the refused upgrade with libcurl to read its SPEC §6.1 body, then post
 * REFUSED (on a helper thread: the service thread never blocks). */
void lx_ws_denial_probe(uint32_t id, const char *url, const char *auth, int status);

/* Shared between linux_ws.c (service thread) and linux_ws_api.c (app thread). */
extern pthread_mutex_t lx_ws_lock;
extern lx_conn_t *lx_ws_conns;
extern struct lws_context *lx_ws_ctx;
extern bool lx_ws_running;
void lx_ws_free_conn(lx_conn_t *c);
void lx_ws_routes_reset(void);

#endif /* LX_WS_H */
