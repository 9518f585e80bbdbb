/*
 * device_canon.c - canonical JSON of inputs and effects (teddy_canon.h).
 *
 * The field names, their order and types are the device model's (TEDDY_INPUT_KINDS,
 * TEDDY_EFFECT_KINDS); this file only says which struct member holds each field (the
 * CANON_IN_BIND / CANON_FX_BIND tables, indexed by kind, one member per model field in
 * order; device_canon_read.c uses the same tables). A kind whose binding does not cover
 * exactly the model's fields is refused at run time (test_device_canon checks every
 * kind), so the two can never silently disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teddy_b64.h"
#include "device_canon_internal.h"
#include "teddy_canon.h"
#include "teddy_json.h"

const canon_member_t CANON_IN_BIND[TEDDY_IN_COUNT][CANON_MAX_FIELDS] = {
    [TEDDY_IN_CONSOLE_LINE] = {I_TEXT},
    [TEDDY_IN_TIMER_FIRED] = {I_TIMER, I_AT_MS},
    [TEDDY_IN_WIFI_UP] = {I_TEXT},
    [TEDDY_IN_WIFI_DOWN] = {M_NONE},
    [TEDDY_IN_TIME_SYNCED] = {I_EPOCH},
    [TEDDY_IN_HTTP_RESPONSE] = {I_ID, I_STATUS, I_HEADERS, I_DATA},
    [TEDDY_IN_HTTP_FAILED] = {I_ID, I_TEXT},
    [TEDDY_IN_HTTP_STREAM_START] = {I_ID, I_STATUS, I_HEADERS},
    [TEDDY_IN_HTTP_STREAM_DATA] = {I_ID, I_DATA},
    [TEDDY_IN_HTTP_STREAM_END] = {I_ID},
    [TEDDY_IN_WS_OPENED] = {I_ID},
    [TEDDY_IN_WS_REFUSED] = {I_ID, I_STATUS, I_DATA},
    [TEDDY_IN_WS_TEXT] = {I_ID, I_DATA},
    [TEDDY_IN_WS_BINARY] = {I_ID, I_LEN},
    [TEDDY_IN_WS_CLOSED] = {I_ID, I_CODE, I_TEXT},
    [TEDDY_IN_CAPTURE_STARTED] = {I_ID},
    [TEDDY_IN_CAPTURE_FAILED] = {I_ID, I_TEXT, I_MESSAGE},
    [TEDDY_IN_CAPTURE_CHUNK] = {I_ID, I_DATA},
    [TEDDY_IN_CAPTURE_ENDED] = {I_ID},
    [TEDDY_IN_PLAYBACK_DONE] = {I_TEXT},
    [TEDDY_IN_SLOT_DATA] = {I_SLOT, I_OFFSET, I_DATA},
};

const canon_member_t CANON_FX_BIND[TEDDY_FX_COUNT][CANON_MAX_FIELDS] = {
    [TEDDY_FX_PRINT] = {F_LINE},
    [TEDDY_FX_SET_TIMER] = {F_TIMER, F_AT_MS},
    [TEDDY_FX_CANCEL_TIMER] = {F_TIMER},
    [TEDDY_FX_NVS_SET] = {F_NVS_NS, F_NVS_KEY, F_NVS_VALUE},
    [TEDDY_FX_NVS_ERASE] = {F_NVS_NS, F_NVS_KEY},
    [TEDDY_FX_WIFI_CONNECT] = {M_NONE},
    [TEDDY_FX_WIFI_DISCONNECT] = {M_NONE},
    [TEDDY_FX_SYNC_TIME] = {M_NONE},
    [TEDDY_FX_HTTP_REQUEST] = {F_REQ, F_METHOD, F_URL, F_HTTP_HEADERS, F_BODY, F_STREAM},
    [TEDDY_FX_HTTP_CANCEL] = {F_REQ},
    [TEDDY_FX_WS_CONNECT] = {F_CONN, F_WS_URL, F_WS_HEADERS},
    [TEDDY_FX_WS_SEND] = {F_CONN, F_WS_TEXT},
    [TEDDY_FX_WS_CLOSE] = {F_CONN, F_WS_CODE, F_WS_REASON},
    [TEDDY_FX_START_CAPTURE] = {F_CAPTURE, F_SOURCE, F_VALUE},
    [TEDDY_FX_STOP_CAPTURE] = {F_CAPTURE},
    [TEDDY_FX_PLAY] = {F_SESSION, F_PCM, F_SAMPLE_RATE, F_RECEIVED},
    [TEDDY_FX_PLAY_END] = {F_SESSION, F_CUT},
    [TEDDY_FX_SAVE_AUDIO] = {F_NAME, F_PCM},
    [TEDDY_FX_SET_VOLUME] = {F_VOLUME},
    [TEDDY_FX_SLOT_ERASE] = {F_SLOT},
    [TEDDY_FX_SLOT_WRITE] = {F_SLOT, F_OFFSET, F_DATA},
    [TEDDY_FX_SLOT_READ] = {F_SLOT, F_OFFSET, F_LENGTH},
    [TEDDY_FX_OTA_SET_BOOT] = {F_SLOT},
    [TEDDY_FX_OTA_MARK_VALID] = {F_SLOT, F_SECURE},
    [TEDDY_FX_OTA_MARK_INVALID] = {F_SLOT, F_REASON},
    [TEDDY_FX_OTA_ACK_ROLLBACK] = {M_NONE},
    [TEDDY_FX_REBOOT] = {F_RESET},
};

bool canon_bound(const canon_member_t *row, const teddy_io_kind_t *kind)
{
    size_t n = 0;
    while (n < CANON_MAX_FIELDS && row[n] != M_NONE) {
        n++;
    }
    return n == kind->n_fields;
}

/* --- writing -------------------------------------------------------------------------- */

