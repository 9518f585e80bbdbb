/*
 * claim.c - claim request (SPEC §2.3), claim 200 body (SPEC §2.5) and token
 * refresh bodies (SPEC §3.2), ported from protocol/claim.py.
 *
 * The device parses the 200 bodies as strictly as the emulator does, so a server
 * that drifts from the spec fails a test instead of confusing a device. Field
 * errors come out in the same order as Python's FieldReader records them.
 */
#include <string.h>

#include "teddy_fields.h"
#include "teddy_util.h"
#include "teddy_wire.h"

#define ID_MIN_DEVICE TEDDY_DEVICE_ID_MIN_LEN /* SPEC §1.3 (protocol/constants.py) */
#define NAME_MAX_CHARS 30                       /* SPEC §6.1 child name */
#define TOKEN_TYPE TEDDY_TOKEN_TYPE             /* "Bearer" (SPEC §2.5) */

static bool fw_version_chars(const char *s)
{
    for (; *s; s++) {
        if (!teddy_isalnum((unsigned char)*s) && !strchr("._+-", *s)) {
            return false;
        }
    }
    return true;
}

/* [A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})* */
static bool language_chars(const char *s)
{
    size_t n = 0;
    while (teddy_isalpha((unsigned char)s[n])) {
        n++;
    }
    if (n < 2 || n > 3) {
        return false;
    }
    s += n;
    while (*s == '-') {
        s++;
        n = 0;
        while (teddy_isalnum((unsigned char)s[n])) {
            n++;
        }
        if (n < 2 || n > 8) {
            return false;
        }
        s += n;
    }
    return *s == '\0';
}

static bool ws_url(const char *s)
{
    static const char *const schemes[] = {"ws", "wss", NULL};
    return teddy_url_match(s, schemes);
}

/* --- request ------------------------------------------------------------------------ */

esp_err_t teddy_claim_request_build(const teddy_claim_request_t *req, char *out, size_t out_size,
                                    size_t *out_len)
{
    if (!req || !req->device_id || !req->child_id || !req->nonce || !req->hmac_hex || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *body = cJSON_CreateObject();
    bool ok = body && cJSON_AddStringToObject(body, "device_id", req->device_id) &&
              cJSON_AddStringToObject(body, "child_id", req->child_id) &&
              cJSON_AddStringToObject(body, "nonce", req->nonce) &&
              cJSON_AddStringToObject(body, "hmac_hex", req->hmac_hex);
    if (ok && req->firmware_version) {
        ok = cJSON_AddStringToObject(body, "firmware_version", req->firmware_version) != NULL;
    }
    if (ok && req->has_timestamp) {
        ok = cJSON_AddNumberToObject(body, "timestamp", (double)req->timestamp) != NULL;
    }
    esp_err_t err = ok ? tf_print(body, out, out_size, out_len) : ESP_ERR_NO_MEM;
    cJSON_Delete(body);
    return err;
}

esp_err_t teddy_claim_request_parse(const cJSON *body, teddy_claim_request_parsed_t *out,
                                    teddy_field_errors_t *errs)
{
    teddy_field_errors_t local;
    errs = errs ? errs : &local;
    tf_errors_clear(errs);
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(body)) {
        tf_not_object(errs);
        return ESP_ERR_INVALID_ARG;
    }
    tf_reader_t r;
    bool bad = false;
    tf_init(&r, body, errs);
    const char *device_id = tf_string(&r, "device_id", ID_MIN_DEVICE, TEDDY_DEVICE_ID_MAX,
                                      teddy_is_id);
    const char *child_id = tf_string(&r, "child_id", 1, TEDDY_CHILD_ID_MAX, teddy_is_id);
    const char *nonce = tf_hex_string(&r, "nonce", 32, 64, false);
    const char *hmac = tf_hex_string(&r, "hmac_hex", 64, 64, true);
    const char *fw = tf_optional_string(&r, "firmware_version", 1, TEDDY_FW_VERSION_MAX,
                                        fw_version_chars, &bad);
    out->has_timestamp = tf_optional_integer(&r, "timestamp", true, 0, false, 0, &out->timestamp,
                                             &bad);
    if (tf_has_errors(&r)) {
        return ESP_ERR_INVALID_ARG;
    }
    tf_copy(&r, "device_id", device_id, out->device_id, sizeof(out->device_id));
    tf_copy(&r, "child_id", child_id, out->child_id, sizeof(out->child_id));
    tf_copy(&r, "nonce", nonce, out->nonce, sizeof(out->nonce));
    tf_copy(&r, "hmac_hex", hmac, out->hmac_hex, sizeof(out->hmac_hex));
    tf_lower(out->nonce);
    tf_lower(out->hmac_hex);
    if (fw) {
        out->has_firmware_version = true;
        tf_copy(&r, "firmware_version", fw, out->firmware_version, sizeof(out->firmware_version));
    }
    return tf_has_errors(&r) ? ESP_ERR_INVALID_ARG : ESP_OK;
}

/* --- claim 200 ---------------------------------------------------------------------- */

typedef struct {
    const char *access, *refresh;
    int64_t expires_in, refresh_expires_in;
} tokens_t;

static void read_tokens(tf_reader_t *r, tokens_t *t)
{
    t->access = tf_string(r, "access_token", 1, TEDDY_TOKEN_MAX, NULL);
    t->refresh = tf_string(r, "refresh_token", 1, TEDDY_TOKEN_MAX, NULL);
    tf_equals_str(r, "token_type", TOKEN_TYPE);
    tf_integer(r, "expires_in", true, 1, false, 0, &t->expires_in);
    tf_integer(r, "refresh_expires_in", true, 1, false, 0, &t->refresh_expires_in);
}

