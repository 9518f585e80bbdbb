/*
 * fuzz_eventline.c - libFuzzer harness for `@teddy` event lines (SPEC §8).
 * Invariant: a parsed event formats back to a line that parses to the same event.
 */
#include <stdlib.h>
#include <string.h>

#include "teddy_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line) {
        return 0;
    }
    memcpy(line, data, size);
    line[size] = '\0';
    teddy_event_t ev, again;
    if (teddy_event_parse(line, &ev) == ESP_OK) {
        size_t cap = 4 * size + 64;
        char *out = malloc(cap);
        if (out && teddy_event_format(out, cap, ev.uptime_ms, ev.name, ev.data) == ESP_OK) {
            if (teddy_event_parse(out, &again) != ESP_OK || again.uptime_ms != ev.uptime_ms ||
                strcmp(again.name, ev.name) != 0 || !cJSON_Compare(again.data, ev.data, true)) {
                abort();
            }
            teddy_event_free(&again);
        }
        free(out);
        teddy_event_free(&ev);
    }
    free(line);
    return 0;
}
