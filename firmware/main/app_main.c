/*
 * app_main.c - wiring only: bring up NVS, the network stack and the Wi-Fi driver, then
 * run the teddy_core device loop on the ESP-IDF port until it resets the board.
 *
 * Everything the toy does (SPEC §2 claim, §4 config, §5 OTA, §6 chat, §8 event lines,
 * §9 console) is in components/teddy_core, the same code that runs on Linux as
 * teddy-fw-host; the board's drivers are components/teddy_port/port_idf. The compiled-in
 * defaults come from the "Teddy" Kconfig menu (main/Kconfig.projbuild); NVS settings
 * written by the console's `set` override them (SPEC §9.2).
 */
#include <stdio.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_netif.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "nvs_flash.h"
#include "sdkconfig.h"

#include "teddy_device.h"
#include "teddy_port.h"

static const char *TAG = "teddy";

static void init_nvs(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        /* A layout change or a full partition: start over rather than brick the toy
         * (the device claims again, SPEC §2). */
        ESP_ERROR_CHECK(nvs_flash_erase());
        err = nvs_flash_init();
    }
    ESP_ERROR_CHECK(err);
}

static void init_network(void)
{
    ESP_ERROR_CHECK(esp_netif_init());
    ESP_ERROR_CHECK(esp_event_loop_create_default());
    esp_netif_create_default_wifi_sta();
    wifi_init_config_t cfg = WIFI_INIT_CONFIG_DEFAULT();
    ESP_ERROR_CHECK(esp_wifi_init(&cfg));
}

/* SPEC §1.3: teddy-esp32-<12 lower-case hex of the base MAC>, the same spelling on
 * every boot (the development server derives the OOB secret from it, SPEC §2.7). */
static void make_device_id(char *out, size_t size)
{
    uint8_t mac[6] = {0};
    ESP_ERROR_CHECK(esp_efuse_mac_get_default(mac));
    snprintf(out, size, "%s%02x%02x%02x%02x%02x%02x", CONFIG_TEDDY_DEVICE_ID_PREFIX, mac[0],
             mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void app_main(void)
{
    init_nvs();
    init_network();
    /* The port reads the boot facts (slot, reset reason, rollback) before the core
     * prints `boot` (SPEC §8.2), and starts the console, Wi-Fi, I2S and button drivers. */
    ESP_ERROR_CHECK(teddy_port_init());

    char device_id[64];
    make_device_id(device_id, sizeof(device_id));
    const teddy_build_t build = {
        .server_url = CONFIG_TEDDY_SERVER_URL,
        .device_id = device_id, /* used until NVS mfg/device_id exists (SPEC §2.1) */
        .chip = CONFIG_IDF_TARGET, /* "esp32" / "esp32s3": SPEC §5.1 chip names */
        .oob_secret = NULL,        /* SPEC §2.1 seed derivation unless mfg/oob_secret */
        .child_id = CONFIG_TEDDY_CHILD_ID,
        .child_name = CONFIG_TEDDY_CHILD_NAME, /* "": the claim's child_profile.name */
#ifdef CONFIG_TEDDY_CHILD_AGE_SET
        .has_child_age = true, /* else the claim's child_profile.age (SPEC §9.2) */
        .child_age = CONFIG_TEDDY_CHILD_AGE,
#endif
        .volume = CONFIG_TEDDY_VOLUME,
    };
    teddy_timing_t timing;
    teddy_timing_real(&timing); /* real backoffs and intervals (DeviceTiming.realistic) */

    /* Returns only if the loop could not start: a reset never comes back. */
    esp_err_t err = teddy_app_run(&build, &timing, esp_random());
    ESP_LOGE(TAG, "device loop ended (%s); restarting", esp_err_to_name(err));
    vTaskDelay(pdMS_TO_TICKS(1000));
    esp_restart();
}
