/*
 * teddy-fw-host - the Teddy firmware (teddy_core + port_linux) as a Linux program.
 *
 * The same device core that runs on the ESP32, driven through teddy_port.h by the host
 * port: flash and NVS in a directory, WAV files as microphone and speaker, the console
 * on stdio or TCP. Its flags, their help, limits and defaults are the device model's
 * `settings:` and `host_options:` (TEDDY_SETTINGS, TEDDY_HOST_OPTIONS in teddy_model.h),
 * the same tables `teddy-emulator` builds its command line from, so the hil
 * `firmware-host` target and a person drive both the same way:
 *
 *   teddy-fw-host --server http://127.0.0.1:8000 --flash ./flash --console stdio
 *
 * One process is one board: a software reset (console `reboot`, OTA, self-test) boots
 * again in-process (uptime restarts at 0), a power cut is killing the process, and the
 * next start boots from the same flash directory (--reset-reason says why).
 */
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teddy_console.h"
#include "teddy_device.h"
#include "teddy_port.h"
#include "teddy_port_linux.h"

#define MAX_TIMING_SETS 32
#define SETTING_BASE 256 /* getopt values: SETTING_BASE + setting, OPTION_BASE + option */
#define OPTION_BASE 512
#define HELP_VALUE 1024

typedef struct {
    teddy_port_linux_options_t port;
    teddy_build_t build;
    teddy_timing_t timing;
    uint32_t seed;
    const char *timing_sets[MAX_TIMING_SETS];
    int n_timing_sets;
    const char *quirk_args[TEDDY_QUIRK_COUNT * 2];
    int n_quirk_args;
} config_t;

static bool on_fw_host(const teddy_option_spec_t *spec)
{
    return (spec->hosts & TEDDY_HOST_FW_HOST) != 0;
}

static void usage_line(FILE *out, const teddy_option_spec_t *spec)
{
    char flag[96], choices[64] = "";
    for (const char *const *c = spec->choices; c != NULL && *c != NULL; c++) {
        size_t used = strlen(choices);
        snprintf(choices + used, sizeof(choices) - used, "%s%s", used ? "|" : "", *c);
    }
    bool number = spec->type == TEDDY_OPT_INT || spec->type == TEDDY_OPT_OPTIONAL_INT;
    const char *metavar = spec->metavar != NULL ? spec->metavar
                          : choices[0] != '\0'   ? choices
                          : number              ? "N"
                                                : "VALUE";
    snprintf(flag, sizeof(flag), "%s %s", spec->flag, metavar);
    fprintf(out, "  %-26s %s", flag, spec->help);
    if (spec->cli_default != NULL) {
        fprintf(out, " (default %s)", spec->cli_default);
    }
    fputc('\n', out);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: teddy-fw-host --server URL --flash DIR [options]\n");
    for (int i = 0; i < TEDDY_HOST_OPT_COUNT; i++) {
        if (on_fw_host(&TEDDY_HOST_OPTIONS[i])) {
            usage_line(out, &TEDDY_HOST_OPTIONS[i]);
        }
    }
    for (int i = 0; i < TEDDY_SETTING_COUNT; i++) {
        if (on_fw_host(&TEDDY_SETTINGS[i])) {
            usage_line(out, &TEDDY_SETTINGS[i]);
        }
    }
}

/* NULL when `text` is a valid value of `spec` (type, limits, pattern, choices), else why
 * not (a pattern: the value must match it). */
static const char *invalid(const teddy_option_spec_t *spec, const char *text, long long *num)
{
    if (spec->type == TEDDY_OPT_INT || spec->type == TEDDY_OPT_OPTIONAL_INT) {
        char *end = NULL;
        long long v = strtoll(text, &end, 10);
        if (end == text || *end != '\0') {
            return "not a whole number";
        }
        if ((spec->has_min && v < spec->min) || (spec->has_max && v > spec->max)) {
            return "out of range";
        }
        *num = v;
        return NULL;
    }
    if (spec->pattern != NULL) { /* POSIX ERE, the whole value (as Python's re.fullmatch) */
        char whole[160];
        regex_t re;
        snprintf(whole, sizeof(whole), "^(%s)$", spec->pattern);
        if (regcomp(&re, whole, REG_EXTENDED | REG_NOSUB) != 0) {
            return "the model's pattern does not compile";
        }
        bool match = regexec(&re, text, 0, NULL, 0) == 0;
        regfree(&re);
        if (!match) {
            return spec->pattern;
        }
    }
    if (spec->choices != NULL) {
        for (const char *const *c = spec->choices; *c != NULL; c++) {
            if (strcmp(*c, text) == 0) {
                return NULL;
            }
        }
        return "not one of the choices";
    }
    return NULL;
}

