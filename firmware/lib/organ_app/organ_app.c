/*
 * organ_app: link hooks over the DSP core and the parameter store. See organ_app.h.
 */
#include "organ_app.h"

#include <string.h>

static organ_app_t *app_of(void *ctx)
{
    return (organ_app_t *)ctx;
}

static void const_read(const organ_app_t *a, void *dst, const void *src, uint8_t n)
{
    if (a->board->const_read) {
        a->board->const_read(dst, src, n);
    } else {
        memcpy(dst, src, n);
    }
}

/* Stop live audio; returns the previous state for resume(). Once this returns, no live sample
 * is in progress (live samples run only outside critical sections) and none will start. */
static uint8_t pause(organ_app_t *a)
{
    uint8_t was;
    a->board->critical_enter(a->board->ctx);
    was = a->paused;
    a->paused = 1;
    a->board->critical_exit(a->board->ctx);
    return was;
}

static void resume(organ_app_t *a, uint8_t was)
{
    a->board->critical_enter(a->board->ctx);
    a->paused = was;
    a->board->critical_exit(a->board->ctx);
}

/* ---- link hooks ---------------------------------------------------------------------------- */

static void h_send(void *ctx, const uint8_t *data, uint8_t n)
{
    organ_app_t *a = app_of(ctx);
    a->board->serial_write(a->board->ctx, data, n);
}

static void h_info(void *ctx, organ_link_info_t *info)
{
    organ_app_t *a = app_of(ctx);
    const organ_app_identity_t *id = a->id;
    memcpy(info->fw_version, id->fw_version, sizeof info->fw_version);
    info->fs_millihz = id->fs_millihz;
    info->n_bands = id->design->n_bands;
#ifdef ORGAN_FLOAT
    info->value_format = ORGAN_LINK_VALUES_FLOAT32;
    info->y_frac_bits = 0;
    info->env_frac_bits = 0;
#else
    info->value_format = ORGAN_LINK_VALUES_INT16;
    info->y_frac_bits = id->y_frac_bits;
    info->env_frac_bits = id->env_frac_bits;
#endif
    info->params_status = a->params_status;
    const_read(a, info->design_hash, id->design_hash, ORGAN_LINK_HASH_SIZE);
}

/* Copy a NUL-terminated constant string into buf (at most cap bytes), a byte at a time so that
 * a string in flash is never read past its end. */
static uint8_t copy_name(const organ_app_t *a, const char *s, char *buf, uint8_t cap)
{
    uint8_t n = 0;
    while (n < cap) {
        char c;
        const_read(a, &c, s + n, 1);
        if (c == '\0') {
            break;
        }
        buf[n++] = c;
    }
    return n;
}

static uint8_t h_name(void *ctx, uint8_t kind, uint8_t index, char *buf, uint8_t cap)
{
    organ_app_t *a = app_of(ctx);
    const organ_design_t *d = a->id->design;
    if (kind == ORGAN_LINK_NAME_BOARD) {
        return copy_name(a, a->id->board_name, buf, cap);
    }
    if (index >= d->n_bands || !d->band_names) {
        return 0;
    }
    /* band names belong to the design tables, which the DSP core reads from RAM */
    {
        const char *s = d->band_names[index];
        uint8_t n = 0;
        while (n < cap && s[n] != '\0') {
            buf[n] = s[n];
            ++n;
        }
        return n;
    }
}

static uint32_t h_overruns(void *ctx)
{
    return organ_app_overruns(app_of(ctx));
}

static void put_out(organ_link_writer_t *w, const organ_band_out_t *o)
{
#ifdef ORGAN_FLOAT
    organ_link_put_band_f32(w, o->y, o->env, o->led);
#else
    organ_link_put_band(w, o->y, o->env, o->led);
#endif
}

static organ_link_status_t h_process(void *ctx, const uint8_t *samples_le, uint8_t n,
                                     uint8_t flags, organ_link_writer_t *w)
{
    organ_app_t *a = app_of(ctx);
    uint8_t nb = a->id->design->n_bands;
    uint8_t i;
    uint8_t b;
    /* paused until the hold expires (organ_app_poll), so the next block continues this state */
    (void)pause(a);
    a->process_hold = 1;
    a->hold_from_ms = a->now_ms;
    if (flags & ORGAN_LINK_PROCESS_FROM_RESET) {
        organ_reset(&a->state);
    }
    for (i = 0; i < n; ++i) {
        /* the outputs the LEDs read, so a PROCESS block shows on the board as live audio does */
        organ_process_sample(&a->state, organ_link_sample(samples_le, i), a->out);
        for (b = 0; b < nb; ++b) {
            put_out(w, &a->out[b]);
        }
    }
    return ORGAN_LINK_OK;
}

