/*
 * linux_boot.c - the ROM and second-stage bootloader of the host board (SPEC §5.5).
 *
 * At power-on: a blank flash gets the factory image in ota_0 (valid), then the slot
 * choice of emulator/core/boot.py select_boot: the newest bootable slot wins; a NEW
 * image boots as PENDING_VERIFY; one still pending at the next boot never confirmed
 * itself and is ABORTED (reason: the crash reset reason, else not_confirmed), an
 * INVALID one (the app gave up) likewise, and the previous slot runs with a rollback
 * report kept in otadata until the app acknowledges it. The running image's app
 * descriptor gives the version; its TEDDY-BEHAVIOUR marker the host test hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cJSON.h"
#include "lx_flash.h"
#include "lx_image.h"
#include "lx_internal.h"

typedef struct {
    bool bootable;
    lx_image_info_t img;
    char state[16];
    char reason[TEDDY_PORT_REASON_MAX];
    int seq;
} slot_info_t;

static void slot_info(int slot, cJSON *ota, slot_info_t *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->state, sizeof(out->state), "empty");
    size_t len = 0;
    uint8_t *data = lx_flash_read_slot_file(slot, &len);
    out->bootable = data != NULL && lx_image_check(data, len, &out->img);
    free(data);
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(ota, lx_flash_slot_name(slot));
    if (cJSON_IsObject(entry)) {
        cJSON *st = cJSON_GetObjectItemCaseSensitive(entry, "state");
        cJSON *rs = cJSON_GetObjectItemCaseSensitive(entry, "reason");
        cJSON *sq = cJSON_GetObjectItemCaseSensitive(entry, "seq");
        if (cJSON_IsString(st)) {
            snprintf(out->state, sizeof(out->state), "%s", st->valuestring);
        }
        if (cJSON_IsString(rs)) {
            snprintf(out->reason, sizeof(out->reason), "%s", rs->valuestring);
        }
        out->seq = cJSON_IsNumber(sq) ? sq->valueint : 0;
    }
}

static esp_err_t write_factory(void)
{
    const teddy_port_linux_options_t *o = lx_opts();
    size_t len = 0;
    uint8_t *img = lx_image_build(o->factory_version, o->chip, o->factory_secure_version, &len);
    if (img == NULL) {
        fprintf(stderr, "teddy-fw-host: cannot build a factory image %s for %s\n",
                o->factory_version, o->chip);
        return ESP_ERR_INVALID_ARG;
    }
    esp_err_t err = teddy_port_slot_write(0, 0, img, len);
    free(img);
    if (err == ESP_OK) {
        err = lx_flash_set_state(0, "valid", "", 1);
    }
    return err == ESP_OK ? lx_flash_raise_efuse(o->factory_secure_version) : err;
}

static void record_rollback(teddy_port_boot_info_t *info, const char *from, const char *to,
                            const char *reason)
{
    info->rolled_back = true;
    snprintf(info->rollback_from, sizeof(info->rollback_from), "%s", from);
    snprintf(info->rollback_to, sizeof(info->rollback_to), "%s", to);
    snprintf(info->rollback_reason, sizeof(info->rollback_reason), "%s", reason);
}

/* select_boot of emulator/core/boot.py; returns the slot to run or -1. */
static int choose(const slot_info_t si[2], const char *reset_reason, teddy_port_boot_info_t *info)
{
    int first = -1, other = -1;
    for (int i = 0; i < 2; i++) {
        if (si[i].bootable && (first < 0 || si[i].seq > si[first].seq)) {
            first = i;
        }
    }
    if (first < 0) {
        return -1;
    }
    const slot_info_t *f = &si[first], *o = &si[1 - first];
    if (o->bootable && strcmp(o->state, "invalid") != 0 && strcmp(o->state, "aborted") != 0 &&
        strcmp(o->state, "new") != 0) {
        other = 1 - first;
    }
    bool pending = strcmp(f->state, "pending_verify") == 0;
    bool invalid = strcmp(f->state, "invalid") == 0;
    if ((pending || invalid || strcmp(f->state, "aborted") == 0) && other >= 0) {
        if (pending) {
            /* SPEC §5.5: a crash names the rollback, else the image never confirmed. */
            const char *why = teddy_reset_reason_is_crash(reset_reason)
                                  ? reset_reason
                                  : TEDDY_ROLLBACK_NOT_CONFIRMED;
            lx_flash_set_state(first, "aborted", why, -1);
            record_rollback(info, f->img.version, o->img.version, why);
        } else if (invalid) {
            record_rollback(info, f->img.version, o->img.version,
                            f->reason[0] != '\0' ? f->reason : TEDDY_ROLLBACK_NOT_CONFIRMED);
        }
        return other;
    }
    if (strcmp(f->state, "new") == 0) {
        lx_flash_set_state(first, "pending_verify", "", -1);
        info->pending_verify = true;
    } else {
        info->pending_verify = pending;
    }
    return first;
}

