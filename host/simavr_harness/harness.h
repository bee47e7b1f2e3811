/*
 * harness.h - the simavr board harness: shared state of its three parts.
 *
 *   main.c     the ATmega328P (libsimavr), the run loop, EEPROM file, signals, stats
 *   options.c  the command line
 *   bridge.c   UART0 <-> a pseudo-terminal, single-threaded, bytes paced at the wire rate
 *   probes.c   ADC0 fed from a sample stream, marks, PC profile
 *   isr.c      interrupt timing; what the paired ADC interrupt did with each sample
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
    const char *pair_map;
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

/* An interrupt in progress (isr.c). Cycles are the simulated clock's; at_* are what the
 * firmware's memory held when the vector was taken (paired ADC interrupt only). */
typedef struct {
    int vector;
    int measured;            /* began inside the measurement window */
    uint64_t start;
    uint64_t nested_sim;     /* simulated cycles of interrupts nested in this one */
    uint64_t nested_real;    /* the same with their (unsimulated) interrupt responses */
    int32_t adc_read;        /* the ADC result register as this interrupt read it, or -1 */
    uint8_t at_phase, at_tick;
    uint16_t at_held;
    uint32_t at_overruns, nested_overruns;
} isr_frame_t;

/* Where the paired ADC interrupt keeps its state: SRAM addresses (avr->data indexes) from the
 * ELF's symbols and the application's struct layout; 0 = unknown. */
typedef struct {
    uint16_t phase;          /* organ_adc_phase: 0 before the first of a pair, else 0xFF */
    uint16_t held;           /* organ_adc_held: the first sample of the pair (left-adjusted ADC) */
    uint16_t tick;           /* app.state.tick: advanced by every sample the DSP runs on */
    uint16_t overruns;       /* app.overruns: the firmware's overrun counter (uint32) */
} pair_map_t;

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
    uint64_t conversions;    /* of those, the ones in the measurement window */
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
    FILE *processed;         /* int16 samples the DSP ran on, in order */
    uint64_t n_processed;
    /* interrupts (isr.c): own (exclusive) cycles per vector, nested ones subtracted */
    isr_frame_t stack[64];
    int depth;
    stat_t own[N_VECTORS], total[N_VECTORS];
    pair_map_t map;
    stat_t adc_all;              /* every ADC interrupt */
    stat_t adc_store;            /* first of a pair: stored its sample */
    stat_t adc_dsp;              /* ran the DSP (second of a pair; or every sample, unpaired) */
    stat_t adc_skip;             /* did not run it (dropped: overrun; or live audio paused) */
    uint64_t dsp_samples;        /* samples the DSP ran on */
    uint64_t pairs_two, pairs_one, pairs_dropped, pairs_paused;
    uint32_t short_limit;        /* without map.tick: own cycles below which the DSP did not run */
    uint32_t *hist;              /* own cycles of the ADC interrupts that ran the DSP */
    uint32_t fw_overruns_from;   /* the firmware's counter when the window opened */
    /* measurement window: opens at the first ADC interrupt from from_cycle on (paired: the
     * first of a pair), so that every pair counted is whole */
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
/* the paired ADC interrupt's addresses: "PHASE,HELD[,TICK,OVERRUNS]" (decimal or 0x hex) */
int probes_pair_map(probes_t *p, const char *list);
int probes_load_audio(probes_t *p, const char *path);
int probes_led_pins(probes_t *p, const char *list);
int probes_marks(probes_t *p, const char *list);
int probes_load_profile(probes_t *p, const char *path);
void probes_start(probes_t *p);
/* one instruction (and what the simulator does around it), profiled */
void probes_step_profiled(probes_t *p);
void probes_finish(probes_t *p);
void probes_json(const probes_t *p, FILE *f);

/* ---- isr.c --------------------------------------------------------------------------------- */

void isr_init(probes_t *p);
void isr_watch_adc_reads(probes_t *p);
void isr_json(const probes_t *p, FILE *f);

#endif
