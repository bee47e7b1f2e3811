/*
 * organ_dsp_kernels.h - private: the per-sample hot path of the fixed-point core (DC blocker,
 * first-order section, window sum), as AVR inline assembly with a portable C definition of the
 * same bits.  Included by organ_dsp_fixed.h after organ_dsp_mul.h.
 */
#ifndef ORGAN_DSP_KERNELS_H
#define ORGAN_DSP_KERNELS_H

/* DC blocker: e = sat16(x - hi(M)); M += c e (c <= 255, Q16); returns e, *sat = 1 when the
 * difference saturated. */
ORGAN_INLINE int16_t organ_k_dc(int32_t *m, int16_t x, uint8_t c, uint8_t *sat)
{
#if ORGAN_AVR_ASM
    int16_t e;
    int32_t mv;
    uint8_t z;
    uint8_t ov = 0;
    __asm__ __volatile__(
        "clr   %[z]            \n\t"
        "ld    %A[mv], %a[m]   \n\t"
        "ldd   %B[mv], %a[m]+1 \n\t"
        "ldd   %C[mv], %a[m]+2 \n\t"
        "ldd   %D[mv], %a[m]+3 \n\t"
        "movw  %A[e], %A[x]    \n\t"
        "sub   %A[e], %C[mv]   \n\t"
        "sbc   %B[e], %D[mv]   \n\t"
        "brvc  2f              \n\t"
        "ldi   %[ov], 1        \n\t"
        "ldi   %A[e], 0xFF     \n\t"
        "ldi   %B[e], 0x7F     \n\t"
        "brmi  2f              \n\t" /* N set with V: the true difference is positive */
        "ldi   %A[e], 0x00     \n\t"
        "ldi   %B[e], 0x80     \n\t"
        "2:                    \n\t"
        "mul   %A[e], %[c]     \n\t"
        "add   %A[mv], r0      \n\t"
        "adc   %B[mv], r1      \n\t"
        "adc   %C[mv], %[z]    \n\t"
        "adc   %D[mv], %[z]    \n\t"
        "mulsu %B[e], %[c]     \n\t"
        "sbc   %D[mv], %[z]    \n\t" /* sign of the partial product into byte 3 */
        "add   %B[mv], r0      \n\t"
        "adc   %C[mv], r1      \n\t"
        "adc   %D[mv], %[z]    \n\t"
        "clr   __zero_reg__    \n\t"
        "st    %a[m], %A[mv]   \n\t"
        "std   %a[m]+1, %B[mv] \n\t"
        "std   %a[m]+2, %C[mv] \n\t"
        "std   %a[m]+3, %D[mv] \n\t"
        : [e] "=&a"(e), [mv] "=&r"(mv), [z] "=&r"(z), [ov] "+d"(ov)
        : [m] "b"(m), [x] "r"(x), [c] "a"(c)
        : "memory");
    *sat = ov;
    return e;
#else
    int32_t t = (int32_t)x - (int16_t)(*m >> 16);
    int16_t e;
    *sat = 0;
    if (t > 32767) {
        e = 32767;
        *sat = 1;
    } else if (t < -32768) {
        e = -32768;
        *sat = 1;
    } else {
        e = (int16_t)t;
    }
    *m = (int32_t)((uint32_t)*m + (uint32_t)((int32_t)e * c));
    return e;
#endif
}

/* First-order recursion shared by LP1 and HP1 (state: y at +0, x1 at +8 of organ_sec_state_t):
 * u = x + x1 - 2 hi(Y); Y += c u (mod 2^32); x1 = x.  Returns hi(Y). */
