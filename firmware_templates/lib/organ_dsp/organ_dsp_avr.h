/*
 * organ_dsp_avr.h - the kernels of organ_dsp_kernels.h in AVR assembly (MUL, MULS, MULSU);
 * included by it when ORGAN_AVR_ASM.  Each computes the bits of the C definition next to which
 * it is documented there.  Techniques: state loaded once into registers for one or two samples
 * (ldd/std displacements from one base register; the offsets are constants of the generated
 * step), coefficients as ldi immediates, products accumulated byte by byte (AVR201) with the
 * sign of a partial product from the carry after MULSU, saturation from the V flag, shifts by
 * whole bytes before single bits.  MUL* write r1:r0, so a kernel clears __zero_reg__ (r1)
 * before it returns.
 */
#ifndef ORGAN_DSP_AVR_H
#define ORGAN_DSP_AVR_H

ORGAN_INLINE int16_t organ_ld16(const uint8_t *b, uint8_t o)
{
    int16_t v;
    __asm__ __volatile__("ldd   %A[v], %a[b]+%[o]   \n\t"
                         "ldd   %B[v], %a[b]+%[o]+1 \n\t"
                         : [v] "=&r"(v)
                         : [b] "b"(b), [o] "n"(o)
                         : "memory");
    return v;
}

ORGAN_INLINE void organ_st16(uint8_t *b, uint8_t o, int16_t v)
{
    __asm__ __volatile__("std   %a[b]+%[o], %A[v]   \n\t"
                         "std   %a[b]+%[o]+1, %B[v] \n\t"
                         :
                         : [b] "b"(b), [o] "n"(o), [v] "r"(v)
                         : "memory");
}

ORGAN_INLINE organ_u24 organ_ld24(const uint8_t *b, uint8_t o)
{
    organ_u24 v;
    __asm__ __volatile__("ldd   %A[v], %a[b]+%[o]   \n\t"
                         "ldd   %B[v], %a[b]+%[o]+1 \n\t"
                         "ldd   %C[v], %a[b]+%[o]+2 \n\t"
                         : [v] "=&r"(v)
                         : [b] "b"(b), [o] "n"(o)
                         : "memory");
    return v;
}

ORGAN_INLINE void organ_st24(uint8_t *b, uint8_t o, organ_u24 v)
{
    __asm__ __volatile__("std   %a[b]+%[o], %A[v]   \n\t"
                         "std   %a[b]+%[o]+1, %B[v] \n\t"
                         "std   %a[b]+%[o]+2, %C[v] \n\t"
                         :
                         : [b] "b"(b), [o] "n"(o), [v] "r"(v)
                         : "memory");
}

ORGAN_INLINE uint32_t organ_ld32(const uint8_t *b, uint8_t o)
{
    uint32_t v;
    __asm__ __volatile__("ldd   %A[v], %a[b]+%[o]   \n\t"
                         "ldd   %B[v], %a[b]+%[o]+1 \n\t"
                         "ldd   %C[v], %a[b]+%[o]+2 \n\t"
                         "ldd   %D[v], %a[b]+%[o]+3 \n\t"
                         : [v] "=&r"(v)
                         : [b] "b"(b), [o] "n"(o)
                         : "memory");
    return v;
}

ORGAN_INLINE void organ_st32(uint8_t *b, uint8_t o, uint32_t v)
{
    __asm__ __volatile__("std   %a[b]+%[o], %A[v]   \n\t"
                         "std   %a[b]+%[o]+1, %B[v] \n\t"
                         "std   %a[b]+%[o]+2, %C[v] \n\t"
                         "std   %a[b]+%[o]+3, %D[v] \n\t"
                         :
                         : [b] "b"(b), [o] "n"(o), [v] "r"(v)
                         : "memory");
}