static organ_link_status_t status_of(int rc)
{
    if (rc == ORGAN_ERR_ID) {
        return ORGAN_LINK_E_UNKNOWN_PARAM;
    }
    if (rc == ORGAN_ERR_RANGE) {
        return ORGAN_LINK_E_OUT_OF_RANGE;
    }
    return rc == ORGAN_OK ? ORGAN_LINK_OK : ORGAN_LINK_E_APP_FAILED;
}

static organ_link_status_t h_param_get(void *ctx, uint8_t id, int32_t *value)
{
    /* the audio context never writes parameters: no pause needed to read them */
    return status_of(organ_param_get(&app_of(ctx)->params, id, value));
}

static organ_link_status_t h_param_set(void *ctx, uint8_t id, int32_t value)
{
    organ_app_t *a = app_of(ctx);
    uint8_t was = pause(a);
    int rc = organ_param_set(&a->params, id, value);
    resume(a, was);
    return status_of(rc);
}

static organ_link_status_t h_save(void *ctx)
{
    organ_app_t *a = app_of(ctx);
    organ_store_record_t rec[ORGAN_N_PARAMS];
    uint8_t i;
    if (!a->board->store_read || !a->board->store_write) {
        return ORGAN_LINK_E_STORE_FAILED;
    }
    for (i = 0; i < ORGAN_N_PARAMS; ++i) {
        rec[i].id = i;
        (void)organ_param_get(&a->params, i, &rec[i].value);
    }
    if (organ_store_save(&a->io, a->design_tag, rec, ORGAN_N_PARAMS) != 0 ||
        (a->board->store_commit && a->board->store_commit(a->board->ctx) != 0)) {
        return ORGAN_LINK_E_STORE_FAILED;
    }
    return ORGAN_LINK_OK;
}

static organ_link_status_t h_reset(void *ctx, uint8_t what)
{
    organ_app_t *a = app_of(ctx);
    uint8_t was;
    if (what == ORGAN_LINK_RESET_REBOOT) {
        if (!a->board->reboot) {
            return ORGAN_LINK_E_UNSUPPORTED;
        }
        a->reboot_pending = 1; /* after the ACK is out: see organ_app_feed */
        return ORGAN_LINK_OK;
    }
    was = pause(a);
    if (what == ORGAN_LINK_RESET_STATE) {
        organ_reset(&a->state);
    } else {
        organ_params_default(a->id->design, &a->params);
    }
    resume(a, was);
    return ORGAN_LINK_OK;
}

static void h_levels(void *ctx, organ_link_writer_t *w)
{
    organ_app_t *a = app_of(ctx);
    organ_band_out_t snap[ORGAN_MAX_BANDS];
    uint8_t nb = a->id->design->n_bands;
    uint8_t b;
    /* a consistent snapshot: the audio context rewrites out[] every sample */
    a->board->critical_enter(a->board->ctx);
    memcpy(snap, a->out, (size_t)nb * sizeof snap[0]);
    a->board->critical_exit(a->board->ctx);
    for (b = 0; b < nb; ++b) {
        put_out(w, &snap[b]);
    }
}

/* ---- storage --------------------------------------------------------------------------------- */

static uint8_t apply_stored(void *ctx, uint8_t id, int32_t value)
{
    return organ_param_set(&app_of(ctx)->params, id, value) == ORGAN_OK ? 0u : 1u;
}

static void load_params(organ_app_t *a)
{
    const organ_app_board_t *bd = a->board;
    const organ_design_t *d = a->id->design;
    organ_params_default(d, &a->params);
    if (!bd->store_read || !bd->store_write) {
        a->params_status = ORGAN_STORE_UNAVAILABLE;
        return;
    }
    a->io.read = bd->store_read;
    a->io.write = bd->store_write;
    a->io.ctx = bd->ctx;
    a->io.base = 0;
    a->io.size = bd->store_size;
    a->params_status = organ_store_load(&a->io, a->design_tag, apply_stored, a);
    if (a->params_status != ORGAN_STORE_LOADED) {
        /* records applied before a failure may have changed some values */
        organ_params_default(d, &a->params);
    }
}

