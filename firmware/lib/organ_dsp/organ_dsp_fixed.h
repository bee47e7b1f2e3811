/*
 * organ_dsp_fixed.h - private to organ_dsp.c: the fixed-point pipeline.
 * designer/model.py (the Python oracle) mirrors every line; change both together.
 */
#ifndef ORGAN_DSP_FIXED_H
#define ORGAN_DSP_FIXED_H

#include "organ_dsp_kernels.h"

/* Cycle-stamp hook for the AVR cycle harness (tests/avr_cycles): expands to nothing unless the
 * build defines it, e.g. -D'ORGAN_MARK(n)=(*(volatile uint8_t *)0x3E = (n))' (GPIOR0). */
#ifndef ORGAN_MARK
#define ORGAN_MARK(n) ((void)0)
#endif

/* x >> 15 for x < 2^31, written so that avr-gcc moves bytes instead of looping 15 times */
#define ORGAN_SHR15(x) ((uint16_t)(((uint32_t)(x) << 1) >> 16))

/* Top 16 bits of a Q16.16 value (arithmetic shift: floor). */
#define ORGAN_HI(v) ((int16_t)((int32_t)(v) >> 16))

/* relative-onset rule: the band rose 2^ORGAN_RELONSET_SHIFT (6 dB) more than the input */
#define ORGAN_RELONSET_SHIFT 1
/* AGC loop: reference brightness is kept within [ORGAN_AGC_LOW, 255] */
#define ORGAN_AGC_LOW 224u
#define ORGAN_AGC_GMIN 16u

#if !ORGAN_AVR_ASM
/* Arithmetic shift of a wrapped accumulator: right for sh > 0, left for sh < 0.  Split into
 * constant shifts so that avr-gcc moves bytes instead of looping once per bit. */
static int32_t organ_shift(uint32_t acc, int8_t sh)
{
    int32_t v;
    if (sh < 0) {
        return (int32_t)(acc << (uint8_t)(-sh));
    }
    v = (int32_t)acc;
    if (sh & 16) {
        v >>= 16;
    }
    if (sh & 8) {
        v >>= 8;
    }
    if (sh & 4) {
        v >>= 4;
    }
    if (sh & 2) {
        v >>= 2;
    }
    if (sh & 1) {
        v >>= 1;
    }
    return v;
}
#endif

void organ_reset(organ_state_t *s)
{
    uint8_t i;
    s->dc_m = 0;
    s->ref = 0;
    s->gate = 0;
    s->thr_on = 0;
    s->thr_off = 0;
    s->share = 0;
    s->agc_g = 256u;
    s->gc = 0;
    s->task = 0;
    s->chan = 0;
    s->overflows = 0;
    for (i = 0; i < ORGAN_MAX_BANDS; i++) {
        s->level[i] = 0;
        s->on[i] = 0;
        s->flags[i] = 0;
        s->hold[i] = 0;
    }
    for (i = 0; i < ORGAN_MAX_BANDS + 1; i++) {
        organ_hot_t *h = &s->hot[i];
        organ_chan_state_t *c = &s->ch[i];
        h->rect_lo = 0;
        h->rect_hi = 0;
        h->env_out = 0;
        h->led = 0;
        c->env = 0;
        c->sm = 0;
        c->slow = 0;
    }
    for (i = 0; i < ORGAN_MAX_SECTIONS; i++) {
        organ_sec_state_t *q = &s->sec[i];
        q->y = 0;
        q->d = 0;
        q->x1 = 0;
        q->x2 = 0;
    }
    if (s->d) {
        const organ_section_t *sd = s->d->sections;
        uint8_t n = 0;
        for (i = 0; i < s->d->n_bands; i++) {
            n = (uint8_t)(n + s->d->bands[i].n_sections);
        }
        for (i = 0; i < n; i++) {
            if (sd[i].kind <= ORGAN_SEC_HP1) { /* the assembly loop reads these from here */
                s->sec[i].d = (int32_t)((uint32_t)(uint16_t)sd[i].c[0] |
                                        ((uint32_t)sd[i].kind << 16));
            }
        }
    }
}

/* HP1 output x - h with saturation (16-bit overflow test: operands of different sign and a
 * result whose sign differs from x). */
