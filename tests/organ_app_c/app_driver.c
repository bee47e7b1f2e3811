/*
 * organ_app on a simulated board, for tests/test_organ_app.py.
 *
 *   app_driver [BOARD ...] STORAGE_FILE  run a script from stdin (below)
 *   app_driver --ref [ID=VALUE ...]     reference: int16 LE samples on stdin through the DSP core
 *                                       directly (fresh state, design defaults, then the SETs);
 *                                       band records (the wire layout) on stdout
 *
 * The design is the firmware's own generated include/organ_design.h (designer.render): the tables
 * as `organ_design`, organ_design_hash, organ_board_name and the ORGAN_* identity macros.
 *
 * Script records: [op u8][len u16 LE][len bytes]
 *   'F'  feed the bytes to organ_app_feed (in chunks of at most 255)
 *   'T'  u32 now_ms: organ_app_poll
 *   'L'  int16 LE samples: organ_app_live_sample for each (the audio context, between commands)
 *   'I'  int16 LE samples to inject as "interrupts": one before every serial_write call made
 *        outside a critical section, as an ADC interrupt firing in the middle of a reply would.
 *        Each injection is logged on stderr as "inject live X" or "inject paused X".
 *   'O'  u32 n: organ_app_overrun n times
 *   'W'  u8 what, u32 arg: a failing board layer, from now on (what: 0 store_write fails once
 *        arg more bytes are written, the bytes before the limit landing: a torn write, arg
 *        0xFFFFFFFF never; 1 store_commit installed, failing when arg is nonzero; 2 store_read
 *        fails when arg is nonzero, seen at the next boot)
 * BOARD options take hooks away, as a board layer without them would: --no-storage,
 * --no-reboot, --no-critical (organ_app_init must refuse it), and --bad-design (the tables with
 * n_bands = 0: organ_init must refuse them). A refused init is logged on stderr as
 * "organ_app_init failed: RC (dsp D, link L)" with exit status 4 and nothing sent.
 * A reboot request re-initialises the app with the same storage (HELLO follows). The storage
 * image is written back to STORAGE_FILE at the end. Everything the device sends goes to stdout.
 * Board-contract violations (nested or unbalanced critical sections) abort.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "organ_app.h"
#include "organ_design.h"

#define STORAGE_SIZE 256u

typedef struct {
    organ_app_t app;
    organ_app_board_t board;
    organ_app_identity_t id;
    uint8_t storage[STORAGE_SIZE];
    int in_critical;
    int reboot;
    const uint8_t *inject;
    size_t inject_left;
    uint32_t write_budget; /* bytes store_write may still write (UINT32_MAX: no limit) */
    uint8_t commit_fails;
    uint8_t read_fails;
    organ_design_t bad_design;
} sim_t;

static sim_t sim;

static void die(const char *why)
{
    fprintf(stderr, "app_driver: %s\n", why);
    abort();
}

static void serial_write(void *ctx, const uint8_t *data, uint8_t n)
{
    sim_t *s = ctx;
    if (s->inject_left > 0 && !s->in_critical) {
        int16_t x = (int16_t)(uint16_t)(s->inject[0] | (s->inject[1] << 8));
        fprintf(stderr, "inject %s %d\n", s->app.paused ? "paused" : "live", x);
        organ_app_live_sample(&s->app, x);
        s->inject += 2;
        s->inject_left--;
    }
    if (fwrite(data, 1, n, stdout) != n) {
        die("stdout");
    }
}

static uint8_t store_read(void *ctx, uint16_t addr, uint8_t *buf, uint8_t n)
{
    sim_t *s = ctx;
    if ((uint32_t)addr + n > STORAGE_SIZE || s->read_fails) {
        return 1;
    }
    memcpy(buf, s->storage + addr, n);
    return 0;
}

