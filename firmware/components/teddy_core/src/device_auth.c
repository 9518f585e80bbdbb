/*
 * device_auth.c - claim and token refresh on the device (emulator/core/claim.py).
 *
 * SPEC §2.6 retry policy: 429 waits Retry-After; transport errors, 5xx and 409 back
 * off base * 2^(attempt-1) ±25 % with a fresh nonce; 401 invalid_signature, 403 and
 * 404 stop and print claim.fail{retry_in_ms:0}; 401 stale_timestamp retries once
 * without a timestamp. SPEC §3.2: tokens persisted refresh-first, the access
 * deadline on the uptime clock, refresh 60 s before expiry and after a reboot, claim
 * again on a 401, every failed refresh printed as token.refresh.fail with what the
 * device does next. Both failure events say why (SPEC §8.2, device_answers.c); the
 * claim's child profile is stored as the default child name and age (SPEC §2.5, §9.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "teddy_crypto.h"
#include "teddy_json.h"

static const teddy_port_header_t JSON_HDR[] = {{"Content-Type", "application/json"}};

static void on_ready(tdev_t *d) { dev_link_connect(d); }

bool dev_auth_has_tokens(const tdev_t *d)
{
    const char *a = dev_nvs_str(d, TEDDY_NVS_AUTH_ACCESS_TOKEN);
    const char *r = dev_nvs_str(d, TEDDY_NVS_AUTH_REFRESH_TOKEN);
    return a != NULL && a[0] != '\0' && r != NULL && r[0] != '\0';
}

bool dev_auth_needs_refresh(const tdev_t *d)
{
    return !d->auth.has_deadline ||
           d->now_ms + d->timing.token_refresh_margin_ms >= d->auth.access_deadline_ms;
}

void dev_auth_authenticate(tdev_t *d)
{
    if (d->auth.req != 0) {
        /* One request at a time (SPEC §3.2). A background refresh in flight now answers
         * a caller that wants the link (a reconnect): let its end connect, or retry,
         * instead of leaving the device offline with nothing armed (SPEC §6.2; device
         * trace refresh_during_reconnect). */
        d->auth.background = false;
        return;
    }
    const char *claimed_child = dev_nvs_str(d, TEDDY_NVS_AUTH_CHILD_ID);
    if (!dev_auth_has_tokens(d) || claimed_child == NULL ||
        strcmp(claimed_child, dev_child_id(d)) != 0) {
        dev_auth_claim(d);
    } else if (dev_auth_needs_refresh(d)) {
        dev_auth_refresh(d, false);
    } else {
        on_ready(d);
    }
}

void dev_auth_drop_tokens(tdev_t *d)
{
    dev_nvs_erase(d, TEDDY_NS_AUTH);
    d->auth.has_deadline = false;
    dev_disarm(d, TEDDY_TIMER_TOKEN_REFRESH);
}

void dev_auth_cancel(tdev_t *d)
{
    dev_http_cancel(d, &d->auth.req);
    dev_disarm(d, TEDDY_TIMER_CLAIM_RETRY);
    dev_disarm(d, TEDDY_TIMER_AUTH_RETRY);
}

/* SPEC §2.3: fresh CSPRNG bytes for every claim, unless a quirk (Appendix C) replays
 * the last claim's nonce: reuse_nonce always, retry_same_nonce after a 401. */
static void next_nonce(tdev_t *d, char *nonce, size_t size)
{
    bool replay = dev_quirk(d, TEDDY_QUIRK_REUSE_NONCE) || d->auth.same_nonce;
    d->auth.same_nonce = false;
    if (!replay || d->auth.last_nonce[0] == '\0') {
        uint8_t rnd[16];
        d->random_bytes(rnd, sizeof(rnd)); /* SPEC §2.3: never from the jitter RNG */
        teddy_nonce_hex(rnd, sizeof(rnd), d->auth.last_nonce, sizeof(d->auth.last_nonce));
    }
    snprintf(nonce, size, "%s", d->auth.last_nonce);
}

