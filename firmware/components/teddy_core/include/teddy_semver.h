/*
 * teddy_semver.h - SemVer 2.0.0 parsing and precedence (SPEC §5.4).
 *
 * Replaces the original firmware's string inequality (defect 16). Same grammar as
 * protocol/semver.py: the official semver.org regex with an optional leading "v",
 * at most 256 characters; build metadata is kept but ignored for precedence.
 * Numeric parts are compared as digit strings, so any length compares exactly
 * (Python ints are unbounded too).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teddy_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEDDY_SEMVER_MAX_LEN 256

/** A part of `text`: offset and length (offsets survive copying the struct). */
typedef struct {
    uint16_t off;
    uint16_t len;
} teddy_semver_span_t;

typedef struct {
    char text[TEDDY_SEMVER_MAX_LEN + 1]; /* the input, as given */
    teddy_semver_span_t major, minor, patch; /* digit strings */
    teddy_semver_span_t pre;   /* dot-separated prerelease, len 0 when none */
    teddy_semver_span_t build; /* dot-separated build metadata, len 0 when none */
    uint64_t major_num, minor_num, patch_num; /* saturate at UINT64_MAX */
} teddy_semver_t;

/** Parse `s`; ESP_ERR_INVALID_ARG when it is not SemVer 2.0.0 (or too long). */
esp_err_t teddy_semver_parse(const char *s, teddy_semver_t *out);
/** True when `s` parses. */
bool teddy_semver_valid(const char *s);
/** -1, 0 or 1 by SemVer precedence (build metadata ignored). */
int teddy_semver_compare(const teddy_semver_t *a, const teddy_semver_t *b);
/** Compare two strings; ESP_ERR_INVALID_ARG when either is invalid. */
esp_err_t teddy_semver_compare_str(const char *a, const char *b, int *result);
/** True when the version has a prerelease part. */
bool teddy_semver_is_prerelease(const teddy_semver_t *v);

#ifdef __cplusplus
}
#endif
