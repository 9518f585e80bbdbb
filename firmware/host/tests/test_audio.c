/*
 * test_audio.c - downlink audio framing and reassembly against audio_frames.json
 * (SPEC §7.3): the server's framing (protocol.audio.build_audio_response_frames,
 * ported here with the core's frame builder) must give the vector's frame sizes,
 * and the device must parse every frame under its limit and reassemble the reply.
 */
#include <stdlib.h>

#include "teddy_msg.h"
#include "vectors.h"

#define SERVER_LIMIT (TEDDY_DOWNLINK_MAX_FRAME_BYTES - 1)

/* --- audio_frames.json: protocol.audio.build_audio_response_frames, then the device side -- */

typedef struct {
    size_t count;
    size_t pcm_sizes[300];
    size_t frame_bytes[300];
    char *frames[300];
} frames_t;

static size_t frame(char *out, size_t cap, const char *sid, int64_t seq, const uint8_t *pcm,
                    size_t len, bool final, const char *text, const char *ts)
{
    size_t n = 0;
    assert_int_equal(teddy_msg_build_audio_response(sid, seq, pcm, len, final, text, ts, out, cap,
                                                    &n), ESP_OK);
    return n;
}

/* Returns false for processing_error (text cannot fit), as _fit_first raises. */
static bool build_frames(const char *sid, const uint8_t *pcm, size_t len, const char *text,
                         const char *ts, frames_t *f)
{
    const size_t limit = TEDDY_DOWNLINK_MAX_FRAME_BYTES, cap = 65536;
    char *buf = malloc(cap);
    size_t take = len < TEDDY_DOWNLINK_PCM_BYTES ? len : TEDDY_DOWNLINK_PCM_BYTES;
    size_t n = frame(buf, cap, sid, 0, pcm, take, take == len, text, ts);
    while (n >= limit) {
        if (take == 0) {
            free(buf);
            return false;
        }
        size_t excess = n - limit + 1;
        size_t quarter = (excess * 3 + 3) / 4;          /* ceil(excess * 3 / 4) */
        size_t step = (quarter + 5) / 6 * 6;              /* up to a multiple of 6 */
        step = step < 6 ? 6 : step;
        take = take > step ? take - step : 0;
        n = frame(buf, cap, sid, 0, pcm, take, take == len, text, ts);
    }
    f->count = 0;
    f->pcm_sizes[0] = take;
    f->frame_bytes[0] = n;
    f->frames[0] = buf;
    f->count = 1;
    for (size_t off = take; off < len;) {
        size_t part = len - off < TEDDY_DOWNLINK_PCM_BYTES ? len - off : TEDDY_DOWNLINK_PCM_BYTES;
        char *b = malloc(cap);
        size_t k = f->count;
        f->frame_bytes[k] = frame(b, cap, sid, (int64_t)k, pcm + off, part, off + part == len,
                                  NULL, ts);
        f->pcm_sizes[k] = part;
        f->frames[k] = b;
        f->count++;
        off += part;
        assert_true(f->count < 300);
    }
    return true;
}

