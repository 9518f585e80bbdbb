/*
 * idf_http_worker.c - one esp_http_client request, run by its own FreeRTOS task.
 *
 * Blocking API in order: esp_http_client_open (sends the request line and headers with
 * Content-Length), esp_http_client_write (the JSON body of a claim or refresh),
 * esp_http_client_fetch_headers, then esp_http_client_read until the body is complete.
 * Response headers are collected from HTTP_EVENT_ON_HEADER (esp_http_client_get_header()
 * returns *request* headers only), lower-cased, and posted as HEADERS; the body goes out
 * in READ_CHUNK pieces through the byte budget. Socket operations time out after
 * OP_TIMEOUT_MS and are retried, so a cancel is noticed within that time; the request
 * fails when its whole timeout_ms passes (0: when no byte arrives for IDLE_TIMEOUT_MS,
 * so a long firmware download is not cut at an arbitrary total).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"
#if CONFIG_MBEDTLS_CERTIFICATE_BUNDLE
#include "esp_crt_bundle.h"
#endif

#include "idf_http.h"

static const char *TAG = "teddy_http";

#define OP_TIMEOUT_MS 3000
#define IDLE_TIMEOUT_MS 15000

/* esp_http_client event handler (worker task): keep response headers, lower-cased. */
static esp_err_t on_http_event(esp_http_client_event_t *evt)
{
    http_job_t *job = evt->user_data;
    if (evt->event_id != HTTP_EVENT_ON_HEADER || job->n_resp >= MAX_RESP_HEADERS) {
        return ESP_OK;
    }
    char *name = strdup(evt->header_key != NULL ? evt->header_key : "");
    char *value = strdup(evt->header_value != NULL ? evt->header_value : "");
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        return ESP_OK;
    }
    for (char *c = name; *c != '\0'; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    job->resp_kv[2 * job->n_resp] = name;
    job->resp_kv[2 * job->n_resp + 1] = value;
    job->n_resp++;
    return ESP_OK;
}

static const char *resp_header(const http_job_t *job, const char *name)
{
    for (size_t i = 0; i < job->n_resp; i++) {
        if (strcmp(job->resp_kv[2 * i], name) == 0) {
            return job->resp_kv[2 * i + 1];
        }
    }
    return NULL;
}

/* Read the body into DATA messages; returns NULL on success or the failure reason. */
static const char *pump_body(http_job_t *job, esp_http_client_handle_t client,
                             int64_t deadline_us)
{
    int64_t last_progress = esp_timer_get_time();
    for (;;) {
        if (job->abandon) {
            return "cancelled";
        }
        int64_t now = esp_timer_get_time();
        if ((deadline_us > 0 && now > deadline_us) ||
            now - last_progress > (int64_t)IDLE_TIMEOUT_MS * 1000) {
            return "timeout";
        }
        http_msg_t *m = idf_http_new_msg(job, TEDDY_HTTP_EV_DATA, READ_CHUNK);
        if (m == NULL) {
            return "no_memory";
        }
        int n = esp_http_client_read(client, (char *)m->data, READ_CHUNK);
        if (n > 0) {
            m->len = (size_t)n;
            last_progress = now;
            if (idf_post_bulk(&m->base, (size_t)n, &job->abandon) != ESP_OK) {
                return "cancelled";
            }
            continue;
        }
        free(m);
        if (n == -ESP_ERR_HTTP_EAGAIN) {
            continue; /* one socket timeout; the deadline decides */
        }
        if (n == 0 && esp_http_client_is_complete_data_received(client)) {
            return NULL;
        }
        return n == 0 ? "connection_closed" : "read_error";
    }
}

static const char *perform(http_job_t *job, esp_http_client_handle_t client)
{
    int64_t start = esp_timer_get_time();
    int64_t deadline = job->timeout_ms > 0 ? start + (int64_t)job->timeout_ms * 1000 : 0;
    for (size_t i = 0; i < job->n_hdrs; i++) {
        esp_http_client_set_header(client, job->hdr_kv[2 * i], job->hdr_kv[2 * i + 1]);
    }
    if (esp_http_client_open(client, (int)job->body_len) != ESP_OK) {
        return "connect_failed";
    }
    size_t sent = 0;
    while (sent < job->body_len) {
        int n = esp_http_client_write(client, job->body + sent, (int)(job->body_len - sent));
        if (n <= 0) {
            return "write_failed";
        }
        sent += (size_t)n;
    }
    int64_t got;
    do {
        got = esp_http_client_fetch_headers(client);
    } while (got == -ESP_ERR_HTTP_EAGAIN && !job->abandon &&
             (deadline == 0 || esp_timer_get_time() < deadline) &&
             esp_timer_get_time() - start < (int64_t)IDLE_TIMEOUT_MS * 1000);
    if (got < 0) {
        return got == -ESP_ERR_HTTP_EAGAIN ? "timeout" : "bad_response";
    }
    int status = esp_http_client_get_status_code(client);
    idf_http_post_headers(job, status);
    const char *clen = resp_header(job, "content-length");
    /* esp_http_client treats a missing or zero Content-Length as chunked: never wait
     * for a body that cannot come (1xx, 204, 304, or an explicit length of 0). */
    if (status < 200 || status == 204 || status == 304 || (clen != NULL && atoll(clen) == 0)) {
        return NULL;
    }
    return pump_body(job, client, deadline);
}

void idf_http_task(void *arg)
{
    http_job_t *job = arg;
    esp_http_client_config_t cfg = {
        .url = job->url,
        .method = job->method,
        .timeout_ms = OP_TIMEOUT_MS,
        .disable_auto_redirect = true,
        .max_authorization_retries = -1,
        .event_handler = on_http_event,
        .user_data = job,
        .buffer_size = READ_CHUNK,
        .buffer_size_tx = 2048, /* request line + Authorization/If-Range headers */
#if CONFIG_MBEDTLS_CERTIFICATE_BUNDLE
        .crt_bundle_attach = esp_crt_bundle_attach, /* https:// servers (SPEC §2.7) */
#endif
    };
    const char *failure = "init_failed";
    esp_http_client_handle_t client = esp_http_client_init(&cfg);
    if (client != NULL) {
        failure = perform(job, client);
        esp_http_client_close(client);
        esp_http_client_cleanup(client);
    }
    if (failure != NULL) {
        ESP_LOGW(TAG, "request %" PRIu32 " failed: %s", job->id, failure);
    }
    if (!job->abandon) {
        idf_http_post_final(job, failure == NULL, failure != NULL ? failure : "");
    }
    idf_http_job_free(job);
    vTaskDelete(NULL);
}

