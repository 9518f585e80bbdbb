/*
 * console.c - the serial console grammar (SPEC §9), ported from
 * protocol/console.py so every target refuses the same lines with the same
 * `cmd.error{reason}` (SPEC §8).
 *
 * Word splitting follows Python exactly: the command word and choice arguments
 * split on Unicode whitespace (str.split), `set`/`get`/quoted `talk` arguments use
 * POSIX shlex rules (quotes, backslash escapes, whitespace " \t\r\n").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teddy_console_internal.h"
#include "teddy_util.h"

const char *const TC_NAMES[TEDDY_CMD_COUNT] = {
    "talk", "text", "button", "ota", "reboot", "set", "get", "status", "wifi", "claim",
    "factory-reset", "help",
};
static const char *const SET_KEYS[] = {"child_age", "child_id", "child_name", "server", "volume"};
#define N_KEYS (sizeof(SET_KEYS) / sizeof(SET_KEYS[0]))
static const char VALID_LIST[] = "valid commands: talk, text, button, ota, reboot, set, get, "
                                 "status, wifi, claim, factory-reset, help";

static const char *const REASONS[] = {
    "", "empty", "unknown_command", "missing_argument", "extra_argument", "bad_argument",
    "unknown_key", "bad_value", "bad_quoting",
};

const char *teddy_cmd_err_str(teddy_cmd_err_t reason)
{
    return (size_t)reason < sizeof(REASONS) / sizeof(REASONS[0]) ? REASONS[reason] : "";
}

const char *teddy_cmd_name(teddy_cmd_id_t id)
{
    return (unsigned)id < TEDDY_CMD_COUNT ? TC_NAMES[id] : NULL;
}

const char *teddy_console_valid_list(void)
{
    return VALID_LIST;
}
typedef struct {
    teddy_cmd_err_t *reason;
    char *message;
    size_t message_size;
} refuse_t;

static esp_err_t refuse(const refuse_t *r, teddy_cmd_err_t reason, const char *msg)
{
    if (r->reason) {
        *r->reason = reason;
    }
    if (r->message && r->message_size) {
        snprintf(r->message, r->message_size, "%s", msg);
    }
    return ESP_ERR_INVALID_ARG;
}

/* --- commands --------------------------------------------------------------------------- */

static bool clip_name(const char *s)
{
    if (!teddy_isalnum((unsigned char)s[0]) && s[0] != '_') {
        return false;
    }
    for (s++; *s; s++) {
        if (!teddy_isalnum((unsigned char)*s) && !strchr("_./-", *s)) {
            return false;
        }
    }
    return true;
}

static esp_err_t parse_talk(const char *rest, teddy_cmd_t *out, const refuse_t *r, tc_words_t *wp)
{
    if (!*rest) {
        return refuse(r, TEDDY_CMD_ERR_MISSING_ARGUMENT, "usage: talk <clip> | talk \"<phrase>\"");
    }
    if (rest[0] == '"' || rest[0] == '\'') {
        if (!tc_shlex_split(rest, wp)) {
            return refuse(r, TEDDY_CMD_ERR_BAD_QUOTING, "talk: No closing quotation");
        }
        if (wp->count != 1) {
            return refuse(r, TEDDY_CMD_ERR_EXTRA_ARGUMENT, "talk: quote the whole phrase once");
        }
        if (teddy_str_blank(wp->words[0])) {
            return refuse(r, TEDDY_CMD_ERR_BAD_ARGUMENT, "talk: empty phrase");
        }
        out->has_phrase = true;
        strcpy(out->phrase, wp->words[0]);
        return ESP_OK;
    }
    if (!clip_name(rest)) {
        return refuse(r, TEDDY_CMD_ERR_BAD_ARGUMENT,
                      "talk: bad clip name; quote phrases: talk \"...\"");
    }
    out->argc = 1;
    strcpy(out->args[0], rest);
    return ESP_OK;
}

