/*
 * organ_link: COBS framing, CRC-16/CCITT-FALSE, frame parser and command dispatcher.
 * See organ_link.h for the API and docs/protocol.md for the wire format.
 */
#include "organ_link.h"

#include <string.h>

/* rx_flags bits */
#define RX_STARTED 0x01u  /* a COBS code byte has been seen in this frame */
#define RX_ZERO 0x02u     /* the block just finished implies a zero before the next one */
#define RX_OVERFLOW 0x04u /* frame longer than the buffer: drop it at the delimiter */

/* writer modes */
#define W_IDLE 0u
#define W_SINGLE 1u
#define W_STREAM 2u

/* Room the writer keeps for the CRC. */
#define W_LIMIT (ORGAN_LINK_TX_MAX - ORGAN_LINK_CRC_SIZE)

static organ_link_t *link_of(organ_link_writer_t *w)
{
    /* the writer is always the `w` member of an organ_link_t */
    return (organ_link_t *)(void *)((char *)w - offsetof(organ_link_t, w));
}

static void sat_inc(uint16_t *c)
{
    if (*c != 0xFFFFu) {
        ++*c;
    }
}

uint16_t organ_link_crc16(uint16_t crc, const uint8_t *data, size_t n)
{
    /* bytewise, no table: the AVR flash budget matters more than speed here */
    while (n--) {
        crc = (uint16_t)((crc >> 8) | (crc << 8));
        crc ^= *data++;
        crc ^= (uint16_t)((crc & 0xFFu) >> 4);
        crc ^= (uint16_t)(crc << 12);
        crc ^= (uint16_t)((crc & 0xFFu) << 5);
    }
    return crc;
}

/* ---- transmit ---------------------------------------------------------------------------- */

static void send_bytes(organ_link_t *l, const uint8_t *p, uint8_t n)
{
    l->hooks->send(l->ctx, p, n);
}

/* COBS-encode buf[0..n) straight into the send hook, then the 0x00 delimiter. n <= 253, so
 * no block reaches 254 bytes and no 0xFF code is ever needed. */
static void cobs_send(organ_link_t *l, const uint8_t *buf, uint8_t n)
{
    uint8_t i = 0;
    static const uint8_t zero = 0;
    for (;;) {
        uint8_t j = i;
        uint8_t code;
        while (j < n && buf[j] != 0) {
            ++j;
        }
        code = (uint8_t)(j - i + 1u);
        send_bytes(l, &code, 1);
        if (j > i) {
            send_bytes(l, buf + i, (uint8_t)(j - i));
        }
        if (j >= n) {
            break;
        }
        i = (uint8_t)(j + 1u);
    }
    send_bytes(l, &zero, 1);
}

static void w_open(organ_link_writer_t *w)
{
    w->buf[0] = ORGAN_LINK_PROTOCOL_VERSION;
    w->buf[1] = w->type;
    w->buf[2] = w->seq;
    w->buf[3] = 0; /* payload length, patched when the frame is sent */
    w->len = ORGAN_LINK_HEADER_SIZE;
    if (w->mode == W_STREAM) {
        w->buf[w->len++] = w->chunk;
    }
}

/* Start a reply: a single frame, or a stream of chunked frames opened lazily on the first byte. */
static void w_begin(organ_link_writer_t *w, uint8_t type, uint8_t seq, uint8_t mode)
{
    w->type = type;
    w->seq = seq;
    w->mode = mode;
    w->overflow = 0;
    w->len = 0;
    w->chunk = 0;
    w->chunks = 0;
    w->bytes = 0;
    if (mode == W_SINGLE) {
        w_open(w);
    }
}

static void w_flush(organ_link_writer_t *w)
{
    uint16_t crc;
    w->buf[3] = (uint8_t)(w->len - ORGAN_LINK_HEADER_SIZE);
    crc = organ_link_crc16(0xFFFFu, w->buf, w->len);
    w->buf[w->len++] = (uint8_t)(crc >> 8);
    w->buf[w->len++] = (uint8_t)crc;
    cobs_send(link_of(w), w->buf, w->len);
    w->len = 0;
    w->chunk++;
    w->chunks++;
}

