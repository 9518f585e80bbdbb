/*
 * device_config.c - the config document on the device: ETag-cached fetch and its use
 * (SPEC §4.3; emulator/core/config.py).
 *
 * At boot after Wi-Fi, and again when the cached copy is older than max-age, GET the
 * config with `If-None-Match: <stored ETag>`: 200 stores body and ETag in NVS
 * (config.ok{cached:false}), 304 keeps the copy (config.ok{cached:true}), anything
 * else prints config.fail{status,error,message,field} (SPEC §8.2: what the server said,
 * or what was wrong with a 200 body) and the device carries on with its cached copy or
 * the compiled-in defaults: config is never a reason to stop booting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "teddy_fields.h"
#include "teddy_json.h"

void dev_config_fetch(tdev_t *d, bool continue_boot)
{
    dev_http_cancel(d, &d->config.req);
    d->config.continue_boot = continue_boot;
    const char *etag = dev_nvs_str(d, TEDDY_NVS_CFG_ETAG);
    const char *body = dev_nvs_str(d, TEDDY_NVS_CFG_BODY);
    teddy_port_header_t h = {"If-None-Match", etag};
    char url[DEV_URL_MAX], server[256];
    snprintf(url, sizeof(url), "%s%s", dev_server_url(d, server, sizeof(server)), TEDDY_CONFIG_PATH);
    bool conditional = etag != NULL && etag[0] != '\0' && body != NULL && body[0] != '\0' &&
                       !dev_quirk(d, TEDDY_QUIRK_IGNORE_ETAG); /* SPEC Appendix C */
    d->config.req = dev_http(d, DEV_HTTP_CONFIG, "GET", url, conditional ? &h : NULL,
                             conditional ? 1 : 0, NULL, false);
}

void dev_config_cancel(tdev_t *d) { dev_http_cancel(d, &d->config.req); }

static void emit_ok(tdev_t *d, const char *etag, bool cached)
{
    EMIT_CONFIG_OK(d, .etag = etag, .cached = cached);
}

static void emit_fail(tdev_t *d, const dev_failure_t *why, const char *error)
{
    EMIT_CONFIG_FAIL(d, .status = why->status, .error = error, .message = why->message,
                     .field = why->field);
}

/* A 200 that is not a JSON object (SPEC §4.3: lenient, but an object). */
static void bad_body(tdev_t *d, bool json)
{
    teddy_field_errors_t errs = {0};
    if (json) {
        tf_not_object(&errs);
    }
    dev_failure_t why;
    dev_failure_bad(200, "bad_body", &errs, &why);
    emit_fail(d, &why, "bad_body");
}

static void store(tdev_t *d, const teddy_input_t *in)
{
    cJSON *body = NULL;
    if (teddy_body_parse((const char *)in->data, in->len, &body) != ESP_OK) {
        bad_body(d, false);
        return;
    }
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        bad_body(d, true);
        return;
    }
    char *compact = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (compact == NULL) {
        bad_body(d, false); /* out of memory */
        return;
    }
    const char *etag = dev_header(in, "etag");
    etag = etag != NULL ? etag : "";
    char *etag_copy = dev_strdup(etag);
    /* Body first: a power cut between the two writes leaves a body without its
     * ETag, which only costs a full 200 next time (never a stale 304 match). */
    dev_nvs_set_str(d, TEDDY_NVS_CFG_BODY, compact);
    dev_nvs_set_str(d, TEDDY_NVS_CFG_ETAG, etag_copy != NULL ? etag_copy : "");
    emit_ok(d, etag_copy != NULL ? etag_copy : "", false);
    free(etag_copy);
    cJSON_free(compact);
}

void dev_config_on_http(tdev_t *d, const teddy_input_t *in)
{
    if (in->kind != TEDDY_IN_HTTP_RESPONSE && in->kind != TEDDY_IN_HTTP_FAILED) {
        return;
    }
    dev_http_done(d, in->id);
    d->config.req = 0;
    dev_failure_t why;
    if (in->kind == TEDDY_IN_HTTP_FAILED) {
        dev_failure_of(in, &why);
        emit_fail(d, &why, in->text != NULL ? in->text : "transport");
    } else if (in->status == 304) {
        const char *etag = dev_header(in, "etag");
        if (etag == NULL || etag[0] == '\0') {
            etag = dev_nvs_str(d, TEDDY_NVS_CFG_ETAG);
        }
        emit_ok(d, etag != NULL ? etag : "", true);
    } else if (in->status == 200) {
        store(d, in);
    } else {
        dev_failure_of(in, &why);
        emit_fail(d, &why, why.code);
    }
    dev_arm(d, TEDDY_TIMER_CONFIG_REFRESH, d->timing.config_max_age_ms);
    if (d->config.continue_boot) {
        d->config.continue_boot = false;
        dev_after_config(d);
    }
}

/* --- the cached document (SPEC §4.1 "device use") ------------------------------------ */

static void cached(const tdev_t *d, teddy_config_t *cfg)
{
    teddy_config_defaults(cfg);
    const char *raw = dev_nvs_str(d, TEDDY_NVS_CFG_BODY);
    if (raw != NULL && raw[0] != '\0') {
        teddy_config_parse(raw, strlen(raw), cfg);
    }
}

bool dev_config_ota_enabled(const tdev_t *d)
{
    teddy_config_t *cfg = malloc(sizeof(*cfg));
    if (cfg == NULL) {
        return true;
    }
    cached(d, cfg);
    bool enabled = cfg->ota_enabled;
    free(cfg);
    return enabled;
}

void dev_config_check_ws_path(tdev_t *d, const char *websocket_url)
{
    /* SPEC §4.1: ws_path must equal the claim's URL path, else config_mismatch. */
    teddy_config_t *cfg = malloc(sizeof(*cfg));
    if (cfg == NULL) {
        return;
    }
    cached(d, cfg);
    char actual[DEV_URL_MAX] = "";
    if (!teddy_config_ws_path_matches(cfg, websocket_url, actual, sizeof(actual))) {
        char msg[2 * DEV_URL_MAX + 64];
        snprintf(msg, sizeof(msg), "config ws_path %s != websocket_url path %s", cfg->ws_path,
                 actual);
        EMIT_ERROR(d, .code = TEDDY_ERROR_CONFIG_MISMATCH, .message = msg);
    }
    free(cfg);
}