void dev_auth_claim(tdev_t *d)
{
    dev_auth_cancel(d);
    d->auth.gave_up = false;
    d->auth.background = false;
    dev_set_state(d, TEDDY_STATE_CLAIMING);
    const char *device_id = dev_device_id(d), *child_id = dev_child_id(d);
    char nonce[65], oob[TEDDY_OOB_HEX_LEN + 1], hmac[TEDDY_HMAC_HEX_LEN + 1];
    next_nonce(d, nonce, sizeof(nonce));
    const char *stored = dev_nvs_str(d, TEDDY_NVS_MFG_OOB_SECRET);
    if (stored != NULL && stored[0] != '\0') {
        snprintf(oob, sizeof(oob), "%s", stored);
    } else if (d->has_oob) {
        snprintf(oob, sizeof(oob), "%s", d->oob_secret);
    } else {
        teddy_oob_derive(device_id, NULL, oob);
    }
    hmac[0] = '\0';
    teddy_claim_hmac_hex(oob, device_id, child_id, nonce, hmac);
    teddy_claim_request_t req = {.device_id = device_id, .child_id = child_id, .nonce = nonce,
                                 .hmac_hex = hmac, .firmware_version = d->boot.fw_version};
    int64_t now;
    if (!d->auth.omit_timestamp && dev_wall_clock(d, &now)) {
        req.has_timestamp = true;
        req.timestamp = now;
    }
    char body[1024], url[DEV_URL_MAX], server[256];
    if (teddy_claim_request_build(&req, body, sizeof(body), NULL) != ESP_OK) {
        body[0] = '\0';
    }
    snprintf(url, sizeof(url), "%s%s", dev_server_url(d, server, sizeof(server)), TEDDY_CLAIM_PATH);
    d->auth.req = dev_http(d, DEV_HTTP_CLAIM, "POST", url, JSON_HDR, 1, body, false);
}

void dev_auth_refresh(tdev_t *d, bool background)
{
    const char *token = dev_nvs_str(d, TEDDY_NVS_AUTH_REFRESH_TOKEN);
    if (d->auth.req != 0 || token == NULL || token[0] == '\0') {
        if ((token == NULL || token[0] == '\0') && !background) {
            dev_auth_claim(d);
        }
        return;
    }
    d->auth.background = background;
    if (!background) {
        dev_set_state(d, TEDDY_STATE_CLAIMING);
    }
    size_t size = strlen(token) + 64;
    char *body = malloc(size);
    char url[DEV_URL_MAX], server[256];
    if (body == NULL || teddy_refresh_request_build(token, body, size, NULL) != ESP_OK) {
        free(body);
        return;
    }
    snprintf(url, sizeof(url), "%s%s", dev_server_url(d, server, sizeof(server)), TEDDY_REFRESH_PATH);
    d->auth.req = dev_http(d, DEV_HTTP_REFRESH, "POST", url, JSON_HDR, 1, body, false);
    free(body);
}

void dev_auth_on_timer(tdev_t *d, teddy_timer_t t)
{
    if (t == TEDDY_TIMER_CLAIM_RETRY) {
        dev_auth_claim(d);
    } else if (t == TEDDY_TIMER_AUTH_RETRY) {
        dev_auth_authenticate(d);
    } else if (t == TEDDY_TIMER_TOKEN_REFRESH && d->auth.req == 0) {
        dev_auth_refresh(d, true);
    }
}

/* --- claim answers ------------------------------------------------------------------- */

static uint32_t claim_backoff(tdev_t *d)
{
    return dev_backoff(d, d->auth.attempt + 1, d->timing.claim_backoff_base_ms,
                       d->timing.claim_backoff_max_ms, d->timing.claim_jitter);
}

static void claim_failed(tdev_t *d, const dev_failure_t *why, uint32_t retry_in_ms)
{
    d->auth.attempt++;
    EMIT_CLAIM_FAIL(d, .status = why->status, .code = why->code, .attempt = d->auth.attempt,
                    .retry_in_ms = retry_in_ms, .message = why->message, .field = why->field);
    if (retry_in_ms > 0) {
        dev_arm(d, TEDDY_TIMER_CLAIM_RETRY, retry_in_ms);
    } else {
        d->auth.gave_up = true;
        dev_set_state(d, TEDDY_STATE_OFFLINE);
    }
}

