/*
 * A mock color organ application for the link tests: organ_link + organ_store bound to a toy
 * DSP that tests/test_link_c.py mirrors in Python (MockModel). Build options:
 *   MOCK_BANDS=n   number of bands (default 3)
 *   MOCK_FLOAT     float32 band values (the ESP32 variant), else int16
 *   MOCK_MINIMAL   bind only the required hooks (send, info, name)
 *
 * Toy DSP, per sample x and band b (s[b] is int32 state, >> is arithmetic, k = (b & 3) + 1):
 *   s[b] += x - (s[b] >> k);  v = s[b] >> k
 *   int16: y = sat16((v * gain) >> 7);  env = sat16(|y|)
 *   float: y = (float)v * (float)gain / 128.0f;  env = fabsf(y)
 *   led = (|v| > squelch) ? min(|v| >> 7, 255) : 0
 *
 * Parameters (id: name, bounds, default): 0 gain 0..512 (128 = unity), 1 squelch 0..32767 (64),
 * 2 hold_ms 0..2000 (0), 5 agc 0..1 (1), 9 bug 0..2 (0): 1 makes PROCESS write one record too
 * few, 2 makes LEVELS write one record too many (to test the link's checks).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "organ_store.h"
#include "test_app.h"

#ifndef MOCK_BANDS
#define MOCK_BANDS 3
#endif

#define N_PARAMS 5

typedef struct {
    organ_link_t link;
    organ_link_hooks_t hooks;
    organ_store_io_t io;
    test_app_sink_fn sink;
    void *sink_ctx;
    uint8_t *storage;
    int32_t s[MOCK_BANDS];
    int32_t params[N_PARAMS];
    uint8_t params_status;
    uint8_t reboot;
    uint16_t levels_period;
    uint32_t overruns;
    uint8_t hash[ORGAN_LINK_HASH_SIZE];
} mock_app_t;

static const uint8_t param_ids[N_PARAMS] = {0, 1, 2, 5, 9};
static const int32_t param_min[N_PARAMS] = {0, 0, 0, 0, 0};
static const int32_t param_max[N_PARAMS] = {512, 32767, 2000, 1, 2};
static const int32_t param_def[N_PARAMS] = {128, 64, 0, 1, 0};
static const char *const band_names[] = {"bass", "mid", "treble", "b3", "b4", "b5", "b6", "b7",
                                          "b8", "b9", "b10", "b11", "b12", "b13", "b14", "b15"};

static int param_index(uint8_t id)
{
    int i;
    for (i = 0; i < N_PARAMS; ++i) {
        if (param_ids[i] == id) {
            return i;
        }
    }
    return -1;
}

static void defaults(mock_app_t *a)
{
    memcpy(a->params, param_def, sizeof a->params);
}

static void send_hook(void *ctx, const uint8_t *data, uint8_t n)
{
    mock_app_t *a = ctx;
    a->sink(a->sink_ctx, data, n);
}

static void info_hook(void *ctx, organ_link_info_t *info)
{
    mock_app_t *a = ctx;
    info->fw_version[0] = 0;
    info->fw_version[1] = 1;
    info->fw_version[2] = 0;
    info->fs_millihz = 19230769u;
    info->n_bands = MOCK_BANDS;
#ifdef MOCK_FLOAT
    info->value_format = ORGAN_LINK_VALUES_FLOAT32;
    info->y_frac_bits = 0;
    info->env_frac_bits = 0;
#else
    info->value_format = ORGAN_LINK_VALUES_INT16;
    info->y_frac_bits = 15;
    info->env_frac_bits = 15;
#endif
    info->params_status = a->params_status;
    memcpy(info->design_hash, a->hash, sizeof a->hash);
}

static uint8_t name_hook(void *ctx, uint8_t kind, uint8_t index, char *buf, uint8_t cap)
{
    const char *s = kind == ORGAN_LINK_NAME_BOARD ? "mock" : band_names[index % 16u];
    size_t n = strlen(s);
    (void)ctx;
    if (n > cap) {
        n = cap;
    }
    memcpy(buf, s, n);
    return (uint8_t)n;
}

static uint32_t overruns_hook(void *ctx)
{
    return ((mock_app_t *)ctx)->overruns;
}

#ifndef MOCK_FLOAT
static int16_t sat16(int32_t v)
{
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}
#endif

/* One band's outputs from its state; see the file comment. */
static void band_out(const mock_app_t *a, int b, organ_link_writer_t *w)
{
    int32_t v = a->s[b] >> ((b & 3) + 1);
    int32_t mag = v < 0 ? -v : v;
    uint8_t led = (uint8_t)(mag > a->params[1] ? (mag >> 7 > 255 ? 255 : mag >> 7) : 0);
#ifdef MOCK_FLOAT
    float y = (float)v * (float)a->params[0] / 128.0f;
    organ_link_put_band_f32(w, y, fabsf(y), led);
#else
    int16_t y = sat16((v * a->params[0]) >> 7);
    organ_link_put_band(w, y, sat16(y < 0 ? -(int32_t)y : y), led);
#endif
}

