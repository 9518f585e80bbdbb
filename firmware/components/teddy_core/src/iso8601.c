/*
 * iso8601.c - what Python 3.11 datetime.fromisoformat() accepts, for the
 * `timestamp` every server message carries (SPEC §6.4).
 *
 * The server and the reference parser are Python, so "valid" means "CPython 3.11
 * accepts it": this is a port of Modules/_datetimemodule.c (3.11)
 * _find_isoformat_datetime_separator, parse_isoformat_date, parse_isoformat_time and
 * parse_hh_mm_ss_ff, quirks included (e.g. one stray character before a UTC offset
 * is ignored, HH.fff is a time), plus the range checks datetime() itself applies.
 * Differentially fuzzed against the venv's Python.
 */
#include <string.h>

#include "teddy_util.h"

/* `n` ASCII digits at p (stops at the NUL like CPython's parse_digits); NULL if not. */
static const char *parse_digits(const char *p, int *var, size_t n)
{
    *var = 0;
    for (size_t i = 0; i < n; i++, p++) {
        unsigned d = (unsigned)(*p - '0');
        if (d > 9) {
            return NULL;
        }
        *var = *var * 10 + (int)d;
    }
    return p;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mdays[m - 1] + (m == 2 && leap(y));
}

/* Day of week of Jan 1 (0 = Monday), proleptic Gregorian. */
static int jan1_weekday(int y)
{
    long p = y - 1;
    return (int)((365L * p + p / 4 - p / 100 + p / 400) % 7);
}

/* CPython iso_to_ymd's validity checks (the computed date itself is not needed). */
static bool iso_week_ok(int year, int week, int day)
{
    if (week <= 0 || week >= 53) {
        int wd = jan1_weekday(year);
        if (!(week == 53 && (wd == 3 || (wd == 2 && leap(year))))) {
            return false;
        }
    }
    return day > 0 && day < 8;
}

static size_t find_separator(const char *s, size_t len)
{
    if (len == 7) {
        return 7;
    }
    if (s[4] == '-') {
        if (s[5] != 'W') {
            return 10; /* YYYY-MM-DD */
        }
        if (len < 8) {
            return (size_t)-1;
        }
        if (len > 8 && s[8] == '-') {
            if (len == 9) {
                return (size_t)-1;
            }
            return len > 10 && teddy_isdigit((unsigned char)s[10]) ? 8 : 10;
        }
        return 8; /* YYYY-Www */
    }
    if (s[4] == 'W') {
        size_t idx = 7;
        while (idx < len && teddy_isdigit((unsigned char)s[idx])) {
            idx++;
        }
        if (idx < 9) {
            return idx;
        }
        return idx % 2 == 0 ? 7 : 8;
    }
    return 8; /* YYYYMMDD */
}

static bool parse_date(const char *s, size_t len)
{
    int year, month, day;
    const char *p = parse_digits(s, &year, 4);
    if (!p) {
        return false;
    }
    bool sep = *p == '-';
    p += sep;
    if (*p == 'W') {
        int week, wday = 1;
        p = parse_digits(p + 1, &week, 2);
        if (!p) {
            return false;
        }
        if ((size_t)(p - s) < len) {
            if (sep && *(p++) != '-') {
                return false;
            }
            if (!parse_digits(p, &wday, 1)) {
                return false;
            }
        }
        return year >= 1 && iso_week_ok(year, week, wday);
    }
    p = parse_digits(p, &month, 2);
    if (!p || (sep && *(p++) != '-')) {
        return false;
    }
    if (!parse_digits(p, &day, 2)) {
        return false;
    }
    return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

/* Returns <0 on error, 0 when [p, end) was consumed, 1 when junk followed. */
static int parse_hh_mm_ss_ff(const char *p, const char *end, int vals[3], long *micro)
{
    bool has_sep = true;
    vals[0] = vals[1] = vals[2] = 0;
    *micro = 0;
    for (int i = 0; i < 3; i++) {
        p = parse_digits(p, &vals[i], 2);
        if (!p) {
            return -3;
        }
        char c = *(p++);
        if (i == 0) {
            has_sep = c == ':';
        }
        if (p >= end) {
            return c != '\0';
        }
        if (has_sep && c == ':') {
            continue;
        }
        if (c == '.' || c == ',') {
            break;
        }
        if (!has_sep) {
            --p;
        } else {
            return -4;
        }
    }
    size_t remains = (size_t)(end - p);
    size_t n = remains >= 6 ? 6 : remains;
    int us = 0;
    if (n == 0) {
        return -3; /* "HH:MM:SS." with nothing after the point */
    }
    p = parse_digits(p, &us, n);
    if (!p) {
        return -3;
    }
    *micro = us;
    while (teddy_isdigit((unsigned char)*p)) {
        ++p;
    }
    return *p != '\0';
}

static bool parse_time(const char *s, size_t len)
{
    const char *end = s + len, *tz = s;
    int t[3], z[3];
    long us, zus;
    do {
        if (*tz == 'Z' || *tz == '+' || *tz == '-') {
            break;
        }
    } while (++tz < end);
    int rv = parse_hh_mm_ss_ff(s, tz, t, &us);
    if (rv < 0 || t[0] > 23 || t[1] > 59 || t[2] > 59) {
        return false;
    }
    if (tz >= end) {
        return rv == 0 && tz == end;
    }
    /* With an offset, CPython ignores rv == 1 (a stray character): kept as is. */
    if (*tz == 'Z') {
        return tz[1] == '\0';
    }
    rv = parse_hh_mm_ss_ff(tz + 1, end, z, &zus);
    if (rv != 0) {
        return false;
    }
    /* timezone(): strictly between -24 h and +24 h */
    long long offset_us = ((long long)z[0] * 3600 + z[1] * 60 + z[2]) * 1000000LL + zus;
    return offset_us < 86400LL * 1000000LL;
}

bool teddy_iso8601_valid(const char *s)
{
    size_t len = strlen(s);
    uint32_t cp;
    if (len < 7) {
        return false;
    }
    size_t sep = find_separator(s, len);
    if (sep == (size_t)-1 || !parse_date(s, sep)) {
        return false;
    }
    if (len <= sep) {
        return true;
    }
    size_t n = teddy_utf8_next(s + sep, len - sep, &cp); /* any single character */
    return parse_time(s + sep + n, len - sep - n);
}