/* Finish the reply: send the open frame. Returns 0 when a single frame overflowed (not sent). */
static uint8_t w_end(organ_link_writer_t *w)
{
    uint8_t ok = (uint8_t)!w->overflow;
    if (w->len != 0 && ok) {
        w_flush(w);
    }
    w->len = 0;
    w->mode = W_IDLE;
    return ok;
}

void organ_link_put_u8(organ_link_writer_t *w, uint8_t v)
{
    if (w->mode == W_STREAM) {
        if (w->len == 0) {
            w_open(w);
        }
        w->buf[w->len++] = v;
        w->bytes++;
        if (w->len >= W_LIMIT) {
            w_flush(w);
        }
    } else if (w->mode == W_SINGLE && w->len < W_LIMIT) {
        w->buf[w->len++] = v;
    } else {
        /* a full single frame, or a write outside any reply: refuse, never overrun buf */
        w->overflow = 1;
    }
}

static void put_bytes(organ_link_writer_t *w, const uint8_t *p, uint8_t n)
{
    while (n--) {
        organ_link_put_u8(w, *p++);
    }
}

void organ_link_put_u16(organ_link_writer_t *w, uint16_t v)
{
    organ_link_put_u8(w, (uint8_t)v);
    organ_link_put_u8(w, (uint8_t)(v >> 8));
}

void organ_link_put_u32(organ_link_writer_t *w, uint32_t v)
{
    organ_link_put_u16(w, (uint16_t)v);
    organ_link_put_u16(w, (uint16_t)(v >> 16));
}

void organ_link_put_f32(organ_link_writer_t *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    organ_link_put_u32(w, u);
}

void organ_link_put_band(organ_link_writer_t *w, int16_t y, int16_t env, uint8_t led)
{
    organ_link_put_u16(w, (uint16_t)y);
    organ_link_put_u16(w, (uint16_t)env);
    organ_link_put_u8(w, led);
}

void organ_link_put_band_f32(organ_link_writer_t *w, float y, float env, uint8_t led)
{
    organ_link_put_f32(w, y);
    organ_link_put_f32(w, env);
    organ_link_put_u8(w, led);
}

static void send_error(organ_link_t *l, uint8_t seq, uint8_t cmd, uint8_t code, uint8_t detail)
{
    organ_link_writer_t *w = &l->w;
    w_begin(w, ORGAN_MSG_ERROR, seq, W_SINGLE);
    organ_link_put_u8(w, code);
    organ_link_put_u8(w, cmd);
    organ_link_put_u8(w, detail);
    (void)w_end(w);
}

static void send_ack(organ_link_t *l, uint8_t seq, uint8_t cmd)
{
    w_begin(&l->w, ORGAN_MSG_ACK, seq, W_SINGLE);
    organ_link_put_u8(&l->w, cmd);
    (void)w_end(&l->w);
}

static void fetch_info(organ_link_t *l, organ_link_info_t *info)
{
    memset(info, 0, sizeof *info);
    l->hooks->info(l->ctx, info);
}

static uint8_t value_format(const organ_link_t *l)
{
    return l->record_size == 9u ? ORGAN_LINK_VALUES_FLOAT32 : ORGAN_LINK_VALUES_INT16;
}

static uint32_t overruns(organ_link_t *l)
{
    return l->hooks->overruns ? l->hooks->overruns(l->ctx) : 0u;
}

/* ---- setup, HELLO, INFO, LEVELS -------------------------------------------------------- */

organ_link_status_t organ_link_init(organ_link_t *l, const organ_link_hooks_t *hooks, void *ctx)
{
    organ_link_info_t info;
    memset(l, 0, sizeof *l);
    l->hooks = hooks;
    l->ctx = ctx;
    if (!hooks || !hooks->send || !hooks->info || !hooks->name) {
        return ORGAN_LINK_E_CONFIG;
    }
    fetch_info(l, &info);
    if (info.n_bands == 0 || info.n_bands > ORGAN_LINK_MAX_BANDS ||
        info.value_format > ORGAN_LINK_VALUES_FLOAT32) {
        return ORGAN_LINK_E_CONFIG;
    }
    l->n_bands = info.n_bands;
    l->record_size = info.value_format == ORGAN_LINK_VALUES_FLOAT32 ? 9u : 5u;
    /* a LEVELS frame is never split: counter + overruns + one record per band must fit */
    if (hooks->levels &&
        ORGAN_LINK_OVERHEAD + 6u + (unsigned)l->n_bands * l->record_size > ORGAN_LINK_TX_MAX) {
        return ORGAN_LINK_E_CONFIG;
    }
    return ORGAN_LINK_OK;
}

