/*
 * sim_harness.c - runs an AVR test program (avr_organ.c) in libsimavr and measures cycles.
 *
 *   sim_harness kernel ELF IN.bin OUT.bin   feed int16 samples (IN) to the program through
 *                                           GPIOR1/GPIOR2 reads, collect its output bytes
 *                                           (writes to GPIOR2) into OUT
 *   sim_harness isr ELF IN.bin              feed the samples to ADC0 (as millivolts, free
 *                                           running ADC) and measure the cycles the ADC ISR
 *                                           steals from a main loop that writes GPIOR0
 *
 * Every write to GPIOR0 is a cycle stamp (avr->cycle). On stdout one JSON object:
 * kernel: {"pairs": {"a>b": [count, sum, min, max], ...}} over consecutive stamps a, b;
 * isr:    {"isr": [count, sum, min, max], "loop_cycles": 3}.
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

typedef struct {
    uint64_t count, sum, min, max;
} stat_t;

static uint8_t *in_bytes;
static size_t in_len, in_pos;
static FILE *out_file;
static int mode_isr;
static int done;
static stat_t pairs[256][256];
static int have_last;
static uint8_t last_mark;
static avr_cycle_count_t last_cycle;
static stat_t isr_stat;
static uint64_t isr_need;

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
    if (mode_isr) {
        /* main loop: one stamp every 3 cycles unless the ISR ran in between */
        if (have_last) {
            uint64_t gap = avr->cycle - last_cycle;
            if (gap > 3) {
                stat_add(&isr_stat, gap - 3);
                if (isr_stat.count >= isr_need) {
                    done = 1;
                }
            }
        }
    } else if (have_last) {
        stat_add(&pairs[last_mark][v], avr->cycle - last_cycle);
    }
    have_last = 1;
    last_mark = v;
    last_cycle = avr->cycle;
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
    avr_register_io_write(avr, GPIOR0_ADDR, write_mark, NULL);
    if (!mode_isr) {
        /* the program first reads the sample count (2 bytes), then the samples */
        uint8_t *buf = malloc(in_len + 2);
        buf[0] = (uint8_t)((in_len / 2) & 0xFF);
        buf[1] = (uint8_t)((in_len / 2) >> 8);
        memcpy(buf + 2, in_bytes, in_len);
        free(in_bytes);
        in_bytes = buf;
        in_len += 2;
        out_file = argc > 4 ? fopen(argv[4], "wb") : NULL;
        avr_register_io_read(avr, GPIOR1_ADDR, read_in, NULL);
        avr_register_io_read(avr, GPIOR2_ADDR, read_in, NULL);
        avr_register_io_write(avr, GPIOR2_ADDR, write_out, NULL);
        limit = (uint64_t)(in_len / 2 + 10) * 40000u + 1000000u;
    } else {
        isr_need = in_len / 2;
        limit = (uint64_t)(isr_need + 10) * 2000u + 1000000u;
    }
    {
        avr_irq_t *adc0 = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0);
        size_t next = 0;
        uint64_t seen = 0;
        while (!done && state != cpu_Done && state != cpu_Crashed && avr->cycle < limit) {
            if (mode_isr && adc0 && isr_stat.count + 1 > seen && next + 1 < in_len) {
                /* present the next sample before its conversion completes */
                int16_t x = (int16_t)(in_bytes[next] | (in_bytes[next + 1] << 8));
                uint32_t mv = (uint32_t)(((int32_t)x + 32768) * 5000ll / 65536);
                avr_raise_irq(adc0, mv);
                next += 2;
                seen++;
            }
            state = avr_run(avr);
        }
    }
    if (out_file) {
        fclose(out_file);
    }
    if (!done) {
        fprintf(stderr, "simulation did not finish (state %d, cycle %llu)\n", state,
                (unsigned long long)avr->cycle);
        return 1;
    }
    if (mode_isr) {
        printf("{\"isr\": [%llu, %llu, %llu, %llu], \"loop_cycles\": 3}\n",
               (unsigned long long)isr_stat.count, (unsigned long long)isr_stat.sum,
               (unsigned long long)isr_stat.min, (unsigned long long)isr_stat.max);
    } else {
        int a, b, first = 1;
        printf("{\"pairs\": {");
        for (a = 0; a < 256; a++) {
            for (b = 0; b < 256; b++) {
                stat_t *s = &pairs[a][b];
                if (s->count) {
                    printf("%s\"%d>%d\": [%llu, %llu, %llu, %llu]", first ? "" : ", ", a, b,
                           (unsigned long long)s->count, (unsigned long long)s->sum,
                           (unsigned long long)s->min, (unsigned long long)s->max);
                    first = 0;
                }
            }
        }
        printf("}}\n");
    }
    return 0;
}
