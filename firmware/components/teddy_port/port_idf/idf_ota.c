/*
 * idf_ota.c - the two app slots and otadata (SPEC §5.2 download/resume, §5.5 apply,
 * confirm, rollback).
 *
 * Why esp_partition_* for the bytes and esp_ota_ops for otadata: the core resumes a cut
 * download at the byte where it stopped, possibly after a reboot (SPEC §5.2 Range
 * resume), and re-hashes the partial slot first. An esp_ota_handle_t lives in RAM and
 * esp_ota_begin() erases the slot, so it cannot continue an image across a reset.
 * Writes here are offset-based and erase lazily, sector by sector, exactly like
 * esp_ota_begin(OTA_WITH_SEQUENTIAL_WRITES) + esp_ota_write(); the apply step is the
 * same esp_ota_set_boot_partition() that esp_ota_end() users call, and it runs
 * esp_image_verify() over the slot again before touching otadata.
 *
 * NOR flash can only clear bits, so a resume in the middle of a sector (bytes after the
 * resume offset may hold data written just before a power cut) rewrites that sector:
 * read the kept prefix, erase, write the prefix back.
 */
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "esp_ota_ops.h"
#include "nvs.h"
#include "sdkconfig.h"
#include "spi_flash_mmap.h"
#if CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
#include "esp_efuse.h"
#endif

#include "idf_internal.h"

static const char *TAG = "teddy_ota";

#define SECTOR SPI_FLASH_SEC_SIZE

static int s_w_slot = -1;  /* slot of the running write sequence */
static size_t s_w_next;    /* offset the next sequential write starts at */
static bool s_invalid_pending;

static const esp_partition_t *writable_slot(int slot)
{
    const esp_partition_t *part = idf_slot_partition(slot);
    if (part == NULL || part == esp_ota_get_running_partition()) {
        return NULL; /* never overwrite the image we run from */
    }
    return part;
}

esp_err_t teddy_port_slot_erase(int slot)
{
    const esp_partition_t *part = writable_slot(slot);
    if (part == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    /* Erasing 1.5 MiB takes seconds; only the first sector goes now (the slot stops
     * being a bootable image at once), the rest as writes reach it. */
    esp_err_t err = esp_partition_erase_range(part, 0, SECTOR);
    s_w_slot = slot;
    s_w_next = 0;
    return err;
}

/* Resume inside a sector: keep [sector start, offset), erase the sector, rewrite. */
static esp_err_t rewrite_sector_prefix(const esp_partition_t *part, size_t offset)
{
    size_t start = offset - offset % SECTOR;
    size_t keep = offset - start;
    uint8_t *buf = malloc(keep);
    if (buf == NULL) {
        return ESP_ERR_NO_MEM;
    }
    esp_err_t err = esp_partition_read(part, start, buf, keep);
    if (err == ESP_OK) {
        err = esp_partition_erase_range(part, start, SECTOR);
    }
    if (err == ESP_OK) {
        err = esp_partition_write(part, start, buf, keep);
    }
    free(buf);
    return err;
}

esp_err_t teddy_port_slot_write(int slot, size_t offset, const void *data, size_t len)
{
    const esp_partition_t *part = writable_slot(slot);
    if (part == NULL || (data == NULL && len > 0)) {
        return ESP_ERR_INVALID_ARG;
    }
    if (offset > part->size || len > part->size - offset) {
        return ESP_ERR_INVALID_SIZE; /* the image does not fit the slot */
    }
    esp_err_t err = ESP_OK;
    bool new_sequence = slot != s_w_slot || offset != s_w_next;
    if (new_sequence && offset % SECTOR != 0) {
        err = rewrite_sector_prefix(part, offset);
    }
    /* Erase every sector that starts inside [offset, offset + len). */
    size_t first = (offset + SECTOR - 1) / SECTOR * SECTOR;
    for (size_t at = first; err == ESP_OK && at < offset + len; at += SECTOR) {
        err = esp_partition_erase_range(part, at, SECTOR);
    }
    if (err == ESP_OK && len > 0) {
        err = esp_partition_write(part, offset, data, len);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "slot %d write at %u failed: %s", slot, (unsigned)offset,
                 esp_err_to_name(err));
        s_w_slot = -1;
        return err;
    }
    s_w_slot = slot;
    s_w_next = offset + len;
    return ESP_OK;
}

esp_err_t teddy_port_slot_read(int slot, size_t offset, void *buf, size_t len)
{
    const esp_partition_t *part = idf_slot_partition(slot);
    if (part == NULL || (buf == NULL && len > 0)) {
        return ESP_ERR_INVALID_ARG;
    }
    if (offset > part->size || len > part->size - offset) {
        return ESP_ERR_INVALID_SIZE;
    }
    return len == 0 ? ESP_OK : esp_partition_read(part, offset, buf, len);
}

