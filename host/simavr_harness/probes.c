/*
 * probes.c - what the harness puts into and reads out of the simulated ATmega328P, without
 * touching the firmware:
 *
 * - ADC0: int16 sample k of the stream is the result of conversion k: the pin voltage whose
 *   10-bit code is (x >> 6) + 512, exactly: millivolts ceil(code * AVcc / 1023) (simavr converts
 *   floor(mV * 1023 / AVcc)). The firmware reads (code - 512) << 6, i.e. x with its low six bits
 *   cleared. simavr converts when the result register is read, after the next conversion has
 *   begun (free-running mode), so the voltage is set at the start of conversion k + 1
 *   (ADC_IRQ_OUT_TRIGGER); --marks logs the start of conversion k, when the chip samples.
 *   Stream: a raw int16 file (looped or not), or a pipe read as conversions need it; silence
 *   (mid-supply) without one; optional uniform noise.
 * - LED pins: leds.c.
 * - Interrupts, and the samples the DSP actually ran on (--processed): isr.c.
 * - PC profile (optional): cycles per function of the ELF's symbol table, attributed by the
 *   program counter before each instruction.
 */
#define _XOPEN_SOURCE 700

#include <stdlib.h>
#include <string.h>

#include "avr_adc.h"
#include "harness.h"

#define AVCC_MV 5000u

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

/* sample k of the stream (a pipe is read in order, one sample per call) */
static int16_t next_sample(probes_t *p, uint64_t k)
{
    int32_t v = 0;
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
    /* simavr converts the pin voltage when the interrupt reads the result, which is after the
     * next conversion has started: the sample of conversion k goes on the pin at the start of
     * conversion k + 1 (the chip samples at the start of k and has the result at its end) */
    code = p->samples ? (uint32_t)((next_sample(p, p->samples - 1) >> 6) + 512) : 512u;
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
    if (p->measuring) {
        p->conversions++;
    }
}

int probes_init(probes_t *p, avr_t *avr)
{
    memset(p, 0, sizeof *p);
    p->avr = avr;
    p->loop = 1;
    p->rng = 1;
    p->short_limit = 300;
    p->hist = calloc(HIST_MAX, sizeof *p->hist);
    if (!p->hist) {
        return -1;
    }
    p->adc_in = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER),
                            on_conversion, p);
    isr_init(p);
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

/* the probes' fields of the stats object, each followed by ", " */
void probes_json(const probes_t *p, FILE *f)
{
    int i, first = 1;
    fprintf(f, "\"adc\": {\"samples\": %llu, \"conversions\": %llu, \"first_cycle\": %llu, "
               "\"channel\": %d, \"processed\": %llu}, ",
            (unsigned long long)p->samples, (unsigned long long)p->conversions,
            (unsigned long long)p->first_cycle, p->channel, (unsigned long long)p->n_processed);
    isr_json(p, f);
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
