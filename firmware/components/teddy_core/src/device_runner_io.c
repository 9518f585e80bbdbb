/*
 * device_runner_io.c - effects that touch the platform, and the port callbacks that
 * become inputs (the drivers' half of emulator/effects_runner.py, net.py, media.py).
 *
 * Everything runs on the app thread (teddy_port.h threading rule): a callback turns
 * a port event into a teddy_input_t and hands it to the core at once. HTTP is in
 * device_runner_http.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "device_runner.h"

/* --- WebSocket and captures: id maps ----------------------------------------------------- */

static runner_map_t *map_add(runner_map_t *m, uint32_t core_id, uint32_t port_id)
{
    for (int i = 0; i < RUNNER_MAP_SLOTS; i++) {
        if (!m[i].used) {
            m[i] = (runner_map_t){.used = true, .core_id = core_id, .port_id = port_id};
            return &m[i];
        }
    }
    m[0] = (runner_map_t){.used = true, .core_id = core_id, .port_id = port_id};
    return &m[0];
}

static runner_map_t *map_find(runner_map_t *m, uint32_t id, bool by_port)
{
    for (int i = 0; i < RUNNER_MAP_SLOTS; i++) {
        if (m[i].used && (by_port ? m[i].port_id : m[i].core_id) == id) {
            return &m[i];
        }
    }
    return NULL;
}

static void on_ws(uint32_t port_id, const teddy_ws_event_t *ev, void *arg)
{
    runner_t *r = arg;
    runner_map_t *m = map_find(r->ws, port_id, true);
    if (m == NULL) {
        return;
    }
    teddy_input_t in = {.id = m->core_id, .status = ev->status};
    switch (ev->kind) {
    case TEDDY_WS_EV_OPEN:
        in.kind = TEDDY_IN_WS_OPENED;
        break;
    case TEDDY_WS_EV_REFUSED:
        in.kind = TEDDY_IN_WS_REFUSED;
        in.data = (const uint8_t *)(ev->data != NULL ? ev->data : "");
        in.len = ev->data != NULL ? ev->len : 0;
        m->used = false;
        break;
    case TEDDY_WS_EV_TEXT:
        in.kind = TEDDY_IN_WS_TEXT;
        in.data = (const uint8_t *)ev->data;
        in.len = ev->len;
        break;
    case TEDDY_WS_EV_BINARY:
        in.kind = TEDDY_IN_WS_BINARY;
        in.len = ev->len;
        break;
    case TEDDY_WS_EV_CLOSED:
    default:
        in.kind = TEDDY_IN_WS_CLOSED;
        in.code = ev->close_code;
        in.text = ev->reason != NULL ? ev->reason : "";
        m->used = false;
        break;
    }
    runner_deliver(r, &in);
}

static void on_capture(uint32_t port_id, const teddy_capture_event_t *ev, void *arg)
{
    runner_t *r = arg;
    runner_map_t *m = map_find(r->cap, port_id, true);
    if (m == NULL) {
        return;
    }
    teddy_input_t in = {.id = m->core_id};
    switch (ev->kind) {
    case TEDDY_CAPTURE_EV_STARTED:
        in.kind = TEDDY_IN_CAPTURE_STARTED;
        break;
    case TEDDY_CAPTURE_EV_CHUNK:
        in.kind = TEDDY_IN_CAPTURE_CHUNK;
        in.data = ev->pcm;
        in.len = ev->len;
        break;
    case TEDDY_CAPTURE_EV_ENDED:
        in.kind = TEDDY_IN_CAPTURE_ENDED;
        m->used = false;
        break;
    case TEDDY_CAPTURE_EV_FAILED:
    default:
        in.kind = TEDDY_IN_CAPTURE_FAILED;
        in.text = ev->reason != NULL ? ev->reason : "bad_value";
        in.message = ev->message != NULL ? ev->message : "";
        m->used = false;
        break;
    }
    runner_deliver(r, &in);
}

/* rx-<id>.wav: the reply as the server sent it (the PLAY's received bytes when a playback
 * quirk changed what the DAC plays, SPEC Appendix C), where the port can keep it. */
static void keep_received(const teddy_effect_t *fx, const uint8_t *pcm, size_t len)
{
    char name[128];
    snprintf(name, sizeof(name), "rx-%s.wav", fx->u.audio.session);
    (void)teddy_port_audio_save(name, pcm, len); /* NOT_SUPPORTED on the board */
}

static void on_played(const char *session, void *arg)
{
    teddy_input_t in = {.kind = TEDDY_IN_PLAYBACK_DONE, .text = session};
    runner_deliver(arg, &in);
}

