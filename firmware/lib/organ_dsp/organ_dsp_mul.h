/*
 * organ_dsp_mul.h - the multiply primitives of the fixed-point core (private to the core and to
 * the generated step, through organ_dsp_kernels.h).
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
#define ORGAN_TASK __attribute__((noinline)) /* extern, kept out of line (LTO) */
#else
#define ORGAN_INLINE static inline
#define ORGAN_NOINLINE static
#define ORGAN_TASK
#endif

#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) && !defined(ORGAN_NO_ASM)
#define ORGAN_AVR_ASM 1
#else
#define ORGAN_AVR_ASM 0
#endif

#if ORGAN_AVR_ASM

/* MUL* write r1:r0, so each routine clears its own zero register z and restores r1
 * (__zero_reg__) at the end; r0 (__tmp_reg__) is free for inline assembly. */

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

#else /* portable C: the reference the assembly must match */

ORGAN_INLINE uint32_t organ_mul_uu(uint16_t a, uint16_t b)
{
    return (uint32_t)a * (uint32_t)b;
}

#endif

#endif /* ORGAN_DSP_MUL_H */