ORGAN_INLINE int16_t organ_hp_out(organ_state_t *s, int16_t x, int16_t h)
{
    int16_t r = (int16_t)((uint16_t)x - (uint16_t)h);
    if (((x ^ h) & (x ^ r)) < 0) {
        r = x < 0 ? -32768 : 32767;
        if (s->overflows != 0xFFFFu) {
            s->overflows++;
        }
    }
    return r;
}

/* Biquad section (delta form); returns its output.  A function of its own, so that the
 * AVR assembly (organ_k_bq) gets the registers it needs. */
#if ORGAN_AVR_ASM
ORGAN_NOINLINE int16_t organ_bq(const organ_section_t *sd, organ_sec_state_t *q, int16_t x)
{
    return organ_k_bq(sd, q, x);
}
#else
ORGAN_NOINLINE int16_t organ_bq(const organ_section_t *sd, organ_sec_state_t *q, int16_t x)
{
    int32_t y = q->y;
    int32_t d = q->d;
    uint32_t num = (uint32_t)organ_mul_ss(sd->c[0], x);
    uint32_t pole;
    if (sd->kind == ORGAN_SEC_BQ) {
        num = organ_mac_ss(num, sd->c[1], q->x1);
        num = organ_mac_ss(num, sd->c[2], q->x2);
        q->x2 = q->x1;
        q->x1 = x;
    }
    pole = organ_mac_ss((uint32_t)organ_mul_ss(sd->c[3], ORGAN_HI(d)), sd->c[4], ORGAN_HI(y));
    d = (int32_t)((uint32_t)d + (uint32_t)organ_shift(num, sd->sh_num) -
                  (uint32_t)organ_shift(pole, sd->sh_pole));
    y = (int32_t)((uint32_t)y + (uint32_t)d);
    q->d = d;
    q->y = y;
    return ORGAN_HI(y);
}
#endif

/* ---- control: ORGAN_TASKS micro-tasks per channel, one per sample (see organ_dsp.h) ---- */

/* task 0: window mean of the last ctl_period samples -> attack/release envelope */
ORGAN_NOINLINE void organ_ctl_env(organ_state_t *s, uint8_t ch)
{
    organ_hot_t *h = &s->hot[ch];
    uint32_t sum = ((uint32_t)h->rect_hi << 16) | h->rect_lo;
    uint8_t rs = s->d->rect_shift;
    sum = (sum + ((uint32_t)1u << (rs - 1u))) >> rs;
    h->rect_lo = 0;
    h->rect_hi = 0;
    organ_k_onepole(&s->ch[ch].env, (uint16_t)(sum > 65535u ? 65535u : sum), s->p->a_att,
                    s->p->a_rel);
}

/* input task 3: AGC reference (instant attack, agc_release) and the gate */
ORGAN_NOINLINE void organ_ctl_ref(organ_state_t *s)
{
    const organ_params_t *p = s->p;
    uint16_t sm = (uint16_t)(s->ch[0].sm >> 16);
    uint16_t g;
    if (sm >= (uint16_t)(s->ref >> 16)) {
        s->ref = s->ch[0].sm;
    } else {
        organ_k_onepole(&s->ref, sm, 0u, p->a_agc);
    }
    g = ORGAN_SHR15(organ_mul_uu((uint16_t)(s->ref >> 16), (uint16_t)p->v[ORGAN_P_GATE]));
    s->gate = g > p->squelch_m ? g : p->squelch_m;
}

/* input task 4: thresholds relative to the input level */
ORGAN_NOINLINE void organ_ctl_thresholds(organ_state_t *s)
{
    const organ_params_t *p = s->p;
    uint16_t sm = (uint16_t)(s->ch[0].sm >> 16);
    s->thr_on = ORGAN_SHR15(organ_mul_uu(sm, (uint16_t)p->v[ORGAN_P_ON_THRESHOLD]));
    s->thr_off = ORGAN_SHR15(organ_mul_uu(sm, (uint16_t)p->v[ORGAN_P_OFF_THRESHOLD]));
    s->share = ORGAN_SHR15(organ_mul_uu(sm, (uint16_t)p->v[ORGAN_P_SHARE]));
}

/* input task 5: brightness factor gc; with AGC, a multiplicative loop (1/32 steps) keeps the
 * reference's brightness in [ORGAN_AGC_LOW, 255] without a division */
