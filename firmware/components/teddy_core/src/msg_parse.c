/*
 * msg_parse.c - parsing WebSocket text frames (SPEC §6.3 device -> server, §6.4
 * server -> device), the C twin of protocol/messages.py parse_*_message.
 *
 * Order of checks, identical to Python so the same frame gets the same code:
 * size (message_too_large) -> strict JSON object (invalid_json) -> `type` string
 * (invalid_message/type) -> known type (unknown_message_type) -> server only: ISO
 * 8601 `timestamp` -> fields (invalid_message naming the first bad field) -> audio
 * payload (invalid_audio_data) / blank text (empty_text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teddy_b64.h"
#include "teddy_msg_internal.h"
#include "teddy_util.h"

static const char *const WS_ERRORS[] = {
    "", "invalid_json", "invalid_message", "unknown_message_type", "binary_not_supported",
    "message_too_large", "unknown_audio_session", "no_audio_data", "audio_too_short",
    "audio_too_long", "invalid_audio_data", "empty_text", "processing_error",
};

const char *teddy_ws_error_str(teddy_ws_error_t code)
{
    if ((size_t)code >= sizeof(WS_ERRORS) / sizeof(WS_ERRORS[0])) {
        return "";
    }
    return WS_ERRORS[code];
}

void tm_set_error(teddy_msg_error_t *err, teddy_ws_error_t code, const char *field,
                  const char *message)
{
    if (!err) {
        return;
    }
    err->code = code;
    teddy_strlcpy(err->field, field ? field : "", sizeof(err->field));
    snprintf(err->message, sizeof(err->message), "%s", message ? message : "");
}

bool tm_session_id_ok(const char *s)
{
    return teddy_is_id(s) && strlen(s) <= TEDDY_AUDIO_SESSION_ID_MAX;
}

bool tm_snake_case(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z')) {
        return false;
    }
    for (s++; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || teddy_isdigit((unsigned char)*s) || *s == '_')) {
            return false;
        }
    }
    return true;
}

esp_err_t tm_decode_pcm(const char *b64, uint8_t **pcm, size_t *pcm_len)
{
    size_t len = strlen(b64), n = 0;
    *pcm = NULL;
    *pcm_len = 0;
    if (len == 0) {
        return ESP_OK;
    }
    uint8_t *buf = malloc(teddy_b64_decoded_max(len) + 1);
    if (!buf) {
        return ESP_ERR_NO_MEM;
    }
    esp_err_t err = teddy_b64_decode(b64, len, buf, teddy_b64_decoded_max(len), &n);
    if (err == ESP_OK && n % 2) {
        err = ESP_ERR_INVALID_ARG; /* not whole s16 samples */
    }
    if (err != ESP_OK) {
        free(buf);
        return err == ESP_ERR_NO_MEM ? err : ESP_ERR_INVALID_ARG;
    }
    *pcm = buf;
    *pcm_len = n;
    return ESP_OK;
}

/* Optional audio_session_id: 1..64 chars of [A-Za-z0-9_-]. */
static const char *opt_session(tf_reader_t *r)
{
    return tf_optional_string(r, "audio_session_id", 1, TEDDY_AUDIO_SESSION_ID_MAX, teddy_is_id,
                              NULL);
}

static const char *req_session(tf_reader_t *r)
{
    return tf_string(r, "audio_session_id", 1, TEDDY_AUDIO_SESSION_ID_MAX, teddy_is_id);
}

/* Load + type dispatch shared by both directions; returns the type string or NULL. */
static esp_err_t load(const char *text, size_t len, size_t max_bytes, cJSON **root,
                      teddy_msg_error_t *err)
{
    char msg[96];
    *root = NULL;
    if (max_bytes != TEDDY_MSG_NO_LIMIT && len > max_bytes) {
        snprintf(msg, sizeof(msg), "frame is %zu bytes, limit %zu", len, max_bytes);
        tm_set_error(err, TEDDY_WS_MESSAGE_TOO_LARGE, NULL, msg);
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t e = teddy_json_parse(text, len, root);
    if (e == ESP_ERR_NO_MEM) {
        return e;
    }
    if (e != ESP_OK || !cJSON_IsObject(*root)) {
        tm_set_error(err, TEDDY_WS_INVALID_JSON, NULL,
                     e != ESP_OK ? "not valid JSON" : "message is not a JSON object");
        cJSON_Delete(*root);
        *root = NULL;
        return ESP_ERR_INVALID_ARG;
    }
    return ESP_OK;
}

static int find_type(const cJSON *root, const char *const *known, size_t n,
                     teddy_msg_error_t *err)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(kind)) {
        bool missing = !kind || cJSON_IsNull(kind);
        tm_set_error(err, TEDDY_WS_INVALID_MESSAGE, "type",
                     missing ? "type: required" : "type: must_be_string");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kind->valuestring, known[i]) == 0) {
            return (int)i;
        }
    }
    char msg[128];
    snprintf(msg, sizeof(msg), "unknown message type '%.64s'", kind->valuestring);
    tm_set_error(err, TEDDY_WS_UNKNOWN_MESSAGE_TYPE, "type", msg);
    return -1;
}

