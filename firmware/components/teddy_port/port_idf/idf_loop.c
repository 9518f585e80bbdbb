/*
 * idf_loop.c - lifetime, the app-thread event queue, clock, randomness, reset.
 *
 * teddy_port_init() brings the subsystems up; teddy_port_poll() is the only place where
 * callbacks reach the core (teddy_port.h threading rule). The queue carries pointers to
 * malloc'd idf_msg_t blocks; bulky ones are charged against a byte budget
 * (idf_internal.h) so a slow app thread back-pressures the network instead of filling
 * the heap.
 *
 * Expects app_main to have run nvs_flash_init(), esp_netif_init(),
 * esp_event_loop_create_default() and esp_wifi_init() (main/app_main.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "freertos/task.h"

#include "idf_internal.h"

static const char *TAG = "teddy_loop";

static QueueHandle_t s_queue;
static SemaphoreHandle_t s_budget_lock;
static SemaphoreHandle_t s_budget_freed; /* given whenever budget is released */
static size_t s_budget_used;
static uint32_t s_next_id;
static portMUX_TYPE s_id_mux = portMUX_INITIALIZER_UNLOCKED;
static bool s_up;

void *idf_msg_alloc(size_t size, idf_msg_fn_t run)
{
    idf_msg_t *msg = calloc(1, size);
    if (msg != NULL) {
        msg->run = run;
    }
    return msg;
}

esp_err_t idf_post(idf_msg_t *msg)
{
    if (s_queue == NULL || xQueueSend(s_queue, &msg, pdMS_TO_TICKS(1000)) != pdTRUE) {
        ESP_LOGE(TAG, "app queue full or down: message dropped");
        free(msg);
        return ESP_ERR_TIMEOUT;
    }
    return ESP_OK;
}

static void budget_release(size_t bytes)
{
    if (bytes == 0) {
        return;
    }
    xSemaphoreTake(s_budget_lock, portMAX_DELAY);
    s_budget_used = bytes > s_budget_used ? 0 : s_budget_used - bytes;
    xSemaphoreGive(s_budget_lock);
    xSemaphoreGive(s_budget_freed);
}

esp_err_t idf_post_bulk(idf_msg_t *msg, size_t bytes, const volatile bool *abandon)
{
    for (;;) {
        if (abandon != NULL && *abandon) {
            free(msg);
            return ESP_ERR_TIMEOUT;
        }
        xSemaphoreTake(s_budget_lock, portMAX_DELAY);
        /* An empty budget always admits one message, however large. */
        bool fits = s_budget_used == 0 || s_budget_used + bytes <= IDF_BUDGET_BYTES;
        if (fits) {
            s_budget_used += bytes;
        }
        xSemaphoreGive(s_budget_lock);
        if (fits) {
            break;
        }
        /* Re-check the abandon flag at least every 50 ms. */
        xSemaphoreTake(s_budget_freed, pdMS_TO_TICKS(50));
    }
    msg->charged = bytes;
    if (s_queue == NULL || xQueueSend(s_queue, &msg, portMAX_DELAY) != pdTRUE) {
        budget_release(bytes);
        free(msg);
        return ESP_FAIL;
    }
    return ESP_OK;
}

uint32_t idf_new_id(void)
{
    taskENTER_CRITICAL(&s_id_mux);
    uint32_t id = ++s_next_id;
    if (id == 0) {
        id = ++s_next_id;
    }
    taskEXIT_CRITICAL(&s_id_mux);
    return id;
}

void idf_strlcpy(char *dst, const char *src, size_t dst_size)
{
    size_t n = src == NULL ? 0 : strnlen(src, dst_size - 1);
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}

esp_err_t teddy_port_init(void)
{
    if (s_up) {
        return ESP_OK;
    }
    s_queue = xQueueCreate(IDF_QUEUE_LEN, sizeof(idf_msg_t *));
    s_budget_lock = xSemaphoreCreateMutex();
    s_budget_freed = xSemaphoreCreateBinary();
    if (s_queue == NULL || s_budget_lock == NULL || s_budget_freed == NULL) {
        return ESP_ERR_NO_MEM;
    }
    /* Order: boot facts and NVS first (the console's first line is `boot`, SPEC §8.2),
     * then the drivers. Audio and the button are optional hardware: a board without
     * them still boots and talks over the console (`text`). */
    esp_err_t err = idf_boot_init();
    if (err == ESP_OK) {
        err = idf_nvs_init();
    }
    if (err == ESP_OK) {
        err = idf_console_init();
    }
    if (err == ESP_OK) {
        err = idf_wifi_init();
    }
    if (err == ESP_OK) {
        err = idf_http_init();
    }
    if (err == ESP_OK) {
        err = idf_ws_init();
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "port init failed: %s", esp_err_to_name(err));
        return err;
    }
    if (idf_speaker_init() != ESP_OK) {
        ESP_LOGW(TAG, "speaker (MAX98357A) unavailable");
    }
    if (idf_mic_init() != ESP_OK) {
        ESP_LOGW(TAG, "microphone (INMP441) unavailable");
    }
    if (idf_button_init() != ESP_OK) {
        ESP_LOGW(TAG, "button unavailable");
    }
    s_up = true;
    return ESP_OK;
}

void teddy_port_deinit(void)
{
    /* On the board a boot ends with esp_restart(); there is nothing to hand back. The
     * sockets close with the reset (the server sees 1006, like a power cut). */
    s_up = false;
}

esp_err_t teddy_port_poll(uint32_t timeout_ms)
{
    if (timeout_ms > 60000) {
        timeout_ms = 60000; /* keep pdMS_TO_TICKS() far from overflowing */
    }
    TickType_t wait = pdMS_TO_TICKS(timeout_ms);
    if (wait == 0 && timeout_ms > 0) {
        wait = 1;
    }
    idf_msg_t *msg = NULL;
    if (xQueueReceive(s_queue, &msg, wait) != pdTRUE) {
        return ESP_OK;
    }
    /* Drain a bounded batch so the core's own timers (now_ms based) keep running. */
    int n = 0;
    do {
        size_t charged = msg->charged;
        msg->run(msg);
        free(msg);
        budget_release(charged);
    } while (++n < 32 && xQueueReceive(s_queue, &msg, 0) == pdTRUE);
    return ESP_OK;
}

uint64_t teddy_port_now_ms(void)
{
    /* esp_timer counts microseconds since boot and never goes back (SPEC §8.1 uptime). */
    return (uint64_t)(esp_timer_get_time() / 1000);
}

void teddy_port_random(void *buf, size_t len)
{
    /* Hardware RNG; with Wi-Fi (or the bootloader's entropy source) running it is a
     * CSPRNG (SPEC §2.3 nonce). */
    esp_fill_random(buf, len);
}

void teddy_port_restart(const char *reset_reason)
{
    fflush(stdout);
    if (idf_ota_invalid_pending()) {
        /* SPEC §5.5 self_test_failed: the running image gave up; the bootloader must
         * start the previous slot. Never returns when rollback is possible. */
        idf_ota_reboot_invalid();
    }
    const char *panic = TEDDY_RESET_REASON_NAMES[TEDDY_RESET_PANIC];
    if (reset_reason != NULL && strcmp(reset_reason, panic) == 0) {
        abort(); /* a real panic: the next boot reports reset_reason "panic" */
    }
    esp_restart(); /* next boot reports "sw" */
}

bool teddy_port_restart_pending(void)
{
    return false; /* esp_restart() never returns */
}
