/*
 * probes.c - what the harness puts into and reads out of the simulated ATmega328P, without
 * touching the firmware:
 *
 * - ADC0: at the start of each conversion (simavr's ADC_IRQ_OUT_TRIGGER, free-running mode) the
 *   next int16 sample x of the stream becomes the pin voltage whose 10-bit code is
 *   (x >> 6) + 512, exactly: millivolts ceil(code * AVcc / 1023) (simavr converts
 *   floor(mV * 1023 / AVcc)). The firmware reads (code - 512) << 6, i.e. x with its low six bits
 *   cleared. Stream: a raw int16 file (looped or not), or a pipe read as conversions need it;
 *   silence (mid-supply) without one; optional uniform noise.
 * - LED pins: leds.c.
 * - Interrupts: each vector's RUNNING IRQ (raised when the vector is taken, lowered at its RETI)
 *   on a stack, so nested interrupts (the ADC interrupt re-enables interrupts for the serial port)
 *   are subtracted from the one they interrupted: "own" cycles per vector. ADC interrupts whose
 *   own cycles are under short_limit returned without running the DSP (an overrun, live audio
 *   paused, the receive backlog rule); the others are the per-sample work.
 * - Processed samples (optional): the harness sits in front of ADCH's read handler, so it knows
 *   the result each ADC interrupt read; those of the interrupts that ran the DSP go, in order, to
 *   the --processed file: exactly the input the firmware's DSP saw.
 * - PC profile (optional): cycles per function of the ELF's symbol table, attributed by the
 *   program counter before each instruction.
 */
#define _XOPEN_SOURCE 700

#include <stdlib.h>
#include <string.h>

#include "avr_adc.h"
#include "harness.h"
#include "sim_interrupts.h"

#define AVCC_MV 5000u

static probes_t *g_probes; /* one harness, one probes_t: the vectors' IRQ callbacks find it here */

