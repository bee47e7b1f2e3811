/*
 * leds.c - the LED pins of the simulated Uno, as the firmware drives them.
 *
 * simavr 1.6 does not run the phase-correct PWM of Timer1/Timer2 that Arduino's analogWrite()
 * uses ("mode 0 UNSUPPORTED"), so the pins never toggle. The harness sits in front of the
 * simulator's handlers of the registers that decide what a pin drives (PORTx, DDRx, TCCRnA's
 * compare-output bits, OCRnx) and computes the pin's level: the PWM duty (0..255) while the
 * timer drives it, 255 or 0 from the port bit otherwise, stamped SETTLE cycles (2 us) after the
 * last write of a burst. Each change goes to the log ("P cycle pin level"); per pin: turn-ons
 * (level leaves 0), the first one, and the cycles spent lit. The real pin follows a new duty at
 * the timer's next TOP (OCRnx is double-buffered in PWM modes): up to one PWM period later,
 * 2.04 ms at Arduino's 490 Hz.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SETTLE 32 /* cycles */

/* Uno pin -> its port, direction register and bit, and the timer compare output on it */
typedef struct {
    int pin;
    uint16_t port, ddr;
    uint8_t bit;
    uint16_t tccr, ocr; /* 0: no PWM on this pin */
    uint8_t com1;       /* the COMnx1 bit in tccr: set = OCnx drives the pin (non-inverting) */
} pin_map_t;

static const pin_map_t PINS[] = {
    {3, 0x2B, 0x2A, 3, 0xB0, 0xB4, 5},  {5, 0x2B, 0x2A, 5, 0x44, 0x48, 5},
    {6, 0x2B, 0x2A, 6, 0x44, 0x47, 7},  {9, 0x25, 0x24, 1, 0x80, 0x88, 7},
    {10, 0x25, 0x24, 2, 0x80, 0x8A, 5}, {11, 0x25, 0x24, 3, 0xB0, 0xB3, 7},
};

static struct {
    avr_io_write_t c;
    void *param;
    int hooked;
} chain[MAX_IOs];

static pin_map_t pin_map(int pin)
{
    pin_map_t m = {pin, 0, 0, 0, 0, 0, 0};
    size_t i;
    for (i = 0; i < sizeof PINS / sizeof PINS[0]; i++) {
        if (PINS[i].pin == pin) {
            return PINS[i];
        }
    }
    if (pin >= 0 && pin <= 7) {
        m.port = 0x2B, m.ddr = 0x2A, m.bit = (uint8_t)pin;
    } else if (pin >= 8 && pin <= 13) {
        m.port = 0x25, m.ddr = 0x24, m.bit = (uint8_t)(pin - 8);
    } else if (pin >= 14 && pin <= 19) {
        m.port = 0x28, m.ddr = 0x27, m.bit = (uint8_t)(pin - 14);
    }
    return m;
}

/* What the pin drives: the PWM duty (0..255) while the timer's compare output has it, else
 * 255 / 0 from the port bit; 0 while it is an input. */
static uint8_t pin_level(const avr_t *avr, const pin_map_t *m)
{
    if (!(avr->data[m->ddr] & (1u << m->bit))) {
        return 0;
    }
    if (m->tccr && (avr->data[m->tccr] & (1u << m->com1))) {
        return avr->data[m->ocr];
    }
    return (avr->data[m->port] & (1u << m->bit)) ? 255 : 0;
}

static void leds_update(probes_t *p)
{
    uint64_t now = p->avr->cycle;
    int i;
    for (i = 0; i < p->n_led; i++) {
        pin_map_t m = pin_map(p->led_pin[i]);
        uint8_t v = pin_level(p->avr, &m), was = p->pin_value[i];
        if (v == was) {
            continue;
        }
        if (p->log) {
            fprintf(p->log, "P %llu %d %u\n", (unsigned long long)now, p->led_pin[i], v);
        }
        if (now >= p->from_cycle && (v != 0) != (was != 0)) {
            if (v) {
                if (p->rises[i]++ == 0) {
                    p->first_rise[i] = now;
                }
            } else {
                p->high_cycles[i] += now - (p->pin_since[i] > p->from_cycle ? p->pin_since[i]
                                                                             : p->from_cycle);
            }
        }
        if ((v != 0) != (was != 0)) {
            p->pin_since[i] = now;
        }
        p->pin_value[i] = v;
    }
}

static avr_cycle_count_t leds_settled(avr_t *avr, avr_cycle_count_t when, void *param)
{
    (void)avr;
    (void)when;
    leds_update(param);
    return 0;
}

/* Sits in front of the simulator's own handler of a port, DDR, TCCRnA or OCR register. The
 * pins are read SETTLE cycles after the last of a burst of writes: analogWrite() connects the
 * compare output before it writes the new OCR value, which is no level the firmware meant. */
static void on_led_register(struct avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    int a = AVR_DATA_TO_IO(addr);
    if (chain[a].c) {
        chain[a].c(avr, addr, v, chain[a].param);
    } else {
        avr->data[addr] = v;
    }
    avr_cycle_timer_cancel(avr, leds_settled, param);
    avr_cycle_timer_register(avr, SETTLE, leds_settled, param);
}

static void hook_register(probes_t *p, uint16_t addr)
{
    int a = AVR_DATA_TO_IO(addr);
    if (!addr || chain[a].hooked) {
        return;
    }
    chain[a].c = p->avr->io[a].w.c;
    chain[a].param = p->avr->io[a].w.param;
    chain[a].hooked = 1;
    p->avr->io[a].w.c = on_led_register;
    p->avr->io[a].w.param = p;
}

int probes_led_pins(probes_t *p, const char *list)
{
    const char *s = list;
    while (*s) {
        char *end;
        long pin = strtol(s, &end, 10);
        pin_map_t m;
        if (end == s || (*end && *end != ',') || p->n_led >= MAX_LED_PINS || pin < 0 ||
            pin > 19) {
            return -1;
        }
        m = pin_map((int)pin);
        p->led_pin[p->n_led++] = (int)pin;
        hook_register(p, m.port);
        hook_register(p, m.ddr);
        hook_register(p, m.tccr);
        hook_register(p, m.ocr);
        s = *end ? end + 1 : end;
    }
    return 0;
}

void probes_start(probes_t *p)
{
    int i;
    for (i = 0; i < p->n_led; i++) {
        p->pin_since[i] = p->avr->cycle;
    }
}

void probes_finish(probes_t *p)
{
    int i;
    uint64_t now = p->avr->cycle;
    leds_update(p);
    for (i = 0; i < p->n_led; i++) {
        if (p->pin_value[i] && now > p->from_cycle) {
            uint64_t since = p->pin_since[i] > p->from_cycle ? p->pin_since[i] : p->from_cycle;
            p->high_cycles[i] += now - since;
        }
    }
    if (p->log) {
        fflush(p->log);
    }
}

