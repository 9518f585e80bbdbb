/*
 * linux_flash.c - the two OTA app slots, otadata and the anti-rollback efuse of the
 * host board (SPEC §5.2 resume, §5.5 rollback); the bootloader is linux_boot.c.
 *
 * Layout of the Python emulator (emulator/flash.py): <flash>/ota_0.bin, ota_1.bin,
 * otadata.json ({"ota_N": {seq, state, reason}, "rollback": {from, to, reason}}),
 * efuse.json ({"secure_version": n}), partitions.json. JSON files are replaced
 * atomically; slot writes land in place and the slot ends after the last write, so
 * after a power cut a slot is never longer than what was acknowledged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cJSON.h"
#include "lx_flash.h"
#include "lx_internal.h"

int lx_flash_running = 0;

const char *lx_flash_slot_name(int slot) { return teddy_slot_name(slot); }

bool lx_flash_slot_path(int slot, char *buf, size_t size)
{
    char name[16];
    snprintf(name, sizeof(name), "%s.bin", lx_flash_slot_name(slot));
    return lx_path(buf, size, lx_opts()->flash_dir, name);
}

cJSON *lx_flash_load_json(const char *name)
{
    char path[4096];
    cJSON *obj = NULL;
    if (lx_path(path, sizeof(path), lx_opts()->flash_dir, name)) {
        char *text = lx_read_file(path, NULL);
        if (text != NULL) {
            obj = cJSON_Parse(text);
            free(text);
        }
    }
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        obj = cJSON_CreateObject();
    }
    return obj;
}

esp_err_t lx_flash_save_json(const char *name, cJSON *obj)
{
    char path[4096];
    char *text = cJSON_Print(obj);
    esp_err_t err = ESP_ERR_NO_MEM;
    if (text != NULL && lx_path(path, sizeof(path), lx_opts()->flash_dir, name)) {
        err = lx_write_file_atomic(path, text, strlen(text));
    }
    free(text);
    return err;
}

esp_err_t lx_flash_set_state(int slot, const char *state, const char *reason, int seq)
{
    cJSON *ota = lx_flash_load_json("otadata.json");
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(ota, lx_flash_slot_name(slot));
    int old_seq = 0;
    cJSON *s = cJSON_IsObject(entry) ? cJSON_GetObjectItemCaseSensitive(entry, "seq") : NULL;
    if (cJSON_IsNumber(s)) {
        old_seq = s->valueint;
    }
    cJSON *fresh = cJSON_CreateObject();
    cJSON_AddNumberToObject(fresh, "seq", seq >= 0 ? seq : old_seq);
    cJSON_AddStringToObject(fresh, "state", state);
    cJSON_AddStringToObject(fresh, "reason", reason != NULL ? reason : "");
    cJSON_DeleteItemFromObjectCaseSensitive(ota, lx_flash_slot_name(slot));
    cJSON_AddItemToObject(ota, lx_flash_slot_name(slot), fresh);
    esp_err_t err = lx_flash_save_json("otadata.json", ota);
    cJSON_Delete(ota);
    return err;
}

uint32_t lx_flash_efuse_secure_version(void)
{
    cJSON *efuse = lx_flash_load_json("efuse.json");
    cJSON *v = cJSON_GetObjectItemCaseSensitive(efuse, "secure_version");
    uint32_t value = cJSON_IsNumber(v) && v->valuedouble >= 0 ? (uint32_t)v->valuedouble : 0;
    cJSON_Delete(efuse);
    return value;
}

esp_err_t lx_flash_raise_efuse(uint32_t secure_version)
{
    if (secure_version <= lx_flash_efuse_secure_version()) {
        return ESP_OK; /* an efuse only ever goes up */
    }
    cJSON *efuse = cJSON_CreateObject();
    cJSON_AddNumberToObject(efuse, "secure_version", secure_version);
    esp_err_t err = lx_flash_save_json("efuse.json", efuse);
    cJSON_Delete(efuse);
    return err;
}

uint8_t *lx_flash_read_slot_file(int slot, size_t *len)
{
    char path[4096];
    *len = 0;
    return lx_flash_slot_path(slot, path, sizeof(path)) ? (uint8_t *)lx_read_file(path, len) : NULL;
}

