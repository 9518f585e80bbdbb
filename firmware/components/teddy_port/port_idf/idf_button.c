/*
 * idf_button.c - the push-to-talk button (GPIO0, the DevKit's BOOT button) and the
 * optional status LED.
 *
 * The button pulls the pin to GND (internal pull-up, active low). Any edge raises a GPIO
 * interrupt that only wakes a task (vTaskNotifyGiveFromISR); the task debounces by
 * re-reading the level 30 ms later and reports a press or release when the stable level
 * differs from the last one reported. The core then does what the console's
 * `button press|release` does (SPEC §9.2): audio_start, microphone chunks, is_final.
 *
 * GPIO0 is a strapping pin: holding the button while resetting enters the ROM download
 * mode, which is why the firmware only reads it after boot.
 *
 * LED (CONFIG_TEDDY_STATUS_LED_GPIO, -1 = none): lit while the microphone listens.
 */
#include "driver/gpio.h"
#include "esp_attr.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"

#include "idf_internal.h"

static const char *TAG = "teddy_button";

#define DEBOUNCE_MS 30

typedef struct {
    idf_msg_t base;
    bool pressed;
} button_msg_t;

static TaskHandle_t s_task;
static teddy_port_button_cb_t s_cb;
static void *s_cb_arg;

void teddy_port_button_set_callback(teddy_port_button_cb_t cb, void *arg)
{
    s_cb = cb;
    s_cb_arg = arg;
}

static void run_button(idf_msg_t *msg)
{
    button_msg_t *m = (button_msg_t *)msg;
    if (s_cb != NULL) {
        s_cb(m->pressed, s_cb_arg);
    }
}

static void IRAM_ATTR button_isr(void *arg)
{
    (void)arg;
    BaseType_t woken = pdFALSE;
    vTaskNotifyGiveFromISR(s_task, &woken);
    portYIELD_FROM_ISR(woken);
}

static void button_task(void *arg)
{
    (void)arg;
    const gpio_num_t pin = (gpio_num_t)CONFIG_TEDDY_BUTTON_GPIO;
    bool reported = gpio_get_level(pin) == 0; /* pressed = low */
    for (;;) {
        ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
        vTaskDelay(pdMS_TO_TICKS(DEBOUNCE_MS));
        ulTaskNotifyTake(pdTRUE, 0); /* edges of the bounce itself */
        bool pressed = gpio_get_level(pin) == 0;
        if (pressed == reported) {
            continue;
        }
        reported = pressed;
        button_msg_t *m = idf_msg_alloc(sizeof(*m), run_button);
        if (m != NULL) {
            m->pressed = pressed;
            (void)idf_post(&m->base);
        }
    }
}

void idf_led_set(bool on)
{
#if CONFIG_TEDDY_STATUS_LED_GPIO >= 0
    gpio_set_level((gpio_num_t)CONFIG_TEDDY_STATUS_LED_GPIO, on ? 1 : 0);
#else
    (void)on;
#endif
}

static esp_err_t init_led(void)
{
#if CONFIG_TEDDY_STATUS_LED_GPIO >= 0
    const gpio_config_t led = {
        .pin_bit_mask = 1ULL << CONFIG_TEDDY_STATUS_LED_GPIO,
        .mode = GPIO_MODE_OUTPUT,
        .pull_up_en = GPIO_PULLUP_DISABLE,
        .pull_down_en = GPIO_PULLDOWN_DISABLE,
        .intr_type = GPIO_INTR_DISABLE,
    };
    esp_err_t err = gpio_config(&led);
    idf_led_set(false);
    return err;
#else
    return ESP_OK;
#endif
}

esp_err_t idf_button_init(void)
{
    esp_err_t err = init_led();
    if (err != ESP_OK) {
        ESP_LOGW(TAG, "status LED: %s", esp_err_to_name(err));
    }
    const int pin = CONFIG_TEDDY_BUTTON_GPIO;
    if (pin < 0) {
        return ESP_ERR_NOT_SUPPORTED; /* no button fitted: the console still works */
    }
    const gpio_config_t btn = {
        .pin_bit_mask = 1ULL << (pin & 63), /* pin >= 0 here; the mask keeps -Werror quiet */
        .mode = GPIO_MODE_INPUT,
        .pull_up_en = GPIO_PULLUP_ENABLE,
        .pull_down_en = GPIO_PULLDOWN_DISABLE,
        .intr_type = GPIO_INTR_ANYEDGE,
    };
    err = gpio_config(&btn);
    if (err != ESP_OK) {
        return err;
    }
    if (xTaskCreate(button_task, "teddy_button", 2560, NULL, 6, &s_task) != pdPASS) {
        return ESP_ERR_NO_MEM;
    }
    err = gpio_install_isr_service(0);
    if (err != ESP_OK && err != ESP_ERR_INVALID_STATE) { /* already installed is fine */
        return err;
    }
    return gpio_isr_handler_add((gpio_num_t)pin, button_isr, NULL);
}
