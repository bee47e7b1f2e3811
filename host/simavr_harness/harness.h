/*
 * harness.h - the simavr board harness: shared state of its three parts.
 *
 *   main.c     the ATmega328P (libsimavr), the run loop, EEPROM file, signals, stats
 *   options.c  the command line
 *   bridge.c   UART0 <-> a pseudo-terminal, single-threaded, bytes paced at the wire rate
 *   probes.c   ADC0 fed from a sample stream, interrupt timing, PC profile
 *   leds.c     the LED pins' levels from the registers the firmware writes
 *
 * Every time is in CPU cycles of the simulated 16 MHz clock (avr->cycle) unless named *_ns.
 */
#ifndef SIMAVR_HARNESS_H
#define SIMAVR_HARNESS_H

#include <stdint.h>
#include <stdio.h>

#include "sim_avr.h"

#define F_CPU_HZ 16000000u
#define N_VECTORS 26        /* ATmega328P interrupt vectors, reset included */
#define ADC_VECTOR 21       /* ADC_vect */
#define MAX_LED_PINS 20     /* Arduino Uno digital pins 0..19 (A0..A5 = 14..19) */
#define HIST_MAX 8192       /* cycles: histogram range of the ADC interrupt's own cycles */

typedef struct {
    uint64_t count, sum, min, max;
} stat_t;

void stat_add(stat_t *s, uint64_t v);

/* ---- options.c ----------------------------------------------------------------------------- */

typedef struct {
    const char *elf, *storage, *audio, *led_pins, *log, *marks, *stats, *profile, *processed;
    unsigned storage_size;
    int pty, loop, noise, watch_stdin, uart_ideal, channel;
    uint32_t seed, short_isr;
    double warmup, seconds, speed, idle_speed;
} options_t;

int parse_args(int argc, char **argv, options_t *o);

/* ---- bridge.c ------------------------------------------------------------------------------ */

typedef struct {
    int master, slave;       /* pty; the slave stays open so clients may come and go */
    char name[256];
    uint8_t *rx;             /* host -> board bytes not yet on the simulated wire */
    size_t rx_head, rx_len;
    uint8_t *tx;             /* board -> host bytes not yet taken by the pty */
    size_t tx_head, tx_len;
    uint64_t tx_dropped;     /* bytes lost because nobody read the port */
    uint64_t rx_bytes, tx_bytes;
    uint64_t rx_overruns;    /* bytes a real UART would have lost (receive FIFO full) */
    int ideal;               /* 1: never lose a byte (simavr's 64-byte FIFO instead of 2) */
    int feeding;             /* the byte-pacing cycle timer is armed */
    uint64_t last_activity;  /* cycle of the last byte on the wire, either way */
    avr_t *avr;
    struct avr_uart_t *uart;
    avr_irq_t *uart_in;
} bridge_t;

int bridge_open(bridge_t *b, avr_t *avr, int with_pty, int ideal);
/* move bytes between the pty and the queues; returns -1 on a fatal pty error */
int bridge_service(bridge_t *b);
/* the link carries a command or its reply: bytes are queued or moved within busy_cycles */
int bridge_busy(const bridge_t *b, uint64_t busy_cycles);
void bridge_close(bridge_t *b);

/* ---- probes.c ------------------------------------------------------------------------------ */

typedef struct {
    /* sample stream for ADC0 */
    int16_t *audio;          /* whole file (regular file) */
    size_t n_audio;
    FILE *stream;            /* or a pipe, read as conversions need it */
    int stream_eof;
    int loop;
    int noise;               /* +- int16 units of uniform noise */
    uint32_t rng;
    int channel;             /* ADC mux source that is the microphone */
    uint64_t samples;        /* conversions of that channel so far */
    uint64_t first_cycle;    /* cycle of conversion 0 */
    uint64_t *marks;         /* sample indices whose conversion cycle is logged */
    size_t n_marks, next_mark;
    avr_irq_t *adc_in;
    /* LED pins */
    int led_pin[MAX_LED_PINS];
    int n_led;
    uint8_t pin_value[MAX_LED_PINS];
    uint64_t pin_since[MAX_LED_PINS];
    uint64_t rises[MAX_LED_PINS], high_cycles[MAX_LED_PINS];
    uint64_t first_rise[MAX_LED_PINS];
    FILE *log;               /* "P cycle pin value" and "S cycle sample_index" lines */
    FILE *processed;         /* int16 samples the DSP ran on (ADC interrupts that ran it) */
    uint64_t n_processed;
    /* interrupts: own (exclusive) cycles per vector, nested ones subtracted */
    struct {
        int vector;
        uint64_t start, nested;
        int32_t adc_read;    /* the ADC result register as this interrupt read it, or -1 */
    } stack[64];
    int depth;
    stat_t own[N_VECTORS], total[N_VECTORS];
    stat_t adc_dsp, adc_short;   /* ADC interrupts that ran the DSP / that returned at once */
    uint32_t short_limit;        /* own cycles below which an ADC interrupt "returned at once" */
    uint32_t *hist;              /* own cycles of the ADC interrupts that ran the DSP */
    /* measurement window */
    uint64_t from_cycle;
    int measuring;
    /* PC profile */
    uint16_t *pc_fn;             /* word address -> 1 + function index (0: none) */
    char **fn_name;
    uint64_t *fn_cycles;
    int n_fn;
    avr_t *avr;
} probes_t;

int probes_init(probes_t *p, avr_t *avr);
int probes_load_audio(probes_t *p, const char *path);
int probes_led_pins(probes_t *p, const char *list);
int probes_marks(probes_t *p, const char *list);
void probes_watch_adc_reads(probes_t *p);
int probes_load_profile(probes_t *p, const char *path);
void probes_start(probes_t *p);
/* one instruction (and what the simulator does around it), profiled */
void probes_step_profiled(probes_t *p);
void probes_finish(probes_t *p);
void probes_json(const probes_t *p, FILE *f);

#endif