static organ_link_status_t process_hook(void *ctx, const uint8_t *samples_le, uint8_t n,
                                        uint8_t flags, organ_link_writer_t *w)
{
    mock_app_t *a = ctx;
    uint8_t i;
    int b;
    if (flags & ORGAN_LINK_PROCESS_FROM_RESET) {
        memset(a->s, 0, sizeof a->s);
    }
    for (i = 0; i < n; ++i) {
        int32_t x = organ_link_sample(samples_le, i);
        for (b = 0; b < MOCK_BANDS; ++b) {
            a->s[b] += x - (a->s[b] >> ((b & 3) + 1));
            if (a->params[4] == 1 && i == n - 1 && b == MOCK_BANDS - 1) {
                continue; /* the planted bug: one record short */
            }
            band_out(a, b, w);
        }
    }
    return ORGAN_LINK_OK;
}

static organ_link_status_t get_hook(void *ctx, uint8_t id, int32_t *value)
{
    mock_app_t *a = ctx;
    int i = param_index(id);
    if (i < 0) {
        return ORGAN_LINK_E_UNKNOWN_PARAM;
    }
    *value = a->params[i];
    return ORGAN_LINK_OK;
}

static organ_link_status_t set_hook(void *ctx, uint8_t id, int32_t value)
{
    mock_app_t *a = ctx;
    int i = param_index(id);
    if (i < 0) {
        return ORGAN_LINK_E_UNKNOWN_PARAM;
    }
    if (value < param_min[i] || value > param_max[i]) {
        return ORGAN_LINK_E_OUT_OF_RANGE;
    }
    a->params[i] = value;
    return ORGAN_LINK_OK;
}

static uint8_t apply_stored(void *app, uint8_t id, int32_t value)
{
    return set_hook(app, id, value) == ORGAN_LINK_OK ? 0 : 1;
}

static organ_link_status_t save_hook(void *ctx)
{
    mock_app_t *a = ctx;
    organ_store_record_t recs[N_PARAMS];
    int i;
    for (i = 0; i < N_PARAMS; ++i) {
        recs[i].id = param_ids[i];
        recs[i].value = a->params[i];
    }
    return organ_store_save(&a->io, organ_store_tag(a->hash), recs, N_PARAMS) == 0
               ? ORGAN_LINK_OK
               : ORGAN_LINK_E_STORE_FAILED;
}

static organ_link_status_t reset_hook(void *ctx, uint8_t what)
{
    mock_app_t *a = ctx;
    if (what == ORGAN_LINK_RESET_STATE) {
        memset(a->s, 0, sizeof a->s);
    } else if (what == ORGAN_LINK_RESET_PARAMS) {
        defaults(a);
    } else {
        a->reboot = 1;
    }
    return ORGAN_LINK_OK;
}

