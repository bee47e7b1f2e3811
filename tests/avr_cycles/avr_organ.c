/*
 * avr_organ.c - ATmega328P test program around the DSP core (built by avr_run.py).
 *
 * KERNEL (default): read a sample count and int16 samples from GPIOR1/GPIOR2 (the simavr
 * harness answers those reads), stamp GPIOR0 = 1 before each sample and, after it, 2 or (when
 * a control task ran) 0x40 + that task's index, and write every band's y, env (little endian)
 * and led to GPIOR2 (at the end the saturation count).  The sample goes through
 * organ_process_sample() (the design's out-of-line step); with -DSTEP_INLINE through the step
 * inlined here; with -DSTEP_PAIRS two samples at a time through the two-sample step, as the
 * firmware's interrupt does (stamps and outputs once per pair; the count must be even).
 * ISR (-DMODE_ISR): the firmware's sample path: free-running ADC at clk/64 (13 cycles per
 * conversion = 832 CPU cycles; ADC_PRESCALER_BITS 7: clk/128, 1664 cycles); the ADC
 * interrupt of firmware_templates/src/main_avr.cpp.j2 (a short interrupt keeps the first
 * sample of a pair, the second runs the two-sample step; busy and backlog flags, interrupts
 * enabled around the step); with -DSINGLE the one-sample interrupt instead.  main() only
 * stamps GPIOR0, so the harness sees the cycles the interrupt takes.
 */
#include <stdint.h>

#include <avr/interrupt.h>
#include <avr/io.h>

#include "organ_dsp.h"
#include "design_tables.h"

static organ_state_t st;
static organ_params_t pr;
static organ_band_out_t out[ORGAN_MAX_BANDS];

/* Out of line, so that main() needs no stack frame (and keeps the frame pointer's registers
 * free for the inlined step), as an interrupt does. */
static void __attribute__((noinline)) setup(void)
{
    organ_params_default(&organ_design, &pr);
    organ_init(&st, &organ_design, &pr);
}

#ifdef MODE_ISR
#ifndef ADC_PRESCALER_BITS
#define ADC_PRESCALER_BITS (_BV(ADPS2) | _BV(ADPS1)) /* clock / 64: 19230.77 Hz */
#endif
static volatile uint8_t dsp_busy, rx_backlog, paused;

#ifndef SINGLE
/* the interrupt's assembly names these, so they keep their names through LTO */
volatile uint8_t organ_adc_phase __attribute__((used, externally_visible));
volatile uint16_t organ_adc_held __attribute__((used, externally_visible));
void __vector_organ_pair(void) __attribute__((signal, used, externally_visible));

ISR(ADC_vect, ISR_NAKED)
{
    __asm__ __volatile__(
        "push  r24                   \n\t"
        "in    r24, __SREG__         \n\t"
        "push  r24                   \n\t"
        "lds   r24, organ_adc_phase  \n\t"
        "com   r24                   \n\t"
        "sts   organ_adc_phase, r24  \n\t"
        "brne  1f                    \n\t"
        "pop   r24                   \n\t"
        "out   __SREG__, r24         \n\t"
        "pop   r24                   \n\t"
        "jmp   __vector_organ_pair   \n\t"
        "1:                          \n\t"
        "lds   r24, %[adcl]          \n\t"
        "sts   organ_adc_held, r24   \n\t"
        "lds   r24, %[adch]          \n\t"
        "sts   organ_adc_held+1, r24 \n\t"
        "pop   r24                   \n\t"
        "out   __SREG__, r24         \n\t"
        "pop   r24                   \n\t"
        "reti                        \n\t"
        :
        : [adcl] "n"(_SFR_MEM_ADDR(ADCL)), [adch] "n"(_SFR_MEM_ADDR(ADCH)));
}

void __vector_organ_pair(void)
{
    int16_t x0 = (int16_t)(organ_adc_held ^ 0x8000u);
    int16_t x1 = (int16_t)(ADC ^ 0x8000u);
    if (dsp_busy || rx_backlog) {
        GPIOR1 += 2;
        return;
    }
    dsp_busy = 1;
    sei();
    if (!paused) {
        organ_design_step2(&st, x0, x1, out);
    }
    cli();
    dsp_busy = 0;
}
#else
ISR(ADC_vect)
{
    int16_t x = (int16_t)(ADC ^ 0x8000u);
    if (dsp_busy || rx_backlog) {
        GPIOR1++;
        return;
    }
    dsp_busy = 1;
    sei();
    if (!paused) {
        organ_design_step(&st, x, out);
    }
    cli();
    dsp_busy = 0;
}
#endif

int main(void)
{
    setup();
    ADMUX = _BV(REFS0) | _BV(ADLAR);
    ADCSRB = 0;
    ADCSRA = _BV(ADEN) | _BV(ADSC) | _BV(ADATE) | _BV(ADIE) | ADC_PRESCALER_BITS;
    sei();
    for (;;) {
        GPIOR0 = 1;
    }
}

#else

static int16_t read_sample(void)
{
    uint8_t lo = GPIOR1;
    return (int16_t)(lo | ((uint16_t)GPIOR2 << 8));
}

int main(void)
{
    uint16_t n;
    uint8_t b;
    setup();
    n = GPIOR1;
    n |= (uint16_t)GPIOR2 << 8;
    while (n) {
        int16_t x = read_sample();
        uint8_t t = st.tick;
        uint8_t task;
#ifdef STEP_PAIRS
        int16_t x1 = read_sample();
        n -= 2;
        task = t < 2u * organ_design.n_bands + 6u ? (uint8_t)(0x40u + t / 2u) : 2u;
        GPIOR0 = 1;
        organ_design_step2(&st, x, x1, out);
#else
        n--;
        task = (t & 1u) && t < 2u * organ_design.n_bands + 6u ? (uint8_t)(0x40u + t / 2u) : 2u;
        GPIOR0 = 1;
#ifdef STEP_INLINE
        organ_design_step(&st, x, out);
#else
        organ_process_sample(&st, x, out);
#endif
#endif
        GPIOR0 = task;
        for (b = 0; b < organ_design.n_bands; b++) {
            GPIOR2 = (uint8_t)out[b].y;
            GPIOR2 = (uint8_t)((uint16_t)out[b].y >> 8);
            GPIOR2 = (uint8_t)out[b].env;
            GPIOR2 = (uint8_t)((uint16_t)out[b].env >> 8);
            GPIOR2 = out[b].led;
        }
    }
    GPIOR2 = (uint8_t)st.overflows; /* the saturation count, after the samples */
    GPIOR2 = (uint8_t)(st.overflows >> 8);
    GPIOR0 = 0xFF;
    for (;;) {
    }
}

#endif