static void apply_setting(config_t *c, teddy_setting_t id, const char *v, long long n)
{
    switch (id) {
    case TEDDY_SETTING_DEVICE_ID: c->build.device_id = v; break;
    case TEDDY_SETTING_CHILD_ID: c->build.child_id = v; break;
    case TEDDY_SETTING_CHILD_NAME: c->build.child_name = v; break;
    case TEDDY_SETTING_CHILD_AGE:
        c->build.has_child_age = true; /* given: wins over the claim's (SPEC §9.2) */
        c->build.child_age = (int)n;
        break;
    case TEDDY_SETTING_VOLUME: c->build.volume = (int)n; break;
    case TEDDY_SETTING_OOB_SECRET: c->build.oob_secret = v; break;
    case TEDDY_SETTING_CHIP: c->port.chip = c->build.chip = v; break;
    case TEDDY_SETTING_FIRMWARE_VERSION: c->port.factory_version = v; break;
    case TEDDY_SETTING_SECURE_VERSION: c->port.factory_secure_version = (uint32_t)n; break;
    case TEDDY_SETTING_PACING: c->port.realtime_pacing = strcmp(v, "realtime") == 0; break;
    case TEDDY_SETTING_SEED: c->seed = (uint32_t)n; break;
    case TEDDY_SETTING_MICROPHONE: c->port.microphone = v; break;
    default: break; /* not a teddy-fw-host setting (speaker: this port writes WAV files) */
    }
}

static void apply_option(config_t *c, teddy_host_option_t id, const char *v, long long n)
{
    switch (id) {
    case TEDDY_HOST_OPT_SERVER: c->build.server_url = v; break;
    case TEDDY_HOST_OPT_FLASH: c->port.flash_dir = v; break;
    case TEDDY_HOST_OPT_AUDIO: c->port.audio_dir = v; break;
    case TEDDY_HOST_OPT_CONSOLE: c->port.console = v; break;
    case TEDDY_HOST_OPT_TIMING:
        if (strcmp(v, "fast") == 0) {
            teddy_timing_fast(&c->timing);
        } else {
            teddy_timing_real(&c->timing);
        }
        break;
    case TEDDY_HOST_OPT_TIMING_SET:
        if (c->n_timing_sets < MAX_TIMING_SETS) {
            c->timing_sets[c->n_timing_sets++] = v; /* applied after --timing */
        }
        break;
    case TEDDY_HOST_OPT_QUIRK:
        if (c->n_quirk_args < TEDDY_QUIRK_COUNT * 2) {
            c->quirk_args[c->n_quirk_args++] = v; /* checked after the other options */
        }
        break;
    case TEDDY_HOST_OPT_RESET_REASON: c->port.reset_reason = v; break;
    case TEDDY_HOST_OPT_WIFI_JOIN_MS: c->port.wifi_join_ms = (uint32_t)n; break;
    default: break;
    }
}

/* 0, or 2 after saying what was wrong with `text` for `spec`. */
static int take(config_t *c, const teddy_option_spec_t *spec, int value, const char *text)
{
    long long n = 0;
    const char *why = invalid(spec, text, &n);
    if (why != NULL) {
        fprintf(stderr, "teddy-fw-host: %s %s: %s%s\n", spec->flag, text,
                why == spec->pattern ? "must match " : "", why);
        return 2;
    }
    if (value >= OPTION_BASE) {
        apply_option(c, (teddy_host_option_t)(value - OPTION_BASE), text, n);
    } else {
        apply_setting(c, (teddy_setting_t)(value - SETTING_BASE), text, n);
    }
    return 0;
}

/* Every setting and option starts at its command-line default (the model's). */
static void defaults(config_t *c)
{
    teddy_port_linux_default_options(&c->port);
    c->port.flash_dir = NULL;
    c->build = (teddy_build_t){0};
    for (int i = 0; i < TEDDY_SETTING_COUNT; i++) {
        if (TEDDY_SETTINGS[i].cli_default != NULL) {
            take(c, &TEDDY_SETTINGS[i], SETTING_BASE + i, TEDDY_SETTINGS[i].cli_default);
        }
    }
    for (int i = 0; i < TEDDY_HOST_OPT_COUNT; i++) {
        if (TEDDY_HOST_OPTIONS[i].cli_default != NULL) {
            take(c, &TEDDY_HOST_OPTIONS[i], OPTION_BASE + i, TEDDY_HOST_OPTIONS[i].cli_default);
        }
    }
}

