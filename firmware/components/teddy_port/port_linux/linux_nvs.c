/*
 * linux_nvs.c - NVS as <flash>/nvs.json, the Python emulator's layout.
 *
 * `{"<namespace>": {"<key>": value}}` with strings as JSON strings, u32 and i32 as
 * JSON integers and blobs as `{"blob_hex": "..."}`, so a flash directory can be inspected
 * (and the emulator's files read) by hand. Every set/erase rewrites the file through
 * a temporary file and rename(2): durable and atomic when the call returns, so a power
 * cut (SIGKILL) loses only writes that had not returned (SPEC §3.2 token persistence).
 * Only the app thread touches NVS (teddy_port.h rule), so no lock is needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "lx_internal.h"

#define NVS_NAME_MAX 15 /* ESP-IDF NVS key/namespace limit */

static cJSON *s_root;

static bool valid_name(const char *name)
{
    return name != NULL && name[0] != '\0' && strlen(name) <= NVS_NAME_MAX;
}

static cJSON *root(void)
{
    if (s_root != NULL) {
        return s_root;
    }
    char path[4096];
    if (lx_path(path, sizeof(path), lx_opts()->flash_dir, "nvs.json")) {
        char *text = lx_read_file(path, NULL);
        if (text != NULL) {
            s_root = cJSON_Parse(text);
            free(text);
        }
    }
    if (s_root == NULL || !cJSON_IsObject(s_root)) {
        cJSON_Delete(s_root);
        s_root = cJSON_CreateObject();
    }
    return s_root;
}

static esp_err_t save(void)
{
    char path[4096];
    if (!lx_path(path, sizeof(path), lx_opts()->flash_dir, "nvs.json")) {
        return ESP_ERR_INVALID_SIZE;
    }
    char *text = cJSON_Print(root());
    if (text == NULL) {
        return ESP_ERR_NO_MEM;
    }
    esp_err_t err = lx_write_file_atomic(path, text, strlen(text));
    free(text);
    return err;
}

static cJSON *lookup(const char *ns, const char *key)
{
    if (!valid_name(ns) || !valid_name(key)) {
        return NULL;
    }
    cJSON *space = cJSON_GetObjectItemCaseSensitive(root(), ns);
    return cJSON_IsObject(space) ? cJSON_GetObjectItemCaseSensitive(space, key) : NULL;
}

static esp_err_t store(const char *ns, const char *key, cJSON *value)
{
    if (!valid_name(ns) || !valid_name(key) || value == NULL) {
        cJSON_Delete(value);
        return value == NULL ? ESP_ERR_NO_MEM : ESP_ERR_INVALID_ARG;
    }
    cJSON *space = cJSON_GetObjectItemCaseSensitive(root(), ns);
    if (!cJSON_IsObject(space)) {
        cJSON_DeleteItemFromObjectCaseSensitive(root(), ns);
        space = cJSON_AddObjectToObject(root(), ns);
        if (space == NULL) {
            cJSON_Delete(value);
            return ESP_ERR_NO_MEM;
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(space, key) != NULL) {
        cJSON_ReplaceItemInObjectCaseSensitive(space, key, value);
    } else {
        cJSON_AddItemToObject(space, key, value);
    }
    return save();
}

static esp_err_t copy_out(const void *data, size_t size, void *out, size_t *len)
{
    if (out == NULL || *len < size) {
        *len = size;
        return out == NULL ? ESP_OK : ESP_ERR_INVALID_SIZE;
    }
    memcpy(out, data, size);
    *len = size;
    return ESP_OK;
}

esp_err_t teddy_port_nvs_get_str(const char *ns, const char *key, char *out, size_t *len)
{
    if (len == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *item = lookup(ns, key);
    if (!cJSON_IsString(item)) {
        return ESP_ERR_NOT_FOUND;
    }
    return copy_out(item->valuestring, strlen(item->valuestring) + 1, out, len);
}

esp_err_t teddy_port_nvs_set_str(const char *ns, const char *key, const char *value)
{
    return value == NULL ? ESP_ERR_INVALID_ARG : store(ns, key, cJSON_CreateString(value));
}

esp_err_t teddy_port_nvs_get_blob(const char *ns, const char *key, void *out, size_t *len)
{
    if (len == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *item = lookup(ns, key);
    cJSON *hex = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "blob_hex") : NULL;
    if (!cJSON_IsString(hex)) {
        return ESP_ERR_NOT_FOUND;
    }
    size_t n = strlen(hex->valuestring) / 2;
    uint8_t *bytes = malloc(n + 1);
    if (bytes == NULL) {
        return ESP_ERR_NO_MEM;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex->valuestring + 2 * i, "%2x", &v);
        bytes[i] = (uint8_t)v;
    }
    esp_err_t err = copy_out(bytes, n, out, len);
    free(bytes);
    return err;
}

esp_err_t teddy_port_nvs_set_blob(const char *ns, const char *key, const void *value,
                                  size_t len)
{
    if (value == NULL && len > 0) {
        return ESP_ERR_INVALID_ARG;
    }
    char *hex = malloc(2 * len + 1);
    if (hex == NULL) {
        return ESP_ERR_NO_MEM;
    }
    for (size_t i = 0; i < len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", ((const uint8_t *)value)[i]);
    }
    hex[2 * len] = '\0';
    cJSON *obj = cJSON_CreateObject();
    if (obj != NULL && cJSON_AddStringToObject(obj, "blob_hex", hex) == NULL) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    free(hex);
    return store(ns, key, obj);
}

esp_err_t teddy_port_nvs_get_u32(const char *ns, const char *key, uint32_t *out)
{
    cJSON *item = lookup(ns, key);
    if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > 4294967295.0) {
        return ESP_ERR_NOT_FOUND;
    }
    *out = (uint32_t)item->valuedouble;
    return ESP_OK;
}

esp_err_t teddy_port_nvs_set_u32(const char *ns, const char *key, uint32_t value)
{
    return store(ns, key, cJSON_CreateNumber((double)value));
}

esp_err_t teddy_port_nvs_get_i32(const char *ns, const char *key, int32_t *out)
{
    cJSON *item = lookup(ns, key);
    if (!cJSON_IsNumber(item) || item->valuedouble < -2147483648.0 ||
        item->valuedouble > 2147483647.0) {
        return ESP_ERR_NOT_FOUND;
    }
    *out = (int32_t)item->valuedouble;
    return ESP_OK;
}

esp_err_t teddy_port_nvs_set_i32(const char *ns, const char *key, int32_t value)
{
    return store(ns, key, cJSON_CreateNumber((double)value));
}

esp_err_t teddy_port_nvs_erase(const char *ns, const char *key)
{
    if (!valid_name(ns) || (key != NULL && !valid_name(key))) {
        return ESP_ERR_INVALID_ARG;
    }
    if (key == NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(root(), ns);
    } else {
        cJSON *space = cJSON_GetObjectItemCaseSensitive(root(), ns);
        if (cJSON_IsObject(space)) {
            cJSON_DeleteItemFromObjectCaseSensitive(space, key);
        }
    }
    return save();
}

/* Forget the cached copy (a new boot reads the file again, like RAM after a reset). */
void lx_nvs_reload(void)
{
    cJSON_Delete(s_root);
    s_root = NULL;
}
