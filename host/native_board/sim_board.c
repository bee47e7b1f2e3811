/*
 * sim_board: a color organ board simulated on the host, served on a pseudo-terminal.
 *
 *   sim_board --storage FILE [--storage-size N] [--fs HZ] [--audio RAW] [--no-loop]
 *             [--noise AMPLITUDE] [--seed N] [--watch-stdin]
 *
 * The application (sim_app.h: the firmware's organ_app, or a test application) runs exactly as on
 * a board: bytes from the pty go to its link, its replies go back to the pty, its parameter image
 * lives in FILE (STORAGE_SIZE bytes, 0xFF like an erased EEPROM when FILE does not exist; written
 * back whenever the application changes it, so a SAVE survives the process), and live "microphone"
 * samples reach it at real-time pace (--fs samples per second of the monotonic clock):
 *   RAW     mono int16 little-endian at --fs, looped unless --no-loop, silence after its end;
 *   noise   uniform integer noise of +-AMPLITUDE added to every sample (a microphone's floor).
 * A host that falls more than MAX_BACKLOG_S behind real time skips samples and counts them as
 * overruns, the way the firmware counts missed sample periods.
 *
 * Once the application has booted (HELLO sent) the program prints "PTY <path>" on stdout and
 * serves until SIGTERM / SIGINT / SIGHUP, or, with --watch-stdin, until its stdin closes (so it
 * never outlives a parent that holds the other end). The program keeps the pty's slave side
 * open itself: a client may close and reopen the port, as with a USB serial adapter.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sim_app.h"

#define OUT_RING_SIZE (256u * 1024u) /* host-side transmit buffer; beyond it bytes are lost */
#define MAX_BACKLOG_S 0.25           /* real-time slack before samples count as overruns */
#define LIVE_CHUNK 256u              /* live samples handed over per call */
#define POLL_MS 1                    /* main loop period when idle */

typedef struct {
    uint8_t *buf;
    size_t head, len; /* bytes [head, head + len) modulo OUT_RING_SIZE are pending */
    size_t dropped;
} ring_t;

static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sink(void *ctx, const uint8_t *data, uint8_t n)
{
    ring_t *r = ctx;
    uint8_t i;
    for (i = 0; i < n; i++) {
        if (r->len == OUT_RING_SIZE) {
            r->dropped++; /* nobody reads the port: the bytes go nowhere, as from a UART */
            continue;
        }
        r->buf[(r->head + r->len) % OUT_RING_SIZE] = data[i];
        r->len++;
    }
}

/* Write what the pty takes now; returns -1 on a fatal error. */
static int flush_ring(ring_t *r, int fd)
{
    while (r->len > 0) {
        size_t chunk = OUT_RING_SIZE - r->head;
        ssize_t w;
        if (chunk > r->len) {
            chunk = r->len;
        }
        w = write(fd, r->buf + r->head, chunk);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return 0;
            }
            if (errno == EIO) { /* no reader side at the moment: keep the bytes */
                return 0;
            }
            return -1;
        }
        r->head = (r->head + (size_t)w) % OUT_RING_SIZE;
        r->len -= (size_t)w;
    }
    return 0;
}

static int16_t *load_audio(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    long size;
    int16_t *x;
    size_t i;
    if (!f) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    *n = (size_t)size / 2u;
    x = malloc(*n * 2u + 2u);
    if (!x || fread(x, 2, *n, f) != *n) {
        free(x);
        fclose(f);
        return NULL;
    }
    fclose(f);
    for (i = 0; i < *n; i++) { /* the file is little-endian whatever the host is */
        const uint8_t *b = (const uint8_t *)&x[i];
        x[i] = (int16_t)(uint16_t)(b[0] | (b[1] << 8));
    }
    return x;
}

static void save_storage(const char *path, const uint8_t *data, size_t n)
{
    char tmp[4096];
    FILE *f;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        return;
    }
    f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "sim_board: cannot write %s: %s\n", tmp, strerror(errno));
        return;
    }
    if (fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "sim_board: cannot write %s\n", tmp);
        return;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "sim_board: cannot rename %s: %s\n", tmp, strerror(errno));
    }
}

