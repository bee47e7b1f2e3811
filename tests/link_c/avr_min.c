/*
 * Minimal AVR program for measuring what organ_link + organ_store cost in flash and RAM
 * (tests/link_c/cbuild.py: avr_sizes). Built twice, with and without the link (NO_LINK); the
 * difference is the link plus the smallest possible hooks. SIZE_PROBE emits sizeof(organ_link_t).
 */
#include <stdint.h>

#ifdef SIZE_PROBE
#include "organ_link.h"
char link_struct_size[sizeof(organ_link_t)] = {1};
#elif defined(NO_LINK)
static volatile uint8_t port;

int main(void)
{
    for (;;) {
        port = (uint8_t)(port + 1u);
    }
}
#else
#include "organ_link.h"
#include "organ_store.h"

static volatile uint8_t port;
static organ_link_t link;
static int32_t param;

static void send(void *ctx, const uint8_t *data, uint8_t n)
{
    (void)ctx;
    while (n--) {
        port = *data++;
    }
}

static void info(void *ctx, organ_link_info_t *i)
{
    (void)ctx;
    i->n_bands = 3;
    i->fs_millihz = 19230769u;
    i->y_frac_bits = 15;
    i->env_frac_bits = 15;
}

static uint8_t name(void *ctx, uint8_t kind, uint8_t index, char *buf, uint8_t cap)
{
    (void)ctx;
    (void)cap;
    buf[0] = (char)('a' + kind + index);
    return 1;
}

static organ_link_status_t process(void *ctx, const uint8_t *le, uint8_t n, uint8_t flags,
                                   organ_link_writer_t *w)
{
    uint8_t i, b;
    (void)ctx;
    (void)flags;
    for (i = 0; i < n; ++i) {
        for (b = 0; b < 3; ++b) {
            int16_t x = organ_link_sample(le, i);
            organ_link_put_band(w, x, x, b);
        }
    }
    return ORGAN_LINK_OK;
}

static organ_link_status_t get(void *ctx, uint8_t id, int32_t *v)
{
    (void)ctx;
    (void)id;
    *v = param;
    return ORGAN_LINK_OK;
}

static organ_link_status_t set(void *ctx, uint8_t id, int32_t v)
{
    (void)ctx;
    (void)id;
    param = v;
    return ORGAN_LINK_OK;
}

static uint8_t rd(void *ctx, uint16_t addr, uint8_t *buf, uint8_t n)
{
    (void)ctx;
    while (n--) {
        *buf++ = (uint8_t)(port + addr++);
    }
    return 0;
}

static uint8_t wr(void *ctx, uint16_t addr, const uint8_t *buf, uint8_t n)
{
    (void)ctx;
    (void)addr;
    while (n--) {
        port = *buf++;
    }
    return 0;
}

static const organ_store_io_t io = {rd, wr, 0, 0, 64};

static uint8_t apply(void *app, uint8_t id, int32_t v)
{
    (void)app;
    (void)id;
    param = v;
    return 0;
}

static organ_link_status_t save(void *ctx)
{
    organ_store_record_t r;
    (void)ctx;
    r.id = 0;
    r.value = param;
    return organ_store_save(&io, 1, &r, 1) ? ORGAN_LINK_E_STORE_FAILED : ORGAN_LINK_OK;
}

static organ_link_status_t reset(void *ctx, uint8_t what)
{
    (void)ctx;
    param = what;
    return ORGAN_LINK_OK;
}

static void levels(void *ctx, organ_link_writer_t *w)
{
    uint8_t b;
    (void)ctx;
    for (b = 0; b < 3; ++b) {
        organ_link_put_band(w, 0, 0, b);
    }
}

static const organ_link_hooks_t hooks = {send, info, name, 0, process, get, set, save, reset,
                                         0, levels};

int main(void)
{
    uint16_t t = 0;
    (void)organ_store_load(&io, 1, apply, 0);
    organ_link_init(&link, &hooks, 0);
    organ_link_hello(&link);
    for (;;) {
        uint8_t b = port;
        organ_link_feed(&link, &b, 1);
        organ_link_poll_levels(&link, t++);
    }
}
#endif
