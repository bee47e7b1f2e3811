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

/* A mantissa with a zero low byte (the quantizer's byte mantissas): 8 x 16 multiplies. */
#define ORGAN_BYTE_M(m) (__builtin_constant_p(m) && ((uint16_t)(m) & 0xFFu) == 0u)

/* m x for a constant m = 256 k: k x (signed 8 x signed 16), a byte up; two multiplies. */
ORGAN_INLINE int32_t organ_k_mulb(int16_t m, int16_t x)
{
    int32_t p;
    uint8_t k;
    __asm__(
        "ldi   %[k], lo8(%[m8]) \n\t"
        "mulsu %[k], %A[x]     \n\t" /* k x0 (x0 unsigned) at 2^8, its sign into byte 3 */
        "mov   %B[p], r0       \n\t"
        "mov   %C[p], r1       \n\t"
        "sbc   %D[p], %D[p]    \n\t"
        "muls  %[k], %B[x]     \n\t" /* k x1 at 2^16 */
        "add   %C[p], r0       \n\t"
        "adc   %D[p], r1       \n\t"
        "clr   %A[p]           \n\t"
        "clr   __zero_reg__    \n\t"
        : [p] "=&r"(p), [k] "=&a"(k)
        : [x] "a"(x), [m8] "n"((int8_t)(m >> 8)));
    return p;
}

/* m x (signed 16 x 16 -> 32, AVR201 muls16x16_32). */
ORGAN_INLINE int32_t organ_k_mul16(int16_t m, int16_t x)
{
    if (ORGAN_BYTE_M(m)) {
        return organ_k_mulb(m, x);
    }
    return organ_mul_ss(m, x);
}

/* m t mod 2^32 for a constant m = 256 k and a signed 24-bit t: three multiplies. */
ORGAN_INLINE int32_t organ_k_mulb24(int16_t m, organ_s24 t)
{
    int32_t p;
    uint8_t k;
    __asm__(
        "ldi   %[k], lo8(%[m8]) \n\t"
        "mulsu %[k], %A[t]     \n\t" /* k t0 at 2^8, its sign into byte 3 */
        "mov   %B[p], r0       \n\t"
        "mov   %C[p], r1       \n\t"
        "sbc   %D[p], %D[p]    \n\t"
        "mulsu %[k], %B[t]     \n\t" /* k t1 at 2^16 */
        "add   %C[p], r0       \n\t"
        "adc   %D[p], r1       \n\t"
        "muls  %[k], %C[t]     \n\t" /* k t2 at 2^24: low byte */
        "add   %D[p], r0       \n\t"
        "clr   %A[p]           \n\t"
        "clr   __zero_reg__    \n\t"
        : [p] "=&r"(p), [k] "=&a"(k)
        : [t] "a"(t), [m8] "n"((int8_t)(m >> 8)));
    return p;
}



/* m t mod 2^32, m signed 16 bits, t signed 24 bits. */
ORGAN_INLINE int32_t organ_k_mul(int16_t m, organ_s24 t)
{
    int32_t p;
    uint8_t z;
    if (ORGAN_BYTE_M(m)) {
        return organ_k_mulb24(m, t);
    }
    __asm__(
        "clr   %[z]            \n\t"
        "mul   %A[m], %A[t]    \n\t" /* m0 t0 */
        "movw  %A[p], r0       \n\t"
        "mulsu %C[t], %A[m]    \n\t" /* t2 (signed) m0 at 2^16 */
        "movw  %C[p], r0       \n\t"
        "mulsu %B[m], %B[t]    \n\t" /* m1 (signed) t1 at 2^16 */
        "add   %C[p], r0       \n\t"
        "adc   %D[p], r1       \n\t"
        "muls  %B[m], %C[t]    \n\t" /* m1 t2 at 2^24: low byte */
        "add   %D[p], r0       \n\t"
        "mul   %A[m], %B[t]    \n\t" /* m0 t1 at 2^8 */
        "add   %B[p], r0       \n\t"
        "adc   %C[p], r1       \n\t"
        "adc   %D[p], %[z]     \n\t"
        "mulsu %B[m], %A[t]    \n\t" /* m1 (signed) t0 at 2^8 */
        "sbc   %D[p], %[z]     \n\t"
        "add   %B[p], r0       \n\t"
        "adc   %C[p], r1       \n\t"
        "adc   %D[p], %[z]     \n\t"
        "clr   __zero_reg__    \n\t"
        : [p] "=&r"(p), [z] "=&r"(z)
        : [m] "a"(m), [t] "a"(t));
    return p;
}