void organ_link_hello(organ_link_t *l)
{
    organ_link_info_t info;
    organ_link_writer_t *w = &l->w;
    fetch_info(l, &info);
    w_begin(w, ORGAN_MSG_HELLO, 0, W_SINGLE);
    put_bytes(w, info.fw_version, 3);
    organ_link_put_u8(w, info.params_status);
    organ_link_put_u8(w, l->n_bands);
    organ_link_put_u8(w, value_format(l));
    (void)w_end(w);
}

static void send_name(organ_link_t *l, uint8_t seq, uint8_t kind, uint8_t index)
{
    char name[ORGAN_LINK_NAME_MAX];
    uint8_t n = l->hooks->name(l->ctx, kind, index, name, ORGAN_LINK_NAME_MAX);
    organ_link_writer_t *w = &l->w;
    if (n > ORGAN_LINK_NAME_MAX) {
        n = ORGAN_LINK_NAME_MAX;
    }
    w_begin(w, ORGAN_MSG_NAME, seq, W_SINGLE);
    organ_link_put_u8(w, kind);
    organ_link_put_u8(w, index);
    put_bytes(w, (const uint8_t *)name, n);
    (void)w_end(w);
}

static void cmd_info(organ_link_t *l, uint8_t seq)
{
    organ_link_info_t info;
    organ_link_writer_t *w = &l->w;
    uint8_t i;
    fetch_info(l, &info);
    w_begin(w, ORGAN_MSG_INFO_REPLY, seq, W_SINGLE);
    put_bytes(w, info.fw_version, 3);
    organ_link_put_u32(w, info.fs_millihz);
    /* the band count the link checked at init, so INFO and the result sizes always agree */
    organ_link_put_u8(w, l->n_bands);
    organ_link_put_u8(w, value_format(l));
    organ_link_put_u8(w, info.y_frac_bits);
    organ_link_put_u8(w, info.env_frac_bits);
    organ_link_put_u8(w, (uint8_t)ORGAN_LINK_MAX_SAMPLES);
    organ_link_put_u8(w, info.params_status);
    organ_link_put_u16(w, l->bad_frames);
    organ_link_put_u16(w, l->oversized_frames);
    organ_link_put_u32(w, overruns(l));
    put_bytes(w, info.design_hash, ORGAN_LINK_HASH_SIZE);
    (void)w_end(w);
    send_name(l, seq, ORGAN_LINK_NAME_BOARD, 0);
    for (i = 0; i < l->n_bands; ++i) {
        send_name(l, seq, ORGAN_LINK_NAME_BAND, i);
    }
}

void organ_link_poll_levels(organ_link_t *l, uint16_t now_ms)
{
    organ_link_writer_t *w = &l->w;
    if (l->levels_period_ms == 0 || !l->hooks->levels) {
        return;
    }
    if (!l->levels_due && (uint16_t)(now_ms - l->levels_last_ms) < l->levels_period_ms) {
        return;
    }
    l->levels_due = 0;
    l->levels_last_ms = now_ms;
    w_begin(w, ORGAN_MSG_LEVELS_DATA, l->levels_seq, W_SINGLE);
    organ_link_put_u16(w, l->levels_counter++);
    organ_link_put_u32(w, overruns(l));
    l->hooks->levels(l->ctx, w);
    if (w->len != ORGAN_LINK_HEADER_SIZE + 6u + (unsigned)l->n_bands * l->record_size ||
        !w_end(w)) {
        w->mode = W_IDLE;
        w->len = 0;
        sat_inc(&l->app_errors);
        send_error(l, l->levels_seq, ORGAN_MSG_LEVELS, ORGAN_LINK_E_APP_FAILED, 0);
    }
}

