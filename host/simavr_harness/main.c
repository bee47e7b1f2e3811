/*
 * main.c - simavr_harness: the generated Uno firmware (its ELF) on a simulated ATmega328P at
 * 16 MHz. The command line is in options.c; what is fed in and measured, in probes.c, isr.c and
 * leds.c; the serial port, in bridge.c.
 *
 * The run loop executes STEPS instructions at a time, then services the pty, the speed limit
 * (--speed / --idle-speed), the EEPROM file and the signals; an offline run (--seconds) stops
 * at its cycle count. Statistics go to --stats at exit and on SIGUSR1.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avr_eeprom.h"
#include "avr_extint.h"
#include "harness.h"
#include "sim_elf.h"

#define STEPS 4096              /* instructions between two looks at the outside world */
#define SLACK_S 0.005           /* how far ahead of the speed limit the simulation may run */
#define BUSY_CYCLES (F_CPU_HZ / 50u) /* 20 ms: a link quiet this long is idle (see --speed) */
#define HOUSEKEEP_NS 100000000ull
#define BOOT_CYCLES (2ull * F_CPU_HZ)

static volatile sig_atomic_t g_stop, g_dump;

static void on_signal(int sig)
{
    if (sig == SIGUSR1) {
        g_dump = 1;
    } else {
        g_stop = 1;
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void logger(avr_t *avr, const int level, const char *format, va_list ap)
{
    static int pwm_said;
    (void)avr;
    if (strstr(format, "UNSUPPORTED")) {
        /* every OCR write of analogWrite(): Timer1/2 phase-correct PWM is not simulated (the LED
         * probes read the registers instead, leds.c) */
        if (!pwm_said) {
            pwm_said = 1;
            fprintf(stderr, "simavr_harness: PWM waveforms are not simulated; LED levels are "
                            "read from the timer registers\n");
        }
        return;
    }
    if (level == LOG_ERROR || level == LOG_WARNING) {
        vfprintf(stderr, format, ap);
    }
}

/* the simulator's EEPROM (libsimavr 1.6 answers this ioctl with -1 even when it succeeds:
 * the pointer it fills in is what tells) */
static uint8_t *eeprom_now(avr_t *avr, unsigned size)
{
    avr_eeprom_desc_t d = {NULL, 0, size};
    avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d);
    return d.ee;
}

static void save_file(const char *path, const void *data, size_t n)
{
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    f = fopen(tmp, "wb");
    if (!f) {
        return;
    }
    if (fwrite(data, 1, n, f) == n && fclose(f) == 0) {
        rename(tmp, path); /* atomic: a reader never sees half an image */
    } else {
        remove(tmp);
    }
}

static void write_stats(const options_t *o, avr_t *avr, const probes_t *p, const bridge_t *b,
                        double wall_s, const char *end)
{
    char tmp[4096];
    FILE *f;
    if (!o->stats) {
        return;
    }
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", o->stats, (long)getpid());
    f = fopen(tmp, "w");
    if (!f) {
        return;
    }
    fprintf(f, "{\"f_cpu\": %u, \"cycles\": %llu, \"from_cycle\": %llu, \"wall_s\": %.6f, ",
            F_CPU_HZ, (unsigned long long)avr->cycle, (unsigned long long)p->from_cycle, wall_s);
    probes_json(p, f);
    fprintf(f, "\"uart\": {\"rx_bytes\": %llu, \"tx_bytes\": %llu, \"rx_overruns\": %llu, "
               "\"tx_dropped\": %llu, \"ideal\": %s}, ",
            (unsigned long long)b->rx_bytes, (unsigned long long)b->tx_bytes,
            (unsigned long long)b->rx_overruns, (unsigned long long)b->tx_dropped,
            b->ideal ? "true" : "false");
    fprintf(f, "\"end\": \"%s\", \"pc\": %lu}\n", end, (unsigned long)avr->pc);
    if (fclose(f) == 0) {
        rename(tmp, o->stats);
    } else {
        remove(tmp);
    }
}

static avr_t *load_avr(const char *elf)
{
    static elf_firmware_t fw;
    avr_t *avr;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(elf, &fw) != 0) {
        fprintf(stderr, "simavr_harness: cannot read ELF %s\n", elf);
        return NULL;
    }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) {
        return NULL;
    }
    avr_global_logger_set(logger);
    avr_init(avr);
    /* INT0/INT1 default to "low level" sensing: with a pin held low (an LED on pin 2 or 3 that is
     * off) simavr then polls the port every few cycles even though the firmware never enables
     * those interrupts, which makes the simulation about three times slower */
    avr_extint_set_strict_lvl_trig(avr, 0, 0);
    avr_extint_set_strict_lvl_trig(avr, 1, 0);
    avr->log = LOG_WARNING;
    avr->frequency = F_CPU_HZ;
    avr->vcc = avr->avcc = avr->aref = 5000; /* mV: before the firmware starts the ADC */
    avr_load_firmware(avr, &fw);
    return avr;
}