static cJSON *bytes_item(const void *data, size_t len)
{
    size_t size = teddy_b64_encoded_len(len) + 1;
    char *text = malloc(size);
    if (text == NULL || teddy_b64_encode(data, len, text, size, NULL) != ESP_OK) {
        free(text);
        return NULL;
    }
    cJSON *item = cJSON_CreateString(text);
    free(text);
    return item;
}

static cJSON *headers_item(const teddy_port_header_t *h, size_t n, bool map)
{
    cJSON *out = map ? cJSON_CreateObject() : cJSON_CreateArray();
    for (size_t i = 0; out != NULL && i < n; i++) {
        if (map) {
            cJSON_AddStringToObject(out, h[i].name, h[i].value);
        } else {
            const char *pair[2] = {h[i].name, h[i].value};
            cJSON_AddItemToArray(out, cJSON_CreateStringArray(pair, 2));
        }
    }
    return out;
}

static cJSON *str_item(const char *s) { return cJSON_CreateString(s != NULL ? s : ""); }

static cJSON *num_item(double v) { return cJSON_CreateNumber(v); }

static cJSON *input_value(const teddy_input_t *in, canon_member_t m, teddy_io_type_t type)
{
    switch (m) {
    case I_TEXT: return str_item(in->text);
    case I_MESSAGE: return str_item(in->message);
    case I_ID: return num_item(in->id);
    case I_STATUS: return num_item(in->status);
    case I_CODE: return num_item(in->code);
    case I_HEADERS: return headers_item(in->headers, in->n_headers, true);
    case I_DATA:
        if (type == TEDDY_IO_STR) { /* ws_text: the frame's text */
            char *text = malloc(in->len + 1);
            if (text == NULL) {
                return NULL;
            }
            memcpy(text, in->data, in->len);
            text[in->len] = '\0';
            cJSON *item = cJSON_CreateString(text);
            free(text);
            return item;
        }
        return bytes_item(in->data, in->len);
    case I_LEN: return num_item((double)in->len);
    case I_EPOCH: return num_item((double)in->epoch);
    case I_TIMER:
        return str_item((unsigned)in->timer < TEDDY_TIMER_COUNT ? TEDDY_TIMER_NAMES[in->timer] : "");
    case I_AT_MS: return num_item((double)in->at_ms);
    case I_SLOT: return str_item(teddy_slot_name(in->slot));
    case I_OFFSET: return num_item((double)in->offset);
    default: return NULL;
    }
}

static cJSON *nvs_value(const teddy_effect_t *fx)
{
    return fx->u.nvs.type == TEDDY_NVS_STR ? str_item(fx->u.nvs.str)
                                           : num_item((double)fx->u.nvs.num);
}

