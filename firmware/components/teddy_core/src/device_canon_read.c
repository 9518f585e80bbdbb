/*
 * device_canon_read.c - reading the canonical JSON of inputs and effects (teddy_canon.h).
 *
 * Field names, order, types and defaults are the device model's (TEDDY_INPUT_KINDS,
 * TEDDY_EFFECT_KINDS); values are checked as strictly as protocol/device_codec.py does:
 * integers are whole numbers, bytes strict base64, names from their closed lists, an
 * nvs_set value of its key's model type.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_canon_internal.h"
#include "teddy_b64.h"
#include "teddy_canon.h"

typedef struct {
    teddy_canon_store_t *store;
    char *why;
    size_t why_size;
    char where[80]; /* "<kind>.<field>" */
} reader_t;

static void at(reader_t *r, const char *kind, const char *field)
{
    snprintf(r->where, sizeof(r->where), "%s%s%s", kind, field[0] ? "." : "", field);
}

static esp_err_t bad(reader_t *r, const char *what)
{
    snprintf(r->why, r->why_size, "%s: %s", r->where, what);
    return ESP_ERR_INVALID_ARG;
}

static esp_err_t as_int(reader_t *r, const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        fabs(v->valuedouble) > 9007199254740992.0) {
        return bad(r, "expected an integer");
    }
    *out = (int64_t)v->valuedouble;
    return ESP_OK;
}

static esp_err_t as_str(reader_t *r, const cJSON *v, bool nullable, const char **out)
{
    if (nullable && cJSON_IsNull(v)) {
        *out = NULL;
        return ESP_OK;
    }
    if (!cJSON_IsString(v)) {
        return bad(r, nullable ? "expected a string or null" : "expected a string");
    }
    *out = v->valuestring;
    return ESP_OK;
}

static esp_err_t as_name(reader_t *r, const cJSON *v, const char *const *names, size_t n,
                         int *out)
{
    const char *s = NULL;
    esp_err_t err = as_str(r, v, false, &s);
    for (size_t i = 0; err == ESP_OK && i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = (int)i;
            return ESP_OK;
        }
    }
    return err != ESP_OK ? err : bad(r, "not one of the model's names");
}

static esp_err_t as_bytes(reader_t *r, const cJSON *v, const uint8_t **data, size_t *len)
{
    if (!cJSON_IsString(v)) {
        return bad(r, "expected base64 text");
    }
    size_t text_len = strlen(v->valuestring), size = teddy_b64_decoded_max(text_len) + 1;
    if (r->store->n_blocks == TEDDY_CANON_MAX_BLOCKS) {
        return bad(r, "too many byte fields");
    }
    uint8_t *buf = malloc(size);
    if (buf == NULL) {
        return ESP_ERR_NO_MEM;
    }
    r->store->blocks[r->store->n_blocks++] = buf;
    if (teddy_b64_decode(v->valuestring, text_len, buf, size, len) != ESP_OK) {
        return bad(r, "not standard base64");
    }
    *data = buf;
    return ESP_OK;
}

/* [[name, value], ...] (map false) or {name: value} (map true) into the store. */
static esp_err_t as_headers(reader_t *r, const cJSON *v, bool map,
                            const teddy_port_header_t **out, size_t *n)
{
    if (map ? !cJSON_IsObject(v) : !cJSON_IsArray(v)) {
        return bad(r, map ? "expected an object of strings" : "expected [name, value] pairs");
    }
    teddy_canon_store_t *s = r->store;
    *out = &s->headers[s->n_headers];
    *n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, v)
    {
        const cJSON *name = map ? item : cJSON_GetArrayItem(item, 0);
        const cJSON *value = map ? item : cJSON_GetArrayItem(item, 1);
        bool pair = map || (cJSON_IsArray(item) && cJSON_GetArraySize(item) == 2);
        if (!pair || !cJSON_IsString(value) || (!map && !cJSON_IsString(name))) {
            return bad(r, "headers must be strings");
        }
        if (s->n_headers == TEDDY_CANON_MAX_HEADERS) {
            return bad(r, "too many headers");
        }
        s->headers[s->n_headers++] =
            (teddy_port_header_t){map ? item->string : name->valuestring, value->valuestring};
        (*n)++;
    }
    return ESP_OK;
}