static void on_wifi(bool up, const char *ip, void *arg)
{
    teddy_input_t in = {.kind = up ? TEDDY_IN_WIFI_UP : TEDDY_IN_WIFI_DOWN, .text = ip};
    runner_deliver(arg, &in);
}

static void on_time(int64_t epoch, void *arg)
{
    teddy_input_t in = {.kind = TEDDY_IN_TIME_SYNCED, .epoch = epoch};
    runner_deliver(arg, &in);
}

void runner_on_line(const char *line, void *arg)
{
    teddy_input_t in = {.kind = TEDDY_IN_CONSOLE_LINE, .text = line};
    runner_deliver(arg, &in);
}

void runner_on_button(bool pressed, void *arg)
{
    /* The GPIO button is the console's `button press|release` (SPEC §9.2). */
    teddy_input_t in = {.kind = TEDDY_IN_CONSOLE_LINE,
                        .text = pressed ? "button press" : "button release"};
    runner_deliver(arg, &in);
}

/* --- effects ----------------------------------------------------------------------------- */

static void ws_effect(runner_t *r, const teddy_effect_t *fx)
{
    runner_map_t *m;
    switch (fx->kind) {
    case TEDDY_FX_WS_CONNECT: {
        uint32_t port_id = 0;
        if (teddy_port_ws_connect(fx->u.ws.url, fx->u.ws.headers, fx->u.ws.n_headers, on_ws, r,
                                  &port_id) != ESP_OK) {
            teddy_input_t in = {.kind = TEDDY_IN_WS_CLOSED, .id = fx->u.ws.conn_id, .code = 1006};
            runner_queue(r, &in, NULL, 0, "connect_failed");
            return;
        }
        map_add(r->ws, fx->u.ws.conn_id, port_id);
        return;
    }
    case TEDDY_FX_WS_SEND:
        if ((m = map_find(r->ws, fx->u.ws.conn_id, false)) != NULL) {
            teddy_port_ws_send_text(m->port_id, fx->u.ws.text, fx->u.ws.len);
        }
        return;
    default: /* TEDDY_FX_WS_CLOSE */
        if ((m = map_find(r->ws, fx->u.ws.conn_id, false)) != NULL) {
            teddy_port_ws_close(m->port_id, fx->u.ws.code, fx->u.ws.reason);
            m->used = false;
        }
        return;
    }
}

static void capture_effect(runner_t *r, const teddy_effect_t *fx)
{
    if (fx->kind == TEDDY_FX_STOP_CAPTURE) {
        runner_map_t *m = map_find(r->cap, fx->u.capture.id, false);
        if (m != NULL) {
            teddy_port_capture_stop(m->port_id);
        }
        return;
    }
    uint32_t port_id = 0;
    if (teddy_port_capture_start(fx->u.capture.kind, fx->u.capture.value, on_capture, r,
                                 &port_id) != ESP_OK) {
        teddy_input_t in = {.kind = TEDDY_IN_CAPTURE_FAILED, .id = fx->u.capture.id,
                            .message = "the microphone is busy"};
        runner_queue(r, &in, NULL, 0, "bad_argument");
        return;
    }
    map_add(r->cap, fx->u.capture.id, port_id);
}

static void flash_effect(runner_t *r, const teddy_effect_t *fx)
{
    esp_err_t err = ESP_OK;
    switch (fx->kind) {
    case TEDDY_FX_SLOT_ERASE:
        err = teddy_port_slot_erase(fx->u.flash.slot);
        break;
    case TEDDY_FX_SLOT_WRITE:
        err = teddy_port_slot_write(fx->u.flash.slot, fx->u.flash.offset, fx->u.flash.data,
                                    fx->u.flash.len);
        break;
    case TEDDY_FX_SLOT_READ: {
        uint8_t *buf = malloc(fx->u.flash.len ? fx->u.flash.len : 1);
        if (buf != NULL &&
            teddy_port_slot_read(fx->u.flash.slot, fx->u.flash.offset, buf, fx->u.flash.len) ==
                ESP_OK) {
            teddy_input_t in = {.kind = TEDDY_IN_SLOT_DATA, .slot = fx->u.flash.slot,
                                .offset = fx->u.flash.offset};
            runner_queue(r, &in, buf, fx->u.flash.len, NULL);
        }
        free(buf);
        break;
    }
    case TEDDY_FX_OTA_SET_BOOT:
        err = teddy_port_ota_set_boot(fx->u.flash.slot);
        break;
    case TEDDY_FX_OTA_MARK_VALID:
        err = teddy_port_ota_mark_valid(fx->u.flash.secure_version);
        break;
    case TEDDY_FX_OTA_MARK_INVALID:
        err = teddy_port_ota_mark_invalid(fx->u.flash.reason);
        break;
    default: /* TEDDY_FX_OTA_ACK_ROLLBACK */
        err = teddy_port_ota_ack_rollback();
        break;
    }
    if (err != ESP_OK) {
        char line[160];
        snprintf(line, sizeof(line),
                 TEDDY_EVENT_PREFIX "%llu error {\"code\":\"" TEDDY_ERROR_STORAGE
                 "\",\"message\":\"%s\"}",
                 (unsigned long long)teddy_port_now_ms(), esp_err_to_name(err));
        teddy_port_console_write(line);
    }
}

