/*
 * util.c - Unicode-aware length/whitespace helpers, URL and ISO 8601 checks.
 *
 * Python measures and strips strings by code point and its `\s` / str.isspace()
 * include Unicode spaces; the device must refuse exactly what the protocol package refuses
 * (SPEC §1.1), so these helpers mirror those rules instead of <ctype.h>.
 */
#include <string.h>

#include "teddy_json.h"
#include "teddy_util.h"

size_t teddy_utf8_next(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[0];
    size_t n;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        v = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        v = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        v = c & 0x07;
    } else {
        *cp = c;
        return 1;
    }
    if (n > len) {
        *cp = c;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3F);
    }
    *cp = v;
    return n;
}

size_t teddy_utf8_len(const char *s)
{
    size_t len = strlen(s), count = 0;
    uint32_t cp;
    for (size_t i = 0; i < len; count++) {
        i += teddy_utf8_next(s + i, len - i, &cp);
    }
    return count;
}

bool teddy_uni_isspace(uint32_t cp)
{
    if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20)) {
        return true;
    }
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

bool teddy_str_blank(const char *s)
{
    size_t len = strlen(s);
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        i += teddy_utf8_next(s + i, len - i, &cp);
        if (!teddy_uni_isspace(cp)) {
            return false;
        }
    }
    return true;
}

bool teddy_strlcpy(char *dst, const char *src, size_t dst_size)
{
    size_t len = strlen(src);
    if (dst_size == 0) {
        return false;
    }
    if (len >= dst_size) {
        dst[0] = '\0';
        return false;
    }
    memcpy(dst, src, len + 1);
    return true;
}

bool teddy_is_id(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!teddy_isalnum((unsigned char)*s) && *s != '_' && *s != '-') {
            return false;
        }
    }
    return true;
}

bool teddy_url_match(const char *s, const char *const *schemes)
{
    size_t len = strlen(s), i = 0, host = 0;
    uint32_t cp;
    const char *rest = NULL;
    for (; *schemes; schemes++) {
        size_t n = strlen(*schemes);
        if (strncmp(s, *schemes, n) == 0 && strncmp(s + n, "://", 3) == 0) {
            rest = s + n + 3;
            break;
        }
    }
    if (!rest) {
        return false;
    }
    i = (size_t)(rest - s);
    /* [^\s/?#]+ then "/" */
    while (i < len && s[i] != '/') {
        size_t n = teddy_utf8_next(s + i, len - i, &cp);
        if (teddy_uni_isspace(cp) || cp == '?' || cp == '#') {
            return false;
        }
        i += n;
        host++;
    }
    if (host == 0 || i >= len) {
        return false;
    }
    for (i++; i < len;) { /* \S* */
        i += teddy_utf8_next(s + i, len - i, &cp);
        if (teddy_uni_isspace(cp)) {
            return false;
        }
    }
    return true;
}

bool teddy_url_path(const char *url, char *out, size_t out_size)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p) {
        return teddy_strlcpy(out, "", out_size); /* urlsplit() gives "" too */
    }
    size_t n = strcspn(p, "?#");
    if (n >= out_size) {
        if (out_size) {
            out[0] = '\0';
        }
        return false;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}
