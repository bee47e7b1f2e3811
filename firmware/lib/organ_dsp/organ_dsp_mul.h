/*
 * organ_dsp_mul.h - private: the multiply primitives of the fixed-point core.
 *
 * Each has a portable C definition and, on AVR with a hardware multiplier, inline assembly
 * (MUL / MULS / MULSU) that returns the identical bits: every primitive is an exact product
 * reduced modulo 2^32, so there is no rounding to disagree about.  Define ORGAN_NO_ASM to force
 * the C versions (the AVR bit-exactness test runs both builds).
 */
#ifndef ORGAN_DSP_MUL_H
#define ORGAN_DSP_MUL_H

#include <stdint.h>

/* Force inlining on GCC-compatible compilers: at -Os avr-gcc would otherwise call these. */
#if defined(__GNUC__)
#define ORGAN_INLINE static inline __attribute__((always_inline))
#define ORGAN_NOINLINE static __attribute__((noinline))
#define ORGAN_API_NOINLINE __attribute__((noinline))
#else
#define ORGAN_API_NOINLINE
#define ORGAN_INLINE static inline
#define ORGAN_NOINLINE static
#endif

#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) && !defined(ORGAN_NO_ASM)
#define ORGAN_AVR_ASM 1
#else
#define ORGAN_AVR_ASM 0
#endif

#if ORGAN_AVR_ASM

/* MUL* write r1:r0, so each routine clears its own zero register z and restores r1
 * (__zero_reg__) at the end; r0 (__tmp_reg__) is free for inline assembly. */

/* signed 16 x signed 16 -> 32 (after Atmel AVR201, muls16x16_32) */
ORGAN_INLINE int32_t organ_mul_ss(int16_t a, int16_t b)
{
    int32_t r;
    uint8_t z;
    __asm__ __volatile__(
        "clr   %1            \n\t"
        "muls  %B2, %B3      \n\t"
        "movw  %C0, r0       \n\t"
        "mul   %A2, %A3      \n\t"
        "movw  %A0, r0       \n\t"
        "mulsu %B2, %A3      \n\t"
        "sbc   %D0, %1       \n\t"
        "add   %B0, r0       \n\t"
        "adc   %C0, r1       \n\t"
        "adc   %D0, %1       \n\t"
        "mulsu %B3, %A2      \n\t"
        "sbc   %D0, %1       \n\t"
        "add   %B0, r0       \n\t"
        "adc   %C0, r1       \n\t"
        "adc   %D0, %1       \n\t"
        "clr   __zero_reg__  \n\t"
        : "=&r"(r), "=&r"(z)
        : "a"(a), "a"(b));
    return r;
}

/* acc + a * b (signed 16 x signed 16), modulo 2^32 (AVR201 mac16x16_32) */
ORGAN_INLINE uint32_t organ_mac_ss(uint32_t acc, int16_t a, int16_t b)
{
    uint8_t z;
    __asm__ __volatile__(
        "clr   %1            \n\t"
        "muls  %B2, %B3      \n\t"
        "add   %C0, r0       \n\t"
        "adc   %D0, r1       \n\t"
        "mul   %A2, %A3      \n\t"
        "add   %A0, r0       \n\t"
        "adc   %B0, r1       \n\t"
        "adc   %C0, %1       \n\t"
        "adc   %D0, %1       \n\t"
        "mulsu %B2, %A3      \n\t"
        "sbc   %D0, %1       \n\t"
        "add   %B0, r0       \n\t"
        "adc   %C0, r1       \n\t"
        "adc   %D0, %1       \n\t"
        "mulsu %B3, %A2      \n\t"
        "sbc   %D0, %1       \n\t"
        "add   %B0, r0       \n\t"
        "adc   %C0, r1       \n\t"
        "adc   %D0, %1       \n\t"
        "clr   __zero_reg__  \n\t"
        : "+r"(acc), "=&r"(z)
        : "a"(a), "a"(b));
    return acc;
}

/* unsigned 16 x unsigned 16 -> 32 (AVR201 mul16x16_32) */
ORGAN_INLINE uint32_t organ_mul_uu(uint16_t a, uint16_t b)
{
    uint32_t r;
    uint8_t z;
    __asm__ __volatile__(
        "clr   %1            \n\t"
        "mul   %B2, %B3      \n\t"
        "movw  %C0, r0       \n\t"
        "mul   %A2, %A3      \n\t"
        "movw  %A0, r0       \n\t"
        "mul   %B2, %A3      \n\t"
        "add   %B0, r0       \n\t"
        "adc   %C0, r1       \n\t"
        "adc   %D0, %1       \n\t"
        "mul   %B3, %A2      \n\t"
        "add   %B0, r0       \n\t"
        "adc   %C0, r1       \n\t"
        "adc   %D0, %1       \n\t"
        "clr   __zero_reg__  \n\t"
        : "=&r"(r), "=&r"(z)
        : "r"(a), "r"(b));
    return r;
}

/* unsigned 16 x signed 24 (held in an int32, |u| < 2^23) -> 32, modulo 2^32 */
ORGAN_INLINE uint32_t organ_mul_u_s24(uint16_t c, int32_t u)
{
    uint32_t r;
    uint8_t z;
    __asm__ __volatile__(
        "clr   %1            \n\t"
        "mul   %A2, %A3      \n\t" /* c0 u0, weight 2^0 */
        "movw  %A0, r0       \n\t"
        "mul   %B2, %B3      \n\t" /* c1 u1, weight 2^16 */
        "movw  %C0, r0       \n\t"
        "mul   %B2, %A3      \n\t" /* c1 u0, weight 2^8 */
        "add   %B0, r0       \n\t"
        "adc   %C0, r1       \n\t"
        "adc   %D0, %1       \n\t"
        "mul   %A2, %B3      \n\t" /* c0 u1, weight 2^8 */
        "add   %B0, r0       \n\t"
        "adc   %C0, r1       \n\t"
        "adc   %D0, %1       \n\t"
        "mulsu %C3, %A2      \n\t" /* u2 (signed) c0, weight 2^16 */
        "add   %C0, r0       \n\t"
        "adc   %D0, r1       \n\t"
        "mulsu %C3, %B2      \n\t" /* u2 (signed) c1, weight 2^24: low byte only */
        "add   %D0, r0       \n\t"
        "clr   __zero_reg__  \n\t"
        : "=&r"(r), "=&r"(z)
        : "a"(c), "a"(u));
    return r;
}

#else /* portable C: the reference the assembly must match */

ORGAN_INLINE int32_t organ_mul_ss(int16_t a, int16_t b)
{
    return (int32_t)a * (int32_t)b;
}

ORGAN_INLINE uint32_t organ_mac_ss(uint32_t acc, int16_t a, int16_t b)
{
    return acc + (uint32_t)((int32_t)a * (int32_t)b);
}

ORGAN_INLINE uint32_t organ_mul_uu(uint16_t a, uint16_t b)
{
    return (uint32_t)a * (uint32_t)b;
}

ORGAN_INLINE uint32_t organ_mul_u_s24(uint16_t c, int32_t u)
{
    return (uint32_t)c * (uint32_t)u;
}

#endif

#endif /* ORGAN_DSP_MUL_H */
