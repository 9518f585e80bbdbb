/*
 * device_kv.c - the core's in-RAM copy of NVS and the settings lookup (SPEC §9.2).
 *
 * Like emulator/core/context.py: the runner loads the keys the core uses before
 * start; every change updates the copy and is emitted as an NVS effect, so the
 * drivers make it durable in order (SPEC §3.2 persists the refresh token before the
 * access token is used). A setting is its NVS value, else the compiled-in default.
 * ESP-IDF NVS keys are at most 15 characters; every key here fits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

static const char *const NVS_KEYS[] = {
    "s:" NS_MFG "/device_id",       "s:" NS_MFG "/oob_secret",
    "u:" NS_SYS "/boot_count",      "u:" NS_SETTINGS "/child_age",
    "s:" NS_SETTINGS "/child_id",   "s:" NS_SETTINGS "/child_name",
    "s:" NS_SETTINGS "/server",     "u:" NS_SETTINGS "/volume",
    "s:" NS_AUTH "/refresh_token",  "s:" NS_AUTH "/access_token",
    "s:" NS_AUTH "/session_id",     "s:" NS_AUTH "/websocket_url",
    "s:" NS_AUTH "/child_id",       "u:" NS_AUTH "/hb_interval",
    "u:" NS_AUTH "/chunk_bytes",    "s:" NS_CFG "/body",
    "s:" NS_CFG "/etag",            "s:" NS_OTA "/mf_body",
    "s:" NS_OTA "/mf_etag",         "s:" NS_OTA "/bad_version",
    "s:" NS_OTA_DL "/sha256",       "u:" NS_OTA_DL "/slot",
    "u:" NS_OTA_DL "/size",         "s:" NS_OTA_DL "/version",
    "u:" NS_OTA_DL "/bytes",        "s:" NS_OTA_DL "/etag",
    NULL,
};

const char *const *teddy_device_nvs_keys(void) { return NVS_KEYS; }

static dev_kv_t *find(const tdev_t *d, const char *ns, const char *key)
{
    for (size_t i = 0; i < d->kv_n; i++) {
        if (strcmp(d->kv[i].ns, ns) == 0 && strcmp(d->kv[i].key, key) == 0) {
            return &d->kv[i];
        }
    }
    return NULL;
}

esp_err_t dev_kv_put(tdev_t *d, const char *ns, const char *key, const char *str, uint32_t u32,
                     bool is_str)
{
    if (strlen(ns) > 15 || strlen(key) > 15) {
        return ESP_ERR_INVALID_ARG;
    }
    char *copy = NULL;
    if (is_str && (copy = dev_strdup(str)) == NULL) {
        return ESP_ERR_NO_MEM;
    }
    dev_kv_t *e = find(d, ns, key);
    if (e == NULL) {
        if (d->kv_n == d->kv_cap) {
            size_t cap = d->kv_cap ? d->kv_cap * 2 : 32;
            dev_kv_t *bigger = realloc(d->kv, cap * sizeof(*bigger));
            if (bigger == NULL) {
                free(copy);
                return ESP_ERR_NO_MEM;
            }
            d->kv = bigger;
            d->kv_cap = cap;
        }
        e = &d->kv[d->kv_n++];
        memset(e, 0, sizeof(*e));
        snprintf(e->ns, sizeof(e->ns), "%s", ns);
        snprintf(e->key, sizeof(e->key), "%s", key);
    }
    free(e->str);
    e->str = copy;
    e->is_str = is_str;
    e->u32 = u32;
    return ESP_OK;
}

static void kv_remove(tdev_t *d, const char *ns, const char *key)
{
    size_t out = 0;
    for (size_t i = 0; i < d->kv_n; i++) {
        dev_kv_t *e = &d->kv[i];
        if (strcmp(e->ns, ns) == 0 && (key == NULL || strcmp(e->key, key) == 0)) {
            free(e->str);
            continue;
        }
        d->kv[out++] = *e;
    }
    d->kv_n = out;
}

void dev_kv_free(tdev_t *d)
{
    for (size_t i = 0; i < d->kv_n; i++) {
        free(d->kv[i].str);
    }
    free(d->kv);
    d->kv = NULL;
    d->kv_n = d->kv_cap = 0;
}

esp_err_t teddy_device_nvs_load_str(teddy_device_t *dev, const char *ns, const char *key,
                                    const char *value)
{
    return dev_kv_put(dev, ns, key, value, 0, true);
}

esp_err_t teddy_device_nvs_load_u32(teddy_device_t *dev, const char *ns, const char *key,
                                    uint32_t value)
{
    return dev_kv_put(dev, ns, key, NULL, value, false);
}

const char *dev_nvs_str(const tdev_t *d, const char *ns, const char *key)
{
    const dev_kv_t *e = find(d, ns, key);
    return e != NULL && e->is_str ? e->str : NULL;
}

bool dev_nvs_u32(const tdev_t *d, const char *ns, const char *key, uint32_t *out)
{
    const dev_kv_t *e = find(d, ns, key);
    if (e == NULL || e->is_str) {
        return false;
    }
    *out = e->u32;
    return true;
}

void dev_nvs_set_str(tdev_t *d, const char *ns, const char *key, const char *value)
{
    dev_kv_put(d, ns, key, value, 0, true);
    teddy_effect_t fx = {.kind = TEDDY_FX_NVS_SET_STR};
    fx.u.nvs.ns = ns;
    fx.u.nvs.key = key;
    fx.u.nvs.str = value;
    dev_fx(d, &fx);
}

void dev_nvs_set_u32(tdev_t *d, const char *ns, const char *key, uint32_t value)
{
    dev_kv_put(d, ns, key, NULL, value, false);
    teddy_effect_t fx = {.kind = TEDDY_FX_NVS_SET_U32};
    fx.u.nvs.ns = ns;
    fx.u.nvs.key = key;
    fx.u.nvs.u32 = value;
    dev_fx(d, &fx);
}

void dev_nvs_erase(tdev_t *d, const char *ns, const char *key)
{
    kv_remove(d, ns, key);
    teddy_effect_t fx = {.kind = TEDDY_FX_NVS_ERASE};
    fx.u.nvs.ns = ns;
    fx.u.nvs.key = key;
    dev_fx(d, &fx);
}

/* --- settings: NVS value, else the build default (SPEC §9.2) ------------------------ */