/* SPEC §2.6 device retry policy; 0 means stop and wait for a human. */
static uint32_t retry_delay(tdev_t *d, const teddy_input_t *in, const char *code)
{
    if (in->status == 429) {
        const char *ra = dev_header(in, "retry-after");
        long seconds = 1;
        if (ra != NULL) {
            char *end = NULL;
            seconds = strtol(ra, &end, 10);
            if (end == ra || *end != '\0') {
                seconds = 1;
            }
        }
        return (uint32_t)(seconds < 1 ? 1 : seconds > 86400 ? 86400 : seconds) * 1000u;
    }
    if (in->status >= 500 || in->status == 409) {
        return claim_backoff(d);
    }
    if (in->status == 401 && dev_quirk(d, TEDDY_QUIRK_RETRY_SAME_NONCE)) {
        d->auth.same_nonce = true; /* SPEC Appendix C: the refused nonce goes out again */
        return claim_backoff(d);
    }
    if (in->status == 401 && strcmp(code, "stale_timestamp") == 0 && !d->auth.stale_retry_used) {
        d->auth.stale_retry_used = true;
        d->auth.omit_timestamp = true; /* the clock is off; drop the timestamp, retry once */
        return claim_backoff(d);
    }
    return 0;
}

static void set_deadline(tdev_t *d, int64_t expires_in_s)
{
    uint64_t lifetime = expires_in_s > 0 ? (uint64_t)expires_in_s * 1000u : 0;
    uint64_t margin = d->timing.token_refresh_margin_ms;
    d->auth.has_deadline = true;
    d->auth.access_deadline_ms = d->now_ms + lifetime;
    /* A short-lived token (tests) still refreshes at half its life, never in a loop. */
    uint64_t at = lifetime > margin ? lifetime - margin : 0;
    dev_arm(d, TEDDY_TIMER_TOKEN_REFRESH, at > lifetime / 2 ? at : lifetime / 2);
}

static void claimed(tdev_t *d, const teddy_claim_response_t *r)
{
    d->auth.attempt = 0;
    d->auth.stale_retry_used = false;
    d->auth.omit_timestamp = false;
    char child[TEDDY_CHILD_ID_MAX + 1];
    snprintf(child, sizeof(child), "%s", dev_child_id(d));
    /* SPEC §3.2: the refresh token is durable before the access token is used. */
    dev_nvs_set_str(d, TEDDY_NVS_AUTH_REFRESH_TOKEN, r->refresh_token);
    dev_nvs_set_str(d, TEDDY_NVS_AUTH_ACCESS_TOKEN, r->access_token);
    dev_nvs_set_str(d, TEDDY_NVS_AUTH_SESSION_ID, r->device_session_id);
    dev_nvs_set_str(d, TEDDY_NVS_AUTH_WEBSOCKET_URL, r->device_config.websocket_url);
    dev_nvs_set_str(d, TEDDY_NVS_AUTH_CHILD_ID, child);
    /* SPEC §2.5, §9.2: the claim's name and age are the defaults of the WebSocket query
     * (until `set`); kept with the tokens, so they survive a reboot and go with them. */
    dev_nvs_set_str(d, TEDDY_NVS_AUTH_CHILD_NAME, r->child_profile.name);
    dev_nvs_set_int(d, TEDDY_NVS_AUTH_CHILD_AGE, r->child_profile.age); /* clamped to i32 */
    dev_nvs_set_int(d, TEDDY_NVS_AUTH_HB_INTERVAL, r->device_config.heartbeat_interval);
    dev_nvs_set_int(d, TEDDY_NVS_AUTH_CHUNK_BYTES, r->device_config.chunk_bytes);
    set_deadline(d, r->expires_in);
    EMIT_CLAIM_OK(d, .device_session_id = r->device_session_id, .child_id = r->child_profile.id,
                  .age = r->child_profile.age);
    dev_config_check_ws_path(d, r->device_config.websocket_url);
    on_ready(d);
}

