/*
 * fuzz_image.c - libFuzzer harness for app image parsing (SPEC §5.3, §5.4): the
 * whole-image reader and the streaming verifier fed in uneven chunks. Lengths in
 * an image are attacker-controlled 32-bit values; ASan checks every access.
 */
#include <string.h>

#include "teddy_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    teddy_image_info_t info;
    teddy_image_err_t why;
    (void)teddy_image_read(data, size, &info, &why);
    teddy_manifest_t m;
    memset(&m, 0, sizeof(m));
    strcpy(m.chip, "esp32");
    strcpy(m.version, "1.3.0");
    m.size = (int64_t)size;
    teddy_image_verifier_t v;
    if (teddy_image_verifier_init(&v, &m, "esp32", 0) == ESP_OK) {
        esp_err_t err = ESP_OK;
        for (size_t off = 0, step = 1; off < size && err == ESP_OK; off += step, step = step * 3 % 500 + 1) {
            size_t n = size - off < step ? size - off : step;
            err = teddy_image_verifier_feed(&v, data + off, n, &why);
        }
        if (err == ESP_OK) {
            (void)teddy_image_verifier_finish(&v, &why);
        }
        teddy_image_verifier_free(&v);
    }
    return 0;
}
