/*
 * idf_mic.c - audio sources: the INMP441 I2S microphone (`button press`, SPEC §9.2) and
 * the synthetic clips `silence`, `tone` and `blip` (`talk <clip>`).
 *
 * INMP441: an I2S standard-mode (Philips) MEMS microphone that sends 24-bit samples,
 * MSB first, in 32-bit slots, on the left slot when its L/R pin is tied to GND. The
 * channel runs as I2S master RX, mono, 32-bit, left slot (this avoids the ESP32's
 * 16-bit mono half-word swap that the I2S docs describe); each sample becomes
 * PCM s16le by taking bits 31..14 (x4 digital gain: the INMP441 is quiet at speaking
 * distance) with saturation. 16000 Hz, mono (SPEC §7.1). Chunks of
 * CONFIG_TEDDY_CHUNK_BYTES go to the core, which re-chunks to 4096 (SPEC §7.2).
 *
 * Clips are paced like a microphone, one chunk per 128 ms (SPEC §7.2: "Recorded clips
 * are also paced"), with the emulator's durations (emulator/audio.py SYNTHETIC_CLIPS).
 * The board has no speech synthesiser and no clip files: `talk "<phrase>"` and the
 * spoken clips (hello, joke, ...) fail with bad_argument (SPEC §9.3: the target cannot
 * do it); other names fail with bad_value (unknown clip).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/i2s_std.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"
#include "soc/soc_caps.h"

#include "idf_internal.h"

static const char *TAG = "teddy_mic";

/* Own controller (I2S0 amplifier, I2S1 microphone): I2S_NUM_AUTO would put the RX
 * channel on the amplifier's controller, where both share BCLK/WS. Chips with one
 * controller (not the ESP32 or ESP32-S3) fall back to it. */
#if SOC_I2S_NUM > 1
#define MIC_I2S_PORT I2S_NUM_1
#else
#define MIC_I2S_PORT I2S_NUM_0
#endif

#define CHUNK_BYTES CONFIG_TEDDY_CHUNK_BYTES
#define CHUNK_SAMPLES (CHUNK_BYTES / 2)
_Static_assert(CHUNK_BYTES % 2 == 0, "CONFIG_TEDDY_CHUNK_BYTES must hold whole samples");
#define TONE_RAD_PER_SAMPLE (2.0 * 3.14159265358979323846 * 440.0 / TEDDY_PORT_SAMPLE_RATE)

typedef struct {
    uint32_t id;
    teddy_capture_kind_t kind;
    uint32_t clip_ms;  /* synthetic clip length */
    bool clip_tone;    /* tone (440 Hz, 0.3 FS) or silence */
    volatile bool stop;
    teddy_port_capture_cb_t cb;
    void *arg;
} capture_t;

typedef struct {
    idf_msg_t base;
    uint32_t id;
    teddy_port_capture_cb_t cb;
    void *arg;
    teddy_capture_event_kind_t kind;
    char reason[24];
    char message[96];
    size_t len;
    uint8_t pcm[];
} cap_msg_t;

static i2s_chan_handle_t s_rx;
static capture_t *volatile s_active; /* one capture at a time */
static uint32_t s_live;              /* app thread: the id callbacks may reach */

static void run_capture(idf_msg_t *msg)
{
    cap_msg_t *m = (cap_msg_t *)msg;
    if (m->id != s_live) {
        return; /* stopped and finished, or superseded */
    }
    if (m->kind == TEDDY_CAPTURE_EV_ENDED || m->kind == TEDDY_CAPTURE_EV_FAILED) {
        s_live = 0;
    }
    teddy_capture_event_t ev = {.kind = m->kind, .pcm = m->pcm, .len = m->len,
                                .reason = m->reason, .message = m->message};
    m->cb(m->id, &ev, m->arg);
}

static cap_msg_t *new_msg(const capture_t *c, teddy_capture_event_kind_t kind, size_t cap)
{
    cap_msg_t *m = idf_msg_alloc(sizeof(*m) + cap, run_capture);
    if (m != NULL) {
        m->id = c->id;
        m->cb = c->cb;
        m->arg = c->arg;
        m->kind = kind;
    }
    return m;
}