void stat_add(stat_t *s, uint64_t v)
{
    if (s->count == 0 || v < s->min) {
        s->min = v;
    }
    if (v > s->max) {
        s->max = v;
    }
    s->count++;
    s->sum += v;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static int16_t next_sample(probes_t *p)
{
    int32_t v = 0;
    uint64_t k = p->samples;
    if (p->audio && (p->loop || k < p->n_audio)) {
        v = p->audio[k % p->n_audio];
    } else if (p->stream && !p->stream_eof) {
        uint8_t b[2];
        if (fread(b, 1, 2, p->stream) == 2) {
            v = (int16_t)(b[0] | (b[1] << 8));
        } else {
            p->stream_eof = 1;
        }
    }
    if (p->noise) {
        v += (int32_t)(xorshift(&p->rng) % (uint32_t)(2 * p->noise + 1)) - p->noise;
    }
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static void on_conversion(struct avr_irq_t *irq, uint32_t value, void *param)
{
    probes_t *p = param;
    union {
        avr_adc_mux_t mux;
        uint32_t v;
    } e;
    uint32_t code;
    (void)irq;
    e.v = value;
    if (e.mux.kind != ADC_MUX_SINGLE || (int)e.mux.src != p->channel) {
        return;
    }
    code = (uint32_t)((next_sample(p) >> 6) + 512);
    avr_raise_irq(p->adc_in, (code * AVCC_MV + 1022u) / 1023u);
    if (p->samples == 0) {
        p->first_cycle = p->avr->cycle;
    }
    while (p->next_mark < p->n_marks && p->marks[p->next_mark] <= p->samples) {
        if (p->log && p->marks[p->next_mark] == p->samples) {
            fprintf(p->log, "S %llu %llu\n", (unsigned long long)p->avr->cycle,
                    (unsigned long long)p->samples);
        }
        p->next_mark++;
    }
    p->samples++;
}

static void on_vector(struct avr_irq_t *irq, uint32_t value, void *param)
{
    probes_t *p = g_probes;
    int v = (int)(intptr_t)param;
    (void)irq;
    if (value) {
        if (p->depth < 64) {
            p->stack[p->depth].vector = v;
            p->stack[p->depth].start = p->avr->cycle;
            p->stack[p->depth].nested = 0;
            p->stack[p->depth].adc_read = -1;
        }
        p->depth++;
        return;
    }
    if (p->depth == 0) {
        return;
    }
    p->depth--;
    if (p->depth < 64) {
        uint64_t start = p->stack[p->depth].start;
        uint64_t all = p->avr->cycle - start;
        uint64_t own = all - p->stack[p->depth].nested;
        int vec = p->stack[p->depth].vector;
        if (p->depth > 0 && p->depth - 1 < 64) {
            p->stack[p->depth - 1].nested += all;
        }
        if (start >= p->from_cycle && vec >= 0 && vec < N_VECTORS) {
            stat_add(&p->own[vec], own);
            stat_add(&p->total[vec], all);
            if (vec == ADC_VECTOR) {
                if (own < p->short_limit) {
                    stat_add(&p->adc_short, own);
                } else {
                    stat_add(&p->adc_dsp, own);
                    p->hist[own < HIST_MAX ? own : HIST_MAX - 1]++;
                }
            }
        }
        if (vec == ADC_VECTOR && own >= p->short_limit && p->processed &&
            p->stack[p->depth].adc_read >= 0) {
            /* the firmware's input: (adc - 512) << 6 of the left-adjusted result */
            uint16_t x = (uint16_t)(p->stack[p->depth].adc_read ^ 0x8000);
            uint8_t b[2] = {(uint8_t)(x & 0xFF), (uint8_t)(x >> 8)};
            fwrite(b, 1, 2, p->processed);
            p->n_processed++;
        }
    }
}

/* ADCH read: ADCL was read just before (the 16-bit access), so both halves are the result the
 * running interrupt took; the innermost ADC interrupt on the stack owns it. */
static struct {
    avr_io_read_t c;
    void *param;
} adch_reader;

static uint8_t on_adch_read(struct avr_t *avr, avr_io_addr_t addr, void *param)
{
    probes_t *p = param;
    uint8_t hi = adch_reader.c ? adch_reader.c(avr, addr, adch_reader.param) : avr->data[addr];
    int d;
    for (d = (p->depth < 64 ? p->depth : 64) - 1; d >= 0; d--) {
        if (p->stack[d].vector == ADC_VECTOR) {
            p->stack[d].adc_read = (int32_t)(avr->data[addr - 1] | ((uint16_t)hi << 8));
            break;
        }
    }
    return hi;
}

void probes_watch_adc_reads(probes_t *p)
{
    int a = AVR_DATA_TO_IO(0x79); /* ADCH */
    adch_reader.c = p->avr->io[a].r.c;
    adch_reader.param = p->avr->io[a].r.param;
    p->avr->io[a].r.c = on_adch_read;
    p->avr->io[a].r.param = p;
}

int probes_init(probes_t *p, avr_t *avr)
{
    int v;
    memset(p, 0, sizeof *p);
    p->avr = avr;
    p->loop = 1;
    p->rng = 1;
    p->short_limit = 200;
    p->hist = calloc(HIST_MAX, sizeof *p->hist);
    if (!p->hist) {
        return -1;
    }
    g_probes = p;
    p->adc_in = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER),
                            on_conversion, p);
    for (v = 1; v < N_VECTORS; v++) {
        avr_irq_t *irq = avr_get_interrupt_irq(avr, (uint8_t)v);
        if (irq) {
            avr_irq_register_notify(irq + AVR_INT_IRQ_RUNNING, on_vector, (void *)(intptr_t)v);
        }
    }
    return 0;
}

