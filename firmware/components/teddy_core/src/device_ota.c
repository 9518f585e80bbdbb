/*
 * device_ota.c - over-the-air update: check, decide, apply, self-test
 * (emulator/core/ota.py).
 *
 * SPEC §5.4: the manifest check with its ETag, the update decision table (chip,
 * SemVer precedence, anti-rollback; every ota.none carries the manifest answer's
 * status and, SPEC §8.2, what the server said or which field was wrong), a version
 * that rolled back is never offered
 * again (ota.none{rolled_back}, no install loop), a non-mandatory update waits until
 * the chat is idle. SPEC §5.5 app side: write the inactive slot (device_download.c),
 * set otadata, ota.applied, reboot; on a pending-verify boot mark the image valid at
 * ws.open, or roll back when the self-test limit passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "teddy_semver.h"

bool dev_ota_busy(const tdev_t *d) { return d->ota.req != 0 || d->ota.download != NULL; }

bool dev_ota_updating(const tdev_t *d) { return d->ota.download != NULL; }

static void ota_none(tdev_t *d, const char *reason, const dev_failure_t *answer)
{
    EMIT_OTA_NONE(d, .reason = reason, .status = answer->status, .code = answer->code,
                  .message = answer->message, .field = answer->field);
}

void dev_ota_on_boot(tdev_t *d)
{
    d->ota.confirmed = !d->boot.pending_verify;
    if (d->boot.pending_verify) {
        dev_log(d, "new image pending verification: self-test is claim + ws.open");
        dev_arm(d, TEDDY_TIMER_SELFTEST, d->timing.self_test_limit_ms);
    }
}

void dev_ota_on_ws_open(tdev_t *d)
{
    if (!d->ota.confirmed) {
        d->ota.confirmed = true;
        dev_disarm(d, TEDDY_TIMER_SELFTEST);
        teddy_effect_t fx = {.kind = TEDDY_FX_OTA_MARK_VALID};
        fx.u.flash.slot = d->boot.slot;
        fx.u.flash.secure_version = d->boot.image_secure_version;
        dev_fx(d, &fx);
        dev_log(d, "self-test passed: %s marked valid", d->boot.fw_version);
    }
    if (!d->ota.first_check_done) {
        d->ota.first_check_done = true;
        dev_ota_check(d, true);
        dev_arm(d, TEDDY_TIMER_OTA_PERIODIC, d->timing.ota_check_interval_ms);
    }
}

void dev_ota_on_timer(tdev_t *d, teddy_timer_t t)
{
    if (t == TEDDY_TIMER_SELFTEST && !d->ota.confirmed) {
        dev_log(d, "self-test failed: no ws.open within the limit; rolling back");
        teddy_effect_t fx = {.kind = TEDDY_FX_OTA_MARK_INVALID};
        fx.u.flash.slot = d->boot.slot;
        fx.u.flash.reason = TEDDY_ROLLBACK_SELF_TEST_FAILED;
        dev_fx(d, &fx);
        dev_going_down(d, "reboot");
        teddy_effect_t rb = {.kind = TEDDY_FX_REBOOT};
        rb.u.reboot.reason = TEDDY_RESET_SW;
        dev_fx(d, &rb);
    } else if (t == TEDDY_TIMER_OTA_PERIODIC) {
        dev_ota_check(d, true);
        dev_arm(d, TEDDY_TIMER_OTA_PERIODIC, d->timing.ota_check_interval_ms);
    } else if (t == TEDDY_TIMER_OTA_RETRY && d->ota.download != NULL) {
        dev_dl_resume(d, d->ota.download);
    }
}

bool dev_ota_check(tdev_t *d, bool automatic)
{
    bool enabled = dev_config_ota_enabled(d);
    if (dev_ota_busy(d) || !enabled) {
        if (automatic && !enabled) {
            dev_log(d, "ota disabled by config (features.ota false)");
        }
        return false;
    }
    char server[256], id[200], ver[100], chip[48], url[DEV_URL_MAX + 400];
    dev_pct_encode(id, sizeof(id), dev_device_id(d));
    dev_pct_encode(ver, sizeof(ver), d->boot.fw_version);
    dev_pct_encode(chip, sizeof(chip), d->chip);
    snprintf(url, sizeof(url), "%s%s?device_id=%s&current_version=%s&chip=%s",
             dev_server_url(d, server, sizeof(server)), TEDDY_FIRMWARE_PATH, id, ver, chip);
    const char *etag = dev_nvs_str(d, TEDDY_NVS_OTA_MF_ETAG);
    const char *body = dev_nvs_str(d, TEDDY_NVS_OTA_MF_BODY);
    bool conditional = etag != NULL && etag[0] != '\0' && body != NULL && body[0] != '\0' &&
                       !dev_quirk(d, TEDDY_QUIRK_IGNORE_ETAG); /* SPEC Appendix C */
    teddy_port_header_t h = {"If-None-Match", etag};
    d->ota.req = dev_http(d, DEV_HTTP_MANIFEST, "GET", url, conditional ? &h : NULL,
                          conditional ? 1 : 0, NULL, false);
    return true;
}

static void start(tdev_t *d, const teddy_manifest_t *m)
{
    int slot = d->boot.slot == 0 ? 1 : 0;
    if (m->size < 0 || (uint64_t)m->size > (uint64_t)d->boot.slot_size) {
        /* esp_ota_begin refuses an image larger than the partition before any write. */
        char why[128];
        snprintf(why, sizeof(why), "image of %lld bytes does not fit the %llu-byte slot",
                 (long long)m->size, (unsigned long long)d->boot.slot_size);
        EMIT_OTA_VERIFY_FAIL(d, .reason = "size_mismatch", .message = why);
        return;
    }
    d->ota.download = dev_dl_new(d, m, slot);
    if (d->ota.download == NULL) {
        dev_log(d, "no memory for the download");
        return;
    }
    dev_set_state(d, TEDDY_STATE_UPDATING);
    dev_dl_begin(d, d->ota.download);
}