static void read_profile(tf_reader_t *r, teddy_child_profile_t *p)
{
    const char *id = tf_string(r, "id", 1, TEDDY_CHILD_ID_MAX, teddy_is_id);
    const char *name = tf_string(r, "name", 1, NAME_MAX_CHARS, NULL);
    tf_integer(r, "age", false, 0, false, 0, &p->age); /* 3..13 is checked at §6.1 */
    const char *lang = tf_string(r, "language", 0, TF_NO_MAX, language_chars);
    tf_copy(r, "id", id, p->id, sizeof(p->id));
    tf_copy(r, "name", name, p->name, sizeof(p->name));
    tf_copy(r, "language", lang, p->language, sizeof(p->language));
}

static void read_audio(tf_reader_t *r, teddy_device_config_t *c)
{
    tf_equals_str(r, "format", "pcm_s16le");
    tf_equals_int(r, "sample_rate", 16000);
    tf_equals_int(r, "channels", 1);
    if (tf_integer(r, "chunk_bytes", true, 2, true, 8192, &c->chunk_bytes) && c->chunk_bytes % 2) {
        tf_fail(r, "chunk_bytes", TEDDY_REASON_UNSUPPORTED_VALUE); /* whole s16 samples */
    }
}

static void read_config(tf_reader_t *r, teddy_device_config_t *c)
{
    tf_reader_t audio;
    const char *url = tf_string(r, "websocket_url", 1, TF_NO_MAX, NULL);
    if (url && !ws_url(url)) {
        tf_fail(r, "websocket_url", TEDDY_REASON_NOT_URL); /* absolute ws[s]:// (defect 18) */
        url = NULL;
    }
    tf_integer(r, "heartbeat_interval", true, 1, false, 0, &c->heartbeat_interval);
    tf_integer(r, "max_message_size", true, 1, false, 0, &c->max_message_size);
    c->chunk_bytes = 4096;
    if (tf_nested(r, "audio", &audio)) {
        read_audio(&audio, c);
    }
    tf_copy(r, "websocket_url", url, c->websocket_url, sizeof(c->websocket_url));
}

esp_err_t teddy_claim_response_from_json(const cJSON *body, teddy_claim_response_t *out,
                                         teddy_field_errors_t *errs)
{
    teddy_field_errors_t local;
    errs = errs ? errs : &local;
    tf_errors_clear(errs);
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(body)) {
        tf_not_object(errs);
        return ESP_ERR_INVALID_ARG;
    }
    tf_reader_t r, profile, config;
    tokens_t t = {0};
    tf_init(&r, body, errs);
    read_tokens(&r, &t);
    const char *sid = tf_string(&r, "device_session_id", 1, TEDDY_SESSION_ID_MAX, teddy_is_id);
    bool has_profile = tf_nested(&r, "child_profile", &profile);
    bool has_config = tf_nested(&r, "device_config", &config);
    if (has_profile) {
        read_profile(&profile, &out->child_profile);
    }
    if (has_config) {
        read_config(&config, &out->device_config);
    }
    tf_copy(&r, "access_token", t.access, out->access_token, sizeof(out->access_token));
    tf_copy(&r, "refresh_token", t.refresh, out->refresh_token, sizeof(out->refresh_token));
    tf_copy(&r, "device_session_id", sid, out->device_session_id, sizeof(out->device_session_id));
    out->expires_in = t.expires_in;
    out->refresh_expires_in = t.refresh_expires_in;
    return tf_has_errors(&r) ? ESP_ERR_INVALID_ARG : ESP_OK;
}

esp_err_t teddy_claim_response_parse(const char *text, size_t len, teddy_claim_response_t *out,
                                     teddy_field_errors_t *errs)
{
    cJSON *root = NULL;
    tf_errors_clear(errs);
    esp_err_t err = teddy_json_parse(text, len, &root);
    if (err != ESP_OK) {
        memset(out, 0, sizeof(*out));
        return err;
    }
    err = teddy_claim_response_from_json(root, out, errs);
    cJSON_Delete(root);
    return err;
}

/* --- refresh ------------------------------------------------------------------------ */

esp_err_t teddy_refresh_request_build(const char *refresh_token, char *out, size_t out_size,
                                      size_t *out_len)
{
    if (!refresh_token || !*refresh_token || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *body = cJSON_CreateObject();
    bool ok = body && cJSON_AddStringToObject(body, "refresh_token", refresh_token);
    esp_err_t err = ok ? tf_print(body, out, out_size, out_len) : ESP_ERR_NO_MEM;
    cJSON_Delete(body);
    return err;
}

esp_err_t teddy_refresh_response_parse(const char *text, size_t len,
                                       teddy_refresh_response_t *out, teddy_field_errors_t *errs)
{
    teddy_field_errors_t local;
    cJSON *root = NULL;
    errs = errs ? errs : &local;
    tf_errors_clear(errs);
    memset(out, 0, sizeof(*out));
    esp_err_t err = teddy_json_parse(text, len, &root);
    if (err != ESP_OK) {
        return err;
    }
    if (!cJSON_IsObject(root)) {
        tf_not_object(errs);
        cJSON_Delete(root);
        return ESP_ERR_INVALID_ARG;
    }
    tf_reader_t r;
    tokens_t t = {0};
    tf_init(&r, root, errs);
    read_tokens(&r, &t);
    tf_copy(&r, "access_token", t.access, out->access_token, sizeof(out->access_token));
    tf_copy(&r, "refresh_token", t.refresh, out->refresh_token, sizeof(out->refresh_token));
    out->expires_in = t.expires_in;
    out->refresh_expires_in = t.refresh_expires_in;
    err = tf_has_errors(&r) ? ESP_ERR_INVALID_ARG : ESP_OK;
    cJSON_Delete(root);
    return err;
}
