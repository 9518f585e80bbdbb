/*
 * idf_speaker.c - reply playback on the MAX98357A I2S class-D amplifier (SPEC §7.3).
 *
 * The MAX98357A takes standard I2S (Philips) and plays (L+R)/2 with its SD pin left
 * floating. The TX channel runs as I2S master, 16-bit, 16000 Hz (SPEC §7.1), in
 * *stereo* with every mono sample written to both slots: in 16-bit mono mode the
 * ESP32's I2S swaps each pair of samples on the line and leaves the other slot silent
 * (ESP-IDF I2S docs, "STD TX Mode"), which would halve and distort the reply. The
 * channel stays enabled with auto_clear, so the DMA sends zeros (silence) whenever no
 * reply is playing instead of repeating its last buffer.
 *
 * The core hands over each downlink frame's PCM as it arrives (teddy_port_speaker_play,
 * app thread) and then says the reply is complete (teddy_port_speaker_end). The bytes
 * go into a 16 KiB FreeRTOS stream buffer (0.5 s) that a player task drains into
 * i2s_channel_write(), scaling by the volume. When the buffer is full the app thread
 * waits, which in turn back-pressures the WebSocket: the board plays while it reads
 * (SPEC §7.3). The end of a reply is a byte position in the stream; once the player has
 * written up to it, PLAYBACK_DONE is posted for that reply.
 *
 * The DAC's rate is the one each PLAY names (16000, SPEC §7.1; another only with the
 * playback_rate quirk of Appendix C). A change waits until everything queued has been
 * written (at most the 0.5 s buffer), then disables the channel, reprograms its clock
 * with i2s_channel_reconfig_std_clock and enables it again, so no earlier audio plays
 * at the new rate.
 */
#include <stdlib.h>
#include <string.h>

#include "driver/i2s_std.h"
#include "esp_log.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/stream_buffer.h"
#include "freertos/task.h"
#include "sdkconfig.h"

#include "idf_internal.h"

static const char *TAG = "teddy_speaker";

#define STREAM_BYTES (16 * 1024)
#define PLAY_CHUNK 1024
#define MAX_PENDING_ENDS 8

typedef struct {
    uint64_t end_at; /* stream position of the reply's last byte + 1 */
    teddy_port_play_cb_t cb;
    void *arg;
    char session[72];
} play_end_t;

typedef struct {
    idf_msg_t base;
    teddy_port_play_cb_t cb;
    void *arg;
    char session[72];
} done_msg_t;

static i2s_chan_handle_t s_tx;
static StreamBufferHandle_t s_stream;
static QueueHandle_t s_ends;
static uint64_t s_queued;          /* bytes handed over (app thread) */
static volatile uint64_t s_played; /* bytes written to I2S (player task) */
static volatile int s_volume = 100;
static uint32_t s_rate = CONFIG_TEDDY_SAMPLE_RATE; /* the I2S clock's (app thread) */

static void run_done(idf_msg_t *msg)
{
    done_msg_t *m = (done_msg_t *)msg;
    m->cb(m->session, m->arg);
}

static void post_done(const play_end_t *end)
{
    if (end->cb == NULL) {
        return;
    }
    done_msg_t *m = idf_msg_alloc(sizeof(*m), run_done);
    if (m != NULL) {
        m->cb = end->cb;
        m->arg = end->arg;
        idf_strlcpy(m->session, end->session, sizeof(m->session));
        (void)idf_post(&m->base);
    }
}

/* Mono -> interleaved L/R, scaled by the volume. */
static void to_stereo(const int16_t *mono, size_t n, int16_t *stereo, int volume)
{
    for (size_t i = 0; i < n; i++) {
        int16_t v = (int16_t)((int32_t)mono[i] * volume / 100);
        stereo[2 * i] = v;
        stereo[2 * i + 1] = v;
    }
}

static void player_task(void *arg)
{
    (void)arg;
    int16_t *buf = malloc(PLAY_CHUNK);
    int16_t *stereo = malloc(2 * PLAY_CHUNK);
    if (buf == NULL || stereo == NULL) {
        free(buf);
        free(stereo);
        vTaskDelete(NULL);
        return;
    }
    for (;;) {
        size_t n = xStreamBufferReceive(s_stream, buf, PLAY_CHUNK, pdMS_TO_TICKS(50));
        if (n % 2 != 0) { /* never split a sample (lengths are even, SPEC §7.1) */
            n += xStreamBufferReceive(s_stream, (uint8_t *)buf + n, 1, portMAX_DELAY);
        }
        if (n > 0) {
            to_stereo(buf, n / 2, stereo, s_volume);
            size_t written = 0;
            i2s_channel_write(s_tx, stereo, 2 * n, &written, 1000); /* DMA drains in real time */
            s_played += n;
        }
        play_end_t end;
        while (xQueuePeek(s_ends, &end, 0) == pdTRUE && end.end_at <= s_played) {
            xQueueReceive(s_ends, &end, 0);
            post_done(&end);
        }
    }
}

