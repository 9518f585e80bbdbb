/*
 * linux_wifi.c - simulated Wi-Fi station, SNTP from the host clock, no button.
 *
 * The host is always on a network; "Wi-Fi" is a switch in front of the HTTP and
 * WebSocket drivers so the console's `wifi down`/`wifi up` (SPEC §9.2) and the
 * harness's network faults behave like a lost access point: requests fail, sockets
 * drop without a close frame. Association takes `wifi_join_ms` and reports the
 * station address the emulator reports (10.0.2.15).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lx_internal.h"

#define WIFI_IP TEDDY_EMULATED_WIFI_IP /* the device model's, as the emulator reports */

static atomic_bool s_online;
static atomic_uint s_wifi_gen; /* a join started before a disconnect must not report up */
static teddy_port_wifi_cb_t s_wifi_cb;
static void *s_wifi_arg;

typedef struct {
    bool up;
    unsigned gen;
} wifi_event_t;

typedef struct {
    teddy_port_time_cb_t cb;
    void *arg;
    int64_t epoch;
} time_event_t;

bool lx_wifi_online(void) { return atomic_load(&s_online); }

static void dispatch_wifi(void *payload)
{
    wifi_event_t *ev = payload;
    if (ev->gen != atomic_load(&s_wifi_gen)) {
        return;
    }
    if (ev->up) {
        atomic_store(&s_online, true);
    }
    if (s_wifi_cb != NULL) {
        s_wifi_cb(ev->up, ev->up ? WIFI_IP : "", s_wifi_arg);
    }
}

static void *join_main(void *arg)
{
    wifi_event_t *ev = arg;
    uint32_t ms = lx_opts()->wifi_join_ms;
    if (ms > 0) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    lx_post(dispatch_wifi, ev);
    return NULL;
}

esp_err_t teddy_port_wifi_connect(teddy_port_wifi_cb_t cb, void *arg)
{
    s_wifi_cb = cb;
    s_wifi_arg = arg;
    wifi_event_t *ev = malloc(sizeof(*ev));
    if (ev == NULL) {
        return ESP_ERR_NO_MEM;
    }
    ev->up = true;
    ev->gen = atomic_load(&s_wifi_gen);
    if (lx_opts()->wifi_join_ms == 0) {
        lx_post(dispatch_wifi, ev);
        return ESP_OK;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, join_main, ev) != 0) {
        free(ev);
        return ESP_FAIL;
    }
    pthread_detach(thread);
    return ESP_OK;
}

esp_err_t teddy_port_wifi_disconnect(void)
{
    atomic_fetch_add(&s_wifi_gen, 1);
    atomic_store(&s_online, false);
    lx_http_abort_all();
    lx_ws_drop_all();
    wifi_event_t *ev = malloc(sizeof(*ev));
    if (ev == NULL) {
        return ESP_ERR_NO_MEM;
    }
    ev->up = false;
    ev->gen = atomic_load(&s_wifi_gen);
    lx_post(dispatch_wifi, ev);
    return ESP_OK;
}

void lx_wifi_deinit(void)
{
    atomic_fetch_add(&s_wifi_gen, 1);
    atomic_store(&s_online, false);
    s_wifi_cb = NULL;
}

static void dispatch_time(void *payload)
{
    time_event_t *ev = payload;
    ev->cb(ev->epoch, ev->arg);
}

esp_err_t teddy_port_time_sync(teddy_port_time_cb_t cb, void *arg)
{
    time_event_t *ev = malloc(sizeof(*ev));
    if (ev == NULL || cb == NULL) {
        free(ev);
        return ev == NULL ? ESP_ERR_NO_MEM : ESP_ERR_INVALID_ARG;
    }
    ev->cb = cb;
    ev->arg = arg;
    ev->epoch = (int64_t)time(NULL); /* the host clock is NTP-disciplined already */
    lx_post(dispatch_time, ev);
    return ESP_OK;
}

/* The host has no push-to-talk button; the console's `button press|release` is the
 * way in (SPEC §9.2), handled by the core. */
void teddy_port_button_set_callback(teddy_port_button_cb_t cb, void *arg)
{
    (void)cb;
    (void)arg;
}
