/*
 * idf_http.c - teddy_port HTTP client on esp_http_client: claim and refresh (SPEC §2.3,
 * §3.2), config and manifest with If-None-Match (§4.2, §5.1), image download with
 * Range / If-Range (§5.2).
 *
 * One FreeRTOS worker task per request (idf_http_worker.c) drives the blocking
 * esp_http_client API, so a 1.5 MB download never stalls the app thread, and posts
 * HEADERS, DATA*, then DONE or FAILED to the app queue. Body bytes go through the byte
 * budget (idf_internal.h), so a slow app thread throttles the TCP download instead of
 * filling the heap. This file owns the registry of running requests, the messages and
 * the teddy_port API.
 *
 * Liveness: the app thread keeps the ids it still wants (s_live); a cancelled id, or
 * one whose final event was delivered, is dropped from it and late messages for it are
 * discarded, which gives teddy_port.h's "no callback after cancel" without waiting for
 * the worker. Redirects are not followed (SPEC never redirects).
 */
#include <stdlib.h>
#include <string.h>

#include "freertos/FreeRTOS.h"
#include "freertos/semphr.h"
#include "freertos/task.h"

#include "idf_http.h"

#define MAX_REQUESTS 4 /* concurrent requests (the core runs one or two) */

static SemaphoreHandle_t s_lock; /* guards s_jobs */
static http_job_t *s_jobs;
static uint32_t s_live[MAX_REQUESTS]; /* app thread only */

/* s_live slot of id, or -1 (id 0 finds a free slot). */
static int live_find(uint32_t id)
{
    for (int i = 0; i < MAX_REQUESTS; i++) {
        if (s_live[i] == id) {
            return i;
        }
    }
    return -1;
}

static void live_remove(uint32_t id)
{
    int i = id != 0 ? live_find(id) : -1;
    if (i >= 0) {
        s_live[i] = 0;
    }
}

static void run_http(idf_msg_t *msg)
{
    http_msg_t *m = (http_msg_t *)msg;
    if (live_find(m->id) < 0) {
        return; /* cancelled, or already finished */
    }
    bool final = m->kind == TEDDY_HTTP_EV_DONE || m->kind == TEDDY_HTTP_EV_FAILED;
    if (final) {
        live_remove(m->id);
    }
    teddy_http_event_t ev = {
        .kind = m->kind,
        .status = m->status,
        .headers = m->headers,
        .n_headers = m->n_headers,
        .data = m->data,
        .len = m->len,
        .reason = m->reason,
    };
    m->cb(m->id, &ev, m->arg);
}

http_msg_t *idf_http_new_msg(const http_job_t *job, teddy_http_event_kind_t kind, size_t extra)
{
    http_msg_t *m = idf_msg_alloc(sizeof(*m) + extra, run_http);
    if (m != NULL) {
        m->id = job->id;
        m->cb = job->cb;
        m->arg = job->arg;
        m->kind = kind;
    }
    return m;
}

void idf_http_post_final(const http_job_t *job, bool ok, const char *reason)
{
    http_msg_t *m = idf_http_new_msg(job, ok ? TEDDY_HTTP_EV_DONE : TEDDY_HTTP_EV_FAILED, 0);
    if (m != NULL) {
        idf_strlcpy(m->reason, reason, sizeof(m->reason));
        (void)idf_post(&m->base);
    }
}

void idf_http_post_headers(const http_job_t *job, int status)
{
    size_t blob = 0;
    for (size_t i = 0; i < 2 * job->n_resp; i++) {
        blob += strlen(job->resp_kv[i]) + 1;
    }
    http_msg_t *m = idf_http_new_msg(job, TEDDY_HTTP_EV_HEADERS, blob);
    if (m == NULL) {
        return;
    }
    m->status = status;
    char *p = (char *)m->data;
    for (size_t i = 0; i < job->n_resp; i++) {
        for (int k = 0; k < 2; k++) {
            size_t n = strlen(job->resp_kv[2 * i + k]) + 1;
            memcpy(p, job->resp_kv[2 * i + k], n);
            if (k == 0) {
                m->headers[i].name = p;
            } else {
                m->headers[i].value = p;
            }
            p += n;
        }
    }
    m->n_headers = job->n_resp;
    (void)idf_post(&m->base);
}

