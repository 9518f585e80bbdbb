/*
 * teddy_util.h - small string helpers shared by the core's parsers (private).
 *
 * The Python reference works on str (code points), so lengths and whitespace here
 * are Unicode-aware: a length limit counts code points, and "whitespace" is
 * Python's str.isspace set, so C and Python agree on `len` and `.strip()`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Decode one UTF-8 sequence at `s` (at most `len` bytes). Returns its byte length
 * (>= 1) and stores the code point; a malformed byte decodes as itself (length 1),
 * like a lenient reader, so callers never loop forever.
 */
size_t teddy_utf8_next(const char *s, size_t len, uint32_t *cp);
/** Python str.isspace() for one code point. */
bool teddy_uni_isspace(uint32_t cp);
/** True when the whole string is Python-whitespace (or empty). */
bool teddy_str_blank(const char *s);
/** Copy `src` into `dst` (NUL-terminated); false when it does not fit (dst gets ""). */
bool teddy_strlcpy(char *dst, const char *src, size_t dst_size);
/** True when every char of s (len > 0) is in [A-Za-z0-9_-]. */
bool teddy_is_id(const char *s);
/** ASCII digit / alpha / alnum without locale. */
static inline bool teddy_isdigit(int c) { return c >= '0' && c <= '9'; }
static inline bool teddy_isalpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline bool teddy_isalnum(int c) { return teddy_isdigit(c) || teddy_isalpha(c); }
static inline bool teddy_isxdigit(int c)
{
    return teddy_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/**
 * Python `re.fullmatch(r"<scheme>://[^\s/?#]+/\S*")` with `schemes` a list of
 * accepted scheme strings (NULL-terminated). \s is Unicode whitespace.
 */
bool teddy_url_match(const char *s, const char *const *schemes);
/**
 * Path of a ws(s)/http(s) URL: from the first '/' after "://" up to '?' or '#'
 * ("" when absent, as urllib.parse.urlsplit). Writes into out; false when it does not fit.
 */
bool teddy_url_path(const char *url, char *out, size_t out_size);
/** Python 3.11 datetime.fromisoformat() acceptance. */
bool teddy_iso8601_valid(const char *s);
