/*
 * organ_dsp_avr.h - private, AVR only (included by organ_dsp_kernels.h when ORGAN_AVR_ASM):
 * the biquad section and the loop over all bands of an all-first-order design in assembly.
 * The portable C they must match bit for bit: organ_bq() and organ_bands_c() in
 * organ_dsp_fixed.h.
 */
#ifndef ORGAN_DSP_AVR_H
#define ORGAN_DSP_AVR_H

/* Arithmetic shift of the 4-byte value in registers A..D by the signed count in t (right for
 * t > 0, left for t < 0): whole bytes first, then single bits (uses t, and tmp as scratch). */
#define ORGAN_ASM_SHIFT(A, B, C, D)                                                            \
    "tst   %[t]             \n\t"                                                              \
    "breq  29f              \n\t"                                                              \
    "brmi  25f              \n\t"                                                              \
    "21:                    \n\t"                                                              \
    "cpi   %[t], 8          \n\t"                                                              \
    "brlo  22f              \n\t"                                                              \
    "mov   " A ", " B "     \n\t"                                                              \
    "mov   " B ", " C "     \n\t"                                                              \
    "mov   " C ", " D "     \n\t"                                                              \
    "lsl   " D "            \n\t"                                                              \
    "sbc   " D ", " D "     \n\t"                                                              \
    "subi  %[t], 8          \n\t"                                                              \
    "rjmp  21b              \n\t"                                                              \
    "22:                    \n\t"                                                              \
    "tst   %[t]             \n\t"                                                              \
    "breq  29f              \n\t"                                                              \
    "23:                    \n\t"                                                              \
    "asr   " D "            \n\t"                                                              \
    "ror   " C "            \n\t"                                                              \
    "ror   " B "            \n\t"                                                              \
    "ror   " A "            \n\t"                                                              \
    "dec   %[t]             \n\t"                                                              \
    "brne  23b              \n\t"                                                              \
    "rjmp  29f              \n\t"                                                              \
    "25:                    \n\t"                                                              \
    "lsl   " A "            \n\t"                                                              \
    "rol   " B "            \n\t"                                                              \
    "rol   " C "            \n\t"                                                              \
    "rol   " D "            \n\t"                                                              \
    "inc   %[t]             \n\t"                                                              \
    "brne  25b              \n\t"                                                              \
    "29:                    \n\t"

/* signed 16 x 16 -> 32 into P (AVR201), operands in r16..r23 */
#define ORGAN_ASM_MULS(P, X, Y)                                                                \
    "muls  %B[" X "], %B[" Y "] \n\t"                                                          \
    "movw  %C[" P "], r0    \n\t"                                                              \
    "mul   %A[" X "], %A[" Y "] \n\t"                                                          \
    "movw  %A[" P "], r0    \n\t"                                                              \
    "mulsu %B[" X "], %A[" Y "] \n\t"                                                          \
    "sbc   %D[" P "], %[z]  \n\t"                                                              \
    "add   %B[" P "], r0    \n\t"                                                              \
    "adc   %C[" P "], r1    \n\t"                                                              \
    "adc   %D[" P "], %[z]  \n\t"                                                              \
    "mulsu %B[" Y "], %A[" X "] \n\t"                                                          \
    "sbc   %D[" P "], %[z]  \n\t"                                                              \
    "add   %B[" P "], r0    \n\t"                                                              \
    "adc   %C[" P "], r1    \n\t"                                                              \
    "adc   %D[" P "], %[z]  \n\t"

/* P += X * Y, signed 16 x 16, mod 2^32 (AVR201 mac16x16_32) */
#define ORGAN_ASM_MACS(P, X, Y)                                                                \
    "muls  %B[" X "], %B[" Y "] \n\t"                                                          \
    "add   %C[" P "], r0    \n\t"                                                              \
    "adc   %D[" P "], r1    \n\t"                                                              \
    "mul   %A[" X "], %A[" Y "] \n\t"                                                          \
    "add   %A[" P "], r0    \n\t"                                                              \
    "adc   %B[" P "], r1    \n\t"                                                              \
    "adc   %C[" P "], %[z]  \n\t"                                                              \
    "adc   %D[" P "], %[z]  \n\t"                                                              \
    "mulsu %B[" X "], %A[" Y "] \n\t"                                                          \
    "sbc   %D[" P "], %[z]  \n\t"                                                              \
    "add   %B[" P "], r0    \n\t"                                                              \
    "adc   %C[" P "], r1    \n\t"                                                              \
    "adc   %D[" P "], %[z]  \n\t"                                                              \
    "mulsu %B[" Y "], %A[" X "] \n\t"                                                          \
    "sbc   %D[" P "], %[z]  \n\t"                                                              \
    "add   %B[" P "], r0    \n\t"                                                              \
    "adc   %C[" P "], r1    \n\t"                                                              \
    "adc   %D[" P "], %[z]  \n\t"

