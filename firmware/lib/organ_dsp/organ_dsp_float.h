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
    s->dc_m = 0.0f;
    s->ref = 0.0f;
    s->gate = 0.0f;
    s->thr_on = 0.0f;
    s->thr_off = 0.0f;
    s->share = 0.0f;
    s->agc_g = 1.0f;
    s->gc = 0.0f;
    s->task = 0;
    s->chan = 0;
    s->overflows = 0;
    for (i = 0; i < ORGAN_MAX_BANDS; i++) {
        s->level[i] = 0.0f;
        s->on[i] = 0;
        s->flags[i] = 0;
        s->hold[i] = 0;
    }
    for (i = 0; i < ORGAN_MAX_BANDS + 1; i++) {
        organ_hot_t *h = &s->hot[i];
        organ_chan_state_t *c = &s->ch[i];
        h->rect = 0.0f;
        h->env_out = 0.0f;
        h->led = 0;
        c->env = 0.0f;
        c->sm = 0.0f;
        c->slow = 0.0f;
    }
    for (i = 0; i < ORGAN_MAX_SECTIONS; i++) {
        organ_sec_state_t *q = &s->sec[i];
        q->y = 0.0f;
        q->d = 0.0f;
        q->x1 = 0.0f;
        q->x2 = 0.0f;
    }
}

static float organ_section(const organ_section_t *sd, organ_sec_state_t *q, float x)
{
    float y = q->y;
    if (sd->kind <= ORGAN_SEC_HP1) {
        float u = x + q->x1;
        u = u - 2.0f * y;
        y = y + sd->c[0] * u;
        q->y = y;
        q->x1 = x;
        return sd->kind == ORGAN_SEC_LP1 ? y : x - y;
    } else {
        float d = q->d;
        float t = sd->c[0] * x;
        if (sd->kind == ORGAN_SEC_BQ) {
            t = t + sd->c[1] * q->x1;
            t = t + sd->c[2] * q->x2;
            q->x2 = q->x1;
            q->x1 = x;
        }
        t = t - sd->c[3] * d;
        t = t - sd->c[4] * y;
        d = d + t;
        y = y + d;
        q->d = d;
        q->y = y;
        return y;
    }
}

static void organ_onepole(float *st, float target, uint16_t a_up, uint16_t a_down)
{
    float a = (float)(target > *st ? a_up : a_down) * ORGAN_F_Q16;
    *st = *st + (target - *st) * a;
}

static void organ_ctl_env(organ_state_t *s, uint8_t ch)
{
    float m = s->hot[ch].rect / (float)s->d->ctl_period;
    s->hot[ch].rect = 0.0f;
    organ_onepole(&s->ch[ch].env, m, s->p->a_att, s->p->a_rel);
}

static void organ_ctl_ref(organ_state_t *s)
{
    const organ_params_t *p = s->p;
    float sm = s->ch[0].sm;
    float sq = (float)p->v[ORGAN_P_SQUELCH] * ORGAN_F_SINE_LEVEL;
    float g;
    if (sm >= s->ref) {
        s->ref = sm;
    } else {
        organ_onepole(&s->ref, sm, 0u, p->a_agc);
    }
    g = s->ref * ((float)p->v[ORGAN_P_GATE] * ORGAN_F_Q15);
    s->gate = g > sq ? g : sq;
}

static void organ_ctl_thresholds(organ_state_t *s)
{
    const organ_params_t *p = s->p;
    float sm = s->ch[0].sm;
    s->thr_on = sm * ((float)p->v[ORGAN_P_ON_THRESHOLD] * ORGAN_F_Q15);
    s->thr_off = sm * ((float)p->v[ORGAN_P_OFF_THRESHOLD] * ORGAN_F_Q15);
    s->share = sm * ((float)p->v[ORGAN_P_SHARE] * ORGAN_F_Q15);
}

static void organ_ctl_agc(organ_state_t *s)
{
    const organ_params_t *p = s->p;
    float g;
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

#define ORGAN_F_GATE 1u
#define ORGAN_F_A 2u
#define ORGAN_F_ONSET 4u
#define ORGAN_F_SHARE 8u

static void organ_ctl_level(organ_state_t *s, uint8_t b)
{
    const organ_chan_state_t *c = &s->ch[b + 1u];
    float lv = c->sm * s->d->bands[b].norm;
    uint8_t f = 0;
    s->level[b] = lv;
    if (lv > s->gate) {
        f |= ORGAN_F_GATE;
    }
    if (lv >= (s->on[b] ? s->thr_off : s->thr_on)) {
        f |= ORGAN_F_A;
    }
    if (c->sm >= c->slow * ((float)s->p->v[ORGAN_P_ONSET] * (1.0f / 256.0f))) {
        f |= ORGAN_F_ONSET;
    }
    if (lv >= s->share) {
        f |= ORGAN_F_SHARE;
    }
    s->flags[b] = f;
}

static void organ_ctl_decide(organ_state_t *s, uint8_t b)
{
    uint8_t f = s->flags[b];
    uint8_t want = 0;
    if (f & ORGAN_F_GATE) {
        if (f & ORGAN_F_A) {
            want = 1;
        } else if (f & ORGAN_F_ONSET) {
            if (f & ORGAN_F_SHARE) {
                want = 1;
            } else {
                float fl = s->ch[b + 1u].slow * s->d->bands[b].norm;
                if (fl < s->gate) {
                    fl = s->gate;
                }
                if ((s->level[b] * s->ch[0].slow) * 0.5f > fl * s->ch[0].sm) {
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

static void organ_ctl_led(organ_state_t *s, uint8_t b)
{
    uint8_t led = 0;
    if (s->on[b]) {
        float lin = s->level[b] * s->gc;
        led = organ_gamma(lin >= 255.0f ? (uint8_t)255u : (uint8_t)lin);
        if (led == 0u) {
            led = 1u;
        }
    }
    s->hot[b + 1u].led = led;
}

static void organ_control(organ_state_t *s)
{
    uint8_t ch = s->chan;
    uint8_t task = s->task;
    organ_chan_state_t *c = &s->ch[ch];
    const organ_params_t *p = s->p;
    switch (task) {
    case 0:
        organ_ctl_env(s, ch);
        break;
    case 1:
        organ_onepole(&c->sm, c->env, p->a_sm, p->a_sm);
        if (ch != 0u) {
            s->hot[ch].env_out = c->sm;
        }
        break;
    case 2:
        organ_onepole(&c->slow, c->sm, p->a_slow, p->a_slow);
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

void organ_process_sample(organ_state_t *s, int16_t x, organ_band_out_t *out)
{
    const organ_design_t *d = s->d;
    float xd = (float)x * ORGAN_F_Q15;
    uint8_t b;
    xd = xd - s->dc_m;
    s->dc_m = s->dc_m + d->dc_coef * xd;
    s->hot[0].rect = s->hot[0].rect + organ_fabs(xd);
    for (b = 0; b < d->n_bands; b++) {
        const organ_band_t *bd = &d->bands[b];
        organ_hot_t *h = &s->hot[b + 1u];
        float v = xd;
        uint8_t k;
        for (k = 0; k < bd->n_sections; k++) {
            v = organ_section(&d->sections[bd->first_section + k],
                              &s->sec[bd->first_section + k], v);
        }
        h->rect = h->rect + organ_fabs(v);
        out[b].y = v;
        out[b].env = h->env_out;
        out[b].led = h->led;
    }
    organ_control(s);
}

#endif /* ORGAN_DSP_FLOAT_H */
