/*
 * sim_harness.c - runs an AVR program in libsimavr and measures cycles.
 *
 *   sim_harness kernel ELF IN.bin OUT.bin   the test program (avr_organ.c): feed int16 samples
 *                                           (IN) through GPIOR1/GPIOR2 reads, collect its
 *                                           output bytes (writes to GPIOR2) into OUT; every
 *                                           write to GPIOR0 is a cycle stamp
 *   sim_harness isr ELF IN.bin              any program with an ADC interrupt (the test
 *                                           program's ISR mode, or the firmware): feed the
 *                                           samples to ADC0 (millivolts, free running ADC, one
 *                                           per conversion) and time every interrupt by
 *                                           following the program counter into the vector table
 *                                           and the stack pointer back out; a nested interrupt's
 *                                           cycles count for it, not for the one it interrupts
 *
 * On stdout one JSON object:
 * kernel: {"pairs": {"a>b": [count, sum, min, max], ...}} over consecutive stamps a, b;
 * isr:    {"adc": [count, sum, min, max], "other": [count, sum, min, max], "cycles": total}.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avr_adc.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_io.h"

#define GPIOR0_ADDR 0x3E
#define GPIOR1_ADDR 0x4A
#define GPIOR2_ADDR 0x4B
#define ADC_VECTOR 21  /* ATmega328P */
#define N_VECTORS 26
#define SPL_ADDR 0x5D
#define SPH_ADDR 0x5E

typedef struct {
    uint64_t count, sum, min, max;
} stat_t;

static uint8_t *in_bytes;
static size_t in_len, in_pos;
static FILE *out_file;
static int done;
static stat_t pairs[256][256];
static int have_last;
static uint8_t last_mark;
static avr_cycle_count_t last_cycle;

static void stat_add(stat_t *s, uint64_t v)
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

static uint8_t read_in(avr_t *avr, avr_io_addr_t addr, void *param)
{
    (void)avr;
    (void)addr;
    (void)param;
    return in_pos < in_len ? in_bytes[in_pos++] : 0;
}

static void write_out(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    (void)param;
    avr->data[addr] = v;
    if (out_file) {
        fputc(v, out_file);
    }
}

static void write_mark(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
    (void)param;
    avr->data[addr] = v;
    if (v == 0xFF) {
        done = 1;
        return;
    }
    if (have_last) {
        stat_add(&pairs[last_mark][v], avr->cycle - last_cycle);
    }
    have_last = 1;
    last_mark = v;
    last_cycle = avr->cycle;
}

/* An interrupt in progress: its vector, the stack pointer after the return address was
 * pushed, when it started and the cycles of interrupts nested in it. */
typedef struct {
    int vector;
    uint16_t sp;
    uint64_t start, nested;
} frame_t;

static uint16_t sp_of(avr_t *avr)
{
    return (uint16_t)(avr->data[SPL_ADDR] | (avr->data[SPH_ADDR] << 8));
}

static uint32_t sample_mv(size_t i)
{
    int16_t x = (int16_t)(in_bytes[2 * i] | (in_bytes[2 * i + 1] << 8));
    return (uint32_t)(((int32_t)x + 32768) * 5000ll / 65536);
}

