/*
 * idf_internal.h - shared plumbing of port_idf (private to the teddy_port component).
 *
 * The threading rule of teddy_port.h: the core runs on one "app thread" that calls
 * teddy_port_poll(); every callback reaches the core from there. ESP-IDF drivers run
 * their own tasks (Wi-Fi/event loop, esp_http_client workers, the esp_websocket_client
 * task, I2S readers, the console reader), so they never call the core: they post a
 * self-contained message (one malloc'd block that starts with idf_msg_t) to one FreeRTOS
 * queue, and teddy_port_poll() runs msg->run() on the app thread and frees the block.
 *
 * Bulky messages (HTTP body bytes, WebSocket frames, microphone PCM) are charged against
 * a byte budget: a producer waits while too many bytes are queued, which turns a slow
 * app thread into TCP back-pressure (SPEC §7.3: "TCP flow control paces them to the
 * device's reading speed") instead of exhausting the ESP32's ~200 KiB of free heap.
 */
#ifndef IDF_INTERNAL_H
#define IDF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"
#include "esp_partition.h"
#include "freertos/FreeRTOS.h"
#include "teddy_port.h"

#if !defined(ESP_PLATFORM)
#error "port_idf is the ESP-IDF port; the host build uses port_linux"
#endif

#include "esp_idf_version.h"
#if ESP_IDF_VERSION < ESP_IDF_VERSION_VAL(5, 3, 0)
/* esp_driver_i2s/esp_driver_uart and driver/uart_vfs.h appeared in v5.3. */
#error "port_idf needs ESP-IDF v5.3 or newer"
#endif

/* Bytes of bulky payload allowed in the app queue at once (about 3 reply frames). */
#define IDF_BUDGET_BYTES (24 * 1024)
/* Messages the app queue holds (control messages are tiny). */
#define IDF_QUEUE_LEN 64

typedef struct idf_msg idf_msg_t;
/* Runs on the app thread inside teddy_port_poll(); the block is freed afterwards. */
typedef void (*idf_msg_fn_t)(idf_msg_t *msg);

struct idf_msg {
    idf_msg_fn_t run;
    size_t charged; /* budget bytes released after run (set by idf_post_bulk) */
};

/* Allocate a message block of `size` bytes (>= sizeof(idf_msg_t)), zeroed, with run set. */
void *idf_msg_alloc(size_t size, idf_msg_fn_t run);

/* Any task: queue msg (ownership passes to the queue). Waits at most 1 s for a free
 * slot, then drops the message with an error log (never from an ISR). */
esp_err_t idf_post(idf_msg_t *msg);

/* Any task except the app thread: queue a bulky msg of `bytes` payload, waiting while
 * the budget is spent. Gives up (frees msg, ESP_ERR_TIMEOUT) as soon as *abandon turns
 * true, so a producer whose request was cancelled never blocks forever. */
esp_err_t idf_post_bulk(idf_msg_t *msg, size_t bytes, const volatile bool *abandon);

/* Correlation ids: never 0, never reused within a boot (teddy_port.h). */
uint32_t idf_new_id(void);

/* Bounded string copy that always terminates (dst_size > 0). */
void idf_strlcpy(char *dst, const char *src, size_t dst_size);

/* Subsystems, brought up by teddy_port_init() in this order. */
esp_err_t idf_boot_init(void);
esp_err_t idf_nvs_init(void);
esp_err_t idf_console_init(void);
esp_err_t idf_wifi_init(void);
esp_err_t idf_http_init(void);
esp_err_t idf_ws_init(void);
esp_err_t idf_speaker_init(void);
esp_err_t idf_mic_init(void);
esp_err_t idf_button_init(void);

/* Wi-Fi went down: fail every HTTP request and drop every WebSocket (CLOSED 1006), as
 * a lost access point would, before the core hears wifi down (mirrors port_linux). */
void idf_http_abort_all(void);
void idf_ws_drop_all(void);

/* Status LED (CONFIG_TEDDY_STATUS_LED_GPIO, -1 = none): lit while the mic listens. */
void idf_led_set(bool on);

/* The partition of app slot 0/1 (ota_0/ota_1), NULL when absent. */
const esp_partition_t *idf_slot_partition(int slot);
/* The soft anti-rollback counter was raised (teddy_port_ota_mark_valid). */
void idf_boot_set_efuse_secure_version(uint32_t value);
/* A new image was set to boot: any later rollback must be reported again. */
void idf_boot_forget_rollback_ack(void);

/* The image marked itself invalid (teddy_port_ota_mark_invalid): the next
 * teddy_port_restart() must go through esp_ota_mark_app_invalid_rollback_and_reboot. */
bool idf_ota_invalid_pending(void);
void idf_ota_reboot_invalid(void);

/* NVS namespace of the port's own bookkeeping (rollback report, soft anti-rollback). */
#define IDF_PORT_NS "teddy_port"

#endif /* IDF_INTERNAL_H */
