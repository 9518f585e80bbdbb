/*
 * msg_build.c - device -> server frames (SPEC §6.3) and the downlink reply
 * assembler (SPEC §7.3).
 *
 * Frames are built with cJSON and printed unformatted: compact, keys in insertion
 * order, raw UTF-8 and the same escapes as Python's json.dumps(ensure_ascii=False),
 * so a C frame is byte-identical to protocol.messages.encode_message's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teddy_b64.h"
#include "teddy_msg_internal.h"
#include "teddy_util.h"

static esp_err_t finish(cJSON *body, bool ok, char *out, size_t out_size, size_t *out_len)
{
    esp_err_t err = ok ? tf_print(body, out, out_size, out_len) : ESP_ERR_NO_MEM;
    cJSON_Delete(body);
    return err;
}

static cJSON *typed(const char *type)
{
    cJSON *body = cJSON_CreateObject();
    if (body && !cJSON_AddStringToObject(body, "type", type)) {
        cJSON_Delete(body);
        return NULL;
    }
    return body;
}

esp_err_t teddy_msg_build_audio_start(const char *audio_session_id, char *out, size_t out_size,
                                      size_t *out_len)
{
    if (!out || (audio_session_id && !tm_session_id_ok(audio_session_id))) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *body = typed("audio_start");
    bool ok = body != NULL;
    if (ok && audio_session_id) {
        ok = cJSON_AddStringToObject(body, "audio_session_id", audio_session_id) != NULL;
    }
    return finish(body, ok, out, out_size, out_len);
}

/* A cJSON string holding the base64 of pcm (allocated once, not copied twice). */
static cJSON *b64_string(const uint8_t *pcm, size_t pcm_len)
{
    size_t n = teddy_b64_encoded_len(pcm_len) + 1;
    char *text = malloc(n);
    if (!text) {
        return NULL;
    }
    cJSON *item = NULL;
    if (teddy_b64_encode(pcm, pcm_len, text, n, NULL) == ESP_OK) {
        item = cJSON_CreateString(text);
    }
    free(text);
    return item;
}

size_t teddy_msg_audio_chunk_size(size_t pcm_len)
{
    /* {"type":"audio_chunk","audio_data":"","chunk_id":"<64>","audio_session_id":"<64>",
     *  "is_final":false} is about 200 bytes; round up generously. */
    return teddy_b64_encoded_len(pcm_len) + 256;
}

esp_err_t teddy_msg_build_audio_chunk(const uint8_t *pcm, size_t pcm_len, const char *chunk_id,
                                      const char *audio_session_id, bool is_final, char *out,
                                      size_t out_size, size_t *out_len)
{
    if (!out || (!pcm && pcm_len) || pcm_len % 2 || !chunk_id || !*chunk_id ||
        teddy_utf8_len(chunk_id) > TEDDY_CHUNK_ID_MAX ||
        (audio_session_id && !tm_session_id_ok(audio_session_id))) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *body = typed("audio_chunk");
    cJSON *data = body ? b64_string(pcm, pcm_len) : NULL;
    bool ok = data != NULL;
    if (ok) {
        cJSON_AddItemToObject(body, "audio_data", data);
        ok = cJSON_AddStringToObject(body, "chunk_id", chunk_id) != NULL;
    }
    if (ok && audio_session_id) {
        ok = cJSON_AddStringToObject(body, "audio_session_id", audio_session_id) != NULL;
    }
    ok = ok && cJSON_AddBoolToObject(body, "is_final", is_final);
    return finish(body, ok, out, out_size, out_len);
}

esp_err_t teddy_msg_build_audio_end(const char *audio_session_id, char *out, size_t out_size,
                                    size_t *out_len)
{
    if (!out || !audio_session_id || !tm_session_id_ok(audio_session_id)) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *body = typed("audio_end");
    bool ok = body && cJSON_AddStringToObject(body, "audio_session_id", audio_session_id);
    return finish(body, ok, out, out_size, out_len);
}