/* Python _read: the first recorded field error becomes invalid_message. */
static bool field_error(const teddy_field_errors_t *errs, const char *kind, teddy_msg_error_t *err)
{
    if (errs->count == 0) {
        return false;
    }
    char msg[128];
    const teddy_field_error_t *first = &errs->items[0];
    snprintf(msg, sizeof(msg), "%s.%s: %s", kind, first->field,
             teddy_field_reason_str(first->reason));
    tm_set_error(err, TEDDY_WS_INVALID_MESSAGE, first->field, msg);
    return true;
}

static esp_err_t pcm_error(esp_err_t e, teddy_msg_error_t *err)
{
    if (e == ESP_ERR_NO_MEM) {
        return e;
    }
    tm_set_error(err, TEDDY_WS_INVALID_AUDIO_DATA, NULL, "audio_data is not valid PCM base64");
    return ESP_ERR_INVALID_ARG;
}

/* --- server -> device ------------------------------------------------------------------ */

static const char *const SERVER_TYPES[] = {"system", "text_response", "audio_response", "error"};

static void read_system(tf_reader_t *r, teddy_server_msg_t *m)
{
    tf_reader_t data;
    if (!tf_nested(r, "data", &data)) {
        return;
    }
    m->data = data.obj;
    m->data_type = tf_string(&data, "type", 1, TF_NO_MAX, tm_snake_case);
    if (!m->data_type) {
        return;
    }
    /* Known data types must carry their fields; unknown ones pass through (SPEC §6.4). */
    if (strcmp(m->data_type, "connection_established") == 0) {
        m->session_id = tf_string(&data, "session_id", 0, TF_NO_MAX, NULL);
        m->message = tf_string(&data, "message", 0, TF_NO_MAX, NULL);
        m->server_time = tf_string(&data, "server_time", 0, TF_NO_MAX, NULL);
    } else if (strcmp(m->data_type, "audio_start_ack") == 0) {
        m->audio_session_id = tf_string(&data, "audio_session_id", 0, TF_NO_MAX, NULL);
        m->status = tf_string(&data, "status", 0, TF_NO_MAX, NULL);
    } else if (strcmp(m->data_type, "heartbeat_response") == 0) {
        m->session_status = tf_string(&data, "session_status", 0, TF_NO_MAX, NULL);
    }
}

static void read_audio_response(tf_reader_t *r, teddy_server_msg_t *m, const char **audio_data)
{
    m->audio_session_id = req_session(r);
    tf_integer(r, "seq", true, 0, false, 0, &m->seq);
    *audio_data = tf_string(r, "audio_data", 0, TF_NO_MAX, NULL);
    tf_boolean(r, "is_final", false, false, &m->is_final);
    bool bad = false;
    m->text = tf_optional_string(r, "text", 0, TF_NO_MAX, NULL, &bad);
    if (m->text && m->seq != 0) {
        tf_fail(r, "text", TEDDY_REASON_UNSUPPORTED_VALUE); /* SPEC §7.3: text on seq 0 only */
    }
    tf_equals_str(r, "format", "pcm_s16le");
    tf_equals_int(r, "sample_rate", 16000);
    tf_equals_int(r, "channels", 1);
}

esp_err_t teddy_msg_parse_server(const char *text, size_t len, size_t max_bytes,
                                 teddy_server_msg_t *out, teddy_msg_error_t *err)
{
    cJSON *root;
    memset(out, 0, sizeof(*out));
    tm_set_error(err, TEDDY_WS_OK, NULL, NULL);
    esp_err_t e = load(text, len, max_bytes, &root, err);
    if (e != ESP_OK) {
        return e;
    }
    int kind = find_type(root, SERVER_TYPES, 4, err);
    if (kind < 0) {
        cJSON_Delete(root);
        return ESP_ERR_INVALID_ARG;
    }
    teddy_field_errors_t errs = {0};
    tf_reader_t r;
    tf_init(&r, root, &errs);
    out->root = root;
    out->type = (teddy_server_msg_type_t)(kind + 1);
    out->timestamp = tf_iso_timestamp(&r, "timestamp");
    if (field_error(&errs, SERVER_TYPES[kind], err)) {
        teddy_server_msg_free(out);
        return ESP_ERR_INVALID_ARG;
    }
    const char *audio_data = NULL;
    switch (out->type) {
    case TEDDY_SMSG_SYSTEM:
        read_system(&r, out);
        break;
    case TEDDY_SMSG_TEXT_RESPONSE:
        out->text = tf_string(&r, "text", 0, TF_NO_MAX, NULL);
        out->transcript = tf_optional_string(&r, "transcript", 0, TF_NO_MAX, NULL, NULL);
        out->audio_session_id = opt_session(&r);
        break;
    case TEDDY_SMSG_AUDIO_RESPONSE:
        read_audio_response(&r, out, &audio_data);
        break;
    case TEDDY_SMSG_ERROR:
        out->error_code = tf_string(&r, "error_code", 0, TF_NO_MAX, tm_snake_case);
        out->error_message = tf_string(&r, "error_message", 0, TF_NO_MAX, NULL);
        break;
    }
    if (field_error(&errs, SERVER_TYPES[kind], err)) {
        teddy_server_msg_free(out);
        return ESP_ERR_INVALID_ARG;
    }
    if (out->type == TEDDY_SMSG_AUDIO_RESPONSE) {
        e = tm_decode_pcm(audio_data, &out->pcm, &out->pcm_len);
        if (e != ESP_OK) {
            teddy_server_msg_free(out);
            return pcm_error(e, err);
        }
    }
    return ESP_OK;
}

