/*
 * device_commands.c - the serial console: SPEC §9 commands and their replies
 * (emulator/core/commands.py).
 *
 * Parsing is teddy_console.h (the grammar of protocol/console.py). Every non-empty
 * line gets exactly one cmd.ok or cmd.error{cmd,reason} (SPEC §9.3), printed when the
 * command is accepted or refused; `talk` and `button press` reply once their audio
 * source opened (a missing clip is bad_value). Refusals carry an extra `message`
 * member saying why (allowed by SPEC §8.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "teddy_console.h"

static void reply_error(tdev_t *d, const char *cmd, const char *reason, const char *message)
{
    EMIT_CMD_ERROR(d, .cmd = cmd, .reason = reason, .message = message);
}

static void reply_ok(tdev_t *d, teddy_cmd_id_t cmd) { EMIT_CMD_OK(d, .cmd = cmd); }

/* NULL when the chat may start, else why not (bad_argument). */
static const char *chat_refusal(const tdev_t *d)
{
    if (!d->link.is_open) {
        return "not connected (no ws.open yet)";
    }
    if (d->chat.capture.active) {
        return "busy: an utterance is in progress";
    }
    if (dev_ota_updating(d)) {
        return "busy: a firmware update is in progress";
    }
    return NULL;
}

static void reboot(tdev_t *d)
{
    dev_going_down(d, "reboot");
    teddy_effect_t fx = {.kind = TEDDY_FX_REBOOT};
    fx.u.reboot.reason = TEDDY_RESET_SW;
    dev_fx(d, &fx);
}

/* A setting's current value as the reply's `value` (integers as JSON integers). */
static cJSON *value_of(tdev_t *d, teddy_set_key_t key)
{
    char server[256];
    switch (key) {
    case TEDDY_SET_CHILD_AGE:
        return cJSON_CreateNumber(dev_child_age(d));
    case TEDDY_SET_VOLUME:
        return cJSON_CreateNumber(dev_volume(d));
    case TEDDY_SET_CHILD_ID:
        return cJSON_CreateString(dev_child_id(d));
    case TEDDY_SET_CHILD_NAME:
        return cJSON_CreateString(dev_child_name(d));
    default: /* TEDDY_SET_SERVER */
        return cJSON_CreateString(dev_server_url(d, server, sizeof(server)));
    }
}

static void do_set(tdev_t *d, const char *key_name, const char *raw)
{
    teddy_set_key_t key = teddy_set_key_from_str(key_name); /* the parser checked it */
    const teddy_set_key_spec_t *spec = &TEDDY_SET_KEYS[key];
    if (spec->is_int) {
        /* Any integer the parser let through; dev_nvs_set_int clamps it to the key's type. */
        dev_nvs_set_int(d, spec->ns, spec->nvs_key, strtoll(raw, NULL, 10));
    } else {
        dev_nvs_set_str(d, spec->ns, spec->nvs_key, raw);
    }
    EMIT_CMD_OK_SET(d, .key = spec->key, .value = value_of(d, key));
    if (key == TEDDY_SET_VOLUME) {
        teddy_effect_t fx = {.kind = TEDDY_FX_SET_VOLUME}; /* applied at once (SPEC §9.2) */
        fx.u.audio.volume = dev_volume(d);
        dev_fx(d, &fx);
    }
    if (key == TEDDY_SET_CHILD_ID) {
        dev_auth_drop_tokens(d); /* they name the old child (SPEC §9.2) */
    }
    if (key == TEDDY_SET_CHILD_AGE || key == TEDDY_SET_CHILD_ID || key == TEDDY_SET_CHILD_NAME) {
        dev_link_release_hold(d);
    }
}

static void do_status(tdev_t *d)
{
    EMIT_CMD_OK_STATUS(d, .state = d->state, .fw_version = d->boot.fw_version,
                       .slot = teddy_slot_name(d->boot.slot), .device_id = dev_device_id(d),
                       .child_id = dev_child_id(d), .child_name = dev_child_name(d),
                       .child_age = dev_child_age(d), .wifi = d->wifi_up, .ws = d->link.is_open);
}

static void do_help(tdev_t *d)
{
    const char *names[TEDDY_CMD_COUNT];
    for (int i = 0; i < TEDDY_CMD_COUNT; i++) {
        names[i] = TEDDY_CMDS[i].name;
    }
    EMIT_CMD_OK_HELP(d, .commands = names, .n_commands = TEDDY_CMD_COUNT);
}

/* SPEC §9.2 `quirk`: switch an Appendix C quirk (RAM until the next boot); the reply
 * lists the active ones in the model's order. */
static void do_quirk(tdev_t *d, const teddy_cmd_t *c)
{
    if (c->argc >= 2) {
        teddy_quirk_t q = teddy_quirk_from_str(c->args[1]); /* the parser checked it */
        bool on = strcmp(c->args[0], "on") == 0;
        (void)dev_quirk_set(d, q, on ? (c->argc == 3 ? c->args[2] : "") : NULL);
    }
    const char *names[TEDDY_QUIRK_COUNT];
    size_t n = 0;
    for (int q = 0; q < TEDDY_QUIRK_COUNT; q++) {
        if (dev_quirk(d, (teddy_quirk_t)q)) {
            names[n++] = TEDDY_QUIRKS[q].name;
        }
    }
    EMIT_CMD_OK_QUIRK(d, .quirks = names, .n_quirks = n);
}

