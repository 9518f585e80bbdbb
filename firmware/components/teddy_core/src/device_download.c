/*
 * device_download.c - one firmware download into the inactive slot, resumable across
 * drops and power cuts (emulator/core/download.py; SPEC §5.2).
 *
 * The image streams into the slot while the streaming verifier hashes and checks it
 * (SPEC §5.4 rows abort at once) and device_imgcheck.c walks its structure. After
 * every slot write the byte count is persisted with the manifest's sha256, size and
 * slot (slot first, then the count: after a power cut the count never exceeds the
 * slot). A resumed download re-reads the partial slot in TEDDY_SLOT_READ_CHUNK_BYTES
 * reads (a piece shorter than asked restarts from byte 0), re-hashes it,
 * and asks for `Range: bytes=<received>-` with `If-Range: <ETag of the first
 * response>`; a 206 is accepted only when Content-Range starts at the received count
 * and ends at size - 1; a 200 restarts from 0; 5 failed attempts give up with
 * size_mismatch. ota.progress at the start (0 or the resume offset), every further
 * 10 % and at the end (SPEC §8.2).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"


static void start_checks(tdev_t *d, dev_download_t *dl)
{
    if (dl->verifier_ready) {
        teddy_image_verifier_free(&dl->verifier);
        dev_imgcheck_free(&dl->check);
    }
    dl->verifier_ready =
        teddy_image_verifier_init(&dl->verifier, &dl->manifest, d->chip,
                                  d->boot.efuse_secure_version) == ESP_OK &&
        dev_imgcheck_init(&dl->check) == ESP_OK;
}

dev_download_t *dev_dl_new(tdev_t *d, const teddy_manifest_t *m, int slot)
{
    dev_download_t *dl = calloc(1, sizeof(*dl));
    if (dl == NULL) {
        return NULL;
    }
    dl->manifest = *m;
    dl->slot = slot;
    start_checks(d, dl);
    return dl;
}

void dev_dl_free(dev_download_t *dl)
{
    if (dl == NULL) {
        return;
    }
    if (dl->verifier_ready) {
        teddy_image_verifier_free(&dl->verifier);
        dev_imgcheck_free(&dl->check);
    }
    free(dl);
}

static void progress(tdev_t *d, dev_download_t *dl)
{
    uint32_t tenth = (uint32_t)(dl->received * 10 / (size_t)dl->manifest.size);
    if (tenth >= dl->next_tenth) {
        EMIT_OTA_PROGRESS(d, .bytes = (int64_t)dl->received, .total = dl->manifest.size);
        dl->next_tenth = tenth + 1;
    }
}

/* Ends the download: dl is freed by the callee, touch nothing after. */
static void abort_with(tdev_t *d, dev_download_t *dl, const char *reason, const char *message)
{
    dev_http_cancel(d, &dl->req);
    dev_disarm(d, TEDDY_TIMER_OTA_RETRY);
    dev_nvs_erase(d, TEDDY_NS_OTA_DL);
    dev_ota_download_failed(d, reason, message);
}

static void abort_dl(tdev_t *d, dev_download_t *dl, const char *reason)
{
    abort_with(d, dl, reason, "");
}

static void fresh(tdev_t *d, dev_download_t *dl)
{
    dl->received = 0;
    start_checks(d, dl);
    dl->etag[0] = '\0';
    teddy_effect_t fx = {.kind = TEDDY_FX_SLOT_ERASE};
    fx.u.flash.slot = dl->slot;
    dev_fx(d, &fx);
    dev_nvs_erase(d, TEDDY_NS_OTA_DL);
    dev_nvs_set_str(d, TEDDY_NVS_OTA_DL_SHA256, dl->manifest.sha256);
    dev_nvs_set_str(d, TEDDY_NVS_OTA_DL_SLOT, teddy_slot_name(dl->slot));
    dev_nvs_set_int(d, TEDDY_NVS_OTA_DL_SIZE, dl->manifest.size);
    dev_nvs_set_str(d, TEDDY_NVS_OTA_DL_VERSION, dl->manifest.version);
    dev_nvs_set_int(d, TEDDY_NVS_OTA_DL_BYTES, 0);
    dl->next_tenth = 0;
    progress(d, dl);
}

static void request(tdev_t *d, dev_download_t *dl)
{
    char range[48];
    teddy_port_header_t h[2];
    size_t n = 0;
    if (dl->received > 0) {
        snprintf(range, sizeof(range), "bytes=%zu-", dl->received);
        h[n++] = (teddy_port_header_t){"Range", range};
        if (dl->etag[0] != '\0') {
            h[n++] = (teddy_port_header_t){"If-Range", dl->etag};
        }
    }
    dl->range_from = dl->received;
    dl->req = dev_http(d, DEV_HTTP_DOWNLOAD, "GET", dl->manifest.url, n ? h : NULL, n, NULL, true);
}

