/*
 * console_format.c - canonical console lines (protocol.console.format_command):
 * parse(format(cmd)) == cmd, so scenarios and the harness can print any command.
 */
#include <stdio.h>
#include <string.h>

#include "teddy_console_internal.h"
#include "teddy_util.h"

static bool needs_quotes(const char *v)
{
    size_t len = strlen(v);
    uint32_t cp;
    if (!len) {
        return true;
    }
    for (size_t i = 0; i < len;) {
        i += teddy_utf8_next(v + i, len - i, &cp);
        if (teddy_uni_isspace(cp) || cp == '"' || cp == '\'' || cp == '\\' || cp == '#') {
            return true;
        }
    }
    return false;
}

/* Append `"value"` with \" and \\ escapes. */
static bool append_quoted(char *out, size_t size, size_t *pos, const char *v)
{
    if (*pos + 1 >= size) {
        return false;
    }
    out[(*pos)++] = '"';
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') {
            if (*pos + 1 >= size) {
                return false;
            }
            out[(*pos)++] = '\\';
        }
        if (*pos + 1 >= size) {
            return false;
        }
        out[(*pos)++] = *v;
    }
    if (*pos + 1 >= size) {
        return false;
    }
    out[(*pos)++] = '"';
    out[*pos] = '\0';
    return true;
}

esp_err_t teddy_console_format(const teddy_cmd_t *cmd, char *out, size_t out_size)
{
    if (!cmd || !out || out_size == 0 || (unsigned)cmd->id >= TEDDY_CMD_COUNT) {
        return ESP_ERR_INVALID_ARG;
    }
    const char *name = TEDDY_CMDS[cmd->id].name;
    int n = snprintf(out, out_size, "%s", name);
    if (n < 0 || (size_t)n >= out_size) {
        return ESP_ERR_INVALID_SIZE;
    }
    size_t pos = (size_t)n;
    if (cmd->id == TEDDY_CMD_TALK && cmd->has_phrase) {
        out[pos++] = ' ';
        return append_quoted(out, out_size, &pos, cmd->phrase) ? ESP_OK : ESP_ERR_INVALID_SIZE;
    }
    for (size_t i = 0; i < cmd->argc && i < 3; i++) {
        if (pos + 1 >= out_size) {
            return ESP_ERR_INVALID_SIZE;
        }
        out[pos++] = ' ';
        out[pos] = '\0';
        /* the last word of `set KEY VALUE` and `quirk on NAME VALUE` may need quotes */
        bool last = (cmd->id == TEDDY_CMD_SET && cmd->argc == 2 && i == 1) ||
                    (cmd->id == TEDDY_CMD_QUIRK && cmd->argc == 3 && i == 2);
        bool quote = last && needs_quotes(cmd->args[i]);
        if (quote) {
            if (!append_quoted(out, out_size, &pos, cmd->args[i])) {
                return ESP_ERR_INVALID_SIZE;
            }
        } else {
            n = snprintf(out + pos, out_size - pos, "%s", cmd->args[i]);
            if (n < 0 || (size_t)n >= out_size - pos) {
                return ESP_ERR_INVALID_SIZE;
            }
            pos += (size_t)n;
        }
    }
    return ESP_OK;
}