esp_err_t teddy_msg_build_heartbeat(const char *device_id, int64_t uptime_ms, const char *status,
                                    char *out, size_t out_size, size_t *out_len)
{
    if (!out) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *body = typed("heartbeat");
    bool ok = body != NULL;
    if (ok && device_id) {
        ok = cJSON_AddStringToObject(body, "device_id", device_id) != NULL;
    }
    if (ok && uptime_ms >= 0) {
        ok = cJSON_AddNumberToObject(body, "uptime_ms", (double)uptime_ms) != NULL;
    }
    if (ok && status) {
        ok = cJSON_AddStringToObject(body, "status", status) != NULL;
    }
    return finish(body, ok, out, out_size, out_len);
}

esp_err_t teddy_msg_build_text_message(const char *text, char *out, size_t out_size,
                                       size_t *out_len)
{
    if (!out || !text || teddy_str_blank(text) ||
        teddy_utf8_len(text) > TEDDY_MAX_TEXT_MESSAGE_CHARS) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *body = typed("text_message");
    bool ok = body && cJSON_AddStringToObject(body, "text", text);
    return finish(body, ok, out, out_size, out_len);
}

esp_err_t teddy_msg_build_audio_response(const char *audio_session_id, int64_t seq,
                                         const uint8_t *pcm, size_t pcm_len, bool is_final,
                                         const char *text, const char *timestamp, char *out,
                                         size_t out_size, size_t *out_len)
{
    if (!out || !audio_session_id || seq < 0 || (!pcm && pcm_len) || pcm_len % 2) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *body = typed("audio_response");
    bool ok = body && cJSON_AddStringToObject(body, "audio_session_id", audio_session_id) &&
              cJSON_AddNumberToObject(body, "seq", (double)seq) &&
              cJSON_AddBoolToObject(body, "is_final", is_final);
    if (ok && text) {
        ok = cJSON_AddStringToObject(body, "text", text) != NULL;
    }
    ok = ok && cJSON_AddStringToObject(body, "format", "pcm_s16le") &&
         cJSON_AddNumberToObject(body, "sample_rate", 16000) &&
         cJSON_AddNumberToObject(body, "channels", 1);
    cJSON *data = ok ? b64_string(pcm, pcm_len) : NULL;
    ok = data != NULL;
    if (ok) {
        cJSON_AddItemToObject(body, "audio_data", data);
    }
    if (ok && timestamp) {
        ok = cJSON_AddStringToObject(body, "timestamp", timestamp) != NULL;
    }
    return finish(body, ok, out, out_size, out_len);
}

/* --- downlink reply assembly ---------------------------------------------------------- */

void teddy_audio_rx_reset(teddy_audio_rx_t *rx)
{
    memset(rx, 0, sizeof(*rx));
}

esp_err_t teddy_audio_rx_feed(teddy_audio_rx_t *rx, const teddy_server_msg_t *msg,
                              bool *complete, teddy_msg_error_t *err)
{
    char text[96];
    if (complete) {
        *complete = false;
    }
    if (!rx || !msg || msg->type != TEDDY_SMSG_AUDIO_RESPONSE || !msg->audio_session_id) {
        return ESP_ERR_INVALID_ARG;
    }
    if (rx->done) {
        snprintf(text, sizeof(text), "frame seq %lld after the final frame", (long long)msg->seq);
        tm_set_error(err, TEDDY_WS_INVALID_MESSAGE, NULL, text);
        return ESP_ERR_INVALID_ARG;
    }
    if (msg->seq != rx->frame_count) {
        snprintf(text, sizeof(text), "expected seq %lld, got %lld", (long long)rx->frame_count,
                 (long long)msg->seq);
        tm_set_error(err, TEDDY_WS_INVALID_MESSAGE, "seq", text);
        return ESP_ERR_INVALID_ARG;
    }
    if (!rx->started) {
        if (!teddy_strlcpy(rx->audio_session_id, msg->audio_session_id,
                           sizeof(rx->audio_session_id))) {
            return ESP_ERR_INVALID_ARG;
        }
        rx->started = true;
    } else if (strcmp(rx->audio_session_id, msg->audio_session_id) != 0) {
        tm_set_error(err, TEDDY_WS_INVALID_MESSAGE, "audio_session_id",
                     "audio_session_id changed mid-reply");
        return ESP_ERR_INVALID_ARG;
    }
    rx->pcm_bytes += msg->pcm_len;
    rx->frame_count++;
    rx->done = msg->is_final;
    if (complete) {
        *complete = rx->done;
    }
    return ESP_OK;
}