ORGAN_INLINE int16_t organ_k_fo(organ_sec_state_t *q, uint16_t c, int16_t x)
{
#if ORGAN_AVR_ASM
    int32_t yv;
    uint16_t u;
    int16_t h;
    uint8_t u2, t, z;
    __asm__ __volatile__(
        "clr   %[z]            \n\t"
        "ld    %A[yv], %a[q]   \n\t"
        "ldd   %B[yv], %a[q]+1 \n\t"
        "ldd   %C[yv], %a[q]+2 \n\t"
        "ldd   %D[yv], %a[q]+3 \n\t"
        "ldd   %A[u], %a[q]+8  \n\t"
        "ldd   %B[u], %a[q]+9  \n\t"
        "std   %a[q]+8, %A[x]  \n\t"
        "std   %a[q]+9, %B[x]  \n\t"
        /* u2:u = x1 + x as 24 bits */
        "clr   %[u2]           \n\t"
        "sbrc  %B[u], 7        \n\t"
        "com   %[u2]           \n\t"
        "add   %A[u], %A[x]    \n\t"
        "adc   %B[u], %B[x]    \n\t"
        "adc   %[u2], %[z]     \n\t"
        "sbrc  %B[x], 7        \n\t"
        "dec   %[u2]           \n\t"
        /* u -= 2 hi(Y) */
        "mov   %[t], %D[yv]    \n\t"
        "lsl   %[t]            \n\t"
        "sbc   %[t], %[t]      \n\t"
        "sub   %A[u], %C[yv]   \n\t"
        "sbc   %B[u], %D[yv]   \n\t"
        "sbc   %[u2], %[t]     \n\t"
        "sub   %A[u], %C[yv]   \n\t"
        "sbc   %B[u], %D[yv]   \n\t"
        "sbc   %[u2], %[t]     \n\t"
        /* Y += c u mod 2^32 (u2 by unsigned MUL, corrected when negative) */
        "mul   %A[c], %A[u]    \n\t"
        "add   %A[yv], r0      \n\t"
        "adc   %B[yv], r1      \n\t"
        "adc   %C[yv], %[z]    \n\t"
        "adc   %D[yv], %[z]    \n\t"
        "mul   %B[c], %B[u]    \n\t"
        "add   %C[yv], r0      \n\t"
        "adc   %D[yv], r1      \n\t"
        "mul   %B[c], %A[u]    \n\t"
        "add   %B[yv], r0      \n\t"
        "adc   %C[yv], r1      \n\t"
        "adc   %D[yv], %[z]    \n\t"
        "mul   %A[c], %B[u]    \n\t"
        "add   %B[yv], r0      \n\t"
        "adc   %C[yv], r1      \n\t"
        "adc   %D[yv], %[z]    \n\t"
        "mul   %[u2], %A[c]    \n\t"
        "add   %C[yv], r0      \n\t"
        "adc   %D[yv], r1      \n\t"
        "mul   %[u2], %B[c]    \n\t"
        "add   %D[yv], r0      \n\t"
        "sbrc  %[u2], 7        \n\t"
        "sub   %D[yv], %A[c]   \n\t"
        "clr   __zero_reg__    \n\t"
        "st    %a[q], %A[yv]   \n\t"
        "std   %a[q]+1, %B[yv] \n\t"
        "std   %a[q]+2, %C[yv] \n\t"
        "std   %a[q]+3, %D[yv] \n\t"
        "movw  %A[h], %C[yv]   \n\t"
        : [yv] "=&r"(yv), [u] "=&r"(u), [u2] "=&r"(u2), [t] "=&r"(t), [z] "=&r"(z),
          [h] "=&r"(h)
        : [q] "b"(q), [x] "r"(x), [c] "r"(c)
        : "memory");
    return h;
#else
    int32_t yv = q->y;
    int32_t u = (int32_t)x + q->x1 - 2 * (int32_t)(int16_t)(yv >> 16);
    yv = (int32_t)((uint32_t)yv + (uint32_t)c * (uint32_t)u);
    q->y = yv;
    q->x1 = x;
    return (int16_t)(yv >> 16);
#endif
}

/* Window sum: rect += |v| (24 bits as rect_lo + 65536 rect_hi). */
ORGAN_INLINE void organ_k_rect(organ_hot_t *c, int16_t v)
{
#if ORGAN_AVR_ASM
    uint16_t a, s;
    __asm__ __volatile__(
        "movw  %A[a], %A[v]    \n\t"
        "sbrs  %B[a], 7        \n\t"
        "rjmp  1f              \n\t"
        "com   %B[a]           \n\t"
        "neg   %A[a]           \n\t"
        "sbci  %B[a], 0xFF     \n\t"
        "1:                    \n\t"
        "ld    %A[s], %a[c]    \n\t"
        "ldd   %B[s], %a[c]+1  \n\t"
        "add   %A[s], %A[a]    \n\t"
        "adc   %B[s], %B[a]    \n\t"
        "st    %a[c], %A[s]    \n\t"
        "std   %a[c]+1, %B[s]  \n\t"
        "brcc  2f              \n\t"
        "ldd   %A[s], %a[c]+2  \n\t"
        "inc   %A[s]           \n\t"
        "std   %a[c]+2, %A[s]  \n\t"
        "2:                    \n\t"
        : [a] "=&d"(a), [s] "=&r"(s)
        : [c] "b"(c), [v] "r"(v)
        : "memory");
#else
    uint16_t a = (uint16_t)(v < 0 ? -(int32_t)v : v);
    uint16_t n = (uint16_t)(c->rect_lo + a);
    c->rect_lo = n;
    if (n < a) {
        c->rect_hi++;
    }
#endif
}

