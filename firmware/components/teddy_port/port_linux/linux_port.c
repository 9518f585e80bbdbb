/*
 * linux_port.c - lifetime, the app-thread event queue, clock, randomness, reset.
 *
 * One process plays one board. teddy_port_linux_open() starts what lives as long as
 * the process (the console); teddy_port_init() is the power-on of one boot (the
 * bootloader runs, then the network drivers start), teddy_port_deinit() its end. A
 * software reset (teddy_port_restart) ends the boot from inside: teddy_port_poll()
 * then returns ESP_ERR_INVALID_STATE, and the app loop boots again in-process, so
 * uptime restarts at 0 as on the board. A power cut is the harness killing the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lx_internal.h"

typedef struct lx_event {
    struct lx_event *next;
    lx_dispatch_fn fn;
    void *payload;
} lx_event_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    lx_event_t *head, *tail;
    bool woken;
} s_q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, false};

static teddy_port_linux_options_t s_opts;
static char s_reason[TEDDY_PORT_REASON_MAX];
static teddy_port_boot_info_t s_boot;
static uint64_t s_boot_ms;
static bool s_booted;
static bool s_restart_pending;
static volatile sig_atomic_t s_exit_signal;
static bool s_exit_requested;
static uint32_t s_next_id;
static unsigned s_boot_gen;
static pthread_mutex_t s_id_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- options, ids, clock ------------------------------------------------------------ */

void teddy_port_linux_default_options(teddy_port_linux_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->flash_dir = "flash";
    opts->audio_dir = NULL;
    /* The device model's defaults (teddy_model.h, protocol/device_model.yaml). */
    opts->console = TEDDY_HOST_OPTIONS[TEDDY_HOST_OPT_CONSOLE].default_text;
    opts->factory_version = TEDDY_DEFAULT_FIRMWARE_VERSION;
    opts->chip = TEDDY_DEFAULT_CHIP;
    opts->factory_secure_version = TEDDY_DEFAULT_SECURE_VERSION;
    opts->reset_reason = TEDDY_RESET_REASON_NAMES[TEDDY_RESET_POWERON];
    opts->microphone = TEDDY_DEFAULT_MICROPHONE;
    opts->http_timeout_ms = (uint32_t)teddy_timing_field("http_timeout_ms")->fast;
    opts->wifi_join_ms = (uint32_t)teddy_timing_field("wifi_join_ms")->fast;
}

const teddy_port_linux_options_t *lx_opts(void) { return &s_opts; }

unsigned lx_boot_gen(void) { return __atomic_load_n(&s_boot_gen, __ATOMIC_SEQ_CST); }

uint32_t lx_new_id(void)
{
    pthread_mutex_lock(&s_id_lock);
    uint32_t id = ++s_next_id;
    if (id == 0) {
        id = ++s_next_id;
    }
    pthread_mutex_unlock(&s_id_lock);
    return id;
}

uint64_t lx_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t teddy_port_now_ms(void) { return lx_mono_ms() - s_boot_ms; }

void teddy_port_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            abort(); /* no entropy: a nonce must never be predictable (SPEC §2.3) */
        }
        p += n;
        len -= (size_t)n;
    }
}

bool lx_network_broken(void) { return s_booted && s_boot.network_broken; }

/* --- files ---------------------------------------------------------------------------- */

bool lx_path(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size;
}

char *lx_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (used < cap) {
            break;
        }
        cap *= 2;
        char *bigger = realloc(buf, cap + 1);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
        }
        buf = bigger;
    }
    fclose(f);
    if (buf != NULL) {
        buf[used] = '\0';
        if (len != NULL) {
            *len = used;
        }
    }
    return buf;
}

esp_err_t lx_write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        return ESP_ERR_INVALID_SIZE;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return ESP_FAIL;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return ESP_FAIL;
        }
        p += n;
        left -= (size_t)n;
    }
    close(fd);
    /* rename is atomic: a power cut (SIGKILL) leaves the old or the new file, never half. */
    return rename(tmp, path) == 0 ? ESP_OK : ESP_FAIL;
}

/* --- the event queue ---------------------------------------------------------------- */

void lx_post(lx_dispatch_fn fn, void *payload)
{
    lx_event_t *ev = malloc(sizeof(*ev));
    if (ev == NULL) {
        free(payload);
        return;
    }
    ev->next = NULL;
    ev->fn = fn;
    ev->payload = payload;
    pthread_mutex_lock(&s_q.lock);
    if (s_q.tail != NULL) {
        s_q.tail->next = ev;
    } else {
        s_q.head = ev;
    }
    s_q.tail = ev;
    pthread_cond_signal(&s_q.cond);
    pthread_mutex_unlock(&s_q.lock);
}

