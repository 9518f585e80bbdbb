/*
 * teddy_console.h - serial console command grammar (SPEC §9.1), ported from
 * protocol/console.py; the command table is the device model's (teddy_model.h).
 *
 * One command per line; the first word names the command. `talk` takes a clip
 * name or one quoted phrase (shlex POSIX quoting), `text` takes the rest of the
 * line verbatim, `set` takes a key and a value that may be quoted, `quirk` nothing,
`on NAME [VALUE]` or `off NAME` (SPEC Appendix C; TEDDY_QUIRKS). Refusals carry
 * the SPEC §9 reason that the target prints in `cmd.error{reason}` (SPEC §8).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "teddy_err.h"
#include "teddy_model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEDDY_CONSOLE_LINE_MAX 1024 /* longer lines are refused (bad_argument) */
#define TEDDY_CONSOLE_ARG_MAX TEDDY_CONSOLE_LINE_MAX

/* teddy_cmd_id_t (TEDDY_CMD_TALK, ...) and teddy_cmd_err_t (TEDDY_CMD_ERR_EMPTY, ...)
 * are the device model's (teddy_model.h), as are the argument forms, choices and `set`
 * keys the parser follows (TEDDY_CMDS, TEDDY_SET_KEYS). */

/**
 * A parsed command. `args` are the words after the name: for `text` the whole
 * message, for `set` key and value, for `get` the key, for `quirk` on|off, the
 * name and the value, for button/ota/wifi the choice, for `talk <clip>` the clip. `talk "<phrase>"` sets has_phrase and
 * `phrase` with argc 0, so a one-word phrase stays distinct from a clip name.
 * About 4 KiB: keep it static or on the heap on small stacks.
 */
typedef struct {
    teddy_cmd_id_t id;
    const char *name;   /* static string, e.g. "factory-reset" */
    size_t argc;        /* 0..3 (`quirk on NAME VALUE`) */
    char args[3][TEDDY_CONSOLE_ARG_MAX + 1];
    bool has_phrase;
    char phrase[TEDDY_CONSOLE_ARG_MAX + 1];
} teddy_cmd_t;

/**
 * Parse one console line (trailing "\r\n" ignored). ESP_OK, or ESP_ERR_INVALID_ARG
 * with `*reason` set and a human message (listing valid commands or the usage)
 * in `message` (may be NULL).
 */
esp_err_t teddy_console_parse(const char *line, teddy_cmd_t *out, teddy_cmd_err_t *reason,
                              char *message, size_t message_size);
/** Canonical line for `cmd` (protocol.console.format_command); ESP_ERR_INVALID_SIZE if small. */
esp_err_t teddy_console_format(const teddy_cmd_t *cmd, char *out, size_t out_size);
/** "empty", "unknown_command", ...; "" for NONE. */
const char *teddy_cmd_err_str(teddy_cmd_err_t reason);
/** Command word of an id ("talk", ..., "factory-reset"); NULL when out of range. */
const char *teddy_cmd_name(teddy_cmd_id_t id);
/** "valid commands: talk, text, ..." (the list the error messages end with). */
const char *teddy_console_valid_list(void);
/* The value of an integer quirk (playback_rate, ...: the model's min/max) as both cores'
 * parsers read it (-?[0-9]{1,12} within min..max, protocol.device.quirk_int); false
 * when `text` is not one or the quirk takes none. */
bool teddy_quirk_int(teddy_quirk_t q, const char *text, long long *out);

#ifdef __cplusplus
}
#endif