esp_err_t lx_flash_boot(const char *reset_reason, teddy_port_boot_info_t *info)
{
    lx_nvs_reload();
    char path[4096];
    if (lx_path(path, sizeof(path), lx_opts()->flash_dir, "partitions.json") &&
        access(path, F_OK) != 0) {
        static const char table[] =
            "{\"nvs\": {\"offset\": 36864, \"size\": 24576}, \"otadata\": {\"offset\": 61440, "
            "\"size\": 8192}, \"ota_0\": {\"offset\": 131072, \"size\": 1572864}, \"ota_1\": "
            "{\"offset\": 1703936, \"size\": 1572864}}\n";
        lx_write_file_atomic(path, table, sizeof(table) - 1);
    }
    size_t l0 = 0, l1 = 0;
    free(lx_flash_read_slot_file(0, &l0));
    free(lx_flash_read_slot_file(1, &l1));
    if (l0 == 0 && l1 == 0) {
        esp_err_t err = write_factory();
        if (err != ESP_OK) {
            return err;
        }
    }
    cJSON *ota = lx_flash_load_json("otadata.json");
    slot_info_t si[2];
    slot_info(0, ota, &si[0]);
    slot_info(1, ota, &si[1]);
    memset(info, 0, sizeof(*info));
    int slot = choose(si, reset_reason, info);
    if (slot < 0) {
        cJSON_Delete(ota);
        fprintf(stderr, "teddy-fw-host: %s: no bootable app image in any slot; erase it\n",
                lx_opts()->flash_dir);
        return ESP_ERR_NOT_FOUND;
    }
    cJSON_Delete(ota);
    ota = lx_flash_load_json("otadata.json");
    cJSON *rb = cJSON_GetObjectItemCaseSensitive(ota, "rollback");
    if (info->rolled_back) {
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "from", info->rollback_from);
        cJSON_AddStringToObject(rec, "to", info->rollback_to);
        cJSON_AddStringToObject(rec, "reason", info->rollback_reason);
        cJSON_DeleteItemFromObjectCaseSensitive(ota, "rollback");
        cJSON_AddItemToObject(ota, "rollback", rec);
        lx_flash_save_json("otadata.json", ota);
    } else if (cJSON_IsObject(rb)) { /* printed at a boot cut before acknowledging it */
        cJSON *f = cJSON_GetObjectItemCaseSensitive(rb, "from");
        cJSON *t = cJSON_GetObjectItemCaseSensitive(rb, "to");
        cJSON *r = cJSON_GetObjectItemCaseSensitive(rb, "reason");
        if (cJSON_IsString(f) && cJSON_IsString(t) && cJSON_IsString(r)) {
            record_rollback(info, f->valuestring, t->valuestring, r->valuestring);
        }
    }
    cJSON_Delete(ota);
    lx_flash_running = slot;
    snprintf(info->fw_version, sizeof(info->fw_version), "%s", si[slot].img.version);
    info->slot = slot;
    snprintf(info->reset_reason, sizeof(info->reset_reason), "%s", reset_reason);
    snprintf(info->chip, sizeof(info->chip), "%s", lx_opts()->chip);
    info->image_secure_version = si[slot].img.secure_version;
    info->efuse_secure_version = lx_flash_efuse_secure_version();
    info->slot_size = LX_SLOT_SIZE;
    size_t len = 0;
    uint8_t *image = lx_flash_read_slot_file(slot, &len);
    lx_image_behaviour(image != NULL ? image : (const uint8_t *)"", len, &info->network_broken,
                       &info->panic_after_ms);
    free(image);
    return ESP_OK;
}
