/*
 * organ_dsp_fixed.h - private to organ_dsp.c: the fixed-point control tasks, reset and the
 * per-sample entry point (the filters are the design's generated step, organ_design_t.step).
 * designer/model.py (the Python oracle) mirrors every line; change both together.
 */
#ifndef ORGAN_DSP_FIXED_H
#define ORGAN_DSP_FIXED_H

/* x >> 15 for x < 2^31, written so that avr-gcc moves bytes instead of looping 15 times */
#define ORGAN_SHR15(x) ((uint16_t)(((uint32_t)(x) << 1) >> 16))

/* Integer part of a Q16.16 m-unit state. */
#define ORGAN_HI16(v) ((uint16_t)((v) >> 16))

/* relative-onset rule: the band rose 2^ORGAN_RELONSET_SHIFT (6 dB) more than the input */
#define ORGAN_RELONSET_SHIFT 1
/* AGC loop: reference brightness is kept within [ORGAN_AGC_LOW, 255] */
#define ORGAN_AGC_LOW 224u
#define ORGAN_AGC_GMIN 16u

/* One-pole step toward target (m-units) on a Q16.16 state: coefficient a_up when target is
 * above the state's integer part, a_down otherwise (Q16). */
ORGAN_INLINE void organ_onepole(uint32_t *st, uint16_t target, uint16_t a_up, uint16_t a_down)
{
    uint16_t h = ORGAN_HI16(*st);
    if (target > h) {
        *st += organ_mul_uu((uint16_t)(target - h), a_up);
    } else {
        *st -= organ_mul_uu((uint16_t)(h - target), a_down);
    }
}

#if ORGAN_AVR_ASM
#include "organ_dsp_avrctl.h"
#else
/* The one-poles of a control channel: envelope (attack/release) on the window mean m, smoother
 * on the envelope and, when slow != 0, the slow average on the smoother. */
ORGAN_INLINE void organ_poles(organ_chan_t *c, const organ_ctl_t *p, uint8_t slow)
{
    organ_onepole(&c->env, c->m, p->a_att, p->a_rel);
    organ_onepole(&c->sm, ORGAN_HI16(c->env), p->a_sm, p->a_sm);
    if (slow) {
        organ_onepole(&c->slow, ORGAN_HI16(c->sm), p->a_slow, p->a_slow);
    }
}
#endif

ORGAN_NOINLINE uint32_t organ_mul_slow(uint16_t a, uint16_t b)
{
    return organ_mul_uu(a, b); /* one copy for the AGC task and the reset */
}

void organ_reset(organ_state_t *s)
{
    uint8_t *g = (uint8_t *)&s->g;
    uint16_t i;
    s->overflows = 0;
    s->tick = 0;
    s->rounds = 0;
    s->dc_m = 0;
    for (i = 0; i < ORGAN_FS_BYTES; i++) {
        s->fs[i] = 0;
    }
    for (i = 0; i < sizeof s->g; i++) {
        g[i] = 0;
    }
    s->ref = 0;
    s->agc_g = 256u;
    s->age = 0;
    for (i = 0; i < ORGAN_MAX_BANDS + 1; i++) {
        organ_chan_t *c = &s->ch[i];
        c->env = 0;
        c->sm = 0;
        c->slow = 0;
        c->m = 0;
        c->norm = 0;
        c->level = 0;
        c->env_out = 0;
        c->hold = 0;
        c->on = 0;
        c->led = 0;
        if (i >= 1u && s->d && i <= s->d->n_bands) {
            c->norm = (uint16_t)s->d->bands[i - 1u].norm;
        }
    }
    if (s->p) {
        /* the gate and the brightness factor from the start, not from the first AGC round */
        const organ_params_t *p = s->p;
        uint32_t t = organ_mul_slow(p->kb, p->v[ORGAN_P_AGC] ? s->agc_g
                                                             : (uint16_t)p->v[ORGAN_P_GAIN]) >> 8;
        s->g.gate = p->squelch_m;
        s->g.gc = (uint16_t)(t > 65535u ? 65535u : t);
    }
}

/* task 0: the window means of all channels (the same samples for every channel, so a band's
 * level and the input level always describe the same stretch of sound):
 * m = (sum + 2^(rs-1)) >> rs, as a left shift by 8 - rs and a byte move */
