/*
 * idf_http.h - what the two HTTP files of port_idf share (private).
 *
 * idf_http.c owns the request registry, the app-thread messages and the teddy_port
 * API; idf_http_worker.c the FreeRTOS task that drives esp_http_client for one request.
 */
#ifndef IDF_HTTP_H
#define IDF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_http_client.h"
#include "idf_internal.h"

#define MAX_RESP_HEADERS 24
#define READ_CHUNK 2048

typedef struct http_job {
    uint32_t id;
    volatile bool abandon; /* cancelled, or failed by idf_http_abort_all() */
    teddy_port_http_cb_t cb;
    void *arg;
    esp_http_client_method_t method;
    char *url;
    char *body;
    size_t body_len;
    size_t n_hdrs;
    char **hdr_kv; /* name0, value0, name1, ... */
    uint32_t timeout_ms;
    size_t n_resp;
    char *resp_kv[2 * MAX_RESP_HEADERS];
    struct http_job *next;
} http_job_t;

typedef struct {
    idf_msg_t base;
    uint32_t id;
    teddy_port_http_cb_t cb;
    void *arg;
    teddy_http_event_kind_t kind;
    int status;
    size_t n_headers;
    teddy_port_header_t headers[MAX_RESP_HEADERS];
    char reason[32];
    size_t len;
    uint8_t data[]; /* DATA bytes, or the header strings */
} http_msg_t;

/* idf_http.c: messages to the app thread (worker task side). */
http_msg_t *idf_http_new_msg(const http_job_t *job, teddy_http_event_kind_t kind, size_t extra);
void idf_http_post_headers(const http_job_t *job, int status);
void idf_http_post_final(const http_job_t *job, bool ok, const char *reason);
/* Unlink from the registry and free (worker task, at its end). */
void idf_http_job_free(http_job_t *job);

/* idf_http_worker.c: the worker task; arg is the http_job_t it owns. */
void idf_http_task(void *arg);

#endif /* IDF_HTTP_H */
