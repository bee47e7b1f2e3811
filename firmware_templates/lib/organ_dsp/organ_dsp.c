/*
 * organ_dsp.c - parameters, initialisation and the per-sample entry point.
 * The arithmetic lives in organ_dsp_fixed.h (the control tasks; the filters are the design's
 * generated step) and organ_dsp_float.h (private, included once here).
 */
#include "organ_dsp.h"

#include "organ_dsp_kernels.h"

/* Parameter bounds and fallback defaults by id (designer/params.py mirrors this).  A switch
 * keeps them in flash: a const table would be copied into the AVR's RAM. */
typedef struct {
    int32_t lo, hi, fb;
} organ_limits_t;

/* one store for every case: the switch stays code (a lookup table would sit in RAM) */
ORGAN_NOINLINE void organ_limits_set(organ_limits_t *l, uint16_t lo, uint16_t hi, uint16_t fb)
{
    l->lo = lo;
    l->hi = hi;
    l->fb = fb;
}

static int organ_param_limits(uint8_t id, int32_t *lo, int32_t *hi, int32_t *fallback)
{
    organ_limits_t l;
    switch (id) {
    case ORGAN_P_GAIN: organ_limits_set(&l, 26u, 25600u, 256u); break;
    case ORGAN_P_AGC: organ_limits_set(&l, 0u, 1u, 1u); break;
    case ORGAN_P_SQUELCH: organ_limits_set(&l, 1u, 32767u, 184u); break;
    case ORGAN_P_GATE: organ_limits_set(&l, 33u, 32767u, 519u); break;
    case ORGAN_P_ON_THRESHOLD: organ_limits_set(&l, 3277u, 32767u, 23467u); break;
    case ORGAN_P_OFF_THRESHOLD: organ_limits_set(&l, 3277u, 32767u, 22932u); break;
    case ORGAN_P_ATTACK_MS: organ_limits_set(&l, 0u, 1000u, 2u); break;
    case ORGAN_P_RELEASE_MS: organ_limits_set(&l, 1u, 5000u, 50u); break;
    case ORGAN_P_HOLD_MS: organ_limits_set(&l, 0u, 5000u, 0u); break;
    case ORGAN_P_SMOOTHING_MS: organ_limits_set(&l, 0u, 1000u, 8u); break;
    case ORGAN_P_ONSET: organ_limits_set(&l, 256u, 4096u, 511u); break;
    case ORGAN_P_SLOW_MS: organ_limits_set(&l, 10u, 5000u, 400u); break;
    case ORGAN_P_AGC_RELEASE_MS: organ_limits_set(&l, 100u, 30000u, 2000u); break;
    case ORGAN_P_SHARE: organ_limits_set(&l, 33u, 32767u, 5827u); break;
    default: return ORGAN_ERR_ID;
    }
    *lo = l.lo;
    *hi = l.hi;
    *fallback = l.fb;
    return ORGAN_OK;
}

/* Gamma 2.2 at 17 points (PWM = round(255 (i/16)^2.2)), interpolated linearly between them:
 * 17 bytes instead of a 256-byte table, which would sit in the AVR's RAM. */
static const uint8_t GAMMA17[17] = {
    0, 1, 3, 6, 12, 20, 29, 41, 55, 72, 91, 112, 135, 161, 190, 221, 255,
};

/* Linear brightness 0..255 -> PWM 0..255; shared by both arithmetics. */
ORGAN_INLINE uint8_t organ_gamma(uint8_t lin)
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
    uint16_t slow_hz;
    p->a_att = organ_alpha(p->v[ORGAN_P_ATTACK_MS], d->ctl_hz);
    p->a_rel = organ_alpha(p->v[ORGAN_P_RELEASE_MS], d->ctl_hz);
    p->a_sm = organ_alpha(p->v[ORGAN_P_SMOOTHING_MS], d->ctl_hz);
    /* the slow averages and the AGC reference run every ORGAN_SLOW_ROUNDS rounds */
    slow_hz = (uint16_t)((d->ctl_hz + ORGAN_SLOW_ROUNDS / 2u) / ORGAN_SLOW_ROUNDS);
    p->a_slow = organ_alpha(p->v[ORGAN_P_SLOW_MS], slow_hz);
    p->a_agc = organ_alpha(p->v[ORGAN_P_AGC_RELEASE_MS], slow_hz);
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
    h = ((uint32_t)ORGAN_TRANSIENT_MS * d->ctl_hz + 500u) / 1000u;
    p->age_max = (uint8_t)(h < 1u ? 1u : (h > 255u ? 255u : h));
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
    if (d->arithmetic != ORGAN_ARITH || d->max_bands != ORGAN_MAX_BANDS ||
        d->max_sections != ORGAN_MAX_SECTIONS) {
        return ORGAN_ERR_LAYOUT;
    }
    if (d->n_bands == 0u || d->n_bands > ORGAN_MAX_BANDS ||
        d->ctl_period < 2u * d->n_bands + 6u || d->ctl_period > 256u ||
        (d->ctl_period & 1u) != 0u ||
        d->rect_shift == 0u || d->rect_shift > 8u ||
        ((uint16_t)1u << d->rect_shift) < d->ctl_period) {
        return ORGAN_ERR_DESIGN;
    }
#ifdef ORGAN_FLOAT
    {
        uint16_t total = 0;
        if (d->step) {
            return ORGAN_ERR_DESIGN;
        }
        for (b = 0; b < d->n_bands; b++) {
            const organ_band_t *bd = &d->bands[b];
            uint8_t k;
            if (bd->n_sections == 0u || bd->first_section != total) {
                return ORGAN_ERR_DESIGN; /* processing walks the sections in order */
            }
            for (k = 0; k < bd->n_sections; k++) {
                uint8_t kind = d->sections[bd->first_section + k].kind;
                if (kind < ORGAN_SEC_LP1 || kind > ORGAN_SEC_BQ) {
                    return ORGAN_ERR_DESIGN;
                }
            }
            total = (uint16_t)(total + bd->n_sections);
        }
        if (total > ORGAN_MAX_SECTIONS) {
            return ORGAN_ERR_DESIGN;
        }
    }
#else
    /* the filters are the generated step; the tables hold what the control tasks need */
    if (!d->step || d->dc_coef < 1 || d->dc_coef > 255) {
        return ORGAN_ERR_DESIGN;
    }
    for (b = 0; b < d->n_bands; b++) {
        if (d->bands[b].in_shift > 15u) {
            return ORGAN_ERR_DESIGN;
        }
    }
#endif
    s->d = d;
    s->p = p;
    organ_reset(s);
    return ORGAN_OK;
}
