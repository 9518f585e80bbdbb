/*
 * device_link.c - the device's WebSocket (emulator/core/link.py).
 *
 * SPEC §6.1 on the device side: the URL is the claim's websocket_url plus the
 * percent-encoded query, the handshake carries `Authorization: Bearer`, ws.open is
 * printed only on connection_established, ws.refused carries the URL, the status and
 * the server's reason and message (SPEC §8.2), and each 403 refusal reason has its own
 * reaction. SPEC §6.2: one reaction per close code (4001 waits 60 s, 4008 reconnects
 * at once, everything else backs off 2 s doubling to 60 s ±20 %, reset after a
 * connection lasted 60 s). Frames the server should never send (bad JSON, unknown
 * types, binary) print `error` and are dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "teddy_json.h"

/* SPEC §6.1: query values percent-encoded; raw with the quirk no_percent_encoding. */
static void query_value(const tdev_t *d, char *out, size_t size, const char *value)
{
    if (dev_quirk(d, TEDDY_QUIRK_NO_PERCENT_ENCODING)) {
        snprintf(out, size, "%s", value);
    } else {
        dev_pct_encode(out, size, value);
    }
}

/* The quirk send_handshake: the original firmware's messages no SPEC §6.3 type covers
 * (defect 9), as emulator/core/link.py's LEGACY_FRAMES. */
static const char *const LEGACY_FRAMES[] = {
    "{\"type\":\"handshake\",\"device_id\":\"legacy\"}",
    "{\"type\":\"stream_ack\",\"chunk_id\":0}",
    "{\"type\":\"auth/refresh\"}",
    "{\"type\":\"system_status\",\"status\":\"ok\"}",
};

void dev_link_connect(tdev_t *d)
{
    dev_link_t *l = &d->link;
    if (l->conn_id != 0 || !d->wifi_up) {
        return;
    }
    const char *token = dev_nvs_str(d, TEDDY_NVS_AUTH_ACCESS_TOKEN);
    const char *url = dev_nvs_str(d, TEDDY_NVS_AUTH_WEBSOCKET_URL);
    if (token == NULL || token[0] == '\0' || url == NULL || url[0] == '\0') {
        dev_auth_authenticate(d);
        return;
    }
    dev_disarm(d, TEDDY_TIMER_WS_RETRY);
    dev_set_state(d, TEDDY_STATE_CONNECTING);
    char dev_id[200], child[200], name[400], age[16];
    query_value(d, dev_id, sizeof(dev_id), dev_device_id(d));
    query_value(d, child, sizeof(child), dev_child_id(d));
    query_value(d, name, sizeof(name), dev_child_name(d));
    snprintf(age, sizeof(age), "%d", dev_child_age(d));
    size_t base = strcspn(url, "?");
    snprintf(l->url, sizeof(l->url), "%.*s", (int)base, url);
    char full[DEV_URL_MAX + 900];
    snprintf(full, sizeof(full), "%s?device_id=%s&child_id=%s&child_name=%s&child_age=%s", l->url,
             dev_id, child, name, age);
    /* SPEC §6.1 `Authorization: Bearer <access_token>`; the quirks omit_authorization and
     * present_token (Appendix C) send none, or another token. */
    const char *presented = dev_quirk_value(d, TEDDY_QUIRK_PRESENT_TOKEN);
    if (presented == NULL || presented[0] == '\0') {
        presented = token;
    }
    size_t auth_size = strlen(presented) + 8;
    char *auth = malloc(auth_size);
    if (auth == NULL) {
        return;
    }
    snprintf(auth, auth_size, "Bearer %s", presented);
    teddy_port_header_t h = {"Authorization", auth};
    l->conn_id = dev_new_id(d);
    teddy_effect_t fx = {.kind = TEDDY_FX_WS_CONNECT};
    fx.u.ws.conn_id = l->conn_id;
    fx.u.ws.url = full;
    fx.u.ws.headers = &h;
    fx.u.ws.n_headers = dev_quirk(d, TEDDY_QUIRK_OMIT_AUTHORIZATION) ? 0 : 1;
    dev_fx(d, &fx);
    free(auth);
}

void dev_link_release_hold(tdev_t *d)
{
    /* A setting changed (SPEC §9.2 `set`): a held refusal may succeed now. */
    if (d->link.hold_reason[0] != '\0') {
        d->link.hold_reason[0] = '\0';
        d->link.refusals = 0;
        dev_link_connect(d);
    }
}

