/*
 * idf_boot.c - boot facts: running slot and image, reset reason, chip, anti-rollback
 * counter, and the rollback report of this boot (SPEC §5.5, §8.2 `boot`).
 *
 * The ESP-IDF bootloader (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE) does the slot choice:
 * a NEW image boots as PENDING_VERIFY; if it reboots before
 * esp_ota_mark_app_valid_cancel_rollback() the bootloader marks it ABORTED and starts
 * the other slot. The app learns about that through esp_ota_get_last_invalid_partition().
 * That call keeps answering until the slot is rewritten, so the port remembers which
 * rollback it already reported (NVS `teddy_port/rb_ack`, written by
 * teddy_port_ota_ack_rollback) and reports each one once.
 *
 * Rollback reason: `self_test_failed` when the image gave up itself (stored by
 * teddy_port_ota_mark_invalid), else the reset reason that ended the unconfirmed boot
 * when it is a crash (panic, task_wdt, int_wdt, wdt, brownout), else `not_confirmed`,
 * the same rule as emulator/core/boot.py select_boot().
 */
#include <string.h>

#include "esp_app_desc.h"
#include "esp_log.h"
#include "esp_ota_ops.h"
#include "esp_system.h"
#include "nvs.h"
#include "sdkconfig.h"
#if CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
#include "esp_efuse.h"
#endif

#include "idf_internal.h"

static const char *TAG = "teddy_boot";

/* What identifies one rollback: the failed slot and the ELF hash of its image. */
typedef struct {
    uint8_t slot;
    uint8_t elf_sha256[32];
} rollback_sig_t;

static teddy_port_boot_info_t s_info;
static rollback_sig_t s_sig;

/* SPEC §8.2: esp_reset_reason_t without ESP_RST_, lower-case (the device model's
 * reset_reasons, teddy_model.h); others are "unknown". */
static teddy_reset_reason_t reset_reason_of(esp_reset_reason_t r)
{
    switch (r) {
    case ESP_RST_POWERON: return TEDDY_RESET_POWERON;
    case ESP_RST_EXT: return TEDDY_RESET_EXT;
    case ESP_RST_SW: return TEDDY_RESET_SW;
    case ESP_RST_PANIC: return TEDDY_RESET_PANIC;
    case ESP_RST_INT_WDT: return TEDDY_RESET_INT_WDT;
    case ESP_RST_TASK_WDT: return TEDDY_RESET_TASK_WDT;
    case ESP_RST_WDT: return TEDDY_RESET_WDT;
    case ESP_RST_DEEPSLEEP: return TEDDY_RESET_DEEPSLEEP;
    case ESP_RST_BROWNOUT: return TEDDY_RESET_BROWNOUT;
    case ESP_RST_SDIO: return TEDDY_RESET_SDIO;
    default: return TEDDY_RESET_UNKNOWN;
    }
}


const esp_partition_t *idf_slot_partition(int slot)
{
    if (slot < 0 || slot >= TEDDY_SLOT_COUNT) {
        return NULL;
    }
    return esp_partition_find_first(ESP_PARTITION_TYPE_APP,
                                    (esp_partition_subtype_t)(ESP_PARTITION_SUBTYPE_APP_OTA_0 + slot),
                                    NULL);
}

static int slot_of(const esp_partition_t *part)
{
    for (int slot = 0; slot < TEDDY_SLOT_COUNT; slot++) {
        if (idf_slot_partition(slot) == part) {
            return slot;
        }
    }
    return 0;
}

static uint32_t read_soft_secure_version(void)
{
#if CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK
    return esp_efuse_read_secure_version(); /* the real eFuse counter */
#else
    /* Without eFuse anti-rollback (sdkconfig.defaults explains why it is off) the
     * counter lives in NVS: the SPEC §5.4 row 7 / §5.5 checks still run on the device. */
    nvs_handle_t h;
    uint32_t value = 0;
    if (nvs_open(IDF_PORT_NS, NVS_READONLY, &h) == ESP_OK) {
        (void)nvs_get_u32(h, "sec_ver", &value);
        nvs_close(h);
    }
    return value;
#endif
}

/* NVS `teddy_port/<key>` as a string ("" when absent). */
static void read_port_str(const char *key, char *out, size_t size)
{
    nvs_handle_t h;
    out[0] = '\0';
    if (nvs_open(IDF_PORT_NS, NVS_READONLY, &h) == ESP_OK) {
        size_t len = size;
        if (nvs_get_str(h, key, out, &len) != ESP_OK) {
            out[0] = '\0';
        }
        nvs_close(h);
    }
}