void idf_http_job_free(http_job_t *job)
{
    xSemaphoreTake(s_lock, portMAX_DELAY);
    for (http_job_t **pp = &s_jobs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == job) {
            *pp = job->next;
            break;
        }
    }
    xSemaphoreGive(s_lock);
    for (size_t i = 0; i < 2 * job->n_resp; i++) {
        free(job->resp_kv[i]);
    }
    for (size_t i = 0; i < 2 * job->n_hdrs; i++) {
        free(job->hdr_kv[i]);
    }
    free(job->hdr_kv);
    free(job->url);
    free(job->body);
    free(job);
}

static http_job_t *job_new(const teddy_port_http_request_t *req)
{
    http_job_t *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        return NULL;
    }
    job->method = strcmp(req->method, "POST") == 0 ? HTTP_METHOD_POST : HTTP_METHOD_GET;
    job->url = strdup(req->url);
    job->body_len = req->body != NULL ? req->body_len : 0;
    job->body = malloc(job->body_len + 1);
    if (job->body != NULL && job->body_len > 0) {
        memcpy(job->body, req->body, job->body_len);
    }
    job->timeout_ms = req->timeout_ms;
    job->hdr_kv = calloc(2 * req->n_headers + 1, sizeof(char *));
    bool ok = job->url != NULL && job->body != NULL && job->hdr_kv != NULL;
    for (size_t i = 0; ok && i < req->n_headers; i++) {
        job->hdr_kv[2 * i] = strdup(req->headers[i].name);
        job->hdr_kv[2 * i + 1] = strdup(req->headers[i].value);
        job->n_hdrs = i + 1;
        ok = job->hdr_kv[2 * i] != NULL && job->hdr_kv[2 * i + 1] != NULL;
    }
    if (!ok) {
        idf_http_job_free(job);
        return NULL;
    }
    return job;
}

esp_err_t teddy_port_http_start(const teddy_port_http_request_t *req, teddy_port_http_cb_t cb,
                                void *arg, uint32_t *out_req_id)
{
    if (req == NULL || req->url == NULL || req->method == NULL || cb == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    int slot = live_find(0);
    if (slot < 0) {
        return ESP_ERR_INVALID_STATE; /* too many requests in flight */
    }
    http_job_t *job = job_new(req);
    if (job == NULL) {
        return ESP_ERR_NO_MEM;
    }
    job->id = idf_new_id();
    job->cb = cb;
    job->arg = arg;
    xSemaphoreTake(s_lock, portMAX_DELAY);
    job->next = s_jobs;
    s_jobs = job;
    xSemaphoreGive(s_lock);
    bool tls = strncmp(req->url, "https:", 6) == 0;
    uint32_t id = job->id;
    s_live[slot] = id; /* messages are only dispatched on this (app) thread, later */
    if (xTaskCreate(idf_http_task, "teddy_http", tls ? 8192 : 6144, job, 5, NULL) != pdPASS) {
        s_live[slot] = 0;
        idf_http_job_free(job);
        return ESP_ERR_NO_MEM;
    }
    if (out_req_id != NULL) {
        *out_req_id = id;
    }
    return ESP_OK;
}

void teddy_port_http_cancel(uint32_t req_id)
{
    live_remove(req_id);
    xSemaphoreTake(s_lock, portMAX_DELAY);
    for (http_job_t *job = s_jobs; job != NULL; job = job->next) {
        if (job->id == req_id) {
            job->abandon = true; /* the worker stops at its next read or post */
        }
    }
    xSemaphoreGive(s_lock);
}

void idf_http_abort_all(void)
{
    xSemaphoreTake(s_lock, portMAX_DELAY);
    for (http_job_t *job = s_jobs; job != NULL; job = job->next) {
        if (!job->abandon) {
            job->abandon = true;
            idf_http_post_final(job, false, "wifi_lost");
        }
    }
    xSemaphoreGive(s_lock);
}

esp_err_t idf_http_init(void)
{
    s_lock = xSemaphoreCreateMutex();
    return s_lock != NULL ? ESP_OK : ESP_ERR_NO_MEM;
}
