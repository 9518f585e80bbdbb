/*
 * device_runner.c - the loop that drives the core through teddy_port.h (both ports).
 *
 * The C counterpart of emulator/host.py + effects_runner.py: it plays the app's part
 * of the boot (boot count, "manufacturing" identity on first boot), creates one core,
 * carries out its effects in order (flash and NVS writes complete before the next
 * effect), turns port callbacks into inputs stamped with the uptime, keeps the core's
 * timers, and buffers non-streaming HTTP bodies (the core sees whole responses, like
 * HttpResponse). A reset request ends the boot: effects after it are dropped (nothing
 * after the reset instant reaches the old core) and teddy_port_restart() is called.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "device_runner.h"

static runner_t *s_run; /* one boot at a time; port callbacks carry it as arg too */

static void handle(runner_t *r, const teddy_input_t *in)
{
    if (!r->reboot) {
        teddy_device_handle(r->dev, in, teddy_port_now_ms());
    }
}

/* --- queued inputs (answers produced synchronously by an effect) ------------------- */

void runner_queue(runner_t *r, const teddy_input_t *in, const void *data, size_t len,
                  const char *text)
{
    runner_pending_t *p = calloc(1, sizeof(*p) + len + (text != NULL ? strlen(text) : 0) + 2);
    if (p == NULL) {
        return;
    }
    p->in = *in;
    uint8_t *buf = p->storage;
    if (data != NULL) {
        memcpy(buf, data, len);
        p->in.data = buf;
        p->in.len = len;
    }
    if (text != NULL) {
        char *t = (char *)buf + len + 1;
        memcpy(t, text, strlen(text) + 1);
        p->in.text = t;
    }
    runner_pending_t **pp = &r->pending;
    while (*pp != NULL) {
        pp = &(*pp)->next;
    }
    *pp = p;
}

static void drain(runner_t *r)
{
    while (r->pending != NULL && !r->reboot) {
        runner_pending_t *p = r->pending;
        r->pending = p->next;
        handle(r, &p->in);
        free(p);
    }
}

/* --- timers ------------------------------------------------------------------------- */

static uint32_t next_timeout(const runner_t *r)
{
    uint64_t now = teddy_port_now_ms(), wait = 1000;
    for (int t = 0; t < TEDDY_TIMER_COUNT; t++) {
        if (r->timer_armed[t]) {
            uint64_t due = r->timer_at[t] > now ? r->timer_at[t] - now : 0;
            wait = due < wait ? due : wait;
        }
    }
    return (uint32_t)wait;
}

static void fire_due(runner_t *r)
{
    for (int t = 0; t < TEDDY_TIMER_COUNT && !r->reboot; t++) {
        if (r->timer_armed[t] && r->timer_at[t] <= teddy_port_now_ms()) {
            r->timer_armed[t] = false;
            teddy_input_t in = {.kind = TEDDY_IN_TIMER_FIRED, .timer = (teddy_timer_t)t,
                                .at_ms = r->timer_at[t]};
            handle(r, &in);
        }
    }
}

/* --- the sink: one effect at a time, in order ---------------------------------------- */

static void sink(const teddy_effect_t *fx, void *ctx)
{
    runner_t *r = ctx;
    if (r->reboot) {
        return; /* the reset instant has passed */
    }
    switch (fx->kind) {
    case TEDDY_FX_PRINT:
        teddy_port_console_write(fx->u.print.line);
        break;
    case TEDDY_FX_SET_TIMER:
        r->timer_armed[fx->u.timer.id] = true;
        r->timer_at[fx->u.timer.id] = fx->u.timer.at_ms;
        break;
    case TEDDY_FX_CANCEL_TIMER:
        r->timer_armed[fx->u.timer.id] = false;
        break;
    case TEDDY_FX_REBOOT:
        r->reboot = true;
        snprintf(r->reboot_reason, sizeof(r->reboot_reason), "%s",
                 (unsigned)fx->u.reboot.reason < TEDDY_RESET_COUNT
                     ? TEDDY_RESET_REASON_NAMES[fx->u.reboot.reason]
                     : "unknown");
        break;
    default:
        runner_io_effect(r, fx);
        break;
    }
}

/* --- one boot ------------------------------------------------------------------------- */

