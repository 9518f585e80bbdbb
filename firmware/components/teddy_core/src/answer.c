/*
 * answer.c - a server's answer as the device reads and quotes it (teddy_answer.h), ported
 * from protocol/server_answer.py byte for byte: the shared vectors
 * (server_answers.json) and the device traces compare the two.
 *
 * Everything here is bounded whatever the server sent: a huge body is quoted from its
 * first TEDDY_SERVER_BODY_SCAN_BYTES, a huge string is read only until the quote is
 * full, and the result is valid UTF-8 without control characters, so the event line
 * that carries it stays one valid line (SPEC §8.1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teddy_answer.h"

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 when none starts there. */
static size_t utf8_length(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char lead = s[0];
    size_t size;
    unsigned char low = 0x80, high = 0xBF;
    if (lead < 0x80) {
        *cp = lead;
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        size = 2;
    } else if (lead == 0xE0) {
        size = 3;
        low = 0xA0;
    } else if (lead == 0xED) {
        size = 3;
        high = 0x9F; /* no UTF-16 surrogates */
    } else if (lead >= 0xE1 && lead <= 0xEF) {
        size = 3;
    } else if (lead == 0xF0) {
        size = 4;
        low = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
        size = 4;
    } else if (lead == 0xF4) {
        size = 4;
        high = 0x8F; /* at most U+10FFFF */
    } else {
        return 0;
    }
    if (size > len || s[1] < low || s[1] > high) {
        return 0;
    }
    uint32_t v = lead & (size == 2 ? 0x1Fu : size == 3 ? 0x0Fu : 0x07u);
    for (size_t i = 1; i < size; i++) {
        if (i > 1 && (s[i] < 0x80 || s[i] > 0xBF)) {
            return 0;
        }
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    *cp = v;
    return size;
}

bool teddy_utf8_valid(const char *s, size_t len)
{
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_length((const unsigned char *)s + i, len - i, &cp);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

/* A `\u0000` escape inside a string (the text is checked as JSON afterwards). */
static bool has_nul_escape(const char *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            in_string = s[i] == '"';
        } else if (s[i] == '"') {
            in_string = false;
        } else if (s[i] == '\\' && i + 1 < len) {
            if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0) {
                return true;
            }
            i++; /* the escaped character */
        }
    }
    return false;
}

bool teddy_body_readable(const char *body, size_t len)
{
    return body != NULL && teddy_utf8_valid(body, len) && !has_nul_escape(body, len);
}

esp_err_t teddy_body_parse(const char *body, size_t len, cJSON **out)
{
    *out = NULL;
    if (!teddy_body_readable(body, len)) {
        return ESP_ERR_INVALID_ARG;
    }
    return teddy_json_parse(body, len, out);
}

static bool unsafe(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

size_t teddy_quote(const char *in, size_t len, char *out, size_t max_bytes)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, i = 0;
    bool pending_space = false, overflow = false;
    while (in != NULL && i < len && s[i] != '\0') {
        uint32_t cp = '?';
        const unsigned char *unit = s + i;
        size_t n = utf8_length(s + i, len - i, &cp);
        if (n == 0) {
            unit = (const unsigned char *)"?";
            n = 1;
            cp = '?';
            i++;
        } else {
            i += n;
        }
        if (cp == ' ' || unsafe(cp)) {
            pending_space = o > 0; /* runs of spaces become one; none leads */
            continue;
        }
        size_t need = n + (pending_space ? 1 : 0);
        if (o + need > max_bytes) {
            overflow = true;
            break;
        }
        if (pending_space) {
            out[o++] = ' ';
        }
        memcpy(out + o, unit, n);
        o += n;
        pending_space = false;
    }
    if (overflow) {
        size_t budget = max_bytes - (sizeof(TEDDY_ANSWER_CUT) - 1);
        while (o > budget) { /* drop whole characters */
            do {
                o--;
            } while (o > 0 && ((unsigned char)out[o] & 0xC0) == 0x80);
        }
        while (o > 0 && out[o - 1] == ' ') {
            o--;
        }
        memcpy(out + o, TEDDY_ANSWER_CUT, sizeof(TEDDY_ANSWER_CUT) - 1);
        o += sizeof(TEDDY_ANSWER_CUT) - 1;
    }
    out[o] = '\0';
    return o;
}

static size_t quote_string(const cJSON *item, char *out, size_t max_bytes)
{
    const char *text = cJSON_GetStringValue(item);
    out[0] = '\0';
    return text != NULL ? teddy_quote(text, strlen(text), out, max_bytes) : 0;
}

void teddy_server_error(int status, const char *body, size_t len, teddy_server_error_t *out)
{
    snprintf(out->code, sizeof(out->code), "http_%d", status);
    out->message[0] = '\0';
    bool read = false;
    cJSON *doc = NULL;
    if (len > 0 && teddy_body_parse(body, len, &doc) == ESP_OK && cJSON_IsObject(doc)) {
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(doc, "error");
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(doc, "detail");
        char code[TEDDY_ANSWER_CODE_SIZE];
        if (cJSON_IsObject(error) &&
            quote_string(cJSON_GetObjectItemCaseSensitive(error, "code"), code,
                         TEDDY_SERVER_CODE_MAX_BYTES) > 0) {
            memcpy(out->code, code, sizeof(code)); /* SPEC §1.2 */
            quote_string(cJSON_GetObjectItemCaseSensitive(error, "message"), out->message,
                         TEDDY_SERVER_TEXT_MAX_BYTES);
            read = true;
        } else if (cJSON_IsString(detail)) { /* FastAPI's HTTPException body */
            quote_string(detail, out->message, TEDDY_SERVER_TEXT_MAX_BYTES);
            read = true;
        }
    }
    cJSON_Delete(doc);
    if (!read) { /* another shape: what the body says, from its first bytes */
        size_t scan = len < TEDDY_SERVER_BODY_SCAN_BYTES ? len : TEDDY_SERVER_BODY_SCAN_BYTES;
        teddy_quote(body, scan, out->message, TEDDY_SERVER_TEXT_MAX_BYTES);
    }
}

static int by_field_then_reason(const void *a, const void *b)
{
    const teddy_field_error_t *x = a, *y = b;
    int c = strcmp(x->field, y->field);
    return c != 0 ? c : strcmp(teddy_field_reason_str(x->reason), teddy_field_reason_str(y->reason));
}

void teddy_bad_fields(const teddy_field_errors_t *errs, teddy_bad_answer_t *out)
{
    size_t count = errs != NULL ? errs->count : 0;
    teddy_field_error_t *sorted = count ? malloc(count * sizeof(*sorted)) : NULL;
    size_t size = count * (TEDDY_FIELD_NAME_MAX + 32) + 1;
    char *listing = count ? malloc(size) : NULL;
    out->field[0] = '\0';
    if (sorted == NULL || listing == NULL) {
        free(sorted);
        free(listing);
        snprintf(out->message, sizeof(out->message), "(body): invalid_json");
        return;
    }
    memcpy(sorted, errs->items, count * sizeof(*sorted));
    qsort(sorted, count, sizeof(*sorted), by_field_then_reason);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(listing + used, size - used, "%s%s: %s", i ? "; " : "",
                         sorted[i].field[0] != '\0' ? sorted[i].field : "(body)",
                         teddy_field_reason_str(sorted[i].reason));
        used += n > 0 && (size_t)n < size - used ? (size_t)n : 0;
    }
    snprintf(out->field, sizeof(out->field), "%s", sorted[0].field);
    teddy_quote(listing, used, out->message, TEDDY_SERVER_TEXT_MAX_BYTES);
    free(sorted);
    free(listing);
}