/* Runs one parsed command; returns a refusal message (bad_argument) or NULL. */
static const char *run(tdev_t *d, const teddy_cmd_t *c)
{
    const char *why;
    switch (c->id) {
    case TEDDY_CMD_TALK:
        if ((why = chat_refusal(d)) != NULL) {
            return why;
        }
        dev_chat_start_capture(d, TEDDY_CMD_TALK,
                               c->has_phrase ? TEDDY_CAPTURE_PHRASE : TEDDY_CAPTURE_CLIP,
                               c->has_phrase ? c->phrase : c->args[0]);
        return NULL;
    case TEDDY_CMD_TEXT:
        if (!d->link.is_open) {
            return "not connected (no ws.open yet)";
        }
        reply_ok(d, TEDDY_CMD_TEXT);
        dev_chat_send_text(d, c->args[0]);
        return NULL;
    case TEDDY_CMD_BUTTON:
        if (strcmp(c->args[0], "press") == 0) {
            if ((why = chat_refusal(d)) != NULL) {
                return why;
            }
            dev_chat_start_capture(d, TEDDY_CMD_BUTTON, TEDDY_CAPTURE_LIVE, "");
            return NULL;
        }
        if (!d->chat.capture.active || d->chat.capture.command != TEDDY_CMD_BUTTON) {
            return "button release without press";
        }
        reply_ok(d, TEDDY_CMD_BUTTON);
        dev_chat_stop_capture(d);
        return NULL;
    case TEDDY_CMD_OTA:
        if (dev_ota_busy(d)) {
            return "an update check or download is already running";
        }
        if (!dev_config_ota_enabled(d)) {
            return "ota disabled by config (features.ota false)";
        }
        reply_ok(d, TEDDY_CMD_OTA);
        dev_ota_check(d, false);
        return NULL;
    case TEDDY_CMD_REBOOT:
        reply_ok(d, TEDDY_CMD_REBOOT); /* SPEC §9.2: printed before the reset */
        reboot(d);
        return NULL;
    case TEDDY_CMD_FACTORY_RESET:
        reply_ok(d, TEDDY_CMD_FACTORY_RESET);
        for (size_t i = 0; i < TEDDY_FACTORY_RESET_NS_COUNT; i++) {
            dev_nvs_erase(d, TEDDY_FACTORY_RESET_NS[i]); /* SPEC §9.2: mfg and sys stay */
        }
        reboot(d);
        return NULL;
    case TEDDY_CMD_CLAIM:
        reply_ok(d, TEDDY_CMD_CLAIM);
        dev_link_close(d, TEDDY_CLOSE_NORMAL, "normal");
        dev_auth_drop_tokens(d);
        if (d->wifi_up) {
            dev_auth_claim(d);
        }
        return NULL;
    case TEDDY_CMD_WIFI:
        reply_ok(d, TEDDY_CMD_WIFI);
        if (strcmp(c->args[0], "down") == 0) {
            bool joining = d->state == TEDDY_STATE_WIFI && !d->wifi_off;
            d->wifi_off = true;
            if (d->wifi_up || joining) {
                dev_wifi_lost(d, true);
            }
            return NULL;
        }
        d->wifi_off = false;
        if (!d->wifi_up) {
            dev_set_state(d, TEDDY_STATE_WIFI);
            teddy_effect_t fx = {.kind = TEDDY_FX_WIFI_CONNECT};
            dev_fx(d, &fx);
        }
        return NULL;
    case TEDDY_CMD_HELP:
        do_help(d);
        return NULL;
    case TEDDY_CMD_STATUS:
        do_status(d);
        return NULL;
    case TEDDY_CMD_GET: {
        teddy_set_key_t key = teddy_set_key_from_str(c->args[0]); /* the parser checked it */
        EMIT_CMD_OK_GET(d, .key = TEDDY_SET_KEYS[key].key, .value = value_of(d, key));
        return NULL;
    }
    case TEDDY_CMD_SET:
        do_set(d, c->args[0], c->args[1]);
        return NULL;
    case TEDDY_CMD_QUIRK:
        do_quirk(d, c);
        return NULL;
    default:
        return "unsupported command";
    }
}

void dev_commands_handle(tdev_t *d, const char *line)
{
    while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\n') {
        line++;
    }
    if (*line == '\0') {
        return; /* SPEC §9.1: an empty line gets no reply */
    }
    teddy_cmd_t *cmd = malloc(sizeof(*cmd)); /* ~4 KiB: not on a task stack */
    if (cmd == NULL) {
        return;
    }
    teddy_cmd_err_t reason = TEDDY_CMD_ERR_NONE;
    char message[512] = "";
    if (teddy_console_parse(line, cmd, &reason, message, sizeof(message)) != ESP_OK) {
        char first[64];
        size_t n = strcspn(line, " \t\r\n");
        snprintf(first, sizeof(first), "%.*s", (int)(n < 63 ? n : 63), line);
        reply_error(d, first, teddy_cmd_err_str(reason), message);
    } else {
        const char *why = run(d, cmd);
        if (why != NULL) {
            reply_error(d, cmd->name, "bad_argument", why);
        }
    }
    free(cmd);
}
