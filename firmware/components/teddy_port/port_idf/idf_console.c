/*
 * idf_console.c - SPEC §8 event lines out, SPEC §9 command lines in, on the ESP-IDF
 * console channel (UART0 on the ESP32 DevKit, or the ESP32-S3's USB-Serial-JTAG when
 * CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG is selected).
 *
 * Output: one fwrite() of "<line>\n" on stdout, under stdout's own newlib lock, which
 * ESP_LOGx also takes per message; so an event line is never split by a log line and
 * starts at column 0 (SPEC §8.1). Input: the console driver is installed and the VFS
 * is switched to it (as esp_console's REPL does), and a reader task splits the bytes on
 * CR or LF (idf.py monitor sends CR LF, other terminals CR only); empty lines are
 * dropped, since SPEC §9 prints nothing for them anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"

#if CONFIG_ESP_CONSOLE_UART
#include "driver/uart.h"
#include "driver/uart_vfs.h"
#elif CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG
#include "driver/usb_serial_jtag.h"
#include "driver/usb_serial_jtag_vfs.h"
#endif

#include "idf_internal.h"

static const char *TAG = "teddy_console";

/* `text <message>` carries up to 1000 characters (SPEC §6.3), 3 bytes each in UTF-8. */
#define LINE_MAX_BYTES 3072

typedef struct {
    idf_msg_t base;
    char line[]; /* NUL-terminated */
} line_msg_t;

static teddy_port_line_cb_t s_cb;
static void *s_cb_arg;

void teddy_port_console_write(const char *line)
{
    size_t n = strlen(line);
    char stack_buf[256];
    char *buf = n + 2 <= sizeof(stack_buf) ? stack_buf : malloc(n + 2);
    if (buf == NULL) {
        return;
    }
    memcpy(buf, line, n);
    buf[n] = '\n';
    fwrite(buf, 1, n + 1, stdout); /* one write: never interleaved (SPEC §8.1) */
    fflush(stdout);
    if (buf != stack_buf) {
        free(buf);
    }
}

void teddy_port_console_set_callback(teddy_port_line_cb_t cb, void *arg)
{
    s_cb = cb;
    s_cb_arg = arg;
}

static void run_line(idf_msg_t *msg)
{
    line_msg_t *m = (line_msg_t *)msg;
    if (s_cb != NULL) {
        s_cb(m->line, s_cb_arg);
    }
}

static void post_line(const char *line, size_t len)
{
    line_msg_t *m = idf_msg_alloc(sizeof(*m) + len + 1, run_line);
    if (m == NULL) {
        return;
    }
    memcpy(m->line, line, len);
    m->line[len] = '\0';
    (void)idf_post(&m->base);
}

static int read_bytes(uint8_t *buf, size_t size)
{
#if CONFIG_ESP_CONSOLE_UART
    return uart_read_bytes(CONFIG_ESP_CONSOLE_UART_NUM, buf, size, pdMS_TO_TICKS(100));
#elif CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG
    return usb_serial_jtag_read_bytes(buf, size, pdMS_TO_TICKS(100));
#else
    (void)buf;
    (void)size;
    vTaskDelay(portMAX_DELAY); /* no console input channel configured */
    return 0;
#endif
}

static void console_task(void *arg)
{
    (void)arg;
    char *line = malloc(LINE_MAX_BYTES + 1);
    uint8_t chunk[64];
    size_t len = 0;
    bool overflow = false;
    if (line == NULL) {
        vTaskDelete(NULL);
        return;
    }
    for (;;) {
        int got = read_bytes(chunk, sizeof(chunk));
        for (int i = 0; i < got; i++) {
            char c = (char)chunk[i];
            if (c == '\r' || c == '\n') {
                if (overflow) {
                    ESP_LOGW(TAG, "console line over %d bytes dropped", LINE_MAX_BYTES);
                } else if (len > 0) {
                    post_line(line, len);
                }
                len = 0;
                overflow = false;
            } else if (len < LINE_MAX_BYTES) {
                line[len++] = c;
            } else {
                overflow = true;
            }
        }
    }
}

esp_err_t idf_console_init(void)
{
    esp_err_t err = ESP_OK;
#if CONFIG_ESP_CONSOLE_UART
    if (!uart_is_driver_installed(CONFIG_ESP_CONSOLE_UART_NUM)) {
        err = uart_driver_install(CONFIG_ESP_CONSOLE_UART_NUM, 2 * 1024, 0, 0, NULL, 0);
    }
    if (err == ESP_OK) {
        uart_vfs_dev_use_driver(CONFIG_ESP_CONSOLE_UART_NUM);
    }
#elif CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG
    usb_serial_jtag_driver_config_t cfg = USB_SERIAL_JTAG_DRIVER_CONFIG_DEFAULT();
    cfg.rx_buffer_size = 1024;
    err = usb_serial_jtag_driver_install(&cfg);
    if (err == ESP_OK) {
        usb_serial_jtag_vfs_use_driver();
    }
#else
    ESP_LOGW(TAG, "no UART/USB-Serial-JTAG console: commands (SPEC §9) unavailable");
#endif
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "console driver: %s", esp_err_to_name(err));
        return err;
    }
    if (xTaskCreate(console_task, "teddy_console", 3072, NULL, 5, NULL) != pdPASS) {
        return ESP_ERR_NO_MEM;
    }
    return ESP_OK;
}
