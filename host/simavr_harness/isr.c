/*
 * isr.c - interrupt timing, and what the firmware's ADC interrupt did with each sample.
 *
 * Timing. Each vector's RUNNING IRQ (raised when simavr takes the vector, lowered inside its
 * RETI) opens and closes a frame on a stack, so an interrupt nested in another (the pair
 * interrupt re-enables interrupts for the serial port) is subtracted from it: "own" cycles per
 * vector. Two corrections make them the chip's: simavr 1.6 spends no cycles on the interrupt
 * response (4 on the ATmega328P: push the PC, jump to the vector), and adds RETI's 4 cycles to
 * its clock only after the IRQ has fallen. With both, the store interrupt below takes 36 cycles,
 * as its instructions add up by hand.
 *
 * The paired ADC interrupt (firmware_templates/src/main_avr.cpp.j2). The interrupt of every
 * other conversion only keeps its sample (organ_adc_held) and returns; the next one runs the
 * design's two-sample step on the kept sample and its own, or drops both (the DSP is still busy
 * with the previous pair, or received bytes pile up: two overruns), or skips them (live audio is
 * paused for PROCESS), or, after a PROCESS block of odd length, runs the kept sample alone to
 * realign the pairs. What happened is read from the firmware's memory (pair_map_t: the Python
 * side finds the addresses in the ELF), never from timing:
 *   - organ_adc_phase when the vector is taken: 0 = this interrupt keeps its sample;
 *   - app.state.tick, advanced by every sample the DSP runs on: unchanged = the DSP did not run;
 *     changed from an odd value = the kept sample ran alone; else both ran;
 *   - app.overruns: grown during the interrupt (nested ones subtracted) = dropped, else paused.
 * The samples the DSP ran on go, in order, to --processed: organ_adc_held (as read at the
 * vector: the firmware reads it before it re-enables interrupts) and the ADC result the
 * interrupt itself read (ADCH read handler), both as the firmware converts them.
 * Without the tick address a pair interrupt ran the DSP when it took at least short_limit own
 * cycles; without the phase address the firmware is taken to run one sample per interrupt (the
 * older firmware), with the same threshold.
 *
 * Window: counting starts at the first ADC interrupt from from_cycle on that is the first of a
 * pair, so every pair counted is whole; "lost" = the samples of the counted interrupts the DSP
 * did not run on (two per pair interrupt, minus those it ran on), the firmware's own counter
 * next to it for comparison.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sim_interrupts.h"

#define RESPONSE_CYCLES 4u /* interrupt response, not simulated by simavr */
#define RETI_CYCLES 4u     /* added to the clock after the RUNNING IRQ falls */
#define ADCH_ADDR 0x79

static probes_t *g_isr; /* one harness, one probes_t: the vectors' IRQ callbacks find it here */

static uint32_t read_u32(const probes_t *p, uint16_t addr)
{
    const uint8_t *d = p->avr->data + addr;
    return (uint32_t)d[0] | ((uint32_t)d[1] << 8) | ((uint32_t)d[2] << 16) |
           ((uint32_t)d[3] << 24);
}

static void write_sample(probes_t *p, uint16_t left_adjusted)
{
    /* the firmware's input: (adc - 512) << 6 of the left-adjusted result */
    uint16_t x = (uint16_t)(left_adjusted ^ 0x8000u);
    uint8_t b[2] = {(uint8_t)(x & 0xFF), (uint8_t)(x >> 8)};
    fwrite(b, 1, 2, p->processed);
    p->n_processed++;
}

/* The samples an interrupt that did not just keep its sample ran through the DSP: 0, 1, 2. */
static int samples_run(const probes_t *p, const isr_frame_t *f, uint64_t own)
{
    if (!p->map.phase) {
        return own >= p->short_limit;
    }
    if (!p->map.tick) {
        return own >= p->short_limit ? 2 : 0;
    }
    if (p->avr->data[p->map.tick] == f->at_tick) {
        return 0;
    }
    return (f->at_tick & 1u) ? 1 : 2;
}

static void adc_done(probes_t *p, const isr_frame_t *f, uint64_t own, uint32_t own_overruns)
{
    int n;
    if (f->measured) {
        stat_add(&p->adc_all, own);
    }
    if (p->map.phase && f->at_phase == 0) { /* the first of a pair: it kept its sample */
        if (f->measured) {
            stat_add(&p->adc_store, own);
        }
        return;
    }
    n = samples_run(p, f, own);
    if (p->processed && n > 0) {
        if (p->map.phase) {
            write_sample(p, f->at_held);
        }
        if ((n == 2 || !p->map.phase) && f->adc_read >= 0) {
            write_sample(p, (uint16_t)f->adc_read);
        }
    }
    if (!f->measured) {
        return;
    }
    if (n == 0) {
        stat_add(&p->adc_skip, own);
        if (p->map.phase) {
            if (!p->map.overruns || own_overruns > 0) {
                p->pairs_dropped++;
            } else {
                p->pairs_paused++;
            }
        }
        return;
    }
    stat_add(&p->adc_dsp, own);
    p->hist[own < HIST_MAX ? own : HIST_MAX - 1]++;
    p->dsp_samples += (uint64_t)n;
    if (p->map.phase) {
        if (n == 2) {
            p->pairs_two++;
        } else {
            p->pairs_one++;
        }
    }
}