/* isr mode: run until every sample has had its conversion interrupt and that returned */
static int run_isr_mode(avr_t *avr)
{
    frame_t stack[16];
    int depth = 0;
    size_t n = in_len / 2, next = 0;
    stat_t adc = {0, 0, 0, 0}, other = {0, 0, 0, 0};
    uint64_t limit = (uint64_t)(n + 16) * 3000u + 40000000u;
    avr_irq_t *adc0 = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0);
    int state = cpu_Running;
    if (n) {
        avr_raise_irq(adc0, sample_mv(next++));
    }
    while (state != cpu_Done && state != cpu_Crashed && avr->cycle < limit) {
        uint32_t pc;
        state = avr_run(avr);
        pc = avr->pc;
        while (depth > 0 && sp_of(avr) > stack[depth - 1].sp + 1u) {
            frame_t *f = &stack[--depth];
            uint64_t total = avr->cycle - f->start;
            stat_add(f->vector == ADC_VECTOR ? &adc : &other, total - f->nested);
            if (depth > 0) {
                stack[depth - 1].nested += total;
            }
        }
        if (pc > 0 && pc < 4u * N_VECTORS && pc % 4u == 0u && depth < 16) {
            frame_t *f = &stack[depth++];
            f->vector = (int)(pc / 4u);
            f->sp = sp_of(avr);
            f->start = avr->cycle - 4u; /* the interrupt response before the vector */
            f->nested = 0;
            if (f->vector == ADC_VECTOR && next < n) {
                avr_raise_irq(adc0, sample_mv(next++)); /* for the conversion now running */
            }
        }
        if (adc.count >= n && depth == 0) {
            break;
        }
    }
    if (adc.count < n) {
        fprintf(stderr, "simulation did not finish (state %d, cycle %llu, %llu of %zu)\n", state,
                (unsigned long long)avr->cycle, (unsigned long long)adc.count, n);
        return 1;
    }
    printf("{\"adc\": [%llu, %llu, %llu, %llu], \"other\": [%llu, %llu, %llu, %llu], "
           "\"cycles\": %llu}\n",
           (unsigned long long)adc.count, (unsigned long long)adc.sum,
           (unsigned long long)adc.min, (unsigned long long)adc.max,
           (unsigned long long)other.count, (unsigned long long)other.sum,
           (unsigned long long)other.min, (unsigned long long)other.max,
           (unsigned long long)avr->cycle);
    return 0;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 4);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    elf_firmware_t fw;
    avr_t *avr;
    uint64_t limit;
    int state = cpu_Running;
    int mode_isr;
    if (argc < 4) {
        fprintf(stderr, "usage: %s kernel|isr ELF IN.bin [OUT.bin]\n", argv[0]);
        return 2;
    }
    mode_isr = strcmp(argv[1], "isr") == 0;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(argv[2], &fw) != 0) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 2;
    }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) {
        return 2;
    }
    avr_init(avr);
    avr->frequency = 16000000;
    avr->vcc = avr->avcc = avr->aref = 5000;
    avr_load_firmware(avr, &fw);
    in_bytes = slurp(argv[3], &in_len);
    if (mode_isr) {
        return run_isr_mode(avr);
    }
    avr_register_io_write(avr, GPIOR0_ADDR, write_mark, NULL);
    {
        /* the program first reads the sample count (2 bytes), then the samples */
        uint8_t *buf = malloc(in_len + 2);
        buf[0] = (uint8_t)((in_len / 2) & 0xFF);
        buf[1] = (uint8_t)((in_len / 2) >> 8);
        memcpy(buf + 2, in_bytes, in_len);
        free(in_bytes);
        in_bytes = buf;
        in_len += 2;
    }
    out_file = argc > 4 ? fopen(argv[4], "wb") : NULL;
    avr_register_io_read(avr, GPIOR1_ADDR, read_in, NULL);
    avr_register_io_read(avr, GPIOR2_ADDR, read_in, NULL);
    avr_register_io_write(avr, GPIOR2_ADDR, write_out, NULL);
    limit = (uint64_t)(in_len / 2 + 10) * 40000u + 1000000u;
    while (!done && state != cpu_Done && state != cpu_Crashed && avr->cycle < limit) {
        state = avr_run(avr);
    }
    if (out_file) {
        fclose(out_file);
    }
    if (!done) {
        fprintf(stderr, "simulation did not finish (state %d, cycle %llu)\n", state,
                (unsigned long long)avr->cycle);
        return 1;
    }
    {
        int a, b, first = 1;
        printf("{\"pairs\": {");
        for (a = 0; a < 256; a++) {
            for (b = 0; b < 256; b++) {
                stat_t *st = &pairs[a][b];
                if (st->count) {
                    printf("%s\"%d>%d\": [%llu, %llu, %llu, %llu]", first ? "" : ", ", a, b,
                           (unsigned long long)st->count, (unsigned long long)st->sum,
                           (unsigned long long)st->min, (unsigned long long)st->max);
                    first = 0;
                }
            }
        }
        printf("}}\n");
    }
    return 0;
}
