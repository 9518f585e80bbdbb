/*
 * device_trace.c - reading a trace file's setup into teddy_device_init_t (device_trace.h).
 *
 * The setup's members and their rules are those tests/emulator/device_traces.py applies
 * on the Python side (SPEC §10 "Device trace vectors"): every member present, nothing
 * unknown, names from the model's closed lists, NVS entries as nvs_set effects of the
 * model's key types (teddy_canon_read_effect), jitter 0 because the two cores draw it
 * from different PRNGs.
 */
#include "device_trace.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "teddy_b64.h"
#include "teddy_canon.h"
#include "teddy_json.h"
#include "vectors.h"

void trace_fail(const trace_t *t, const char *where, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fail_msg("%s: %s: %s", t->file, where, msg);
    abort(); /* fail_msg does not return; this tells the compiler so */
}

const cJSON *trace_get(const trace_t *t, const cJSON *obj, const char *key, const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL) {
        trace_fail(t, where, "missing member '%s'", key);
    }
    return v;
}

void trace_keys(const trace_t *t, const cJSON *obj, const char *const *keys, const char *where)
{
    if (!cJSON_IsObject(obj)) {
        trace_fail(t, where, "expected an object");
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        bool known = false;
        for (const char *const *k = keys; *k != NULL && !known; k++) {
            known = strcmp(*k, item->string) == 0;
        }
        if (!known) {
            trace_fail(t, where, "unknown member '%s'", item->string);
        }
    }
}

int64_t trace_uint(const trace_t *t, const cJSON *obj, const char *key, const char *where)
{
    const cJSON *v = trace_get(t, obj, key, where);
    if (!teddy_json_is_int(v) || v->valuedouble < 0) {
        trace_fail(t, where, "'%s' must be a non-negative integer", key);
    }
    return (int64_t)v->valuedouble;
}

static const char *str_member(const trace_t *t, const cJSON *obj, const char *key,
                              const char *where, bool nullable)
{
    const cJSON *v = trace_get(t, obj, key, where);
    if (nullable && cJSON_IsNull(v)) {
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        trace_fail(t, where, "'%s' must be a string%s", key, nullable ? " or null" : "");
    }
    return v->valuestring;
}

static int name_index(const trace_t *t, const char *value, const char *const *names, size_t n,
                      const char *where)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], value) == 0) {
            return (int)i;
        }
    }
    trace_fail(t, where, "'%s' is not one of the model's names", value);
}

static void copy_str(const trace_t *t, char *dst, size_t size, const char *src, const char *where)
{
    if (strlen(src) >= size) {
        trace_fail(t, where, "'%s' is longer than %zu bytes", src, size - 1);
    }
    snprintf(dst, size, "%s", src);
}

/* --- setup sections ---------------------------------------------------------------------- */

static void read_build(trace_t *t, const cJSON *b)
{
    static const char *const keys[] = {"server_url", "device_id", "chip", "oob_secret", "child_id",
                                       "child_name", "child_age", "volume", NULL};
    const char *w = "setup.build";
    trace_keys(t, b, keys, w);
    teddy_build_t *out = &t->init.build;
    out->server_url = str_member(t, b, "server_url", w, false);
    out->device_id = str_member(t, b, "device_id", w, false);
    out->chip = str_member(t, b, "chip", w, false);
    out->oob_secret = str_member(t, b, "oob_secret", w, true);
    out->child_id = str_member(t, b, "child_id", w, false);
    out->child_name = str_member(t, b, "child_name", w, true); /* null: the claim's */
    const cJSON *age = trace_get(t, b, "child_age", w);
    if (!cJSON_IsNull(age) && !teddy_json_is_int(age)) {
        trace_fail(t, w, "'child_age' must be an integer or null");
    }
    out->has_child_age = !cJSON_IsNull(age);
    out->child_age = out->has_child_age ? (int)age->valuedouble : 0;
    out->volume = (int)trace_uint(t, b, "volume", w);
}

