/*
 * device_answers.c - why a request to the server failed, in the words the device's
 * event lines use (emulator/core/answers.py; SPEC §8.2 "What the server said").
 *
 * The reading itself is teddy_answer.h (shared with protocol/server_answer.py through
 * the vectors); this file turns an input into the status / code / message / field that
 * claim.fail, token.refresh.fail, config.fail and ota.none print member for member.
 */
#include <stdio.h>
#include <string.h>

#include "device_internal.h"

void dev_failure_of(const teddy_input_t *in, dev_failure_t *out)
{
    memset(out, 0, sizeof(*out));
    if (in->kind == TEDDY_IN_HTTP_FAILED) {
        const char *reason = in->text != NULL ? in->text : "";
        snprintf(out->code, sizeof(out->code), "%s", DEV_TRANSPORT);
        teddy_quote(reason, strlen(reason), out->message, TEDDY_SERVER_TEXT_MAX_BYTES);
        return;
    }
    teddy_server_error_t said;
    teddy_server_error(in->status, (const char *)in->data, in->len, &said);
    out->status = in->status;
    memcpy(out->code, said.code, sizeof(out->code));
    memcpy(out->message, said.message, sizeof(out->message));
}

void dev_failure_bad(int status, const char *code, const teddy_field_errors_t *errs,
                     dev_failure_t *out)
{
    memset(out, 0, sizeof(*out));
    teddy_bad_answer_t bad;
    teddy_bad_fields(errs, &bad);
    out->status = status;
    snprintf(out->code, sizeof(out->code), "%s", code);
    memcpy(out->field, bad.field, sizeof(out->field));
    memcpy(out->message, bad.message, sizeof(out->message));
}

void dev_failure_none(int status, dev_failure_t *out)
{
    memset(out, 0, sizeof(*out));
    out->status = status;
}

bool dev_body_readable(const teddy_input_t *in)
{
    return teddy_body_readable((const char *)in->data, in->len);
}
