/* lx_image.h - app image checks of the host bootloader (private to port_linux). */
#ifndef LX_IMAGE_H
#define LX_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char version[32];
    uint32_t secure_version;
    uint16_t chip_id;
} lx_image_info_t;

/* A complete, intact app image (header, segments, checksum, SHA-256, app desc). */
bool lx_image_check(const uint8_t *data, size_t len, lx_image_info_t *info);
/* A valid factory image (malloc'd), like protocol.image.build_app_image(version=...). */
uint8_t *lx_image_build(const char *version, const char *chip, uint32_t secure_version,
                        size_t *out_len);
/* The TEDDY-BEHAVIOUR:{json} marker of emulator/README.md, if any. */
void lx_image_behaviour(const uint8_t *data, size_t len, bool *network_broken,
                        int32_t *panic_after_ms);

#endif /* LX_IMAGE_H */
