/*
 * linux_console.c - the board's UART on the host: stdio or one TCP client.
 *
 * Lines out are SPEC §8 event lines and log text, LF-terminated, written whole under a
 * lock (driver threads may log too). Lines in are SPEC §9 commands: a reader thread
 * splits on LF, drops a trailing CR, cuts a line at 4096 bytes (SPEC §9.1 asks for at
 * least 256) and posts it to the app thread. End of stdin asks the process to exit,
 * like the emulator's `--console stdio`. With `tcp:PORT` the board powers on when the
 * first client connects (a USB-serial board resets on DTR); one client at a time, and
 * output nobody reads is dropped, as on a UART.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lx_internal.h"

#define LINE_MAX_BYTES 4096

static pthread_mutex_t s_out_lock = PTHREAD_MUTEX_INITIALIZER;
static teddy_port_line_cb_t s_cb;
static void *s_cb_arg;
static int s_listen_fd = -1;
static int s_client_fd = -1; /* tcp client, -1 when none; stdio uses fd 0/1 */
static bool s_tcp;
static pthread_t s_reader;
static bool s_reader_started;

typedef struct {
    char line[1];
} line_event_t;

static void dispatch_line(void *payload)
{
    line_event_t *ev = payload;
    if (s_cb != NULL) {
        s_cb(ev->line, s_cb_arg);
    }
}

static void dispatch_exit(void *payload)
{
    (void)payload;
    lx_exit_request();
}

void teddy_port_console_set_callback(teddy_port_line_cb_t cb, void *arg)
{
    s_cb = cb;
    s_cb_arg = arg;
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* nobody listening: dropped, like a UART */
        }
        data += n;
        len -= (size_t)n;
    }
}

void teddy_port_console_write(const char *line)
{
    size_t len = strlen(line);
    char *buf = malloc(len + 1);
    if (buf == NULL) {
        return;
    }
    memcpy(buf, line, len);
    buf[len] = '\n';
    pthread_mutex_lock(&s_out_lock);
    int fd = s_tcp ? s_client_fd : STDOUT_FILENO;
    if (fd >= 0) {
        write_all(fd, buf, len + 1);
    }
    pthread_mutex_unlock(&s_out_lock);
    free(buf);
}

static void post_line(const char *data, size_t len)
{
    if (len > 0 && data[len - 1] == '\r') {
        len--;
    }
    line_event_t *ev = malloc(sizeof(*ev) + len);
    if (ev == NULL) {
        return;
    }
    memcpy(ev->line, data, len);
    ev->line[len] = '\0';
    lx_post(dispatch_line, ev);
}

/* Read lines from fd until EOF; returns when the peer closed or failed. */
static void read_lines(int fd)
{
    char *buf = malloc(LINE_MAX_BYTES + 1);
    size_t used = 0;
    bool overlong = false;
    if (buf == NULL) {
        return;
    }
    for (;;) {
        char chunk[1024];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] == '\n') {
                post_line(buf, used);
                used = 0;
                overlong = false;
            } else if (used < LINE_MAX_BYTES) {
                buf[used++] = chunk[i];
            } else if (!overlong) {
                overlong = true; /* an endless line: keep its start only */
            }
        }
    }
    if (used > 0) {
        post_line(buf, used);
    }
    free(buf);
}

static void *reader_main(void *arg)
{
    (void)arg;
    if (!s_tcp) {
        read_lines(STDIN_FILENO);
        /* End of stdin switches the board off, after the lines read before it. */
        lx_post(dispatch_exit, calloc(1, 1));
        return NULL;
    }
    for (;;) {
        if (s_client_fd < 0) {
            int fd = accept(s_listen_fd, NULL, NULL);
            if (fd < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return NULL; /* listener closed: process exit */
            }
            pthread_mutex_lock(&s_out_lock);
            s_client_fd = fd;
            pthread_mutex_unlock(&s_out_lock);
        }
        read_lines(s_client_fd);
        pthread_mutex_lock(&s_out_lock);
        close(s_client_fd);
        s_client_fd = -1;
        pthread_mutex_unlock(&s_out_lock);
    }
}

static esp_err_t open_tcp(const char *port_text)
{
    char *end = NULL;
    long port = strtol(port_text, &end, 10);
    if (end == port_text || *end != '\0' || port < 0 || port > 65535) {
        fprintf(stderr, "teddy-fw-host: bad console port %s\n", port_text);
        return ESP_ERR_INVALID_ARG;
    }
    s_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(addr);
    if (bind(s_listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(s_listen_fd, 1) != 0 ||
        getsockname(s_listen_fd, (struct sockaddr *)&addr, &alen) != 0) {
        fprintf(stderr, "teddy-fw-host: console tcp:%ld: %s\n", port, strerror(errno));
        return ESP_FAIL;
    }
    printf("console: tcp 127.0.0.1:%u\n", (unsigned)ntohs(addr.sin_port));
    fflush(stdout);
    /* The board powers on with its first client (DTR reset). */
    int fd;
    do {
        fd = accept(s_listen_fd, NULL, NULL);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return ESP_FAIL;
    }
    s_client_fd = fd;
    return ESP_OK;
}

esp_err_t lx_console_open(const char *spec)
{
    if (spec == NULL || strcmp(spec, "stdio") == 0) {
        s_tcp = false;
        setvbuf(stdout, NULL, _IOLBF, 0);
    } else if (strncmp(spec, "tcp:", 4) == 0) {
        s_tcp = true;
        esp_err_t err = open_tcp(spec + 4);
        if (err != ESP_OK) {
            return err;
        }
    } else {
        fprintf(stderr, "teddy-fw-host: --console must be stdio or tcp:PORT, got %s\n", spec);
        return ESP_ERR_INVALID_ARG;
    }
    if (pthread_create(&s_reader, NULL, reader_main, NULL) != 0) {
        return ESP_FAIL;
    }
    s_reader_started = true;
    return ESP_OK;
}

void lx_console_close(void)
{
    if (s_listen_fd >= 0) {
        shutdown(s_listen_fd, SHUT_RDWR);
        close(s_listen_fd);
        s_listen_fd = -1;
    }
    pthread_mutex_lock(&s_out_lock);
    if (s_client_fd >= 0) {
        shutdown(s_client_fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&s_out_lock);
    if (s_reader_started) {
        /* stdin may block forever: the reader is detached, the process is ending. */
        pthread_detach(s_reader);
        s_reader_started = false;
    }
}
