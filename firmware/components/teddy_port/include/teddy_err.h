/*
 * teddy_err.h - the esp_err_t return codes, on every platform.
 *
 * Under ESP-IDF (ESP_PLATFORM defined) this is esp_err.h itself, so the core and the
 * port use the real codes. On the host (port_linux) the same names and values are
 * defined here, so portable code compiles unchanged and prints the same numbers.
 */
#ifndef TEDDY_ERR_H
#define TEDDY_ERR_H

#ifdef ESP_PLATFORM
#include "esp_err.h"
#else

#include <stdint.h>

typedef int esp_err_t;

/* Values identical to ESP-IDF components/esp_common/include/esp_err.h. */
#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_NO_MEM 0x101
#define ESP_ERR_INVALID_ARG 0x102
#define ESP_ERR_INVALID_STATE 0x103
#define ESP_ERR_INVALID_SIZE 0x104
#define ESP_ERR_NOT_FOUND 0x105
#define ESP_ERR_NOT_SUPPORTED 0x106
#define ESP_ERR_TIMEOUT 0x107
#define ESP_ERR_INVALID_RESPONSE 0x108
#define ESP_ERR_INVALID_CRC 0x109
#define ESP_ERR_INVALID_VERSION 0x10A

/* Short name of a code ("ESP_ERR_NO_MEM"), like esp_err_to_name(). */
static inline const char *esp_err_to_name(esp_err_t code)
{
    switch (code) {
    case ESP_OK: return "ESP_OK";
    case ESP_FAIL: return "ESP_FAIL";
    case ESP_ERR_NO_MEM: return "ESP_ERR_NO_MEM";
    case ESP_ERR_INVALID_ARG: return "ESP_ERR_INVALID_ARG";
    case ESP_ERR_INVALID_STATE: return "ESP_ERR_INVALID_STATE";
    case ESP_ERR_INVALID_SIZE: return "ESP_ERR_INVALID_SIZE";
    case ESP_ERR_NOT_FOUND: return "ESP_ERR_NOT_FOUND";
    case ESP_ERR_NOT_SUPPORTED: return "ESP_ERR_NOT_SUPPORTED";
    case ESP_ERR_TIMEOUT: return "ESP_ERR_TIMEOUT";
    case ESP_ERR_INVALID_RESPONSE: return "ESP_ERR_INVALID_RESPONSE";
    case ESP_ERR_INVALID_CRC: return "ESP_ERR_INVALID_CRC";
    case ESP_ERR_INVALID_VERSION: return "ESP_ERR_INVALID_VERSION";
    default: return "UNKNOWN ERROR";
    }
}

#endif /* ESP_PLATFORM */

#endif /* TEDDY_ERR_H */
