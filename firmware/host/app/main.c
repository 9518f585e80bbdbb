/*
 * teddy-fw-host - the Teddy firmware (teddy_core + port_linux) as a Linux program.
 *
 * The same device core that runs on the ESP32, driven through teddy_port.h by the host
 * port: flash and NVS in a directory, WAV files as microphone and speaker, the console
 * on stdio or TCP. Flags follow `teddy-emulator` so the hil `firmware-host` target and
 * a person can drive it the same way:
 *
 *   teddy-fw-host --server http://127.0.0.1:8000 --flash ./flash --console stdio
 *
 * One process is one board: a software reset (console `reboot`, OTA, self-test) boots
 * again in-process (uptime restarts at 0), a power cut is killing the process, and the
 * next start boots from the same flash directory (--reset-reason says why).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teddy_device.h"
#include "teddy_port.h"
#include "teddy_port_linux.h"

typedef struct {
    teddy_port_linux_options_t port;
    teddy_build_t build;
    teddy_timing_t timing;
    uint32_t seed;
} config_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: teddy-fw-host --server URL --flash DIR [options]\n"
            "  --audio DIR             WAV in/out (default <flash>/audio)\n"
            "  --console stdio|tcp:PORT  (default stdio; tcp:0 = any free port)\n"
            "  --device-id ID          (default Teddy-ESP32-0001)\n"
            "  --child-id ID --child-name NAME --child-age N --volume N\n"
            "  --oob-secret HEX        64 hex chars (default: the seed derivation, SPEC 2.1)\n"
            "  --firmware-version V    factory image version on a blank flash (1.0.0)\n"
            "  --chip NAME             esp32 (default), esp32s3, ...\n"
            "  --secure-version N      factory image secure_version (0)\n"
            "  --pacing fast|realtime  audio pacing (default realtime)\n"
            "  --timing fast|real      retry/backoff timing (default real)\n"
            "  --timing-set NAME=MS    override one DeviceTiming field (repeatable)\n"
            "  --seed N                jitter seed (claim nonces always use the OS CSPRNG)\n"
            "  --microphone SPEC       `button` source: phrase:<text>, clip:<name>, silence\n"
            "  --reset-reason R        reset reason of the first boot (poweron)\n"
            "  --wifi-join-ms N        simulated Wi-Fi association time (0)\n");
}

static bool parse_int(const char *text, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

static int timing_override(config_t *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char name[64];
    if (eq == NULL || (size_t)(eq - arg) >= sizeof(name)) {
        fprintf(stderr, "teddy-fw-host: --timing-set wants NAME=VALUE, got %s\n", arg);
        return 2;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
    char *end = NULL;
    double value = strtod(eq + 1, &end);
    if (end == eq + 1 || *end != '\0') {
        fprintf(stderr, "teddy-fw-host: --timing-set %s: not a number\n", name);
        return 2;
    }
    if (strcmp(name, "wifi_join_ms") == 0) {
        c->port.wifi_join_ms = (uint32_t)value;
    } else if (strcmp(name, "http_timeout_ms") == 0) {
        c->port.http_timeout_ms = (uint32_t)value;
    }
    if (teddy_timing_set(&c->timing, name, value) != ESP_OK) {
        fprintf(stderr, "teddy-fw-host: --timing-set: unknown or bad field %s\n", name);
        return 2;
    }
    return 0;
}

static int parse_args(int argc, char **argv, config_t *c)
{
    enum { O_AUDIO = 256, O_CONSOLE, O_DEVICE, O_CHILD_ID, O_CHILD_NAME, O_CHILD_AGE, O_VOLUME,
           O_OOB, O_FW, O_CHIP, O_SECURE, O_PACING, O_TIMING, O_TIMING_SET, O_SEED, O_MIC,
           O_RESET, O_WIFI, O_HELP };
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'}, {"flash", required_argument, NULL, 'f'},
        {"audio", required_argument, NULL, O_AUDIO}, {"console", required_argument, NULL, O_CONSOLE},
        {"device-id", required_argument, NULL, O_DEVICE},
        {"child-id", required_argument, NULL, O_CHILD_ID},
        {"child-name", required_argument, NULL, O_CHILD_NAME},
        {"child-age", required_argument, NULL, O_CHILD_AGE},
        {"volume", required_argument, NULL, O_VOLUME}, {"oob-secret", required_argument, NULL, O_OOB},
        {"firmware-version", required_argument, NULL, O_FW}, {"chip", required_argument, NULL, O_CHIP},
        {"secure-version", required_argument, NULL, O_SECURE},
        {"pacing", required_argument, NULL, O_PACING}, {"timing", required_argument, NULL, O_TIMING},
        {"timing-set", required_argument, NULL, O_TIMING_SET},
        {"seed", required_argument, NULL, O_SEED}, {"microphone", required_argument, NULL, O_MIC},
        {"reset-reason", required_argument, NULL, O_RESET},
        {"wifi-join-ms", required_argument, NULL, O_WIFI}, {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    char *overrides[32];
    int n_overrides = 0, opt;
    long v;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 's': c->build.server_url = optarg; break;
        case 'f': c->port.flash_dir = optarg; break;
        case O_AUDIO: c->port.audio_dir = optarg; break;
        case O_CONSOLE: c->port.console = optarg; break;
        case O_DEVICE: c->build.device_id = optarg; break;
        case O_CHILD_ID: c->build.child_id = optarg; break;
        case O_CHILD_NAME: c->build.child_name = optarg; break;
        case O_OOB: c->build.oob_secret = optarg; break;
        case O_FW: c->port.factory_version = optarg; break;
        case O_CHIP: c->port.chip = c->build.chip = optarg; break;
        case O_MIC: c->port.microphone = optarg; break;
        case O_RESET: c->port.reset_reason = optarg; break;
        case O_PACING:
            if (strcmp(optarg, "fast") != 0 && strcmp(optarg, "realtime") != 0) {
                fprintf(stderr, "teddy-fw-host: --pacing must be fast or realtime\n");
                return 2;
            }
            c->port.realtime_pacing = strcmp(optarg, "realtime") == 0;
            break;
        case O_TIMING:
            if (strcmp(optarg, "fast") == 0) {
                teddy_timing_fast(&c->timing);
            } else if (strcmp(optarg, "real") == 0) {
                teddy_timing_real(&c->timing);
            } else {
                fprintf(stderr, "teddy-fw-host: --timing must be fast or real\n");
                return 2;
            }
            break;
        case O_TIMING_SET:
            if (n_overrides < 32) {
                overrides[n_overrides++] = optarg; /* applied after --timing */
            }
            break;
        case O_CHILD_AGE:
        case O_VOLUME:
        case O_SECURE:
        case O_SEED:
        case O_WIFI:
            if (!parse_int(optarg, opt == O_CHILD_AGE ? -1000000 : 0, 2147483647L, &v)) {
                fprintf(stderr, "teddy-fw-host: bad number %s\n", optarg);
                return 2;
            }
            if (opt == O_CHILD_AGE) c->build.child_age = (int)v;
            if (opt == O_VOLUME) c->build.volume = (int)v;
            if (opt == O_SECURE) c->port.factory_secure_version = (uint32_t)v;
            if (opt == O_SEED) c->seed = (uint32_t)v;
            if (opt == O_WIFI) c->port.wifi_join_ms = (uint32_t)v;
            break;
        case O_HELP: usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || c->build.server_url == NULL || c->port.flash_dir == NULL) {
        fprintf(stderr, "teddy-fw-host: --server and --flash are required\n");
        usage(stderr);
        return 2;
    }
    c->port.http_timeout_ms = c->timing.http_timeout_ms;
    for (int i = 0; i < n_overrides; i++) {
        int rc = timing_override(c, overrides[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static config_t c;
    teddy_port_linux_default_options(&c.port);
    c.port.flash_dir = NULL;
    c.port.realtime_pacing = true;
    c.build = (teddy_build_t){.device_id = "Teddy-ESP32-0001", .chip = "esp32",
                              .child_id = "child-001", .child_name = "Mia", .child_age = 7,
                              .volume = 70};
    teddy_timing_real(&c.timing);
    int rc = parse_args(argc, argv, &c);
    if (rc != 0) {
        return rc == 1 ? 0 : rc;
    }
    if (teddy_port_linux_open(&c.port) != ESP_OK) {
        return 1;
    }
    rc = 0;
    /* One iteration per boot: a software reset returns here and boots again. */
    while (!teddy_port_linux_exit_requested()) {
        esp_err_t err = teddy_port_init();
        if (err != ESP_OK) {
            fprintf(stderr, "teddy-fw-host: boot failed: %s\n", esp_err_to_name(err));
            teddy_port_deinit();
            rc = 1;
            break;
        }
        err = teddy_app_run(&c.build, &c.timing, c.seed);
        bool again = teddy_port_restart_pending();
        teddy_port_deinit();
        if (!again) {
            break;
        }
    }
    teddy_port_linux_close();
    return rc;
}
