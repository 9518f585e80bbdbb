/*
 * lx_wav.c - WAV files, the resampler and espeak-ng: the host board's audio plumbing.
 *
 * Everything becomes SPEC §7.1 PCM (s16le, 16 kHz, mono). WAV input may be 8/16-bit,
 * any channel count (averaged) and any rate; espeak-ng writes 22050 Hz to a pipe and
 * leaves the RIFF sizes at 0x7fffffff, so a data chunk is read to the end of the file
 * when its size runs past it.
 *
 * Resampling (22050 -> 16000 for espeak-ng, anything -> 16000 for clips): a direct
 * windowed-sinc interpolator, 16 zero crossings each side, Hann window, cutoff at 95 %
 * of the lower Nyquist frequency. That is a plain polyphase filter evaluated per
 * output sample instead of from a table: ~1 M multiply-adds per second of audio,
 * negligible on a host, and close enough to scipy's resample_poly (used by the
 * emulator) that the server's pocketsphinx grammar recognises the same phrases.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lx_internal.h"

#define ZERO_CROSSINGS 16

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

esp_err_t lx_wav_parse(const uint8_t *data, size_t len, int16_t **pcm, size_t *samples,
                       uint32_t *rate)
{
    if (len < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WAVE", 4) != 0) {
        return ESP_ERR_INVALID_ARG;
    }
    unsigned channels = 0, bits = 0;
    *rate = 0;
    size_t pos = 12;
    while (pos + 8 <= len) {
        uint32_t size = rd32(data + pos + 4);
        const uint8_t *body = data + pos + 8;
        size_t avail = len - pos - 8;
        if (memcmp(data + pos, "fmt ", 4) == 0 && avail >= 16) {
            if (rd16(body) != 1) {
                return ESP_ERR_NOT_SUPPORTED; /* PCM only */
            }
            channels = rd16(body + 2);
            *rate = rd32(body + 4);
            bits = rd16(body + 14);
        } else if (memcmp(data + pos, "data", 4) == 0) {
            if (channels == 0 || (bits != 8 && bits != 16) || *rate == 0) {
                return ESP_ERR_NOT_SUPPORTED;
            }
            size_t bytes = size > avail ? avail : size; /* espeak-ng's pipe sizes */
            size_t frame = channels * (bits / 8);
            size_t n = bytes / frame;
            int16_t *out = malloc((n ? n : 1) * sizeof(int16_t));
            if (out == NULL) {
                return ESP_ERR_NO_MEM;
            }
            for (size_t i = 0; i < n; i++) {
                long sum = 0;
                for (unsigned ch = 0; ch < channels; ch++) {
                    const uint8_t *s = body + i * frame + ch * (bits / 8);
                    sum += bits == 8 ? ((long)s[0] - 128) * 256 : (long)(int16_t)rd16(s);
                }
                out[i] = (int16_t)(sum / (long)channels);
            }
            *pcm = out;
            *samples = n;
            return ESP_OK;
        }
        if (size > avail) {
            break;
        }
        pos += 8 + size + (size & 1);
    }
    return ESP_ERR_INVALID_ARG;
}