/* ---- commands ----------------------------------------------------------------------------- */

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void send_value(organ_link_t *l, uint8_t seq, uint8_t cmd, uint8_t id)
{
    int32_t v = 0;
    organ_link_status_t st = l->hooks->param_get(l->ctx, id, &v);
    if (st != ORGAN_LINK_OK) {
        send_error(l, seq, cmd, st, id);
        return;
    }
    w_begin(&l->w, ORGAN_MSG_VALUE, seq, W_SINGLE);
    organ_link_put_u8(&l->w, id);
    organ_link_put_u32(&l->w, (uint32_t)v);
    (void)w_end(&l->w);
}

static void cmd_process(organ_link_t *l, uint8_t seq, const uint8_t *p, uint8_t plen)
{
    organ_link_writer_t *w = &l->w;
    uint8_t flags = p[0];
    uint8_t n = (uint8_t)((plen - 1u) / 2u);
    uint16_t chunks;
    organ_link_status_t st;
    if (flags & (uint8_t)~ORGAN_LINK_PROCESS_FROM_RESET) {
        send_error(l, seq, ORGAN_MSG_PROCESS, ORGAN_LINK_E_BAD_ARGUMENT, flags);
        return;
    }
    w_begin(w, ORGAN_MSG_DATA, seq, W_STREAM);
    st = l->hooks->process(l->ctx, p + 1, n, flags, w);
    if (st == ORGAN_LINK_OK &&
        w->bytes != (uint16_t)((uint16_t)n * l->n_bands * l->record_size)) {
        sat_inc(&l->app_errors);
        st = ORGAN_LINK_E_APP_FAILED;
    }
    if (st != ORGAN_LINK_OK) {
        /* drop the unfinished chunk; the host discards the chunks already sent */
        w->mode = W_IDLE;
        w->len = 0;
        send_error(l, seq, ORGAN_MSG_PROCESS, st, 0);
        return;
    }
    (void)w_end(w);
    chunks = w->chunks;
    w_begin(w, ORGAN_MSG_DONE, seq, W_SINGLE);
    organ_link_put_u16(w, n);
    organ_link_put_u16(w, chunks);
    (void)w_end(w);
}

/* Payload length each command needs; 0xFF = variable (checked by the command). */
static uint8_t expected_len(uint8_t type)
{
    switch (type) {
    case ORGAN_MSG_INFO:
    case ORGAN_MSG_SAVE:
        return 0;
    case ORGAN_MSG_GET:
    case ORGAN_MSG_RESET:
        return 1;
    case ORGAN_MSG_LEVELS:
        return 2;
    case ORGAN_MSG_SET:
        return 5;
    default:
        return 0xFFu;
    }
}

