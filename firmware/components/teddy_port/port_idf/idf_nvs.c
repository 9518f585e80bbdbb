/*
 * idf_nvs.c - teddy_port NVS on the ESP-IDF nvs_flash component.
 *
 * Namespaces and keys are the core's (`mfg` device_id/oob_secret, `settings`, `auth`
 * tokens, `cfg` config body + ETag, `ota`, `ota_dl`; SPEC §2.1, §3.2, §4.3, §5.2), at
 * most 15 characters as NVS requires. Every setter commits before it returns: SPEC §3.2
 * needs the rotated refresh token on flash before the new access token is used, and
 * the §5.2 resume offset must survive a power cut.
 *
 * Error mapping to teddy_port.h: ESP_ERR_NVS_NOT_FOUND -> ESP_ERR_NOT_FOUND,
 * ESP_ERR_NVS_INVALID_LENGTH -> ESP_ERR_INVALID_SIZE (nvs_get_str/blob have already
 * stored the needed size in *len, see components/nvs_flash/src/nvs_api.cpp).
 */
#include <string.h>

#include "esp_log.h"
#include "nvs.h"
#include "nvs_flash.h"

#include "idf_internal.h"

static const char *TAG = "teddy_nvs";

static esp_err_t map_err(esp_err_t err)
{
    switch (err) {
    case ESP_ERR_NVS_NOT_FOUND: return ESP_ERR_NOT_FOUND;
    case ESP_ERR_NVS_INVALID_LENGTH: return ESP_ERR_INVALID_SIZE;
    default: return err;
    }
}

esp_err_t idf_nvs_init(void)
{
    /* app_main already ran nvs_flash_init(); this only proves the partition works, so
     * a board with a broken NVS stops here with a clear log instead of failing later. */
    nvs_handle_t h;
    esp_err_t err = nvs_open(IDF_PORT_NS, NVS_READWRITE, &h);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "nvs_open(%s): %s", IDF_PORT_NS, esp_err_to_name(err));
        return err;
    }
    nvs_close(h);
    return ESP_OK;
}

/* Readers open READONLY: a namespace never written reads as "not found". */
static esp_err_t open_ns(const char *ns, nvs_open_mode_t mode, nvs_handle_t *h)
{
    if (ns == NULL || strlen(ns) > 15) {
        return ESP_ERR_INVALID_ARG;
    }
    return map_err(nvs_open(ns, mode, h));
}

static esp_err_t commit_close(nvs_handle_t h, esp_err_t err)
{
    if (err == ESP_OK) {
        err = nvs_commit(h);
    }
    nvs_close(h);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "write failed: %s", esp_err_to_name(err));
    }
    return map_err(err);
}

esp_err_t teddy_port_nvs_get_str(const char *ns, const char *key, char *out, size_t *len)
{
    if (key == NULL || out == NULL || len == NULL || *len == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READONLY, &h);
    if (err != ESP_OK) {
        return err;
    }
    err = map_err(nvs_get_str(h, key, out, len)); /* *len includes the NUL */
    nvs_close(h);
    return err;
}

esp_err_t teddy_port_nvs_set_str(const char *ns, const char *key, const char *value)
{
    if (key == NULL || value == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READWRITE, &h);
    if (err != ESP_OK) {
        return err;
    }
    return commit_close(h, nvs_set_str(h, key, value));
}

esp_err_t teddy_port_nvs_get_blob(const char *ns, const char *key, void *out, size_t *len)
{
    if (key == NULL || out == NULL || len == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READONLY, &h);
    if (err != ESP_OK) {
        return err;
    }
    if (*len == 0) {
        /* nvs_get_blob needs a non-zero length with a buffer: report the size. */
        size_t need = 0;
        err = nvs_get_blob(h, key, NULL, &need);
        nvs_close(h);
        if (err != ESP_OK) {
            return map_err(err);
        }
        *len = need;
        return need == 0 ? ESP_OK : ESP_ERR_INVALID_SIZE;
    }
    err = map_err(nvs_get_blob(h, key, out, len));
    nvs_close(h);
    return err;
}

esp_err_t teddy_port_nvs_set_blob(const char *ns, const char *key, const void *value,
                                  size_t len)
{
    if (key == NULL || (value == NULL && len > 0)) {
        return ESP_ERR_INVALID_ARG;
    }
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READWRITE, &h);
    if (err != ESP_OK) {
        return err;
    }
    return commit_close(h, nvs_set_blob(h, key, value, len));
}

esp_err_t teddy_port_nvs_get_u32(const char *ns, const char *key, uint32_t *out)
{
    if (key == NULL || out == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READONLY, &h);
    if (err != ESP_OK) {
        return err;
    }
    err = map_err(nvs_get_u32(h, key, out));
    nvs_close(h);
    return err;
}

esp_err_t teddy_port_nvs_set_u32(const char *ns, const char *key, uint32_t value)
{
    if (key == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READWRITE, &h);
    if (err != ESP_OK) {
        return err;
    }
    return commit_close(h, nvs_set_u32(h, key, value));
}

esp_err_t teddy_port_nvs_get_i32(const char *ns, const char *key, int32_t *out)
{
    if (key == NULL || out == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READONLY, &h);
    if (err != ESP_OK) {
        return err;
    }
    err = map_err(nvs_get_i32(h, key, out));
    nvs_close(h);
    return err;
}

esp_err_t teddy_port_nvs_set_i32(const char *ns, const char *key, int32_t value)
{
    if (key == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READWRITE, &h);
    if (err != ESP_OK) {
        return err;
    }
    return commit_close(h, nvs_set_i32(h, key, value));
}

esp_err_t teddy_port_nvs_erase(const char *ns, const char *key)
{
    nvs_handle_t h;
    esp_err_t err = open_ns(ns, NVS_READWRITE, &h);
    if (err != ESP_OK) {
        return err;
    }
    err = key == NULL ? nvs_erase_all(h) : nvs_erase_key(h, key);
    if (err == ESP_ERR_NVS_NOT_FOUND) {
        err = ESP_OK; /* absent keys are not errors (teddy_port.h) */
    }
    return commit_close(h, err);
}