static void nvs_set(const teddy_effect_t *fx)
{
    switch (fx->u.nvs.type) { /* the model's type of the key (teddy_model.h) */
    case TEDDY_NVS_STR:
        teddy_port_nvs_set_str(fx->u.nvs.ns, fx->u.nvs.key, fx->u.nvs.str);
        break;
    case TEDDY_NVS_U32:
        teddy_port_nvs_set_u32(fx->u.nvs.ns, fx->u.nvs.key, (uint32_t)fx->u.nvs.num);
        break;
    default: /* TEDDY_NVS_I32 */
        teddy_port_nvs_set_i32(fx->u.nvs.ns, fx->u.nvs.key, (int32_t)fx->u.nvs.num);
        break;
    }
}

void runner_io_effect(runner_t *r, const teddy_effect_t *fx)
{
    switch (fx->kind) {
    case TEDDY_FX_NVS_SET:
        nvs_set(fx);
        break;
    case TEDDY_FX_NVS_ERASE:
        teddy_port_nvs_erase(fx->u.nvs.ns, fx->u.nvs.key);
        break;
    case TEDDY_FX_WIFI_CONNECT:
        teddy_port_wifi_connect(on_wifi, r);
        break;
    case TEDDY_FX_WIFI_DISCONNECT:
        teddy_port_wifi_disconnect();
        break;
    case TEDDY_FX_SYNC_TIME:
        teddy_port_time_sync(on_time, r);
        break;
    case TEDDY_FX_HTTP_REQUEST:
        runner_http_start(r, fx);
        break;
    case TEDDY_FX_HTTP_CANCEL:
        runner_http_cancel(r, fx->u.http.req_id);
        break;
    case TEDDY_FX_WS_CONNECT:
    case TEDDY_FX_WS_SEND:
    case TEDDY_FX_WS_CLOSE:
        ws_effect(r, fx);
        break;
    case TEDDY_FX_START_CAPTURE:
    case TEDDY_FX_STOP_CAPTURE:
        capture_effect(r, fx);
        break;
    case TEDDY_FX_PLAY:
        keep_received(fx, fx->u.audio.received != NULL ? fx->u.audio.received : fx->u.audio.pcm,
                      fx->u.audio.received != NULL ? fx->u.audio.received_len : fx->u.audio.len);
        teddy_port_speaker_play(fx->u.audio.session, fx->u.audio.pcm, fx->u.audio.len,
                                fx->u.audio.sample_rate);
        break;
    case TEDDY_FX_PLAY_END:
        keep_received(fx, NULL, 0); /* an empty reply still leaves its rx-<id>.wav */
        teddy_port_speaker_end(fx->u.audio.session, fx->u.audio.cut, on_played, r);
        break;
    case TEDDY_FX_SAVE_AUDIO:
        teddy_port_audio_save(fx->u.audio.name, fx->u.audio.pcm, fx->u.audio.len);
        break;
    case TEDDY_FX_SET_VOLUME:
        teddy_port_speaker_set_volume(fx->u.audio.volume);
        break;
    default:
        flash_effect(r, fx);
        break;
    }
}

void runner_release(runner_t *r)
{
    /* Switched off (not a reset): open links close with 1001 power_off and the core
     * hears about it before the power goes, like emulator EmulatorHost.stop(). */
    for (int i = 0; i < RUNNER_MAP_SLOTS && !r->reboot; i++) {
        if (r->ws[i].used) {
            teddy_port_ws_close(r->ws[i].port_id, 1001, "power_off");
            r->ws[i].used = false;
            teddy_input_t in = {.kind = TEDDY_IN_WS_CLOSED, .id = r->ws[i].core_id,
                                .code = 1001, .text = "power_off"};
            runner_deliver(r, &in);
        }
    }
    for (int i = 0; i < RUNNER_HTTP_SLOTS; i++) {
        if (r->http[i].used) {
            teddy_port_http_cancel(r->http[i].port_id);
            runner_http_free(&r->http[i]);
        }
    }
    while (r->pending != NULL) {
        runner_pending_t *p = r->pending;
        r->pending = p->next;
        free(p);
    }
}