void teddy_server_msg_free(teddy_server_msg_t *msg)
{
    if (!msg) {
        return;
    }
    free(msg->pcm);
    cJSON_Delete(msg->root);
    memset(msg, 0, sizeof(*msg));
}

/* --- device -> server ------------------------------------------------------------------ */

static const char *const DEVICE_TYPES[] = {"audio_start", "audio_chunk", "audio_end", "heartbeat",
                                           "text_message"};

static void read_chunk(tf_reader_t *r, teddy_device_msg_t *m, const char **audio_data)
{
    *audio_data = tf_string(r, "audio_data", 0, TF_NO_MAX, NULL);
    if (teddy_json_is_int(tf_get_raw(r, "chunk_id"))) {
        m->chunk_id_is_int = true;
        tf_integer(r, "chunk_id", true, 0, false, 0, &m->chunk_id_int);
    } else {
        m->chunk_id_str = tf_string(r, "chunk_id", 1, TEDDY_CHUNK_ID_MAX, NULL);
    }
    m->audio_session_id = opt_session(r);
    tf_boolean(r, "is_final", true, false, &m->is_final);
}

esp_err_t teddy_msg_parse_device(const char *text, size_t len, size_t max_bytes,
                                 teddy_device_msg_t *out, teddy_msg_error_t *err)
{
    cJSON *root;
    memset(out, 0, sizeof(*out));
    tm_set_error(err, TEDDY_WS_OK, NULL, NULL);
    esp_err_t e = load(text, len, max_bytes, &root, err);
    if (e != ESP_OK) {
        return e;
    }
    int kind = find_type(root, DEVICE_TYPES, 5, err);
    if (kind < 0) {
        cJSON_Delete(root);
        return ESP_ERR_INVALID_ARG;
    }
    teddy_field_errors_t errs = {0};
    tf_reader_t r;
    tf_init(&r, root, &errs);
    out->root = root;
    out->type = (teddy_device_msg_type_t)(kind + 1);
    const char *audio_data = NULL;
    const cJSON *raw;
    switch (out->type) {
    case TEDDY_DMSG_AUDIO_START:
        out->audio_session_id = opt_session(&r);
        break;
    case TEDDY_DMSG_AUDIO_CHUNK:
        read_chunk(&r, out, &audio_data);
        break;
    case TEDDY_DMSG_AUDIO_END:
        out->audio_session_id = req_session(&r);
        break;
    case TEDDY_DMSG_HEARTBEAT:
        break; /* any fields; they stay in root */
    case TEDDY_DMSG_TEXT_MESSAGE:
        raw = tf_get_raw(&r, "text");
        if (cJSON_IsString(raw) && teddy_str_blank(raw->valuestring)) {
            tm_set_error(err, TEDDY_WS_EMPTY_TEXT, "text", "text is empty");
            teddy_device_msg_free(out);
            return ESP_ERR_INVALID_ARG;
        }
        out->text = tf_string(&r, "text", 0, TEDDY_MAX_TEXT_MESSAGE_CHARS, NULL);
        break;
    }
    if (field_error(&errs, DEVICE_TYPES[kind], err)) {
        teddy_device_msg_free(out);
        return ESP_ERR_INVALID_ARG;
    }
    if (out->type == TEDDY_DMSG_AUDIO_CHUNK) {
        e = tm_decode_pcm(audio_data, &out->pcm, &out->pcm_len);
        if (e != ESP_OK) {
            teddy_device_msg_free(out);
            return pcm_error(e, err);
        }
    }
    return ESP_OK;
}

void teddy_device_msg_free(teddy_device_msg_t *msg)
{
    if (!msg) {
        return;
    }
    free(msg->pcm);
    cJSON_Delete(msg->root);
    memset(msg, 0, sizeof(*msg));
}