/* One-pole step toward target (m-units) on a Q16.16 state: coefficient a_up when target is
 * above the state's integer part, a_down otherwise (Q16). */
ORGAN_INLINE void organ_k_onepole(uint32_t *st, uint16_t target, uint16_t a_up, uint16_t a_down)
{
#if ORGAN_AVR_ASM
    uint32_t sv;
    uint16_t dv;
    uint8_t z;
    __asm__ __volatile__(
        "clr   %[z]            \n\t"
        "ld    %A[sv], %a[st]  \n\t"
        "ldd   %B[sv], %a[st]+1\n\t"
        "ldd   %C[sv], %a[st]+2\n\t"
        "ldd   %D[sv], %a[st]+3\n\t"
        "movw  %A[dv], %A[t]   \n\t"
        "sub   %A[dv], %C[sv]  \n\t"
        "sbc   %B[dv], %D[sv]  \n\t"
        "breq  1f              \n\t" /* target == h: no change either way */
        "brcs  2f              \n\t" /* target < h: down */
        "mul   %A[dv], %A[up]  \n\t" /* up: st += (target - h) a_up */
        "add   %A[sv], r0      \n\t"
        "adc   %B[sv], r1      \n\t"
        "adc   %C[sv], %[z]    \n\t"
        "adc   %D[sv], %[z]    \n\t"
        "mul   %B[dv], %B[up]  \n\t"
        "add   %C[sv], r0      \n\t"
        "adc   %D[sv], r1      \n\t"
        "mul   %B[dv], %A[up]  \n\t"
        "add   %B[sv], r0      \n\t"
        "adc   %C[sv], r1      \n\t"
        "adc   %D[sv], %[z]    \n\t"
        "mul   %A[dv], %B[up]  \n\t"
        "add   %B[sv], r0      \n\t"
        "adc   %C[sv], r1      \n\t"
        "adc   %D[sv], %[z]    \n\t"
        "rjmp  3f              \n\t"
        "2:                    \n\t" /* down: st -= (h - target) a_down */
        "com   %A[dv]          \n\t"
        "com   %B[dv]          \n\t"
        "sec                   \n\t"
        "adc   %A[dv], %[z]    \n\t"
        "adc   %B[dv], %[z]    \n\t"
        "mul   %A[dv], %A[dn]  \n\t"
        "sub   %A[sv], r0      \n\t"
        "sbc   %B[sv], r1      \n\t"
        "sbc   %C[sv], %[z]    \n\t"
        "sbc   %D[sv], %[z]    \n\t"
        "mul   %B[dv], %B[dn]  \n\t"
        "sub   %C[sv], r0      \n\t"
        "sbc   %D[sv], r1      \n\t"
        "mul   %B[dv], %A[dn]  \n\t"
        "sub   %B[sv], r0      \n\t"
        "sbc   %C[sv], r1      \n\t"
        "sbc   %D[sv], %[z]    \n\t"
        "mul   %A[dv], %B[dn]  \n\t"
        "sub   %B[sv], r0      \n\t"
        "sbc   %C[sv], r1      \n\t"
        "sbc   %D[sv], %[z]    \n\t"
        "3:                    \n\t"
        "clr   __zero_reg__    \n\t"
        "st    %a[st], %A[sv]  \n\t"
        "std   %a[st]+1, %B[sv]\n\t"
        "std   %a[st]+2, %C[sv]\n\t"
        "std   %a[st]+3, %D[sv]\n\t"
        "1:                    \n\t"
        : [sv] "=&r"(sv), [dv] "=&r"(dv), [z] "=&r"(z)
        : [st] "b"(st), [t] "r"(target), [up] "r"(a_up), [dn] "r"(a_down)
        : "memory");
#else
    uint16_t h = (uint16_t)(*st >> 16);
    if (target > h) {
        *st += (uint32_t)(uint16_t)(target - h) * a_up;
    } else {
        *st -= (uint32_t)(uint16_t)(h - target) * a_down;
    }
#endif
}

#if ORGAN_AVR_ASM
#include "organ_dsp_avr.h"
#endif

#endif /* ORGAN_DSP_KERNELS_H */
