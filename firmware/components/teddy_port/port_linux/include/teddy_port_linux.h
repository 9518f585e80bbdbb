/*
 * teddy_port_linux.h - options of the host port (port_linux), set before teddy_port_init.
 *
 * The host "board": flash is a directory laid out like the Python emulator's
 * (emulator/README.md: nvs.json, otadata.json, efuse.json, ota_0.bin, ota_1.bin), the
 * microphone and speaker are WAV files in the audio directory, the console is stdio or
 * a TCP socket, Wi-Fi is simulated (the host's own network is used), SNTP is the host
 * clock. Process lifetime vs boot lifetime: teddy_port_linux_open() starts the console
 * once per process; teddy_port_init()/teddy_port_deinit() run once per boot.
 */
#ifndef TEDDY_PORT_LINUX_H
#define TEDDY_PORT_LINUX_H

#include <stdbool.h>
#include <stdint.h>

#include "teddy_err.h"
#include "teddy_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *flash_dir;         /* created when missing */
    const char *audio_dir;         /* WAV in/out; created when missing */
    const char *console;           /* "stdio" or "tcp:PORT" (0 = any free port) */
    /* Factory image written to a blank flash (like the emulator's bootloader). */
    const char *factory_version;   /* "1.0.0" */
    const char *chip;              /* "esp32" */
    uint32_t factory_secure_version;
    const char *reset_reason;      /* reason of the first boot of this process: "poweron" */
    bool realtime_pacing;          /* captures/playback at real time (else as fast as read) */
    const char *microphone;        /* `button press` source: "phrase:<text>", "clip:<name>",
                                      "silence" */
    uint32_t http_timeout_ms;      /* per request */
    uint32_t wifi_join_ms;         /* simulated association time */
} teddy_port_linux_options_t;

/* Defaults: the device model's (console stdio, factory 1.0.0 esp32, poweron, fast
 * pacing and the fast profile's HTTP timeout and Wi-Fi join time). */
void teddy_port_linux_default_options(teddy_port_linux_options_t *opts);

/* Process-level start: copy the options, open the console (prints "console: ..." on
 * stdout for tcp). Call once before the first teddy_port_init(). */
esp_err_t teddy_port_linux_open(const teddy_port_linux_options_t *opts);

/* Process-level stop (after the last teddy_port_deinit()). */
void teddy_port_linux_close(void);

/* True when the process should exit (console EOF, SIGINT/SIGTERM). */
bool teddy_port_linux_exit_requested(void);

#ifdef __cplusplus
}
#endif

#endif /* TEDDY_PORT_LINUX_H */