/* libsimavr prints what it loads on stdout, which belongs to the "PTY" line: send it to stderr */
static avr_t *make_avr(const options_t *o)
{
    avr_t *avr;
    int out;
    fflush(stdout);
    out = dup(STDOUT_FILENO);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    avr = load_avr(o->elf);
    fflush(stdout);
    dup2(out, STDOUT_FILENO);
    close(out);
    return avr;
}

static int setup_probes(const options_t *o, probes_t *p, avr_t *avr)
{
    if (probes_init(p, avr) != 0) {
        return -1;
    }
    p->loop = o->loop;
    p->noise = o->noise;
    p->channel = o->channel;
    p->rng = o->seed ? o->seed : 1u;
    p->short_limit = o->short_isr;
    p->from_cycle = (uint64_t)(o->warmup * F_CPU_HZ);
    if (o->audio && probes_load_audio(p, o->audio) != 0) {
        fprintf(stderr, "simavr_harness: cannot read audio %s\n", o->audio);
        return -1;
    }
    if (o->pair_map && probes_pair_map(p, o->pair_map) != 0) {
        fprintf(stderr, "simavr_harness: bad --pair-map %s (SRAM addresses)\n", o->pair_map);
        return -1;
    }
    if (o->led_pins && probes_led_pins(p, o->led_pins) != 0) {
        fprintf(stderr, "simavr_harness: bad --led-pins %s (Uno pins 0..19)\n", o->led_pins);
        return -1;
    }
    if (o->marks && probes_marks(p, o->marks) != 0) {
        fprintf(stderr, "simavr_harness: bad --marks\n");
        return -1;
    }
    if (o->log && !(p->log = fopen(o->log, "w"))) {
        fprintf(stderr, "simavr_harness: cannot write %s\n", o->log);
        return -1;
    }
    if (o->processed) {
        if (!(p->processed = fopen(o->processed, "wb"))) {
            fprintf(stderr, "simavr_harness: cannot write %s\n", o->processed);
            return -1;
        }
        isr_watch_adc_reads(p);
    }
    if (o->profile && probes_load_profile(p, o->profile) != 0) {
        fprintf(stderr, "simavr_harness: cannot read the symbols %s\n", o->profile);
        return -1;
    }
    probes_start(p);
    return 0;
}

/* Sleep while the simulation is ahead of the speed limit; wakes early when the host writes. */
static void throttle(avr_t *avr, const bridge_t *b, double speed, uint64_t c_ref, uint64_t t_ref)
{
    double ahead_s = (double)(avr->cycle - c_ref) / F_CPU_HZ / speed -
                     (double)(now_ns() - t_ref) * 1e-9;
    if (ahead_s > SLACK_S) {
        struct pollfd pfd = {b->master, POLLIN, 0};
        int ms = (int)(ahead_s * 1000.0);
        poll(&pfd, b->master >= 0 ? 1 : 0, ms > 20 ? 20 : ms);
    }
}

