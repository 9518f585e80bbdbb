/*
 * config.c - the device's reading of GET /api/v1/esp32/config (SPEC §4.1, §4.3).
 *
 * Lenient on purpose, like emulator/core/config.py: config is never a reason to
 * stop booting, so a missing or mistyped member keeps its default. Only the
 * server computes ETags; the device stores and echoes them (SPEC §4.2).
 */
#include <string.h>

#include "teddy_fields.h"
#include "teddy_util.h"
#include "teddy_wire.h"

/* SPEC §4.1 defaults: the chat path, the manifest endpoint and the heartbeat of
 * protocol/constants.py (teddy_wire.h). */
#define DEFAULT_WS_PATH TEDDY_CHAT_PATH
#define DEFAULT_FW_ENDPOINT TEDDY_FIRMWARE_PATH
#define DEFAULT_HEARTBEAT_S TEDDY_HEARTBEAT_INTERVAL_S

void teddy_config_defaults(teddy_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->ws_path, DEFAULT_WS_PATH);
    strcpy(cfg->firmware_endpoint, DEFAULT_FW_ENDPOINT);
    cfg->ota_enabled = true;
    cfg->heartbeat_interval = DEFAULT_HEARTBEAT_S;
}

static void read_str(const cJSON *obj, const char *key, char *dst, size_t size)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v) && v->valuestring && strlen(v->valuestring) < size) {
        strcpy(dst, v->valuestring);
    }
}

static void read_bool(const cJSON *obj, const char *key, bool *dst)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsBool(v)) {
        *dst = cJSON_IsTrue(v);
    }
}

esp_err_t teddy_config_parse(const char *text, size_t len, teddy_config_t *cfg)
{
    cJSON *root = NULL;
    teddy_config_defaults(cfg);
    esp_err_t err = teddy_json_parse(text, len, &root);
    if (err != ESP_OK) {
        return err == ESP_ERR_NO_MEM ? err : ESP_ERR_INVALID_ARG;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ESP_ERR_INVALID_ARG;
    }
    read_str(root, "host", cfg->host, sizeof(cfg->host));
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(root, "port");
    if (teddy_json_is_int(port) && port->valuedouble > 0 && port->valuedouble < 65536) {
        cfg->port = (int64_t)port->valuedouble;
    }
    read_bool(root, "tls", &cfg->tls);
    read_str(root, "ws_path", cfg->ws_path, sizeof(cfg->ws_path));
    read_str(root, "firmware_endpoint", cfg->firmware_endpoint, sizeof(cfg->firmware_endpoint));
    read_str(root, "firmware_version", cfg->firmware_version, sizeof(cfg->firmware_version));
    const cJSON *ntp = cJSON_GetObjectItemCaseSensitive(root, "ntp");
    const cJSON *item;
    cJSON_ArrayForEach(item, ntp)
    {
        if (cfg->ntp_count < TEDDY_NTP_MAX && cJSON_IsString(item) && item->valuestring &&
            strlen(item->valuestring) <= TEDDY_HOST_MAX) {
            strcpy(cfg->ntp[cfg->ntp_count++], item->valuestring);
        }
    }
    const cJSON *features = cJSON_GetObjectItemCaseSensitive(root, "features");
    if (cJSON_IsObject(features)) {
        read_bool(features, "ota", &cfg->ota_enabled);
        read_bool(features, "strict_tls", &cfg->strict_tls);
    }
    /* emulator: a positive integer, else the SPEC §6.6 default of 30 s */
    const cJSON *hb = cJSON_GetObjectItemCaseSensitive(root, "heartbeat_interval");
    if (teddy_json_is_int(hb) && hb->valuedouble > 0 && hb->valuedouble < 86400.0 * 365) {
        cfg->heartbeat_interval = (int64_t)hb->valuedouble;
    }
    cJSON_Delete(root);
    return ESP_OK;
}

bool teddy_config_ws_path_matches(const teddy_config_t *cfg, const char *websocket_url,
                                  char *actual_path, size_t actual_path_size)
{
    char path[TEDDY_URL_MAX + 1];
    if (!teddy_url_path(websocket_url, path, sizeof(path))) {
        path[0] = '\0';
    }
    if (actual_path && actual_path_size) {
        teddy_strlcpy(actual_path, path, actual_path_size);
    }
    return strcmp(cfg->ws_path, path) == 0;
}