static organ_link_status_t levels_rate_hook(void *ctx, uint16_t period_ms)
{
    ((mock_app_t *)ctx)->levels_period = period_ms;
    return ORGAN_LINK_OK;
}

static void levels_hook(void *ctx, organ_link_writer_t *w)
{
    mock_app_t *a = ctx;
    int b;
    for (b = 0; b < MOCK_BANDS; ++b) {
        band_out(a, b, w);
    }
    if (a->params[4] == 2) {
        band_out(a, 0, w); /* the planted bug: one record too many */
    }
}

static uint8_t store_read(void *ctx, uint16_t addr, uint8_t *buf, uint8_t n)
{
    mock_app_t *a = ctx;
    if ((uint32_t)addr + n > a->io.size) {
        return 1;
    }
    memcpy(buf, a->storage + addr, n);
    return 0;
}

static uint8_t store_write(void *ctx, uint16_t addr, const uint8_t *buf, uint8_t n)
{
    mock_app_t *a = ctx;
    if ((uint32_t)addr + n > a->io.size) {
        return 1;
    }
    memcpy(a->storage + addr, buf, n);
    return 0;
}

size_t test_app_size(void)
{
    return sizeof(mock_app_t);
}

int test_app_boot(void *app, uint8_t *storage, uint16_t storage_size, test_app_sink_fn sink,
                  void *sink_ctx)
{
    mock_app_t *a = app;
    int i;
    int st;
    memset(a, 0, sizeof *a);
    a->sink = sink;
    a->sink_ctx = sink_ctx;
    a->storage = storage;
    for (i = 0; i < (int)ORGAN_LINK_HASH_SIZE; ++i) {
        a->hash[i] = (uint8_t)(0xA5 ^ (i * 29));
    }
    a->io.read = store_read;
    a->io.write = store_write;
    a->io.ctx = a;
    a->io.base = 0;
    a->io.size = storage_size;
    defaults(a);
    a->params_status = organ_store_load(&a->io, organ_store_tag(a->hash), apply_stored, a);
    if (a->params_status != ORGAN_STORE_LOADED) {
        defaults(a);
    }
    a->hooks.send = send_hook;
    a->hooks.info = info_hook;
    a->hooks.name = name_hook;
    a->hooks.overruns = overruns_hook;
    a->hooks.process = process_hook;
    a->hooks.param_get = get_hook;
    a->hooks.param_set = set_hook;
    a->hooks.save = save_hook;
    a->hooks.reset = reset_hook;
    a->hooks.levels_rate = levels_rate_hook;
    a->hooks.levels = levels_hook;
#ifdef MOCK_MINIMAL
    /* only the required hooks: every optional command must answer UNSUPPORTED */
    memset(&a->hooks, 0, sizeof a->hooks);
    a->hooks.send = send_hook;
    a->hooks.info = info_hook;
    a->hooks.name = name_hook;
#endif
    st = organ_link_init(&a->link, &a->hooks, a);
    if (st == ORGAN_LINK_OK) {
        organ_link_hello(&a->link);
    }
    return st;
}

organ_link_t *test_app_link(void *app)
{
    return &((mock_app_t *)app)->link;
}

void test_app_set_overruns(void *app, uint32_t n)
{
    ((mock_app_t *)app)->overruns = n;
}

int test_app_reboot_requested(void *app)
{
    return ((mock_app_t *)app)->reboot;
}

void test_app_feed(void *app, const uint8_t *data, size_t n)
{
    organ_link_feed(test_app_link(app), data, n);
}

void test_app_poll(void *app, uint32_t now_ms)
{
    organ_link_poll_levels(test_app_link(app), (uint16_t)now_ms);
}

void test_app_live_sample(void *app, int16_t x)
{
    (void)app; /* the mock has no live audio path */
    (void)x;
}