/* SPEC §5.4 rows 4..8; `status` is the manifest answer's, for the ota.none line. */
static void decide(tdev_t *d, const teddy_manifest_t *m, int status)
{
    teddy_update_decision_t dec;
    dev_failure_t answer;
    dev_failure_none(status, &answer);
    if (teddy_manifest_decide(m, d->boot.fw_version, d->chip, d->boot.efuse_secure_version,
                              &dec) != ESP_OK) {
        ota_none(d, TEDDY_OTA_NONE_BAD_MANIFEST, &answer);
        return;
    }
    if (dec.action == TEDDY_UPDATE_SKIP) {
        ota_none(d, teddy_update_reason_str(dec.reason), &answer);
        return;
    }
    const char *bad = dev_nvs_str(d, TEDDY_NVS_OTA_BAD_VERSION);
    int cmp = 1;
    if (bad != NULL && bad[0] != '\0' && teddy_semver_compare_str(bad, m->version, &cmp) == ESP_OK &&
        cmp == 0) {
        /* Like esp_https_ota's "same as the invalid version": no install loop. */
        ota_none(d, TEDDY_OTA_NONE_ROLLED_BACK, &answer);
        return;
    }
    EMIT_OTA_AVAILABLE(d, .version = m->version, .size = m->size);
    if (m->mandatory || dev_chat_idle(d)) {
        start(d, m);
        return;
    }
    dev_log(d, "update %s waits until the device is idle", m->version);
    free(d->ota.waiting);
    d->ota.waiting = malloc(sizeof(*d->ota.waiting));
    if (d->ota.waiting != NULL) {
        *d->ota.waiting = *m;
    }
}

void dev_ota_on_manifest(tdev_t *d, const teddy_input_t *in)
{
    if (in->kind != TEDDY_IN_HTTP_RESPONSE && in->kind != TEDDY_IN_HTTP_FAILED) {
        return;
    }
    dev_http_done(d, in->id);
    d->ota.req = 0;
    dev_failure_t why;
    if (in->kind == TEDDY_IN_HTTP_FAILED ||
        (in->status != 200 && in->status != 304 && in->status != 404)) {
        dev_failure_of(in, &why);
        ota_none(d, TEDDY_OTA_NONE_CHECK_FAILED, &why);
        return;
    }
    if (in->status == 404) {
        dev_failure_of(in, &why);
        ota_none(d, TEDDY_OTA_NONE_NO_RELEASE, &why);
        return;
    }
    const char *raw = (const char *)in->data;
    size_t len = in->len;
    if (in->status == 304) {
        raw = dev_nvs_str(d, TEDDY_NVS_OTA_MF_BODY);
        raw = raw != NULL ? raw : "";
        len = strlen(raw);
    }
    teddy_manifest_t *m = malloc(sizeof(*m));
    teddy_field_errors_t errs = {0};
    if (m == NULL || !teddy_body_readable(raw, len) ||
        teddy_manifest_parse(raw, len, m, &errs) != ESP_OK) {
        free(m);
        dev_failure_bad(in->status, "", &errs, &why);
        ota_none(d, TEDDY_OTA_NONE_BAD_MANIFEST, &why);
        return;
    }
    if (in->status == 200) {
        char *body = malloc(len + 1);
        if (body != NULL) {
            memcpy(body, raw, len);
            body[len] = '\0';
            const char *etag = dev_header(in, "etag");
            dev_nvs_set_str(d, TEDDY_NVS_OTA_MF_BODY, body);
            dev_nvs_set_str(d, TEDDY_NVS_OTA_MF_ETAG, etag != NULL ? etag : "");
            free(body);
        }
    }
    decide(d, m, in->status);
    free(m);
}

void dev_ota_on_idle(tdev_t *d)
{
    /* The chat went idle: a waiting non-mandatory update may start (SPEC §5.4). */
    if (d->ota.waiting != NULL && !dev_ota_busy(d)) {
        teddy_manifest_t *m = d->ota.waiting;
        d->ota.waiting = NULL;
        start(d, m);
        free(m);
    }
}

void dev_ota_download_failed(tdev_t *d, const char *reason, const char *message)
{
    EMIT_OTA_VERIFY_FAIL(d, .reason = reason, .message = message);
    dev_dl_free(d->ota.download);
    d->ota.download = NULL;
    dev_settle(d);
}

void dev_ota_download_verified(tdev_t *d, const char *version, int slot)
{
    char ver[TEDDY_MANIFEST_VERSION_MAX + 1];
    snprintf(ver, sizeof(ver), "%s", version);
    dev_dl_free(d->ota.download);
    d->ota.download = NULL;
    teddy_effect_t fx = {.kind = TEDDY_FX_OTA_SET_BOOT};
    fx.u.flash.slot = slot;
    dev_fx(d, &fx);
    EMIT_OTA_APPLIED(d, .version = ver, .slot = teddy_slot_name(slot));
    dev_going_down(d, "ota");
    teddy_effect_t rb = {.kind = TEDDY_FX_REBOOT};
    rb.u.reboot.reason = TEDDY_RESET_SW;
    dev_fx(d, &rb);
}

void dev_ota_on_rollback_reported(tdev_t *d, const char *from_version)
{
    dev_nvs_set_str(d, TEDDY_NVS_OTA_BAD_VERSION, from_version);
}

void dev_ota_free(tdev_t *d)
{
    dev_dl_free(d->ota.download);
    d->ota.download = NULL;
    free(d->ota.waiting);
    d->ota.waiting = NULL;
}
