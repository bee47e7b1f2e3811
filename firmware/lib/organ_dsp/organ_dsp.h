/*
 * organ_dsp.h - the colour organ's DSP core (pure C99, no globals, caller-owned state).
 *
 * Compiled verbatim into the AVR / ESP32 firmware, the host tests, the native simulated board
 * and the fuzz harness.  docs/dsp.md has the derivations; this header is the contract.
 *
 * PIPELINE (one organ_process_sample() call per input sample)
 *   x (int16) -> DC blocker -> per band: (>> in_shift) -> sections -> y
 *   every sample, every channel (input + bands): window sum += |signal|
 *   control tasks after the odd samples 1, 3, .. 2 ctl_tasks - 1 of every round of ctl_period
 *   (even) samples, ctl_tasks = n_bands + 3 (one task per pair of samples; the rest of the
 *   round has none):
 *     task 0:            close the windows of all channels at once (window mean m)
 *     task 1:            input: envelope, smoother, slow average; thresholds, transient window
 *     task 2 + b:        band b: envelope, smoother, slow average, level, decision, hold time,
 *                        PWM brightness; the env and led outputs
 *     task n_bands + 2:  AGC reference, gate and brightness factor
 *   so every channel's control runs at ctl_hz = fs / ctl_period, no single sample pays for more
 *   than one task (nor does a pair of samples from an even tick), and an onset reaches the LEDs
 *   within a round and its tasks.  The slow parts (slow averages, the AGC task) run every
 *   ORGAN_SLOW_ROUNDS-th round only; their coefficients are made for that rate.
 *
 * FIXED POINT (default; AVR, ESP32-C3).  Samples int16 (full scale 32768).  All shifts are
 * arithmetic (floor); wrap-around arithmetic is done in uint32_t (defined in C), and the
 * conversion of a uint32_t >= 2^31 back to int32_t is two's complement (gcc, clang).
 *   DC blocker  H(z) = (1 - z^-1) / (1 - (1 - c) z^-1), c = dc_coef / 2^16:
 *               e = sat16(x - hi(M));  M += dc_coef * e;  M is Q16.16 (hi() = top 16 bits).
 *               The only saturation point besides HP1 outputs; counted in state.overflows.
 *   LP1 (bilinear first-order low-pass, b0 = b1 = b, a1 = 2b - 1): one product,
 *               u = x + x1 - 2 hi(Y);  Y += c * u  (c = round(b 2^16), Y Q16.16);  y = hi(Y).
 *               The quantizer proves |u| < 2^15 (it chooses in_shift so), and rounds c to a
 *               multiple of 256 where the response allows: then Y's low byte stays zero and
 *               the AVR keeps three bytes and multiplies by one.
 *   HP1 (bilinear high-pass with the same pole) is the complement: y = sat16(x - hi(Y)) with Y
 *               the LP1 recursion of the same cutoff (b_lp = 1 - b0_hp).
 *   BQ (biquad, "delta" form; low coefficient sensitivity for poles near z = 1):
 *               beta = 1 - a2, gamma = 1 + a1 + a2 (so a1 = beta + gamma - 2, a2 = 1 - beta;
 *               both > 0 for a stable section), each coefficient an integer mantissa with its
 *               own exponent: b_j = n_j 2^-(sh_num + 16) (n_j signed, <= 24 bits),
 *               beta = m_beta 2^-(sh_beta + 16), gamma = m_gamma 2^-(sh_gamma + 16) (unsigned,
 *               <= 24 bits); every shift a multiple of 8 in -8..24 (the AVR adds each partial
 *               product at a whole byte and never shifts).
 *               num = sum n_j x_j (exact);  Y, D Q16.16;  the only rounding is one floor of
 *               the exact increment:
 *               D += floor(num 2^-sh_num - m_beta hi(D) 2^-sh_beta - m_gamma hi(Y) 2^-sh_gamma)
 *               Y += D;   y = hi(Y)          (D and Y wrap mod 2^32; both proven in range)
 *               BQ_GAIN is the all-pole case (num = n_0 x).
 *   The quantizer (designer/quantize.py) proves, per band, from L1 norms of impulse responses
 *   plus a worst-case rounding-error bound, that no int16 node and no Q16.16 state can leave
 *   its range for any input, after choosing in_shift and the numerator scaling.
 *
 * THE STEP.  A fixed-point design's per-sample filter work is not interpreted from tables: the
 *   designer (designer/ctables.py) emits, with the tables, step functions for that design,
 *   unrolled, coefficients as constants, built from the inline kernels of organ_dsp_kernels.h
 *   (AVR assembly, or the portable C that computes the same bits): <name>_step (one sample,
 *   inlined), <name>_process (one sample out of line: organ_design_t.step, which
 *   organ_process_sample() runs) and <name>_step2 (two samples, each state object loaded once
 *   for both; the AVR ADC interrupt inlines it, so it saves only the registers the step uses,
 *   once per pair).  The steps write y every sample (step2: of its second sample) and env/led
 *   when the control tasks change them; organ_process_sample() writes every field every call.
 *
 * FLOAT (ORGAN_FLOAT, esp32dev): the same structures in float32 (x scaled by 1/32768), same
 *   operation order as the float32 oracle in designer/model_float.py; build with
 *   -ffp-contract=off.  No step: the sections are interpreted from the tables.
 *
 * LED DESIGN (both behaviours with the default parameters)
 *   Levels are mean |signal| over the window of one control round ("m-units"; the windows of all
 *   channels cover the same samples), then an attack/release one-pole (env), a symmetric
 *   smoother (sm, smoothing_ms) and a slow average (slow, slow_ms).  A band's level
 *   L = sm_band * norm (norm undoes the in_shift and section scaling), so for a steady tone
 *   L / sm_input = |H_band(f)| exactly in the mean (the DC blocker cancels).
 *   A band is lit when it passes the gate (L > max(squelch, AGC reference * gate)) and
 *     (A) spectral:  L >= on_threshold * sm_input (keep while L >= off_threshold * sm_input),
 *         unless the band is decaying (sm_band < slow_band / 4: the sound stopped), or
 *     (B) transient: sm_band >= onset * slow_band and either
 *         - it rose 6 dB more than the input did: L / max(slow_band * norm, gate) >
 *           2 sm_in / slow_in, or
 *         - in the ORGAN_TRANSIENT_MS after the first round of an onset of the input it holds
 *           share * sm_input and is at least as loud as the loudest band of the round before
 *           (a kick spread over two low bands lights the one it fills).
 *   (A) makes a settled tone light exactly the bands above -3 dB at any level, also at its
 *   onset: the share path goes to the loudest band only, which a tone lights by (A) anyway.
 *   (B) lets a quiet instrument light its band over a loud one (hi-hats over a kick tail) while
 *   leakage that rises together with the input (a kick in the mid band) does not; the gate
 *   floors the reference of a band that was silent.  The decay test and the gate, relative to
 *   the slowly released AGC reference, turn LEDs off in the gaps of music (within ~90 ms).
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

#ifdef __cplusplus
extern "C" {
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
/* Per-sample state bytes of the fixed-point step: 3 per window sum, then the filter state the
 * generated step lays out (at most 12 per section and 2 per band for shared input history). */
