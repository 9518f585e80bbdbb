/*
 * lx_ws_probe.c - WebSocket URL splitting and the denial probe (see linux_ws.c).
 *
 * SPEC §6.1: a refused handshake is an HTTP 403 whose SPEC §1.2 body names the reason.
 * libwebsockets 4.1 drops that body, so the probe sends the same upgrade request
 * (same URL, same Authorization, a fresh Sec-WebSocket-Key) with libcurl, reads the
 * status and up to 8 KiB of body, and reports TEDDY_WS_EV_REFUSED with them. If the
 * probe cannot get an answer, the status lws saw is reported with an empty body (the
 * core then uses `http_<status>` as the reason, like the emulator).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lx_internal.h"
#include "lx_ws.h"

#define PROBE_BODY_MAX 8192

typedef struct {
    uint32_t id;
    int status;
    char *url;
    char *auth;
    char body[PROBE_BODY_MAX + 1];
    size_t len;
} probe_t;

esp_err_t lx_ws_split_url(lx_conn_t *c)
{
    const char *u = c->url;
    if (strncmp(u, "ws://", 5) == 0) {
        c->tls = false;
        u += 5;
    } else if (strncmp(u, "wss://", 6) == 0) {
        c->tls = true;
        u += 6;
    } else {
        return ESP_ERR_INVALID_ARG;
    }
    size_t hostlen = strcspn(u, ":/?");
    if (hostlen == 0 || hostlen >= sizeof(c->host)) {
        return ESP_ERR_INVALID_ARG;
    }
    memcpy(c->host, u, hostlen);
    c->host[hostlen] = '\0';
    u += hostlen;
    c->port = c->tls ? 443 : 80;
    if (*u == ':') {
        char *end = NULL;
        long port = strtol(u + 1, &end, 10);
        if (end == u + 1 || port <= 0 || port > 65535) {
            return ESP_ERR_INVALID_ARG;
        }
        c->port = (int)port;
        u = end;
    }
    int n = snprintf(c->path, sizeof(c->path), "%s%s", *u == '/' ? "" : "/", u);
    return n > 0 && (size_t)n < sizeof(c->path) ? ESP_OK : ESP_ERR_INVALID_SIZE;
}

static size_t on_body(char *data, size_t size, size_t count, void *userp)
{
    probe_t *p = userp;
    size_t len = size * count, room = PROBE_BODY_MAX - p->len;
    memcpy(p->body + p->len, data, len < room ? len : room);
    p->len += len < room ? len : room;
    return len;
}

static void *probe_main(void *arg)
{
    probe_t *p = arg;
    char http_url[2200], key[32], auth[2100];
    uint8_t nonce[16];
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    teddy_port_random(nonce, sizeof(nonce));
    for (int i = 0; i < 5; i++) { /* 15 bytes -> 20 chars, then 1 byte + "==" */
        uint32_t v = (uint32_t)nonce[3 * i] << 16 | (uint32_t)nonce[3 * i + 1] << 8 |
                     nonce[3 * i + 2];
        for (int j = 0; j < 4; j++) {
            key[4 * i + j] = b64[(v >> (18 - 6 * j)) & 63];
        }
    }
    key[20] = b64[nonce[15] >> 2];
    key[21] = b64[(nonce[15] & 3) << 4];
    key[22] = key[23] = '=';
    key[24] = '\0';
    snprintf(http_url, sizeof(http_url), "http%s", p->url + 2); /* ws:// -> http:// */
    CURL *e = curl_easy_init();
    if (e != NULL) {
        char keyh[64];
        struct curl_slist *h = NULL;
        snprintf(keyh, sizeof(keyh), "Sec-WebSocket-Key: %s", key);
        h = curl_slist_append(h, "Connection: Upgrade");
        h = curl_slist_append(h, "Upgrade: websocket");
        h = curl_slist_append(h, "Sec-WebSocket-Version: 13");
        h = curl_slist_append(h, keyh);
        if (p->auth != NULL) {
            snprintf(auth, sizeof(auth), "Authorization: %s", p->auth);
            h = curl_slist_append(h, auth);
        }
        curl_easy_setopt(e, CURLOPT_URL, http_url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 3000L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
        if (curl_easy_perform(e) == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (status >= 400) {
                p->status = (int)status;
            } else {
                p->len = 0; /* not a refusal this time: only the status lws saw counts */
            }
        } else {
            p->len = 0;
        }
        curl_slist_free_all(h);
        curl_easy_cleanup(e);
    }
    lx_ws_post(p->id, TEDDY_WS_EV_REFUSED, p->status != 0 ? p->status : 403, 1008, NULL,
               p->body, p->len);
    free(p->url);
    free(p->auth);
    free(p);
    return NULL;
}

void lx_ws_denial_probe(uint32_t id, const char *url, const char *auth, int status)
{
    probe_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        lx_ws_post(id, TEDDY_WS_EV_REFUSED, status, 1008, NULL, NULL, 0);
        return;
    }
    p->id = id;
    p->status = status;
    p->url = strdup(url);
    p->auth = auth != NULL ? strdup(auth) : NULL;
    pthread_t thread;
    if (p->url == NULL || pthread_create(&thread, NULL, probe_main, p) != 0) {
        lx_ws_post(id, TEDDY_WS_EV_REFUSED, status, 1008, NULL, NULL, 0);
        free(p->url);
        free(p->auth);
        free(p);
        return;
    }
    pthread_detach(thread);
}