/* A BQ_GAIN or BQ section (delta form, organ_bq() in C): state q (Y, D, x1, x2 at +0, +4, +8,
 * +10), design record sd (kind, sh_num, sh_pole, c[0..4]); returns hi(Y). */
ORGAN_INLINE int16_t organ_k_bq(const organ_section_t *sd, organ_sec_state_t *q, int16_t x)
{
    int32_t dv, p;
    int16_t cf, mv, h;
    uint8_t t, z, kind;
    __asm__ __volatile__(
        "clr   %[z]             \n\t"
        "ld    %[kind], X+      \n\t" /* kind; X -> sh_num */
        "ldd   %A[dv], %a[q]+4  \n\t" /* D */
        "ldd   %B[dv], %a[q]+5  \n\t"
        "ldd   %C[dv], %a[q]+6  \n\t"
        "ldd   %D[dv], %a[q]+7  \n\t"
        "adiw  r26, 8           \n\t" /* X -> c[3] */
        "ld    %A[cf], X+       \n\t"
        "ld    %B[cf], X+       \n\t"
        "movw  %A[mv], %C[dv]   \n\t" /* hi(D) */
        ORGAN_ASM_MULS("p", "cf", "mv")
        "ld    %A[cf], X+       \n\t" /* c[4]; X -> end of record */
        "ld    %B[cf], X        \n\t"
        "ldd   %A[mv], %a[q]+2  \n\t" /* hi(Y) */
        "ldd   %B[mv], %a[q]+3  \n\t"
        ORGAN_ASM_MACS("p", "cf", "mv")
        "sbiw  r26, 10          \n\t" /* X -> sh_pole */
        "ld    %[t], X          \n\t"
        ORGAN_ASM_SHIFT("%A[p]", "%B[p]", "%C[p]", "%D[p]")
        "sub   %A[dv], %A[p]    \n\t" /* D -= pole */
        "sbc   %B[dv], %B[p]    \n\t"
        "sbc   %C[dv], %C[p]    \n\t"
        "sbc   %D[dv], %D[p]    \n\t"
        "adiw  r26, 1           \n\t" /* X -> c[0] */
        "ld    %A[cf], X+       \n\t"
        "ld    %B[cf], X+       \n\t"
        "movw  %A[mv], %A[x]    \n\t"
        ORGAN_ASM_MULS("p", "cf", "mv")
        "cpi   %[kind], 4       \n\t" /* ORGAN_SEC_BQ: the full numerator */
        "brne  31f              \n\t"
        "ld    %A[cf], X+       \n\t" /* c[1] x1 */
        "ld    %B[cf], X+       \n\t"
        "ldd   %A[mv], %a[q]+8  \n\t"
        "ldd   %B[mv], %a[q]+9  \n\t"
        ORGAN_ASM_MACS("p", "cf", "mv")
        "std   %a[q]+8, %A[x]   \n\t" /* x1 = x, x2 = old x1 */
        "std   %a[q]+9, %B[x]   \n\t"
        "ldd   %A[cf], %a[q]+10 \n\t"
        "ldd   %B[cf], %a[q]+11 \n\t"
        "std   %a[q]+10, %A[mv] \n\t"
        "std   %a[q]+11, %B[mv] \n\t"
        "movw  %A[mv], %A[cf]   \n\t" /* c[2] x2 */
        "ld    %A[cf], X+       \n\t"
        "ld    %B[cf], X+       \n\t"
        ORGAN_ASM_MACS("p", "cf", "mv")
        "sbiw  r26, 4           \n\t"
        "31:                    \n\t"
        "sbiw  r26, 4           \n\t" /* X -> sh_num */
        "ld    %[t], X          \n\t"
        ORGAN_ASM_SHIFT("%A[p]", "%B[p]", "%C[p]", "%D[p]")
        "clr   __zero_reg__     \n\t"
        "add   %A[dv], %A[p]    \n\t" /* D += num */
        "adc   %B[dv], %B[p]    \n\t"
        "adc   %C[dv], %C[p]    \n\t"
        "adc   %D[dv], %D[p]    \n\t"
        "std   %a[q]+4, %A[dv]  \n\t"
        "std   %a[q]+5, %B[dv]  \n\t"
        "std   %a[q]+6, %C[dv]  \n\t"
        "std   %a[q]+7, %D[dv]  \n\t"
        "ld    %A[p], %a[q]     \n\t" /* Y += D */
        "ldd   %B[p], %a[q]+1   \n\t"
        "ldd   %C[p], %a[q]+2   \n\t"
        "ldd   %D[p], %a[q]+3   \n\t"
        "add   %A[p], %A[dv]    \n\t"
        "adc   %B[p], %B[dv]    \n\t"
        "adc   %C[p], %C[dv]    \n\t"
        "adc   %D[p], %D[dv]    \n\t"
        "st    %a[q], %A[p]     \n\t"
        "std   %a[q]+1, %B[p]   \n\t"
        "std   %a[q]+2, %C[p]   \n\t"
        "std   %a[q]+3, %D[p]   \n\t"
        "movw  %A[h], %C[p]     \n\t"
        : [dv] "=&r"(dv), [p] "=&r"(p), [cf] "=&a"(cf), [mv] "=&a"(mv), [h] "=&r"(h),
          [t] "=&d"(t), [z] "=&r"(z), [kind] "=&d"(kind), [sd] "+x"(sd)
        : [q] "b"(q), [x] "r"(x)
        : "memory");
    return h;
}

