/*
 * linux_capture.c - the host board's microphone: captures as worker threads.
 *
 * A capture (SPEC §9.2 `talk`, `button press`) loads its source on a worker thread (a
 * WAV file, a clip of the library, a phrase through espeak-ng, silence or a tone),
 * then delivers it in 4096-byte chunks (SPEC §7.2), as fast as the app takes them or
 * at real time (one chunk per 128 ms against a fixed origin, no drift), like
 * emulator/audio.py. A live capture (button) keeps going until stopped: silence at
 * real time, nothing more in fast mode. Sources that cannot be opened fail with the
 * SPEC §9.3 reason `bad_value`.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lx_internal.h"

#define CHUNK_BYTES 4096
#define MAX_CAPTURES 4

typedef struct {
    uint32_t id;
    teddy_capture_kind_t kind;
    char value[1024];
    teddy_port_capture_cb_t cb;
    void *arg;
    atomic_bool stop;
    pthread_t thread;
    bool used;
} capture_t;

typedef struct {
    uint32_t id;
    teddy_capture_event_kind_t kind;
    char reason[32];
    char message[256];
    size_t len;
    uint8_t pcm[];
} capture_event_t;

static capture_t s_caps[MAX_CAPTURES];

static const char *const CLIPS[][2] = {
    {"hello", "hello teddy"},        {"joke", "tell me a joke"},
    {"story", "tell me a story"},    {"song", "sing me a song"},
    {"count", "count to five"},      {"name", "what is your name"},
    {"sky", "why is the sky blue"},  {"dinosaurs", "tell me about dinosaurs"},
    {"goodnight", "good night"},
};

/* --- events ------------------------------------------------------------------------- */

static capture_t *find_capture(uint32_t id)
{
    for (int i = 0; id != 0 && i < MAX_CAPTURES; i++) {
        if (s_caps[i].used && s_caps[i].id == id) {
            return &s_caps[i];
        }
    }
    return NULL;
}

static void dispatch(void *payload)
{
    capture_event_t *ev = payload;
    capture_t *c = find_capture(ev->id);
    if (c == NULL || c->cb == NULL) {
        return;
    }
    teddy_capture_event_t out = {.kind = ev->kind, .pcm = ev->pcm, .len = ev->len,
                                 .reason = ev->reason, .message = ev->message};
    teddy_port_capture_cb_t cb = c->cb;
    void *arg = c->arg;
    if (ev->kind == TEDDY_CAPTURE_EV_ENDED || ev->kind == TEDDY_CAPTURE_EV_FAILED) {
        c->cb = NULL; /* final: the slot is reclaimed when its thread is joined */
    }
    cb(ev->id, &out, arg);
}

static void post(uint32_t id, teddy_capture_event_kind_t kind, const void *pcm, size_t len,
                 const char *reason, const char *message)
{
    capture_event_t *ev = calloc(1, sizeof(*ev) + len);
    if (ev == NULL) {
        return;
    }
    ev->id = id;
    ev->kind = kind;
    ev->len = len;
    if (len > 0) {
        memcpy(ev->pcm, pcm, len);
    }
    snprintf(ev->reason, sizeof(ev->reason), "%s", reason != NULL ? reason : "");
    snprintf(ev->message, sizeof(ev->message), "%s", message != NULL ? message : "");
    lx_post(dispatch, ev);
}

/* --- sources -------------------------------------------------------------------------- */