/* --- slot access (teddy_port.h) ------------------------------------------------------ */

esp_err_t teddy_port_slot_erase(int slot)
{
    char path[4096];
    if (slot < 0 || slot > 1 || slot == lx_flash_running || !lx_flash_slot_path(slot, path, sizeof(path))) {
        return ESP_ERR_INVALID_ARG;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        return ESP_FAIL;
    }
    return lx_flash_set_state(slot, "empty", "", 0);
}

esp_err_t teddy_port_slot_write(int slot, size_t offset, const void *data, size_t len)
{
    char path[4096];
    if (slot < 0 || slot > 1 || !lx_flash_slot_path(slot, path, sizeof(path))) {
        return ESP_ERR_INVALID_ARG;
    }
    if (offset + len > LX_SLOT_SIZE) {
        return ESP_ERR_INVALID_SIZE;
    }
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) {
        return ESP_FAIL;
    }
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, p + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            return ESP_FAIL;
        }
        done += (size_t)n;
    }
    /* The slot ends after this write (later bytes would be stale anyway). */
    int rc = ftruncate(fd, (off_t)(offset + len));
    close(fd);
    return rc == 0 ? ESP_OK : ESP_FAIL;
}

esp_err_t teddy_port_slot_read(int slot, size_t offset, void *buf, size_t len)
{
    char path[4096];
    if (slot < 0 || slot > 1 || !lx_flash_slot_path(slot, path, sizeof(path))) {
        return ESP_ERR_INVALID_ARG;
    }
    memset(buf, 0xFF, len); /* erased flash reads as 0xFF */
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return errno == ENOENT ? ESP_OK : ESP_FAIL;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    close(fd);
    return ESP_OK;
}

esp_err_t teddy_port_ota_set_boot(int slot)
{
    if (slot < 0 || slot > 1) {
        return ESP_ERR_INVALID_ARG;
    }
    cJSON *ota = lx_flash_load_json("otadata.json");
    int top = 0;
    for (int i = 0; i < 2; i++) {
        cJSON *e = cJSON_GetObjectItemCaseSensitive(ota, lx_flash_slot_name(i));
        cJSON *sq = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "seq") : NULL;
        if (cJSON_IsNumber(sq) && sq->valueint > top) {
            top = sq->valueint;
        }
    }
    cJSON_Delete(ota);
    return lx_flash_set_state(slot, "new", "", top + 1);
}

esp_err_t teddy_port_ota_mark_valid(uint32_t secure_version)
{
    esp_err_t err = lx_flash_set_state(lx_flash_running, "valid", "", -1);
    return err == ESP_OK ? lx_flash_raise_efuse(secure_version) : err;
}

esp_err_t teddy_port_ota_mark_invalid(const char *reason)
{
    return lx_flash_set_state(lx_flash_running, "invalid", reason, -1);
}

esp_err_t teddy_port_ota_ack_rollback(void)
{
    cJSON *ota = lx_flash_load_json("otadata.json");
    esp_err_t err = ESP_OK;
    if (cJSON_GetObjectItemCaseSensitive(ota, "rollback") != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(ota, "rollback");
        err = lx_flash_save_json("otadata.json", ota);
    }
    cJSON_Delete(ota);
    return err;
}

esp_err_t teddy_port_ota_get_state(int slot, teddy_ota_state_t *out)
{
    if (slot < 0 || slot > 1 || out == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    static const char *const names[] = {"empty", "new", "pending_verify", "valid", "invalid",
                                        "aborted"};
    cJSON *ota = lx_flash_load_json("otadata.json");
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(ota, lx_flash_slot_name(slot));
    cJSON *state = cJSON_IsObject(entry) ? cJSON_GetObjectItemCaseSensitive(entry, "state") : NULL;
    *out = TEDDY_OTA_STATE_EMPTY;
    for (int i = 0; cJSON_IsString(state) && i < 6; i++) {
        if (strcmp(state->valuestring, names[i]) == 0) {
            *out = (teddy_ota_state_t)i;
        }
    }
    cJSON_Delete(ota);
    return ESP_OK;
}
