/*
 * linux_audio.c - the host board's speaker and recordings, as WAV files.
 *
 * The speaker: what the DAC plays of each reply (the core's PLAY pcm, at its sample_rate,
 * scaled by the volume as the board's DAC scales it) is appended to <audio>/out-<id>.wav,
 * whose header carries the DAC's rate, with the sidecar out-<id>.json {sample_rate,
 * volume, first_sample_wall_s (CLOCK_REALTIME when the first sample played), bytes, done},
 * written at the first frame and again at the end; the end of a reply is reported once
 * it would have finished playing at that rate (at once with fast pacing). Recordings:
 * what the server sent (rx-<id>.wav, kept by the runner) and sent utterances
 * (tx-<id>.wav) go through teddy_port_audio_save. Every append keeps the WAV header
 * true, so a power cut leaves a playable file (SPEC §7.1 format; out-<id>.wav at the
 * DAC's rate, SPEC Appendix C playback_rate).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lx_internal.h"

#define MAX_NAMES 64

typedef struct {
    teddy_port_play_cb_t cb;
    void *arg;
    uint64_t at_ms;
    unsigned gen;
    char session[96];
} play_done_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static char *s_names[MAX_NAMES]; /* recordings created this boot */
static int s_volume = 70;
static struct {
    char session[96];
    uint64_t started_ms;
    size_t bytes;         /* played (out-<id>.wav's data) */
    uint32_t rate;        /* the DAC's, for this reply */
    double first_wall_s;  /* CLOCK_REALTIME of the first sample */
} s_play;

const char *lx_audio_dir(char *buf, size_t size)
{
    if (lx_opts()->audio_dir != NULL) {
        return lx_opts()->audio_dir;
    }
    lx_path(buf, size, lx_opts()->flash_dir, "audio");
    mkdir(buf, 0755);
    return buf;
}

/* --- speaker and recordings ----------------------------------------------------------- */

/* True the first time `name` is seen in this boot (the recording is then created). */
static bool first_time(const char *name)
{
    pthread_mutex_lock(&s_lock);
    bool first = true;
    int free_slot = -1;
    for (int i = 0; i < MAX_NAMES; i++) {
        if (s_names[i] != NULL && strcmp(s_names[i], name) == 0) {
            first = false;
        } else if (s_names[i] == NULL && free_slot < 0) {
            free_slot = i;
        }
    }
    if (first) {
        if (free_slot < 0) { /* forget the oldest */
            free(s_names[0]);
            memmove(s_names, s_names + 1, sizeof(s_names[0]) * (MAX_NAMES - 1));
            free_slot = MAX_NAMES - 1;
        }
        s_names[free_slot] = strdup(name);
    }
    pthread_mutex_unlock(&s_lock);
    return first;
}