/* The AVR layout the assembly below addresses by offset. */
typedef char organ_check_hot[sizeof(organ_hot_t) == 9 ? 1 : -1];
typedef char organ_check_sec[sizeof(organ_sec_state_t) == 12 ? 1 : -1];
typedef char organ_check_out[sizeof(organ_band_out_t) == 5 ? 1 : -1];

/* Every band of an all-LP1/HP1 design in one loop (the C glue around per-section calls costs
 * more than the sections on avr-gcc): band input xd >> in_shift, the sections (each reads its
 * coefficient and kind from the copy organ_reset() leaves in its d slot), the window sum and
 * the outputs.  Same bits as organ_k_fo() + organ_hp_out() + organ_k_rect(); returns the
 * number of HP1 outputs that saturated. */
ORGAN_INLINE uint8_t organ_k_bands_fo(organ_hot_t *hot, organ_sec_state_t *q,
                                      organ_band_out_t *out, uint8_t nb, int16_t xd)
{
    int32_t yv;
    uint16_t c, u, v;
    uint8_t u2, t, k, z;
    uint8_t ov = 0;
    __asm__ __volatile__(
        "clr   %[z]             \n\t"
        "1:                     \n\t" /* band */
        "ldd   %[k], %a[hot]+4  \n\t"
        "ldd   %[t], %a[hot]+3  \n\t"
        "movw  %A[v], %A[xd]    \n\t"
        "tst   %[t]             \n\t"
        "breq  2f               \n\t"
        "9:                     \n\t"
        "asr   %B[v]            \n\t"
        "ror   %A[v]            \n\t"
        "dec   %[t]             \n\t"
        "brne  9b               \n\t"
        "2:                     \n\t" /* section: X = q */
        "ld    %A[yv], X+       \n\t"
        "ld    %B[yv], X+       \n\t"
        "ld    %C[yv], X+       \n\t"
        "ld    %D[yv], X+       \n\t"
        "ld    %A[c], X+        \n\t"
        "ld    %B[c], X+        \n\t"
        "ld    %[t], X+         \n\t"
        "adiw  r26, 1           \n\t"
        "ld    %A[u], X+        \n\t"
        "ld    %B[u], X         \n\t"
        "st    X, %B[v]         \n\t"
        "st    -X, %A[v]        \n\t"
        "bst   %[t], 1          \n\t" /* T = HP1 (kind 2) */
        "clr   %[u2]            \n\t" /* u2:u = x1 + x */
        "sbrc  %B[u], 7         \n\t"
        "com   %[u2]            \n\t"
        "add   %A[u], %A[v]     \n\t"
        "adc   %B[u], %B[v]     \n\t"
        "adc   %[u2], %[z]      \n\t"
        "sbrc  %B[v], 7         \n\t"
        "dec   %[u2]            \n\t"
        "mov   %[t], %D[yv]     \n\t" /* u -= 2 hi(Y) */
        "lsl   %[t]             \n\t"
        "sbc   %[t], %[t]       \n\t"
        "sub   %A[u], %C[yv]    \n\t"
        "sbc   %B[u], %D[yv]    \n\t"
        "sbc   %[u2], %[t]      \n\t"
        "sub   %A[u], %C[yv]    \n\t"
        "sbc   %B[u], %D[yv]    \n\t"
        "sbc   %[u2], %[t]      \n\t"
        "mul   %A[c], %A[u]     \n\t" /* Y += c u, mod 2^32 */
        "add   %A[yv], r0       \n\t"
        "adc   %B[yv], r1       \n\t"
        "adc   %C[yv], %[z]     \n\t"
        "adc   %D[yv], %[z]     \n\t"
        "mul   %B[c], %B[u]     \n\t"
        "add   %C[yv], r0       \n\t"
        "adc   %D[yv], r1       \n\t"
        "mul   %B[c], %A[u]     \n\t"
        "add   %B[yv], r0       \n\t"
        "adc   %C[yv], r1       \n\t"
        "adc   %D[yv], %[z]     \n\t"
        "mul   %A[c], %B[u]     \n\t"
        "add   %B[yv], r0       \n\t"
        "adc   %C[yv], r1       \n\t"
        "adc   %D[yv], %[z]     \n\t"
        "mul   %[u2], %A[c]     \n\t" /* u2 unsigned: 256 c too much at 2^16 if u2 < 0 */
        "add   %C[yv], r0       \n\t"
        "adc   %D[yv], r1       \n\t"
        "mul   %[u2], %B[c]     \n\t"
        "add   %D[yv], r0       \n\t"
        "sbrc  %[u2], 7         \n\t"
        "sub   %D[yv], %A[c]    \n\t"
        "clr   __zero_reg__     \n\t"
        "sbiw  r26, 4           \n\t" /* X = q + 4 */
        "st    -X, %D[yv]       \n\t"
        "st    -X, %C[yv]       \n\t"
        "st    -X, %B[yv]       \n\t"
        "st    -X, %A[yv]       \n\t"
        "adiw  r26, 12          \n\t"
        "brts  3f               \n\t"
        "movw  %A[v], %C[yv]    \n\t" /* LP1: y = hi(Y) */
        "rjmp  5f               \n\t"
        "3:                     \n\t" /* HP1: y = sat16(x - hi(Y)) */
        "sub   %A[v], %C[yv]    \n\t"
        "sbc   %B[v], %D[yv]    \n\t"
        "brvc  5f               \n\t"
        "brmi  4f               \n\t" /* N set with V: the true difference is positive */
        "mov   %A[v], %[z]      \n\t" /* -32768 */
        "mov   %B[v], %[z]      \n\t"
        "sec                    \n\t"
        "ror   %B[v]            \n\t"
        "inc   %[ov]            \n\t"
        "rjmp  5f               \n\t"
        "4:                     \n\t" /* 32767 */
        "mov   %A[v], %[z]      \n\t"
        "com   %A[v]            \n\t"
        "mov   %B[v], %A[v]     \n\t"
        "lsr   %B[v]            \n\t"
        "inc   %[ov]            \n\t"
        "5:                     \n\t"
        "dec   %[k]             \n\t"
        "breq  6f               \n\t"
        "rjmp  2b               \n\t"
        "6:                     \n\t" /* band end: rect += |v| */
        "movw  %A[u], %A[v]     \n\t"
        "sbrs  %B[u], 7         \n\t"
        "rjmp  7f               \n\t"
        "com   %A[u]            \n\t"
        "com   %B[u]            \n\t"
        "sec                    \n\t"
        "adc   %A[u], %[z]      \n\t"
        "adc   %B[u], %[z]      \n\t"
        "7:                     \n\t"
        "ld    %A[c], %a[hot]   \n\t"
        "ldd   %B[c], %a[hot]+1 \n\t"
        "add   %A[c], %A[u]     \n\t"
        "adc   %B[c], %B[u]     \n\t"
        "st    %a[hot], %A[c]   \n\t"
        "std   %a[hot]+1, %B[c] \n\t"
        "brcc  8f               \n\t"
        "ldd   %A[c], %a[hot]+2 \n\t"
        "inc   %A[c]            \n\t"
        "std   %a[hot]+2, %A[c] \n\t"
        "8:                     \n\t" /* outputs y, env, led */
        "movw  %A[yv], r26      \n\t"
        "movw  r26, %A[out]     \n\t"
        "st    X+, %A[v]        \n\t"
        "st    X+, %B[v]        \n\t"
        "ldd   %A[c], %a[hot]+6 \n\t"
        "st    X+, %A[c]        \n\t"
        "ldd   %A[c], %a[hot]+7 \n\t"
        "st    X+, %A[c]        \n\t"
        "ldd   %A[c], %a[hot]+8 \n\t"
        "st    X+, %A[c]        \n\t"
        "movw  %A[out], r26     \n\t"
        "movw  r26, %A[yv]      \n\t"
        "adiw  %[hot], 9        \n\t"
        "dec   %[nb]            \n\t"
        "breq  10f              \n\t"
        "rjmp  1b               \n\t"
        "10:                    \n\t"
        : [yv] "=&r"(yv), [c] "=&r"(c), [u] "=&r"(u), [v] "=&r"(v), [u2] "=&r"(u2),
          [t] "=&r"(t), [k] "=&r"(k), [z] "=&r"(z), [ov] "+r"(ov), [q] "+x"(q),
          [hot] "+z"(hot), [out] "+r"(out), [nb] "+r"(nb)
        : [xd] "r"(xd)
        : "memory");
    return ov;
}

#endif /* ORGAN_DSP_AVR_H */