static esp_err_t synth(const char *kind, int ms, int16_t **pcm, size_t *n)
{
    size_t count = (size_t)TEDDY_PORT_SAMPLE_RATE * (size_t)ms / 1000;
    int16_t *s = calloc(count ? count : 1, sizeof(int16_t));
    if (s == NULL) {
        return ESP_ERR_NO_MEM;
    }
    for (size_t i = 0; strcmp(kind, "tone") == 0 && i < count; i++) {
        s[i] = (int16_t)lround(0.3 * 32767.0 * sin(2 * M_PI * 440.0 * (double)i / 16000.0));
    }
    *pcm = s;
    *n = count;
    return ESP_OK;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* `talk <clip>`: a path, a file in the audio dir (with or without .wav), the library. */
static esp_err_t load_clip(const char *name, int16_t **pcm, size_t *n, char *msg, size_t msz)
{
    char dirbuf[4096], path[4200];
    const char *dir = lx_audio_dir(dirbuf, sizeof(dirbuf));
    const char *cands[3] = {name, path, NULL};
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char with_ext[4300];
    snprintf(with_ext, sizeof(with_ext), "%s/%s.wav", dir, name);
    cands[2] = with_ext;
    for (int i = 0; i < 3; i++) {
        if (is_file(cands[i])) {
            esp_err_t err = lx_wav_load(cands[i], pcm, n);
            if (err != ESP_OK) {
                snprintf(msg, msz, "%s: not a readable 8/16-bit PCM WAV", cands[i]);
            }
            return err;
        }
    }
    for (size_t i = 0; i < sizeof(CLIPS) / sizeof(CLIPS[0]); i++) {
        if (strcmp(name, CLIPS[i][0]) == 0) {
            esp_err_t err = lx_espeak(CLIPS[i][1], pcm, n);
            if (err != ESP_OK) {
                snprintf(msg, msz, "cannot synthesise %s: espeak-ng failed", name);
            }
            return err;
        }
    }
    if (strcmp(name, "silence") == 0 || strcmp(name, "tone") == 0) {
        return synth(name, 1000, pcm, n);
    }
    if (strcmp(name, "blip") == 0) {
        return synth("tone", 50, pcm, n); /* 1600 bytes: under the 3200-byte minimum */
    }
    snprintf(msg, msz,
             "unknown clip '%s'; files in %s or blip, count, dinosaurs, goodnight, hello, joke, "
             "name, silence, sky, song, story, tone",
             name, dir);
    return ESP_ERR_NOT_FOUND;
}

static esp_err_t load_source(capture_t *c, int16_t **pcm, size_t *n, char *msg, size_t msz)
{
    if (c->kind == TEDDY_CAPTURE_PHRASE) {
        esp_err_t err = lx_espeak(c->value, pcm, n);
        if (err != ESP_OK) {
            snprintf(msg, msz, "cannot synthesise: espeak-ng failed (is it installed?)");
        }
        return err;
    }
    if (c->kind == TEDDY_CAPTURE_CLIP) {
        return load_clip(c->value, pcm, n, msg, msz);
    }
    const char *mic = lx_opts()->microphone != NULL ? lx_opts()->microphone : "silence";
    if (strcmp(mic, "silence") == 0) {
        return synth("silence", 0, pcm, n);
    }
    if (strncmp(mic, "phrase:", 7) == 0 && mic[7] != '\0') {
        esp_err_t err = lx_espeak(mic + 7, pcm, n);
        if (err != ESP_OK) {
            snprintf(msg, msz, "cannot synthesise the microphone phrase");
        }
        return err;
    }
    if (strncmp(mic, "clip:", 5) == 0 && mic[5] != '\0') {
        return load_clip(mic + 5, pcm, n, msg, msz);
    }
    snprintf(msg, msz, "bad microphone setting '%s'", mic);
    return ESP_ERR_INVALID_ARG;
}

static void pace(uint64_t origin_ms, size_t bytes_so_far)
{
    uint64_t due = origin_ms + (uint64_t)bytes_so_far * 1000u / 32000u;
    uint64_t now = lx_mono_ms();
    if (due > now) {
        struct timespec ts = {(time_t)((due - now) / 1000), (long)((due - now) % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void *capture_main(void *arg)
{
    capture_t *c = arg;
    int16_t *pcm = NULL;
    size_t n = 0;
    char msg[512] = "";
    esp_err_t err = load_source(c, &pcm, &n, msg, sizeof(msg));
    if (err != ESP_OK) {
        post(c->id, TEDDY_CAPTURE_EV_FAILED, NULL, 0,
             c->kind == TEDDY_CAPTURE_LIVE ? "bad_argument" : "bad_value", msg);
        return NULL;
    }
    post(c->id, TEDDY_CAPTURE_EV_STARTED, NULL, 0, NULL, NULL);
    const bool realtime = lx_opts()->realtime_pacing;
    const uint8_t *bytes = (const uint8_t *)pcm;
    size_t total = n * sizeof(int16_t), sent = 0;
    uint64_t origin = lx_mono_ms();
    /* Fast pacing delivers a loaded source at once, like the emulator's sleep(0) per
     * chunk: a stop (button release) typed right after cmd.ok must not race it. */
    while (sent < total && (!realtime || !atomic_load(&c->stop))) {
        size_t len = total - sent < CHUNK_BYTES ? total - sent : CHUNK_BYTES;
        if (realtime) {
            pace(origin, sent + len);
        }
        post(c->id, TEDDY_CAPTURE_EV_CHUNK, bytes + sent, len, NULL, NULL);
        sent += len;
    }
    free(pcm);
    static const uint8_t quiet[CHUNK_BYTES];
    while (c->kind == TEDDY_CAPTURE_LIVE && !atomic_load(&c->stop)) {
        /* the child is quiet until the button goes up */
        if (realtime) {
            pace(origin, sent + CHUNK_BYTES);
            post(c->id, TEDDY_CAPTURE_EV_CHUNK, quiet, CHUNK_BYTES, NULL, NULL);
            sent += CHUNK_BYTES;
        } else {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    post(c->id, TEDDY_CAPTURE_EV_ENDED, NULL, 0, NULL, NULL);
    return NULL;
}

esp_err_t teddy_port_capture_start(teddy_capture_kind_t kind, const char *value,
                                   teddy_port_capture_cb_t cb, void *arg,
                                   uint32_t *out_capture_id)
{
    capture_t *c = NULL;
    for (int i = 0; i < MAX_CAPTURES; i++) {
        if (s_caps[i].used && s_caps[i].cb == NULL) { /* finished: reclaim */
            pthread_join(s_caps[i].thread, NULL);
            s_caps[i].used = false;
        }
        if (!s_caps[i].used && c == NULL) {
            c = &s_caps[i];
        }
    }
    if (c == NULL || cb == NULL) {
        return c == NULL ? ESP_ERR_NO_MEM : ESP_ERR_INVALID_ARG;
    }
    memset(c, 0, sizeof(*c));
    c->id = lx_new_id();
    c->kind = kind;
    snprintf(c->value, sizeof(c->value), "%s", value != NULL ? value : "");
    c->cb = cb;
    c->arg = arg;
    atomic_store(&c->stop, false);
    if (pthread_create(&c->thread, NULL, capture_main, c) != 0) {
        return ESP_FAIL;
    }
    c->used = true;
    if (out_capture_id != NULL) {
        *out_capture_id = c->id;
    }
    return ESP_OK;
}

void teddy_port_capture_stop(uint32_t capture_id)
{
    capture_t *c = find_capture(capture_id);
    if (c != NULL) {
        atomic_store(&c->stop, true);
    }
}

void lx_capture_deinit(void)
{
    for (int i = 0; i < MAX_CAPTURES; i++) {
        if (s_caps[i].used) {
            atomic_store(&s_caps[i].stop, true);
        }
    }
    for (int i = 0; i < MAX_CAPTURES; i++) {
        if (s_caps[i].used) {
            pthread_join(s_caps[i].thread, NULL);
            s_caps[i].used = false;
        }
    }
}