static int open_pty(int *master, int *slave, char *name, size_t cap)
{
    struct termios t;
    const char *p;
    *master = posix_openpt(O_RDWR | O_NOCTTY);
    if (*master < 0 || grantpt(*master) != 0 || unlockpt(*master) != 0) {
        return -1;
    }
    p = ptsname(*master);
    if (!p || strlen(p) >= cap) {
        return -1;
    }
    strcpy(name, p);
    /* hold the slave open so that a client closing the port does not hang the master up, and
     * make it raw at once: a cooked tty would echo the board's frames back into the board */
    *slave = open(name, O_RDWR | O_NOCTTY);
    if (*slave < 0 || tcgetattr(*slave, &t) != 0) {
        return -1;
    }
    cfmakeraw(&t);
    if (tcsetattr(*slave, TCSANOW, &t) != 0) {
        return -1;
    }
    return fcntl(*master, F_SETFL, fcntl(*master, F_GETFL) | O_NONBLOCK);
}

typedef struct {
    const char *storage_path;
    unsigned storage_size;
    double fs;
    const char *audio_path;
    int loop;
    int noise;
    uint32_t seed;
    int watch_stdin;
} options_t;

static int parse_args(int argc, char **argv, options_t *o)
{
    int i;
    o->storage_path = NULL;
    o->storage_size = 1024;
    o->fs = 19230.769;
    o->audio_path = NULL;
    o->loop = 1;
    o->noise = 0;
    o->seed = 1;
    o->watch_stdin = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-loop")) {
            o->loop = 0;
        } else if (!strcmp(a, "--watch-stdin")) {
            o->watch_stdin = 1;
        } else if (v && !strcmp(a, "--storage")) {
            o->storage_path = v, i++;
        } else if (v && !strcmp(a, "--storage-size")) {
            o->storage_size = (unsigned)strtoul(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--fs")) {
            o->fs = strtod(v, NULL), i++;
        } else if (v && !strcmp(a, "--audio")) {
            o->audio_path = v, i++;
        } else if (v && !strcmp(a, "--noise")) {
            o->noise = atoi(v), i++;
        } else if (v && !strcmp(a, "--seed")) {
            o->seed = (uint32_t)strtoul(v, NULL, 10), i++;
        } else {
            fprintf(stderr, "sim_board: unknown or incomplete argument %s\n", a);
            return -1;
        }
    }
    if (!o->storage_path || o->storage_size == 0 || o->storage_size > 65535 || !(o->fs > 0) ||
        o->noise < 0 || o->noise > 32767) {
        fprintf(stderr, "usage: sim_board --storage FILE [--storage-size N] [--fs HZ] "
                        "[--audio RAW] [--no-loop] [--noise AMPLITUDE] [--seed N] "
                        "[--watch-stdin]\n");
        return -1;
    }
    return 0;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* The next live sample: the audio file (looped or silent after its end) plus noise. */