/* ---- entry points ------------------------------------------------------------------------- */

int organ_app_init(organ_app_t *app, const organ_app_board_t *board,
                   const organ_app_identity_t *id)
{
    uint8_t hash[ORGAN_LINK_HASH_SIZE];
    int rc;
    memset(app, 0, sizeof *app);
    app->paused = 1; /* no live audio until the state is set up */
    app->board = board;
    app->id = id;
    if (!board || !id || !id->design || !board->serial_write || !board->critical_enter ||
        !board->critical_exit) {
        return ORGAN_APP_E_BOARD;
    }
    const_read(app, hash, id->design_hash, ORGAN_LINK_HASH_SIZE);
    app->design_tag = organ_store_tag(hash);
    load_params(app);
    rc = organ_init(&app->state, id->design, &app->params);
    if (rc != ORGAN_OK) {
        app->dsp_error = (int8_t)rc;
        return ORGAN_APP_E_DESIGN;
    }
    app->hooks.send = h_send;
    app->hooks.info = h_info;
    app->hooks.name = h_name;
    app->hooks.overruns = h_overruns;
    app->hooks.process = h_process;
    app->hooks.param_get = h_param_get;
    app->hooks.param_set = h_param_set;
    app->hooks.save = h_save;
    app->hooks.reset = h_reset;
    app->hooks.levels = h_levels;
    /* last: organ_link_init asks the info hook, which needs everything above */
    app->link_error = organ_link_init(&app->link, &app->hooks, app);
    if (app->link_error != ORGAN_LINK_OK) {
        return ORGAN_APP_E_LINK;
    }
    app->paused = 0;
    return ORGAN_APP_OK;
}

void organ_app_hello(organ_app_t *app)
{
    organ_link_hello(&app->link);
}

static void reboot_if_due(organ_app_t *app)
{
    if (app->reboot_pending) {
        app->reboot_pending = 0;
        app->board->reboot(app->board->ctx);
    }
}

void organ_app_feed(organ_app_t *app, const uint8_t *data, uint8_t n)
{
    /* frame by frame (up to each 0x00 delimiter): bytes after a RESET(REBOOT) frame belong to
     * the next boot; one call per frame keeps the per-byte cost low (AVR at 500 kbaud) */
    while (n > 0) {
        const uint8_t *end = (const uint8_t *)memchr(data, 0, n);
        uint8_t k = end ? (uint8_t)(end - data + 1) : n;
        organ_link_feed(&app->link, data, k);
        if (app->reboot_pending) {
            reboot_if_due(app);
            return;
        }
        data += k;
        n = (uint8_t)(n - k);
    }
}

void organ_app_poll(organ_app_t *app, uint32_t now_ms)
{
    app->now_ms = now_ms;
    if (app->process_hold && now_ms - app->hold_from_ms >= ORGAN_APP_PROCESS_HOLD_MS) {
        app->process_hold = 0;
        resume(app, 0);
    }
    organ_link_poll_levels(&app->link, (uint16_t)now_ms);
    reboot_if_due(app);
}

void organ_app_live_sample(organ_app_t *app, int16_t x)
{
    if (!app->paused) {
        organ_process_sample(&app->state, x, app->out);
    }
}

void organ_app_overrun(organ_app_t *app)
{
    if (app->overruns != 0xFFFFFFFFu) {
        app->overruns = app->overruns + 1u;
    }
}

uint8_t organ_app_led(const organ_app_t *app, uint8_t band)
{
    /* written by the audio context: read through volatile so the compiler cannot cache it */
    const volatile uint8_t *p = &app->out[band].led;
    return *p;
}

uint8_t organ_app_bands(const organ_app_t *app)
{
    return app->id->design->n_bands;
}

uint32_t organ_app_overruns(organ_app_t *app)
{
    uint32_t n;
    app->board->critical_enter(app->board->ctx);
    n = app->overruns;
    app->board->critical_exit(app->board->ctx);
    return n;
}