static bool rollback_acked(const rollback_sig_t *sig)
{
    nvs_handle_t h;
    rollback_sig_t acked;
    size_t len = sizeof(acked);
    bool same = false;
    if (nvs_open(IDF_PORT_NS, NVS_READONLY, &h) == ESP_OK) {
        same = nvs_get_blob(h, "rb_ack", &acked, &len) == ESP_OK && len == sizeof(acked) &&
               memcmp(&acked, sig, sizeof(acked)) == 0;
        nvs_close(h);
    }
    return same;
}

static void detect_rollback(const esp_partition_t *running)
{
    const esp_partition_t *failed = esp_ota_get_last_invalid_partition();
    if (failed == NULL || failed == running) {
        return;
    }
    esp_app_desc_t desc;
    if (esp_ota_get_partition_description(failed, &desc) != ESP_OK) {
        return;
    }
    memset(&s_sig, 0, sizeof(s_sig));
    s_sig.slot = (uint8_t)slot_of(failed);
    memcpy(s_sig.elf_sha256, desc.app_elf_sha256, sizeof(s_sig.elf_sha256));
    if (rollback_acked(&s_sig)) {
        return; /* reported at an earlier boot */
    }
    s_info.rolled_back = true;
    idf_strlcpy(s_info.rollback_from, desc.version, sizeof(s_info.rollback_from));
    idf_strlcpy(s_info.rollback_to, s_info.fw_version, sizeof(s_info.rollback_to));
    read_port_str("rb_reason", s_info.rollback_reason, sizeof(s_info.rollback_reason));
    if (s_info.rollback_reason[0] == '\0') {
        idf_strlcpy(s_info.rollback_reason,
                    teddy_reset_reason_is_crash(s_info.reset_reason) ? s_info.reset_reason
                                                                    : TEDDY_ROLLBACK_NOT_CONFIRMED,
                    sizeof(s_info.rollback_reason));
    }
    ESP_LOGW(TAG, "rolled back from %s (%s)", s_info.rollback_from, s_info.rollback_reason);
}

esp_err_t idf_boot_init(void)
{
    memset(&s_info, 0, sizeof(s_info));
    const esp_app_desc_t *app = esp_app_get_description();
    const esp_partition_t *running = esp_ota_get_running_partition();
    if (app == NULL || running == NULL) {
        return ESP_ERR_NOT_FOUND;
    }
    idf_strlcpy(s_info.fw_version, app->version, sizeof(s_info.fw_version));
    s_info.slot = slot_of(running);
    idf_strlcpy(s_info.reset_reason, TEDDY_RESET_REASON_NAMES[reset_reason_of(esp_reset_reason())],
                sizeof(s_info.reset_reason));
    idf_strlcpy(s_info.chip, CONFIG_IDF_TARGET, sizeof(s_info.chip)); /* SPEC §5.1 names */
    s_info.image_secure_version = app->secure_version;
    s_info.efuse_secure_version = read_soft_secure_version();
    s_info.slot_size = running->size;
    esp_ota_img_states_t state;
    s_info.pending_verify = esp_ota_get_state_partition(running, &state) == ESP_OK &&
                            state == ESP_OTA_IMG_PENDING_VERIFY;
    s_info.network_broken = false; /* TEDDY-BEHAVIOUR markers are a host-only test hook */
    s_info.panic_after_ms = -1;
    detect_rollback(running);
    ESP_LOGI(TAG, "%s %s on %s, reset %s%s", app->project_name, s_info.fw_version,
             running->label, s_info.reset_reason, s_info.pending_verify ? ", pending verify" : "");
    return ESP_OK;
}

esp_err_t teddy_port_boot_info(teddy_port_boot_info_t *out)
{
    if (out == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    *out = s_info;
    return ESP_OK;
}

void idf_boot_set_efuse_secure_version(uint32_t value)
{
    s_info.efuse_secure_version = value;
}

esp_err_t teddy_port_ota_ack_rollback(void)
{
    if (!s_info.rolled_back) {
        return ESP_OK;
    }
    nvs_handle_t h;
    esp_err_t err = nvs_open(IDF_PORT_NS, NVS_READWRITE, &h);
    if (err != ESP_OK) {
        return err;
    }
    err = nvs_set_blob(h, "rb_ack", &s_sig, sizeof(s_sig));
    (void)nvs_erase_key(h, "rb_reason");
    if (err == ESP_OK) {
        err = nvs_commit(h);
    }
    nvs_close(h);
    if (err == ESP_OK) {
        s_info.rolled_back = false;
    }
    return err;
}

void idf_boot_forget_rollback_ack(void)
{
    nvs_handle_t h;
    if (nvs_open(IDF_PORT_NS, NVS_READWRITE, &h) == ESP_OK) {
        (void)nvs_erase_key(h, "rb_ack");
        (void)nvs_erase_key(h, "rb_reason");
        (void)nvs_commit(h);
        nvs_close(h);
    }
}
