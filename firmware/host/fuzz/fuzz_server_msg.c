/*
 * fuzz_server_msg.c - libFuzzer harness for the WebSocket message parsers (SPEC
 * §6.3, §6.4): every server frame the device could receive, plus the device-side
 * parser and the reply assembler. Invariants: no crash, no leak, and a frame the
 * parser accepts re-encodes (audio_response) to something it accepts again.
 */
#include <stdlib.h>
#include <string.h>

#include "teddy_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data; /* not NUL-terminated: parsers take a length */
    teddy_server_msg_t m;
    teddy_msg_error_t err;
    if (teddy_msg_parse_server(text, size, TEDDY_DOWNLINK_MAX_FRAME_BYTES - 1, &m, &err) == ESP_OK) {
        /* cJSON numbers are doubles: re-encoding is exact up to 2^53 only. */
        if (m.type == TEDDY_SMSG_AUDIO_RESPONSE && m.seq <= (1LL << 53)) {
            teddy_audio_rx_t rx;
            bool done;
            teddy_audio_rx_reset(&rx);
            (void)teddy_audio_rx_feed(&rx, &m, &done, &err);
            size_t cap = 4 * m.pcm_len / 3 + 4 * (m.text ? strlen(m.text) : 0) + 4096;
            char *out = malloc(cap);
            size_t n = 0;
            if (out && teddy_msg_build_audio_response(m.audio_session_id, m.seq, m.pcm, m.pcm_len,
                                                      m.is_final, m.text, m.timestamp, out, cap,
                                                      &n) == ESP_OK) {
                teddy_server_msg_t again;
                if (teddy_msg_parse_server(out, n, TEDDY_MSG_NO_LIMIT, &again, &err) != ESP_OK) {
                    abort(); /* what we accept, we must also accept re-encoded */
                }
                teddy_server_msg_free(&again);
            }
            free(out);
        }
        teddy_server_msg_free(&m);
    } else if (err.code == TEDDY_WS_OK) {
        abort(); /* a refusal always names a SPEC §6.3 code (ESP_ERR_NO_MEM aside) */
    }
    teddy_device_msg_t d;
    if (teddy_msg_parse_device(text, size, TEDDY_UPLINK_MAX_FRAME_BYTES, &d, &err) == ESP_OK) {
        teddy_device_msg_free(&d);
    }
    return 0;
}