esp_err_t teddy_port_audio_save(const char *name, const uint8_t *pcm, size_t len)
{
    char dirbuf[4096], path[4300];
    if (name == NULL || strchr(name, '/') != NULL) {
        return ESP_ERR_INVALID_ARG;
    }
    snprintf(path, sizeof(path), "%s/%s", lx_audio_dir(dirbuf, sizeof(dirbuf)), name);
    return lx_wav_append(path, first_time(name), pcm, len, TEDDY_PORT_SAMPLE_RATE);
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* out-<id>.json beside out-<id>.wav (the speaker output's facts, SPEC Appendix C). */
static void write_sidecar(const char *session, bool done)
{
    char dirbuf[4096], path[4300], tmp[4310];
    snprintf(path, sizeof(path), "%s/out-%s.json", lx_audio_dir(dirbuf, sizeof(dirbuf)), session);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return;
    }
    fprintf(f, "{\"sample_rate\": %u, \"volume\": %d, \"first_sample_wall_s\": %.6f, "
               "\"bytes\": %zu, \"done\": %s}\n",
            (unsigned)s_play.rate, s_volume, s_play.first_wall_s, s_play.bytes,
            done ? "true" : "false");
    bool ok = fclose(f) == 0;
    if (ok) {
        rename(tmp, path); /* a reader never sees half a sidecar */
    }
}

esp_err_t teddy_port_speaker_play(const char *audio_session_id, const uint8_t *pcm, size_t len,
                                  uint32_t sample_rate)
{
    char dirbuf[4096], path[4300];
    if (audio_session_id == NULL || strchr(audio_session_id, '/') != NULL || sample_rate == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    bool first = strcmp(s_play.session, audio_session_id) != 0;
    if (first) {
        snprintf(s_play.session, sizeof(s_play.session), "%s", audio_session_id);
        s_play.started_ms = lx_mono_ms();
        s_play.bytes = 0;
        s_play.first_wall_s = wall_s();
    }
    s_play.rate = sample_rate;
    /* As the DAC plays it: the volume scales each sample (truncating, like idf_speaker.c). */
    uint8_t *out = malloc(len > 0 ? len : 1);
    if (out == NULL) {
        return ESP_ERR_NO_MEM;
    }
    for (size_t i = 0; i + 1 < len; i += 2) {
        int32_t v = (int16_t)(uint16_t)(pcm[i] | pcm[i + 1] << 8);
        uint16_t s = (uint16_t)(int16_t)(v * s_volume / 100);
        out[i] = (uint8_t)(s & 0xff);
        out[i + 1] = (uint8_t)(s >> 8);
    }
    size_t whole = len / 2 * 2;
    snprintf(path, sizeof(path), "%s/out-%s.wav", lx_audio_dir(dirbuf, sizeof(dirbuf)),
             audio_session_id);
    esp_err_t err = lx_wav_append(path, first, out, whole, sample_rate);
    free(out);
    s_play.bytes += whole;
    if (first) {
        write_sidecar(audio_session_id, false); /* a cut reply has one too */
    }
    return err;
}

static void dispatch_done(void *payload)
{
    play_done_t *d = payload;
    if (d->gen == lx_boot_gen()) {
        d->cb(d->session, d->arg);
    }
}

static void *done_main(void *arg)
{
    play_done_t *d = arg;
    uint64_t now = lx_mono_ms();
    if (d->at_ms > now) {
        uint64_t ms = d->at_ms - now;
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    lx_post(dispatch_done, d);
    return NULL;
}

esp_err_t teddy_port_speaker_end(const char *audio_session_id, bool cut,
                                 teddy_port_play_cb_t cb, void *arg)
{
    (void)cut;
    play_done_t *d = calloc(1, sizeof(*d));
    if (d == NULL || cb == NULL) {
        free(d);
        return d == NULL ? ESP_ERR_NO_MEM : ESP_ERR_INVALID_ARG;
    }
    d->cb = cb;
    d->arg = arg;
    d->gen = lx_boot_gen();
    snprintf(d->session, sizeof(d->session), "%s", audio_session_id);
    bool same = strcmp(s_play.session, audio_session_id) == 0;
    d->at_ms = lx_mono_ms();
    if (lx_opts()->realtime_pacing && same && !cut) { /* 2 bytes a sample at the DAC's rate */
        d->at_ms = s_play.started_ms + (uint64_t)s_play.bytes * 1000u / (2u * s_play.rate);
    }
    if (same) {
        write_sidecar(audio_session_id, true); /* the final byte count: ended */
        s_play.session[0] = '\0';
    }
    if (d->at_ms <= lx_mono_ms()) {
        lx_post(dispatch_done, d);
        return ESP_OK;
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, done_main, d) != 0) {
        lx_post(dispatch_done, d);
        return ESP_OK;
    }
    pthread_detach(thread);
    return ESP_OK;
}

void teddy_port_speaker_set_volume(int volume)
{
    s_volume = volume < 0 ? 0 : volume > 100 ? 100 : volume; /* out-<id>.wav is scaled */
}

void lx_audio_deinit(void)
{
    lx_capture_deinit();
    pthread_mutex_lock(&s_lock);
    for (int i = 0; i < MAX_NAMES; i++) {
        free(s_names[i]);
        s_names[i] = NULL;
    }
    pthread_mutex_unlock(&s_lock);
    s_play.session[0] = '\0';
}