static void vector_entered(probes_t *p, int v)
{
    isr_frame_t *f;
    if (v == ADC_VECTOR && !p->measuring && p->avr->cycle >= p->from_cycle &&
        (!p->map.phase || p->avr->data[p->map.phase] == 0)) {
        p->measuring = 1;
        p->fw_overruns_from = p->map.overruns ? read_u32(p, p->map.overruns) : 0;
    }
    if (p->depth >= 64) {
        p->depth++;
        return;
    }
    f = &p->stack[p->depth++];
    memset(f, 0, sizeof *f);
    f->vector = v;
    f->measured = p->measuring;
    f->start = p->avr->cycle;
    f->adc_read = -1;
    if (v == ADC_VECTOR && p->map.phase) {
        const uint8_t *d = p->avr->data;
        f->at_phase = d[p->map.phase];
        f->at_held = (uint16_t)(d[p->map.held] | (d[p->map.held + 1] << 8));
        f->at_tick = p->map.tick ? d[p->map.tick] : 0;
        f->at_overruns = p->map.overruns ? read_u32(p, p->map.overruns) : 0;
    }
}

static void vector_left(probes_t *p)
{
    isr_frame_t *f, *parent;
    uint64_t span, own, total;
    uint32_t overruns = 0;
    if (p->depth == 0) {
        return;
    }
    if (--p->depth >= 64) {
        return;
    }
    f = &p->stack[p->depth];
    parent = p->depth > 0 ? &p->stack[p->depth - 1] : NULL;
    span = p->avr->cycle - f->start + RETI_CYCLES;
    own = span - f->nested_sim + RESPONSE_CYCLES;
    total = own + f->nested_real;
    if (f->vector == ADC_VECTOR && p->map.overruns) {
        uint32_t grown = read_u32(p, p->map.overruns) - f->at_overruns;
        overruns = grown - f->nested_overruns;
        if (parent) {
            parent->nested_overruns += grown;
        }
    }
    if (parent) {
        parent->nested_sim += span;
        parent->nested_real += total;
    }
    if (f->measured && f->vector >= 0 && f->vector < N_VECTORS) {
        stat_add(&p->own[f->vector], own);
        stat_add(&p->total[f->vector], total);
    }
    if (f->vector == ADC_VECTOR) {
        adc_done(p, f, own, overruns);
    }
}

static void on_vector(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    if (value) {
        vector_entered(g_isr, (int)(intptr_t)param);
    } else {
        vector_left(g_isr);
    }
}

void isr_init(probes_t *p)
{
    int v;
    g_isr = p;
    for (v = 1; v < N_VECTORS; v++) {
        avr_irq_t *irq = avr_get_interrupt_irq(p->avr, (uint8_t)v);
        if (irq) {
            avr_irq_register_notify(irq + AVR_INT_IRQ_RUNNING, on_vector, (void *)(intptr_t)v);
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

void isr_watch_adc_reads(probes_t *p)
{
    int a = AVR_DATA_TO_IO(ADCH_ADDR);
    adch_reader.c = p->avr->io[a].r.c;
    adch_reader.param = p->avr->io[a].r.param;
    p->avr->io[a].r.c = on_adch_read;
    p->avr->io[a].r.param = p;
}

static int parse_addr(const char **s, uint16_t *out)
{
    char *end;
    unsigned long a = strtoul(*s, &end, 0);
    if (end == *s || (*end && *end != ',') || a < 0x100 || a > 0x8FC) { /* SRAM */
        return -1;
    }
    *out = (uint16_t)a;
    *s = *end ? end + 1 : end;
    return 0;
}

int probes_pair_map(probes_t *p, const char *list)
{
    const char *s = list;
    if (parse_addr(&s, &p->map.phase) || parse_addr(&s, &p->map.held)) {
        return -1;
    }
    if (*s && (parse_addr(&s, &p->map.tick) || parse_addr(&s, &p->map.overruns) || *s)) {
        return -1;
    }
    return 0;
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

/* the interrupt fields of the stats object, each followed by ", " */
void isr_json(const probes_t *p, FILE *f)
{
    int i, first = 1;
    uint64_t pairs = p->pairs_two + p->pairs_one + p->pairs_dropped + p->pairs_paused;
    uint64_t lost = p->map.phase ? 2 * pairs - p->dsp_samples : p->adc_skip.count;
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
    stat_json(f, "adc_all", &p->adc_all);
    fprintf(f, ", ");
    stat_json(f, "adc_store", &p->adc_store);
    fprintf(f, ", ");
    stat_json(f, "adc_dsp", &p->adc_dsp);
    fprintf(f, ", ");
    stat_json(f, "adc_skip", &p->adc_skip);
    fprintf(f, ", \"adc_dsp_p50\": %u, \"adc_dsp_p99\": %u, \"short_limit\": %u, ",
            p->adc_dsp.count ? percentile(p, 0.5) : 0, p->adc_dsp.count ? percentile(p, 0.99) : 0,
            p->short_limit);
    fprintf(f, "\"paired\": %s, \"pairs\": {\"two\": %llu, \"one\": %llu, \"dropped\": %llu, "
               "\"paused\": %llu}, \"dsp_samples\": %llu, \"lost\": %llu, ",
            p->map.phase ? "true" : "false", (unsigned long long)p->pairs_two,
            (unsigned long long)p->pairs_one, (unsigned long long)p->pairs_dropped,
            (unsigned long long)p->pairs_paused, (unsigned long long)p->dsp_samples,
            (unsigned long long)lost);
    if (p->map.overruns) {
        uint32_t now = read_u32(p, p->map.overruns), from = p->measuring ? p->fw_overruns_from : 0;
        /* a counter below its value at the window's start: the firmware restarted since */
        fprintf(f, "\"firmware_overruns\": {\"total\": %lu, \"window\": %lu}, ",
                (unsigned long)now, (unsigned long)(now >= from ? now - from : now));
    } else {
        fprintf(f, "\"firmware_overruns\": null, ");
    }
}
