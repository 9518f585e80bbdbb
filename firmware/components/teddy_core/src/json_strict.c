/*
 * json_strict.c - cJSON made as strict as protocol/_fields.py strict_loads.
 *
 * cJSON alone is lenient where Python is not: it reads "01", "+1", "1.", ".5",
 * raw control characters in strings and duplicate keys (a classic smuggling trick
 * between a Python server and a C client, SPEC §1.1). A small RFC 8259 recognizer
 * runs first; then cJSON builds the tree; then duplicate keys are refused and
 * every number written as an integer literal is tagged, so `7.0` is not an
 * integer (Python's is_int) while `7` is.
 */
#include <stdlib.h>
#include <string.h>

#include "teddy_json.h"

/* A cJSON type bit outside the 0xFF type mask and cJSON's own flags (256, 512). */
#define TEDDY_JSON_INT_FLAG (1 << 12)

typedef struct {
    const char *s;
    size_t len;
    size_t pos;
    int depth;
    uint8_t *ints; /* one entry per number literal, in document order */
    size_t nints;
    size_t cap;
    bool oom;
} scan_t;

static bool value(scan_t *p);

static void ws(scan_t *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return;
        }
        p->pos++;
    }
}

static bool peek(scan_t *p, char c)
{
    return p->pos < p->len && p->s[p->pos] == c;
}

static bool digit_at(scan_t *p)
{
    return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static bool push_int_flag(scan_t *p, bool is_int)
{
    if (p->nints == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        uint8_t *n = realloc(p->ints, cap);
        if (!n) {
            p->oom = true;
            return false;
        }
        p->ints = n;
        p->cap = cap;
    }
    p->ints[p->nints++] = is_int;
    return true;
}

static bool number(scan_t *p)
{
    bool is_int = true;
    if (peek(p, '-')) {
        p->pos++;
    }
    if (peek(p, '0')) {
        p->pos++;
    } else if (digit_at(p)) {
        while (digit_at(p)) {
            p->pos++;
        }
    } else {
        return false;
    }
    if (peek(p, '.')) {
        is_int = false;
        p->pos++;
        if (!digit_at(p)) {
            return false;
        }
        while (digit_at(p)) {
            p->pos++;
        }
    }
    if (peek(p, 'e') || peek(p, 'E')) {
        is_int = false;
        p->pos++;
        if (peek(p, '+') || peek(p, '-')) {
            p->pos++;
        }
        if (!digit_at(p)) {
            return false;
        }
        while (digit_at(p)) {
            p->pos++;
        }
    }
    return push_int_flag(p, is_int);
}

static bool string(scan_t *p)
{
    p->pos++; /* opening quote */
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c == '"') {
            return true;
        }
        if (c < 0x20) {
            return false; /* Python's strict mode refuses raw control characters */
        }
        if (c != '\\') {
            continue;
        }
        if (p->pos >= p->len) {
            return false;
        }
        c = (unsigned char)p->s[p->pos++];
        if (c == 'u') {
            for (int i = 0; i < 4; i++, p->pos++) {
                if (p->pos >= p->len) {
                    return false;
                }
                char h = p->s[p->pos];
                if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
                    return false;
                }
            }
        } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
            return false;
        }
    }
    return false;
}

static bool literal(scan_t *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
        return false;
    }
    p->pos += n;
    return true;
}

static bool container(scan_t *p, char close, bool object)
{
    p->pos++;
    if (++p->depth > TEDDY_JSON_MAX_DEPTH) {
        return false;
    }
    ws(p);
    if (peek(p, close)) {
        p->pos++;
        p->depth--;
        return true;
    }
    for (;;) {
        if (object) {
            if (!peek(p, '"') || !string(p)) {
                return false;
            }
            ws(p);
            if (!peek(p, ':')) {
                return false;
            }
            p->pos++;
        }
        if (!value(p)) {
            return false;
        }
        ws(p);
        if (peek(p, ',')) {
            p->pos++;
            ws(p);
            continue;
        }
        if (!peek(p, close)) {
            return false;
        }
        p->pos++;
        p->depth--;
        return true;
    }
}

static bool value(scan_t *p)
{
    ws(p);
    if (p->pos >= p->len) {
        return false;
    }
    switch (p->s[p->pos]) {
    case '{': return container(p, '}', true);
    case '[': return container(p, ']', false);
    case '"': return string(p);
    case 't': return literal(p, "true");
    case 'f': return literal(p, "false");
    case 'n': return literal(p, "null");
    default: return number(p);
    }
}

/* Pre-order walk: tag integer literals, refuse duplicate keys. */
static bool annotate(cJSON *item, const scan_t *p, size_t *next)
{
    for (; item; item = item->next) {
        if (cJSON_IsNumber(item)) {
            if (*next >= p->nints) {
                return false; /* cannot happen: the scan saw every number */
            }
            if (p->ints[(*next)++]) {
                item->type |= TEDDY_JSON_INT_FLAG;
            }
        }
        if (cJSON_IsObject(item)) {
            for (cJSON *a = item->child; a; a = a->next) {
                for (cJSON *b = item->child; b != a; b = b->next) {
                    if (strcmp(a->string, b->string) == 0) {
                        return false;
                    }
                }
            }
        }
        if ((cJSON_IsObject(item) || cJSON_IsArray(item)) && !annotate(item->child, p, next)) {
            return false;
        }
    }
    return true;
}

esp_err_t teddy_json_parse(const char *text, size_t len, cJSON **out)
{
    scan_t p = {.s = text, .len = len};
    *out = NULL;
    if (!text) {
        return ESP_ERR_INVALID_ARG;
    }
    bool ok = value(&p);
    ws(&p);
    if (!ok || p.pos != p.len) {
        esp_err_t err = p.oom ? ESP_ERR_NO_MEM : ESP_ERR_INVALID_ARG;
        free(p.ints);
        return err;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        /* Grammar was fine, so this is memory or a lone surrogate escape cJSON refuses. */
        free(p.ints);
        return ESP_ERR_INVALID_ARG;
    }
    size_t next = 0;
    root->next = NULL;
    ok = annotate(root, &p, &next);
    free(p.ints);
    if (!ok) {
        cJSON_Delete(root);
        return ESP_ERR_INVALID_ARG;
    }
    *out = root;
    return ESP_OK;
}

bool teddy_json_is_int(const cJSON *item)
{
    return item && cJSON_IsNumber(item) && (item->type & TEDDY_JSON_INT_FLAG);
}