/* --- inputs ------------------------------------------------------------------------- */

static esp_err_t read_input_field(reader_t *r, canon_member_t m, teddy_io_type_t type,
                                  const cJSON *v, teddy_input_t *in)
{
    int64_t n = 0;
    int index = 0;
    esp_err_t err = ESP_OK;
    switch (m) {
    case I_TEXT: return as_str(r, v, false, &in->text);
    case I_MESSAGE: return as_str(r, v, false, &in->message);
    case I_HEADERS: return as_headers(r, v, true, &in->headers, &in->n_headers);
    case I_DATA:
        if (type == TEDDY_IO_STR) { /* ws_text: the frame's text as data/len */
            const char *text = NULL;
            err = as_str(r, v, false, &text);
            in->data = (const uint8_t *)text;
            in->len = text != NULL ? strlen(text) : 0;
            return err;
        }
        return as_bytes(r, v, &in->data, &in->len);
    case I_TIMER:
        err = as_name(r, v, TEDDY_TIMER_NAMES, TEDDY_TIMER_COUNT, &index);
        in->timer = (teddy_timer_t)index;
        return err;
    case I_SLOT: return as_name(r, v, TEDDY_SLOT_NAMES, TEDDY_SLOT_COUNT, &in->slot);
    default: break;
    }
    if ((err = as_int(r, v, &n)) != ESP_OK) {
        return err;
    }
    switch (m) {
    case I_ID: in->id = (uint32_t)n; break;
    case I_STATUS: in->status = (int)n; break;
    case I_CODE: in->code = (int)n; break;
    case I_LEN: in->len = (size_t)n; break;
    case I_EPOCH: in->epoch = n; break;
    case I_AT_MS: in->at_ms = (uint64_t)n; break;
    default: in->offset = (size_t)n; break; /* I_OFFSET */
    }
    return ESP_OK;
}

/* --- effects ------------------------------------------------------------------------ */

static esp_err_t read_nvs_value(reader_t *r, const cJSON *v, teddy_effect_t *fx)
{
    const teddy_nvs_key_t *k = teddy_nvs_key_find(fx->u.nvs.ns, fx->u.nvs.key);
    if (k == NULL) {
        return bad(r, "not an NVS key of the device model");
    }
    fx->u.nvs.type = k->type;
    if (k->type == TEDDY_NVS_STR) {
        return as_str(r, v, false, &fx->u.nvs.str);
    }
    esp_err_t err = as_int(r, v, &fx->u.nvs.num);
    int64_t low = k->type == TEDDY_NVS_U32 ? 0 : INT32_MIN;
    int64_t high = k->type == TEDDY_NVS_U32 ? (int64_t)UINT32_MAX : INT32_MAX;
    if (err == ESP_OK && (fx->u.nvs.num < low || fx->u.nvs.num > high)) {
        return bad(r, "outside the key's NVS type");
    }
    return err;
}

static esp_err_t read_effect_name(reader_t *r, canon_member_t m, const cJSON *v,
                                  teddy_effect_t *fx)
{
    int index = 0;
    esp_err_t err = ESP_OK;
    switch (m) {
    case F_TIMER:
        err = as_name(r, v, TEDDY_TIMER_NAMES, TEDDY_TIMER_COUNT, &index);
        fx->u.timer.id = (teddy_timer_t)index;
        break;
    case F_SOURCE:
        err = as_name(r, v, TEDDY_CAPTURE_KIND_NAMES, TEDDY_CAPTURE_KIND_COUNT, &index);
        fx->u.capture.kind = (teddy_capture_kind_t)index;
        break;
    case F_SLOT:
        err = as_name(r, v, TEDDY_SLOT_NAMES, TEDDY_SLOT_COUNT, &fx->u.flash.slot);
        break;
    case F_RESET:
        err = as_name(r, v, TEDDY_RESET_REASON_NAMES, TEDDY_RESET_COUNT, &index);
        fx->u.reboot.reason = (teddy_reset_reason_t)index;
        break;
    default: /* F_REASON */
        if ((err = as_str(r, v, false, &fx->u.flash.reason)) == ESP_OK &&
            !teddy_rollback_reason_valid(fx->u.flash.reason)) {
            err = bad(r, "not a rollback reason");
        }
        break;
    }
    return err;
}

