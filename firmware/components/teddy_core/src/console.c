/*
 * console.c - the serial console grammar (SPEC §9), ported from
 * protocol/console.py so every target refuses the same lines with the same
 * `cmd.error{reason}` (SPEC §8).
 *
 * Word splitting follows Python exactly: the command word and choice arguments
 * split on Unicode whitespace (str.split), `set`/`get`/quoted `talk` arguments use
 * POSIX shlex rules (quotes, backslash escapes, whitespace " \t\r\n"). The command
 * table, argument forms, choices and `set` keys with their value rules are the device
 * model's (TEDDY_CMDS, TEDDY_SET_KEYS in teddy_model.h), as in Python.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teddy_console_internal.h"
#include "teddy_util.h"

const char *teddy_cmd_err_str(teddy_cmd_err_t reason)
{
    return (unsigned)reason < TEDDY_CMD_ERR_COUNT ? TEDDY_CMD_ERR_NAMES[reason] : "";
}

const char *teddy_cmd_name(teddy_cmd_id_t id)
{
    return (unsigned)id < TEDDY_CMD_COUNT ? TEDDY_CMDS[id].name : NULL;
}

const char *teddy_console_valid_list(void)
{
    return TEDDY_CONSOLE_VALID_LIST;
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
    char msg[128]; /* the clip name is cut at 32 characters */
    const char *why = NULL;
    if (rest[0] == '"' || rest[0] == '\'') {
        if (!tc_shlex_split(rest, wp, &why)) {
            snprintf(msg, sizeof(msg), "talk: %s", why);
            return refuse(r, TEDDY_CMD_ERR_BAD_QUOTING, msg);
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
        snprintf(msg, sizeof(msg), "talk: bad clip name '%.32s'; quote phrases: talk \"...\"",
                 rest);
        return refuse(r, TEDDY_CMD_ERR_BAD_ARGUMENT, msg);
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

/* int(value) within the rule's bounds, for `value` matching -?[0-9]+ (any length). */
static bool int_in_range(const teddy_set_key_spec_t *k, const char *value)
{
    bool negative = value[0] == '-';
    const char *digits = value + negative;
    while (*digits == '0' && digits[1] != '\0') {
        digits++;
    }
    if (strlen(digits) > 18) { /* beyond every int64 bound a rule can name */
        return negative ? !k->has_min : !k->has_max;
    }
    long long v = strtoll(digits, NULL, 10);
    v = negative ? -v : v;
    return (!k->has_min || v >= k->min) && (!k->has_max || v <= k->max);
}

bool teddy_quirk_int(teddy_quirk_t q, const char *text, long long *out)
{
    if ((unsigned)q >= TEDDY_QUIRK_COUNT || !TEDDY_QUIRKS[q].integer || text == NULL) {
        return false;
    }
    const char *digits = text + (text[0] == '-');
    size_t n = strlen(digits);
    if (n == 0 || n > 12 || !int_text(text)) {
        return false;
    }
    long long v = strtoll(text, NULL, 10);
    if (v < TEDDY_QUIRKS[q].min || v > TEDDY_QUIRKS[q].max) {
        return false;
    }
    *out = v;
    return true;
}

static bool set_value_ok(const teddy_set_key_spec_t *k, const char *value)
{
    switch (k->rule) {
    case TEDDY_RULE_INTEGER:
        /* child_age has no bounds on purpose: scenarios test the COPPA refusal (SPEC §6.1) */
        return int_text(value) && int_in_range(k, value);
    case TEDDY_RULE_ID:
        return teddy_is_id(value) && strlen(value) <= k->max_len;
    default:
        return !teddy_str_blank(value); /* TEDDY_RULE_NONBLANK */
    }
}

static esp_err_t parse_key_value(const char *rest, bool is_set, teddy_cmd_t *out,
                                 const refuse_t *r, tc_words_t *wp)
{
    const char *usage = is_set ? "usage: set <key> <value>" : "usage: get <key>";
    size_t want = is_set ? 2 : 1;
    char msg[128];
    const char *why = NULL;
    if (!tc_shlex_split(rest, wp, &why)) {
        snprintf(msg, sizeof(msg), "%s: %s", is_set ? "set" : "get", why); /* as shlex says */
        return refuse(r, TEDDY_CMD_ERR_BAD_QUOTING, msg);
    }
    if (wp->count < want) {
        return refuse(r, TEDDY_CMD_ERR_MISSING_ARGUMENT, usage);
    }
    if (wp->count > want) {
        snprintf(msg, sizeof(msg), "%s (quote values with spaces)", usage);
        return refuse(r, TEDDY_CMD_ERR_EXTRA_ARGUMENT, msg);
    }
    teddy_set_key_t k = teddy_set_key_from_str(wp->words[0]);
    if (k == TEDDY_SET_KEY_COUNT) {
        /* Names the key, as protocol/console.py does (the device trace console_replies
         * compares the whole cmd.error line, SPEC §9.3 `message`). */
        snprintf(msg, sizeof(msg), "%s: unknown key '%.32s'; keys: %s", is_set ? "set" : "get",
                 wp->words[0], TEDDY_SET_KEYS_LIST);
        return refuse(r, TEDDY_CMD_ERR_UNKNOWN_KEY, msg);
    }
    if (is_set && !set_value_ok(&TEDDY_SET_KEYS[k], wp->words[1])) {
        snprintf(msg, sizeof(msg), "set %.32s: bad value '%.32s'", wp->words[0], wp->words[1]);
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
    const char *const *choices = TEDDY_CMDS[id].choices;
    char usage[96];
    int n = snprintf(usage, sizeof(usage), "usage: %s ", TEDDY_CMDS[id].name);
    for (const char *const *c = choices; *c != NULL && n > 0 && (size_t)n < sizeof(usage); c++) {
        n += snprintf(usage + n, sizeof(usage) - (size_t)n, "%s%s", c == choices ? "" : "|", *c);
    }
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

/* `quirk` | `quirk on NAME [VALUE]` | `quirk off NAME` (SPEC §9.2, Appendix C), as
 * protocol/console.py's _parse_quirk: the same reasons and messages. */
static esp_err_t parse_quirk(const char *rest, teddy_cmd_t *out, const refuse_t *r,
                             tc_words_t *wp)
{
    const char *usage = "usage: quirk | quirk on <name> [value] | quirk off <name>";
    char msg[512]; /* the unknown-quirk refusal lists every quirk */
    const char *why = NULL;
    if (!tc_shlex_split(rest, wp, &why)) {
        snprintf(msg, sizeof(msg), "quirk: %s", why);
        return refuse(r, TEDDY_CMD_ERR_BAD_QUOTING, msg);
    }
    if (wp->count == 0) {
        return ESP_OK;
    }
    bool on = strcmp(wp->words[0], "on") == 0;
    if (!on && strcmp(wp->words[0], "off") != 0) {
        return refuse(r, TEDDY_CMD_ERR_BAD_ARGUMENT, usage);
    }
    if (wp->count < 2) {
        return refuse(r, TEDDY_CMD_ERR_MISSING_ARGUMENT, usage);
    }
    teddy_quirk_t q = teddy_quirk_from_str(wp->words[1]);
    if (q == TEDDY_QUIRK_COUNT) {
        snprintf(msg, sizeof(msg), "quirk: unknown quirk '%.32s'; quirks: %s", wp->words[1],
                 TEDDY_QUIRKS_LIST);
        return refuse(r, TEDDY_CMD_ERR_BAD_ARGUMENT, msg);
    }
    const char *wants = TEDDY_QUIRKS[q].value;
    size_t count = on && wants != NULL ? 3 : 2;
    if (wp->count < count) {
        snprintf(msg, sizeof(msg), "usage: quirk on %s <%s>", TEDDY_QUIRKS[q].name, wants);
        return refuse(r, TEDDY_CMD_ERR_MISSING_ARGUMENT, msg);
    }
    if (wp->count > count) {
        snprintf(msg, sizeof(msg), "quirk %.3s %s takes no further value", wp->words[0],
                 TEDDY_QUIRKS[q].name);
        return refuse(r, TEDDY_CMD_ERR_EXTRA_ARGUMENT, msg);
    }
    long long number = 0;
    if (count == 3 && TEDDY_QUIRKS[q].integer && !teddy_quirk_int(q, wp->words[2], &number)) {
        snprintf(msg, sizeof(msg), "quirk on %s: %s must be an integer %lld..%lld",
                 TEDDY_QUIRKS[q].name, wants, TEDDY_QUIRKS[q].min, TEDDY_QUIRKS[q].max);
        return refuse(r, TEDDY_CMD_ERR_BAD_VALUE, msg);
    }
    out->argc = count;
    for (size_t i = 0; i < count; i++) {
        strcpy(out->args[i], wp->words[i]);
    }
    return ESP_OK;
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
        snprintf(msg, sizeof(msg), "empty command; %s", TEDDY_CONSOLE_VALID_LIST);
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
        if (strcmp(TEDDY_CMDS[i].name, text) == 0) {
            id = i;
        }
    }
    if (id < 0) {
        snprintf(msg, sizeof(msg), "unknown command '%.32s'; %s", text, TEDDY_CONSOLE_VALID_LIST);
        return refuse(&r, TEDDY_CMD_ERR_UNKNOWN_COMMAND, msg);
    }
    out->id = (teddy_cmd_id_t)id;
    out->name = TEDDY_CMDS[id].name;
    switch (TEDDY_CMDS[id].args) { /* the argument form is the model's */
    case TEDDY_ARGS_NONE:
        if (*rest) {
            snprintf(msg, sizeof(msg), "%s takes no arguments", out->name);
            return refuse(&r, TEDDY_CMD_ERR_EXTRA_ARGUMENT, msg);
        }
        return ESP_OK;
    case TEDDY_ARGS_CHOICE:
        return parse_choice(out->id, rest, out, &r);
    case TEDDY_ARGS_TALK:
        return parse_talk(rest, out, &r, &sc->words);
    case TEDDY_ARGS_REST:
        if (!*rest) {
            snprintf(msg, sizeof(msg), "usage: %s <message...>", out->name);
            return refuse(&r, TEDDY_CMD_ERR_MISSING_ARGUMENT, msg);
        }
        out->argc = 1;
        strcpy(out->args[0], rest); /* the rest of the line verbatim */
        return ESP_OK;
    case TEDDY_ARGS_QUIRK:
        return parse_quirk(rest, out, &r, &sc->words);
    case TEDDY_ARGS_GET:
    case TEDDY_ARGS_SET:
        return parse_key_value(rest, TEDDY_CMDS[id].args == TEDDY_ARGS_SET, out, &r, &sc->words);
    default:
        return ESP_ERR_INVALID_ARG;
    }
}
