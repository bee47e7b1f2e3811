/*
 * organ_dsp_avrctl.h - private, AVR only (included by organ_dsp_fixed.h when ORGAN_AVR_ASM):
 * the control tasks that run every round, in assembly: organ_ctl_input() and organ_ctl_band()
 * of organ_dsp_fixed.h (the portable C there is the reference they match bit for bit) and the
 * loop of organ_ctl_windows().  Structure offsets come in as operands (offsetof), so a layout
 * change moves the code with it.
 */
#ifndef ORGAN_DSP_AVRCTL_H
#define ORGAN_DSP_AVRCTL_H

#include <stddef.h>

/* One one-pole step: state at Y + O, the target in r22:r23, coefficient a_up at Z + UP or
 * a_down at Z + DN (loaded into r24:r25), zero in r16; the new state in r18..r21 (its integer
 * part in r20:r21).  N: a label digit. */
#define ORGAN_ASM_POLE_Y(O, UP, DN, N)                                                          \
    "ldd   r18, Y+" O "       \n\t"                                                              \
    "ldd   r19, Y+" O "+1     \n\t"                                                              \
    "ldd   r20, Y+" O "+2     \n\t"                                                              \
    "ldd   r21, Y+" O "+3     \n\t"                                                              \
    "sub   r22, r20           \n\t"                                                              \
    "sbc   r23, r21           \n\t"                                                              \
    "breq  " N "9f            \n\t" /* target == integer part: no change */                      \
    "brcs  " N "2f            \n\t"                                                              \
    "ldd   r24, Z+" UP "      \n\t" /* up: s += (target - h) a_up */                             \
    "ldd   r25, Z+" UP "+1    \n\t"                                                              \
    "mul   r22, r24           \n\t"                                                              \
    "add   r18, r0            \n\t"                                                              \
    "adc   r19, r1            \n\t"                                                              \
    "adc   r20, r16           \n\t"                                                              \
    "adc   r21, r16           \n\t"                                                              \
    "mul   r23, r25           \n\t"                                                              \
    "add   r20, r0            \n\t"                                                              \
    "adc   r21, r1            \n\t"                                                              \
    "mul   r23, r24           \n\t"                                                              \
    "add   r19, r0            \n\t"                                                              \
    "adc   r20, r1            \n\t"                                                              \
    "adc   r21, r16           \n\t"                                                              \
    "mul   r22, r25           \n\t"                                                              \
    "add   r19, r0            \n\t"                                                              \
    "adc   r20, r1            \n\t"                                                              \
    "adc   r21, r16           \n\t"                                                              \
    "rjmp  " N "3f            \n\t"                                                              \
    N "2:                     \n\t" /* down: s -= (h - target) a_down */                         \
    "com   r22                \n\t"                                                              \
    "com   r23                \n\t"                                                              \
    "subi  r22, 0xFF          \n\t"                                                              \
    "sbci  r23, 0xFF          \n\t"                                                              \
    "ldd   r24, Z+" DN "      \n\t"                                                              \
    "ldd   r25, Z+" DN "+1    \n\t"                                                              \
    "mul   r22, r24           \n\t"                                                              \
    "sub   r18, r0            \n\t"                                                              \
    "sbc   r19, r1            \n\t"                                                              \
    "sbc   r20, r16           \n\t"                                                              \
    "sbc   r21, r16           \n\t"                                                              \
    "mul   r23, r25           \n\t"                                                              \
    "sub   r20, r0            \n\t"                                                              \
    "sbc   r21, r1            \n\t"                                                              \
    "mul   r23, r24           \n\t"                                                              \
    "sub   r19, r0            \n\t"                                                              \
    "sbc   r20, r1            \n\t"                                                              \
    "sbc   r21, r16           \n\t"                                                              \
    "mul   r22, r25           \n\t"                                                              \
    "sub   r19, r0            \n\t"                                                              \
    "sbc   r20, r1            \n\t"                                                              \
    "sbc   r21, r16           \n\t"                                                              \
    N "3:                     \n\t"                                                              \
    "std   Y+" O ", r18       \n\t"                                                              \
    "std   Y+" O "+1, r19     \n\t"                                                              \
    "std   Y+" O "+2, r20     \n\t"                                                              \
    "std   Y+" O "+3, r21     \n\t"                                                              \
    N "9:                     \n\t"