static int16_t live_sample(const options_t *o, const int16_t *audio, size_t n_audio,
                           uint64_t pos, uint32_t *rng)
{
    int32_t v = 0;
    if (n_audio && (o->loop || pos < n_audio)) {
        v = audio[pos % n_audio];
    }
    if (o->noise) {
        v += (int32_t)(xorshift(rng) % (uint32_t)(2 * o->noise + 1)) - o->noise;
    }
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static int boot(void *app, uint8_t *storage, const options_t *o, ring_t *out)
{
    if (sim_app_boot(app, storage, (uint16_t)o->storage_size, sink, out) != 0) {
        fprintf(stderr, "sim_board: the application refused to boot\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options_t o;
    ring_t out = {0};
    uint8_t *storage, *saved;
    int16_t *audio = NULL;
    size_t n_audio = 0;
    int master = -1, slave = -1;
    char name[256];
    void *app;
    uint64_t t0, done = 0;
    uint64_t max_backlog;
    uint32_t rng;
    FILE *f;
    struct sigaction sa;

    if (parse_args(argc, argv, &o) != 0) {
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    storage = malloc(o.storage_size);
    saved = malloc(o.storage_size);
    out.buf = malloc(OUT_RING_SIZE);
    app = calloc(1, sim_app_size());
    if (!storage || !saved || !out.buf || !app) {
        fprintf(stderr, "sim_board: out of memory\n");
        return 1;
    }
    memset(storage, 0xFF, o.storage_size);
    f = fopen(o.storage_path, "rb");
    if (f) {
        size_t got = fread(storage, 1, o.storage_size, f);
        (void)got; /* a short file leaves the rest erased */
        fclose(f);
    }
    memcpy(saved, storage, o.storage_size);
    if (o.audio_path && !(audio = load_audio(o.audio_path, &n_audio))) {
        fprintf(stderr, "sim_board: cannot read audio %s\n", o.audio_path);
        return 2;
    }
    rng = o.seed ? o.seed : 1u;
    if (open_pty(&master, &slave, name, sizeof name) != 0) {
        fprintf(stderr, "sim_board: cannot open a pty: %s\n", strerror(errno));
        return 1;
    }
    if (boot(app, storage, &o, &out) != 0) {
        return 1;
    }
    printf("PTY %s\n", name);
    fflush(stdout);

    max_backlog = (uint64_t)(o.fs * MAX_BACKLOG_S);
    t0 = now_ns();
    while (!g_stop) {
        struct pollfd fds[2];
        uint64_t now = now_ns();
        uint64_t due = (uint64_t)((double)(now - t0) * 1e-9 * o.fs);
        int nfds = 1;

        if (due > done + max_backlog) {
            uint64_t missed = due - done - max_backlog;
            sim_app_add_overruns(app, (uint32_t)(missed > 0xFFFFFFFFu ? 0xFFFFFFFFu : missed));
            done += missed;
        }
        while (done < due) {
            int16_t x[LIVE_CHUNK];
            size_t k, n = (size_t)(due - done < LIVE_CHUNK ? due - done : LIVE_CHUNK);
            for (k = 0; k < n; k++) {
                x[k] = live_sample(&o, audio, n_audio, done + k, &rng);
            }
            sim_app_live(app, x, n);
            done += n;
        }
        sim_app_poll(app, (uint32_t)((now - t0) / 1000000u));
        if (flush_ring(&out, master) != 0) {
            fprintf(stderr, "sim_board: pty write failed: %s\n", strerror(errno));
            break;
        }

        fds[0].fd = master;
        fds[0].events = POLLIN | (out.len ? POLLOUT : 0);
        fds[0].revents = 0;
        if (o.watch_stdin) {
            fds[1].fd = STDIN_FILENO;
            fds[1].events = POLLIN;
            fds[1].revents = 0;
            nfds = 2;
        }
        if (poll(fds, (nfds_t)nfds, POLL_MS) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char junk[64];
            if (read(STDIN_FILENO, junk, sizeof junk) <= 0) {
                break; /* the parent went away */
            }
        }
        if (fds[0].revents & POLLIN) {
            uint8_t buf[4096];
            ssize_t n = read(master, buf, sizeof buf);
            if (n > 0) {
                sim_app_feed(app, buf, (size_t)n);
                if (memcmp(storage, saved, o.storage_size) != 0) {
                    save_storage(o.storage_path, storage, o.storage_size);
                    memcpy(saved, storage, o.storage_size);
                }
                if (sim_app_reboot_requested(app)) {
                    uint64_t until = now_ns() + 200000000ull; /* let the ACK out first */
                    while (out.len && now_ns() < until && flush_ring(&out, master) == 0) {
                        struct timespec ts = {0, 1000000};
                        nanosleep(&ts, NULL);
                    }
                    out.len = 0;
                    if (boot(app, storage, &o, &out) != 0) {
                        break;
                    }
                }
            } else if (n < 0 && errno != EAGAIN && errno != EINTR && errno != EIO) {
                break;
            }
        }
    }
    if (out.dropped) {
        fprintf(stderr, "sim_board: %zu bytes sent while nobody read the port were lost\n",
                out.dropped);
    }
    close(slave);
    close(master);
    free(audio);
    free(app);
    free(out.buf);
    free(saved);
    free(storage);
    return 0;
}
