/*
 * organ_dsp.c - parameters, initialisation and the per-sample entry point.
 * The arithmetic lives in organ_dsp_fixed.h / organ_dsp_float.h (private, included once here).
 */
#include "organ_dsp.h"

#include "organ_dsp_mul.h"

/* Parameter bounds and fallback defaults by id (designer/params.py mirrors this).  A switch
 * keeps them in flash: a const table would be copied into the AVR's RAM. */
static int organ_param_limits(uint8_t id, int32_t *lo, int32_t *hi, int32_t *fallback)
{
    switch (id) {
    case ORGAN_P_GAIN: *lo = 26; *hi = 25600; *fallback = 256; break;
    case ORGAN_P_AGC: *lo = 0; *hi = 1; *fallback = 1; break;
    case ORGAN_P_SQUELCH: *lo = 1; *hi = 32767; *fallback = 184; break;
    case ORGAN_P_GATE: *lo = 33; *hi = 32767; *fallback = 519; break;
    case ORGAN_P_ON_THRESHOLD: *lo = 3277; *hi = 32767; *fallback = 23467; break;
    case ORGAN_P_OFF_THRESHOLD: *lo = 3277; *hi = 32767; *fallback = 22932; break;
    case ORGAN_P_ATTACK_MS: *lo = 0; *hi = 1000; *fallback = 2; break;
    case ORGAN_P_RELEASE_MS: *lo = 1; *hi = 5000; *fallback = 60; break;
    case ORGAN_P_HOLD_MS: *lo = 0; *hi = 5000; *fallback = 0; break;
    case ORGAN_P_SMOOTHING_MS: *lo = 0; *hi = 1000; *fallback = 8; break;
    case ORGAN_P_ONSET: *lo = 256; *hi = 4096; *fallback = 511; break;
    case ORGAN_P_SLOW_MS: *lo = 10; *hi = 5000; *fallback = 400; break;
    case ORGAN_P_AGC_RELEASE_MS: *lo = 100; *hi = 30000; *fallback = 2000; break;
    case ORGAN_P_SHARE: *lo = 33; *hi = 32767; *fallback = 5827; break;
    default: return ORGAN_ERR_ID;
    }
    return ORGAN_OK;
}

/* Gamma 2.2 at 17 points (PWM = round(255 (i/16)^2.2)), interpolated linearly between them:
 * 17 bytes instead of a 256-byte table, which would sit in the AVR's RAM. */
static const uint8_t GAMMA17[17] = {
    0, 1, 3, 6, 12, 20, 29, 41, 55, 72, 91, 112, 135, 161, 190, 221, 255,
};

/* Linear brightness 0..255 -> PWM 0..255; shared by both arithmetics. */
static uint8_t organ_gamma(uint8_t lin)
{
    uint8_t i = (uint8_t)(lin >> 4);
    uint8_t f = (uint8_t)(lin & 15u);
    uint8_t g0 = GAMMA17[i];
    uint8_t g1 = GAMMA17[i + 1u];
    return (uint8_t)(g0 + (uint8_t)(((uint16_t)(uint8_t)(g1 - g0) * f) >> 4));
}

/* One-pole coefficient 1 - exp(-1/(tau fc)) in Q16 for tau = ms, by the Pade form 2x / (2 + x),
 * x = 1000 / (ms fc); integer only so that every build and the Python model agree. */
static uint16_t organ_alpha(int32_t ms, uint16_t ctl_hz)
{
    uint32_t den;
    uint32_t a;
    if (ms <= 0) {
        return 65535u;
    }
    den = 2u * (uint32_t)ms * (uint32_t)ctl_hz + 1000u;
    a = 131072000u / den;
    return (uint16_t)(a > 65535u ? 65535u : a);
}

static void organ_derive(organ_params_t *p)
{
    const organ_design_t *d = p->d;
    uint32_t h;
    uint32_t mfs;
    p->a_att = organ_alpha(p->v[ORGAN_P_ATTACK_MS], d->ctl_hz);
    p->a_rel = organ_alpha(p->v[ORGAN_P_RELEASE_MS], d->ctl_hz);
    p->a_sm = organ_alpha(p->v[ORGAN_P_SMOOTHING_MS], d->ctl_hz);
    p->a_slow = organ_alpha(p->v[ORGAN_P_SLOW_MS], d->ctl_hz);
    p->a_agc = organ_alpha(p->v[ORGAN_P_AGC_RELEASE_MS], d->ctl_hz);
    h = ((uint32_t)p->v[ORGAN_P_HOLD_MS] * d->ctl_hz + 500u) / 1000u;
    p->hold_ticks = (uint16_t)(h > 65535u ? 65535u : h);
    p->squelch_m = (uint16_t)(((uint32_t)p->v[ORGAN_P_SQUELCH] * d->lvl_k) >> 16);
    /* m-units of a full-scale sine = lvl_k / 2; brightness 255 there at 0 dB: Q16 factor */
    mfs = (uint32_t)d->lvl_k >> 1;
    if (mfs < 256u) {
        mfs = 256u;
    }
    h = ((uint32_t)255u * 65536u + mfs / 2u) / mfs;
    p->kb = (uint16_t)(h > 65535u ? 65535u : h);
}