static organ_link_status_t cmd_levels(organ_link_t *l, uint8_t seq, const uint8_t *p)
{
    uint16_t period = (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
    organ_link_status_t st = ORGAN_LINK_OK;
    if (!l->hooks->levels) {
        return ORGAN_LINK_E_UNSUPPORTED;
    }
    if (period != 0 && (period < ORGAN_LINK_LEVELS_MIN_MS || period > ORGAN_LINK_LEVELS_MAX_MS)) {
        return ORGAN_LINK_E_OUT_OF_RANGE;
    }
    if (l->hooks->levels_rate) {
        st = l->hooks->levels_rate(l->ctx, period);
    }
    if (st == ORGAN_LINK_OK) {
        l->levels_period_ms = period;
        l->levels_seq = seq;
        l->levels_counter = 0;
        l->levels_due = 1; /* the first frame goes out at the next poll */
    }
    return st;
}

static void dispatch(organ_link_t *l, uint8_t type, uint8_t seq, const uint8_t *p, uint8_t plen)
{
    const organ_link_hooks_t *h = l->hooks;
    organ_link_status_t st = ORGAN_LINK_E_UNSUPPORTED;
    uint8_t want = expected_len(type);
    uint8_t detail = 0;
    if (type < ORGAN_MSG_PING || type > ORGAN_MSG_RESET) {
        send_error(l, seq, type, ORGAN_LINK_E_UNKNOWN_COMMAND, 0);
        return;
    }
    if ((want != 0xFFu && plen != want) ||
        (type == ORGAN_MSG_PROCESS && (plen & 1u) == 0) ||
        (type == ORGAN_MSG_PING && plen > W_LIMIT - ORGAN_LINK_HEADER_SIZE)) {
        send_error(l, seq, type, ORGAN_LINK_E_BAD_LENGTH, plen);
        return;
    }
    switch (type) {
    case ORGAN_MSG_PING:
        w_begin(&l->w, ORGAN_MSG_PONG, seq, W_SINGLE);
        put_bytes(&l->w, p, plen);
        (void)w_end(&l->w);
        return;
    case ORGAN_MSG_INFO:
        cmd_info(l, seq);
        return;
    case ORGAN_MSG_PROCESS:
        if (h->process) {
            cmd_process(l, seq, p, plen);
            return;
        }
        break;
    case ORGAN_MSG_LEVELS:
        st = cmd_levels(l, seq, p);
        break;
    case ORGAN_MSG_GET:
    case ORGAN_MSG_SET:
        if (!h->param_get || !h->param_set) {
            break;
        }
        st = type == ORGAN_MSG_SET ? h->param_set(l->ctx, p[0], (int32_t)get_u32(p + 1))
                                   : ORGAN_LINK_OK;
        if (st == ORGAN_LINK_OK) {
            send_value(l, seq, type, p[0]);
            return;
        }
        detail = p[0];
        break;
    case ORGAN_MSG_SAVE:
        if (h->save) {
            st = h->save(l->ctx);
        }
        break;
    default: /* ORGAN_MSG_RESET */
        if (p[0] > ORGAN_LINK_RESET_REBOOT) {
            st = ORGAN_LINK_E_BAD_ARGUMENT;
            detail = p[0];
        } else if (h->reset) {
            st = h->reset(l->ctx, p[0]);
        }
        break;
    }
    if (st == ORGAN_LINK_OK) {
        send_ack(l, seq, type);
    } else {
        send_error(l, seq, type, st, detail);
    }
}

/* ---- receive ------------------------------------------------------------------------------ */

/* A complete frame sits in rx[0..rx_len): check it, then answer it. */
static void handle_frame(organ_link_t *l)
{
    const uint8_t *f = l->rx;
    uint8_t n = l->rx_len;
    if (n < ORGAN_LINK_OVERHEAD || organ_link_crc16(0xFFFFu, f, n) != 0) {
        sat_inc(&l->bad_frames);
        return;
    }
    if (f[0] != ORGAN_LINK_PROTOCOL_VERSION) {
        /* answered, so a host speaking another version learns ours from the reply header */
        send_error(l, f[2], f[1], ORGAN_LINK_E_BAD_VERSION, f[0]);
        return;
    }
    if (f[3] != n - ORGAN_LINK_OVERHEAD) {
        sat_inc(&l->bad_frames);
        return;
    }
    dispatch(l, f[1], f[2], f + ORGAN_LINK_HEADER_SIZE, f[3]);
}

static void rx_put(organ_link_t *l, uint8_t b)
{
    if (l->rx_len < ORGAN_LINK_RX_MAX) {
        l->rx[l->rx_len++] = b;
    } else {
        l->rx_flags |= RX_OVERFLOW;
    }
}

static void rx_byte(organ_link_t *l, uint8_t b)
{
    if (b == 0) {
        uint8_t flags = l->rx_flags;
        uint8_t left = l->rx_left;
        l->rx_flags = 0;
        l->rx_left = 0;
        if (flags & RX_OVERFLOW) {
            sat_inc(&l->oversized_frames);
        } else if (left != 0) {
            sat_inc(&l->bad_frames); /* the last COBS block was cut short */
        } else if (flags & RX_STARTED) {
            handle_frame(l);
        }
        /* else: an empty frame (repeated delimiters) is a no-op, hosts use it to resync */
        l->rx_len = 0;
        return;
    }
    if (l->rx_flags & RX_OVERFLOW) {
        return;
    }
    if (l->rx_left == 0) {
        /* a code byte: the previous block, if shorter than 254, ended with a zero */
        if (l->rx_flags & RX_ZERO) {
            rx_put(l, 0);
        }
        l->rx_flags = (uint8_t)((l->rx_flags & RX_OVERFLOW) | RX_STARTED | (b != 0xFFu ? RX_ZERO : 0u));
        l->rx_left = (uint8_t)(b - 1u);
    } else {
        rx_put(l, b);
        l->rx_left--;
    }
}

void organ_link_feed(organ_link_t *l, const uint8_t *data, size_t n)
{
    while (n--) {
        rx_byte(l, *data++);
    }
}
