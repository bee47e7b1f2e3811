/*
 * libFuzzer harness for organ_link (frame parser + command dispatcher) and organ_store (loader),
 * with the application behind tests/link_c/test_app.h (the mock by default; see cbuild.py).
 *
 * Input: [flags u8] then, if flags & STORAGE, [n u8][n bytes]: the storage image the app boots
 * from (the rest of the 256-byte medium is erased, 0xFF); the remainder is the link input:
 *   raw mode         bytes fed to the link as they are (the parser: COBS, CRC, sizes)
 *   STRUCTURED mode  records [n u8][n bytes]: a decoded frame without its CRC; the harness
 *                    appends a valid CRC and COBS-encodes it, so mutations reach the dispatcher
 *                    (with PATCH_LEN the header's length field is set to match)
 * Input is fed in chunks of 1..8 bytes (flags bits 1-3) or whole (WHOLE) through the firmware's
 * entry points (test_app_feed/poll: organ_app_feed/poll for the real application); after each
 * chunk one live-audio sample made of the chunk's bytes goes in (as the ADC interrupt would
 * between two serial reads) and the clock advances 7 ms, or 250 ms with SLOW_CLOCK (so that
 * LEVELS periods and the live-audio hold after PROCESS run out within one input). A reboot
 * (RESET(REBOOT)) boots the app again with its storage.
 *
 * Oracles besides ASan/UBSan: every byte the device sends is checked by an independent decoder
 * (COBS structure, size <= ORGAN_LINK_TX_MAX, CRC, version, length field, reply type), every
 * entry point must return with the writer idle and no frame half sent, and a storage image the
 * loader accepts must re-save to the same bytes and load again to the same records.
 * FUZZ_SELFTEST corrupts one output byte, so the oracle itself can be shown to fire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "organ_link.h"
#include "organ_store.h"
#include "test_app.h"

#define F_STORAGE 0x01u
#define F_WHOLE 0x10u
#define F_STRUCTURED 0x20u
#define F_PATCH_LEN 0x40u
#define F_SLOW_CLOCK 0x80u
#define STORAGE_SIZE 256u

typedef struct {
    uint8_t enc[2 * ORGAN_LINK_TX_MAX + 8];
    size_t len;
    unsigned long sent;
} checker_t;

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_link: %s\n", why);
    abort();
}

/* Bit-serial CRC-16/CCITT-FALSE, deliberately not organ_link_crc16. */
static uint16_t crc_ref(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFFu;
    size_t i;
    int b;
    for (i = 0; i < n; ++i) {
        crc ^= (uint16_t)(p[i] << 8);
        for (b = 0; b < 8; ++b) {
            crc = (uint16_t)(crc & 0x8000u ? (crc << 1) ^ 0x1021u : crc << 1);
        }
    }
    return crc;
}

static void check_frame(const uint8_t *enc, size_t n)
{
    uint8_t raw[sizeof ((checker_t *)0)->enc];
    size_t r = 0, i = 0;
    if (n == 0) {
        fail("empty frame sent");
    }
    while (i < n) {
        uint8_t code = enc[i];
        if (i + code > n) {
            fail("COBS block runs past the delimiter");
        }
        memcpy(raw + r, enc + i + 1, (size_t)code - 1u);
        r += (size_t)code - 1u;
        i += code;
        if (code != 0xFFu && i < n) {
            raw[r++] = 0;
        }
    }
    if (r < ORGAN_LINK_OVERHEAD || r > ORGAN_LINK_TX_MAX) {
        fail("frame size out of bounds");
    }
    if (crc_ref(raw, r) != 0) {
        fail("bad CRC sent");
    }
    if (raw[0] != ORGAN_LINK_PROTOCOL_VERSION || raw[3] != r - ORGAN_LINK_OVERHEAD) {
        fail("bad header sent");
    }
    if (raw[1] < ORGAN_MSG_HELLO || (raw[1] > ORGAN_MSG_VALUE && raw[1] != ORGAN_MSG_ERROR)) {
        fail("unknown reply type sent");
    }
}

static void sink(void *ctx, const uint8_t *data, uint8_t n)
{
    checker_t *c = ctx;
    uint8_t i;
    for (i = 0; i < n; ++i) {
        uint8_t b = data[i];
#ifdef FUZZ_SELFTEST
        if (++c->sent == 9u) {
            b = b == 1u ? 2u : 1u;
        }
#endif
        if (b == 0) {
            check_frame(c->enc, c->len);
            c->len = 0;
        } else if (c->len >= sizeof c->enc) {
            fail("frame without delimiter");
        } else {
            c->enc[c->len++] = b;
        }
    }
}

static void check_idle(void *app, const checker_t *c)
{
    const organ_link_t *l = test_app_link(app);
    if (l->w.mode != 0 || l->w.len != 0 || c->len != 0) {
        fail("entry point returned with a frame half built or half sent");
    }
}

/* ---- storage round trip ------------------------------------------------------------------ */

typedef struct {
    uint8_t *mem;
    organ_store_record_t recs[ORGAN_STORE_MAX_RECORDS];
    uint8_t n;
} medium_t;

static uint8_t m_read(void *ctx, uint16_t addr, uint8_t *buf, uint8_t n)
{
    medium_t *m = ctx;
    if ((uint32_t)addr + n > STORAGE_SIZE) {
        fail("loader read past the medium");
    }
    memcpy(buf, m->mem + addr, n);
    return 0;
}

static uint8_t m_write(void *ctx, uint16_t addr, const uint8_t *buf, uint8_t n)
{
    medium_t *m = ctx;
    if ((uint32_t)addr + n > STORAGE_SIZE) {
        fail("store wrote past the medium");
    }
    memcpy(m->mem + addr, buf, n);
    return 0;
}