static esp_err_t read_effect_field(reader_t *r, canon_member_t m, const cJSON *v,
                                   teddy_effect_t *fx)
{
    int64_t n = 0;
    esp_err_t err = ESP_OK;
    switch (m) {
    case F_LINE: return as_str(r, v, false, &fx->u.print.line);
    case F_NVS_NS: return as_str(r, v, false, &fx->u.nvs.ns);
    case F_NVS_KEY: return as_str(r, v, true, &fx->u.nvs.key);
    case F_NVS_VALUE: return read_nvs_value(r, v, fx);
    case F_METHOD: return as_str(r, v, false, &fx->u.http.method);
    case F_URL: return as_str(r, v, false, &fx->u.http.url);
    case F_HTTP_HEADERS: return as_headers(r, v, false, &fx->u.http.headers, &fx->u.http.n_headers);
    case F_BODY:
        err = as_str(r, v, true, &fx->u.http.body);
        fx->u.http.body_len = fx->u.http.body != NULL ? strlen(fx->u.http.body) : 0;
        return err;
    case F_WS_URL: return as_str(r, v, false, &fx->u.ws.url);
    case F_WS_HEADERS: return as_headers(r, v, false, &fx->u.ws.headers, &fx->u.ws.n_headers);
    case F_WS_TEXT:
        err = as_str(r, v, false, &fx->u.ws.text);
        fx->u.ws.len = fx->u.ws.text != NULL ? strlen(fx->u.ws.text) : 0;
        return err;
    case F_WS_REASON: return as_str(r, v, false, &fx->u.ws.reason);
    case F_VALUE: return as_str(r, v, false, &fx->u.capture.value);
    case F_SESSION: return as_str(r, v, false, &fx->u.audio.session);
    case F_NAME: return as_str(r, v, false, &fx->u.audio.name);
    case F_PCM: return as_bytes(r, v, &fx->u.audio.pcm, &fx->u.audio.len);
    case F_RECEIVED: return as_bytes(r, v, &fx->u.audio.received, &fx->u.audio.received_len);
    case F_DATA: return as_bytes(r, v, &fx->u.flash.data, &fx->u.flash.len);
    case F_STREAM:
    case F_CUT:
        if (!cJSON_IsBool(v)) {
            return bad(r, "expected true or false");
        }
        *(m == F_STREAM ? &fx->u.http.stream : &fx->u.audio.cut) = cJSON_IsTrue(v);
        return ESP_OK;
    case F_TIMER:
    case F_SOURCE:
    case F_SLOT:
    case F_RESET:
    case F_REASON: return read_effect_name(r, m, v, fx);
    default: break;
    }
    if ((err = as_int(r, v, &n)) != ESP_OK) {
        return err;
    }
    switch (m) {
    case F_AT_MS: fx->u.timer.at_ms = (uint64_t)n; break;
    case F_REQ: fx->u.http.req_id = (uint32_t)n; break;
    case F_CONN: fx->u.ws.conn_id = (uint32_t)n; break;
    case F_WS_CODE: fx->u.ws.code = (int)n; break;
    case F_CAPTURE: fx->u.capture.id = (uint32_t)n; break;
    case F_VOLUME: fx->u.audio.volume = (int)n; break;
    case F_SAMPLE_RATE: fx->u.audio.sample_rate = (uint32_t)n; break;
    case F_OFFSET: fx->u.flash.offset = (size_t)n; break;
    case F_LENGTH: fx->u.flash.len = (size_t)n; break;
    default: fx->u.flash.secure_version = (uint32_t)n; break; /* F_SECURE */
    }
    return ESP_OK;
}

/* --- both ----------------------------------------------------------------------------- */