void lx_wake(void)
{
    pthread_mutex_lock(&s_q.lock);
    s_q.woken = true;
    pthread_cond_signal(&s_q.cond);
    pthread_mutex_unlock(&s_q.lock);
}

static void queue_clear(void)
{
    pthread_mutex_lock(&s_q.lock);
    lx_event_t *ev = s_q.head;
    s_q.head = s_q.tail = NULL;
    pthread_mutex_unlock(&s_q.lock);
    while (ev != NULL) {
        lx_event_t *next = ev->next;
        free(ev->payload);
        free(ev);
        ev = next;
    }
}

static lx_event_t *queue_pop(uint32_t timeout_ms)
{
    pthread_mutex_lock(&s_q.lock);
    if (s_q.head == NULL && !s_q.woken && timeout_ms > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)timeout_ms * 1000000u;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&s_q.cond, &s_q.lock, &until);
    }
    s_q.woken = false;
    lx_event_t *ev = s_q.head;
    if (ev != NULL) {
        s_q.head = ev->next;
        if (s_q.head == NULL) {
            s_q.tail = NULL;
        }
    }
    pthread_mutex_unlock(&s_q.lock);
    return ev;
}

static bool should_stop(void)
{
    return s_restart_pending || s_exit_requested || s_exit_signal != 0;
}

esp_err_t teddy_port_poll(uint32_t timeout_ms)
{
    if (should_stop()) {
        return ESP_ERR_INVALID_STATE;
    }
    /* Wake at least every 100 ms so a signal is noticed without a self-pipe. */
    lx_event_t *ev = queue_pop(timeout_ms < 100 ? timeout_ms : 100);
    /* Dispatch everything queued now; each callback may post more (handled next call). */
    while (ev != NULL) {
        ev->fn(ev->payload);
        free(ev->payload);
        free(ev);
        if (should_stop()) {
            return ESP_ERR_INVALID_STATE;
        }
        ev = queue_pop(0);
    }
    return should_stop() ? ESP_ERR_INVALID_STATE : ESP_OK;
}

/* --- lifetime ------------------------------------------------------------------------- */

static void on_signal(int signum)
{
    (void)signum;
    s_exit_signal = 1;
}

esp_err_t teddy_port_linux_open(const teddy_port_linux_options_t *opts)
{
    s_opts = *opts;
    if (s_opts.reset_reason == NULL) {
        s_opts.reset_reason = TEDDY_RESET_REASON_NAMES[TEDDY_RESET_POWERON];
    }
    snprintf(s_reason, sizeof(s_reason), "%s", s_opts.reset_reason);
    if (mkdir(s_opts.flash_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "teddy-fw-host: cannot create %s: %s\n", s_opts.flash_dir,
                strerror(errno));
        return ESP_FAIL;
    }
    if (s_opts.audio_dir != NULL && mkdir(s_opts.audio_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "teddy-fw-host: cannot create %s: %s\n", s_opts.audio_dir,
                strerror(errno));
        return ESP_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed console/socket is an error code, not a death */
    return lx_console_open(s_opts.console);
}

void teddy_port_linux_close(void) { lx_console_close(); }

void lx_exit_request(void)
{
    s_exit_requested = true;
    lx_wake();
}

bool teddy_port_linux_exit_requested(void) { return s_exit_requested || s_exit_signal != 0; }

esp_err_t teddy_port_init(void)
{
    s_boot_ms = lx_mono_ms();
    __atomic_add_fetch(&s_boot_gen, 1, __ATOMIC_SEQ_CST);
    s_restart_pending = false;
    memset(&s_boot, 0, sizeof(s_boot));
    esp_err_t err = lx_flash_boot(s_reason, &s_boot);
    if (err != ESP_OK) {
        return err;
    }
    s_booted = true;
    err = lx_http_init();
    if (err == ESP_OK) {
        err = lx_ws_init();
    }
    return err;
}

static void stop_boot(bool flush)
{
    if (!s_booted) {
        return;
    }
    lx_ws_deinit(flush);
    lx_http_deinit();
    lx_audio_deinit();
    lx_wifi_deinit();
    queue_clear();
    teddy_port_console_set_callback(NULL, NULL);
    teddy_port_button_set_callback(NULL, NULL);
    s_booted = false;
}

void teddy_port_deinit(void) { stop_boot(true); }

esp_err_t teddy_port_boot_info(teddy_port_boot_info_t *out)
{
    if (!s_booted) {
        return ESP_ERR_INVALID_STATE;
    }
    *out = s_boot;
    return ESP_OK;
}

void teddy_port_restart(const char *reset_reason)
{
    snprintf(s_reason, sizeof(s_reason), "%s",
             reset_reason != NULL ? reset_reason : TEDDY_RESET_REASON_NAMES[TEDDY_RESET_SW]);
    s_restart_pending = true;
    lx_wake();
}

bool teddy_port_restart_pending(void) { return s_restart_pending; }