static void read_timing(trace_t *t, const cJSON *tm)
{
    static const char *const keys[] = {"profile", "set", NULL};
    trace_keys(t, tm, keys, "setup.timing");
    const char *profile = str_member(t, tm, "profile", "setup.timing", false);
    if (strcmp(profile, "fast") == 0) {
        teddy_timing_fast(&t->init.timing);
    } else if (strcmp(profile, "real") == 0) {
        teddy_timing_real(&t->init.timing);
    } else {
        trace_fail(t, "setup.timing.profile", "expected fast or real, got '%s'", profile);
    }
    const cJSON *set = trace_get(t, tm, "set", "setup.timing");
    if (!cJSON_IsObject(set)) {
        trace_fail(t, "setup.timing.set", "expected an object of name: number");
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, set)
    {
        esp_err_t err = cJSON_IsNumber(item)
                            ? teddy_timing_set(&t->init.timing, item->string, item->valuedouble)
                            : ESP_ERR_INVALID_ARG;
        if (err != ESP_OK) {
            trace_fail(t, "setup.timing.set", "%s: %s", item->string,
                       err == ESP_ERR_NOT_FOUND ? "not a timing field of the model"
                                                : "expected a number >= 0");
        }
    }
    /* The cores jitter with different PRNGs: only zero jitter pins a delay. */
    if (t->init.timing.claim_jitter != 0 || t->init.timing.reconnect_jitter != 0) {
        trace_fail(t, "setup.timing", "claim_jitter and reconnect_jitter must be 0 (set them)");
    }
}

static void read_rollback(trace_t *t, const cJSON *rb, teddy_port_boot_info_t *boot)
{
    static const char *const keys[] = {"from", "to", "reason", NULL};
    const char *w = "setup.boot.rollback";
    trace_keys(t, rb, keys, w);
    boot->rolled_back = true;
    copy_str(t, boot->rollback_from, sizeof(boot->rollback_from), str_member(t, rb, "from", w, false), w);
    copy_str(t, boot->rollback_to, sizeof(boot->rollback_to), str_member(t, rb, "to", w, false), w);
    copy_str(t, boot->rollback_reason, sizeof(boot->rollback_reason),
             str_member(t, rb, "reason", w, false), w);
}

static void read_boot(trace_t *t, const cJSON *b)
{
    static const char *const keys[] = {"fw_version", "slot", "reset_reason", "boot_count",
                                       "image_secure_version", "efuse_secure_version",
                                       "pending_verify", "rollback", "slot_size",
                                       "panic_after_ms", NULL};
    const char *w = "setup.boot";
    trace_keys(t, b, keys, w);
    teddy_port_boot_info_t *boot = &t->init.boot;
    copy_str(t, boot->fw_version, sizeof(boot->fw_version), str_member(t, b, "fw_version", w, false), w);
    boot->slot = name_index(t, str_member(t, b, "slot", w, false), TEDDY_SLOT_NAMES,
                            TEDDY_SLOT_COUNT, "setup.boot.slot");
    const char *reset = str_member(t, b, "reset_reason", w, false);
    name_index(t, reset, TEDDY_RESET_REASON_NAMES, TEDDY_RESET_COUNT, "setup.boot.reset_reason");
    copy_str(t, boot->reset_reason, sizeof(boot->reset_reason), reset, w);
    snprintf(boot->chip, sizeof(boot->chip), "%s", t->init.build.chip);
    t->init.boot_count = (uint32_t)trace_uint(t, b, "boot_count", w);
    boot->image_secure_version = (uint32_t)trace_uint(t, b, "image_secure_version", w);
    boot->efuse_secure_version = (uint32_t)trace_uint(t, b, "efuse_secure_version", w);
    const cJSON *pending = trace_get(t, b, "pending_verify", w);
    if (!cJSON_IsBool(pending)) {
        trace_fail(t, w, "'pending_verify' must be true or false");
    }
    boot->pending_verify = cJSON_IsTrue(pending);
    const cJSON *rb = trace_get(t, b, "rollback", w);
    if (!cJSON_IsNull(rb)) {
        read_rollback(t, rb, boot);
    }
    boot->slot_size = (size_t)trace_uint(t, b, "slot_size", w);
    boot->panic_after_ms = cJSON_IsNull(trace_get(t, b, "panic_after_ms", w))
                               ? -1
                               : (int32_t)trace_uint(t, b, "panic_after_ms", w);
}