#define ORGAN_FS_BYTES (3 * (ORGAN_MAX_BANDS + 1) + 12 * ORGAN_MAX_SECTIONS + 2 * ORGAN_MAX_BANDS)

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

/* The transient rule's share path stays open this long after an onset of the input (ms). */
#define ORGAN_TRANSIENT_MS 20
/* A band is decaying when its smoothed level is below its slow average >> this (-12 dB). */
#define ORGAN_DECAY_SHIFT 2
/* The slow averages and the AGC run every this many control rounds (a power of two). */
#define ORGAN_SLOW_ROUNDS 4

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

/* One filter section of the float variant (the fixed-point step has its coefficients compiled
 * in): c[0] = b of the low-pass (LP1/HP1); BQ: c[0..2] numerator, c[3] = beta, c[4] = gamma. */
typedef struct {
    uint8_t kind;
    organ_coef_t c[5];
} organ_section_t;

typedef struct {
    uint8_t first_section; /* index into organ_design_t.sections (float) */
    uint8_t n_sections;
    uint8_t in_shift; /* fixed: band input = x_dc >> in_shift */
    organ_coef_t norm; /* fixed: Q8 level normalisation (uint16 bits); float: the factor */
} organ_band_t;

typedef struct organ_state organ_state_t;
typedef struct organ_band_out organ_band_out_t;
/* A design's per-sample step (fixed point, generated); see THE STEP above. */
typedef void (*organ_step_fn)(organ_state_t *s, int16_t x, organ_band_out_t *out);

/* The compiled-in design; designer/ctables.py emits one instance from a QuantizedDesign. */
typedef struct {
    uint8_t arithmetic;   /* ORGAN_ARITH_* the tables were made for */
    uint8_t max_bands;    /* ORGAN_MAX_BANDS / _SECTIONS as seen by the tables' compiler */
    uint8_t max_sections;
    uint8_t n_bands;
    uint16_t ctl_period;  /* samples per control round, even, >= 2 ctl_tasks = 2 n_bands + 6 */
    uint8_t rect_shift;   /* fixed: window sum >> rect_shift fits 16 bits */
    uint16_t ctl_hz;      /* round(fs / ctl_period), for ms -> coefficient conversions */
    uint16_t lvl_k;       /* fixed: Q16 m-units of a sine per unit amplitude, (2/pi) P / 2^rs */
    organ_coef_t dc_coef; /* fixed: Q16 (uint16 bits); float: c */
    const organ_section_t *sections; /* float only (fixed: 0) */
    const organ_band_t *bands;
    const char *const *band_names;
    const int32_t *param_defaults; /* ORGAN_N_PARAMS wire values */
    organ_step_fn step;            /* fixed only: the generated step (float: 0) */
} organ_design_t;

