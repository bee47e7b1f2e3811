/*
 * organ_dsp_float.h - private to organ_dsp.c: the float32 pipeline (ORGAN_FLOAT, esp32dev).
 * Same structure as organ_dsp_fixed.h; every expression is written in the order the float32
 * oracle (designer/model_float.py) evaluates it.  Build with -ffp-contract=off.
 */
#ifndef ORGAN_DSP_FLOAT_H
#define ORGAN_DSP_FLOAT_H

#define ORGAN_F_Q15 (1.0f / 32768.0f)
#define ORGAN_F_Q16 (1.0f / 65536.0f)
#define ORGAN_F_SINE_LEVEL 1.94280929e-05f /* (2/pi) / 32768: mean |sine| per Q15 */
#define ORGAN_F_KB 400.55307f /* 255 / (2/pi): full-scale sine -> 255 */
#define ORGAN_F_AGC_GMIN 0.0625f
#define ORGAN_F_AGC_GMAX 256.0f

static float organ_fabs(float v)
{
    return v < 0.0f ? -v : v;
}

void organ_reset(organ_state_t *s)
{
    uint8_t i;
    s->overflows = 0;
    s->tick = 0;
    s->rounds = 0;
    s->dc_m = 0.0f;
    s->ref = 0.0f;
    s->gate = 0.0f;
    s->thr_on = 0.0f;
    s->thr_off = 0.0f;
    s->share = 0.0f;
    s->agc_g = 1.0f;
    s->gc = 0.0f;
    s->lmax = 0.0f;
    s->lmax_now = 0.0f;
    s->share_open = 0;
    s->age = 0;
    for (i = 0; i < ORGAN_MAX_BANDS + 1; i++) {
        organ_chan_t *c = &s->ch[i];
        s->rect[i] = 0.0f;
        c->env = 0.0f;
        c->sm = 0.0f;
        c->slow = 0.0f;
        c->m = 0.0f;
        c->norm = 0.0f;
        c->level = 0.0f;
        c->env_out = 0.0f;
        c->hold = 0;
        c->on = 0;
        c->led = 0;
        if (i >= 1u && s->d && i <= s->d->n_bands) {
            c->norm = s->d->bands[i - 1u].norm;
        }
    }
    for (i = 0; i < ORGAN_MAX_SECTIONS; i++) {
        uint8_t k;
        for (k = 0; k < 4u; k++) {
            s->sec[i][k] = 0.0f;
        }
    }
    if (s->p) {
        /* the gate and the brightness factor from the start, not from the first AGC round */
        const organ_params_t *p = s->p;
        s->gate = (float)p->v[ORGAN_P_SQUELCH] * ORGAN_F_SINE_LEVEL;
        s->gc = ORGAN_F_KB * (p->v[ORGAN_P_AGC] ? s->agc_g
                                                : (float)p->v[ORGAN_P_GAIN] * (1.0f / 256.0f));
    }
}

static float organ_section(const organ_section_t *sd, float *q, float x)
{
    /* q: y, d, x1, x2 */
    float y = q[0];
    if (sd->kind <= ORGAN_SEC_HP1) {
        float u = x + q[2];
        u = u - 2.0f * y;
        y = y + sd->c[0] * u;
        q[0] = y;
        q[2] = x;
        return sd->kind == ORGAN_SEC_LP1 ? y : x - y;
    } else {
        float d = q[1];
        float t = sd->c[0] * x;
        if (sd->kind == ORGAN_SEC_BQ) {
            t = t + sd->c[1] * q[2];
            t = t + sd->c[2] * q[3];
            q[3] = q[2];
            q[2] = x;
        }
        t = t - sd->c[3] * d;
        t = t - sd->c[4] * y;
        d = d + t;
        y = y + d;
        q[1] = d;
        q[0] = y;
        return y;
    }
}

static void organ_onepole(float *st, float target, uint16_t a_up, uint16_t a_down)
{
    float a = (float)(target > *st ? a_up : a_down) * ORGAN_F_Q16;
    *st = *st + (target - *st) * a;
}

static void organ_ctl_poles(const organ_params_t *p, organ_chan_t *c, uint8_t slow)
{
    organ_onepole(&c->env, c->m, p->a_att, p->a_rel);
    organ_onepole(&c->sm, c->env, p->a_sm, p->a_sm);
    if (slow) {
        organ_onepole(&c->slow, c->sm, p->a_slow, p->a_slow);
    }
}

static void organ_ctl_windows(organ_state_t *s)
{
    float n = (float)s->d->ctl_period;
    uint8_t c;
    s->rounds++;
    for (c = 0; c <= s->d->n_bands; c++) {
        s->ch[c].m = s->rect[c] / n;
        s->rect[c] = 0.0f;
    }
}

static void organ_ctl_input(organ_state_t *s)
{
    const organ_params_t *p = s->p;
    float sq = (float)p->v[ORGAN_P_SQUELCH] * ORGAN_F_SINE_LEVEL;
    uint8_t slow_round = (uint8_t)((s->rounds & (ORGAN_SLOW_ROUNDS - 1u)) == 0u);
    float sm, slow;
    organ_ctl_poles(p, s->ch, slow_round);
    sm = s->ch[0].sm;
    slow = s->ch[0].slow;
    s->thr_on = sm * ((float)p->v[ORGAN_P_ON_THRESHOLD] * ORGAN_F_Q15);
    s->thr_off = sm * ((float)p->v[ORGAN_P_OFF_THRESHOLD] * ORGAN_F_Q15);
    s->share = sm * ((float)p->v[ORGAN_P_SHARE] * ORGAN_F_Q15);
    if (sm > sq && sm >= slow * ((float)p->v[ORGAN_P_ONSET] * (1.0f / 256.0f))) {
        if (s->age < 255u) {
            s->age++;
        }
    } else {
        s->age = 0;
    }
    s->share_open = (uint8_t)(s->age >= 2u && s->age <= s->p->age_max + 1u);
    s->lmax = s->lmax_now;
    s->lmax_now = 0.0f;
}