static void read_nonces(trace_t *t, const cJSON *list)
{
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > TRACE_MAX_NONCES) {
        trace_fail(t, "setup.nonces", "expected a list of at most %d base64 nonces",
                   TRACE_MAX_NONCES);
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        uint8_t buf[64];
        size_t len = 0;
        if (!cJSON_IsString(item) ||
            teddy_b64_decode(item->valuestring, strlen(item->valuestring), buf, sizeof(buf),
                             &len) != ESP_OK ||
            len != TRACE_NONCE_BYTES) {
            trace_fail(t, "setup.nonces", "nonce %zu is not %d bytes of standard base64",
                       t->n_nonces, TRACE_NONCE_BYTES);
        }
        memcpy(t->nonces[t->n_nonces++], buf, TRACE_NONCE_BYTES);
    }
}

static void check_nvs(trace_t *t, const cJSON *list)
{
    if (!cJSON_IsArray(list)) {
        trace_fail(t, "setup.nvs", "expected a list of nvs_set objects");
    }
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        teddy_effect_t fx;
        teddy_canon_store_t store = {0};
        char why[200] = "", where[32];
        snprintf(where, sizeof(where), "setup.nvs[%d]", i++);
        esp_err_t err = teddy_canon_read_effect(item, &fx, &store, why, sizeof(why));
        teddy_canon_store_free(&store);
        if (err != ESP_OK) {
            trace_fail(t, where, "%s", why);
        }
        if (fx.kind != TEDDY_FX_NVS_SET) {
            trace_fail(t, where, "expected kind nvs_set");
        }
    }
    t->nvs = list;
}

/* --- public ---------------------------------------------------------------------------- */

const char *trace_dir(void)
{
    static char dir[1024];
    const char *env = getenv("TEDDY_VECTORS_DIR"); /* as tv_load: the mutation check's copy */
    snprintf(dir, sizeof(dir), "%s/device_traces", env != NULL && *env ? env : TEDDY_VECTORS_DIR);
    return dir;
}

void trace_open(trace_t *t, const char *dir, const char *file)
{
    memset(t, 0, sizeof(*t));
    t->file = file;
    char path[1280];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    size_t len = 0;
    char *text = tv_read_file(path, &len);
    esp_err_t err = teddy_json_parse(text, len, &t->root);
    free(text);
    if (err != ESP_OK) {
        trace_fail(t, "file", "not strict JSON (%s)", esp_err_to_name(err));
    }
    static const char *const top[] = {"description", "spec_sections", "setup", "start", "steps",
                                      NULL};
    static const char *const setup_keys[] = {"build", "timing", "boot", "nvs", "rng_seed",
                                             "nonces", NULL};
    trace_keys(t, t->root, top, "file");
    const cJSON *setup = trace_get(t, t->root, "setup", "file");
    trace_keys(t, setup, setup_keys, "setup");
    read_build(t, trace_get(t, setup, "build", "setup"));
    read_timing(t, trace_get(t, setup, "timing", "setup"));
    read_boot(t, trace_get(t, setup, "boot", "setup"));
    check_nvs(t, trace_get(t, setup, "nvs", "setup"));
    t->init.rng_seed = (uint32_t)trace_uint(t, setup, "rng_seed", "setup");
    read_nonces(t, trace_get(t, setup, "nonces", "setup"));
}

void trace_load_nvs(const trace_t *t, teddy_device_t *dev)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, t->nvs)
    {
        teddy_effect_t fx;
        teddy_canon_store_t store = {0};
        assert_int_equal(teddy_canon_read_effect(item, &fx, &store, NULL, 0), ESP_OK);
        esp_err_t err = fx.u.nvs.type == TEDDY_NVS_STR
                            ? teddy_device_nvs_load_str(dev, fx.u.nvs.ns, fx.u.nvs.key, fx.u.nvs.str)
                            : teddy_device_nvs_load_int(dev, fx.u.nvs.ns, fx.u.nvs.key, fx.u.nvs.num);
        teddy_canon_store_free(&store);
        if (err != ESP_OK) {
            trace_fail(t, "setup.nvs", "%s/%s not loaded (%s)", fx.u.nvs.ns, fx.u.nvs.key,
                       esp_err_to_name(err));
        }
    }
}

void trace_close(trace_t *t)
{
    cJSON_Delete(t->root);
    t->root = NULL;
}
