/*
 * fuzz_manifest.c - libFuzzer harness for the firmware manifest parser and the
 * update decision (SPEC §5.1, §5.4), and the claim-response parser that shares
 * its strict field reader. An accepted manifest must always yield a decision.
 */
#include <stdlib.h>

#include "teddy_json.h"
#include "teddy_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static teddy_manifest_t manifest;
static teddy_claim_response_t claim;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    teddy_field_errors_t errs;
    if (teddy_manifest_parse(text, size, &manifest, &errs) == ESP_OK) {
        teddy_update_decision_t d;
        if (teddy_manifest_decide(&manifest, "1.2.0", "esp32", 1, &d) != ESP_OK ||
            teddy_manifest_decide(&manifest, "v2.0.0-rc.1+b7", "esp32s3", 0, &d) != ESP_OK) {
            abort(); /* a parsed manifest has a SemVer version */
        }
    } else if (errs.count > TEDDY_MAX_FIELD_ERRORS) {
        abort();
    }
    (void)teddy_claim_response_parse(text, size, &claim, &errs);
    teddy_config_t cfg;
    (void)teddy_config_parse(text, size, &cfg);
    return 0;
}