static cJSON *effect_value(const teddy_effect_t *fx, canon_member_t m)
{
    const char *reset = (unsigned)fx->u.reboot.reason < TEDDY_RESET_COUNT
                            ? TEDDY_RESET_REASON_NAMES[fx->u.reboot.reason]
                            : "";
    switch (m) {
    case F_LINE: return str_item(fx->u.print.line);
    case F_TIMER: return str_item(TEDDY_TIMER_NAMES[fx->u.timer.id]);
    case F_AT_MS: return num_item((double)fx->u.timer.at_ms);
    case F_NVS_NS: return str_item(fx->u.nvs.ns);
    case F_NVS_KEY: return fx->u.nvs.key != NULL ? str_item(fx->u.nvs.key) : cJSON_CreateNull();
    case F_NVS_VALUE: return nvs_value(fx);
    case F_REQ: return num_item(fx->u.http.req_id);
    case F_METHOD: return str_item(fx->u.http.method);
    case F_URL: return str_item(fx->u.http.url);
    case F_HTTP_HEADERS: return headers_item(fx->u.http.headers, fx->u.http.n_headers, false);
    case F_BODY: return fx->u.http.body != NULL ? str_item(fx->u.http.body) : cJSON_CreateNull();
    case F_STREAM: return cJSON_CreateBool(fx->u.http.stream);
    case F_CONN: return num_item(fx->u.ws.conn_id);
    case F_WS_URL: return str_item(fx->u.ws.url);
    case F_WS_HEADERS: return headers_item(fx->u.ws.headers, fx->u.ws.n_headers, false);
    case F_WS_TEXT: return str_item(fx->u.ws.text);
    case F_WS_CODE: return num_item(fx->u.ws.code);
    case F_WS_REASON: return str_item(fx->u.ws.reason);
    case F_CAPTURE: return num_item(fx->u.capture.id);
    case F_SOURCE: return str_item(TEDDY_CAPTURE_KIND_NAMES[fx->u.capture.kind]);
    case F_VALUE: return str_item(fx->u.capture.value);
    case F_SESSION: return str_item(fx->u.audio.session);
    case F_NAME: return str_item(fx->u.audio.name);
    case F_PCM: return bytes_item(fx->u.audio.pcm, fx->u.audio.len);
    case F_CUT: return cJSON_CreateBool(fx->u.audio.cut);
    case F_SAMPLE_RATE: return num_item(fx->u.audio.sample_rate);
    case F_RECEIVED: return bytes_item(fx->u.audio.received, fx->u.audio.received_len);
    case F_VOLUME: return num_item(fx->u.audio.volume);
    case F_SLOT: return str_item(teddy_slot_name(fx->u.flash.slot));
    case F_OFFSET: return num_item((double)fx->u.flash.offset);
    case F_DATA: return bytes_item(fx->u.flash.data, fx->u.flash.len);
    case F_LENGTH: return num_item((double)fx->u.flash.len);
    case F_SECURE: return num_item(fx->u.flash.secure_version);
    case F_REASON: return str_item(fx->u.flash.reason);
    case F_RESET: return str_item(reset);
    default: return NULL;
    }
}

static cJSON *start(const teddy_io_kind_t *kind)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "kind", kind->name);
    }
    return o;
}

/* Adds `item` as field i of `kind`; false (and `o` freed) when it could not be made. */
static bool add(cJSON *o, const teddy_io_kind_t *kind, size_t i, cJSON *item)
{
    if (item == NULL) {
        cJSON_Delete(o);
        return false;
    }
    cJSON_AddItemToObject(o, kind->fields[i].name, item);
    return true;
}

cJSON *teddy_canon_effect(const teddy_effect_t *fx)
{
    if ((unsigned)fx->kind >= TEDDY_FX_COUNT) {
        return NULL;
    }
    const teddy_io_kind_t *kind = &TEDDY_EFFECT_KINDS[fx->kind];
    const canon_member_t *row = CANON_FX_BIND[fx->kind];
    cJSON *o = canon_bound(row, kind) ? start(kind) : NULL;
    for (size_t i = 0; o != NULL && i < kind->n_fields; i++) {
        if (!add(o, kind, i, effect_value(fx, row[i]))) {
            return NULL;
        }
    }
    return o;
}

cJSON *teddy_canon_input(const teddy_input_t *in)
{
    if ((unsigned)in->kind >= TEDDY_IN_COUNT) {
        return NULL;
    }
    const teddy_io_kind_t *kind = &TEDDY_INPUT_KINDS[in->kind];
    const canon_member_t *row = CANON_IN_BIND[in->kind];
    cJSON *o = canon_bound(row, kind) ? start(kind) : NULL;
    for (size_t i = 0; o != NULL && i < kind->n_fields; i++) {
        if (!add(o, kind, i, input_value(in, row[i], kind->fields[i].type))) {
            return NULL;
        }
    }
    return o;
}

void teddy_canon_store_free(teddy_canon_store_t *store)
{
    for (size_t i = 0; i < store->n_blocks; i++) {
        free(store->blocks[i]);
    }
    memset(store, 0, sizeof(*store));
}
