/*
 * organ_dsp_kernels.h - the inline kernels of the fixed-point core: the pieces a generated step
 * (designer/ctables.py) is built from.
 *
 * Every kernel has a portable C definition here and, on an AVR with a hardware multiplier, an
 * assembly definition in organ_dsp_avr.h that computes the same bits (-DORGAN_NO_ASM forces C);
 * a biquad's AVR assembly is written by the designer for its constants (designer/cstep_avr.py),
 * next to a call of the portable organ_k_bq.
 * Filter state lives in organ_state_t's bytes b = (uint8_t *)s at constant byte offsets o (on
 * AVR an ldd/std displacement, so o <= 64 - size): a step loads a state object into a local
 * (organ_ld16/24/32), runs the kernel on it once per sample, and stores it back - the two-
 * sample step runs a kernel twice between one load and one store.  Multi-byte state is little
 * endian, read and written byte by byte in C, so the layout is the same on every target.
 */
#ifndef ORGAN_DSP_KERNELS_H
#define ORGAN_DSP_KERNELS_H

#include <stddef.h>

#include "organ_dsp.h"
#include "organ_dsp_mul.h"

/* The generated steps are inlined where the firmware calls them (the AVR interrupt). */
#define ORGAN_STEP_INLINE ORGAN_INLINE

#ifndef ORGAN_FLOAT

/* The byte offsets the generated steps use (designer/ctables.py): the saturation count, the DC
 * mean and the window sums. */
typedef char organ_check_step_layout[(offsetof(organ_state_t, overflows) == 0 &&
                                      offsetof(organ_state_t, dc_m) == 4 &&
                                      offsetof(organ_state_t, fs) == 8) ? 1 : -1];

#if ORGAN_AVR_ASM
typedef __uint24 organ_u24; /* avr-gcc's 24-bit integers: three registers */
typedef __int24 organ_s24;
#include "organ_dsp_avr.h"
#else
typedef uint32_t organ_u24; /* a 24-bit value; the kernels keep bits 24..31 zero */
typedef int32_t organ_s24;  /* a signed value of at most 24 bits */

ORGAN_INLINE int16_t organ_ld16(const uint8_t *b, uint8_t o)
{
    return (int16_t)(uint16_t)((uint16_t)b[o] | ((uint16_t)b[o + 1] << 8));
}

ORGAN_INLINE void organ_st16(uint8_t *b, uint8_t o, int16_t v)
{
    b[o] = (uint8_t)(uint16_t)v;
    b[o + 1] = (uint8_t)((uint16_t)v >> 8);
}

ORGAN_INLINE organ_u24 organ_ld24(const uint8_t *b, uint8_t o)
{
    return (uint32_t)b[o] | ((uint32_t)b[o + 1] << 8) | ((uint32_t)b[o + 2] << 16);
}

ORGAN_INLINE void organ_st24(uint8_t *b, uint8_t o, organ_u24 v)
{
    b[o] = (uint8_t)v;
    b[o + 1] = (uint8_t)(v >> 8);
    b[o + 2] = (uint8_t)(v >> 16);
}

ORGAN_INLINE uint32_t organ_ld32(const uint8_t *b, uint8_t o)
{
    return (uint32_t)organ_ld24(b, o) | ((uint32_t)b[o + 3] << 24);
}

ORGAN_INLINE void organ_st32(uint8_t *b, uint8_t o, uint32_t v)
{
    organ_st24(b, o, v & 0xFFFFFFu);
    b[o + 3] = (uint8_t)(v >> 24);
}

/* Top 16 bits of a wrapped Q16.16 value (arithmetic: floor). */
ORGAN_INLINE int16_t organ_hi(uint32_t v)
{
    return (int16_t)(uint16_t)(v >> 16);
}

/* state.overflows (offset 0) += 1, saturating */
ORGAN_INLINE void organ_count_overflow(uint8_t *b)
{
    uint16_t n = (uint16_t)organ_ld16(b, 0);
    if (n != 0xFFFFu) {
        organ_st16(b, 0, (int16_t)(uint16_t)(n + 1u));
    }
}

/* DC blocker: e = sat16(x - hi(M)); M += c e (c <= 255, Q16); a saturation is counted. */
ORGAN_INLINE int16_t organ_k_dc(uint8_t *b, uint32_t *m, int16_t x, uint8_t c)
{
    int32_t t = (int32_t)x - organ_hi(*m);
    int16_t e;
    if (t > 32767) {
        e = 32767;
        organ_count_overflow(b);
    } else if (t < -32768) {
        e = -32768;
        organ_count_overflow(b);
    } else {
        e = (int16_t)t;
    }
    *m += (uint32_t)((int32_t)e * c);
    return e;
}

/* Window sum (24 bits) += |v|. */
ORGAN_INLINE void organ_k_rect(organ_u24 *w, int16_t v)
{
    *w = (*w + (uint32_t)(v < 0 ? -(int32_t)v : v)) & 0xFFFFFFu;
}

/* v >> n (arithmetic) for a constant n. */
ORGAN_INLINE int16_t organ_k_shr(int16_t v, uint8_t n)
{
    return (int16_t)(v >> n);
}