void organ_params_default(const organ_design_t *d, organ_params_t *p)
{
    uint8_t i;
    p->d = d;
    for (i = 0; i < ORGAN_N_PARAMS; i++) {
        int32_t lo, hi, fb;
        int32_t v;
        organ_param_limits(i, &lo, &hi, &fb);
        v = d->param_defaults ? d->param_defaults[i] : fb;
        p->v[i] = (v < lo || v > hi) ? fb : v;
    }
    organ_derive(p);
}

int organ_param_get(const organ_params_t *p, uint8_t id, int32_t *value)
{
    if (id >= ORGAN_N_PARAMS) {
        return ORGAN_ERR_ID;
    }
    *value = p->v[id];
    return ORGAN_OK;
}

int organ_param_set(organ_params_t *p, uint8_t id, int32_t value)
{
    int32_t lo, hi, fb;
    if (organ_param_limits(id, &lo, &hi, &fb) != ORGAN_OK) {
        return ORGAN_ERR_ID;
    }
    if (value < lo || value > hi) {
        return ORGAN_ERR_RANGE;
    }
    p->v[id] = value;
    organ_derive(p);
    return ORGAN_OK;
}

int organ_param_info(uint8_t id, int32_t *min, int32_t *max, int32_t *fallback)
{
    return organ_param_limits(id, min, max, fallback);
}

#ifdef ORGAN_FLOAT
#include "organ_dsp_float.h"
#else
#include "organ_dsp_fixed.h"
#endif

int organ_init(organ_state_t *s, const organ_design_t *d, const organ_params_t *p)
{
    uint8_t b;
    uint16_t total = 0;
    if (d->arithmetic != ORGAN_ARITH || d->max_bands != ORGAN_MAX_BANDS ||
        d->max_sections != ORGAN_MAX_SECTIONS) {
        return ORGAN_ERR_LAYOUT;
    }
    if (d->n_bands == 0u || d->n_bands > ORGAN_MAX_BANDS ||
        (uint16_t)d->ctl_period != (uint16_t)(ORGAN_TASKS * (d->n_bands + 1u)) ||
        d->rect_shift == 0u) {
        return ORGAN_ERR_DESIGN;
    }
#ifndef ORGAN_FLOAT
    if (d->dc_coef < 1 || d->dc_coef > 255) { /* the AVR kernel multiplies by one byte */
        return ORGAN_ERR_DESIGN;
    }
#endif
    for (b = 0; b < d->n_bands; b++) {
        const organ_band_t *bd = &d->bands[b];
        uint8_t k;
        if (bd->n_sections == 0u ||
            (uint16_t)bd->first_section + bd->n_sections > ORGAN_MAX_SECTIONS) {
            return ORGAN_ERR_DESIGN;
        }
        if (bd->first_section != total) { /* processing walks the sections in order */
            return ORGAN_ERR_DESIGN;
        }
        for (k = 0; k < bd->n_sections; k++) {
            uint8_t kind = d->sections[bd->first_section + k].kind;
            if (kind < ORGAN_SEC_LP1 || kind > ORGAN_SEC_BQ) {
                return ORGAN_ERR_DESIGN;
            }
        }
        if (bd->in_shift > 15u) {
            return ORGAN_ERR_DESIGN;
        }
        total = (uint16_t)(total + bd->n_sections);
    }
    if (total > ORGAN_MAX_SECTIONS) {
        return ORGAN_ERR_DESIGN;
    }
    s->d = d;
    s->p = p;
    s->all_fo = 1;
    for (b = 0; b < ORGAN_MAX_BANDS + 1u; b++) {
        organ_hot_t *h = &s->hot[b];
        h->in_shift = 0;
        h->n_sections = 0;
        h->fo = 0;
        if (b >= 1u && b <= d->n_bands) {
            const organ_band_t *bd = &d->bands[b - 1u];
            uint8_t k;
            h->in_shift = bd->in_shift;
            h->n_sections = bd->n_sections;
            h->fo = 1;
            for (k = 0; k < bd->n_sections; k++) {
                if (d->sections[bd->first_section + k].kind > ORGAN_SEC_HP1) {
                    h->fo = 0;
                    s->all_fo = 0;
                }
            }
        }
    }
    organ_reset(s);
    return ORGAN_OK;
}