static void on_claim(tdev_t *d, const teddy_input_t *in)
{
    dev_failure_t why;
    if (in->kind == TEDDY_IN_HTTP_FAILED) {
        dev_failure_of(in, &why);
        claim_failed(d, &why, claim_backoff(d));
        return;
    }
    if (in->status == 200) {
        teddy_claim_response_t *r = malloc(sizeof(*r));
        teddy_field_errors_t errs = {0};
        if (r == NULL || !dev_body_readable(in) ||
            teddy_claim_response_parse((const char *)in->data, in->len, r, &errs) != ESP_OK) {
            free(r);
            dev_failure_bad(200, "bad_response", &errs, &why);
            claim_failed(d, &why, claim_backoff(d));
            return;
        }
        claimed(d, r);
        free(r);
        return;
    }
    dev_failure_of(in, &why);
    claim_failed(d, &why, retry_delay(d, in, why.code));
}

/* --- refresh answers ------------------------------------------------------------------- */

/* Print token.refresh.fail with what happens next, then do it (SPEC §3.2). */
static void refresh_failed(tdev_t *d, const dev_failure_t *why, bool background, bool retry)
{
    uint32_t delay = 0;
    if (retry) {
        d->auth.refresh_failures++;
        delay = dev_backoff(d, d->auth.refresh_failures, d->timing.claim_backoff_base_ms,
                            d->timing.claim_backoff_max_ms, d->timing.claim_jitter);
    }
    EMIT_TOKEN_REFRESH_FAIL(d, .status = why->status, .code = why->code,
                            .next = retry ? TEDDY_REFRESH_NEXT_RETRY : TEDDY_REFRESH_NEXT_CLAIM,
                            .retry_in_ms = delay, .message = why->message, .field = why->field);
    if (retry) {
        dev_arm(d, background ? TEDDY_TIMER_TOKEN_REFRESH : TEDDY_TIMER_AUTH_RETRY, delay);
        return;
    }
    dev_auth_drop_tokens(d);
    if (!background) {
        dev_auth_claim(d);
    }
}

static void on_refresh(tdev_t *d, const teddy_input_t *in)
{
    bool background = d->auth.background;
    dev_failure_t why;
    if (in->kind == TEDDY_IN_HTTP_RESPONSE && in->status == 200) {
        teddy_refresh_response_t *r = malloc(sizeof(*r));
        teddy_field_errors_t errs = {0};
        if (r == NULL || !dev_body_readable(in) ||
            teddy_refresh_response_parse((const char *)in->data, in->len, r, &errs) != ESP_OK) {
            free(r);
            dev_failure_bad(200, "bad_response", &errs, &why);
            refresh_failed(d, &why, background, true);
            return;
        }
        d->auth.refresh_failures = 0;
        dev_nvs_set_str(d, TEDDY_NVS_AUTH_REFRESH_TOKEN, r->refresh_token);
        dev_nvs_set_str(d, TEDDY_NVS_AUTH_ACCESS_TOKEN, r->access_token);
        set_deadline(d, r->expires_in);
        free(r);
        EMIT_TOKEN_REFRESHED(d);
        if (!background) {
            on_ready(d);
        }
        return;
    }
    dev_failure_of(in, &why);
    /* SPEC §3.2: transport errors, 5xx and 429 retry; a 401 (any other refusal) means
     * discard both tokens and claim again with a fresh nonce. */
    bool retry = in->kind == TEDDY_IN_HTTP_FAILED || in->status >= 500 || in->status == 429;
    refresh_failed(d, &why, background, retry);
}

void dev_auth_on_http(tdev_t *d, dev_http_owner_t owner, const teddy_input_t *in)
{
    if (in->kind != TEDDY_IN_HTTP_RESPONSE && in->kind != TEDDY_IN_HTTP_FAILED) {
        return;
    }
    dev_http_done(d, in->id);
    d->auth.req = 0;
    if (owner == DEV_HTTP_CLAIM) {
        on_claim(d, in);
    } else {
        on_refresh(d, in);
    }
}
