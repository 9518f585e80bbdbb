/*
 * linux_http.c - the HTTP client of the host board: libcurl multi on its own thread.
 *
 * Every request streams: HEADERS (status + lower-case header names) once the header
 * block ends, DATA per 4096-byte read (what esp_https_ota reads per call), then DONE,
 * or FAILED at any point (connect error, stall, a cut body: SPEC §5.2 resume relies on
 * seeing the bytes that did arrive). Redirects are not followed and no proxy is used:
 * the device talks to the server it was given. Wi-Fi down, or a running image whose
 * behaviour marker broke its network (emulator/README.md), fails requests at once with
 * `network_unreachable`. The app thread only queues adds/cancels; all curl calls run
 * on the worker, woken with curl_multi_wakeup.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lx_http.h"
#include "lx_internal.h"


pthread_mutex_t lx_http_lock = PTHREAD_MUTEX_INITIALIZER;
lx_http_req_t *lx_http_reqs;
CURLM *lx_http_multi;
static pthread_t s_thread;
static atomic_bool s_stop;
bool lx_http_running;

void lx_http_post_simple(uint32_t id, teddy_http_event_kind_t kind, const char *reason)
{
    lx_http_event_t *ev = calloc(1, sizeof(*ev));
    if (ev == NULL) {
        return;
    }
    ev->id = id;
    ev->kind = kind;
    snprintf(ev->reason, sizeof(ev->reason), "%s", reason != NULL ? reason : "");
    lx_post(lx_http_dispatch, ev);
}

static void post_headers(lx_http_req_t *r)
{
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    size_t strings = 0;
    for (int i = 0; i < r->n; i++) {
        strings += strlen(r->names[i]) + strlen(r->values[i]) + 2;
    }
    lx_http_event_t *ev = calloc(1, sizeof(*ev) + strings);
    if (ev == NULL) {
        return;
    }
    ev->id = r->id;
    ev->kind = TEDDY_HTTP_EV_HEADERS;
    ev->status = (int)status;
    /* The block never moves once posted, so the header pointers point into it. */
    char *p = (char *)ev->data;
    for (int i = 0; i < r->n; i++) {
        size_t ln = strlen(r->names[i]) + 1, lv = strlen(r->values[i]) + 1;
        memcpy(p, r->names[i], ln);
        ev->headers[i].name = p;
        p += ln;
        memcpy(p, r->values[i], lv);
        ev->headers[i].value = p;
        p += lv;
    }
    ev->n_headers = (size_t)r->n;
    r->headers_posted = true;
    lx_post(lx_http_dispatch, ev);
}

static void clear_headers(lx_http_req_t *r)
{
    for (int i = 0; i < r->n; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    r->n = 0;
}

size_t lx_http_on_header(char *line, size_t size, size_t count, void *userp)
{
    lx_http_req_t *r = userp;
    size_t len = size * count;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        clear_headers(r); /* a new header block (after 100 Continue) */
        return len;
    }
    if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
        long status = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && !r->headers_posted) {
            post_headers(r);
        }
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || r->n >= MAX_HEADERS) {
        return len;
    }
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) {
        end--;
    }
    char *name = malloc(nlen + 1), *value = malloc((size_t)(end - v) + 1);
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        return len;
    }
    for (size_t i = 0; i < nlen; i++) {
        name[i] = (char)tolower((unsigned char)line[i]);
    }
    name[nlen] = '\0';
    memcpy(value, v, (size_t)(end - v));
    value[end - v] = '\0';
    r->names[r->n] = name;
    r->values[r->n++] = value;
    return len;
}

size_t lx_http_on_body(char *data, size_t size, size_t count, void *userp)
{
    lx_http_req_t *r = userp;
    size_t len = size * count;
    if (!r->headers_posted) {
        post_headers(r);
    }
    lx_http_event_t *ev = malloc(sizeof(*ev) + len);
    if (ev == NULL) {
        return 0; /* aborts the transfer: reported as FAILED */
    }
    memset(ev, 0, sizeof(*ev));
    ev->id = r->id;
    ev->kind = TEDDY_HTTP_EV_DATA;
    ev->len = len;
    memcpy(ev->data, data, len);
    lx_post(lx_http_dispatch, ev);
    return len;
}

void lx_http_free_req(lx_http_req_t *r)
{
    if (r->easy != NULL) {
        if (r->added) {
            curl_multi_remove_handle(lx_http_multi, r->easy);
        }
        curl_easy_cleanup(r->easy);
    }
    curl_slist_free_all(r->hdrs);
    clear_headers(r);
    free(r->body);
    free(r);
}

static const char *failure_reason(CURLcode code)
{
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST: return "connect_failed";
    case CURLE_PARTIAL_FILE: return "body_cut";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING: return "connection_reset";
    default: return "transfer_failed";
    }
}

/* Worker: apply queued adds/cancels, then run curl. Called with lx_http_lock held. */
static void sync_requests(void)
{
    lx_http_req_t **pp = &lx_http_reqs;
    while (*pp != NULL) {
        lx_http_req_t *r = *pp;
        if (r->cancelled) {
            *pp = r->next;
            lx_http_free_req(r);
            continue;
        }
        if (!r->added) {
            curl_multi_add_handle(lx_http_multi, r->easy);
            r->added = true;
        }
        pp = &r->next;
    }
}

static void finish_done(void)
{
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(lx_http_multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        pthread_mutex_lock(&lx_http_lock);
        for (lx_http_req_t **pp = &lx_http_reqs; *pp != NULL; pp = &(*pp)->next) {
            lx_http_req_t *r = *pp;
            if (r->easy != msg->easy_handle) {
                continue;
            }
            if (msg->data.result == CURLE_OK) {
                if (!r->headers_posted) {
                    post_headers(r);
                }
                lx_http_post_simple(r->id, TEDDY_HTTP_EV_DONE, NULL);
            } else {
                lx_http_post_simple(r->id, TEDDY_HTTP_EV_FAILED, failure_reason(msg->data.result));
            }
            *pp = r->next;
            lx_http_free_req(r);
            break;
        }
        pthread_mutex_unlock(&lx_http_lock);
    }
}

static void *worker(void *arg)
{
    (void)arg;
    while (!atomic_load(&s_stop)) {
        pthread_mutex_lock(&lx_http_lock);
        sync_requests();
        pthread_mutex_unlock(&lx_http_lock);
        int running = 0;
        curl_multi_perform(lx_http_multi, &running);
        finish_done();
        curl_multi_poll(lx_http_multi, NULL, 0, 100, NULL);
    }
    return NULL;
}

esp_err_t lx_http_init(void)
{
    static bool global;
    if (!global) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global = true;
    }
    lx_http_routes_reset();
    lx_http_multi = curl_multi_init();
    if (lx_http_multi == NULL) {
        return ESP_ERR_NO_MEM;
    }
    atomic_store(&s_stop, false);
    if (pthread_create(&s_thread, NULL, worker, NULL) != 0) {
        curl_multi_cleanup(lx_http_multi);
        return ESP_FAIL;
    }
    lx_http_running = true;
    return ESP_OK;
}

void lx_http_deinit(void)
{
    if (!lx_http_running) {
        return;
    }
    atomic_store(&s_stop, true);
    curl_multi_wakeup(lx_http_multi);
    pthread_join(s_thread, NULL);
    while (lx_http_reqs != NULL) {
        lx_http_req_t *r = lx_http_reqs;
        lx_http_reqs = r->next;
        lx_http_free_req(r);
    }
    curl_multi_cleanup(lx_http_multi);
    lx_http_multi = NULL;
    lx_http_running = false;
    lx_http_routes_reset();
}