static uint8_t store_write(void *ctx, uint16_t addr, const uint8_t *buf, uint8_t n)
{
    sim_t *s = ctx;
    uint32_t land = n;
    if ((uint32_t)addr + n > STORAGE_SIZE) {
        return 1;
    }
    if (s->write_budget != UINT32_MAX) {
        /* power lost mid-write: what fits the budget lands, the rest never does */
        land = n < s->write_budget ? n : s->write_budget;
        s->write_budget -= land;
    }
    memcpy(s->storage + addr, buf, land);
    return land == n ? 0 : 1;
}

static uint8_t store_commit(void *ctx)
{
    return ((sim_t *)ctx)->commit_fails;
}

static void reboot(void *ctx)
{
    ((sim_t *)ctx)->reboot = 1;
}

static void critical_enter(void *ctx)
{
    sim_t *s = ctx;
    if (s->in_critical) {
        die("nested critical section");
    }
    s->in_critical = 1;
}

static void critical_exit(void *ctx)
{
    sim_t *s = ctx;
    if (!s->in_critical) {
        die("critical_exit without critical_enter");
    }
    s->in_critical = 0;
}

static void boot(sim_t *s)
{
    int rc = organ_app_init(&s->app, &s->board, &s->id);
    if (rc != ORGAN_APP_OK) {
        fprintf(stderr, "app_driver: organ_app_init failed: %d (dsp %d, link %u)\n", rc,
                s->app.dsp_error, s->app.link_error);
        fflush(stdout);
        exit(4);
    }
    organ_app_hello(&s->app);
}

