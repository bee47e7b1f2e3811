/*
 * options.c - the command line of simavr_harness (the generated Uno firmware's ELF on a simulated
 * ATmega328P at 16 MHz).
 *
 *   simavr_harness ELF [--pty] [--storage FILE] [--storage-size N]
 *                  [--audio RAW|-] [--no-loop] [--noise AMPLITUDE] [--seed N] [--adc-channel N]
 *                  [--led-pins 9,10,11] [--log FILE] [--marks K1,K2,..] [--processed FILE]
 *                  [--stats FILE] [--profile SYMBOLS] [--warmup S] [--pair-map ADDRS]
 *                  [--short-isr CYCLES]
 *                  [--seconds S] [--speed X] [--idle-speed X] [--watch-stdin] [--uart-ideal]
 *
 * --pty          serve UART0 on a pseudo-terminal: prints "PTY <path>" on stdout once the
 *                firmware has sent its first byte (bridge.c)
 * --storage      the EEPROM image (N bytes, 0xFF when FILE does not exist), written back when
 *                the firmware changes it and at exit, so a SAVE survives the process
 * --audio        int16 little-endian samples for the audio input (ADC0, or --adc-channel), one
 *                per conversion (probes.c); a regular file is looped unless --no-loop (silence
 *                after its end), "-" or a pipe is read as the conversions need it; silence
 *                without it; --noise adds uniform noise
 * --led-pins     Arduino pins whose changes are logged ("P cycle pin value") to --log; --marks
 *                logs the conversion cycle of those sample indices ("S cycle index");
 *                --processed writes the int16 samples the DSP ran on, in order (the samples
 *                the firmware actually processed, overruns left out; isr.c)
 * --pair-map     PHASE,HELD[,TICK,OVERRUNS]: SRAM addresses of organ_adc_phase, organ_adc_held,
 *                app.state.tick and app.overruns in the firmware (decimal or 0x hex), which
 *                tell what the paired ADC interrupt did with each sample (isr.c); without it
 *                the firmware is taken to run one sample per interrupt
 * --short-isr    without TICK: own cycles from which an ADC interrupt counts as having run the
 *                DSP (default 300; a dropped pair takes 240 to 260 cycles)
 * --stats        JSON written at exit (and on SIGUSR1): cycles, interrupts, LEDs, UART, profile;
 *                counting starts after --warmup simulated seconds; --profile takes
 *                "hexaddr hexsize name" lines (the ELF's functions) for cycles per function
 * --seconds      stop after S simulated seconds (offline runs); otherwise run until SIGTERM,
 *                SIGINT, SIGHUP, or (--watch-stdin) until stdin closes
 * --speed        at most X times real time (0: as fast as the host can) while the link is busy
 *                (bytes queued, or on the wire within the last 20 ms of simulated time);
 *                --idle-speed applies otherwise. With --idle-speed 1 the firmware's clock keeps
 *                pace with the host's while the host thinks or waits out a timeout (PROCESS
 *                holds live audio for 2 s of firmware time), and a board left alone does not
 *                take a whole core; commands and replies still run as fast as the host can.
 * --uart-ideal   simavr's 64-byte receive FIFO instead of the ATmega328P's two bytes
 *
 * Exit status: 0 stopped as asked, 1 the firmware crashed or stopped, 2 bad arguments or files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int parse_args(int argc, char **argv, options_t *o)
{
    int i;
    memset(o, 0, sizeof *o);
    o->storage_size = 1024;
    o->loop = 1;
    o->seed = 1;
    o->short_isr = 300;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 1;
        if (!strcmp(a, "--pty")) {
            o->pty = 1, used = 0;
        } else if (!strcmp(a, "--no-loop")) {
            o->loop = 0, used = 0;
        } else if (!strcmp(a, "--watch-stdin")) {
            o->watch_stdin = 1, used = 0;
        } else if (!strcmp(a, "--uart-ideal")) {
            o->uart_ideal = 1, used = 0;
        } else if (a[0] != '-' && !o->elf) {
            o->elf = a, used = 0;
        } else if (!v) {
            used = -1;
        } else if (!strcmp(a, "--storage")) {
            o->storage = v;
        } else if (!strcmp(a, "--storage-size")) {
            o->storage_size = (unsigned)strtoul(v, NULL, 10);
        } else if (!strcmp(a, "--audio")) {
            o->audio = v;
        } else if (!strcmp(a, "--adc-channel")) {
            o->channel = atoi(v);
        } else if (!strcmp(a, "--noise")) {
            o->noise = atoi(v);
        } else if (!strcmp(a, "--seed")) {
            o->seed = (uint32_t)strtoul(v, NULL, 10);
        } else if (!strcmp(a, "--led-pins")) {
            o->led_pins = v;
        } else if (!strcmp(a, "--log")) {
            o->log = v;
        } else if (!strcmp(a, "--marks")) {
            o->marks = v;
        } else if (!strcmp(a, "--processed")) {
            o->processed = v;
        } else if (!strcmp(a, "--stats")) {
            o->stats = v;
        } else if (!strcmp(a, "--profile")) {
            o->profile = v;
        } else if (!strcmp(a, "--warmup")) {
            o->warmup = strtod(v, NULL);
        } else if (!strcmp(a, "--pair-map")) {
            o->pair_map = v;
        } else if (!strcmp(a, "--short-isr")) {
            o->short_isr = (uint32_t)strtoul(v, NULL, 10);
        } else if (!strcmp(a, "--seconds")) {
            o->seconds = strtod(v, NULL);
        } else if (!strcmp(a, "--speed")) {
            o->speed = strtod(v, NULL);
        } else if (!strcmp(a, "--idle-speed")) {
            o->idle_speed = strtod(v, NULL);
        } else {
            used = -1;
        }
        if (used < 0) {
            fprintf(stderr, "simavr_harness: unknown or incomplete argument %s\n", a);
            return -1;
        }
        i += used;
    }
    if (!o->elf || o->storage_size == 0 || o->storage_size > 1024 || o->noise < 0 ||
        o->noise > 32767 || o->channel < 0 || o->channel > 7 || o->speed < 0 ||
        o->idle_speed < 0 || o->seconds < 0) {
        fprintf(stderr, "usage: simavr_harness ELF [--pty] [--storage FILE] [--audio RAW|-] "
                        "[--led-pins LIST] [--log FILE] [--stats FILE] [--seconds S] ... "
                        "(see options.c)\n");
        return -1;
    }
    return 0;
}