int probes_load_audio(probes_t *p, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    long size;
    size_t i;
    if (!f) {
        return -1;
    }
    if (f == stdin || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0) {
        p->stream = f; /* a pipe: read as the conversions need samples */
        return 0;
    }
    fseek(f, 0, SEEK_SET);
    p->n_audio = (size_t)size / 2u;
    p->audio = malloc(p->n_audio * 2u + 2u);
    if (!p->audio || fread(p->audio, 2, p->n_audio, f) != p->n_audio) {
        fclose(f);
        return -1;
    }
    fclose(f);
    for (i = 0; i < p->n_audio; i++) { /* the file is little endian */
        uint8_t *b = (uint8_t *)&p->audio[i];
        p->audio[i] = (int16_t)(b[0] | (b[1] << 8));
    }
    if (p->n_audio == 0) {
        free(p->audio);
        p->audio = NULL;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int probes_marks(probes_t *p, const char *list)
{
    const char *s = list;
    size_t cap = 16;
    p->marks = malloc(cap * sizeof *p->marks);
    while (p->marks && *s) {
        char *end;
        unsigned long long k = strtoull(s, &end, 10);
        if (end == s || (*end && *end != ',')) {
            return -1;
        }
        if (p->n_marks == cap) {
            cap *= 2;
            p->marks = realloc(p->marks, cap * sizeof *p->marks);
            if (!p->marks) {
                return -1;
            }
        }
        p->marks[p->n_marks++] = k;
        s = *end ? end + 1 : end;
    }
    if (!p->marks) {
        return -1;
    }
    qsort(p->marks, p->n_marks, sizeof *p->marks, cmp_u64);
    return 0;
}

int probes_load_profile(probes_t *p, const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long addr, size;
    char name[256];
    int cap = 64;
    if (!f) {
        return -1;
    }
    p->pc_fn = calloc(32768u / 2u, sizeof *p->pc_fn);
    p->fn_name = calloc((size_t)cap, sizeof *p->fn_name);
    while (p->pc_fn && p->fn_name && fscanf(f, "%lx %lx %255s", &addr, &size, name) == 3) {
        unsigned long a;
        if (p->n_fn + 1 >= cap) {
            cap *= 2;
            p->fn_name = realloc(p->fn_name, (size_t)cap * sizeof *p->fn_name);
            if (!p->fn_name) {
                break;
            }
        }
        p->fn_name[p->n_fn] = strdup(name);
        for (a = addr; a < addr + size && a < 32768u; a += 2) {
            p->pc_fn[a / 2] = (uint16_t)(p->n_fn + 1);
        }
        p->n_fn++;
    }
    fclose(f);
    p->fn_cycles = calloc((size_t)p->n_fn + 1, sizeof *p->fn_cycles);
    return p->pc_fn && p->fn_name && p->fn_cycles ? 0 : -1;
}

void probes_step_profiled(probes_t *p)
{
    avr_flashaddr_t pc = p->avr->pc;
    avr_cycle_count_t c0 = p->avr->cycle;
    p->avr->run(p->avr);
    if (c0 >= p->from_cycle) {
        p->fn_cycles[pc < 32768u ? p->pc_fn[pc / 2] : 0] += p->avr->cycle - c0;
    }
}

static void stat_json(FILE *f, const char *key, const stat_t *s)
{
    fprintf(f, "\"%s\": {\"count\": %llu, \"sum\": %llu, \"min\": %llu, \"max\": %llu}", key,
            (unsigned long long)s->count, (unsigned long long)s->sum,
            (unsigned long long)s->min, (unsigned long long)s->max);
}

static uint32_t percentile(const probes_t *p, double q)
{
    uint64_t want = (uint64_t)(q * (double)p->adc_dsp.count), seen = 0;
    uint32_t c;
    for (c = 0; c < HIST_MAX; c++) {
        seen += p->hist[c];
        if (seen > want) {
            return c;
        }
    }
    return HIST_MAX - 1;
}

/* the probes' fields of the stats object, each followed by ", " */
void probes_json(const probes_t *p, FILE *f)
{
    int i, first = 1;
    fprintf(f, "\"adc\": {\"samples\": %llu, \"first_cycle\": %llu, \"channel\": %d, "
               "\"processed\": %llu}, ",
            (unsigned long long)p->samples, (unsigned long long)p->first_cycle, p->channel,
            (unsigned long long)p->n_processed);
    fprintf(f, "\"vectors\": {");
    for (i = 1; i < N_VECTORS; i++) {
        if (!p->own[i].count) {
            continue;
        }
        fprintf(f, "%s\"%d\": {", first ? "" : ", ", i);
        stat_json(f, "own", &p->own[i]);
        fprintf(f, ", ");
        stat_json(f, "total", &p->total[i]);
        fprintf(f, "}");
        first = 0;
    }
    fprintf(f, "}, ");
    stat_json(f, "adc_dsp", &p->adc_dsp);
    fprintf(f, ", ");
    stat_json(f, "adc_short", &p->adc_short);
    fprintf(f, ", \"adc_dsp_p50\": %u, \"adc_dsp_p99\": %u, \"short_limit\": %u, ",
            p->adc_dsp.count ? percentile(p, 0.5) : 0, p->adc_dsp.count ? percentile(p, 0.99) : 0,
            p->short_limit);
    fprintf(f, "\"leds\": {");
    for (i = 0; i < p->n_led; i++) {
        fprintf(f, "%s\"%d\": {\"rises\": %llu, \"first_rise\": %llu, \"high_cycles\": %llu}",
                i ? ", " : "", p->led_pin[i], (unsigned long long)p->rises[i],
                (unsigned long long)p->first_rise[i], (unsigned long long)p->high_cycles[i]);
    }
    fprintf(f, "}, \"profile\": {");
    first = 1;
    for (i = 0; p->fn_cycles && i <= p->n_fn; i++) {
        if (p->fn_cycles[i]) {
            fprintf(f, "%s\"%s\": %llu", first ? "" : ", ", i ? p->fn_name[i - 1] : "?",
                    (unsigned long long)p->fn_cycles[i]);
            first = 0;
        }
    }
    fprintf(f, "}, ");
}
