/*
 * organ_dsp.h - the colour organ's DSP core (pure C99, no globals, caller-owned state).
 *
 * Compiled verbatim into the AVR / ESP32 firmware, the host tests, the native simulated board
 * and the fuzz harness.  docs/dsp.md has the derivations; this header is the contract.
 *
 * PIPELINE (one organ_process_sample() call per input sample)
 *   x (int16) -> DC blocker -> per band: (>> in_shift) -> sections -> y
 *   every sample, every channel (input + bands): rect += |signal|           (cheap part)
 *   one control micro-task per sample, round robin over 6 tasks x (n_bands + 1) channels:
 *     tasks 0-2: window mean |.| -> attack/release envelope, smoother (sm), slow average
 *     task 3:  input: AGC reference and gate       band: level, rule A, onset, share flags
 *     task 4:  input: thresholds                   band: relative onset, decision, hold time
 *     task 5:  input: AGC gain loop                band: PWM brightness
 *   so every channel's control runs at ctl_hz = fs / ctl_period, ctl_period = 6 (n_bands + 1),
 *   and no single sample pays for more than one small task (the AVR cycle budget).
 *
 * FIXED POINT (default; AVR, ESP32-C3).  Samples int16 (full scale 32768).  All shifts are
 * arithmetic (floor); wrap-around arithmetic is done in uint32_t (defined in C), and the
 * conversion of a uint32_t >= 2^31 back to int32_t is two's complement (gcc, clang).
 *   DC blocker  H(z) = (1 - z^-1) / (1 - (1 - c) z^-1), c = dc_coef / 2^16:
 *               e = sat16(x - hi(M));  M += dc_coef * e;  M is Q16.16 (hi() = top 16 bits).
 *               The only saturation point besides HP1 outputs; counted in state.overflows.
 *   LP1 (bilinear first-order low-pass, b0 = b1 = b, a1 = 2b - 1): one product,
 *               u = x + x1 - 2 hi(Y);  Y += c * u  (c = round(b 2^16), Y Q16.16);  y = hi(Y).
 *   HP1 (bilinear high-pass with the same pole) is the complement: y = sat16(x - hi(Y)) with Y
 *               the LP1 recursion of the same cutoff (b_lp = 1 - b0_hp).
 *   BQ (biquad, "delta" form; low coefficient sensitivity for poles near z = 1):
 *               beta = 1 - a2, gamma = 1 + a1 + a2 (so a1 = beta + gamma - 2, a2 = 1 - beta)
 *               num  = sum b_j x_j                  (int16 mantissas, exponent sh_num + 16)
 *               pole = m_beta hi(D) + m_gamma hi(Y)  (int16 mantissas, exponent sh_pole + 16)
 *               D += (num >> sh_num) - (pole >> sh_pole);   Y += D;   y = hi(Y)   (Y, D Q16.16)
 *               BQ_GAIN is the all-pole case (num = b0 x).  A negative shift is a left shift.
 *   The quantizer (designer/quantize.py) proves, per band, from L1 norms of impulse responses
 *   plus a worst-case rounding-error bound, that no int16 node and no Q16.16 state can leave
 *   its range for any input, after choosing in_shift and the numerator scaling.
 *
 * FLOAT (ORGAN_FLOAT, esp32dev): the same structures in float32 (x scaled by 1/32768), same
 *   operation order as the float32 oracle in designer/model_float.py; build with
 *   -ffp-contract=off.
 *
 * AVR: organ_dsp_mul.h, organ_dsp_kernels.h and organ_dsp_avr.h hold inline assembly (MUL,
 *   MULS, MULSU) for the hot path, each next to the portable C it matches bit for bit;
 *   -DORGAN_NO_ASM builds the C.  Cycle counts: benchmarks/avr_dsp_cycles.py, docs/dsp.md.
 *
 * LED DESIGN (both behaviours with the default parameters)
 *   Levels are mean |signal| over the ctl_period window ("m-units"), then an attack/release
 *   one-pole (env), a symmetric smoother (sm, smoothing_ms) and a slow average (slow, slow_ms).
 *   A band's level L = sm_band * norm (norm undoes the in_shift and section scaling), so for a
 *   steady tone L / sm_input = |H_band(f)| exactly in the mean (the DC blocker cancels).
 *   A band is lit when it passes the gate (L > max(squelch, AGC reference * gate)) and
 *     (A) spectral:  L >= on_threshold * sm_input (keep while L >= off_threshold * sm_input), or
 *     (B) transient: sm_band >= onset * slow_band and (L >= share * sm_input, or the band rose
 *         6 dB more than the input did: L / max(slow_band * norm, gate) > 2 sm_in / slow_in).
 *   (A) makes a settled tone light exactly the bands above -3 dB at any level (B is off once
 *   sm == slow).  (B) lets a quiet instrument light its band over a loud one (hi-hats over a
 *   kick tail) while leakage that rises together with the input (a kick in the mid band) does
 *   not; the gate floors the reference of a band that was silent.  The gate, relative to the
 *   slowly released AGC reference, also turns LEDs off in the gaps of loud music.
 *   AGC only scales PWM brightness: brightness = gamma[L * gc], gc adapted so the reference
 *   reads 224..255 (agc = 1) or set from gain (agc = 0).  hold_ms keeps an LED in its state
 *   for at least that long after a change (0 = off), e.g. to keep flashing under 3 Hz.
 */
