/*
 * idf_wifi.c - Wi-Fi station (SPEC §8.2 wifi.up / wifi.down) and SNTP (time.synced).
 *
 * The station joins CONFIG_TEDDY_WIFI_SSID and keeps rejoining on its own (1 s doubling
 * to 30 s) while the core wants the network; the core hears one `up` per association
 * and one `down` per loss (or per failed join). When the link drops, every HTTP request
 * fails and every WebSocket is dropped as CLOSED 1006 before the core hears `down`,
 * the order port_linux gives for the same event. A generation counter discards events
 * of a join the core has since cancelled (`wifi down`).
 *
 * SNTP: esp_netif_sntp (lwIP SNTP) with CONFIG_TEDDY_NTP_SERVER; the first sync after
 * each teddy_port_time_sync() call is reported. A board with no answer simply never
 * reports, so `time.synced` is only printed for a real sync (SPEC §8.2).
 */
#include <stdio.h>
#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_netif_sntp.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "sdkconfig.h"

#include "idf_internal.h"

static const char *TAG = "teddy_wifi";

typedef struct {
    idf_msg_t base;
    bool up;
    uint32_t gen;
    char ip[16];
} wifi_msg_t;

typedef struct {
    idf_msg_t base;
    int64_t epoch;
} time_msg_t;

static teddy_port_wifi_cb_t s_cb;
static void *s_cb_arg;
static volatile uint32_t s_gen;   /* bumped by every connect/disconnect call */
static volatile bool s_want;      /* the core wants the station joined */
static volatile bool s_up;        /* we have an IP */
static volatile bool s_fail_told; /* a failed join was reported since connect() */
static bool s_started;
static uint32_t s_retry_ms = 1000;
static esp_timer_handle_t s_retry_timer;

static teddy_port_time_cb_t s_time_cb;
static void *s_time_arg;
static volatile bool s_time_want;
static bool s_sntp_up;

static void run_wifi(idf_msg_t *msg)
{
    wifi_msg_t *m = (wifi_msg_t *)msg;
    if (m->gen != s_gen || s_cb == NULL) {
        return; /* from a join the core cancelled since */
    }
    s_cb(m->up, m->ip, s_cb_arg);
}

static void post_wifi(bool up, const char *ip)
{
    wifi_msg_t *m = idf_msg_alloc(sizeof(*m), run_wifi);
    if (m == NULL) {
        return;
    }
    m->up = up;
    m->gen = s_gen;
    idf_strlcpy(m->ip, ip, sizeof(m->ip));
    (void)idf_post(&m->base);
}

static void retry_cb(void *arg)
{
    (void)arg;
    if (s_want && !s_up) {
        esp_wifi_connect();
    }
}

static void on_wifi_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    if (base == WIFI_EVENT && id == WIFI_EVENT_STA_START) {
        if (s_want) {
            esp_wifi_connect();
        }
    } else if (base == WIFI_EVENT && id == WIFI_EVENT_STA_DISCONNECTED) {
        const wifi_event_sta_disconnected_t *ev = data;
        ESP_LOGI(TAG, "disconnected, reason %d", ev != NULL ? ev->reason : -1);
        if (s_up) {
            s_up = false;
            idf_http_abort_all(); /* a lost AP: requests fail, sockets drop (1006) */
            idf_ws_drop_all();
            post_wifi(false, "");
        } else if (s_want && !s_fail_told) {
            s_fail_told = true;
            post_wifi(false, "");
        }
        if (s_want) {
            esp_timer_stop(s_retry_timer); /* not running is fine */
            esp_timer_start_once(s_retry_timer, (uint64_t)s_retry_ms * 1000);
            s_retry_ms = s_retry_ms >= 15000 ? 30000 : s_retry_ms * 2;
        }
    } else if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) {
        const ip_event_got_ip_t *ev = data;
        char ip[16];
        snprintf(ip, sizeof(ip), IPSTR, IP2STR(&ev->ip_info.ip));
        s_up = true;
        s_fail_told = false;
        s_retry_ms = 1000;
        post_wifi(true, ip);
    }
}