static int reference(int argc, char **argv)
{
    static organ_params_t p;
    static organ_state_t st;
    organ_band_out_t out[ORGAN_MAX_BANDS];
    uint8_t b2[2];
    int i;
    organ_params_default(&organ_design, &p);
    for (i = 2; i < argc; ++i) {
        int id;
        long v;
        if (sscanf(argv[i], "%d=%ld", &id, &v) != 2 || organ_param_set(&p, (uint8_t)id, v) != 0) {
            die("bad ID=VALUE");
        }
    }
    if (organ_init(&st, &organ_design, &p) != ORGAN_OK) {
        die("organ_init");
    }
    while (fread(b2, 1, 2, stdin) == 2) {
        uint8_t b;
        organ_process_sample(&st, (int16_t)(uint16_t)(b2[0] | (b2[1] << 8)), out);
        for (b = 0; b < organ_design.n_bands; ++b) {
#ifdef ORGAN_FLOAT
            fwrite(&out[b].y, 4, 1, stdout);
            fwrite(&out[b].env, 4, 1, stdout);
#else
            uint8_t v[4];
            v[0] = (uint8_t)out[b].y;
            v[1] = (uint8_t)((uint16_t)out[b].y >> 8);
            v[2] = (uint8_t)out[b].env;
            v[3] = (uint8_t)((uint16_t)out[b].env >> 8);
            fwrite(v, 1, 4, stdout);
#endif
            fwrite(&out[b].led, 1, 1, stdout);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t data[65536];
    static uint8_t inject_buf[65536];
    sim_t *s = &sim;
    const char *storage_file;
    int no_storage = 0, no_reboot = 0, no_critical = 0, bad_design = 0;
    FILE *f;
    if (argc >= 2 && strcmp(argv[1], "--ref") == 0) {
        return reference(argc, argv);
    }
    for (; argc > 2 && strncmp(argv[1], "--", 2) == 0; --argc, ++argv) {
        if (strcmp(argv[1], "--no-storage") == 0) {
            no_storage = 1;
        } else if (strcmp(argv[1], "--no-reboot") == 0) {
            no_reboot = 1;
        } else if (strcmp(argv[1], "--no-critical") == 0) {
            no_critical = 1;
        } else if (strcmp(argv[1], "--bad-design") == 0) {
            bad_design = 1;
        } else {
            break;
        }
    }
    if (argc != 2) {
        fprintf(stderr, "usage: app_driver [--no-storage] [--no-reboot] [--no-critical] "
                        "[--bad-design] STORAGE_FILE | app_driver --ref [ID=VALUE ...]\n");
        return 2;
    }
    storage_file = argv[1];
    s->write_budget = UINT32_MAX;
    memset(s->storage, 0xFF, sizeof s->storage);
    f = fopen(storage_file, "rb");
    if (f) {
        size_t got = fread(s->storage, 1, sizeof s->storage, f);
        (void)got;
        fclose(f);
    }
    s->board.ctx = s;
    s->board.serial_write = serial_write;
    if (!no_storage) {
        s->board.store_read = store_read;
        s->board.store_write = store_write;
        s->board.store_size = STORAGE_SIZE;
    }
    if (!no_reboot) {
        s->board.reboot = reboot;
    }
    if (!no_critical) {
        s->board.critical_enter = critical_enter;
        s->board.critical_exit = critical_exit;
    }
    {
        static const uint8_t fw[3] = ORGAN_FW_VERSION;
        memcpy(s->id.fw_version, fw, sizeof fw);
    }
    s->id.design = &organ_design;
    if (bad_design) {
        s->bad_design = organ_design;
        s->bad_design.n_bands = 0;
        s->id.design = &s->bad_design;
    }
    s->id.board_name = organ_board_name;
    s->id.design_hash = organ_design_hash;
    s->id.fs_millihz = ORGAN_FS_MILLIHZ;
    s->id.y_frac_bits = ORGAN_Y_FRAC_BITS;
    s->id.env_frac_bits = ORGAN_ENV_FRAC_BITS;
    boot(s);
    for (;;) {
        uint8_t head[3];
        size_t len;
        size_t i;
        if (fread(head, 1, 3, stdin) != 3) {
            break;
        }
        len = (size_t)(head[1] | (head[2] << 8));
        if (fread(data, 1, len, stdin) != len) {
            die("short record");
        }
        switch (head[0]) {
        case 'F':
            for (i = 0; i < len; i += 255) {
                size_t k = len - i < 255 ? len - i : 255;
                organ_app_feed(&s->app, data + i, (uint8_t)k);
                if (s->reboot) {
                    s->reboot = 0;
                    boot(s);
                    break; /* the rest of this chunk was sent before the board came back */
                }
            }
            break;
        case 'T':
            organ_app_poll(&s->app, (uint32_t)data[0] | ((uint32_t)data[1] << 8) |
                                        ((uint32_t)data[2] << 16) | ((uint32_t)data[3] << 24));
            if (s->reboot) {
                s->reboot = 0;
                boot(s);
            }
            break;
        case 'L':
            for (i = 0; i + 1 < len; i += 2) {
                organ_app_live_sample(&s->app, (int16_t)(uint16_t)(data[i] | (data[i + 1] << 8)));
            }
            break;
        case 'I':
            memcpy(inject_buf, data, len);
            s->inject = inject_buf;
            s->inject_left = len / 2;
            break;
        case 'O': {
            uint32_t n = (uint32_t)data[0] | ((uint32_t)data[1] << 8) |
                         ((uint32_t)data[2] << 16) | ((uint32_t)data[3] << 24);
            while (n--) {
                organ_app_overrun(&s->app);
            }
            break;
        }
        case 'W': {
            uint32_t arg;
            if (len != 5) {
                die("W wants 5 bytes");
            }
            arg = (uint32_t)data[1] | ((uint32_t)data[2] << 8) | ((uint32_t)data[3] << 16) |
                  ((uint32_t)data[4] << 24);
            if (data[0] == 0) {
                s->write_budget = arg;
            } else if (data[0] == 1) {
                s->board.store_commit = store_commit;
                s->commit_fails = arg != 0;
            } else if (data[0] == 2) {
                s->read_fails = arg != 0;
            } else {
                die("unknown W");
            }
            break;
        }
        default:
            die("unknown op");
        }
        if (s->in_critical) {
            die("critical section left open");
        }
    }
    f = fopen(storage_file, "wb");
    if (!f || fwrite(s->storage, 1, sizeof s->storage, f) != sizeof s->storage) {
        die("cannot write storage");
    }
    fclose(f);
    return 0;
}