#ifndef ORGAN_DSP_H
#define ORGAN_DSP_H

#include <stdint.h>

#if defined(ORGAN_CONFIG_H)
#include ORGAN_CONFIG_H
#endif

/* Sizes of the state arrays.  Every translation unit must see the same values: set them with
 * build flags (-DORGAN_MAX_BANDS=3 ...) or ORGAN_CONFIG_H; organ_init() refuses a design whose
 * tables were compiled with other values (ORGAN_ERR_LAYOUT). */
#ifndef ORGAN_MAX_BANDS
#define ORGAN_MAX_BANDS 8
#endif
#ifndef ORGAN_MAX_SECTIONS
#define ORGAN_MAX_SECTIONS 16
#endif

/* return codes */
#define ORGAN_OK 0
#define ORGAN_ERR_ID (-1)     /* unknown parameter id */
#define ORGAN_ERR_RANGE (-2)  /* parameter value outside [min, max] */
#define ORGAN_ERR_DESIGN (-3) /* malformed design tables */
#define ORGAN_ERR_LAYOUT (-4) /* design compiled with other ORGAN_MAX_* or arithmetic */

/* section kinds */
#define ORGAN_SEC_LP1 1
#define ORGAN_SEC_HP1 2
#define ORGAN_SEC_BQ_GAIN 3
#define ORGAN_SEC_BQ 4

/* runtime parameters: ids are the wire ids of GET/SET; designer/params.py mirrors this list */
#define ORGAN_P_GAIN 0          /* brightness gain with AGC off, Q8.8 linear (256 = 0 dB) */
#define ORGAN_P_AGC 1           /* 1 = AGC scales brightness, 0 = fixed gain */
#define ORGAN_P_SQUELCH 2       /* absolute gate, sine peak as Q15 fraction of full scale */
#define ORGAN_P_GATE 3          /* gate relative to the AGC reference, Q15 ratio */
#define ORGAN_P_ON_THRESHOLD 4  /* band level / input level to turn on, Q15 ratio */
#define ORGAN_P_OFF_THRESHOLD 5 /* band level / input level to stay on, Q15 ratio */
#define ORGAN_P_ATTACK_MS 6     /* envelope attack time constant, ms */
#define ORGAN_P_RELEASE_MS 7    /* envelope release time constant, ms */
#define ORGAN_P_HOLD_MS 8       /* minimum on/off time, ms (0 = off) */
#define ORGAN_P_SMOOTHING_MS 9  /* decision smoother time constant, ms */
#define ORGAN_P_ONSET 10        /* transient rule: rise over the slow average, Q8.8 ratio */
#define ORGAN_P_SLOW_MS 11      /* slow average time constant, ms */
#define ORGAN_P_AGC_RELEASE_MS 12 /* AGC reference release time constant, ms */
#define ORGAN_P_SHARE 13        /* transient rule: minimum share of the input level, Q15 */
#define ORGAN_N_PARAMS 14