static uint8_t collect(void *app, uint8_t id, int32_t value)
{
    medium_t *m = app;
    if (m->n >= ORGAN_STORE_MAX_RECORDS) {
        fail("loader applied more records than the maximum");
    }
    m->recs[m->n].id = id;
    m->recs[m->n].value = value;
    m->n++;
    return 0;
}

static void check_store(const uint8_t *image)
{
    uint8_t a[STORAGE_SIZE], b[STORAGE_SIZE];
    medium_t ma, mb;
    organ_store_io_t io = {m_read, m_write, 0, 0, STORAGE_SIZE};
    uint8_t i;
    uint32_t tag = (uint32_t)image[6] | ((uint32_t)image[7] << 8) | ((uint32_t)image[8] << 16) |
                   ((uint32_t)image[9] << 24);
    memcpy(a, image, sizeof a);
    memset(&ma, 0, sizeof ma);
    ma.mem = a;
    io.ctx = &ma;
    if (organ_store_load(&io, tag, collect, &ma) != ORGAN_STORE_LOADED) {
        return;
    }
    memset(b, 0xFF, sizeof b);
    memset(&mb, 0, sizeof mb);
    mb.mem = b;
    io.ctx = &mb;
    if (organ_store_save(&io, tag, ma.recs, ma.n) != 0) {
        fail("a loaded image could not be saved again");
    }
    if (memcmp(a, b, ORGAN_STORE_IMAGE_SIZE((size_t)ma.n)) != 0) {
        fail("re-saved image differs from the loaded one");
    }
    if (organ_store_load(&io, tag, collect, &mb) != ORGAN_STORE_LOADED || mb.n != ma.n) {
        fail("re-saved image does not load back");
    }
    for (i = 0; i < ma.n; ++i) {
        if (mb.recs[i].id != ma.recs[i].id || mb.recs[i].value != ma.recs[i].value) {
            fail("re-saved image loads back other records");
        }
    }
}

/* ---- the link ------------------------------------------------------------------------------ */

typedef struct {
    void *app;
    uint8_t *storage;
    checker_t *chk;
    uint32_t now, tick; /* ms */
} run_t;

static void boot(run_t *r)
{
    if (test_app_boot(r->app, r->storage, STORAGE_SIZE, sink, r->chk) != ORGAN_LINK_OK) {
        fail("application failed to boot");
    }
    check_idle(r->app, r->chk);
}

static void feed(run_t *r, const uint8_t *p, size_t n, size_t chunk)
{
    while (n) {
        size_t k = n < chunk ? n : chunk;
        test_app_feed(r->app, p, k);
        check_idle(r->app, r->chk);
        if (!test_app_reboot_requested(r->app)) {
            test_app_live_sample(r->app, (int16_t)(uint16_t)(((unsigned)p[0] << 8) | p[k - 1]));
            r->now += r->tick;
            test_app_poll(r->app, r->now);
            check_idle(r->app, r->chk);
        }
        if (test_app_reboot_requested(r->app)) {
            boot(r);
        }
        p += k;
        n -= k;
    }
}

/* COBS-encode body + CRC (big-endian) + delimiter into out; returns the length. */
static size_t encode(const uint8_t *body, size_t n, uint8_t *out)
{
    uint8_t raw[260];
    uint16_t crc;
    size_t code_at = 0, o = 1, i;
    memcpy(raw, body, n);
    crc = crc_ref(raw, n);
    raw[n++] = (uint8_t)(crc >> 8);
    raw[n++] = (uint8_t)crc;
    for (i = 0; i < n; ++i) {
        if (raw[i] == 0) {
            out[code_at] = (uint8_t)(o - code_at);
            code_at = o++;
        } else {
            out[o++] = raw[i];
            if (o - code_at == 0xFFu) {
                out[code_at] = 0xFFu;
                code_at = o++;
            }
        }
    }
    out[code_at] = (uint8_t)(o - code_at);
    out[o++] = 0;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void *app;
    static uint8_t storage[STORAGE_SIZE];
    checker_t chk;
    run_t r;
    uint8_t flags;
    size_t pos = 1, chunk;
    if (size < 1) {
        return 0;
    }
    if (!app && !(app = malloc(test_app_size()))) {
        fail("out of memory");
    }
    flags = data[0];
    memset(storage, 0xFF, sizeof storage);
    if ((flags & F_STORAGE) && pos < size) {
        size_t n = data[pos++];
        if (n > size - pos) {
            n = size - pos;
        }
        memcpy(storage, data + pos, n);
        pos += n;
    }
    check_store(storage);
    memset(&chk, 0, sizeof chk);
    r.app = app;
    r.storage = storage;
    r.chk = &chk;
    r.now = 0;
    r.tick = (flags & F_SLOW_CLOCK) ? 250u : 7u;
    boot(&r);
    chunk = (flags & F_WHOLE) ? (size_t)-1 : (size_t)((flags >> 1) & 7u) + 1u;
    if (!(flags & F_STRUCTURED)) {
        feed(&r, data + pos, size - pos, chunk);
        return 0;
    }
    while (pos < size) {
        uint8_t body[256], wire[2 * 260];
        size_t n = data[pos++], len;
        if (n > size - pos) {
            n = size - pos;
        }
        if (n > 253u - ORGAN_LINK_CRC_SIZE) {
            n = 253u - ORGAN_LINK_CRC_SIZE;
        }
        memcpy(body, data + pos, n);
        pos += n;
        if ((flags & F_PATCH_LEN) && n >= ORGAN_LINK_HEADER_SIZE) {
            body[3] = (uint8_t)(n - ORGAN_LINK_HEADER_SIZE);
        }
        len = encode(body, n, wire);
        feed(&r, wire, len, chunk);
    }
    return 0;
}
