/*
 * avr_organ.c - ATmega328P test program around the DSP core (built by avr_run.py).
 *
 * KERNEL (default): read a sample count and int16 samples from GPIOR1/GPIOR2 (the simavr
 * harness answers those reads), stamp GPIOR0 = 1 / 2 around organ_process_sample(), and write
 * every band's y, env (little endian) and led to GPIOR2.  Built with -DORGAN_MARK(n)=... the
 * core adds its own stamps between the sections.
 * ISR (-DMODE_ISR): the firmware's sample path: free-running ADC at clk/64 (13 cycles per
 * conversion = 832 CPU cycles), the ADC interrupt reads the ADC, runs the core and writes the
 * LED PWM registers; main() only stamps GPIOR0 so the harness sees the cycles the ISR takes.
 */
#include <stdint.h>

#include <avr/interrupt.h>
#include <avr/io.h>

#include "organ_dsp.h"
#include "design_tables.h"

static organ_state_t st;
static organ_params_t pr;

#ifdef MODE_ISR
static organ_band_out_t out[ORGAN_MAX_BANDS];

ISR(ADC_vect)
{
    int16_t x = (int16_t)((ADC - 512u) << 6);
    organ_process_sample(&st, x, out);
    OCR0A = out[0].led;
#if ORGAN_MAX_BANDS > 1
    OCR0B = out[1].led;
#endif
#if ORGAN_MAX_BANDS > 2
    OCR2A = out[2].led;
#endif
#if ORGAN_MAX_BANDS > 3
    OCR2B = out[3].led;
#endif
}

int main(void)
{
    organ_params_default(&organ_design, &pr);
    organ_init(&st, &organ_design, &pr);
    ADMUX = _BV(REFS0);
    ADCSRB = 0;
    ADCSRA = _BV(ADEN) | _BV(ADSC) | _BV(ADATE) | _BV(ADIE) | _BV(ADPS2) | _BV(ADPS1);
    sei();
    for (;;) {
        GPIOR0 = 1;
    }
}

#else

int main(void)
{
    organ_band_out_t out[ORGAN_MAX_BANDS];
    uint16_t n;
    uint8_t b;
    organ_params_default(&organ_design, &pr);
    organ_init(&st, &organ_design, &pr);
    n = GPIOR1;
    n |= (uint16_t)GPIOR2 << 8;
    while (n--) {
        uint8_t lo = GPIOR1;
        int16_t x = (int16_t)(lo | ((uint16_t)GPIOR2 << 8));
        GPIOR0 = 1;
        organ_process_sample(&st, x, out);
        GPIOR0 = 2;
        for (b = 0; b < organ_design.n_bands; b++) {
            GPIOR2 = (uint8_t)out[b].y;
            GPIOR2 = (uint8_t)((uint16_t)out[b].y >> 8);
            GPIOR2 = (uint8_t)out[b].env;
            GPIOR2 = (uint8_t)((uint16_t)out[b].env >> 8);
            GPIOR2 = out[b].led;
        }
    }
    GPIOR0 = 0xFF;
    for (;;) {
    }
}

#endif
