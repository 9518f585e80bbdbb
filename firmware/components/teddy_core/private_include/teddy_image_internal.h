/*
 * teddy_image_internal.h - shared by image.c and image_verify.c (private).
 */
#pragma once

#include "teddy_image.h"

/**
 * protocol.manifest._check_identity: image chip and manifest chip must be the
 * device's (wrong_chip), descriptor secure_version >= the device's
 * (secure_version_too_low), descriptor version == manifest version (version_mismatch).
 */
esp_err_t teddy_image_check_identity(const teddy_image_header_t *h, const teddy_app_desc_t *d,
                                     const teddy_manifest_t *m, const char *chip,
                                     uint32_t min_secure_version, teddy_image_err_t *reason);