/* acc + m x mod 2^32 (AVR201 mac16x16_32). */
ORGAN_INLINE int32_t organ_k_mac(int32_t acc, int16_t m, int16_t x)
{
    if (ORGAN_BYTE_M(m)) {
        return (int32_t)((uint32_t)acc + (uint32_t)organ_k_mulb(m, x));
    }
    return (int32_t)organ_mac_ss((uint32_t)acc, m, x);
}

/* Arithmetic shift by a constant: right for sh > 0, left for sh < 0; whole bytes by moves
 * (the compiler's), the rest one bit at a time without a loop (a right shift by 6 or 7 more
 * bits as 2 or 1 bits left into a fifth byte and a byte right). */
ORGAN_INLINE int32_t organ_k_sar(int32_t v, int8_t sh)
{
    if (sh > 0 && (sh & 7) >= 6) {
        /* 8 - (sh & 7) bits left into a fifth (sign) byte, then one byte right */
        int32_t r;
        __asm__(
            "clr   %D[r]           \n\t"
            "sbrc  %D[v], 7        \n\t"
            "com   %D[r]           \n\t"
            ".rept %[n]            \n\t"
            "lsl   %A[v]           \n\t"
            "rol   %B[v]           \n\t"
            "rol   %C[v]           \n\t"
            "rol   %D[v]           \n\t"
            "rol   %D[r]           \n\t"
            ".endr                 \n\t"
            "mov   %A[r], %B[v]    \n\t"
            "mov   %B[r], %C[v]    \n\t"
            "mov   %C[r], %D[v]    \n\t"
            : [r] "=&r"(r), [v] "+r"(v)
            : [n] "n"(8 - (sh & 7)));
        v = r; /* v >> (sh & 7) */
        if (sh >= 24) {
            v >>= 24;
        } else if (sh >= 16) {
            v >>= 16;
        } else if (sh >= 8) {
            v >>= 8;
        }
    } else if (sh > 0) {
        if (sh >= 24) {
            v >>= 24;
        } else if (sh >= 16) {
            v >>= 16;
        } else if (sh >= 8) {
            v >>= 8;
        }
        __asm__(
            ".rept %[n]            \n\t"
            "asr   %D[v]           \n\t"
            "ror   %C[v]           \n\t"
            "ror   %B[v]           \n\t"
            "ror   %A[v]           \n\t"
            ".endr                 \n\t"
            : [v] "+r"(v)
            : [n] "n"(sh & 7));
    } else if (sh < 0) {
        uint32_t u = (uint32_t)v;
        uint8_t n = (uint8_t)-sh;
        if (n >= 8) {
            u <<= 8 * (n / 8u);
        }
        __asm__(
            ".rept %[n]            \n\t"
            "lsl   %A[u]           \n\t"
            "rol   %B[u]           \n\t"
            "rol   %C[u]           \n\t"
            "rol   %D[u]           \n\t"
            ".endr                 \n\t"
            : [u] "+r"(u)
            : [n] "n"(n & 7));
        v = (int32_t)u;
    }
    return v;
}

