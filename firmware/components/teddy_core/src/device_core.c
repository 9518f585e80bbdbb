/*
 * device_core.c - the application state machine of one boot (emulator/core/device.py).
 *
 * Owns the boot sequence and the dispatch of inputs (SPEC §8.3 states): boot -> wifi
 * -> config (ETag cache, SPEC §4.3) -> time_sync -> claiming (claim or refresh,
 * SPEC §2, §3.2) -> connecting (SPEC §6.1) -> idle / listening / thinking / speaking,
 * with updating for a firmware download and offline while retrying. A stale input
 * (a request, connection or capture the core gave up) is ignored by its id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

static void copy(char *dst, size_t size, const char *src, const char *fallback)
{
    snprintf(dst, size, "%s", src != NULL ? src : fallback);
}

esp_err_t teddy_device_create(const teddy_device_init_t *init, teddy_device_t **out)
{
    if (init == NULL || out == NULL || init->sink == NULL || init->random_bytes == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    tdev_t *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return ESP_ERR_NO_MEM;
    }
    const teddy_build_t *b = &init->build;
    /* A missing server is a caller's mistake (every board has one): nothing to fall back
     * on but the empty string, which turns into transport errors the device reports. */
    copy(d->server_url, sizeof(d->server_url), b->server_url, "");
    copy(d->device_id, sizeof(d->device_id), b->device_id, TEDDY_DEFAULT_DEVICE_ID);
    copy(d->chip, sizeof(d->chip), b->chip, TEDDY_DEFAULT_CHIP);
    copy(d->child_id, sizeof(d->child_id), b->child_id, TEDDY_DEFAULT_CHILD_ID);
    copy(d->child_name, sizeof(d->child_name), b->child_name, ""); /* "": the claim's */
    d->has_oob = b->oob_secret != NULL && b->oob_secret[0] != '\0';
    copy(d->oob_secret, sizeof(d->oob_secret), b->oob_secret, "");
    for (char *p = d->oob_secret; *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'f') {
            *p = (char)(*p - 'a' + 'A'); /* SPEC §2.1: upper-case hex */
        }
    }
    d->has_child_age = b->has_child_age;
    d->child_age = b->child_age;
    d->volume = b->volume;
    d->timing = init->timing;
    d->boot = init->boot;
    d->boot_count = init->boot_count;
    d->rng = init->rng_seed != 0 ? init->rng_seed : 0x9E3779B9u;
    d->random_bytes = init->random_bytes;
    d->sink = init->sink;
    d->sink_ctx = init->sink_ctx;
    d->state = TEDDY_STATE_BOOT;
    for (int q = 0; q < TEDDY_QUIRK_COUNT; q++) {
        if (b->quirks[q] != NULL && !dev_quirk_set(d, (teddy_quirk_t)q, b->quirks[q])) {
            teddy_device_destroy(d);
            return ESP_ERR_NO_MEM;
        }
    }
    *out = d;
    return ESP_OK;
}

void teddy_device_destroy(teddy_device_t *d)
{
    if (d == NULL) {
        return;
    }
    dev_chat_free(d);
    dev_ota_free(d);
    dev_kv_free(d);
    for (int q = 0; q < TEDDY_QUIRK_COUNT; q++) {
        free(d->quirk[q]);
    }
    free(d);
}

teddy_state_t teddy_device_state(const teddy_device_t *d) { return d->state; }

void teddy_device_start(teddy_device_t *d, uint64_t now_ms)
{
    /* Power-on: print boot (SPEC §8.2), report a rollback, join Wi-Fi. */
    d->now_ms = now_ms;
    EMIT_BOOT(d, .fw_version = d->boot.fw_version, .slot = teddy_slot_name(d->boot.slot),
              .reset_reason = d->boot.reset_reason, .device_id = dev_device_id(d));
    if (d->boot.rolled_back) {
        EMIT_OTA_ROLLBACK(d, .from = d->boot.rollback_from, .to = d->boot.rollback_to,
                          .reason = d->boot.rollback_reason);
        dev_ota_on_rollback_reported(d, d->boot.rollback_from);
        teddy_effect_t ack = {.kind = TEDDY_FX_OTA_ACK_ROLLBACK};
        dev_fx(d, &ack);
    }
    dev_ota_on_boot(d);
    if (d->boot.panic_after_ms >= 0) {
        dev_arm(d, TEDDY_TIMER_PANIC, (uint64_t)d->boot.panic_after_ms);
    }
    teddy_effect_t vol = {.kind = TEDDY_FX_SET_VOLUME}; /* the DAC starts at the stored volume */
    vol.u.audio.volume = dev_volume(d);
    dev_fx(d, &vol);
    dev_set_state(d, TEDDY_STATE_WIFI);
    teddy_effect_t wifi = {.kind = TEDDY_FX_WIFI_CONNECT};
    dev_fx(d, &wifi);
}