static size_t read_length(const dev_download_t *dl)
{
    size_t left = dl->read_target - dl->received;
    return left < TEDDY_SLOT_READ_CHUNK_BYTES ? left : TEDDY_SLOT_READ_CHUNK_BYTES;
}

static void read_next(tdev_t *d, dev_download_t *dl)
{
    teddy_effect_t fx = {.kind = TEDDY_FX_SLOT_READ};
    fx.u.flash.slot = dl->slot;
    fx.u.flash.offset = dl->received;
    fx.u.flash.len = read_length(dl);
    dev_fx(d, &fx);
}

void dev_dl_begin(tdev_t *d, dev_download_t *dl)
{
    /* Resume a download of the same image (same sha256, slot, size) or start afresh. */
    const char *sha = dev_nvs_str(d, TEDDY_NVS_OTA_DL_SHA256);
    const char *slot = dev_nvs_str(d, TEDDY_NVS_OTA_DL_SLOT);
    int64_t size = 0, done = 0;
    bool same = sha != NULL && strcmp(sha, dl->manifest.sha256) == 0 && slot != NULL &&
                teddy_slot_from_str(slot) == dl->slot &&
                dev_nvs_int(d, TEDDY_NVS_OTA_DL_SIZE, &size) && size == dl->manifest.size &&
                dev_nvs_int(d, TEDDY_NVS_OTA_DL_BYTES, &done) && done > 0 &&
                done < dl->manifest.size;
    if (same && dl->verifier_ready) {
        const char *etag = dev_nvs_str(d, TEDDY_NVS_OTA_DL_ETAG);
        snprintf(dl->etag, sizeof(dl->etag), "%s", etag != NULL ? etag : "");
        dl->reading = true;
        dl->read_target = (size_t)done;
        dl->received = 0;
        read_next(d, dl);
        return;
    }
    fresh(d, dl);
    request(d, dl);
}

void dev_dl_on_slot_data(tdev_t *d, dev_download_t *dl, const teddy_input_t *in)
{
    if (!dl->reading || in->offset != dl->received) {
        return; /* not the piece asked for */
    }
    if (in->len < read_length(dl)) {
        dl->reading = false;
        dev_log(d, "partial slot ends at byte %zu, NVS says more: restart", in->offset + in->len);
        fresh(d, dl);
        request(d, dl);
        return;
    }
    teddy_image_err_t reason = TEDDY_IMAGE_OK;
    if (teddy_image_verifier_feed(&dl->verifier, in->data, in->len, &reason) != ESP_OK) {
        abort_dl(d, dl, teddy_image_err_str(reason));
        return;
    }
    dev_imgcheck_feed(&dl->check, in->data, in->len);
    dl->received += in->len;
    if (dl->received < dl->read_target) {
        read_next(d, dl);
        return;
    }
    dl->reading = false;
    dev_log(d, "resuming download of %s at byte %zu", dl->manifest.version, dl->received);
    dl->next_tenth = (uint32_t)(dl->received * 10 / (size_t)dl->manifest.size);
    progress(d, dl);
    request(d, dl);
}

void dev_dl_resume(tdev_t *d, dev_download_t *dl) { request(d, dl); }

/* One failed attempt; may end the download (then dl is gone). Returns false then. */
static bool attempt_failed(tdev_t *d, dev_download_t *dl, const char *why)
{
    dev_http_cancel(d, &dl->req);
    dl->attempts++;
    dev_log(d, "download attempt %u failed: %s", (unsigned)dl->attempts, why);
    if (dl->attempts >= d->timing.ota_max_attempts) {
        /* SPEC §5.2: the bytes never completed; §8.2: say what the server did last. */
        char message[320], quoted[TEDDY_ANSWER_TEXT_SIZE];
        snprintf(message, sizeof(message), "%u attempts failed; the last: %s",
                 (unsigned)dl->attempts, why);
        teddy_quote(message, strlen(message), quoted, TEDDY_SERVER_TEXT_MAX_BYTES);
        abort_with(d, dl, "size_mismatch", quoted);
        return false;
    }
    dev_arm(d, TEDDY_TIMER_OTA_RETRY, d->timing.ota_retry_ms);
    return true;
}