static void post_simple(const capture_t *c, teddy_capture_event_kind_t kind, const char *reason,
                        const char *message)
{
    cap_msg_t *m = new_msg(c, kind, 0);
    if (m != NULL) {
        idf_strlcpy(m->reason, reason, sizeof(m->reason));
        idf_strlcpy(m->message, message, sizeof(m->message));
        (void)idf_post(&m->base);
    }
}

/* One chunk from the INMP441: 32-bit slots -> s16le. Returns bytes, 0 on error. */
static size_t read_mic(int16_t *out, int32_t *raw)
{
    size_t got = 0;
    if (i2s_channel_read(s_rx, raw, CHUNK_SAMPLES * sizeof(int32_t), &got, 1000) != ESP_OK) {
        return 0;
    }
    size_t n = got / sizeof(int32_t);
    for (size_t i = 0; i < n; i++) {
        int32_t v = raw[i] >> 14;
        out[i] = (int16_t)(v > INT16_MAX ? INT16_MAX : (v < INT16_MIN ? INT16_MIN : v));
    }
    return n * 2;
}

static size_t make_clip(const capture_t *c, uint32_t done_samples, int16_t *out)
{
    uint32_t total = TEDDY_PORT_SAMPLE_RATE * c->clip_ms / 1000u;
    uint32_t n = total - done_samples < CHUNK_SAMPLES ? total - done_samples : CHUNK_SAMPLES;
    for (uint32_t i = 0; i < n; i++) {
        double phase = TONE_RAD_PER_SAMPLE * (double)(done_samples + i);
        out[i] = c->clip_tone ? (int16_t)lround(0.3 * 32767.0 * sin(phase)) : 0;
    }
    return (size_t)n * 2;
}

static void capture_task(void *arg)
{
    capture_t *c = arg;
    int32_t *raw = c->kind == TEDDY_CAPTURE_LIVE ? malloc(CHUNK_SAMPLES * sizeof(int32_t)) : NULL;
    bool live_ok = c->kind != TEDDY_CAPTURE_LIVE ||
                   (raw != NULL && i2s_channel_enable(s_rx) == ESP_OK);
    if (!live_ok) {
        post_simple(c, TEDDY_CAPTURE_EV_FAILED, "bad_argument", "microphone unavailable");
    } else {
        post_simple(c, TEDDY_CAPTURE_EV_STARTED, "", "");
        idf_led_set(c->kind == TEDDY_CAPTURE_LIVE);
        uint32_t samples = 0;
        TickType_t pace = xTaskGetTickCount();
        while (!c->stop) {
            cap_msg_t *m = new_msg(c, TEDDY_CAPTURE_EV_CHUNK, CHUNK_BYTES);
            if (m == NULL) {
                break;
            }
            m->len = c->kind == TEDDY_CAPTURE_LIVE ? read_mic((int16_t *)m->pcm, raw)
                                                   : make_clip(c, samples, (int16_t *)m->pcm);
            if (m->len == 0) {
                free(m);
                break; /* clip done, or an I2S error */
            }
            samples += m->len / 2;
            /* No abandon flag: the last chunk before a stop must still arrive. */
            if (idf_post_bulk(&m->base, m->len, NULL) != ESP_OK) {
                break;
            }
            if (c->kind != TEDDY_CAPTURE_LIVE) {
                vTaskDelayUntil(&pace, pdMS_TO_TICKS(CHUNK_SAMPLES * 1000 / TEDDY_PORT_SAMPLE_RATE));
            }
        }
        idf_led_set(false);
        if (c->kind == TEDDY_CAPTURE_LIVE) {
            i2s_channel_disable(s_rx);
        }
        post_simple(c, TEDDY_CAPTURE_EV_ENDED, "", "");
    }
    free(raw);
    s_active = NULL;
    free(c);
    vTaskDelete(NULL);
}