/* control micro-tasks per channel; ctl_period = ORGAN_TASKS (n_bands + 1) */
#define ORGAN_TASKS 6

#define ORGAN_ARITH_FIXED 0
#define ORGAN_ARITH_FLOAT 1

#ifdef ORGAN_FLOAT
typedef float organ_coef_t;
typedef float organ_value_t;
#define ORGAN_ARITH ORGAN_ARITH_FLOAT
#else
typedef int16_t organ_coef_t;
typedef int16_t organ_value_t;
#define ORGAN_ARITH ORGAN_ARITH_FIXED
#endif

/* One filter section.  Fixed point: LP1/HP1 use c[0] as an unsigned Q16 coefficient (read
 * through uint16_t); BQ uses c[0..2] = numerator mantissas, c[3] = m_beta, c[4] = m_gamma.
 * Float: the same slots hold the real coefficients (LP1/HP1: c[0] = b of the low-pass). */
typedef struct {
    uint8_t kind;
    int8_t sh_num;  /* fixed BQ: numerator exponent - 16 */
    int8_t sh_pole; /* fixed BQ: pole exponent - 16 */
    organ_coef_t c[5];
} organ_section_t;

typedef struct {
    uint8_t first_section; /* index into organ_design_t.sections */
    uint8_t n_sections;
    uint8_t in_shift; /* fixed: band input = x_dc >> in_shift */
    organ_coef_t norm; /* fixed: Q8 level normalisation (uint16 bits); float: the factor */
} organ_band_t;

/* The compiled-in design; designer/ctables.py emits one instance from a QuantizedDesign. */
typedef struct {
    uint8_t arithmetic;   /* ORGAN_ARITH_* the tables were made for */
    uint8_t max_bands;    /* ORGAN_MAX_BANDS / _SECTIONS as seen by the tables' compiler */
    uint8_t max_sections;
    uint8_t n_bands;
    uint8_t ctl_period;   /* samples per control round = ORGAN_TASKS (n_bands + 1) */
    uint8_t rect_shift;   /* fixed: window sum >> rect_shift fits 16 bits */
    uint16_t ctl_hz;      /* round(fs / ctl_period), for ms -> coefficient conversions */
    uint16_t lvl_k;       /* fixed: Q16 m-units of a sine per unit amplitude, (2/pi) P / 2^rs */
    organ_coef_t dc_coef; /* fixed: Q16 (uint16 bits); float: c */
    const organ_section_t *sections;
    const organ_band_t *bands;
    const char *const *band_names;
    const int32_t *param_defaults; /* ORGAN_N_PARAMS wire values */
} organ_design_t;

/* Parameters: wire values plus what organ_param_set() derives from them. */
typedef struct {
    const organ_design_t *d;
    int32_t v[ORGAN_N_PARAMS];
    uint16_t a_att, a_rel, a_sm, a_slow, a_agc; /* one-pole coefficients, Q16 */
    uint16_t hold_ticks;                        /* hold_ms in control rounds */
    uint16_t squelch_m;                         /* squelch in m-units */
    uint16_t kb;                                /* brightness per m-unit at 0 dB, Q16 */
} organ_params_t;

typedef struct {
    organ_value_t y;   /* band filter output (fixed: int16; float: full scale 1.0) */
    organ_value_t env; /* band level sm (fixed: m-units, clamped to int16; float: mean |y|) */
    uint8_t led;       /* PWM value 0..255 (0 = off) */
} organ_band_out_t;