/* --- boot sequence -------------------------------------------------------------------- */

static void on_wifi_up(tdev_t *d, const char *ip)
{
    if (d->wifi_up || d->wifi_off) { /* wifi_off: `wifi down` during the join */
        return;
    }
    d->wifi_up = true;
    EMIT_WIFI_UP(d, .ip = ip);
    dev_set_state(d, TEDDY_STATE_CONFIG);
    dev_config_fetch(d, true);
}

void dev_after_config(tdev_t *d)
{
    if (!d->wifi_up) {
        return;
    }
    if (!d->time_synced) {
        dev_set_state(d, TEDDY_STATE_TIME_SYNC);
        teddy_effect_t fx = {.kind = TEDDY_FX_SYNC_TIME};
        dev_fx(d, &fx);
    } else {
        dev_auth_authenticate(d);
    }
}

void dev_wifi_lost(tdev_t *d, bool by_user)
{
    /* `wifi down` (close 1000 first, SPEC §9.2) or a lost link: stop all networking. */
    if (by_user) {
        dev_link_close(d, TEDDY_CLOSE_NORMAL, "normal");
    } else if (d->link.conn_id != 0) {
        dev_link_on_closed(d, 1006, "wifi_lost"); /* 1006: dropped, no close frame (§6.2) */
    }
    dev_disarm(d, TEDDY_TIMER_WS_RETRY);
    dev_disarm(d, TEDDY_TIMER_CLAIM_RETRY);
    dev_disarm(d, TEDDY_TIMER_AUTH_RETRY);
    dev_disarm(d, TEDDY_TIMER_CONFIG_REFRESH);
    dev_config_cancel(d);
    dev_auth_cancel(d);
    d->wifi_up = false;
    teddy_effect_t fx = {.kind = TEDDY_FX_WIFI_DISCONNECT};
    dev_fx(d, &fx);
    EMIT_WIFI_DOWN(d);
    dev_set_state(d, TEDDY_STATE_OFFLINE);
}

void dev_going_down(tdev_t *d, const char *reason)
{
    /* About to reset: close the WebSocket with 1001 + reason (SPEC §6.2). */
    dev_link_close(d, TEDDY_CLOSE_SERVER_SHUTDOWN, reason); /* 1001 "going away" */
}

void dev_on_ws_open(tdev_t *d)
{
    dev_settle(d);
    dev_ota_on_ws_open(d);
}

void dev_on_ws_lost(tdev_t *d) { dev_chat_on_link_lost(d); }

void dev_settle(tdev_t *d)
{
    /* Recompute the connected sub-state (SPEC §8.3) after a chat or OTA change. */
    if (dev_ota_updating(d)) {
        dev_set_state(d, TEDDY_STATE_UPDATING);
    } else if (d->link.is_open) {
        teddy_state_t sub = dev_chat_substate(d);
        dev_set_state(d, sub);
        if (sub == TEDDY_STATE_IDLE) {
            dev_ota_on_idle(d);
        }
    } else if (d->state == TEDDY_STATE_UPDATING) {
        dev_set_state(d, d->wifi_up ? TEDDY_STATE_OFFLINE : TEDDY_STATE_WIFI);
    }
}

/* --- dispatch ------------------------------------------------------------------------- */