/* Reprogram the I2S clock once the queued audio has played at the old rate. */
static esp_err_t set_rate(uint32_t rate)
{
    if (rate == s_rate || s_tx == NULL) {
        return ESP_OK;
    }
    while (s_played < s_queued) {
        vTaskDelay(pdMS_TO_TICKS(5)); /* the player task drains the stream in real time */
    }
    i2s_std_clk_config_t clk = I2S_STD_CLK_DEFAULT_CONFIG(rate);
    esp_err_t err = i2s_channel_disable(s_tx);
    if (err == ESP_OK) {
        err = i2s_channel_reconfig_std_clock(s_tx, &clk);
    }
    esp_err_t on = i2s_channel_enable(s_tx);
    if (err == ESP_OK && on == ESP_OK) {
        s_rate = rate;
        return ESP_OK;
    }
    ESP_LOGE(TAG, "I2S clock %u Hz: %s", (unsigned)rate, esp_err_to_name(err ? err : on));
    return err != ESP_OK ? err : on;
}

esp_err_t teddy_port_speaker_play(const char *audio_session_id, const uint8_t *pcm, size_t len,
                                  uint32_t sample_rate)
{
    (void)audio_session_id; /* one stream: replies play in the order they arrive */
    if ((pcm == NULL && len > 0) || sample_rate == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    if (s_stream != NULL) {
        (void)set_rate(sample_rate); /* on failure the reply plays at the old rate */
    }
    if (s_stream == NULL) {
        s_queued += len; /* no amplifier: count it so speaker_end still answers */
        s_played = s_queued;
        return ESP_OK;
    }
    size_t sent = 0;
    while (sent < len) {
        /* Blocks while 0.5 s of audio is queued: real-time pacing (file comment). */
        sent += xStreamBufferSend(s_stream, pcm + sent, len - sent, portMAX_DELAY);
    }
    s_queued += len;
    return ESP_OK;
}

esp_err_t teddy_port_speaker_end(const char *audio_session_id, bool cut, teddy_port_play_cb_t cb,
                                 void *arg)
{
    (void)cut; /* a cut reply plays what already arrived, as on the host */
    play_end_t end = {.end_at = s_queued, .cb = cb, .arg = arg};
    idf_strlcpy(end.session, audio_session_id != NULL ? audio_session_id : "",
                sizeof(end.session));
    if (s_stream == NULL) {
        post_done(&end);
        return ESP_OK;
    }
    if (xQueueSend(s_ends, &end, pdMS_TO_TICKS(1000)) != pdTRUE) {
        ESP_LOGW(TAG, "too many replies pending; reporting %s done now", end.session);
        post_done(&end);
    }
    return ESP_OK;
}

void teddy_port_speaker_set_volume(int volume)
{
    s_volume = volume < 0 ? 0 : (volume > 100 ? 100 : volume);
}

esp_err_t teddy_port_audio_save(const char *name, const uint8_t *pcm, size_t len)
{
    (void)name;
    (void)pcm;
    (void)len;
    return ESP_ERR_NOT_SUPPORTED; /* no file system for recordings on the board */
}

static esp_err_t init_i2s(void)
{
    /* Own controller (I2S0 amplifier, I2S1 microphone): I2S_NUM_AUTO would put the
     * RX channel on the amplifier's controller, where both share BCLK/WS. */
    i2s_chan_config_t chan = I2S_CHANNEL_DEFAULT_CONFIG(I2S_NUM_0, I2S_ROLE_MASTER);
    chan.auto_clear = true; /* silence, not a looping buffer, when idle */
    esp_err_t err = i2s_new_channel(&chan, &s_tx, NULL);
    if (err != ESP_OK) {
        return err;
    }
    i2s_std_config_t std = {
        .clk_cfg = I2S_STD_CLK_DEFAULT_CONFIG(CONFIG_TEDDY_SAMPLE_RATE),
        .slot_cfg = I2S_STD_PHILIPS_SLOT_DEFAULT_CONFIG(I2S_DATA_BIT_WIDTH_16BIT,
                                                        I2S_SLOT_MODE_STEREO),
        .gpio_cfg = {
            .mclk = I2S_GPIO_UNUSED,
            .bclk = CONFIG_TEDDY_AMP_BCLK_GPIO,
            .ws = CONFIG_TEDDY_AMP_LRC_GPIO,
            .dout = CONFIG_TEDDY_AMP_DIN_GPIO,
            .din = I2S_GPIO_UNUSED,
        },
    };
    err = i2s_channel_init_std_mode(s_tx, &std);
    if (err == ESP_OK) {
        err = i2s_channel_enable(s_tx);
    }
    if (err != ESP_OK) {
        i2s_del_channel(s_tx);
        s_tx = NULL;
    }
    return err;
}

esp_err_t idf_speaker_init(void)
{
    s_ends = xQueueCreate(MAX_PENDING_ENDS, sizeof(play_end_t));
    if (s_ends == NULL) {
        return ESP_ERR_NO_MEM;
    }
    esp_err_t err = init_i2s();
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "MAX98357A init: %s", esp_err_to_name(err));
        return err; /* s_stream stays NULL: replies are counted, not played */
    }
    s_stream = xStreamBufferCreate(STREAM_BYTES, 2);
    if (s_stream == NULL ||
        xTaskCreate(player_task, "teddy_player", 3072, NULL, 7, NULL) != pdPASS) {
        s_stream = NULL;
        return ESP_ERR_NO_MEM;
    }
    return ESP_OK;
}