ORGAN_NOINLINE void organ_ctl_windows(organ_state_t *s)
{
    uint8_t *w = s->fs;
    organ_chan_t *c = s->ch;
    uint8_t up = (uint8_t)(8u - s->d->rect_shift);
    uint8_t n = (uint8_t)(s->d->n_bands + 1u);
    s->rounds++;
    s->g.slow = (uint8_t)((s->rounds & (ORGAN_SLOW_ROUNDS - 1u)) == 0u);
#if ORGAN_AVR_ASM
    organ_avr_windows(w, c, n, up);
#else
    do {
        uint32_t sum = (uint32_t)w[0] | ((uint32_t)w[1] << 8) | ((uint32_t)w[2] << 16);
        w[0] = 0;
        w[1] = 0;
        w[2] = 0;
        w += 3;
        sum = (sum + (128u >> up)) << up;
        c->m = (uint16_t)(sum >> 8);
        c++;
    } while (--n);
#endif
}

/* task 1, in pieces (small functions compile to far less code around organ_poles): the
 * coefficients the band tasks share, the input channel's one-poles, the thresholds relative to
 * the input level and the transient window (organ_dsp_avrctl.h: the same in assembly) */
#if !ORGAN_AVR_ASM
ORGAN_NOINLINE void organ_ctl_copy(organ_ctl_t *g, const organ_params_t *p)
{
    g->a_att = p->a_att;
    g->a_rel = p->a_rel;
    g->a_sm = p->a_sm;
    g->a_slow = p->a_slow;
    g->onset = (uint16_t)p->v[ORGAN_P_ONSET];
    g->hold_ticks = p->hold_ticks;
    g->lmax = g->lmax_now;
    g->lmax_now = 0;
}

ORGAN_NOINLINE void organ_ctl_poles(organ_chan_t *c, const organ_ctl_t *g)
{
    organ_poles(c, g, g->slow);
}

ORGAN_NOINLINE void organ_ctl_levels(organ_state_t *s, organ_ctl_t *g, const organ_params_t *p)
{
    uint16_t sm = ORGAN_HI16(s->ch[0].sm);
    g->sm_in = sm;
    g->slow_in = ORGAN_HI16(s->ch[0].slow);
    g->thr_on = ORGAN_SHR15(organ_mul_uu(sm, (uint16_t)p->v[ORGAN_P_ON_THRESHOLD]));
    g->thr_off = ORGAN_SHR15(organ_mul_uu(sm, (uint16_t)p->v[ORGAN_P_OFF_THRESHOLD]));
    g->share = ORGAN_SHR15(organ_mul_uu(sm, (uint16_t)p->v[ORGAN_P_SHARE]));
    if (sm > p->squelch_m && ((uint32_t)sm << 8) >= organ_mul_uu(g->slow_in, g->onset)) {
        if (s->age < 255u) {
            s->age++;
        }
    } else {
        s->age = 0;
    }
    /* from the second round of an onset: the loudest band of the round before is known */
    g->share_open = (uint8_t)(s->age >= 2u && s->age <= p->age_max + 1u);
}
#endif

/* task n_bands + 2, every ORGAN_SLOW_ROUNDS-th round: the AGC reference (instant attack,
 * agc_release), the gate and the brightness factor gc (with AGC a multiplicative loop in 1/32
 * steps keeps the reference's brightness in [ORGAN_AGC_LOW, 255], no division) */
ORGAN_NOINLINE void organ_ctl_agc(organ_state_t *s, organ_ctl_t *g, const organ_params_t *p)
{
    uint16_t sm = g->sm_in;
    uint16_t v = ORGAN_HI16(s->ref);
    uint32_t t;
    if (sm >= v) {
        s->ref = s->ch[0].sm;
    } else {
        s->ref -= organ_mul_slow((uint16_t)(v - sm), p->a_agc); /* release only */
    }
    v = ORGAN_SHR15(organ_mul_slow(ORGAN_HI16(s->ref), (uint16_t)p->v[ORGAN_P_GATE]));
    g->gate = v > p->squelch_m ? v : p->squelch_m;
    if (p->v[ORGAN_P_AGC]) {
        uint32_t lv = organ_mul_slow(ORGAN_HI16(s->ref), g->gc) >> 16;
        v = s->agc_g;
        if (lv > 255u) {
            if (v > ORGAN_AGC_GMIN) {
                v = (uint16_t)(v - (v >> 5) - 1u);
            }
        } else if (lv < ORGAN_AGC_LOW) {
            if (v < 65535u - (65535u >> 5) - 1u) {
                v = (uint16_t)(v + (v >> 5) + 1u);
            }
        }
        s->agc_g = v;
    } else {
        v = (uint16_t)p->v[ORGAN_P_GAIN];
    }
    t = organ_mul_slow(p->kb, v) >> 8;
    g->gc = (uint16_t)(t > 65535u ? 65535u : t);
}

