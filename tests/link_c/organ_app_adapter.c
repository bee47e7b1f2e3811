/*
 * tests/link_c/test_app.h implemented over the real application (firmware_templates/lib/organ_app)
 * and a real design, so the link tests and the fuzz harness can drive the firmware's own code.
 *
 * Build with ORGAN_TEST_APP_SOURCES = this file, organ_app.c, organ_dsp.c (tests/link_c/cbuild.py)
 * and, as extra flags, -I for lib/organ_app, lib/organ_dsp and a folder holding the design's
 * generated organ_design.h (designer.render), plus that design's -DORGAN_MAX_BANDS /
 * -DORGAN_MAX_SECTIONS (and -DORGAN_FLOAT for a float design).
 *
 * The board: storage is the caller's buffer, critical sections are checked for balance (a
 * violation aborts), a reboot is reported through test_app_reboot_requested: either the link
 * acknowledged RESET(REBOOT) (a harness feeding the link directly) or organ_app_feed/poll called
 * board->reboot (a harness using the firmware's entry points); the caller boots again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "organ_app.h"
#include "organ_design.h"
#include "test_app.h"

typedef struct {
    organ_app_t app;
    organ_app_board_t board;
    organ_app_identity_t id;
    test_app_sink_fn sink;
    void *sink_ctx;
    uint8_t *storage;
    uint16_t storage_size;
    int in_critical;
    int rebooted; /* board->reboot was called */
} adapter_t;

static void contract(const char *why)
{
    fprintf(stderr, "organ_app_adapter: %s\n", why);
    abort();
}

static void serial_write(void *ctx, const uint8_t *data, uint8_t n)
{
    adapter_t *a = ctx;
    a->sink(a->sink_ctx, data, n);
}

static uint8_t store_read(void *ctx, uint16_t addr, uint8_t *buf, uint8_t n)
{
    adapter_t *a = ctx;
    if ((uint32_t)addr + n > a->storage_size) {
        return 1;
    }
    memcpy(buf, a->storage + addr, n);
    return 0;
}

static uint8_t store_write(void *ctx, uint16_t addr, const uint8_t *buf, uint8_t n)
{
    adapter_t *a = ctx;
    if ((uint32_t)addr + n > a->storage_size) {
        return 1;
    }
    memcpy(a->storage + addr, buf, n);
    return 0;
}

static void reboot(void *ctx)
{
    adapter_t *a = ctx;
    if (a->in_critical) {
        contract("board->reboot inside a critical section");
    }
    a->rebooted = 1; /* the real board resets here: nothing after it may run on this boot */
}

static void critical_enter(void *ctx)
{
    adapter_t *a = ctx;
    if (a->in_critical) {
        contract("nested critical section");
    }
    a->in_critical = 1;
}

static void critical_exit(void *ctx)
{
    adapter_t *a = ctx;
    if (!a->in_critical) {
        contract("critical_exit without critical_enter");
    }
    a->in_critical = 0;
}

size_t test_app_size(void)
{
    return sizeof(adapter_t);
}

int test_app_boot(void *app, uint8_t *storage, uint16_t storage_size, test_app_sink_fn sink,
                  void *sink_ctx)
{
    static const uint8_t fw[3] = ORGAN_FW_VERSION;
    adapter_t *a = app;
    int rc;
    memset(a, 0, sizeof *a);
    a->sink = sink;
    a->sink_ctx = sink_ctx;
    a->storage = storage;
    a->storage_size = storage_size;
    a->board.ctx = a;
    a->board.serial_write = serial_write;
    a->board.store_read = store_read;
    a->board.store_write = store_write;
    a->board.store_size = storage_size;
    a->board.reboot = reboot;
    a->board.critical_enter = critical_enter;
    a->board.critical_exit = critical_exit;
    a->id.design = &organ_design;
    a->id.board_name = organ_board_name;
    a->id.design_hash = organ_design_hash;
    memcpy(a->id.fw_version, fw, sizeof fw);
    a->id.fs_millihz = ORGAN_FS_MILLIHZ;
    a->id.y_frac_bits = ORGAN_Y_FRAC_BITS;
    a->id.env_frac_bits = ORGAN_ENV_FRAC_BITS;
    rc = organ_app_init(&a->app, &a->board, &a->id);
    if (rc == ORGAN_APP_E_LINK) {
        return a->app.link_error;
    }
    if (rc != ORGAN_APP_OK) {
        return ORGAN_LINK_E_CONFIG;
    }
    organ_app_hello(&a->app);
    return ORGAN_LINK_OK;
}

organ_link_t *test_app_link(void *app)
{
    return &((adapter_t *)app)->app.link;
}

void test_app_set_overruns(void *app, uint32_t n)
{
    ((adapter_t *)app)->app.overruns = n;
}

int test_app_reboot_requested(void *app)
{
    adapter_t *a = app;
    return a->rebooted || a->app.reboot_pending;
}

void test_app_feed(void *app, const uint8_t *data, size_t n)
{
    adapter_t *a = app;
    while (n > 0 && !a->rebooted) { /* organ_app_feed takes at most 255 bytes a call */
        uint8_t k = n > 255u ? 255u : (uint8_t)n;
        organ_app_feed(&a->app, data, k);
        data += k;
        n -= k;
    }
}

void test_app_poll(void *app, uint32_t now_ms)
{
    adapter_t *a = app;
    if (!a->rebooted) {
        organ_app_poll(&a->app, now_ms);
    }
}

void test_app_live_sample(void *app, int16_t x)
{
    organ_app_live_sample(&((adapter_t *)app)->app, x);
}