static void on_start(tdev_t *d, dev_download_t *dl, const teddy_input_t *in)
{
    char why[256];
    if (dl->range_from > 0 && in->status == 206) {
        const char *cr = dev_header(in, "content-range");
        unsigned long long a = 0, b = 0, total = 0;
        char tail = 0;
        if (cr == NULL || sscanf(cr, "bytes %llu-%llu/%llu%c", &a, &b, &total, &tail) != 3 ||
            a != dl->range_from || b != (unsigned long long)dl->manifest.size - 1 ||
            total != (unsigned long long)dl->manifest.size) {
            char value[TEDDY_ANSWER_CODE_SIZE]; /* the server's header, quoted (SPEC §8.1) */
            teddy_quote(cr, cr != NULL ? strlen(cr) : 0, value, TEDDY_SERVER_CODE_MAX_BYTES);
            snprintf(why, sizeof(why), "bad Content-Range '%s'", value);
            attempt_failed(d, dl, why);
            return;
        }
    } else if (dl->range_from > 0 && in->status == 200) {
        dev_log(d, "server sent the whole image (200): restarting from byte 0");
        fresh(d, dl);
    } else if (in->status != 200) {
        if (in->status == 416) {
            fresh(d, dl); /* the saved offset is useless: next attempt from 0 */
        }
        snprintf(why, sizeof(why), "HTTP %d", in->status);
        attempt_failed(d, dl, why);
        return;
    }
    const char *etag = dev_header(in, "etag");
    if (etag != NULL && etag[0] != '\0' && dl->etag[0] == '\0') {
        snprintf(dl->etag, sizeof(dl->etag), "%s", etag);
        dev_nvs_set_str(d, TEDDY_NVS_OTA_DL_ETAG, dl->etag);
    }
}

static void on_data(tdev_t *d, dev_download_t *dl, const uint8_t *data, size_t len)
{
    if (dl->req == 0 || len == 0) {
        return;
    }
    teddy_image_err_t reason = TEDDY_IMAGE_OK;
    if (teddy_image_verifier_feed(&dl->verifier, data, len, &reason) != ESP_OK) {
        abort_dl(d, dl, teddy_image_err_str(reason));
        return;
    }
    dev_imgcheck_feed(&dl->check, data, len);
    /* Slot first, then the count: after a power cut the count never exceeds the slot. */
    teddy_effect_t fx = {.kind = TEDDY_FX_SLOT_WRITE};
    fx.u.flash.slot = dl->slot;
    fx.u.flash.offset = dl->received;
    fx.u.flash.data = data;
    fx.u.flash.len = len;
    dev_fx(d, &fx);
    dl->received += len;
    dev_nvs_set_int(d, TEDDY_NVS_OTA_DL_BYTES, (int64_t)dl->received);
    progress(d, dl);
}

static void finish(tdev_t *d, dev_download_t *dl)
{
    teddy_image_err_t reason = TEDDY_IMAGE_OK;
    if (teddy_image_verifier_finish(&dl->verifier, &reason) != ESP_OK) {
        abort_dl(d, dl, teddy_image_err_str(reason));
        return;
    }
    reason = dev_imgcheck_finish(&dl->check);
    if (reason != TEDDY_IMAGE_OK) {
        abort_dl(d, dl, teddy_image_err_str(reason));
        return;
    }
    char version[TEDDY_MANIFEST_VERSION_MAX + 1];
    snprintf(version, sizeof(version), "%s",
             dl->verifier.have_desc ? dl->verifier.desc.version : dl->manifest.version);
    dev_nvs_erase(d, TEDDY_NS_OTA_DL);
    dev_ota_download_verified(d, version, dl->slot);
}

void dev_dl_on_http(tdev_t *d, dev_download_t *dl, const teddy_input_t *in)
{
    if (in->id != dl->req) {
        return;
    }
    char why[256];
    switch (in->kind) {
    case TEDDY_IN_HTTP_STREAM_START:
        on_start(d, dl, in);
        break;
    case TEDDY_IN_HTTP_STREAM_DATA:
        on_data(d, dl, in->data, in->len);
        break;
    case TEDDY_IN_HTTP_STREAM_END:
        dev_http_done(d, in->id);
        dl->req = 0;
        if ((int64_t)dl->received == dl->manifest.size) {
            finish(d, dl);
        } else {
            snprintf(why, sizeof(why), "download ended at byte %zu", dl->received);
            attempt_failed(d, dl, why);
        }
        break;
    case TEDDY_IN_HTTP_FAILED:
        dev_http_done(d, in->id);
        dl->req = 0;
        snprintf(why, sizeof(why), "transport: %s", in->text != NULL ? in->text : "");
        attempt_failed(d, dl, why);
        break;
    case TEDDY_IN_HTTP_RESPONSE: /* not a streaming answer: treat as a failure */
        dev_http_done(d, in->id);
        dl->req = 0;
        snprintf(why, sizeof(why), "HTTP %d", in->status);
        attempt_failed(d, dl, why);
        break;
    default:
        break;
    }
}
