/*
 * teddy_console_internal.h - shared by console.c, console_words.c and
 * console_format.c (private).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "teddy_console.h"

/* Python str.split()/str.strip() whitespace walking (Unicode-aware). */
size_t tc_skip_space(const char *s, size_t i, size_t len);
size_t tc_skip_nonspace(const char *s, size_t i, size_t len);
/** Length of s[0..len) without trailing Unicode whitespace. */
size_t tc_rstrip_len(const char *s, size_t len);

#define TC_MAX_WORDS 3 /* more than any command takes; the count is still exact */

typedef struct {
    size_t count;
    char words[TC_MAX_WORDS][TEDDY_CONSOLE_ARG_MAX + 1];
} tc_words_t;

/**
 * shlex.split(s, posix=True, comments=False): quotes, backslash escapes, whitespace
 * " \t\r\n". False on an unclosed quote or a trailing backslash (bad_quoting), with
 * shlex's own words for it in *why ("No closing quotation", "No escaped character").
 * `s` must be at most TEDDY_CONSOLE_LINE_MAX bytes.
 */
bool tc_shlex_split(const char *s, tc_words_t *w, const char **why);