static void on_timer(tdev_t *d, teddy_timer_t t)
{
    switch (TEDDY_TIMER_OWNERS[t]) { /* which module a timer belongs to is the model's */
    case TEDDY_MODULE_CLAIM:
        dev_auth_on_timer(d, t);
        break;
    case TEDDY_MODULE_LINK:
        dev_link_on_timer(d, t);
        break;
    case TEDDY_MODULE_OTA:
        dev_ota_on_timer(d, t);
        break;
    case TEDDY_MODULE_CONFIG:
        if (d->wifi_up && d->config.req == 0) {
            dev_config_fetch(d, false);
        }
        break;
    default: /* TEDDY_MODULE_DEVICE: the behaviour marker's panic */
        if (t == TEDDY_TIMER_PANIC) {
            dev_log(d, "Guru Meditation Error: Core 0 panic'ed (behaviour marker)");
            teddy_effect_t fx = {.kind = TEDDY_FX_REBOOT};
            fx.u.reboot.reason = TEDDY_RESET_PANIC;
            dev_fx(d, &fx);
        }
        break;
    }
}

static void on_http(tdev_t *d, const teddy_input_t *in)
{
    switch (dev_http_owner(d, in->id)) {
    case DEV_HTTP_CONFIG:
        dev_config_on_http(d, in);
        break;
    case DEV_HTTP_CLAIM:
        dev_auth_on_http(d, DEV_HTTP_CLAIM, in);
        break;
    case DEV_HTTP_REFRESH:
        dev_auth_on_http(d, DEV_HTTP_REFRESH, in);
        break;
    case DEV_HTTP_MANIFEST:
        dev_ota_on_manifest(d, in);
        break;
    case DEV_HTTP_DOWNLOAD:
        if (d->ota.download != NULL) {
            dev_dl_on_http(d, d->ota.download, in);
        }
        break;
    default:
        break; /* a request the core already gave up */
    }
}

void teddy_device_handle(teddy_device_t *d, const teddy_input_t *in, uint64_t now_ms)
{
    d->now_ms = now_ms > d->now_ms ? now_ms : d->now_ms; /* uptime never goes back */
    switch (in->kind) {
    case TEDDY_IN_CONSOLE_LINE:
        dev_commands_handle(d, in->text != NULL ? in->text : "");
        break;
    case TEDDY_IN_TIMER_FIRED:
        if ((unsigned)in->timer < TEDDY_TIMER_COUNT && d->armed[in->timer] &&
            d->timer_at[in->timer] == in->at_ms) {
            d->armed[in->timer] = false;
            on_timer(d, in->timer);
        }
        break;
    case TEDDY_IN_WIFI_UP:
        on_wifi_up(d, in->text);
        break;
    case TEDDY_IN_WIFI_DOWN:
        if (d->wifi_up) {
            dev_wifi_lost(d, false);
        }
        break;
    case TEDDY_IN_TIME_SYNCED: {
        d->time_synced = true;
        d->epoch = in->epoch;
        d->synced_at_ms = d->now_ms;
        EMIT_TIME_SYNCED(d, .epoch = in->epoch);
        dev_auth_authenticate(d);
        break;
    }
    case TEDDY_IN_HTTP_RESPONSE:
    case TEDDY_IN_HTTP_FAILED:
    case TEDDY_IN_HTTP_STREAM_START:
    case TEDDY_IN_HTTP_STREAM_DATA:
    case TEDDY_IN_HTTP_STREAM_END:
        on_http(d, in);
        break;
    case TEDDY_IN_WS_OPENED:
    case TEDDY_IN_WS_REFUSED:
    case TEDDY_IN_WS_TEXT:
    case TEDDY_IN_WS_BINARY:
    case TEDDY_IN_WS_CLOSED:
        dev_link_on_ws(d, in);
        break;
    case TEDDY_IN_CAPTURE_STARTED:
    case TEDDY_IN_CAPTURE_FAILED:
    case TEDDY_IN_CAPTURE_CHUNK:
    case TEDDY_IN_CAPTURE_ENDED:
        dev_chat_on_capture(d, in);
        break;
    case TEDDY_IN_PLAYBACK_DONE:
        dev_chat_on_playback_done(d, in->text != NULL ? in->text : "");
        break;
    case TEDDY_IN_SLOT_DATA:
        if (d->ota.download != NULL && d->ota.download->reading &&
            d->ota.download->slot == in->slot) {
            dev_dl_on_slot_data(d, d->ota.download, in);
        }
        break;
    default:
        break;
    }
}