/* Validate the source; NULL when it can run, else the SPEC §9.3 reason. */
static const char *check_source(capture_t *c, const char *value, const char **message)
{
    static const char *const spoken[] = {"hello", "joke", "story", "song", "count",
                                         "name", "sky", "dinosaurs", "goodnight"};
    *message = "";
    if (c->kind == TEDDY_CAPTURE_PHRASE) {
        *message = "no speech synthesiser on the board; use the button";
        return "bad_argument";
    }
    if (c->kind == TEDDY_CAPTURE_LIVE) {
        *message = "microphone unavailable";
        return s_rx != NULL ? NULL : "bad_argument";
    }
    const char *name = value != NULL ? value : "";
    if (strcmp(name, "silence") == 0 || strcmp(name, "tone") == 0 || strcmp(name, "blip") == 0) {
        c->clip_tone = strcmp(name, "silence") != 0;
        c->clip_ms = strcmp(name, "blip") == 0 ? 50 : 1000;
        return NULL;
    }
    for (size_t i = 0; i < sizeof(spoken) / sizeof(spoken[0]); i++) {
        if (strcmp(name, spoken[i]) == 0) {
            *message = "spoken clips need a speech synthesiser; the board has silence, tone, blip";
            return "bad_argument";
        }
    }
    *message = "unknown clip; the board has silence, tone, blip";
    return "bad_value";
}

esp_err_t teddy_port_capture_start(teddy_capture_kind_t kind, const char *value,
                                   teddy_port_capture_cb_t cb, void *arg,
                                   uint32_t *out_capture_id)
{
    if (cb == NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    if (s_active != NULL) {
        return ESP_ERR_INVALID_STATE; /* one source at a time */
    }
    capture_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return ESP_ERR_NO_MEM;
    }
    c->id = idf_new_id();
    c->kind = kind;
    c->cb = cb;
    c->arg = arg;
    s_live = c->id;
    if (out_capture_id != NULL) {
        *out_capture_id = c->id;
    }
    const char *message;
    const char *reason = check_source(c, value, &message);
    if (reason != NULL) {
        post_simple(c, TEDDY_CAPTURE_EV_FAILED, reason, message); /* events, not errors */
        free(c);
        return ESP_OK;
    }
    s_active = c;
    if (xTaskCreate(capture_task, "teddy_capture", 4096, c, 6, NULL) != pdPASS) {
        s_active = NULL;
        s_live = 0;
        free(c);
        return ESP_ERR_NO_MEM;
    }
    return ESP_OK;
}

void teddy_port_capture_stop(uint32_t capture_id)
{
    capture_t *c = s_active;
    if (c != NULL && c->id == capture_id) {
        c->stop = true; /* the task sends its last chunk, then ENDED */
    }
}

esp_err_t idf_mic_init(void)
{
    i2s_chan_config_t chan = I2S_CHANNEL_DEFAULT_CONFIG(MIC_I2S_PORT, I2S_ROLE_MASTER);
    esp_err_t err = i2s_new_channel(&chan, NULL, &s_rx);
    if (err != ESP_OK) {
        return err;
    }
    i2s_std_config_t std = {
        .clk_cfg = I2S_STD_CLK_DEFAULT_CONFIG(CONFIG_TEDDY_SAMPLE_RATE),
        .slot_cfg = I2S_STD_PHILIPS_SLOT_DEFAULT_CONFIG(I2S_DATA_BIT_WIDTH_32BIT,
                                                        I2S_SLOT_MODE_MONO),
        .gpio_cfg = {
            .mclk = I2S_GPIO_UNUSED,
            .bclk = CONFIG_TEDDY_MIC_SCK_GPIO,
            .ws = CONFIG_TEDDY_MIC_WS_GPIO,
            .dout = I2S_GPIO_UNUSED,
            .din = CONFIG_TEDDY_MIC_SD_GPIO,
        },
    };
    std.slot_cfg.slot_mask = I2S_STD_SLOT_LEFT; /* INMP441 L/R tied to GND */
    err = i2s_channel_init_std_mode(s_rx, &std);
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "INMP441 init: %s", esp_err_to_name(err));
        i2s_del_channel(s_rx);
        s_rx = NULL;
    }
    return err;
}