/* The offsets the assembly below is written for (organ_dsp.h); a layout change fails here. */
typedef char organ_check_avrctl[(offsetof(organ_chan_t, env) == 0 &&
                                 offsetof(organ_chan_t, sm) == 4 &&
                                 offsetof(organ_chan_t, slow) == 8 &&
                                 offsetof(organ_chan_t, m) == 12 &&
                                 offsetof(organ_chan_t, norm) == 14 &&
                                 offsetof(organ_chan_t, level) == 16 &&
                                 offsetof(organ_chan_t, env_out) == 18 &&
                                 offsetof(organ_chan_t, hold) == 20 &&
                                 offsetof(organ_chan_t, on) == 22 &&
                                 offsetof(organ_chan_t, led) == 23 &&
                                 sizeof(organ_chan_t) == 24 &&
                                 offsetof(organ_ctl_t, a_slow) == 6 &&
                                 offsetof(organ_ctl_t, gate) == 8 &&
                                 offsetof(organ_ctl_t, thr_on) == 10 &&
                                 offsetof(organ_ctl_t, thr_off) == 12 &&
                                 offsetof(organ_ctl_t, share) == 14 &&
                                 offsetof(organ_ctl_t, onset) == 16 &&
                                 offsetof(organ_ctl_t, gc) == 22 &&
                                 offsetof(organ_ctl_t, lmax) == 24 &&
                                 offsetof(organ_ctl_t, lmax_now) == 26 &&
                                 offsetof(organ_ctl_t, hold_ticks) == 28 &&
                                 offsetof(organ_ctl_t, slow) == 30 &&
                                 offsetof(organ_ctl_t, share_open) == 31 &&
                                 offsetof(organ_band_out_t, env) == 2 &&
                                 offsetof(organ_band_out_t, led) == 4) ? 1 : -1];

static void organ_ctl_windows(organ_state_t *s);

/* The window means m of n channels: (sum + 2^(rs-1)) << up >> 8, up = 8 - rs; the sums (3
 * bytes each at w) are cleared. */