/* the AGC task: every ORGAN_SLOW_ROUNDS-th round the reference, the gate and the brightness */
static void organ_ctl_agc(organ_state_t *s)
{
    const organ_params_t *p = s->p;
    float sq = (float)p->v[ORGAN_P_SQUELCH] * ORGAN_F_SINE_LEVEL;
    float sm = s->ch[0].sm;
    float g;
    if ((s->rounds & (ORGAN_SLOW_ROUNDS - 1u)) != 0u) {
        return;
    }
    if (sm >= s->ref) {
        s->ref = sm;
    } else {
        organ_onepole(&s->ref, sm, 0u, p->a_agc);
    }
    g = s->ref * ((float)p->v[ORGAN_P_GATE] * ORGAN_F_Q15);
    s->gate = g > sq ? g : sq;
    if (p->v[ORGAN_P_AGC]) {
        float v = s->ref * s->gc;
        g = s->agc_g;
        if (v > 255.0f) {
            if (g > ORGAN_F_AGC_GMIN) {
                g = g * 0.96875f;
            }
        } else if (v < 224.0f) {
            if (g < ORGAN_F_AGC_GMAX) {
                g = g * 1.03125f;
            }
        }
        s->agc_g = g;
    } else {
        g = (float)p->v[ORGAN_P_GAIN] * (1.0f / 256.0f);
    }
    s->gc = ORGAN_F_KB * g;
}

static void organ_ctl_band(organ_state_t *s, organ_chan_t *c)
{
    uint8_t want = 0;
    uint8_t led = 0;
    uint8_t loudest = (uint8_t)(s->share_open && c->level >= s->lmax);
    float lv;
    organ_ctl_poles(s->p, c, (uint8_t)((s->rounds & (ORGAN_SLOW_ROUNDS - 1u)) == 0u));
    lv = c->sm * c->norm;
    c->level = lv;
    if (lv > s->lmax_now) {
        s->lmax_now = lv;
    }
    if (lv > s->gate) {
        if (lv >= (c->on ? s->thr_off : s->thr_on) &&
            c->sm >= c->slow * (1.0f / (float)(1u << ORGAN_DECAY_SHIFT))) {
            want = 1;
        } else if (c->sm >= c->slow * ((float)s->p->v[ORGAN_P_ONSET] * (1.0f / 256.0f))) {
            if (lv >= s->share && loudest) {
                want = 1;
            } else {
                float fl = c->slow * c->norm;
                if (fl < s->gate) {
                    fl = s->gate;
                }
                if ((lv * s->ch[0].slow) * 0.5f > fl * s->ch[0].sm) {
                    want = 1;
                }
            }
        }
    }
    if (c->hold > 0u) {
        c->hold--;
    } else if (want != c->on) {
        c->on = want;
        c->hold = s->p->hold_ticks;
    }
    if (c->on) {
        float lin = lv * s->gc;
        led = organ_gamma(lin >= 255.0f ? (uint8_t)255u : (uint8_t)lin);
        if (led == 0u) {
            led = 1u;
        }
    }
    c->led = led;
    c->env_out = c->sm;
}

static void organ_control(organ_state_t *s)
{
    uint8_t t = (uint8_t)(s->tick >> 1);
    if (t == 0u) {
        organ_ctl_windows(s);
    } else if (t == 1u) {
        organ_ctl_input(s);
    } else if (t == s->d->n_bands + 2u) {
        organ_ctl_agc(s);
    } else {
        organ_ctl_band(s, &s->ch[t - 1u]);
    }
}

void organ_process_sample(organ_state_t *s, int16_t x, organ_band_out_t *out)
{
    const organ_design_t *d = s->d;
    float xd = (float)x * ORGAN_F_Q15;
    uint8_t b;
    xd = xd - s->dc_m;
    s->dc_m = s->dc_m + d->dc_coef * xd;
    s->rect[0] = s->rect[0] + organ_fabs(xd);
    for (b = 0; b < d->n_bands; b++) {
        const organ_band_t *bd = &d->bands[b];
        float v = xd;
        uint8_t k;
        for (k = 0; k < bd->n_sections; k++) {
            uint8_t i = (uint8_t)(bd->first_section + k);
            v = organ_section(&d->sections[i], s->sec[i], v);
        }
        s->rect[b + 1u] = s->rect[b + 1u] + organ_fabs(v);
        out[b].y = v;
    }
    if ((s->tick & 1u) && s->tick < 2u * d->n_bands + 6u) {
        organ_control(s);
    }
    s->tick = (uint8_t)(s->tick + 1u == d->ctl_period ? 0u : s->tick + 1u);
    for (b = 0; b < d->n_bands; b++) {
        out[b].env = s->ch[b + 1u].env_out;
        out[b].led = s->ch[b + 1u].led;
    }
}

#endif /* ORGAN_DSP_FLOAT_H */