/* DC blocker: e = sat16(x - hi(M)); M += c e; a saturation counted in overflows (offset 0). */
ORGAN_INLINE int16_t organ_k_dc(uint8_t *b, uint32_t *mp, int16_t x, uint8_t c)
{
    int16_t e;
    uint32_t m = *mp;
    uint8_t t, z;
    __asm__ __volatile__(
        "movw  %A[e], %A[x]    \n\t"
        "sub   %A[e], %C[m]    \n\t"
        "sbc   %B[e], %D[m]    \n\t"
        "brvc  2f              \n\t"
        "ldi   %A[e], 0xFF     \n\t"
        "ldi   %B[e], 0x7F     \n\t"
        "brmi  1f              \n\t" /* N set with V: the true difference is positive */
        "ldi   %A[e], 0x00     \n\t"
        "ldi   %B[e], 0x80     \n\t"
        "1:                    \n\t" /* overflows += 1, saturating at 0xFFFF */
        "ldd   %[t], %a[b]+0   \n\t"
        "ldd   %[z], %a[b]+1   \n\t"
        "subi  %[t], 0xFF      \n\t"
        "sbci  %[z], 0xFF      \n\t"
        "breq  2f              \n\t"
        "std   %a[b]+0, %[t]   \n\t"
        "std   %a[b]+1, %[z]   \n\t"
        "2:                    \n\t"
        "ldi   %[t], %[c]      \n\t"
        "clr   %[z]            \n\t"
        "mul   %A[e], %[t]     \n\t"
        "add   %A[m], r0       \n\t"
        "adc   %B[m], r1       \n\t"
        "adc   %C[m], %[z]     \n\t"
        "adc   %D[m], %[z]     \n\t"
        "mulsu %B[e], %[t]     \n\t"
        "sbc   %D[m], %[z]     \n\t" /* sign of the partial product into byte 3 */
        "add   %B[m], r0       \n\t"
        "adc   %C[m], r1       \n\t"
        "adc   %D[m], %[z]     \n\t"
        "clr   __zero_reg__    \n\t"
        : [e] "=&a"(e), [m] "+r"(m), [t] "=&a"(t), [z] "=&d"(z)
        : [b] "b"(b), [x] "r"(x), [c] "n"(c)
        : "memory");
    *mp = m;
    return e;
}

/* Window sum += |v|: add or subtract by the sign of v; the third byte changes only on a carry
 * out of the lower two. */
ORGAN_INLINE void organ_k_rect(organ_u24 *wp, int16_t v)
{
    organ_u24 w = *wp;
    __asm__(
        "sbrc  %B[v], 7        \n\t"
        "rjmp  1f              \n\t"
        "add   %A[w], %A[v]    \n\t"
        "adc   %B[w], %B[v]    \n\t"
        "brcc  3f              \n\t"
        "rjmp  2f              \n\t"
        "1:                    \n\t" /* v < 0: w - v, no borrow means a carry of |v| */
        "sub   %A[w], %A[v]    \n\t"
        "sbc   %B[w], %B[v]    \n\t"
        "brcs  3f              \n\t"
        "2:                    \n\t"
        "inc   %C[w]           \n\t"
        "3:                    \n\t"
        : [w] "+r"(w)
        : [v] "r"(v));
    *wp = w;
}

/* v >> n (arithmetic), n constant: n single-bit steps, no loop. */
ORGAN_INLINE int16_t organ_k_shr(int16_t v, uint8_t n)
{
    __asm__(
        ".rept %[n]            \n\t"
        "asr   %B[v]           \n\t"
        "ror   %A[v]           \n\t"
        ".endr                 \n\t"
        : [v] "+r"(v)
        : [n] "n"(n));
    return v;
}

/* a + b mod 2^16 */
ORGAN_INLINE int16_t organ_k_add(int16_t a, int16_t b)
{
    return (int16_t)(uint16_t)((uint16_t)a + (uint16_t)b);
}

/* First-order recursion with c = 256 m on Y's bits 8..31 (y): y += m u. */
ORGAN_INLINE int16_t organ_k_fo8(organ_u24 *yp, uint8_t m, int16_t pair)
{
    organ_u24 y = *yp;
    int16_t u;
    uint8_t t;
    __asm__(
        "movw  %A[u], %A[p]    \n\t" /* u = pair - 2 hi(Y) */
        "sub   %A[u], %B[y]    \n\t"
        "sbc   %B[u], %C[y]    \n\t"
        "sub   %A[u], %B[y]    \n\t"
        "sbc   %B[u], %C[y]    \n\t"
        "ldi   %[t], %[m]      \n\t"
        "mul   %[t], %A[u]     \n\t" /* m u0 */
        "add   %A[y], r0       \n\t"
        "adc   %B[y], r1       \n\t"
        "brcc  1f              \n\t"
        "inc   %C[y]           \n\t"
        "1:                    \n\t"
        "mulsu %B[u], %[t]     \n\t" /* m u1 (signed) at 2^8, mod 2^24 */
        "add   %B[y], r0       \n\t"
        "adc   %C[y], r1       \n\t"
        "clr   __zero_reg__    \n\t"
        : [y] "+r"(y), [u] "=&a"(u), [t] "=&a"(t)
        : [p] "r"(pair), [m] "n"(m));
    *yp = y;
    return (int16_t)(uint16_t)(y >> 8);
}