static uint32_t fnv1a(uint32_t h, const char *s)
{
    for (; *s != '\0'; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return h;
}

static void load_nvs(runner_t *r)
{
    const size_t size = 8192; /* tokens and cached documents; not on a task stack */
    char *buf = malloc(size);
    if (buf == NULL) {
        return;
    }
    for (size_t i = 0; i < TEDDY_NVS_KEY_COUNT; i++) { /* every key the model has */
        const teddy_nvs_key_t *k = &TEDDY_NVS_KEYS[i];
        size_t len = size;
        uint32_t u = 0;
        int32_t v = 0;
        if (k->type == TEDDY_NVS_STR) {
            if (teddy_port_nvs_get_str(k->ns, k->key, buf, &len) == ESP_OK) {
                teddy_device_nvs_load_str(r->dev, k->ns, k->key, buf);
            }
        } else if (k->type == TEDDY_NVS_U32) {
            if (teddy_port_nvs_get_u32(k->ns, k->key, &u) == ESP_OK) {
                teddy_device_nvs_load_int(r->dev, k->ns, k->key, u);
            }
        } else if (teddy_port_nvs_get_i32(k->ns, k->key, &v) == ESP_OK) {
            teddy_device_nvs_load_int(r->dev, k->ns, k->key, v);
        }
    }
    free(buf);
}

static void manufacture(const teddy_build_t *build)
{
    /* First boot of a blank board: "manufacturing" burns the identity into mfg. */
    char buf[80];
    size_t len = sizeof(buf);
    if (teddy_port_nvs_get_str(TEDDY_NVS_MFG_DEVICE_ID, buf, &len) == ESP_ERR_NOT_FOUND) {
        teddy_port_nvs_set_str(TEDDY_NVS_MFG_DEVICE_ID, build->device_id);
        if (build->oob_secret != NULL && build->oob_secret[0] != '\0') {
            char upper[80];
            snprintf(upper, sizeof(upper), "%s", build->oob_secret);
            for (char *p = upper; *p != '\0'; p++) {
                *p = (*p >= 'a' && *p <= 'f') ? (char)(*p - 32) : *p;
            }
            teddy_port_nvs_set_str(TEDDY_NVS_MFG_OOB_SECRET, upper);
        }
    }
}

esp_err_t teddy_app_run(const teddy_build_t *build, const teddy_timing_t *timing,
                        uint32_t rng_seed)
{
    runner_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return ESP_ERR_NO_MEM;
    }
    teddy_device_init_t init = {.build = *build, .timing = *timing, .random_bytes = teddy_port_random,
                                .sink = sink, .sink_ctx = r};
    esp_err_t err = teddy_port_boot_info(&init.boot);
    if (err != ESP_OK) {
        free(r);
        return err;
    }
    manufacture(build);
    uint32_t count = 0;
    teddy_port_nvs_get_u32(TEDDY_NVS_SYS_BOOT_COUNT, &count);
    init.boot_count = count + 1;
    teddy_port_nvs_set_u32(TEDDY_NVS_SYS_BOOT_COUNT, init.boot_count);
    char seed[24];
    snprintf(seed, sizeof(seed), "%u:%u", (unsigned)rng_seed, (unsigned)init.boot_count);
    init.rng_seed = fnv1a(fnv1a(2166136261u, seed), build->device_id);
    err = teddy_device_create(&init, &r->dev);
    if (err != ESP_OK) {
        free(r);
        return err;
    }
    s_run = r;
    load_nvs(r);
    teddy_port_console_set_callback(runner_on_line, r);
    teddy_port_button_set_callback(runner_on_button, r);
    teddy_device_start(r->dev, teddy_port_now_ms());
    err = ESP_OK;
    while (!r->reboot) {
        drain(r);
        if (r->reboot) {
            break;
        }
        err = teddy_port_poll(next_timeout(r));
        if (err != ESP_OK) {
            break;
        }
        fire_due(r);
    }
    teddy_port_console_set_callback(NULL, NULL);
    teddy_port_button_set_callback(NULL, NULL);
    bool reboot = r->reboot;
    char reason[sizeof(r->reboot_reason)];
    snprintf(reason, sizeof(reason), "%s", r->reboot_reason);
    runner_release(r);
    teddy_device_destroy(r->dev);
    s_run = NULL;
    free(r);
    if (reboot) {
        teddy_port_restart(reason); /* ESP-IDF: does not return */
        return ESP_OK;
    }
    return err;
}

runner_t *runner_current(void) { return s_run; }

void runner_deliver(runner_t *r, const teddy_input_t *in) { handle(r, in); }