/* a + b mod 2^16: the input pair x + x1 of a first-order section (only u = pair - 2 hi(Y) is
 * used, which the quantizer proves in int16). */
ORGAN_INLINE int16_t organ_k_add(int16_t a, int16_t b)
{
    return (int16_t)(uint16_t)((uint16_t)a + (uint16_t)b);
}

/* First-order recursion, coefficient c = 256 m: Y (Q16.16) keeps its low byte zero, so y holds
 * Y's bits 8..31.  u = pair - 2 hi(Y) (int16); Y += 256 m u; returns hi(Y). */
ORGAN_INLINE int16_t organ_k_fo8(organ_u24 *y, uint8_t m, int16_t pair)
{
    uint16_t h = (uint16_t)(*y >> 8);
    uint16_t u = (uint16_t)((uint16_t)pair - 2u * h);
    *y = (*y + (uint32_t)m * (uint32_t)(int32_t)(int16_t)u) & 0xFFFFFFu;
    return (int16_t)(uint16_t)(*y >> 8);
}

/* First-order recursion, any Q16 coefficient c: Y += c u. */
ORGAN_INLINE int16_t organ_k_fo16(uint32_t *y, uint16_t c, int16_t pair)
{
    uint16_t u = (uint16_t)((uint16_t)pair - 2u * (uint16_t)organ_hi(*y));
    *y += (uint32_t)c * (uint32_t)(int32_t)(int16_t)u;
    return organ_hi(*y);
}

/* HP1 output: sat16(x - h); a saturation is counted. */
ORGAN_INLINE int16_t organ_k_hp(uint8_t *b, int16_t x, int16_t h)
{
    int32_t r = (int32_t)x - h;
    if (r > 32767 || r < -32768) {
        organ_count_overflow(b);
        return r > 0 ? 32767 : -32768;
    }
    return (int16_t)r;
}

/* The biquad's state increment (organ_dsp.h, BQ): the exact sum of terms p 2^-sh (-16 <= sh
 * <= 24), floored: integer parts mod 2^32 in i, fractions in units of 2^-24 in f (a remainder
 * is never negative, so f only grows; six terms stay below 2^27). */
typedef struct {
    uint32_t i;
    uint32_t f;
} organ_inc_t;

ORGAN_INLINE void organ_inc_add(organ_inc_t *a, int32_t p, int8_t sh)
{
    if (sh <= 0) {
        a->i += (uint32_t)p << (uint8_t)-sh;
    } else {
        a->i += (uint32_t)(p >> sh);
        a->f += ((uint32_t)p & (((uint32_t)1 << sh) - 1u)) << (24 - sh);
    }
}

/* a -= m h 2^-sh, m unsigned of at most 24 bits: two products that fit int32 */
ORGAN_INLINE void organ_inc_pole(organ_inc_t *a, uint32_t m, int16_t h, int8_t sh)
{
    organ_inc_add(a, -((int32_t)(m >> 8) * h), (int8_t)(sh - 8));
    organ_inc_add(a, -((int32_t)(m & 255u) * h), sh);
}

/* One biquad sample on the state Y, D at b + o (organ_dsp.h, BQ): n1 2^-sh1 + n2 2^-sh2 is the
 * numerator (exact int32 terms), mb / mg the pole mantissas with their shifts; returns y. */
ORGAN_INLINE int16_t organ_k_bq(uint8_t *b, uint8_t o, int32_t n1, int8_t sh1, int32_t n2,
                                int8_t sh2, uint32_t mb, int8_t shb, uint32_t mg, int8_t shg)
{
    uint32_t y = organ_ld32(b, o);
    uint32_t d = organ_ld32(b, (uint8_t)(o + 4u));
    organ_inc_t a;
    a.i = 0u;
    a.f = 0u;
    organ_inc_add(&a, n1, sh1);
    organ_inc_add(&a, n2, sh2);
    organ_inc_pole(&a, mb, organ_hi(d), shb);
    organ_inc_pole(&a, mg, organ_hi(y), shg);
    d += a.i + (a.f >> 24);
    y += d;
    organ_st32(b, o, y);
    organ_st32(b, (uint8_t)(o + 4u), d);
    return organ_hi(y);
}

#endif /* ORGAN_AVR_ASM */

/* The control task of this sample (organ_control).  On AVR a plain call whose clobbers the
 * compiler knows: the step is inlined in an interrupt that saves those registers anyway. */
ORGAN_INLINE void organ_k_control(organ_state_t *s, organ_band_out_t *out)
{
#if ORGAN_AVR_ASM
    register organ_state_t *a0 __asm__("r24") = s;
    register organ_band_out_t *a1 __asm__("r22") = out;
    __asm__ __volatile__("call  %x[f]  \n\t"
                         : "+r"(a0), "+r"(a1)
                         : [f] "i"(organ_control)
                         : "r0", "r18", "r19", "r20", "r21", "r26", "r27", "r30", "r31",
                           "memory");
#else
    organ_control(s, out);
#endif
}

#endif /* ORGAN_FLOAT */

#endif /* ORGAN_DSP_KERNELS_H */