esp_err_t lx_resample_to_16k(const int16_t *in, size_t n, uint32_t rate, int16_t **out,
                             size_t *out_n)
{
    const double ratio = (double)TEDDY_PORT_SAMPLE_RATE / (double)rate;
    size_t m = (size_t)floor((double)n * ratio);
    int16_t *y = malloc((m ? m : 1) * sizeof(int16_t));
    if (y == NULL) {
        return ESP_ERR_NO_MEM;
    }
    if (rate == TEDDY_PORT_SAMPLE_RATE) {
        memcpy(y, in, n * sizeof(int16_t));
        *out = y;
        *out_n = n;
        return ESP_OK;
    }
    /* cutoff as a fraction of the input rate's Nyquist: below both Nyquist limits */
    const double cut = 0.95 * (ratio < 1.0 ? ratio : 1.0);
    const double half = ZERO_CROSSINGS / cut; /* filter half-width in input samples */
    for (size_t j = 0; j < m; j++) {
        double t = (double)j / ratio;
        long lo = (long)ceil(t - half), hi = (long)floor(t + half);
        double acc = 0.0;
        for (long k = lo < 0 ? 0 : lo; k <= hi && k < (long)n; k++) {
            double d = t - (double)k;
            double x = M_PI * cut * d;
            double sinc = fabs(x) < 1e-9 ? 1.0 : sin(x) / x;
            double win = 0.5 + 0.5 * cos(M_PI * d / half);
            acc += (double)in[k] * cut * sinc * win;
        }
        long v = lround(acc);
        y[j] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    *out = y;
    *out_n = m;
    return ESP_OK;
}

esp_err_t lx_wav_load(const char *path, int16_t **pcm, size_t *samples)
{
    size_t len = 0;
    uint8_t *data = (uint8_t *)lx_read_file(path, &len);
    if (data == NULL) {
        return ESP_ERR_NOT_FOUND;
    }
    int16_t *raw = NULL;
    size_t n = 0;
    uint32_t rate = 0;
    esp_err_t err = lx_wav_parse(data, len, &raw, &n, &rate);
    free(data);
    if (err == ESP_OK) {
        err = lx_resample_to_16k(raw, n, rate, pcm, samples);
        free(raw);
    }
    return err;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void wav_header(uint8_t h[44], uint32_t data_bytes, uint32_t rate)
{
    memcpy(h, "RIFF", 4);
    wr32(h + 4, 36 + data_bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    wr32(h + 16, 16);
    h[20] = 1; /* PCM */
    h[21] = 0;
    h[22] = 1; /* mono */
    h[23] = 0;
    wr32(h + 24, rate);
    wr32(h + 28, rate * 2);
    h[32] = 2;
    h[33] = 0;
    h[34] = 16;
    h[35] = 0;
    memcpy(h + 36, "data", 4);
    wr32(h + 40, data_bytes);
}

esp_err_t lx_wav_append(const char *path, bool create, const uint8_t *pcm, size_t len,
                        uint32_t rate)
{
    int fd = open(path, O_RDWR | O_CREAT | (create ? O_TRUNC : 0), 0644);
    if (fd < 0) {
        return ESP_FAIL;
    }
    uint8_t h[44];
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 44) {
        end = 44;
    }
    bool ok = pwrite(fd, pcm, len, end) == (ssize_t)len;
    /* Keep the header true after every append: the file is always a valid WAV. */
    wav_header(h, (uint32_t)(end - 44 + (off_t)len), rate);
    ok = ok && pwrite(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h);
    close(fd);
    return ok ? ESP_OK : ESP_FAIL;
}

/* espeak-ng --stdout --stdin: the text goes in on stdin, never on the command line. */
static uint8_t *run_espeak(const char *text, size_t *len)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) {
        return NULL;
    }
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return NULL;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDERR_FILENO);
        }
        execlp("espeak-ng", "espeak-ng", "--stdout", "--stdin", "-b", "1", "-v", "en-us", "-s",
               "175", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        return NULL;
    }
    size_t tl = strlen(text);
    ssize_t w = write(in[1], text, tl);
    (void)w; /* a short write only shortens the phrase; espeak-ng still answers */
    close(in[1]);
    size_t cap = 1 << 16, used = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            break;
        }
        if (used == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
        }
        ssize_t n = read(out[0], buf + used, cap - used);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        used += (size_t)n;
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (buf != NULL && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || used == 0)) {
        free(buf);
        buf = NULL;
    }
    *len = used;
    return buf;
}

esp_err_t lx_espeak(const char *text, int16_t **pcm, size_t *samples)
{
    size_t len = 0;
    uint8_t *wav = run_espeak(text, &len);
    if (wav == NULL) {
        return ESP_FAIL;
    }
    int16_t *raw = NULL, *speech = NULL;
    size_t n = 0, m = 0;
    uint32_t rate = 0;
    esp_err_t err = lx_wav_parse(wav, len, &raw, &n, &rate);
    free(wav);
    if (err == ESP_OK) {
        err = lx_resample_to_16k(raw, n, rate, &speech, &m);
        free(raw);
    }
    if (err != ESP_OK) {
        return err;
    }
    /* server.speech.espeak_tts.synthesize_clip: 0.3 s of silence each side, as a
     * push-to-talk recording has (the grammar threshold was calibrated on that). */
    const size_t pad = TEDDY_PORT_SAMPLE_RATE * 3 / 10;
    int16_t *clip = calloc(m + 2 * pad, sizeof(int16_t));
    if (clip == NULL) {
        free(speech);
        return ESP_ERR_NO_MEM;
    }
    memcpy(clip + pad, speech, m * sizeof(int16_t));
    free(speech);
    *pcm = clip;
    *samples = m + 2 * pad;
    return ESP_OK;
}