ORGAN_INLINE void organ_avr_windows(uint8_t *w, organ_chan_t *c, uint8_t n, uint8_t up)
{
    uint8_t s0, s1, s2, k, rnd;
    __asm__ __volatile__(
        "ldi   %[rnd], 0x80     \n\t"
        "mov   %[k], %[up]      \n\t"
        "tst   %[k]             \n\t"
        "breq  2f               \n\t"
        "1:                     \n\t"
        "lsr   %[rnd]           \n\t"
        "dec   %[k]             \n\t"
        "brne  1b               \n\t"
        "2:                     \n\t" /* channel */
        "ld    %[s0], X         \n\t"
        "st    X+, __zero_reg__ \n\t"
        "ld    %[s1], X         \n\t"
        "st    X+, __zero_reg__ \n\t"
        "ld    %[s2], X         \n\t"
        "st    X+, __zero_reg__ \n\t"
        "add   %[s0], %[rnd]    \n\t"
        "adc   %[s1], __zero_reg__ \n\t"
        "adc   %[s2], __zero_reg__ \n\t"
        "mov   %[k], %[up]      \n\t"
        "tst   %[k]             \n\t"
        "breq  4f               \n\t"
        "3:                     \n\t"
        "lsl   %[s0]            \n\t"
        "rol   %[s1]            \n\t"
        "rol   %[s2]            \n\t"
        "dec   %[k]             \n\t"
        "brne  3b               \n\t"
        "4:                     \n\t"
        "std   Z+12, %[s1]      \n\t"
        "std   Z+13, %[s2]      \n\t"
        "adiw  r30, 24          \n\t"
        "dec   %[n]             \n\t"
        "brne  2b               \n\t"
        : [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [k] "=&r"(k), [rnd] "=&d"(rnd),
          [w] "+x"(w), [c] "+z"(c), [n] "+r"(n)
        : [up] "r"(up)
        : "memory");
}

/* The one-poles of a channel, shared by the input and band tasks (one copy: flash): Y = the
 * channel, Z = the control block, r16 = 0; the envelope on the window mean, the smoother on
 * the envelope and, on slow rounds, the slow average on the smoother.  Changes r0, r1 and
 * r18..r25. */
ORGAN_TASK __attribute__((naked, used)) void organ_avr_chan_poles(void)
{
    __asm__ __volatile__(
        "ldd   r22, Y+12        \n\t" /* envelope <- window mean */
        "ldd   r23, Y+13        \n\t"
        ORGAN_ASM_POLE_Y("0", "0", "2", "2")
        "movw  r22, r20         \n\t" /* smoother <- envelope */
        ORGAN_ASM_POLE_Y("4", "4", "4", "3")
        "ldd   r18, Z+30        \n\t"
        "tst   r18              \n\t"
        "breq  5f               \n\t"
        "movw  r22, r20         \n\t" /* slow average <- smoother */
        ORGAN_ASM_POLE_Y("8", "6", "6", "4")
        "5:                     \n\t"
        "ret                    \n\t");
}

/* organ_ctl_band() of organ_dsp_fixed.h: arguments g (r24), c (r22), o (r20). */
ORGAN_TASK __attribute__((naked)) void organ_ctl_band(organ_ctl_t *g, organ_chan_t *c,
                                                     organ_band_out_t *o)
{
    (void)g;
    (void)c;
    (void)o;
    __asm__ __volatile__(
        "push  r28              \n\t"
        "push  r29              \n\t"
        "push  r16              \n\t"
        "push  r17              \n\t"
        "push  r20              \n\t" /* o, for the end */
        "push  r21              \n\t"
        "movw  r30, r24         \n\t" /* Z = g */
        "movw  r28, r22         \n\t" /* Y = c */
        "clr   r16              \n\t"
        "clr   r17              \n\t" /* want */
        "clt                    \n\t" /* T: the share path's loudest band */
        "ldd   r18, Z+31        \n\t"
        "tst   r18              \n\t"
        "breq  1f               \n\t"
        "ldd   r18, Y+16        \n\t"
        "ldd   r19, Y+17        \n\t"
        "ldd   r20, Z+24        \n\t"
        "ldd   r21, Z+25        \n\t"
        "cp    r18, r20         \n\t"
        "cpc   r19, r21         \n\t"
        "brcs  1f               \n\t"
        "set                    \n\t"
        "1:                     \n\t"
        "call  %x[poles]        \n\t" /* envelope, smoother, slow average */
        "ldd   r22, Y+6         \n\t" /* sm */
        "ldd   r23, Y+7         \n\t"
        "ldd   r24, Y+10        \n\t" /* slow */
        "ldd   r25, Y+11        \n\t"
        "ldd   r20, Y+14        \n\t" /* lv = min(sm norm >> 8, 65535) -> r18:r19 */
        "ldd   r21, Y+15        \n\t"
        "mul   r22, r20         \n\t"
        "mov   r18, r1          \n\t"
        "mul   r23, r21         \n\t"
        "mov   r19, r0          \n\t"
        "mov   r26, r1          \n\t"
        "mul   r23, r20         \n\t"
        "add   r18, r0          \n\t"
        "adc   r19, r1          \n\t"
        "adc   r26, r16         \n\t"
        "mul   r22, r21         \n\t"
        "add   r18, r0          \n\t"
        "adc   r19, r1          \n\t"
        "adc   r26, r16         \n\t"
        "tst   r26              \n\t"
        "breq  6f               \n\t"
        "ldi   r18, 0xFF        \n\t"
        "ldi   r19, 0xFF        \n\t"
        "6:                     \n\t"
        "std   Y+16, r18        \n\t"
        "std   Y+17, r19        \n\t"
        "ldd   r20, Z+26        \n\t" /* loudest of this round so far */
        "ldd   r21, Z+27        \n\t"
        "cp    r20, r18         \n\t"
        "cpc   r21, r19         \n\t"
        "brcc  7f               \n\t"
        "std   Z+26, r18        \n\t"
        "std   Z+27, r19        \n\t"
        "7:                     \n\t"
        "ldd   r20, Z+8         \n\t" /* the gate: lv > gate */
        "ldd   r21, Z+9         \n\t"
        "cp    r20, r18         \n\t"
        "cpc   r21, r19         \n\t"
        "brcc  20f              \n\t"
        "ldd   r20, Y+22        \n\t" /* (A): lv >= (on ? thr_off : thr_on) */
        "tst   r20              \n\t"
        "breq  8f               \n\t"
        "ldd   r20, Z+12        \n\t"
        "ldd   r21, Z+13        \n\t"
        "rjmp  9f               \n\t"
        "8:                     \n\t"
        "ldd   r20, Z+10        \n\t"
        "ldd   r21, Z+11        \n\t"
        "9:                     \n\t"
        "cp    r18, r20         \n\t"
        "cpc   r19, r21         \n\t"
        "brcs  10f              \n\t"
        "movw  r20, r24         \n\t" /* not decaying: sm >= slow >> 2 */
        "lsr   r21              \n\t"
        "ror   r20              \n\t"
        "lsr   r21              \n\t"
        "ror   r20              \n\t"
        "cp    r22, r20         \n\t"
        "cpc   r23, r21         \n\t"
        "brcs  10f              \n\t"
        "ldi   r17, 1           \n\t"
        "rjmp  20f              \n\t"
        "10:                    \n\t" /* (B): sm << 8 >= slow onset */
        "ldd   r26, Z+16        \n\t"
        "ldd   r27, Z+17        \n\t"
        "mul   r24, r26         \n\t"
        "movw  r18, r0          \n\t"
        "mul   r25, r27         \n\t"
        "movw  r20, r0          \n\t"
        "mul   r25, r26         \n\t"
        "add   r19, r0          \n\t"
        "adc   r20, r1          \n\t"
        "adc   r21, r16         \n\t"
        "mul   r24, r27         \n\t"
        "add   r19, r0          \n\t"
        "adc   r20, r1          \n\t"
        "adc   r21, r16         \n\t"
        "tst   r21              \n\t"
        "brne  20f              \n\t"
        "cp    r16, r18         \n\t"
        "cpc   r22, r19         \n\t"
        "cpc   r23, r20         \n\t"
        "brcs  20f              \n\t"
        "brtc  11f              \n\t" /* the share path: loudest and lv >= share */
        "ldd   r18, Y+16        \n\t"
        "ldd   r19, Y+17        \n\t"
        "ldd   r20, Z+14        \n\t"
        "ldd   r21, Z+15        \n\t"
        "cp    r18, r20         \n\t"
        "cpc   r19, r21         \n\t"
        "brcs  11f              \n\t"
        "ldi   r17, 1           \n\t"
        "rjmp  20f              \n\t"
        "11:                    \n\t" /* relative onset: after the return (branch range) */
        "rjmp  30f              \n\t"
        "20:                    \n\t" /* hold time */
        "ldd   r18, Y+20        \n\t"
        "ldd   r19, Y+21        \n\t"
        "mov   r20, r18         \n\t"
        "or    r20, r19         \n\t"
        "breq  21f              \n\t"
        "subi  r18, 1           \n\t"
        "sbc   r19, r16         \n\t"
        "std   Y+20, r18        \n\t"
        "std   Y+21, r19        \n\t"
        "rjmp  22f              \n\t"
        "21:                    \n\t"
        "ldd   r20, Y+22        \n\t"
        "cp    r20, r17         \n\t"
        "breq  22f              \n\t"
        "std   Y+22, r17        \n\t"
        "ldd   r18, Z+28        \n\t"
        "ldd   r19, Z+29        \n\t"
        "std   Y+20, r18        \n\t"
        "std   Y+21, r19        \n\t"
        "22:                    \n\t" /* PWM: gamma(min(lv gc >> 16, 255)), at least 1 */
        "clr   r18              \n\t"
        "ldd   r20, Y+22        \n\t"
        "tst   r20              \n\t"
        "breq  25f              \n\t"
        "ldd   r22, Y+16        \n\t"
        "ldd   r23, Y+17        \n\t"
        "ldd   r24, Z+22        \n\t"
        "ldd   r25, Z+23        \n\t"
        "mul   r22, r24         \n\t"
        "mov   r21, r1          \n\t"
        "mul   r23, r25         \n\t"
        "movw  r26, r0          \n\t"
        "mul   r23, r24         \n\t"
        "add   r21, r0          \n\t"
        "adc   r26, r1          \n\t"
        "adc   r27, r16         \n\t"
        "mul   r22, r25         \n\t"
        "add   r21, r0          \n\t"
        "adc   r26, r1          \n\t"
        "adc   r27, r16         \n\t"
        "tst   r27              \n\t"
        "breq  23f              \n\t"
        "ldi   r26, 0xFF        \n\t"
        "23:                    \n\t"
        "mov   r21, r26         \n\t" /* f = lin & 15, table index lin >> 4 */
        "andi  r21, 0x0F        \n\t"
        "swap  r26              \n\t"
        "andi  r26, 0x0F        \n\t"
        "clr   r27              \n\t"
        "subi  r26, lo8(-(%[gam])) \n\t"
        "sbci  r27, hi8(-(%[gam])) \n\t"
        "ld    r18, X+          \n\t"
        "ld    r24, X           \n\t"
        "sub   r24, r18         \n\t"
        "mul   r24, r21         \n\t"
        "movw  r24, r0          \n\t"
        "lsr   r25              \n\t"
        "ror   r24              \n\t"
        "lsr   r25              \n\t"
        "ror   r24              \n\t"
        "lsr   r25              \n\t"
        "ror   r24              \n\t"
        "lsr   r25              \n\t"
        "ror   r24              \n\t"
        "add   r18, r24         \n\t"
        "brne  25f              \n\t"
        "ldi   r18, 1           \n\t"
        "25:                    \n\t"
        "std   Y+23, r18        \n\t"
        "ldd   r22, Y+6         \n\t" /* env output: min(sm, 32767) */
        "ldd   r23, Y+7         \n\t"
        "sbrs  r23, 7           \n\t"
        "rjmp  26f              \n\t"
        "ldi   r22, 0xFF        \n\t"
        "ldi   r23, 0x7F        \n\t"
        "26:                    \n\t"
        "std   Y+18, r22        \n\t"
        "std   Y+19, r23        \n\t"
        "pop   r31              \n\t" /* Z = o */
        "pop   r30              \n\t"
        "std   Z+2, r22         \n\t"
        "std   Z+3, r23         \n\t"
        "std   Z+4, r18         \n\t"
        "clr   r1               \n\t"
        "pop   r17              \n\t"
        "pop   r16              \n\t"
        "pop   r29              \n\t"
        "pop   r28              \n\t"
        "ret                    \n\t"
        "30:                    \n\t" /* relative onset: L slow_in / 2 > fl sm_in */
        "ldd   r20, Y+14        \n\t" /* fl = min(slow norm >> 8, 65535) -> r18:r19 */
        "ldd   r21, Y+15        \n\t"
        "mul   r24, r20         \n\t"
        "mov   r18, r1          \n\t"
        "mul   r25, r21         \n\t"
        "mov   r19, r0          \n\t"
        "mov   r26, r1          \n\t"
        "mul   r24, r21         \n\t"
        "add   r18, r0          \n\t"
        "adc   r19, r1          \n\t"
        "adc   r26, r16         \n\t"
        "mul   r25, r20         \n\t"
        "add   r18, r0          \n\t"
        "adc   r19, r1          \n\t"
        "adc   r26, r16         \n\t"
        "tst   r26              \n\t"
        "breq  12f              \n\t"
        "ldi   r18, 0xFF        \n\t"
        "ldi   r19, 0xFF        \n\t"
        "12:                    \n\t" /* at least the gate */
        "ldd   r20, Z+8         \n\t"
        "ldd   r21, Z+9         \n\t"
        "cp    r18, r20         \n\t"
        "cpc   r19, r21         \n\t"
        "brcc  13f              \n\t"
        "movw  r18, r20         \n\t"
        "13:                    \n\t" /* A = fl sm_in -> r22..r25 */
        "ldd   r20, Z+18        \n\t"
        "ldd   r21, Z+19        \n\t"
        "mul   r18, r20         \n\t"
        "movw  r22, r0          \n\t"
        "mul   r19, r21         \n\t"
        "movw  r24, r0          \n\t"
        "mul   r19, r20         \n\t"
        "add   r23, r0          \n\t"
        "adc   r24, r1          \n\t"
        "adc   r25, r16         \n\t"
        "mul   r18, r21         \n\t"
        "add   r23, r0          \n\t"
        "adc   r24, r1          \n\t"
        "adc   r25, r16         \n\t"
        "ldd   r20, Y+16        \n\t" /* B = L slow_in -> r18, r19, r26, r27 */
        "ldd   r21, Y+17        \n\t"
        "push  r30              \n\t"
        "push  r31              \n\t"
        "ldd   r0, Z+20         \n\t"
        "ldd   r31, Z+21        \n\t"
        "mov   r30, r0          \n\t"
        "mul   r20, r30         \n\t"
        "movw  r18, r0          \n\t"
        "mul   r21, r31         \n\t"
        "movw  r26, r0          \n\t"
        "mul   r21, r30         \n\t"
        "add   r19, r0          \n\t"
        "adc   r26, r1          \n\t"
        "adc   r27, r16         \n\t"
        "mul   r20, r31         \n\t"
        "add   r19, r0          \n\t"
        "adc   r26, r1          \n\t"
        "adc   r27, r16         \n\t"
        "pop   r31              \n\t"
        "pop   r30              \n\t"
        "lsr   r27              \n\t" /* B >> 1 > A */
        "ror   r26              \n\t"
        "ror   r19              \n\t"
        "ror   r18              \n\t"
        "cp    r22, r18         \n\t"
        "cpc   r23, r19         \n\t"
        "cpc   r24, r26         \n\t"
        "cpc   r25, r27         \n\t"
        "brcc  31f              \n\t"
        "ldi   r17, 1           \n\t"
        "31:                    \n\t"
        "rjmp  20b              \n\t"
        :
        : [gam] "i"(GAMMA17), [poles] "i"(organ_avr_chan_poles));
}

/* thr = (sm v) >> 15 into g + G (16 bits): v at X (advanced by 2), sm in r22:r23, zero r16 */
#define ORGAN_ASM_THR(G)                                                                        \
    "ld    r24, X+            \n\t"                                                              \
    "ld    r25, X+            \n\t"                                                              \
    "mul   r22, r24           \n\t"                                                              \
    "mov   r18, r1            \n\t"                                                              \
    "mul   r23, r25           \n\t"                                                              \
    "movw  r20, r0            \n\t"                                                              \
    "mul   r23, r24           \n\t"                                                              \
    "add   r18, r0            \n\t"                                                              \
    "adc   r20, r1            \n\t"                                                              \
    "adc   r21, r16           \n\t"                                                              \
    "mul   r22, r25           \n\t"                                                              \
    "add   r18, r0            \n\t"                                                              \
    "adc   r20, r1            \n\t"                                                              \
    "adc   r21, r16           \n\t"                                                              \
    "lsl   r18                \n\t"                                                              \
    "rol   r20                \n\t"                                                              \
    "rol   r21                \n\t"                                                              \
    "std   Z+" G ", r20       \n\t"                                                              \
    "std   Z+" G "+1, r21     \n\t"

/* organ_ctl_input() of organ_dsp_fixed.h: copies, the input channel's one-poles and levels,
 * the thresholds, the transient window.  Argument s (r24). */
ORGAN_NOINLINE __attribute__((naked)) void organ_ctl_input(organ_state_t *s)
{
    (void)s;
    __asm__ __volatile__(
        "push  r28              \n\t"
        "push  r29              \n\t"
        "push  r16              \n\t"
        "push  r17              \n\t"
        "push  r24              \n\t" /* s, for the end */
        "push  r25              \n\t"
        "movw  r26, r24         \n\t"
        "subi  r26, lo8(-(%[op])) \n\t"
        "sbci  r27, hi8(-(%[op])) \n\t"
        "ld    r16, X+          \n\t" /* p */
        "ld    r17, X           \n\t"
        "movw  r28, r24         \n\t" /* Y = the input channel */
        "subi  r28, lo8(-(%[och])) \n\t"
        "sbci  r29, hi8(-(%[och])) \n\t"
        "movw  r30, r24         \n\t" /* Z = g */
        "subi  r30, lo8(-(%[og])) \n\t"
        "sbci  r31, hi8(-(%[og])) \n\t"
        "movw  r26, r16         \n\t" /* the one-pole coefficients */
        "ld    r18, X+          \n\t"
        "std   Z+0, r18         \n\t"
        "ld    r18, X+          \n\t"
        "std   Z+1, r18         \n\t"
        "ld    r18, X+          \n\t"
        "std   Z+2, r18         \n\t"
        "ld    r18, X+          \n\t"
        "std   Z+3, r18         \n\t"
        "ld    r18, X+          \n\t"
        "std   Z+4, r18         \n\t"
        "ld    r18, X+          \n\t"
        "std   Z+5, r18         \n\t"
        "ld    r18, X+          \n\t"
        "std   Z+6, r18         \n\t"
        "ld    r18, X           \n\t"
        "std   Z+7, r18         \n\t"
        "movw  r26, r16         \n\t" /* the hold time */
        "subi  r26, lo8(-(%[ph])) \n\t"
        "sbci  r27, hi8(-(%[ph])) \n\t"
        "ld    r18, X+          \n\t"
        "std   Z+28, r18        \n\t"
        "ld    r18, X           \n\t"
        "std   Z+29, r18        \n\t"
        "movw  r26, r16         \n\t" /* the onset parameter */
        "subi  r26, lo8(-(%[pv] + 40)) \n\t"
        "sbci  r27, hi8(-(%[pv] + 40)) \n\t"
        "ld    r18, X+          \n\t"
        "std   Z+16, r18        \n\t"
        "ld    r18, X           \n\t"
        "std   Z+17, r18        \n\t"
        "ldd   r18, Z+26        \n\t" /* the loudest band: of the last round, and from zero */
        "std   Z+24, r18        \n\t"
        "ldd   r18, Z+27        \n\t"
        "std   Z+25, r18        \n\t"
        "std   Z+26, __zero_reg__ \n\t"
        "std   Z+27, __zero_reg__ \n\t"
        "push  r16              \n\t" /* p */
        "push  r17              \n\t"
        "clr   r16              \n\t"
        "call  %x[poles]        \n\t" /* envelope, smoother, slow average */
        "ldd   r22, Y+6         \n\t" /* sm_in, slow_in */
        "ldd   r23, Y+7         \n\t"
        "std   Z+18, r22        \n\t"
        "std   Z+19, r23        \n\t"
        "ldd   r18, Y+10        \n\t"
        "std   Z+20, r18        \n\t"
        "ldd   r18, Y+11        \n\t"
        "std   Z+21, r18        \n\t"
        "pop   r29              \n\t" /* Y = p */
        "pop   r28              \n\t"
        "movw  r26, r28         \n\t" /* on_threshold, off_threshold, share */
        "subi  r26, lo8(-(%[pv] + 16)) \n\t"
        "sbci  r27, hi8(-(%[pv] + 16)) \n\t"
        ORGAN_ASM_THR("10")
        "adiw  r26, 2           \n\t"
        ORGAN_ASM_THR("12")
        "movw  r26, r28         \n\t"
        "subi  r26, lo8(-(%[pv] + 52)) \n\t"
        "sbci  r27, hi8(-(%[pv] + 52)) \n\t"
        ORGAN_ASM_THR("14")
        "pop   r27              \n\t" /* X = &s->age */
        "pop   r26              \n\t"
        "push  r26              \n\t"
        "push  r27              \n\t"
        "subi  r26, lo8(-(%[oa])) \n\t"
        "sbci  r27, hi8(-(%[oa])) \n\t"
        "ld    r17, X           \n\t"
        "ldd   r24, Y+%[psq]    \n\t" /* onset of the input: sm > squelch and */
        "ldd   r25, Y+%[psq]+1  \n\t"
        "cp    r24, r22         \n\t"
        "cpc   r25, r23         \n\t"
        "brcc  6f               \n\t"
        "ldd   r18, Z+20        \n\t" /* sm << 8 >= slow onset */
        "ldd   r19, Z+21        \n\t"
        "ldd   r24, Z+16        \n\t"
        "ldd   r25, Z+17        \n\t"
        "push  r26              \n\t"
        "push  r27              \n\t"
        "mul   r18, r24         \n\t"
        "movw  r20, r0          \n\t"
        "mul   r19, r25         \n\t"
        "movw  r26, r0          \n\t"
        "mul   r19, r24         \n\t"
        "add   r21, r0          \n\t"
        "adc   r26, r1          \n\t"
        "adc   r27, r16         \n\t"
        "mul   r18, r25         \n\t"
        "add   r21, r0          \n\t"
        "adc   r26, r1          \n\t"
        "adc   r27, r16         \n\t"
        "mov   r18, r27         \n\t"
        "mov   r19, r26         \n\t"
        "pop   r27              \n\t"
        "pop   r26              \n\t"
        "tst   r18              \n\t"
        "brne  6f               \n\t"
        "cp    r16, r20         \n\t"
        "cpc   r22, r21         \n\t"
        "cpc   r23, r19         \n\t"
        "brcs  6f               \n\t"
        "cpi   r17, 0xFF        \n\t" /* age = min(age + 1, 255) */
        "breq  7f               \n\t"
        "inc   r17              \n\t"
        "rjmp  7f               \n\t"
        "6:                     \n\t"
        "clr   r17              \n\t"
        "7:                     \n\t"
        "st    X, r17           \n\t"
        "clr   r18              \n\t" /* share path open: 2 <= age <= age_max + 1 */
        "cpi   r17, 2           \n\t"
        "brcs  8f               \n\t"
        "dec   r17              \n\t"
        "ldd   r19, Y+%[pam]    \n\t"
        "cp    r19, r17         \n\t"
        "brcs  8f               \n\t"
        "ldi   r18, 1           \n\t"
        "8:                     \n\t"
        "std   Z+31, r18        \n\t"
        "clr   r1               \n\t"
        "pop   r25              \n\t" /* s */
        "pop   r24              \n\t"
        "pop   r17              \n\t"
        "pop   r16              \n\t"
        "pop   r29              \n\t"
        "pop   r28              \n\t"
        "ret                    \n\t"
        :
        : [poles] "i"(organ_avr_chan_poles), [op] "n"(offsetof(organ_state_t, p)),
          [och] "n"(offsetof(organ_state_t, ch)),
          [og] "n"(offsetof(organ_state_t, g)), [oa] "n"(offsetof(organ_state_t, age)),
          [ph] "n"(offsetof(organ_params_t, hold_ticks)),
          [pv] "n"(offsetof(organ_params_t, v)), [psq] "n"(offsetof(organ_params_t, squelch_m)),
          [pam] "n"(offsetof(organ_params_t, age_max)));
}

#endif /* ORGAN_DSP_AVRCTL_H */
