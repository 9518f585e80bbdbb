/*
 * semver.c - SemVer 2.0.0 (semver.org regex, optional leading "v") and precedence
 * (SemVer §11), ported from protocol/semver.py for the update decision of SPEC
 * §5.4. Numbers are compared as digit strings (no leading zeros are allowed, so a
 * longer string is a bigger number): no overflow whatever the input length.
 */
#include <string.h>

#include "teddy_semver.h"
#include "teddy_util.h"

/* 0|[1-9]\d* at s[*i]; sets span. */
static bool num_part(const char *s, size_t *i, teddy_semver_span_t *span)
{
    size_t start = *i;
    if (s[*i] == '0') {
        (*i)++;
    } else if (s[*i] >= '1' && s[*i] <= '9') {
        while (teddy_isdigit((unsigned char)s[*i])) {
            (*i)++;
        }
    } else {
        return false;
    }
    span->off = (uint16_t)start;
    span->len = (uint16_t)(*i - start);
    return true;
}

static bool ident_char(char c)
{
    return teddy_isalnum((unsigned char)c) || c == '-';
}

/* One prerelease identifier: 0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]* */
static bool pre_ident(const char *s, size_t *i)
{
    size_t start = *i;
    bool alpha = false;
    while (ident_char(s[*i])) {
        if (!teddy_isdigit((unsigned char)s[*i])) {
            alpha = true;
        }
        (*i)++;
    }
    size_t n = *i - start;
    if (n == 0) {
        return false;
    }
    return alpha || n == 1 || s[start] != '0';
}

static bool build_ident(const char *s, size_t *i)
{
    size_t start = *i;
    while (ident_char(s[*i])) {
        (*i)++;
    }
    return *i > start;
}

static uint64_t to_u64(const char *s, teddy_semver_span_t sp)
{
    uint64_t v = 0;
    for (size_t i = 0; i < sp.len; i++) {
        unsigned d = (unsigned)(s[sp.off + i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return UINT64_MAX;
        }
        v = v * 10 + d;
    }
    return v;
}

esp_err_t teddy_semver_parse(const char *s, teddy_semver_t *out)
{
    if (!s || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    size_t len = strlen(s);
    if (len > TEDDY_SEMVER_MAX_LEN) {
        return ESP_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->text, s, len + 1);
    const char *t = out->text;
    size_t i = t[0] == 'v' ? 1 : 0;
    if (!num_part(t, &i, &out->major) || t[i++] != '.' || !num_part(t, &i, &out->minor) ||
        t[i++] != '.' || !num_part(t, &i, &out->patch)) {
        return ESP_ERR_INVALID_ARG;
    }
    if (t[i] == '-') {
        size_t start = ++i;
        do {
            if (!pre_ident(t, &i)) {
                return ESP_ERR_INVALID_ARG;
            }
        } while (t[i] == '.' && ++i);
        out->pre.off = (uint16_t)start;
        out->pre.len = (uint16_t)(i - start);
    }
    if (t[i] == '+') {
        size_t start = ++i;
        do {
            if (!build_ident(t, &i)) {
                return ESP_ERR_INVALID_ARG;
            }
        } while (t[i] == '.' && ++i);
        out->build.off = (uint16_t)start;
        out->build.len = (uint16_t)(i - start);
    }
    if (i != len) {
        return ESP_ERR_INVALID_ARG;
    }
    out->major_num = to_u64(t, out->major);
    out->minor_num = to_u64(t, out->minor);
    out->patch_num = to_u64(t, out->patch);
    return ESP_OK;
}

bool teddy_semver_valid(const char *s)
{
    teddy_semver_t v;
    return teddy_semver_parse(s, &v) == ESP_OK;
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static int cmp_digits(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen) {
        return alen < blen ? -1 : 1;
    }
    return sign(memcmp(a, b, alen));
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!teddy_isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/* SemVer §11.4: numeric < alphanumeric; numbers numerically; text in ASCII order. */
static int cmp_ident(const char *a, size_t alen, const char *b, size_t blen)
{
    bool an = all_digits(a, alen), bn = all_digits(b, blen);
    if (an && bn) {
        return cmp_digits(a, alen, b, blen);
    }
    if (an != bn) {
        return an ? -1 : 1;
    }
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) {
        return sign(c);
    }
    return (alen > blen) - (alen < blen);
}

static int cmp_pre(const teddy_semver_t *a, const teddy_semver_t *b)
{
    if (!a->pre.len || !b->pre.len) {
        /* A release outranks its prereleases: 1.0.0-rc.1 < 1.0.0. */
        return (a->pre.len == 0) - (b->pre.len == 0);
    }
    const char *p = a->text + a->pre.off, *pe = p + a->pre.len;
    const char *q = b->text + b->pre.off, *qe = q + b->pre.len;
    while (p < pe && q < qe) {
        const char *pd = memchr(p, '.', (size_t)(pe - p));
        const char *qd = memchr(q, '.', (size_t)(qe - q));
        pd = pd ? pd : pe;
        qd = qd ? qd : qe;
        int c = cmp_ident(p, (size_t)(pd - p), q, (size_t)(qd - q));
        if (c) {
            return c;
        }
        p = pd < pe ? pd + 1 : pe;
        q = qd < qe ? qd + 1 : qe;
    }
    return (p < pe) - (q < qe); /* more identifiers = higher precedence */
}

int teddy_semver_compare(const teddy_semver_t *a, const teddy_semver_t *b)
{
    const teddy_semver_span_t *pa[3] = {&a->major, &a->minor, &a->patch};
    const teddy_semver_span_t *pb[3] = {&b->major, &b->minor, &b->patch};
    for (int i = 0; i < 3; i++) {
        int c = cmp_digits(a->text + pa[i]->off, pa[i]->len, b->text + pb[i]->off, pb[i]->len);
        if (c) {
            return c;
        }
    }
    return cmp_pre(a, b);
}

esp_err_t teddy_semver_compare_str(const char *a, const char *b, int *result)
{
    teddy_semver_t va, vb;
    if (!result || teddy_semver_parse(a, &va) != ESP_OK || teddy_semver_parse(b, &vb) != ESP_OK) {
        return ESP_ERR_INVALID_ARG;
    }
    *result = teddy_semver_compare(&va, &vb);
    return ESP_OK;
}

bool teddy_semver_is_prerelease(const teddy_semver_t *v)
{
    return v->pre.len > 0;
}