esp_err_t teddy_port_ota_set_boot(int slot)
{
    const esp_partition_t *part = writable_slot(slot);
    if (part == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    /* Validates the image (esp_image_verify) and writes otadata with state NEW, so the
     * bootloader starts it once as PENDING_VERIFY (SPEC §5.5). */
    esp_err_t err = esp_ota_set_boot_partition(part);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "set boot %s: %s", part->label, esp_err_to_name(err));
        return err;
    }
    idf_boot_forget_rollback_ack(); /* a rollback of this new image must be reported */
    s_w_slot = -1;
    return ESP_OK;
}

#if !CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
/* Soft anti-rollback counter in NVS (see idf_boot.c read_soft_secure_version). */
static uint32_t raise_soft_counter(uint32_t secure_version)
{
    nvs_handle_t h;
    uint32_t current = 0;
    if (nvs_open(IDF_PORT_NS, NVS_READWRITE, &h) != ESP_OK) {
        return 0;
    }
    (void)nvs_get_u32(h, "sec_ver", &current);
    if (secure_version > current && nvs_set_u32(h, "sec_ver", secure_version) == ESP_OK &&
        nvs_commit(h) == ESP_OK) {
        current = secure_version;
    }
    nvs_close(h);
    return current;
}
#endif

esp_err_t teddy_port_ota_mark_valid(uint32_t secure_version)
{
    const esp_partition_t *running = esp_ota_get_running_partition();
    esp_ota_img_states_t state;
    bool pending = esp_ota_get_state_partition(running, &state) == ESP_OK &&
                   state == ESP_OTA_IMG_PENDING_VERIFY;
    if (pending) {
        /* Cancels the rollback; with CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK this call also
         * burns the eFuse counter up to the running image's secure_version. */
        esp_err_t err = esp_ota_mark_app_valid_cancel_rollback();
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "mark valid: %s", esp_err_to_name(err));
            return err;
        }
    }
#if CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
    (void)secure_version;
    idf_boot_set_efuse_secure_version(esp_efuse_read_secure_version());
#else
    idf_boot_set_efuse_secure_version(raise_soft_counter(secure_version));
#endif
    return ESP_OK;
}

esp_err_t teddy_port_ota_mark_invalid(const char *reason)
{
    /* Remember why (ota.rollback{reason} at the next boot); the reboot itself happens
     * in teddy_port_restart() through esp_ota_mark_app_invalid_rollback_and_reboot(),
     * because that call never returns and teddy_port.h asks for no reset here. */
    nvs_handle_t h;
    esp_err_t err = nvs_open(IDF_PORT_NS, NVS_READWRITE, &h);
    if (err == ESP_OK) {
        err = nvs_set_str(h, "rb_reason", reason != NULL ? reason : TEDDY_ROLLBACK_SELF_TEST_FAILED);
        if (err == ESP_OK) {
            err = nvs_commit(h);
        }
        nvs_close(h);
    }
    s_invalid_pending = true;
    return err;
}

bool idf_ota_invalid_pending(void)
{
    return s_invalid_pending;
}

void idf_ota_reboot_invalid(void)
{
    esp_err_t err = esp_ota_mark_app_invalid_rollback_and_reboot();
    /* Only returns when no other slot can boot: carry on with a plain restart. */
    ESP_LOGE(TAG, "rollback impossible: %s", esp_err_to_name(err));
}

static teddy_ota_state_t map_state(esp_ota_img_states_t s)
{
    switch (s) {
    case ESP_OTA_IMG_NEW: return TEDDY_OTA_STATE_NEW;
    case ESP_OTA_IMG_PENDING_VERIFY: return TEDDY_OTA_STATE_PENDING_VERIFY;
    case ESP_OTA_IMG_INVALID: return TEDDY_OTA_STATE_INVALID;
    case ESP_OTA_IMG_ABORTED: return TEDDY_OTA_STATE_ABORTED;
    case ESP_OTA_IMG_VALID:
    case ESP_OTA_IMG_UNDEFINED: /* flashed by esptool, never went through OTA */
    default: return TEDDY_OTA_STATE_VALID;
    }
}

esp_err_t teddy_port_ota_get_state(int slot, teddy_ota_state_t *out)
{
    const esp_partition_t *part = idf_slot_partition(slot);
    if (part == NULL || out == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    esp_app_desc_t desc;
    if (esp_ota_get_partition_description(part, &desc) != ESP_OK) {
        *out = TEDDY_OTA_STATE_EMPTY; /* no app descriptor: nothing bootable there */
        return ESP_OK;
    }
    esp_ota_img_states_t state;
    esp_err_t err = esp_ota_get_state_partition(part, &state);
    /* No otadata entry: an image flashed by esptool, bootable without limits. */
    *out = err == ESP_OK ? map_state(state) : TEDDY_OTA_STATE_VALID;
    return ESP_OK;
}