/* --quirk NAME[=VALUE] (SPEC Appendix C), as protocol.device.parse_quirk checks it. */
static int quirk_override(config_t *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), arg);
    teddy_quirk_t q = teddy_quirk_from_str(name);
    if (q == TEDDY_QUIRK_COUNT || len >= sizeof(name)) {
        fprintf(stderr, "teddy-fw-host: --quirk: unknown quirk '%s'; quirks: %s\n", name,
                TEDDY_QUIRKS_LIST);
        return 2;
    }
    const char *wants = TEDDY_QUIRKS[q].value;
    if (wants == NULL && eq != NULL) {
        fprintf(stderr, "teddy-fw-host: --quirk: quirk %s takes no value, got '%s'\n", name,
                eq + 1);
        return 2;
    }
    if (wants != NULL && (eq == NULL || eq[1] == '\0' || strpbrk(eq + 1, " \t\r\n") != NULL)) {
        fprintf(stderr, "teddy-fw-host: --quirk: quirk %s needs a value: %s=%s (one word)\n",
                name, name, wants);
        return 2;
    }
    long long number = 0;
    if (TEDDY_QUIRKS[q].integer && !teddy_quirk_int(q, eq + 1, &number)) {
        fprintf(stderr,
                "teddy-fw-host: --quirk: quirk on %s: %s must be an integer %lld..%lld, got '%s'\n",
                name, wants, TEDDY_QUIRKS[q].min, TEDDY_QUIRKS[q].max, eq + 1);
        return 2;
    }
    c->build.quirks[q] = eq != NULL ? eq + 1 : "";
    return 0;
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
    if (teddy_timing_set(&c->timing, name, value) != ESP_OK) {
        fprintf(stderr, "teddy-fw-host: --timing-set: unknown or negative field %s\n", name);
        return 2;
    }
    /* Driver fields are the port's options (teddy_timing_t has only the core's). */
    if (strcmp(name, "wifi_join_ms") == 0) {
        c->port.wifi_join_ms = (uint32_t)value;
    } else if (strcmp(name, "http_timeout_ms") == 0) {
        c->port.http_timeout_ms = (uint32_t)value;
    }
    return 0;
}

static int parse_args(int argc, char **argv, config_t *c)
{
    struct option opts[TEDDY_HOST_OPT_COUNT + TEDDY_SETTING_COUNT + 2];
    int n = 0;
    for (int i = 0; i < TEDDY_HOST_OPT_COUNT; i++) {
        if (on_fw_host(&TEDDY_HOST_OPTIONS[i])) {
            opts[n++] = (struct option){TEDDY_HOST_OPTIONS[i].flag + 2, required_argument, NULL,
                                        OPTION_BASE + i};
        }
    }
    for (int i = 0; i < TEDDY_SETTING_COUNT; i++) {
        if (on_fw_host(&TEDDY_SETTINGS[i])) {
            opts[n++] = (struct option){TEDDY_SETTINGS[i].flag + 2, required_argument, NULL,
                                        SETTING_BASE + i};
        }
    }
    opts[n++] = (struct option){"help", no_argument, NULL, HELP_VALUE};
    opts[n] = (struct option){NULL, 0, NULL, 0};
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == HELP_VALUE) {
            usage(stdout);
            return 1;
        }
        if (opt < SETTING_BASE) {
            usage(stderr);
            return 2;
        }
        const teddy_option_spec_t *spec = opt >= OPTION_BASE ? &TEDDY_HOST_OPTIONS[opt - OPTION_BASE]
                                                             : &TEDDY_SETTINGS[opt - SETTING_BASE];
        if (take(c, spec, opt, optarg) != 0) {
            return 2;
        }
    }
    if (optind != argc || c->build.server_url == NULL || c->port.flash_dir == NULL) {
        fprintf(stderr, "teddy-fw-host: --server and --flash are required\n");
        usage(stderr);
        return 2;
    }
    c->port.http_timeout_ms = c->timing.http_timeout_ms;
    for (int i = 0; i < c->n_timing_sets; i++) {
        int rc = timing_override(c, c->timing_sets[i]);
        if (rc != 0) {
            return rc;
        }
    }
    for (int i = 0; i < c->n_quirk_args; i++) {
        int rc = quirk_override(c, c->quirk_args[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static config_t c;
    defaults(&c);
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