ORGAN_NOINLINE void organ_ctl_agc(organ_state_t *s)
{
    const organ_params_t *p = s->p;
    uint16_t g;
    uint32_t t;
    if (p->v[ORGAN_P_AGC]) {
        uint32_t v = organ_mul_uu((uint16_t)(s->ref >> 16), s->gc) >> 16;
        g = s->agc_g;
        if (v > 255u) {
            if (g > ORGAN_AGC_GMIN) {
                g = (uint16_t)(g - (g >> 5) - 1u);
            }
        } else if (v < ORGAN_AGC_LOW) {
            if (g < 65535u - (65535u >> 5) - 1u) {
                g = (uint16_t)(g + (g >> 5) + 1u);
            }
        }
        s->agc_g = g;
    } else {
        g = (uint16_t)p->v[ORGAN_P_GAIN];
    }
    t = organ_mul_uu(p->kb, g) >> 8;
    s->gc = (uint16_t)(t > 65535u ? 65535u : t);
}

#define ORGAN_F_GATE 1u  /* band level above the gate */
#define ORGAN_F_A 2u     /* rule A holds */
#define ORGAN_F_ONSET 4u /* rose onset x over its slow average */
#define ORGAN_F_SHARE 8u /* level >= share x input level */

/* band task 3: level and the cheap parts of the decision */
ORGAN_NOINLINE void organ_ctl_level(organ_state_t *s, uint8_t b)
{
    const organ_chan_state_t *c = &s->ch[b + 1u];
    uint16_t sm = (uint16_t)(c->sm >> 16);
    uint32_t lv = organ_mul_uu(sm, (uint16_t)s->d->bands[b].norm) >> 8;
    uint8_t f = 0;
    s->level[b] = lv;
    if (lv > s->gate) {
        f |= ORGAN_F_GATE;
    }
    if (lv >= (s->on[b] ? s->thr_off : s->thr_on)) {
        f |= ORGAN_F_A;
    }
    if (((uint32_t)sm << 8) >=
        organ_mul_uu((uint16_t)(c->slow >> 16), (uint16_t)s->p->v[ORGAN_P_ONSET])) {
        f |= ORGAN_F_ONSET;
    }
    if (lv >= s->share) {
        f |= ORGAN_F_SHARE;
    }
    s->flags[b] = f;
}

/* band task 4: relative onset (only when it matters), the decision and the hold time */
ORGAN_NOINLINE void organ_ctl_decide(organ_state_t *s, uint8_t b)
{
    uint8_t f = s->flags[b];
    uint8_t want = 0;
    if (f & ORGAN_F_GATE) {
        if (f & (ORGAN_F_A)) {
            want = 1;
        } else if (f & ORGAN_F_ONSET) {
            if (f & ORGAN_F_SHARE) {
                want = 1;
            } else {
                /* relative onset in input-level units: L / max(slow_n, gate) > 2 sm_in / slow_in;
                 * the gate floors a band that was silent (slow ~ 0), so leakage rising with the
                 * input out of a gap is not an "infinite" rise */
                uint32_t lv = s->level[b];
                uint32_t sn = organ_mul_uu((uint16_t)(s->ch[b + 1u].slow >> 16),
                                           (uint16_t)s->d->bands[b].norm) >> 8;
                uint16_t lv16 = (uint16_t)(lv > 65535u ? 65535u : lv);
                uint16_t fl = (uint16_t)(sn > 65535u ? 65535u : sn);
                if (fl < s->gate) {
                    fl = s->gate;
                }
                if ((organ_mul_uu(lv16, (uint16_t)(s->ch[0].slow >> 16)) >> ORGAN_RELONSET_SHIFT) >
                    organ_mul_uu(fl, (uint16_t)(s->ch[0].sm >> 16))) {
                    want = 1;
                }
            }
        }
    }
    if (s->hold[b] > 0u) {
        s->hold[b]--;
    } else if (want != s->on[b]) {
        s->on[b] = want;
        s->hold[b] = s->p->hold_ticks;
    }
}

/* band task 5: PWM value */
ORGAN_NOINLINE void organ_ctl_led(organ_state_t *s, uint8_t b)
{
    uint8_t led = 0;
    if (s->on[b]) {
        uint32_t lv = s->level[b];
        uint32_t lin = organ_mul_uu((uint16_t)(lv > 65535u ? 65535u : lv), s->gc) >> 16;
        led = organ_gamma((uint8_t)(lin > 255u ? 255u : lin));
        if (led == 0u) {
            led = 1u;
        }
    }
    s->hot[b + 1u].led = led;
}