typedef struct {
#ifdef ORGAN_FLOAT
    float y, d;
#else
    int32_t y, d; /* Q16.16; LP1/HP1 keep a copy of their coefficient and kind in d (reset) */
#endif
    organ_value_t x1, x2; /* previous section inputs */
} organ_sec_state_t;

/* Per channel, touched every sample ([0] = input, [1 + b] = band b). */
typedef struct {
#ifdef ORGAN_FLOAT
    float rect;           /* window sum of |v| */
#else
    uint16_t rect_lo;     /* window sum of |v|: 24 bits, rect_lo + 65536 rect_hi */
    uint8_t rect_hi;
#endif
    uint8_t in_shift;     /* bands: copied from the design by organ_init() */
    uint8_t n_sections;
    uint8_t fo;           /* 1: LP1/HP1 sections only */
    organ_value_t env_out; /* the env output, updated by control task 1 */
    uint8_t led;          /* the led output */
} organ_hot_t;

/* Per channel, touched by the control tasks. */
typedef struct {
#ifdef ORGAN_FLOAT
    float env, sm, slow;
#else
    uint32_t env, sm, slow; /* Q16.16 m-units */
#endif
} organ_chan_state_t;

typedef struct {
    const organ_design_t *d;
    const organ_params_t *p;
#ifdef ORGAN_FLOAT
    float dc_m;
    float ref;                  /* AGC reference */
    float gate, thr_on, thr_off, share; /* input-derived levels */
    float agc_g, gc;            /* AGC gain, brightness factor */
    float level[ORGAN_MAX_BANDS];
#else
    int32_t dc_m;               /* DC blocker mean, Q16.16 */
    uint32_t ref;               /* AGC reference, Q16.16 m-units */
    uint16_t gate, thr_on, thr_off, share; /* m-units */
    uint16_t agc_g;             /* AGC gain, Q8.8 */
    uint16_t gc;                /* brightness factor, Q16 per m-unit */
    uint32_t level[ORGAN_MAX_BANDS]; /* band level L, m-units */
#endif
    uint8_t task, chan;         /* control round position */
    uint8_t all_fo;             /* every band is LP1/HP1 only (set by init) */
    uint16_t overflows;         /* saturation events (DC blocker, HP1), saturating count */
    uint8_t on[ORGAN_MAX_BANDS];
    uint8_t flags[ORGAN_MAX_BANDS]; /* decision parts computed by control task 3 */
    uint16_t hold[ORGAN_MAX_BANDS];
    organ_hot_t hot[ORGAN_MAX_BANDS + 1];
    organ_chan_state_t ch[ORGAN_MAX_BANDS + 1];
    organ_sec_state_t sec[ORGAN_MAX_SECTIONS];
} organ_state_t;

/* Copy the design's default parameter values into p and derive the coefficients. */
void organ_params_default(const organ_design_t *d, organ_params_t *p);
/* Bind state to design and parameters (both must outlive s) and reset it. */
int organ_init(organ_state_t *s, const organ_design_t *d, const organ_params_t *p);
/* Filter, envelope, AGC and LED state to zero (parameters untouched). */
void organ_reset(organ_state_t *s);
/* One input sample; writes n_bands results to out. */
void organ_process_sample(organ_state_t *s, int16_t x, organ_band_out_t *out);
int organ_param_get(const organ_params_t *p, uint8_t id, int32_t *value);
/* Bounds-checked; recomputes the derived coefficients (call from the main loop, not an ISR). */
int organ_param_set(organ_params_t *p, uint8_t id, int32_t value);
/* Bounds of a parameter (for the host and the tests); ORGAN_ERR_ID for an unknown id. */
int organ_param_info(uint8_t id, int32_t *min, int32_t *max, int32_t *fallback);

#endif /* ORGAN_DSP_H */