#if !ORGAN_AVR_ASM
ORGAN_NOINLINE void organ_ctl_input(organ_state_t *s)
{
    organ_ctl_copy(&s->g, s->p);
    organ_ctl_poles(s->ch, &s->g);
    organ_ctl_levels(s, &s->g, s->p);
}
#endif

#if !ORGAN_AVR_ASM
/* relative onset in input-level units: L / max(slow_n, gate) > 2 sm_in / slow_in; the gate
 * floors a band that was silent (slow ~ 0), so leakage rising with the input out of a gap is
 * not an "infinite" rise (organ_dsp_avrctl.h: the same inside the band task) */
ORGAN_NOINLINE uint8_t organ_rel_onset(const organ_ctl_t *g, const organ_chan_t *c)
{
    uint32_t sn = organ_mul_uu(ORGAN_HI16(c->slow), c->norm) >> 8;
    uint16_t fl = (uint16_t)(sn > 65535u ? 65535u : sn);
    if (fl < g->gate) {
        fl = g->gate;
    }
    return (organ_mul_uu(c->level, g->slow_in) >> ORGAN_RELONSET_SHIFT) >
           organ_mul_uu(fl, g->sm_in);
}
#endif

#if !ORGAN_AVR_ASM
/* task 2 + b: band b's one-poles, level L = sm norm (and the loudest so far), decision, hold
 * time and PWM value; its env and led outputs (organ_dsp_avrctl.h: the same in assembly) */
ORGAN_NOINLINE void organ_ctl_band(organ_ctl_t *g, organ_chan_t *c, organ_band_out_t *o)
{
    uint16_t sm, slow, lv;
    uint32_t t;
    uint8_t want = 0;
    uint8_t led = 0;
    /* the share path's loudest band: this band's level and the loudest of the last round */
    uint8_t loudest = (uint8_t)(g->share_open && c->level >= g->lmax);
    organ_poles(c, g, g->slow);
    sm = ORGAN_HI16(c->sm);
    slow = ORGAN_HI16(c->slow);
    t = organ_mul_uu(sm, c->norm) >> 8;
    lv = (uint16_t)(t > 65535u ? 65535u : t);
    c->level = lv;
    if (lv > g->lmax_now) {
        g->lmax_now = lv;
    }
    if (lv > g->gate) {
        if (lv >= (c->on ? g->thr_off : g->thr_on) &&
            sm >= (uint16_t)(slow >> ORGAN_DECAY_SHIFT)) {
            want = 1; /* (A), not decaying */
        } else if (((uint32_t)sm << 8) >= organ_mul_uu(slow, g->onset)) {
            if (lv >= g->share && loudest) {
                want = 1; /* (B), the share path */
            } else {
                want = organ_rel_onset(g, c);
            }
        }
    }
    if (c->hold > 0u) {
        c->hold--;
    } else if (want != c->on) {
        c->on = want;
        c->hold = g->hold_ticks;
    }
    if (c->on) {
        uint16_t lin = (uint16_t)(organ_mul_uu(lv, g->gc) >> 16);
        led = organ_gamma((uint8_t)(lin > 255u ? 255u : lin));
        if (led == 0u) {
            led = 1u;
        }
    }
    c->led = led;
    o->led = led;
    c->env_out = (int16_t)(sm > 32767u ? 32767u : sm);
    o->env = c->env_out;
}
#endif

void organ_control(organ_state_t *s, organ_band_out_t *out)
{
    uint8_t t = (uint8_t)(s->tick >> 1);
    if (t == 0u) {
        organ_ctl_windows(s);
    } else if (t == 1u) {
        organ_ctl_input(s);
    } else if (t == s->d->n_bands + 2u) {
        if (s->g.slow) {
            organ_ctl_agc(s, &s->g, s->p);
        }
    } else {
        organ_ctl_band(&s->g, &s->ch[t - 1u], &out[t - 2u]);
    }
}


void organ_process_sample(organ_state_t *s, int16_t x, organ_band_out_t *out)
{
    const organ_chan_t *c = &s->ch[1];
    uint8_t b;
    s->d->step(s, x, out);
    for (b = 0; b < s->d->n_bands; b++, c++) {
        out[b].env = c->env_out;
        out[b].led = c->led;
    }
}

#endif /* ORGAN_DSP_FIXED_H */