/* tasks 1 and 2: smoother and slow average (symmetric one-poles) */
ORGAN_NOINLINE void organ_ctl_sm(organ_state_t *s, organ_chan_state_t *c, uint8_t ch)
{
    organ_k_onepole(&c->sm, (uint16_t)(c->env >> 16), s->p->a_sm, s->p->a_sm);
    if (ch != 0u) {
        uint16_t e = (uint16_t)(c->sm >> 16);
        s->hot[ch].env_out = (int16_t)(e > 32767u ? 32767u : e);
    }
}

ORGAN_NOINLINE void organ_ctl_slow(organ_state_t *s, organ_chan_state_t *c)
{
    organ_k_onepole(&c->slow, (uint16_t)(c->sm >> 16), s->p->a_slow, s->p->a_slow);
}

/* One micro-task per call: each task is its own (non-inlined) function so that a sample pays
 * only for the registers its task uses. */
ORGAN_NOINLINE void organ_control(organ_state_t *s)
{
    uint8_t ch = s->chan;
    uint8_t task = s->task;
    organ_chan_state_t *c = &s->ch[ch];
    switch (task) {
    case 0:
        organ_ctl_env(s, ch);
        break;
    case 1:
        organ_ctl_sm(s, c, ch);
        break;
    case 2:
        organ_ctl_slow(s, c);
        break;
    case 3:
        if (ch == 0u) {
            organ_ctl_ref(s);
        } else {
            organ_ctl_level(s, (uint8_t)(ch - 1u));
        }
        break;
    case 4:
        if (ch == 0u) {
            organ_ctl_thresholds(s);
        } else {
            organ_ctl_decide(s, (uint8_t)(ch - 1u));
        }
        break;
    default:
        if (ch == 0u) {
            organ_ctl_agc(s);
        } else {
            organ_ctl_led(s, (uint8_t)(ch - 1u));
        }
        break;
    }
    if (++task == ORGAN_TASKS) {
        task = 0;
        if (++ch > s->d->n_bands) {
            ch = 0;
        }
        s->chan = ch;
    }
    s->task = task;
}

/* The bands in C (every design on the host; designs with biquads on AVR); returns the number
 * of HP1 outputs that saturated. */
ORGAN_NOINLINE void organ_bands_c(organ_state_t *s, int16_t xd, organ_band_out_t *out)
{
    const organ_section_t *sd = s->d->sections;
    organ_sec_state_t *q = s->sec;
    organ_hot_t *h = s->hot + 1;
    uint8_t nb = s->d->n_bands;
    do {
        int16_t v = xd;
        uint8_t k;
        for (k = h->in_shift; k > 0u; k--) {
            v = (int16_t)(v >> 1);
        }
        for (k = h->n_sections; k > 0u; k--) {
            uint8_t kind = sd->kind;
            if (kind == ORGAN_SEC_LP1) {
                v = organ_k_fo(q, (uint16_t)sd->c[0], v);
            } else if (kind == ORGAN_SEC_HP1) {
                v = organ_hp_out(s, v, organ_k_fo(q, (uint16_t)sd->c[0], v));
            } else {
                v = organ_bq(sd, q, v);
            }
            ORGAN_MARK(0x10 + kind);
            sd++;
            q++;
        }
        organ_k_rect(h, v);
        out->y = v;
        out->env = h->env_out;
        out->led = h->led;
        out++;
        h++;
        ORGAN_MARK(0x30);
    } while (--nb);
}

ORGAN_API_NOINLINE void organ_process_sample(organ_state_t *s, int16_t x, organ_band_out_t *out)
{
    uint8_t sat;
    int16_t xd = organ_k_dc(&s->dc_m, x, (uint8_t)s->d->dc_coef, &sat);
    organ_k_rect(s->hot, xd);
    ORGAN_MARK(3);
#if ORGAN_AVR_ASM && !defined(ORGAN_MARK_SECTIONS)
    if (s->all_fo) {
        sat = (uint8_t)(sat + organ_k_bands_fo(s->hot + 1, s->sec, out, s->d->n_bands, xd));
        ORGAN_MARK(0x31);
    } else
#endif
    {
        organ_bands_c(s, xd, out);
    }
    if (sat) {
        uint16_t o = (uint16_t)(s->overflows + sat);
        s->overflows = o < s->overflows ? 0xFFFFu : o;
    }
    organ_control(s);
    ORGAN_MARK(0x40 + 4u * s->task + (s->chan == 0u ? 0u : 1u));
}

#endif /* ORGAN_DSP_FIXED_H */
