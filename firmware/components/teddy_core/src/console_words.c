/*
 * console_words.c - word splitting for the console grammar (SPEC §9), exactly as
 * protocol/console.py does it: the command word and choice arguments split on
 * Unicode whitespace (str.split), `set`/`get`/quoted `talk` arguments with POSIX
 * shlex rules (quotes, backslash escapes, whitespace " \t\r\n").
 */
#include <string.h>

#include "teddy_console_internal.h"
#include "teddy_util.h"

/* --- Unicode whitespace helpers (str.strip / str.split) ------------------------------- */

size_t tc_skip_space(const char *s, size_t i, size_t len)
{
    uint32_t cp;
    while (i < len) {
        size_t n = teddy_utf8_next(s + i, len - i, &cp);
        if (!teddy_uni_isspace(cp)) {
            break;
        }
        i += n;
    }
    return i;
}

size_t tc_skip_nonspace(const char *s, size_t i, size_t len)
{
    uint32_t cp;
    while (i < len) {
        size_t n = teddy_utf8_next(s + i, len - i, &cp);
        if (teddy_uni_isspace(cp)) {
            break;
        }
        i += n;
    }
    return i;
}

/* Length of s[0..len) without trailing Unicode whitespace. */
size_t tc_rstrip_len(const char *s, size_t len)
{
    size_t end = 0;
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = teddy_utf8_next(s + i, len - i, &cp);
        i += n;
        if (!teddy_uni_isspace(cp)) {
            end = i;
        }
    }
    return end;
}

/* --- shlex.split(posix=True, comments=False) ------------------------------------------ */

static bool shlex_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool tc_shlex_split(const char *s, tc_words_t *w, const char **why)
{
    *why = "No closing quotation";
    size_t i = 0, len = strlen(s);
    w->count = 0;
    while (i < len) {
        while (i < len && shlex_space(s[i])) {
            i++;
        }
        if (i >= len) {
            break;
        }
        char tmp[TEDDY_CONSOLE_ARG_MAX + 1];
        size_t t = 0;
        while (i < len && !shlex_space(s[i])) {
            char c = s[i++];
            if (c == '\\') {
                if (i >= len) {
                    *why = "No escaped character";
                    return false;
                }
                tmp[t++] = s[i++];
            } else if (c == '\'') {
                while (i < len && s[i] != '\'') {
                    tmp[t++] = s[i++];
                }
                if (i++ >= len) {
                    return false; /* *why: "No closing quotation" */
                }
            } else if (c == '"') {
                while (i < len && s[i] != '"') {
                    if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\')) {
                        i++;
                    }
                    tmp[t++] = s[i++];
                }
                if (i++ >= len) {
                    return false;
                }
            } else {
                tmp[t++] = c;
            }
        }
        tmp[t] = '\0';
        if (w->count < TC_MAX_WORDS) {
            memcpy(w->words[w->count], tmp, t + 1);
        }
        w->count++;
    }
    return true;
}