esp_err_t idf_wifi_init(void)
{
    const esp_timer_create_args_t targs = {.callback = retry_cb, .name = "teddy_wifi_retry"};
    esp_err_t err = esp_timer_create(&targs, &s_retry_timer);
    if (err == ESP_OK) {
        err = esp_event_handler_instance_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_wifi_event,
                                                  NULL, NULL);
    }
    if (err == ESP_OK) {
        err = esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_wifi_event,
                                                  NULL, NULL);
    }
    if (err == ESP_OK) {
        /* Credentials come from Kconfig on every boot; keep them out of NVS. */
        err = esp_wifi_set_storage(WIFI_STORAGE_RAM);
    }
    if (err == ESP_OK) {
        err = esp_wifi_set_mode(WIFI_MODE_STA);
    }
    if (err == ESP_OK) {
        wifi_config_t cfg = {0};
        idf_strlcpy((char *)cfg.sta.ssid, CONFIG_TEDDY_WIFI_SSID, sizeof(cfg.sta.ssid));
        idf_strlcpy((char *)cfg.sta.password, CONFIG_TEDDY_WIFI_PASSWORD,
                    sizeof(cfg.sta.password));
        cfg.sta.threshold.authmode =
            strlen(CONFIG_TEDDY_WIFI_PASSWORD) == 0 ? WIFI_AUTH_OPEN : WIFI_AUTH_WPA2_PSK;
        err = esp_wifi_set_config(WIFI_IF_STA, &cfg);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "wifi init: %s", esp_err_to_name(err));
    }
    return err;
}

esp_err_t teddy_port_wifi_connect(teddy_port_wifi_cb_t cb, void *arg)
{
    s_cb = cb;
    s_cb_arg = arg;
    s_gen++;
    s_want = true;
    s_fail_told = false;
    s_retry_ms = 1000;
    if (s_up) {
        /* Already joined (the core asked again): report the address once more. */
        esp_netif_ip_info_t info;
        esp_netif_t *sta = esp_netif_get_handle_from_ifkey("WIFI_STA_DEF");
        if (sta != NULL && esp_netif_get_ip_info(sta, &info) == ESP_OK) {
            char ip[16];
            snprintf(ip, sizeof(ip), IPSTR, IP2STR(&info.ip));
            post_wifi(true, ip);
            return ESP_OK;
        }
    }
    if (!s_started) {
        s_started = true;
        return esp_wifi_start(); /* WIFI_EVENT_STA_START then joins */
    }
    esp_err_t err = esp_wifi_connect();
    return err == ESP_ERR_WIFI_CONN ? ESP_OK : err; /* already connecting is fine */
}

esp_err_t teddy_port_wifi_disconnect(void)
{
    s_gen++;
    s_want = false;
    esp_timer_stop(s_retry_timer);
    bool was_up = s_up;
    s_up = false;
    if (was_up) {
        idf_http_abort_all();
        idf_ws_drop_all();
    }
    esp_err_t err = esp_wifi_disconnect();
    post_wifi(false, ""); /* console `wifi down` always reports (SPEC §9.2) */
    return err == ESP_ERR_WIFI_NOT_STARTED ? ESP_OK : err;
}

static void run_time(idf_msg_t *msg)
{
    time_msg_t *m = (time_msg_t *)msg;
    if (s_time_cb != NULL) {
        s_time_cb(m->epoch, s_time_arg);
    }
}

/* lwIP context: only post. */
static void on_sntp_sync(struct timeval *tv)
{
    if (!s_time_want || tv == NULL) {
        return;
    }
    s_time_want = false;
    time_msg_t *m = idf_msg_alloc(sizeof(*m), run_time);
    if (m != NULL) {
        m->epoch = (int64_t)tv->tv_sec;
        (void)idf_post(&m->base);
    }
}

esp_err_t teddy_port_time_sync(teddy_port_time_cb_t cb, void *arg)
{
    if (cb == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    s_time_cb = cb;
    s_time_arg = arg;
    s_time_want = true;
    if (s_sntp_up) {
        esp_netif_sntp_deinit(); /* restart: the next answer is reported again */
    }
    esp_sntp_config_t cfg = ESP_NETIF_SNTP_DEFAULT_CONFIG(CONFIG_TEDDY_NTP_SERVER);
    cfg.wait_for_sync = false;
    cfg.sync_cb = on_sntp_sync;
    esp_err_t err = esp_netif_sntp_init(&cfg);
    s_sntp_up = err == ESP_OK;
    return err;
}