/* The kind's index in `kinds`, or -1 after saying why. */
static int kind_of(const cJSON *obj, const teddy_io_kind_t *kinds, int n, reader_t *r)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    for (int i = 0; cJSON_IsString(kind) && i < n; i++) {
        if (strcmp(kinds[i].name, kind->valuestring) == 0) {
            return i;
        }
    }
    at(r, "kind", "");
    bad(r, cJSON_IsObject(obj) ? "unknown kind" : "not a JSON object");
    return -1;
}

static esp_err_t unknown_fields(const cJSON *obj, const teddy_io_kind_t *kind, reader_t *r)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        bool known = strcmp(item->string, "kind") == 0;
        for (size_t i = 0; !known && i < kind->n_fields; i++) {
            known = strcmp(kind->fields[i].name, item->string) == 0;
        }
        if (!known) {
            at(r, kind->name, item->string);
            return bad(r, "not a field of this kind");
        }
    }
    return ESP_OK;
}

esp_err_t teddy_canon_read_input(const cJSON *obj, teddy_input_t *out,
                                 teddy_canon_store_t *store, char *why, size_t why_size)
{
    char scratch[8];
    reader_t r = {store, why != NULL ? why : scratch, why != NULL ? why_size : sizeof(scratch),
                  {0}};
    memset(out, 0, sizeof(*out));
    int k = kind_of(obj, TEDDY_INPUT_KINDS, TEDDY_IN_COUNT, &r);
    if (k < 0) {
        return ESP_ERR_INVALID_ARG;
    }
    const teddy_io_kind_t *kind = &TEDDY_INPUT_KINDS[k];
    out->kind = (teddy_input_kind_t)k;
    if (!canon_bound(CANON_IN_BIND[k], kind)) {
        at(&r, kind->name, "");
        return bad(&r, "the C binding does not match the model's fields");
    }
    esp_err_t err = unknown_fields(obj, kind, &r);
    for (size_t i = 0; err == ESP_OK && i < kind->n_fields; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, kind->fields[i].name);
        at(&r, kind->name, kind->fields[i].name);
        if (v == NULL) { /* a default: none, or empty bytes */
            err = kind->fields[i].has_default ? ESP_OK : bad(&r, "missing");
            continue;
        }
        err = read_input_field(&r, CANON_IN_BIND[k][i], kind->fields[i].type, v, out);
    }
    return err;
}

esp_err_t teddy_canon_read_effect(const cJSON *obj, teddy_effect_t *out,
                                  teddy_canon_store_t *store, char *why, size_t why_size)
{
    char scratch[8];
    reader_t r = {store, why != NULL ? why : scratch, why != NULL ? why_size : sizeof(scratch),
                  {0}};
    memset(out, 0, sizeof(*out));
    int k = kind_of(obj, TEDDY_EFFECT_KINDS, TEDDY_FX_COUNT, &r);
    if (k < 0) {
        return ESP_ERR_INVALID_ARG;
    }
    const teddy_io_kind_t *kind = &TEDDY_EFFECT_KINDS[k];
    out->kind = (teddy_effect_kind_t)k;
    if (!canon_bound(CANON_FX_BIND[k], kind)) {
        at(&r, kind->name, "");
        return bad(&r, "the C binding does not match the model's fields");
    }
    esp_err_t err = unknown_fields(obj, kind, &r);
    for (size_t i = 0; err == ESP_OK && i < kind->n_fields; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, kind->fields[i].name);
        at(&r, kind->name, kind->fields[i].name);
        if (v == NULL) { /* a default: zero, false, NULL, or "" for a string */
            err = kind->fields[i].has_default ? ESP_OK : bad(&r, "missing");
            if (err == ESP_OK && CANON_FX_BIND[k][i] == F_VALUE) {
                out->u.capture.value = "";
            }
            if (CANON_FX_BIND[k][i] == F_SAMPLE_RATE) { /* the model's default: SPEC §7.1 */
                out->u.audio.sample_rate = TEDDY_SAMPLE_RATE;
            }
            continue;
        }
        err = read_effect_field(&r, CANON_FX_BIND[k][i], v, out);
    }
    return err;
}
