/* lx_http.h - state shared by linux_http.c (curl worker) and linux_http_api.c (private). */
#ifndef LX_HTTP_H
#define LX_HTTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "teddy_port.h"

#define MAX_HEADERS 48
#define READ_CHUNK 4096

typedef struct lx_http_req {
    struct lx_http_req *next;
    uint32_t id;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    bool added, cancelled, headers_posted;
    /* response header block being collected (worker thread only) */
    int n;
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS];
} lx_http_req_t;

typedef struct {
    uint32_t id;
    teddy_port_http_cb_t cb;
    void *arg;
} lx_http_route_t;

/* Event payload: one block, pointers into itself. */
typedef struct {
    uint32_t id;
    teddy_http_event_kind_t kind;
    int status;
    size_t n_headers;
    teddy_port_header_t headers[MAX_HEADERS];
    size_t len;
    char reason[48];
    uint8_t data[]; /* DATA bytes, or the header strings */
} lx_http_event_t;

extern pthread_mutex_t lx_http_lock;
extern lx_http_req_t *lx_http_reqs;
extern CURLM *lx_http_multi;
extern bool lx_http_running;

/* worker side (linux_http.c) */
void lx_http_post_simple(uint32_t id, teddy_http_event_kind_t kind, const char *reason);
void lx_http_free_req(lx_http_req_t *r);
size_t lx_http_on_header(char *line, size_t size, size_t count, void *userp);
size_t lx_http_on_body(char *data, size_t size, size_t count, void *userp);
/* app side (linux_http_api.c) */
void lx_http_dispatch(void *payload);
void lx_http_routes_reset(void);

#endif /* LX_HTTP_H */
