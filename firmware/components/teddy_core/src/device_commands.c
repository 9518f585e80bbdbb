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

/* SPEC §9.2 factory-reset: settings and tokens go; mfg (device_id, OOB) and sys stay. */
static const char *const RESET_NAMESPACES[] = {NS_SETTINGS, NS_AUTH, NS_CFG, NS_OTA,
                                               NS_OTA_DL};

static void reply_error(tdev_t *d, const char *cmd, const char *reason, const char *message)
{
    cJSON *o = dev_obj();
    cJSON_AddStringToObject(o, "cmd", cmd);
    cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddStringToObject(o, "message", message);
    dev_emit(d, "cmd.error", o);
}

static cJSON *ok_obj(const char *cmd)
{
    cJSON *o = dev_obj();
    cJSON_AddStringToObject(o, "cmd", cmd);
    return o;
}

static void reply_ok(tdev_t *d, const char *cmd) { dev_emit(d, "cmd.ok", ok_obj(cmd)); }

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
    fx.u.reboot.reason = "sw";
    dev_fx(d, &fx);
}

static void add_value(tdev_t *d, cJSON *o, const char *key)
{
    char server[256];
    if (strcmp(key, "child_age") == 0) {
        cJSON_AddNumberToObject(o, "value", dev_child_age(d));
    } else if (strcmp(key, "volume") == 0) {
        cJSON_AddNumberToObject(o, "value", dev_volume(d));
    } else if (strcmp(key, "child_id") == 0) {
        cJSON_AddStringToObject(o, "value", dev_child_id(d));
    } else if (strcmp(key, "child_name") == 0) {
        cJSON_AddStringToObject(o, "value", dev_child_name(d));
    } else {
        cJSON_AddStringToObject(o, "value", dev_server_url(d, server, sizeof(server)));
    }
}

static void do_set(tdev_t *d, const char *key, const char *raw)
{
    bool is_int = strcmp(key, "child_age") == 0 || strcmp(key, "volume") == 0;
    if (is_int) {
        long long v = strtoll(raw, NULL, 10);
        v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
        dev_nvs_set_u32(d, NS_SETTINGS, key, (uint32_t)(int32_t)v);
    } else {
        dev_nvs_set_str(d, NS_SETTINGS, key, raw);
    }
    cJSON *o = ok_obj("set");
    cJSON_AddStringToObject(o, "key", key);
    add_value(d, o, key);
    dev_emit(d, "cmd.ok", o);
    if (strcmp(key, "volume") == 0) {
        teddy_effect_t fx = {.kind = TEDDY_FX_SET_VOLUME};
        fx.u.audio.volume = dev_volume(d);
        dev_fx(d, &fx);
    }
    if (strcmp(key, "child_id") == 0) {
        dev_auth_drop_tokens(d); /* they name the old child (SPEC §9.2) */
    }
    if (strncmp(key, "child_", 6) == 0) {
        dev_link_release_hold(d);
    }
}

static void do_status(tdev_t *d)
{
    char slot[8];
    snprintf(slot, sizeof(slot), "ota_%d", d->boot.slot);
    cJSON *o = ok_obj("status");
    cJSON_AddStringToObject(o, "state", teddy_state_str(d->state));
    cJSON_AddStringToObject(o, "fw_version", d->boot.fw_version);
    cJSON_AddStringToObject(o, "slot", slot);
    cJSON_AddStringToObject(o, "device_id", dev_device_id(d));
    cJSON_AddStringToObject(o, "child_id", dev_child_id(d));
    cJSON_AddStringToObject(o, "child_name", dev_child_name(d));
    cJSON_AddNumberToObject(o, "child_age", dev_child_age(d));
    cJSON_AddBoolToObject(o, "wifi", d->wifi_up);
    cJSON_AddBoolToObject(o, "ws", d->link.is_open);
    dev_emit(d, "cmd.ok", o);
}

static void do_help(tdev_t *d)
{
    cJSON *o = ok_obj("help");
    cJSON *list = cJSON_AddArrayToObject(o, "commands");
    for (int i = 0; i < TEDDY_CMD_COUNT; i++) {
        cJSON_AddItemToArray(list, cJSON_CreateString(teddy_cmd_name((teddy_cmd_id_t)i)));
    }
    dev_emit(d, "cmd.ok", o);
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
        dev_chat_start_capture(d, "talk", c->has_phrase ? TEDDY_CAPTURE_PHRASE : TEDDY_CAPTURE_CLIP,
                               c->has_phrase ? c->phrase : c->args[0]);
        return NULL;
    case TEDDY_CMD_TEXT:
        if (!d->link.is_open) {
            return "not connected (no ws.open yet)";
        }
        reply_ok(d, "text");
        dev_chat_send_text(d, c->args[0]);
        return NULL;
    case TEDDY_CMD_BUTTON:
        if (strcmp(c->args[0], "press") == 0) {
            if ((why = chat_refusal(d)) != NULL) {
                return why;
            }
            dev_chat_start_capture(d, "button", TEDDY_CAPTURE_LIVE, "");
            return NULL;
        }
        if (!d->chat.capture.active || strcmp(d->chat.capture.command, "button") != 0) {
            return "button release without press";
        }
        reply_ok(d, "button");
        dev_chat_stop_capture(d);
        return NULL;
    case TEDDY_CMD_OTA:
        if (dev_ota_busy(d)) {
            return "an update check or download is already running";
        }
        if (!dev_config_ota_enabled(d)) {
            return "ota disabled by config (features.ota false)";
        }
        reply_ok(d, "ota");
        dev_ota_check(d, false);
        return NULL;
    case TEDDY_CMD_REBOOT:
        reply_ok(d, "reboot"); /* SPEC §9.2: printed before the reset */
        reboot(d);
        return NULL;
    case TEDDY_CMD_FACTORY_RESET:
        reply_ok(d, "factory-reset");
        for (size_t i = 0; i < sizeof(RESET_NAMESPACES) / sizeof(RESET_NAMESPACES[0]); i++) {
            dev_nvs_erase(d, RESET_NAMESPACES[i], NULL);
        }
        reboot(d);
        return NULL;
    case TEDDY_CMD_CLAIM:
        reply_ok(d, "claim");
        dev_link_close(d, 1000, "normal");
        dev_auth_drop_tokens(d);
        if (d->wifi_up) {
            dev_auth_claim(d);
        }
        return NULL;
    case TEDDY_CMD_WIFI:
        reply_ok(d, "wifi");
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
        cJSON *o = ok_obj("get");
        cJSON_AddStringToObject(o, "key", c->args[0]);
        add_value(d, o, c->args[0]);
        dev_emit(d, "cmd.ok", o);
        return NULL;
    }
    case TEDDY_CMD_SET:
        do_set(d, c->args[0], c->args[1]);
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
    teddy_cmd_t *cmd = malloc(sizeof(*cmd)); /* ~3 KiB: not on a task stack */
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