bool dev_link_send(tdev_t *d, const char *text, size_t len)
{
    if (d->link.conn_id == 0 || !d->link.is_open) {
        return false;
    }
    teddy_effect_t fx = {.kind = TEDDY_FX_WS_SEND};
    fx.u.ws.conn_id = d->link.conn_id;
    fx.u.ws.text = text;
    fx.u.ws.len = len;
    dev_fx(d, &fx);
    return true;
}

static void emit_close(tdev_t *d, int code, const char *reason)
{
    EMIT_WS_CLOSE(d, .code = code, .reason = reason, .url = d->link.url);
}

static void detach(tdev_t *d)
{
    d->link.conn_id = 0;
    d->link.is_open = false;
    dev_disarm(d, TEDDY_TIMER_HEARTBEAT);
    dev_on_ws_lost(d);
}

void dev_link_close(tdev_t *d, int code, const char *reason)
{
    /* Device-initiated close (SPEC §6.2: 1000 normal, 1001 reboot/ota). */
    if (d->link.conn_id == 0) {
        return;
    }
    teddy_effect_t fx = {.kind = TEDDY_FX_WS_CLOSE};
    fx.u.ws.conn_id = d->link.conn_id;
    fx.u.ws.code = code;
    fx.u.ws.reason = reason;
    dev_fx(d, &fx);
    emit_close(d, code, reason);
    detach(d);
    dev_disarm(d, TEDDY_TIMER_WS_RETRY);
}

static uint32_t reconnect_backoff(tdev_t *d)
{
    d->link.attempt++;
    return dev_backoff(d, d->link.attempt, d->timing.reconnect_base_ms,
                       d->timing.reconnect_max_ms, d->timing.reconnect_jitter);
}

static void schedule_retry(tdev_t *d, uint32_t delay_ms)
{
    dev_log(d, "websocket reconnect in %u ms", (unsigned)delay_ms);
    dev_arm(d, TEDDY_TIMER_WS_RETRY, delay_ms);
}

static void arm_heartbeat(tdev_t *d)
{
    uint32_t interval = d->timing.heartbeat_interval_ms;
    if (interval == 0) {
        int64_t seconds = 0;
        if (!dev_nvs_int(d, TEDDY_NVS_AUTH_HB_INTERVAL, &seconds) || seconds <= 0) {
            seconds = TEDDY_HEARTBEAT_INTERVAL_S;
        }
        interval = (uint32_t)seconds * 1000u;
    }
    dev_arm(d, TEDDY_TIMER_HEARTBEAT, interval);
}

static void established(tdev_t *d)
{
    d->link.is_open = true;
    d->link.refusals = 0;
    d->link.has_opened_at = true;
    d->link.opened_at_ms = d->now_ms;
    EMIT_WS_OPEN(d, .url = d->link.url);
    if (dev_quirk(d, TEDDY_QUIRK_SEND_HANDSHAKE)) {
        for (size_t i = 0; i < sizeof(LEGACY_FRAMES) / sizeof(LEGACY_FRAMES[0]); i++) {
            dev_link_send(d, LEGACY_FRAMES[i], strlen(LEGACY_FRAMES[i]));
        }
    }
    arm_heartbeat(d);
    dev_on_ws_open(d);
}

static void on_text(tdev_t *d, const char *text, size_t len)
{
    teddy_server_msg_t msg;
    teddy_msg_error_t err;
    memset(&msg, 0, sizeof(msg));
    if (teddy_msg_parse_server(text, len, TEDDY_DOWNLINK_MAX_FRAME_BYTES - 1, &msg, &err) !=
        ESP_OK) {
        char m[200], quoted[TEDDY_ANSWER_TEXT_SIZE];
        snprintf(m, sizeof(m), "server frame: %s", err.message);
        teddy_quote(m, strlen(m), quoted, TEDDY_SERVER_TEXT_MAX_BYTES); /* SPEC §8.1 */
        EMIT_ERROR(d, .code = teddy_ws_error_str(err.code), .message = quoted);
        return;
    }
    if (msg.type == TEDDY_SMSG_SYSTEM && msg.data_type != NULL &&
        strcmp(msg.data_type, "connection_established") == 0) {
        if (!d->link.is_open) {
            established(d);
        }
    } else {
        dev_chat_on_message(d, &msg);
    }
    teddy_server_msg_free(&msg);
}

