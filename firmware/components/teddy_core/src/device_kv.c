/*
 * device_kv.c - the core's in-RAM copy of NVS and the settings lookup (SPEC §9.2).
 *
 * Like emulator/core/context.py: the runner loads the keys the core uses before
 * start (the model's TEDDY_NVS_KEYS); every change updates the copy and is emitted as
 * an NVS effect of the key's model type, so the drivers make it durable in order (SPEC
 * §3.2 persists the refresh token before the access token is used). A setting is its
 * NVS value, else the compiled-in default. ESP-IDF NVS names are at most 15
 * characters; the generator checks every key of the model fits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

static dev_kv_t *find(const tdev_t *d, const char *ns, const char *key)
{
    for (size_t i = 0; i < d->kv_n; i++) {
        if (strcmp(d->kv[i].ns, ns) == 0 && strcmp(d->kv[i].key, key) == 0) {
            return &d->kv[i];
        }
    }
    return NULL;
}

esp_err_t dev_kv_put(tdev_t *d, const char *ns, const char *key, const char *str, int64_t num,
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
    e->num = num;
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

esp_err_t teddy_device_nvs_load_int(teddy_device_t *dev, const char *ns, const char *key,
                                    int64_t value)
{
    return dev_kv_put(dev, ns, key, NULL, value, false);
}

const char *dev_nvs_str(const tdev_t *d, const char *ns, const char *key)
{
    const dev_kv_t *e = find(d, ns, key);
    return e != NULL && e->is_str ? e->str : NULL;
}

bool dev_nvs_int(const tdev_t *d, const char *ns, const char *key, int64_t *out)
{
    const dev_kv_t *e = find(d, ns, key);
    if (e == NULL || e->is_str) {
        return false;
    }
    *out = e->num;
    return true;
}

/* The model's entry for ns/key when it has `want`'s kind (string or number), else NULL
 * after logging the core bug. */
static const teddy_nvs_key_t *model_key(tdev_t *d, const char *ns, const char *key, bool str)
{
    const teddy_nvs_key_t *k = teddy_nvs_key_find(ns, key);
    if (k == NULL || (k->type == TEDDY_NVS_STR) != str) {
        dev_log(d, "NVS %s/%s: not a %s key of the device model; not stored", ns, key,
                str ? "string" : "number");
        return NULL;
    }
    return k;
}

void dev_nvs_set_str(tdev_t *d, const char *ns, const char *key, const char *value)
{
    const teddy_nvs_key_t *k = model_key(d, ns, key, true);
    if (k == NULL) {
        return;
    }
    dev_kv_put(d, ns, key, value, 0, true);
    teddy_effect_t fx = {.kind = TEDDY_FX_NVS_SET};
    fx.u.nvs.ns = ns;
    fx.u.nvs.key = key;
    fx.u.nvs.type = k->type;
    fx.u.nvs.str = value;
    dev_fx(d, &fx);
}

void dev_nvs_set_int(tdev_t *d, const char *ns, const char *key, int64_t value)
{
    const teddy_nvs_key_t *k = model_key(d, ns, key, false);
    if (k == NULL) {
        return;
    }
    /* Clamp to the key's type, as Python's core does (`set child_age` takes any integer). */
    int64_t low = k->type == TEDDY_NVS_U32 ? 0 : INT32_MIN;
    int64_t high = k->type == TEDDY_NVS_U32 ? (int64_t)UINT32_MAX : INT32_MAX;
    value = value < low ? low : value > high ? high : value;
    dev_kv_put(d, ns, key, NULL, value, false);
    teddy_effect_t fx = {.kind = TEDDY_FX_NVS_SET};
    fx.u.nvs.ns = ns;
    fx.u.nvs.key = key;
    fx.u.nvs.type = k->type;
    fx.u.nvs.num = value;
    dev_fx(d, &fx);
}

void dev_nvs_erase(tdev_t *d, const char *ns)
{
    kv_remove(d, ns, NULL);
    teddy_effect_t fx = {.kind = TEDDY_FX_NVS_ERASE};
    fx.u.nvs.ns = ns;
    fx.u.nvs.key = NULL;
    dev_fx(d, &fx);
}

/* --- settings: NVS value, else the build default (SPEC §9.2) ------------------------ */

static const char *nonempty(const char *s) { return s != NULL && s[0] != '\0' ? s : NULL; }

const char *dev_device_id(const tdev_t *d)
{
    const char *v = nonempty(dev_nvs_str(d, TEDDY_NVS_MFG_DEVICE_ID));
    return v != NULL ? v : d->device_id;
}

const char *dev_server_url(const tdev_t *d, char *buf, size_t size)
{
    const char *v = nonempty(dev_nvs_str(d, TEDDY_NVS_SETTINGS_SERVER));
    snprintf(buf, size, "%s", v != NULL ? v : d->server_url);
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '/') {
        buf[--n] = '\0';
    }
    return buf;
}

const char *dev_child_id(const tdev_t *d)
{
    const char *v = nonempty(dev_nvs_str(d, TEDDY_NVS_SETTINGS_CHILD_ID));
    return v != NULL ? v : d->child_id;
}

/* SPEC §9.2: `set child_name`, else the build's, else the claim's child_profile.name. */
const char *dev_child_name(const tdev_t *d)
{
    const char *v = nonempty(dev_nvs_str(d, TEDDY_NVS_SETTINGS_CHILD_NAME));
    v = v != NULL ? v : nonempty(d->child_name);
    v = v != NULL ? v : nonempty(dev_nvs_str(d, TEDDY_NVS_AUTH_CHILD_NAME));
    return v != NULL ? v : "";
}

/* SPEC §9.2: `set child_age`, else the build's, else the claim's child_profile.age. */
int dev_child_age(const tdev_t *d)
{
    int64_t v;
    if (dev_nvs_int(d, TEDDY_NVS_SETTINGS_CHILD_AGE, &v)) {
        return (int)v;
    }
    if (d->has_child_age) {
        return d->child_age;
    }
    return dev_nvs_int(d, TEDDY_NVS_AUTH_CHILD_AGE, &v) ? (int)v : TEDDY_FALLBACK_CHILD_AGE;
}

int dev_volume(const tdev_t *d)
{
    int64_t v;
    return dev_nvs_int(d, TEDDY_NVS_SETTINGS_VOLUME, &v) ? (int)v : d->volume;
}
