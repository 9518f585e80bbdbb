/*
 * fuzz_console.c - libFuzzer harness for the console grammar (SPEC §9).
 * Invariant (protocol.console): parse(format(cmd)) == cmd for every accepted line.
 */
#include <stdlib.h>
#include <string.h>

#include "teddy_console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static teddy_cmd_t cmd, again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line) {
        return 0;
    }
    memcpy(line, data, size);
    line[size] = '\0'; /* console lines are C strings */
    teddy_cmd_err_t reason;
    char msg[256];
    if (teddy_console_parse(line, &cmd, &reason, msg, sizeof(msg)) == ESP_OK) {
        char canon[3 * TEDDY_CONSOLE_LINE_MAX + 16];
        if (teddy_console_format(&cmd, canon, sizeof(canon)) != ESP_OK) {
            abort();
        }
        /* Quoting can lengthen a line past the device's line limit: only then may the
         * canonical form be refused. */
        if (strlen(canon) <= TEDDY_CONSOLE_LINE_MAX &&
            (teddy_console_parse(canon, &again, &reason, NULL, 0) != ESP_OK ||
            again.id != cmd.id || again.argc != cmd.argc || again.has_phrase != cmd.has_phrase ||
            (cmd.has_phrase && strcmp(again.phrase, cmd.phrase) != 0) ||
            (cmd.argc > 0 && strcmp(again.args[0], cmd.args[0]) != 0) ||
            (cmd.argc > 1 && strcmp(again.args[1], cmd.args[1]) != 0))) {
            abort();
        }
    } else if (reason == TEDDY_CMD_ERR_NONE) {
        abort();
    }
    free(line);
    return 0;
}
