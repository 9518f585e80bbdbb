/*
 * diff_driver.c - line-oriented front end to the core's parsers for
 * differential_check.py, which compares every verdict with protocol/ (Python).
 *
 * stdin:  "<kind>\t<JSON string>\n" per input, kind one of server, device, console,
 *         semver, event, manifest, answer (an HTTP error body, status 400).
 * stdout: one verdict line per input ("ok", an error code and field, a reason...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "teddy_answer.h"
#include "teddy_console.h"
#include "teddy_event.h"
#include "teddy_manifest.h"
#include "teddy_msg.h"
#include "teddy_semver.h"

static teddy_cmd_t cmd;
static teddy_manifest_t manifest;

static void message(bool server, const char *in, size_t len)
{
    teddy_msg_error_t err;
    esp_err_t e;
    if (server) {
        teddy_server_msg_t m;
        e = teddy_msg_parse_server(in, len, TEDDY_DOWNLINK_MAX_FRAME_BYTES - 1, &m, &err);
        if (e == ESP_OK) {
            teddy_server_msg_free(&m);
        }
    } else {
        teddy_device_msg_t m;
        e = teddy_msg_parse_device(in, len, TEDDY_UPLINK_MAX_FRAME_BYTES, &m, &err);
        if (e == ESP_OK) {
            teddy_device_msg_free(&m);
        }
    }
    if (e == ESP_OK) {
        puts("ok");
    } else {
        printf("%s %s\n", teddy_ws_error_str(err.code), err.field);
    }
}

static void console(const char *in)
{
    teddy_cmd_err_t reason;
    char out[3 * TEDDY_CONSOLE_LINE_MAX + 16];
    if (teddy_console_parse(in, &cmd, &reason, NULL, 0) != ESP_OK) {
        puts(teddy_cmd_err_str(reason));
        return;
    }
    teddy_console_format(&cmd, out, sizeof(out));
    cJSON *s = cJSON_CreateString(out);
    char *json = cJSON_PrintUnformatted(s);
    printf("ok %s\n", json);
    cJSON_free(json);
    cJSON_Delete(s);
}

static void manifest_verdict(const char *in, size_t len)
{
    teddy_field_errors_t errs;
    if (teddy_manifest_parse(in, len, &manifest, &errs) == ESP_OK) {
        puts("ok");
        return;
    }
    if (errs.count == 0) {
        puts("json");
        return;
    }
    for (size_t i = 0; i < errs.count; i++) {
        printf("%s:%s,", errs.items[i].field, teddy_field_reason_str(errs.items[i].reason));
    }
    putchar('\n');
}

/* SPEC §8.2: the code and message an event reports, as one JSON array. */
static void answer_verdict(const char *in, size_t len)
{
    teddy_server_error_t got;
    teddy_server_error(400, in, len, &got);
    cJSON *pair = cJSON_CreateArray();
    cJSON_AddItemToArray(pair, cJSON_CreateString(got.code));
    cJSON_AddItemToArray(pair, cJSON_CreateString(got.message));
    char *json = cJSON_PrintUnformatted(pair);
    puts(json);
    cJSON_free(json);
    cJSON_Delete(pair);
}

int main(void)
{
    static char line[1 << 20];
    while (fgets(line, sizeof(line), stdin)) {
        char *tab = strchr(line, '\t');
        cJSON *arg = tab ? cJSON_Parse(tab + 1) : NULL;
        if (!cJSON_IsString(arg)) {
            fprintf(stderr, "bad input line\n");
            return 2;
        }
        *tab = '\0';
        const char *in = arg->valuestring;
        size_t len = strlen(in);
        if (strcmp(line, "server") == 0 || strcmp(line, "device") == 0) {
            message(line[0] == 's', in, len);
        } else if (strcmp(line, "console") == 0) {
            console(in);
        } else if (strcmp(line, "semver") == 0) {
            printf("%d\n", teddy_semver_valid(in));
        } else if (strcmp(line, "event") == 0) {
            teddy_event_t ev;
            esp_err_t e = teddy_event_parse(in, &ev);
            puts(e == ESP_OK ? "ok" : e == ESP_ERR_NOT_FOUND ? "none" : "error");
            teddy_event_free(&ev);
        } else if (strcmp(line, "manifest") == 0) {
            manifest_verdict(in, len);
        } else if (strcmp(line, "answer") == 0) {
            answer_verdict(in, len);
        } else {
            fprintf(stderr, "unknown kind %s\n", line);
            return 2;
        }
        fflush(stdout);
        cJSON_Delete(arg);
    }
    return 0;
}