/* First-order recursion, any Q16 coefficient: Y += c u. */
ORGAN_INLINE int16_t organ_k_fo16(uint32_t *yp, uint16_t c, int16_t pair)
{
    uint32_t y = *yp;
    int16_t u;
    uint16_t k;
    uint8_t z;
    __asm__(
        "movw  %A[u], %A[p]    \n\t"
        "sub   %A[u], %C[y]    \n\t"
        "sbc   %B[u], %D[y]    \n\t"
        "sub   %A[u], %C[y]    \n\t"
        "sbc   %B[u], %D[y]    \n\t"
        "ldi   %A[k], lo8(%[c]) \n\t"
        "ldi   %B[k], hi8(%[c]) \n\t"
        "clr   %[z]            \n\t"
        "mul   %A[k], %A[u]    \n\t" /* c0 u0 */
        "add   %A[y], r0       \n\t"
        "adc   %B[y], r1       \n\t"
        "adc   %C[y], %[z]     \n\t"
        "adc   %D[y], %[z]     \n\t"
        "mulsu %B[u], %B[k]    \n\t" /* c1 u1 (signed) at 2^16 */
        "add   %C[y], r0       \n\t"
        "adc   %D[y], r1       \n\t"
        "mul   %B[k], %A[u]    \n\t" /* c1 u0 at 2^8 */
        "add   %B[y], r0       \n\t"
        "adc   %C[y], r1       \n\t"
        "adc   %D[y], %[z]     \n\t"
        "mulsu %B[u], %A[k]    \n\t" /* c0 u1 (signed) at 2^8 */
        "sbc   %D[y], %[z]     \n\t"
        "add   %B[y], r0       \n\t"
        "adc   %C[y], r1       \n\t"
        "adc   %D[y], %[z]     \n\t"
        "clr   __zero_reg__    \n\t"
        : [y] "+r"(y), [u] "=&a"(u), [k] "=&a"(k), [z] "=&r"(z)
        : [p] "r"(pair), [c] "n"(c));
    *yp = y;
    return (int16_t)(uint16_t)(y >> 16);
}

/* HP1 output: sat16(x - h); a saturation is counted in overflows (offset 0 of b).  Any
 * registers: the rare saturation path builds its constants without ldi. */
ORGAN_INLINE int16_t organ_k_hp(uint8_t *b, int16_t x, int16_t h)
{
    int16_t r;
    uint8_t t0, t1;
    __asm__ __volatile__(
        "movw  %A[r], %A[x]    \n\t"
        "sub   %A[r], %A[h]    \n\t"
        "sbc   %B[r], %B[h]    \n\t"
        "brvc  3f              \n\t"
        "brmi  2f              \n\t" /* N set with V: the true difference is positive */
        "clr   %A[r]           \n\t" /* 0x8000 */
        "clr   %B[r]           \n\t"
        "sec                   \n\t"
        "ror   %B[r]           \n\t"
        "rjmp  1f              \n\t"
        "2:                    \n\t" /* 0x7FFF */
        "clr   %A[r]           \n\t"
        "com   %A[r]           \n\t"
        "mov   %B[r], %A[r]    \n\t"
        "lsr   %B[r]           \n\t"
        "1:                    \n\t" /* overflows += 1, saturating at 0xFFFF */
        "ldd   %[t0], %a[b]+0  \n\t"
        "ldd   %[t1], %a[b]+1  \n\t"
        "sec                   \n\t"
        "adc   %[t0], __zero_reg__ \n\t"
        "adc   %[t1], __zero_reg__ \n\t"
        "brcs  3f              \n\t"
        "std   %a[b]+0, %[t0]  \n\t"
        "std   %a[b]+1, %[t1]  \n\t"
        "3:                    \n\t"
        : [r] "=&r"(r), [t0] "=&r"(t0), [t1] "=&r"(t1)
        : [b] "b"(b), [x] "r"(x), [h] "r"(h)
        : "memory");
    return r;
}

#endif /* ORGAN_DSP_AVR_H */