/* Parameters: wire values plus what organ_param_set() derives from them. */
typedef struct {
    uint16_t a_att, a_rel, a_sm, a_slow, a_agc; /* one-pole coefficients, Q16 (first: the AVR
                                                   control kernels address them) */
    uint16_t hold_ticks;                        /* hold_ms in control rounds */
    uint16_t squelch_m;                         /* squelch in m-units */
    uint16_t kb;                                /* brightness per m-unit at 0 dB, Q16 */
    uint8_t age_max;                            /* ORGAN_TRANSIENT_MS in control rounds */
    const organ_design_t *d;
    int32_t v[ORGAN_N_PARAMS];
} organ_params_t;

struct organ_band_out {
    organ_value_t y;   /* band filter output (fixed: int16; float: full scale 1.0) */
    organ_value_t env; /* band level sm (fixed: m-units, clamped to int16; float: mean |y|) */
    uint8_t led;       /* PWM value 0..255 (0 = off) */
};

/* Per channel ([0] = input, [1 + b] = band b): the control tasks' state, one record so that
 * a task addresses all of it from one pointer. */
typedef struct {
#ifdef ORGAN_FLOAT
    float env, sm, slow;      /* mean |v| */
    float m;                  /* window mean of the last round */
    float norm;               /* bands: level normalisation (organ_band_t.norm) */
    float level;              /* bands: level L = sm norm */
    float env_out;            /* bands: the env output */
#else
    uint32_t env, sm, slow;   /* Q16.16 m-units */
    uint16_t m;               /* window mean of the last round, m-units */
    uint16_t norm;            /* bands: level normalisation, Q8.8 (organ_band_t.norm) */
    uint16_t level;           /* bands: level L = sm norm, m-units (clamped to 16 bits) */
    int16_t env_out;          /* bands: the env output (sm, clamped to int16) */
#endif
    uint16_t hold;            /* bands: control rounds the LED keeps its state */
    uint8_t on, led;          /* bands: LED state, PWM value */
} organ_chan_t;

#ifndef ORGAN_FLOAT
/* What the band tasks share, set by the input task each round (one record: a task addresses
 * it from one pointer; the first four fields are organ_params_t's one-pole coefficients). */
typedef struct {
    uint16_t a_att, a_rel, a_sm, a_slow;   /* copied from the parameters */
    uint16_t gate, thr_on, thr_off, share; /* m-units, from the input level */
    uint16_t onset;                        /* the onset parameter, Q8.8 */
    uint16_t sm_in, slow_in;               /* the input channel's smoothed and slow levels */
    uint16_t gc;                           /* brightness factor, Q16 per m-unit */
    uint16_t lmax;                         /* loudest band level of the last round */
    uint16_t lmax_now;                     /* loudest band level of this round so far */
    uint16_t hold_ticks;                   /* copied from the parameters */
    uint8_t slow;                          /* this round updates the slow averages */
    uint8_t share_open;                    /* the transient rule's share path is open */
} organ_ctl_t;
#endif

struct organ_state {
#ifdef ORGAN_FLOAT
    uint16_t overflows;
    uint8_t tick;                         /* sample of the control round (= task index) */
    uint8_t rounds;                       /* control rounds, mod 256 */
    float dc_m;
    float rect[ORGAN_MAX_BANDS + 1];      /* window sums of |v| */
    float sec[ORGAN_MAX_SECTIONS][4];     /* per section: y, d, x1, x2 */
    float ref;                            /* AGC reference */
    float gate, thr_on, thr_off, share;   /* input-derived levels */
    float agc_g, gc;                      /* AGC gain, brightness factor */
    float lmax, lmax_now;                 /* loudest band level of the last round, this one */
    uint8_t share_open;                   /* the transient rule's share path is open */
#else
    /* The per-sample part first, at fixed offsets (the generated step addresses it):
     * 0 overflows, 2 tick, 4 dc_m, 8 fs[] = window sums (3 bytes little endian per channel),
     * then the filter state in the layout of the design's step. */
    uint16_t overflows;         /* saturation events (DC blocker, HP1), saturating count */
    uint8_t tick;               /* sample of the control round (= the task index) */
    uint8_t rounds;             /* control rounds, mod 256 (the slow tasks run every 4th) */
    int32_t dc_m;               /* DC blocker mean, Q16.16 */
    uint8_t fs[ORGAN_FS_BYTES];
    uint32_t ref;               /* AGC reference, Q16.16 m-units */
    uint16_t agc_g;             /* AGC gain, Q8.8 */
    organ_ctl_t g;
#endif
    const organ_design_t *d;
    const organ_params_t *p;
    uint8_t age;                /* control rounds since the input's onset (0: none) */
    organ_chan_t ch[ORGAN_MAX_BANDS + 1];
};

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
#ifndef ORGAN_FLOAT
/* For generated steps only: the control task of this sample (state.tick odd and below
 * 2 ctl_tasks; see PIPELINE).  A band's task writes its env and led to out as well. */
void organ_control(organ_state_t *s, organ_band_out_t *out);
#endif

#ifdef __cplusplus
}
#endif

#endif /* ORGAN_DSP_H */
