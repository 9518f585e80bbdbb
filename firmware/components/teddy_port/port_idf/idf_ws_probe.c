/*
 * idf_ws_probe.c - read back the body of a refused WebSocket handshake (SPEC §6.1).
 *
 * The server refuses an upgrade with HTTP 403 and a SPEC §1.2 body whose `code` is the
 * reason (missing_token, invalid_token, token_expired, session_revoked, invalid_query,
 * age_out_of_range, token_mismatch); the device's reaction depends on it (refresh,
 * claim again, or wait for `set`). esp_websocket_client (tcp_transport's ws_connect)
 * keeps only the status code (esp_ws_handshake_status_code) and drops the body. So, as
 * port_linux does for libwebsockets, the port repeats the same upgrade request once
 * with esp_http_client (same URL with http/https, same headers, a fresh
 * Sec-WebSocket-Key) and reads up to 8 KiB of the answer. The server's checks are
 * deterministic, so it refuses again for the same reason (it logs a second refusal).
 * If the probe gets no answer, the status the client saw is reported with an empty
 * body and the core falls back to the reason `http_<status>`.
 */
#include <stdlib.h>
#include <string.h>

#include "esp_http_client.h"
#include "esp_log.h"
#include "esp_random.h"
#include "mbedtls/base64.h"
#include "sdkconfig.h"
#if CONFIG_MBEDTLS_CERTIFICATE_BUNDLE
#include "esp_crt_bundle.h"
#endif

#include "idf_internal.h"
#include "idf_ws.h"

static const char *TAG = "teddy_ws_probe";

#define PROBE_BODY_MAX 8192
#define PROBE_TIMEOUT_MS 5000

/* ws://h/p -> http://h/p, wss://h/p -> https://h/p (malloc'd). */
static char *http_url(const char *ws_url)
{
    const char *rest;
    const char *scheme;
    if (strncmp(ws_url, "wss://", 6) == 0) {
        scheme = "https://";
        rest = ws_url + 6;
    } else if (strncmp(ws_url, "ws://", 5) == 0) {
        scheme = "http://";
        rest = ws_url + 5;
    } else {
        return NULL;
    }
    size_t n = strlen(scheme) + strlen(rest) + 1;
    char *url = malloc(n);
    if (url != NULL) {
        strcpy(url, scheme);
        strcat(url, rest);
    }
    return url;
}

static int read_body(esp_http_client_handle_t client, char *body)
{
    int total = 0;
    while (total < PROBE_BODY_MAX) {
        int n = esp_http_client_read(client, body + total, PROBE_BODY_MAX - total);
        if (n <= 0) {
            break;
        }
        total += n;
    }
    return total;
}

/* Send the repeated upgrade; returns the status (-1: no answer) and fills buf. */
static int probe_request(esp_http_client_handle_t client, const ws_conn_t *conn, char *buf,
                         int *body_len)
{
    uint8_t nonce[16];
    unsigned char key[32];
    size_t key_len = 0;
    esp_fill_random(nonce, sizeof(nonce));
    if (mbedtls_base64_encode(key, sizeof(key) - 1, &key_len, nonce, sizeof(nonce)) != 0) {
        return -1;
    }
    key[key_len] = '\0';
    for (size_t i = 0; i < conn->n_hdrs; i++) {
        esp_http_client_set_header(client, conn->hdr_kv[2 * i], conn->hdr_kv[2 * i + 1]);
    }
    esp_http_client_set_header(client, "Upgrade", "websocket");
    esp_http_client_set_header(client, "Connection", "Upgrade");
    esp_http_client_set_header(client, "Sec-WebSocket-Version", "13");
    esp_http_client_set_header(client, "Sec-WebSocket-Key", (const char *)key);
    if (esp_http_client_open(client, 0) != ESP_OK || esp_http_client_fetch_headers(client) < 0) {
        return -1;
    }
    int status = esp_http_client_get_status_code(client);
    if (status != 101) {
        *body_len = read_body(client, buf);
        buf[*body_len] = '\0';
    }
    return status;
}

void idf_ws_probe(const ws_conn_t *conn, int *status, char **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    char *url = http_url(conn->url);
    char *buf = malloc(PROBE_BODY_MAX + 1);
    esp_http_client_config_t cfg = {
        .url = url,
        .method = HTTP_METHOD_GET,
        .timeout_ms = PROBE_TIMEOUT_MS,
        .disable_auto_redirect = true,
        .max_authorization_retries = -1,
        .buffer_size_tx = 2048, /* the query and the bearer token are long */
#if CONFIG_MBEDTLS_CERTIFICATE_BUNDLE
        .crt_bundle_attach = esp_crt_bundle_attach,
#endif
    };
    esp_http_client_handle_t client =
        url != NULL && buf != NULL ? esp_http_client_init(&cfg) : NULL;
    if (client != NULL) {
        int body_len = 0;
        int got = probe_request(client, conn, buf, &body_len);
        /* 101: accepted this time (a token refreshed meanwhile): keep the first
         * answer's status and no body; the core retries. */
        if (got > 0 && got != 101) {
            *status = got;
            *body = buf;
            *len = (size_t)body_len;
            buf = NULL;
        }
        esp_http_client_close(client);
        esp_http_client_cleanup(client);
    }
    if (*body == NULL) {
        ESP_LOGW(TAG, "no refusal body for %s (status %d)", conn->url, *status);
    }
    free(buf);
    free(url);
}