static void test_audio_frames(void **state)
{
    (void)state;
    cJSON *root = tv_load("audio_frames.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const char *sid = tv_str(c, "audio_session_id", id);
        const char *ts = tv_str(c, "timestamp", id);
        size_t pcm_len = (size_t)tv_int(c, "pcm_bytes", id);
        const char *unit = tv_opt_str(c, "text_unit");
        size_t count = (size_t)tv_int(c, "text_count", id);
        char *text = NULL;
        if (unit) {
            size_t ul = strlen(unit);
            text = malloc(ul * count + 1);
            for (size_t i = 0; i < count; i++) {
                memcpy(text + i * ul, unit, ul);
            }
            text[ul * count] = '\0';
        }
        uint8_t *pcm = calloc(pcm_len + 1, 1);
        frames_t *f = calloc(1, sizeof(*f));
        const cJSON *expect = tv_get(c, "expect", id);
        bool ok = build_frames(sid, pcm, pcm_len, text, ts, f);
        if (cJSON_GetObjectItemCaseSensitive(expect, "error")) {
            TV_STR_EQ(id, tv_str(expect, "error", id), "processing_error");
            TV_CHECK(id, !ok);
        } else {
            TV_CHECK(id, ok);
            TV_INT_EQ(id, f->count, tv_int(expect, "frame_count", id));
            const cJSON *sizes = tv_get(expect, "pcm_sizes", id);
            const cJSON *bytes = tv_get(expect, "frame_bytes", id);
            TV_INT_EQ(id, cJSON_GetArraySize(sizes), f->count);
            TV_INT_EQ(id, cJSON_GetArraySize(bytes), f->count);
            teddy_audio_rx_t rx;
            teddy_audio_rx_reset(&rx);
            for (size_t i = 0; i < f->count; i++) {
                TV_INT_EQ(id, f->pcm_sizes[i], cJSON_GetArrayItem(sizes, (int)i)->valuedouble);
                TV_INT_EQ(id, f->frame_bytes[i], cJSON_GetArrayItem(bytes, (int)i)->valuedouble);
                /* The device parses every frame under its 8 KiB limit and reassembles. */
                teddy_server_msg_t m;
                teddy_msg_error_t err;
                bool complete = false;
                TV_CHECK(id, teddy_msg_parse_server(f->frames[i], f->frame_bytes[i], SERVER_LIMIT,
                                                    &m, &err) == ESP_OK);
                TV_CHECK(id, teddy_audio_rx_feed(&rx, &m, &complete, &err) == ESP_OK);
                TV_CHECK(id, complete == (i + 1 == f->count));
                if (i == 0 && text) {
                    TV_STR_EQ(id, m.text, text);
                }
                teddy_server_msg_free(&m);
            }
            TV_INT_EQ(id, rx.pcm_bytes, pcm_len);
        }
        for (size_t i = 0; i < f->count; i++) {
            free(f->frames[i]);
        }
        free(f);
        free(pcm);
        free(text);
        n++;
    }
    print_message("audio_frames.json: %d cases\n", n);
    cJSON_Delete(root);
}

static void test_audio_rx_order(void **state)
{
    (void)state;
    char buf[512];
    teddy_server_msg_t m0, m1, m2;
    teddy_msg_error_t err;
    teddy_audio_rx_t rx;
    bool done;
    size_t n;
    teddy_audio_rx_reset(&rx);
    const uint8_t pcm[2] = {1, 2};
    frame(buf, sizeof(buf), "u", 0, pcm, 2, false, "hi", "2025-01-01T00:00:00Z");
    n = strlen(buf);
    assert_int_equal(teddy_msg_parse_server(buf, n, SERVER_LIMIT, &m0, &err), ESP_OK);
    frame(buf, sizeof(buf), "v", 1, pcm, 2, true, NULL, "2025-01-01T00:00:00Z");
    assert_int_equal(teddy_msg_parse_server(buf, strlen(buf), SERVER_LIMIT, &m1, &err), ESP_OK);
    frame(buf, sizeof(buf), "u", 2, pcm, 2, true, NULL, "2025-01-01T00:00:00Z");
    assert_int_equal(teddy_msg_parse_server(buf, strlen(buf), SERVER_LIMIT, &m2, &err), ESP_OK);
    assert_int_equal(teddy_audio_rx_feed(&rx, &m0, &done, &err), ESP_OK);
    assert_false(done);
    assert_int_equal(teddy_audio_rx_feed(&rx, &m2, &done, &err), ESP_ERR_INVALID_ARG);
    assert_string_equal(err.field, "seq");
    assert_int_equal(teddy_audio_rx_feed(&rx, &m1, &done, &err), ESP_ERR_INVALID_ARG);
    assert_string_equal(err.field, "audio_session_id");
    teddy_server_msg_free(&m0);
    teddy_server_msg_free(&m1);
    teddy_server_msg_free(&m2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audio_frames),
        cmocka_unit_test(test_audio_rx_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