static bool int_text(const char *s)
{
    s += *s == '-';
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!teddy_isdigit((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

static bool set_value_ok(const char *key, const char *value)
{
    if (strcmp(key, "child_age") == 0) {
        return int_text(value); /* not range-checked: scenarios test the COPPA refusal */
    }
    if (strcmp(key, "volume") == 0) {
        if (!int_text(value)) {
            return false;
        }
        const char *d = value + (value[0] == '-');
        while (*d == '0' && d[1]) {
            d++;
        }
        long v = strlen(d) > 3 ? 1000 : strtol(d, NULL, 10);
        return value[0] == '-' ? v == 0 : v <= 100;
    }
    if (strcmp(key, "child_id") == 0) {
        return teddy_is_id(value) && strlen(value) <= 64;
    }
    return !teddy_str_blank(value); /* child_name, server */
}

static esp_err_t parse_key_value(const char *rest, bool is_set, teddy_cmd_t *out,
                                 const refuse_t *r, tc_words_t *wp)
{
    const char *usage = is_set ? "usage: set <key> <value>" : "usage: get <key>";
    size_t want = is_set ? 2 : 1;
    char msg[128];
    if (!tc_shlex_split(rest, wp)) {
        return refuse(r, TEDDY_CMD_ERR_BAD_QUOTING, is_set ? "set: bad quoting" : "get: bad quoting");
    }
    if (wp->count < want) {
        return refuse(r, TEDDY_CMD_ERR_MISSING_ARGUMENT, usage);
    }
    if (wp->count > want) {
        snprintf(msg, sizeof(msg), "%s (quote values with spaces)", usage);
        return refuse(r, TEDDY_CMD_ERR_EXTRA_ARGUMENT, msg);
    }
    size_t k = 0;
    while (k < N_KEYS && strcmp(SET_KEYS[k], wp->words[0]) != 0) {
        k++;
    }
    if (k == N_KEYS) {
        snprintf(msg, sizeof(msg), "%s: unknown key; keys: child_age, child_id, child_name, "
                                   "server, volume", is_set ? "set" : "get");
        return refuse(r, TEDDY_CMD_ERR_UNKNOWN_KEY, msg);
    }
    if (is_set && !set_value_ok(wp->words[0], wp->words[1])) {
        snprintf(msg, sizeof(msg), "set %.32s: bad value", wp->words[0]);
        return refuse(r, TEDDY_CMD_ERR_BAD_VALUE, msg);
    }
    out->argc = want;
    for (size_t i = 0; i < want; i++) {
        strcpy(out->args[i], wp->words[i]);
    }
    return ESP_OK;
}

static esp_err_t parse_choice(teddy_cmd_id_t id, const char *rest, teddy_cmd_t *out,
                              const refuse_t *r)
{
    static const char *const BUTTON[] = {"press", "release", NULL};
    static const char *const OTA[] = {"check", NULL};
    static const char *const WIFI[] = {"up", "down", NULL};
    const char *const *choices = id == TEDDY_CMD_BUTTON ? BUTTON : id == TEDDY_CMD_OTA ? OTA : WIFI;
    const char *usage = id == TEDDY_CMD_BUTTON ? "usage: button press|release"
                        : id == TEDDY_CMD_OTA  ? "usage: ota check"
                                               : "usage: wifi up|down";
    size_t len = strlen(rest);
    size_t a = tc_skip_space(rest, 0, len), b = tc_skip_nonspace(rest, a, len);
    if (a == b) {
        return refuse(r, TEDDY_CMD_ERR_MISSING_ARGUMENT, usage);
    }
    if (tc_skip_space(rest, b, len) < len) {
        return refuse(r, TEDDY_CMD_ERR_EXTRA_ARGUMENT, usage);
    }
    for (; *choices; choices++) {
        if (strlen(*choices) == b - a && memcmp(*choices, rest + a, b - a) == 0) {
            out->argc = 1;
            strcpy(out->args[0], *choices);
            return ESP_OK;
        }
    }
    return refuse(r, TEDDY_CMD_ERR_BAD_ARGUMENT, usage);
}

typedef struct {
    char text[TEDDY_CONSOLE_LINE_MAX + 1];
    tc_words_t words;
} scratch_t;

static esp_err_t parse_text(scratch_t *sc, const char *line, size_t len, teddy_cmd_t *out,
                            const refuse_t *r_);

esp_err_t teddy_console_parse(const char *line, teddy_cmd_t *out, teddy_cmd_err_t *reason,
                              char *message, size_t message_size)
{
    char msg[256];
    refuse_t r = {reason, message, message_size};
    if (reason) {
        *reason = TEDDY_CMD_ERR_NONE;
    }
    if (message && message_size) {
        message[0] = '\0';
    }
    if (!line || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n')) {
        len--;
    }
    size_t start = tc_skip_space(line, 0, len);
    len = start + tc_rstrip_len(line + start, len - start);
    if (start == len) {
        snprintf(msg, sizeof(msg), "empty command; %s", VALID_LIST);
        return refuse(&r, TEDDY_CMD_ERR_EMPTY, msg);
    }
    if (len - start > TEDDY_CONSOLE_LINE_MAX) {
        return refuse(&r, TEDDY_CMD_ERR_BAD_ARGUMENT, "line too long");
    }
    /* Heap scratch (~4 KiB) keeps console tasks' stacks small and the parser reentrant. */
    scratch_t *sc = malloc(sizeof(*sc));
    if (!sc) {
        return ESP_ERR_NO_MEM;
    }
    esp_err_t err = parse_text(sc, line + start, len - start, out, &r);
    free(sc);
    return err;
}

static esp_err_t parse_text(scratch_t *sc, const char *line, size_t len, teddy_cmd_t *out,
                            const refuse_t *r_)
{
    char msg[256];
    const refuse_t r = *r_;
    char *text = sc->text;
    memcpy(text, line, len);
    text[len] = '\0';
    size_t name_end = tc_skip_nonspace(text, 0, len);
    const char *rest = text + tc_skip_space(text, name_end, len);
    text[name_end] = '\0';
    int id = -1;
    for (int i = 0; i < TEDDY_CMD_COUNT; i++) {
        if (strcmp(TC_NAMES[i], text) == 0) {
            id = i;
        }
    }
    if (id < 0) {
        snprintf(msg, sizeof(msg), "unknown command '%.32s'; %s", text, VALID_LIST);
        return refuse(&r, TEDDY_CMD_ERR_UNKNOWN_COMMAND, msg);
    }
    out->id = (teddy_cmd_id_t)id;
    out->name = TC_NAMES[id];
    switch (out->id) {
    case TEDDY_CMD_REBOOT:
    case TEDDY_CMD_STATUS:
    case TEDDY_CMD_CLAIM:
    case TEDDY_CMD_FACTORY_RESET:
    case TEDDY_CMD_HELP:
        if (*rest) {
            snprintf(msg, sizeof(msg), "%s takes no arguments", TC_NAMES[id]);
            return refuse(&r, TEDDY_CMD_ERR_EXTRA_ARGUMENT, msg);
        }
        return ESP_OK;
    case TEDDY_CMD_BUTTON:
    case TEDDY_CMD_OTA:
    case TEDDY_CMD_WIFI:
        return parse_choice(out->id, rest, out, &r);
    case TEDDY_CMD_TALK:
        return parse_talk(rest, out, &r, &sc->words);
    case TEDDY_CMD_TEXT:
        if (!*rest) {
            return refuse(&r, TEDDY_CMD_ERR_MISSING_ARGUMENT, "usage: text <message...>");
        }
        out->argc = 1;
        strcpy(out->args[0], rest); /* the rest of the line verbatim */
        return ESP_OK;
    case TEDDY_CMD_GET:
    case TEDDY_CMD_SET:
        return parse_key_value(rest, out->id == TEDDY_CMD_SET, out, &r, &sc->words);
    default:
        return ESP_ERR_INVALID_ARG;
    }
}
