/*
 * teddy_manifest.h - firmware manifest (SPEC §5.1) and the device's update decision
 * (SPEC §5.4), ported from protocol/manifest.py.
 *
 * Parsing is strict and collects every field error (extra keys allowed). The
 * decision checks chip, then SemVer precedence, then anti-rollback; `mandatory`
 * never forces a downgrade or a re-install.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cJSON.h"
#include "teddy_err.h"
#include "teddy_json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEDDY_MANIFEST_VERSION_MAX 31     /* esp_app_desc_t.version is char[32] */
#define TEDDY_MANIFEST_URL_MAX 511        /* longer URLs are refused as too_long */
#define TEDDY_MANIFEST_NOTES_MAX_CHARS 1024
#define TEDDY_CHIP_NAME_MAX 15

typedef struct {
    char version[TEDDY_MANIFEST_VERSION_MAX + 1];
    char url[TEDDY_MANIFEST_URL_MAX + 1];
    char sha256[64 + 1];                  /* lower-case hex */
    int64_t size;                         /* bytes, >= 1 */
    bool mandatory;
    uint32_t secure_version;
    char chip[TEDDY_CHIP_NAME_MAX + 1];   /* "esp32", "esp32s3", ... */
    char notes[TEDDY_MANIFEST_NOTES_MAX_CHARS * 4 + 1];
} teddy_manifest_t;

/**
 * Parse manifest JSON text like FirmwareManifest.from_json. ESP_ERR_INVALID_ARG when
 * invalid: `errs` (may be NULL) lists every field error; text that is not JSON
 * gives zero errors, a non-object one {"", must_be_object}.
 */
esp_err_t teddy_manifest_parse(const char *text, size_t len, teddy_manifest_t *out,
                               teddy_field_errors_t *errs);
/** Same, from a parsed JSON value. */
esp_err_t teddy_manifest_from_json(const cJSON *obj, teddy_manifest_t *out,
                                   teddy_field_errors_t *errs);

typedef enum {
    TEDDY_UPDATE_SKIP = 0,
    TEDDY_UPDATE_UPDATE,
} teddy_update_action_t;

typedef enum {
    TEDDY_UPDATE_NEWER_VERSION = 0,
    TEDDY_UPDATE_SAME_VERSION,
    TEDDY_UPDATE_OLDER_VERSION,
    TEDDY_UPDATE_WRONG_CHIP,
    TEDDY_UPDATE_SECURE_VERSION_TOO_LOW,
} teddy_update_reason_t;

typedef struct {
    teddy_update_action_t action;
    teddy_update_reason_t reason;
} teddy_update_decision_t;

/** "update" / "skip". */
const char *teddy_update_action_str(teddy_update_action_t action);
/** "newer_version", "same_version", ... (the `ota.none{reason}` values, SPEC §8). */
const char *teddy_update_reason_str(teddy_update_reason_t reason);

/**
 * Device-side update decision (SPEC §5.4). ESP_ERR_INVALID_ARG when
 * `running_version` or the manifest version is not SemVer.
 */
esp_err_t teddy_manifest_decide(const teddy_manifest_t *m, const char *running_version,
                                const char *chip, uint32_t secure_version,
                                teddy_update_decision_t *out);

/** Image chip id of a chip name (SPEC §5.3); ESP_ERR_NOT_FOUND when unknown. */
esp_err_t teddy_chip_id(const char *name, int *chip_id);
/** Chip name of an image chip id, NULL when unknown. */
const char *teddy_chip_name(int chip_id);

#ifdef __cplusplus
}
#endif