/* SPEC §6.1 device reaction to a refused handshake (HTTP 403 + reason). */
static void on_refused(tdev_t *d, const teddy_input_t *in)
{
    teddy_server_error_t said;
    teddy_server_error(in->status, (const char *)in->data, in->len, &said);
    const char *reason = said.code; /* the SPEC §6.1 reason, else http_<status> */
    EMIT_WS_REFUSED(d, .url = d->link.url, .status = in->status, .reason = reason,
                    .message = said.message);
    detach(d);
    d->link.refusals++;
    dev_set_state(d, TEDDY_STATE_OFFLINE);
    if (strcmp(reason, "age_out_of_range") == 0 || strcmp(reason, "invalid_query") == 0) {
        snprintf(d->link.hold_reason, sizeof(d->link.hold_reason), "%s", reason);
        dev_log(d, "websocket refused (%s); waiting for a settings change", reason);
    } else if (d->link.refusals >= 3) {
        schedule_retry(d, reconnect_backoff(d));
    } else if (strcmp(reason, "session_revoked") == 0 || strcmp(reason, "token_mismatch") == 0 ||
               d->link.refusals == 2) {
        dev_auth_drop_tokens(d);
        dev_auth_claim(d);
    } else {
        /* token_expired, invalid_token, or no readable reason: refresh once first. */
        dev_auth_refresh(d, false);
    }
}

void dev_link_on_closed(tdev_t *d, int code, const char *reason)
{
    /* SPEC §6.2: one reaction per close code. */
    uint64_t lasted = d->link.has_opened_at ? d->now_ms - d->link.opened_at_ms : 0;
    bool was_open = d->link.is_open;
    char quoted[TEDDY_ANSWER_TEXT_SIZE]; /* the server's close reason: one bounded line */
    teddy_quote(reason, strlen(reason), quoted, TEDDY_SERVER_TEXT_MAX_BYTES);
    emit_close(d, code, quoted);
    detach(d);
    if (was_open && lasted >= d->timing.reconnect_reset_ms) {
        d->link.attempt = 0;
    }
    dev_set_state(d, TEDDY_STATE_OFFLINE);
    if (code == TEDDY_CLOSE_SESSION_REPLACED) {
        /* Two devices sharing an id would evict each other forever: hold off. */
        schedule_retry(d, d->timing.session_replaced_holdoff_ms);
    } else if (code == TEDDY_CLOSE_IDLE_TIMEOUT) {
        schedule_retry(d, 0);
    } else {
        schedule_retry(d, reconnect_backoff(d));
    }
}

void dev_link_on_ws(tdev_t *d, const teddy_input_t *in)
{
    if (in->id != d->link.conn_id || in->id == 0) {
        return; /* a connection the device already gave up */
    }
    switch (in->kind) {
    case TEDDY_IN_WS_OPENED:
        dev_log(d, "websocket upgraded: %s", d->link.url);
        break;
    case TEDDY_IN_WS_REFUSED:
        on_refused(d, in);
        break;
    case TEDDY_IN_WS_TEXT:
        on_text(d, (const char *)in->data, in->len);
        break;
    case TEDDY_IN_WS_BINARY: {
        char m[96];
        snprintf(m, sizeof(m), "server sent a binary frame of %zu bytes", in->len);
        EMIT_ERROR(d, .code = "binary_not_supported", .message = m);
        break;
    }
    case TEDDY_IN_WS_CLOSED:
        dev_link_on_closed(d, in->code, in->text != NULL ? in->text : "");
        break;
    default:
        break;
    }
}

void dev_link_on_timer(tdev_t *d, teddy_timer_t t)
{
    if (t == TEDDY_TIMER_WS_RETRY) {
        if (dev_auth_needs_refresh(d) || !dev_auth_has_tokens(d)) {
            dev_auth_authenticate(d);
        } else {
            dev_link_connect(d);
        }
    } else if (t == TEDDY_TIMER_HEARTBEAT && d->link.is_open) {
        char buf[256];
        size_t len = 0;
        if (teddy_msg_build_heartbeat(dev_device_id(d), (int64_t)d->now_ms, "alive", buf,
                                      sizeof(buf), &len) == ESP_OK) {
            dev_link_send(d, buf, len);
        }
        arm_heartbeat(d);
    }
}