/* The pole products of a biquad: mb hd + mg hy (hd = hi(D), hy = hi(Y)), mod 2^32. */
ORGAN_INLINE int32_t organ_k_pole(int16_t hd, int16_t hy, int16_t mb, int16_t mg)
{
    int32_t p;
    int16_t k;
    uint8_t z;
    if (ORGAN_BYTE_M(mb) || ORGAN_BYTE_M(mg)) {
        return (int32_t)((uint32_t)organ_k_mul16(mb, hd) + (uint32_t)organ_k_mul16(mg, hy));
    }
    __asm__(
        "ldi   %A[k], lo8(%[mb])   \n\t"
        "ldi   %B[k], hi8(%[mb])   \n\t"
        "clr   %[z]            \n\t"
        "muls  %B[k], %B[hd]    \n\t"
        "movw  %C[p], r0       \n\t"
        "mul   %A[k], %A[hd]    \n\t"
        "movw  %A[p], r0       \n\t"
        "mulsu %B[k], %A[hd]    \n\t"
        "sbc   %D[p], %[z]     \n\t"
        "add   %B[p], r0       \n\t"
        "adc   %C[p], r1       \n\t"
        "adc   %D[p], %[z]     \n\t"
        "mulsu %B[hd], %A[k]    \n\t"
        "sbc   %D[p], %[z]     \n\t"
        "add   %B[p], r0       \n\t"
        "adc   %C[p], r1       \n\t"
        "adc   %D[p], %[z]     \n\t"
        "ldi   %A[k], lo8(%[mg])   \n\t"
        "ldi   %B[k], hi8(%[mg])   \n\t"
        "muls  %B[k], %B[hy]    \n\t"
        "add   %C[p], r0       \n\t"
        "adc   %D[p], r1       \n\t"
        "mul   %A[k], %A[hy]    \n\t"
        "add   %A[p], r0       \n\t"
        "adc   %B[p], r1       \n\t"
        "adc   %C[p], %[z]     \n\t"
        "adc   %D[p], %[z]     \n\t"
        "mulsu %B[k], %A[hy]    \n\t"
        "sbc   %D[p], %[z]     \n\t"
        "add   %B[p], r0       \n\t"
        "adc   %C[p], r1       \n\t"
        "adc   %D[p], %[z]     \n\t"
        "mulsu %B[hy], %A[k]    \n\t"
        "sbc   %D[p], %[z]     \n\t"
        "add   %B[p], r0       \n\t"
        "adc   %C[p], r1       \n\t"
        "adc   %D[p], %[z]     \n\t"
        "clr   __zero_reg__    \n\t"
        : [p] "=&r"(p), [k] "=&a"(k), [z] "=&r"(z)
        : [hy] "a"(hy), [hd] "a"(hd), [mb] "n"(mb), [mg] "n"(mg));
    return p;
}

/* Biquad state update: D += nums - pole; Y += D; returns hi(Y). */
ORGAN_INLINE int16_t organ_k_bqupd(uint32_t *yp, uint32_t *dp, int32_t nums, int32_t pole)
{
    uint32_t y = *yp, d = *dp;
    __asm__(
        "add   %A[d], %A[n]    \n\t"
        "adc   %B[d], %B[n]    \n\t"
        "adc   %C[d], %C[n]    \n\t"
        "adc   %D[d], %D[n]    \n\t"
        "sub   %A[d], %A[q]    \n\t"
        "sbc   %B[d], %B[q]    \n\t"
        "sbc   %C[d], %C[q]    \n\t"
        "sbc   %D[d], %D[q]    \n\t"
        "add   %A[y], %A[d]    \n\t"
        "adc   %B[y], %B[d]    \n\t"
        "adc   %C[y], %C[d]    \n\t"
        "adc   %D[y], %D[d]    \n\t"
        : [d] "+r"(d), [y] "+r"(y)
        : [n] "r"(nums), [q] "r"(pole));
    *yp = y;
    *dp = d;
    return (int16_t)(uint16_t)(y >> 16);
}

/* The whole biquad update of organ_dsp_kernels.h's C definition, from the two pieces. */
ORGAN_INLINE int16_t organ_k_bq(uint32_t *y, uint32_t *d, int32_t nums, int16_t mb, int16_t mg,
                                int8_t shp)
{
    return organ_k_bqupd(y, d, nums,
                         organ_k_sar(organ_k_pole((int16_t)(uint16_t)(*d >> 16),
                                                  (int16_t)(uint16_t)(*y >> 16), mb, mg), shp));
}

#endif /* ORGAN_DSP_AVR_H */
