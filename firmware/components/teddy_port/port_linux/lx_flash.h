/* lx_flash.h - the host flash directory, shared by linux_flash.c and linux_boot.c. */
#ifndef LX_FLASH_H
#define LX_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "teddy_port.h"

#define LX_SLOT_SIZE 0x180000u /* ota_0 / ota_1 of the two-OTA 4 MB layout */

extern int lx_flash_running; /* the slot this boot runs */

const char *lx_flash_slot_name(int slot);
bool lx_flash_slot_path(int slot, char *buf, size_t size);
/* <flash>/<name> as a JSON object ({} when absent or unreadable); free with cJSON_Delete. */
cJSON *lx_flash_load_json(const char *name);
esp_err_t lx_flash_save_json(const char *name, cJSON *obj);
/* otadata entry of a slot; seq < 0 keeps the stored sequence number. */
esp_err_t lx_flash_set_state(int slot, const char *state, const char *reason, int seq);
uint32_t lx_flash_efuse_secure_version(void);
/* The anti-rollback efuse only ever goes up. */
esp_err_t lx_flash_raise_efuse(uint32_t secure_version);
uint8_t *lx_flash_read_slot_file(int slot, size_t *len);

#endif /* LX_FLASH_H */
