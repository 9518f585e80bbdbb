/*
 * manifest.c - firmware manifest parsing (SPEC §5.1) and the device's update
 * decision (SPEC §5.4), ported from protocol/manifest.py.
 *
 * Fixes the original OTA defects (16): SemVer instead of string inequality, the
 * manifest's real field names, chip and anti-rollback (`secure_version`) checks.
 */
#include <string.h>

#include "teddy_fields.h"
#include "teddy_manifest.h"
#include "teddy_wire.h"
#include "teddy_semver.h"
#include "teddy_util.h"

typedef struct {
    const char *name;
    int id;
} chip_t;

/* Image chip ids as esptool writes them into the extended header (SPEC §5.3), from
 * protocol/constants.py CHIP_IDS (teddy_wire.h). */
static const chip_t CHIPS[] = TEDDY_CHIP_IDS_INIT;
#define N_CHIPS (sizeof(CHIPS) / sizeof(CHIPS[0]))

esp_err_t teddy_chip_id(const char *name, int *chip_id)
{
    for (size_t i = 0; name && i < N_CHIPS; i++) {
        if (strcmp(CHIPS[i].name, name) == 0) {
            if (chip_id) {
                *chip_id = CHIPS[i].id;
            }
            return ESP_OK;
        }
    }
    return ESP_ERR_NOT_FOUND;
}

const char *teddy_chip_name(int chip_id)
{
    for (size_t i = 0; i < N_CHIPS; i++) {
        if (CHIPS[i].id == chip_id) {
            return CHIPS[i].name;
        }
    }
    return NULL;
}

static bool http_url(const char *s)
{
    static const char *const schemes[] = {"http", "https", NULL};
    return teddy_url_match(s, schemes);
}

esp_err_t teddy_manifest_from_json(const cJSON *obj, teddy_manifest_t *out,
                                   teddy_field_errors_t *errs)
{
    teddy_field_errors_t local;
    errs = errs ? errs : &local;
    tf_errors_clear(errs);
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(obj)) {
        tf_not_object(errs);
        return ESP_ERR_INVALID_ARG;
    }
    tf_reader_t r;
    int64_t secure = 0;
    tf_init(&r, obj, errs);
    const char *version = tf_string(&r, "version", 1, TEDDY_MANIFEST_VERSION_MAX, NULL);
    if (version && !teddy_semver_valid(version)) {
        tf_fail(&r, "version", TEDDY_REASON_NOT_SEMVER);
        version = NULL;
    }
    const char *url = tf_string(&r, "url", 1, TF_NO_MAX, NULL);
    if (url && !http_url(url)) {
        tf_fail(&r, "url", TEDDY_REASON_NOT_URL);
        url = NULL;
    }
    const char *sha = tf_hex_string(&r, "sha256", 64, 64, true);
    tf_integer(&r, "size", true, 1, false, 0, &out->size);
    tf_boolean(&r, "mandatory", false, false, &out->mandatory);
    tf_integer(&r, "secure_version", true, 0, true, 4294967295.0, &secure);
    const char *chip = tf_string(&r, "chip", 1, TF_NO_MAX, NULL);
    if (chip && teddy_chip_id(chip, NULL) != ESP_OK) {
        tf_fail(&r, "chip", TEDDY_REASON_UNSUPPORTED_VALUE);
        chip = NULL;
    }
    const char *notes = tf_string(&r, "notes", 0, TEDDY_MANIFEST_NOTES_MAX_CHARS, NULL);
    if (tf_has_errors(&r)) {
        return ESP_ERR_INVALID_ARG;
    }
    out->secure_version = (uint32_t)secure;
    tf_copy(&r, "version", version, out->version, sizeof(out->version));
    tf_copy(&r, "url", url, out->url, sizeof(out->url));
    tf_copy(&r, "sha256", sha, out->sha256, sizeof(out->sha256));
    tf_lower(out->sha256);
    tf_copy(&r, "chip", chip, out->chip, sizeof(out->chip));
    tf_copy(&r, "notes", notes, out->notes, sizeof(out->notes));
    return tf_has_errors(&r) ? ESP_ERR_INVALID_ARG : ESP_OK;
}

esp_err_t teddy_manifest_parse(const char *text, size_t len, teddy_manifest_t *out,
                               teddy_field_errors_t *errs)
{
    cJSON *root = NULL;
    tf_errors_clear(errs);
    esp_err_t err = teddy_json_parse(text, len, &root);
    if (err != ESP_OK) {
        memset(out, 0, sizeof(*out));
        return err;
    }
    err = teddy_manifest_from_json(root, out, errs);
    cJSON_Delete(root);
    return err;
}

const char *teddy_update_action_str(teddy_update_action_t action)
{
    return action == TEDDY_UPDATE_UPDATE ? "update" : "skip";
}

const char *teddy_update_reason_str(teddy_update_reason_t reason)
{
    switch (reason) {
    case TEDDY_UPDATE_NEWER_VERSION: return "newer_version";
    case TEDDY_UPDATE_SAME_VERSION: return "same_version";
    case TEDDY_UPDATE_OLDER_VERSION: return "older_version";
    case TEDDY_UPDATE_WRONG_CHIP: return "wrong_chip";
    case TEDDY_UPDATE_SECURE_VERSION_TOO_LOW: return "secure_version_too_low";
    }
    return "";
}

esp_err_t teddy_manifest_decide(const teddy_manifest_t *m, const char *running_version,
                                const char *chip, uint32_t secure_version,
                                teddy_update_decision_t *out)
{
    teddy_semver_t running, offered;
    if (!m || !running_version || !chip || !out) {
        return ESP_ERR_INVALID_ARG;
    }
    out->action = TEDDY_UPDATE_SKIP;
    /* Order matters (SPEC §5.4): chip, then version precedence, then anti-rollback. */
    if (strcmp(m->chip, chip) != 0) {
        out->reason = TEDDY_UPDATE_WRONG_CHIP;
        return ESP_OK;
    }
    if (teddy_semver_parse(running_version, &running) != ESP_OK ||
        teddy_semver_parse(m->version, &offered) != ESP_OK) {
        return ESP_ERR_INVALID_ARG;
    }
    int order = teddy_semver_compare(&offered, &running);
    if (order == 0) {
        out->reason = TEDDY_UPDATE_SAME_VERSION; /* build metadata ignored: 1.2.0+a == 1.2.0+b */
    } else if (order < 0) {
        out->reason = TEDDY_UPDATE_OLDER_VERSION; /* `mandatory` never forces a downgrade */
    } else if (m->secure_version < secure_version) {
        out->reason = TEDDY_UPDATE_SECURE_VERSION_TOO_LOW;
    } else {
        out->action = TEDDY_UPDATE_UPDATE;
        out->reason = TEDDY_UPDATE_NEWER_VERSION;
    }
    return ESP_OK;
}