static int stdin_closed(void)
{
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    char junk[64];
    if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
        return read(STDIN_FILENO, junk, sizeof junk) <= 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    options_t o;
    avr_t *avr;
    probes_t probes;
    bridge_t bridge;
    uint8_t *saved, *ee;
    uint64_t limit, t0, t_ref, c_ref, last_house;
    double speed_now;
    const char *end = "stopped";
    struct sigaction sa;
    int status = 0, announced = 0;

    if (parse_args(argc, argv, &o) != 0 || !(avr = make_avr(&o))) {
        return 2;
    }
    saved = malloc(o.storage_size);
    if (!saved) {
        return 2;
    }
    memset(saved, 0xFF, o.storage_size);
    if (o.storage) {
        FILE *f = fopen(o.storage, "rb");
        avr_eeprom_desc_t d = {saved, 0, o.storage_size};
        if (f) {
            size_t got = fread(saved, 1, o.storage_size, f);
            (void)got; /* a short file leaves the rest erased */
            fclose(f);
        }
        avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &d);
    }
    if (bridge_open(&bridge, avr, o.pty, o.uart_ideal) != 0 ||
        setup_probes(&o, &probes, avr) != 0) {
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    limit = o.seconds > 0 ? (uint64_t)(o.seconds * F_CPU_HZ) : 0;
    t0 = t_ref = last_house = now_ns();
    c_ref = avr->cycle;
    speed_now = o.speed;
    while (!g_stop) {
        uint64_t now;
        double want;
        int i;
        if (probes.pc_fn) {
            for (i = 0; i < STEPS; i++) {
                probes_step_profiled(&probes);
            }
        } else {
            for (i = 0; i < STEPS; i++) {
                avr->run(avr);
            }
        }
        if (avr->state == cpu_Done || avr->state == cpu_Crashed) {
            end = avr->state == cpu_Crashed ? "crashed" : "done";
            fprintf(stderr, "simavr_harness: the firmware %s at pc 0x%lx, cycle %llu\n", end,
                    (unsigned long)avr->pc, (unsigned long long)avr->cycle);
            status = 1;
            break;
        }
        if (limit && avr->cycle >= limit) {
            end = "seconds";
            break;
        }
        now = now_ns();
        if (bridge_service(&bridge) != 0) {
            status = 1;
            break;
        }
        if (o.pty && !announced && (bridge.tx_bytes > 0 || avr->cycle > BOOT_CYCLES)) {
            /* like a board that has booted: its HELLO is on its way (a silent firmware is
             * served all the same after BOOT_CYCLES, for the host to find out) */
            announced = 1;
            printf("PTY %s\n", bridge.name);
            fflush(stdout);
        }
        want = bridge_busy(&bridge, BUSY_CYCLES) ? o.speed : o.idle_speed;
        if (want != speed_now) {
            speed_now = want;
            c_ref = avr->cycle, t_ref = now;
        }
        if (speed_now > 0) {
            throttle(avr, &bridge, speed_now, c_ref, t_ref);
        }
        if (now - last_house > HOUSEKEEP_NS) {
            last_house = now;
            ee = o.storage ? eeprom_now(avr, o.storage_size) : NULL;
            if (ee && memcmp(ee, saved, o.storage_size) != 0) {
                memcpy(saved, ee, o.storage_size);
                save_file(o.storage, saved, o.storage_size);
            }
            if (o.watch_stdin && stdin_closed()) {
                break;
            }
        }
        if (g_dump) {
            g_dump = 0;
            write_stats(&o, avr, &probes, &bridge, (double)(now - t0) * 1e-9, "running");
        }
    }
    probes_finish(&probes);
    ee = o.storage ? eeprom_now(avr, o.storage_size) : NULL;
    if (ee && memcmp(ee, saved, o.storage_size) != 0) {
        save_file(o.storage, ee, o.storage_size);
    }
    write_stats(&o, avr, &probes, &bridge, (double)(now_ns() - t0) * 1e-9, end);
    if (bridge.rx_overruns) {
        fprintf(stderr, "simavr_harness: %llu received bytes lost (UART receive overrun)\n",
                (unsigned long long)bridge.rx_overruns);
    }
    bridge_close(&bridge);
    if (probes.log) {
        fclose(probes.log);
    }
    if (probes.processed) {
        fclose(probes.processed);
    }
    free(saved);
    return status;
}
