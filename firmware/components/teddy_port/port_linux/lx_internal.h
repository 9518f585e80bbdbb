/*
 * lx_internal.h - shared plumbing of port_linux (private).
 *
 * Driver threads (console reader, libcurl multi loop, libwebsockets service loop,
 * capture workers) never call back into the core: they post a self-contained event
 * (one malloc'd block) to the app thread's queue, and teddy_port_poll() runs its
 * dispatch function there, which then frees the block. That is the threading rule of
 * teddy_port.h, and the same shape port_idf has with FreeRTOS queues.
 */
#ifndef LX_INTERNAL_H
#define LX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teddy_port.h"
#include "teddy_port_linux.h"

/* Runs on the app thread inside teddy_port_poll(); the queue frees `payload` after. */
typedef void (*lx_dispatch_fn)(void *payload);

/* Thread-safe: queue `payload` (malloc'd, owned by the queue from now on). */
void lx_post(lx_dispatch_fn fn, void *payload);
/* Wake teddy_port_poll() without an event. */
void lx_wake(void);

/* Options of this process (valid after teddy_port_linux_open). */
const teddy_port_linux_options_t *lx_opts(void);
/* Incremented at every teddy_port_init: late posts of an old boot are dropped. */
unsigned lx_boot_gen(void);
/* Correlation ids: never 0, never reused within the process. */
uint32_t lx_new_id(void);
/* Monotonic milliseconds of the host clock (CLOCK_MONOTONIC). */
uint64_t lx_mono_ms(void);
/* The running image's TEDDY-BEHAVIOUR marker broke its network stack (test hook). */
bool lx_network_broken(void);
/* Simulated Wi-Fi association. */
bool lx_wifi_online(void);
/* "<dir>/<name>" into buf; false when it does not fit. */
bool lx_path(char *buf, size_t size, const char *dir, const char *name);
/* Whole-file helpers: read (malloc'd, NUL-terminated) / atomic replace. */
char *lx_read_file(const char *path, size_t *len);
esp_err_t lx_write_file_atomic(const char *path, const void *data, size_t len);

/* Subsystems: console is per process; the rest per boot. */
esp_err_t lx_console_open(const char *spec);
void lx_console_close(void);
esp_err_t lx_flash_boot(const char *reset_reason, teddy_port_boot_info_t *info);
esp_err_t lx_http_init(void);
void lx_http_deinit(void);
/* Fail every request at once (Wi-Fi went down); callbacks report FAILED. */
void lx_http_abort_all(void);
esp_err_t lx_ws_init(void);
/* flush: let queued frames and close frames go out (software reset, not power cut). */
void lx_ws_deinit(bool flush);
/* Drop every connection without a close frame (Wi-Fi went down): CLOSED 1006. */
void lx_ws_drop_all(void);
void lx_audio_deinit(void);
void lx_capture_deinit(void);
/* The audio directory (option, else <flash>/audio, created). */
const char *lx_audio_dir(char *buf, size_t size);
void lx_wifi_deinit(void);
void lx_exit_request(void);
void lx_nvs_reload(void);

/* Audio helpers (lx_wav.c). */
esp_err_t lx_wav_load(const char *path, int16_t **pcm, size_t *samples);
esp_err_t lx_wav_parse(const uint8_t *data, size_t len, int16_t **pcm, size_t *samples,
                       uint32_t *rate);
esp_err_t lx_resample_to_16k(const int16_t *in, size_t n, uint32_t rate, int16_t **out,
                             size_t *out_n);
/* Append PCM to a mono 16-bit WAV whose header says `rate` (created afresh when `create`);
 * the header is rewritten after every append, so the file is always a valid WAV. */
esp_err_t lx_wav_append(const char *path, bool create, const uint8_t *pcm, size_t len,
                        uint32_t rate);
esp_err_t lx_espeak(const char *text, int16_t **pcm, size_t *samples);

#endif /* LX_INTERNAL_H */