static const char *nonempty(const char *s) { return s != NULL && s[0] != '\0' ? s : NULL; }

const char *dev_device_id(const tdev_t *d)
{
    const char *v = nonempty(dev_nvs_str(d, NS_MFG, "device_id"));
    return v != NULL ? v : d->device_id;
}

const char *dev_server_url(const tdev_t *d, char *buf, size_t size)
{
    const char *v = nonempty(dev_nvs_str(d, NS_SETTINGS, "server"));
    snprintf(buf, size, "%s", v != NULL ? v : d->server_url);
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '/') {
        buf[--n] = '\0';
    }
    return buf;
}

const char *dev_child_id(const tdev_t *d)
{
    const char *v = nonempty(dev_nvs_str(d, NS_SETTINGS, "child_id"));
    return v != NULL ? v : d->child_id;
}

const char *dev_child_name(const tdev_t *d)
{
    const char *v = nonempty(dev_nvs_str(d, NS_SETTINGS, "child_name"));
    return v != NULL ? v : d->child_name;
}

int dev_child_age(const tdev_t *d)
{
    uint32_t v;
    return dev_nvs_u32(d, NS_SETTINGS, "child_age", &v) ? (int)(int32_t)v : d->child_age;
}

int dev_volume(const tdev_t *d)
{
    uint32_t v;
    return dev_nvs_u32(d, NS_SETTINGS, "volume", &v) ? (int)v : d->volume;
}
