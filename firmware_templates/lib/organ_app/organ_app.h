/*
 * organ_app: the colour organ application. Binds the serial protocol (organ_link), the DSP core
 * (organ_dsp) and the parameter store (organ_store) together, behind a small board interface.
 *
 * Pure C99, no Arduino headers, no globals: the caller owns one organ_app_t. Compiled unchanged
 * into the AVR and ESP32 firmware (src/main.cpp is the board), the native simulated board (a
 * host program serving a pty) and the host tests. This header is a contract: change it together
 * with every board that implements organ_app_board_t.
 *
 * CONTEXTS
 *   audio context   organ_app_live_sample(), organ_app_overrun(): once per input sample, from the
 *                   ADC interrupt (AVR) or the audio task (ESP32, native board).
 *   main context    every other entry point: organ_app_init/hello/feed/poll and the readers.
 *                   The link's hooks (PROCESS, SET, SAVE, ...) run here, inside feed().
 *   The two share the DSP state, the parameters, the latest outputs and the overrun counter.
 *   The main context touches them only between board->critical_enter and critical_exit, or while
 *   live audio is paused. organ_app_live_sample() itself takes no lock (it is the hot path): it
 *   must never run concurrently with a critical section. On AVR it runs in the ADC interrupt and
 *   critical_enter disables interrupts; on a board with an audio task, the task must hold the
 *   same lock that critical_enter takes around each call (ESP32: one portMUX spinlock).
 *
 * LIVE AUDIO AND PROCESS
 *   A PROCESS command pauses live audio (organ_app_live_sample() then returns at once without
 *   touching the DSP), runs its block through organ_process_sample() on the same state and
 *   writes the same outputs the LEDs read. Live audio stays paused until ORGAN_APP_PROCESS_HOLD_MS
 *   after the last PROCESS (measured by organ_app_poll's clock), so that blocks sent back to back
 *   continue exactly the state of the previous block: a host can run a long test signal through
 *   the board in 64-sample requests and compare every sample with the model. SET and RESET pause
 *   live audio the same way for the microseconds they change parameters or state, so the audio
 *   context never sees a half-updated parameter set.
 *
 * RESET(REBOOT)
 *   The link's reset hook only records the request; feed() (or poll()) calls board->reboot once
 *   the ACK has been handed to serial_write. board->reboot must flush the serial output first.
 *
 * STORAGE
 *   At init the parameters are loaded from the board's storage (organ_store image at address 0);
 *   on any status but ORGAN_STORE_LOADED the design defaults are restored, and the status is
 *   reported in HELLO/INFO (params_status). Without storage hooks the status is UNAVAILABLE and
 *   SAVE answers STORE_FAILED. Storage is written only by the SAVE command.
 *
 * MEMORY (AVR, 3 bands, 4 sections): sizeof(organ_app_t) is about 560 bytes, of which the link
 * takes 233 (its frame buffers), the DSP state about 190 and the parameters 74. Nothing is
 * allocated; replies are streamed.
 */
#ifndef ORGAN_APP_H
#define ORGAN_APP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "organ_dsp.h"
#include "organ_link.h"
#include "organ_store.h"

/* Live audio resumes this long after the last PROCESS command (ms). */
#ifndef ORGAN_APP_PROCESS_HOLD_MS
#define ORGAN_APP_PROCESS_HOLD_MS 2000u
#endif

/* organ_app_init results */
#define ORGAN_APP_OK 0
#define ORGAN_APP_E_BOARD 1  /* a required board hook is missing */
#define ORGAN_APP_E_DESIGN 2 /* organ_init refused the design tables (see organ_app_t.dsp_error) */
#define ORGAN_APP_E_LINK 3   /* organ_link_init refused (see organ_app_t.link_error) */

/*
 * What the board provides. Every function gets ctx first. Required: serial_write,
 * critical_enter, critical_exit. Optional (NULL): storage (then params_status UNAVAILABLE),
 * store_commit, reboot (then RESET(REBOOT) answers UNSUPPORTED), const_read (then memcpy).
 */
typedef struct organ_app_board {
    void *ctx;
    /* Write n bytes to the serial port; may block until there is room. */
    void (*serial_write)(void *ctx, const uint8_t *data, uint8_t n);
    /* Raw persistent storage (EEPROM, NVS blob, a file), addresses from 0; return 0 on success. */
    uint8_t (*store_read)(void *ctx, uint16_t addr, uint8_t *buf, uint8_t n);
    uint8_t (*store_write)(void *ctx, uint16_t addr, const uint8_t *buf, uint8_t n);
    uint16_t store_size; /* bytes available to the image */
    /* Make the writes of a SAVE durable (ESP32: commit the NVS blob); 0 on success. NULL when
     * store_write is durable by itself (EEPROM). */
    uint8_t (*store_commit)(void *ctx);
    /* Flush the serial output, then restart the board (HELLO follows the restart). On a real
     * board this does not return; a simulated board may return and boot the app again later. */
    void (*reboot)(void *ctx);
    /* Exclude the audio context (AVR: save SREG and cli / restore SREG). Never nested. */
    void (*critical_enter)(void *ctx);
    void (*critical_exit)(void *ctx);
    /* Copy n bytes of constant data (identity strings and hash) to RAM: memcpy_P on AVR, where
     * they may live in flash; NULL means they are in RAM (plain memcpy). */
    void (*const_read)(void *dst, const void *src, uint8_t n);
} organ_app_board_t;

/* What the firmware is: filled from the generated organ_design.h. The struct itself is read
 * directly (keep it in RAM); the board name and the hash it points to are read through
 * board->const_read, so they may live in flash. */
typedef struct organ_app_identity {
    const organ_design_t *design;   /* the compiled-in design tables */
    const char *board_name;         /* "uno", "esp32dev", ... (NUL-terminated; const_read) */
    const uint8_t *design_hash;     /* ORGAN_LINK_HASH_SIZE bytes (const_read) */
    uint8_t fw_version[3];          /* major, minor, patch (the designer's version) */
    uint32_t fs_millihz;            /* sample rate in mHz */
    uint8_t y_frac_bits;            /* Q format of int16 y (0 for float builds) */
    uint8_t env_frac_bits;          /* Q format of int16 env (0 for float builds) */
} organ_app_identity_t;

/* The application. Fields are public for boards and tests to read; change them only through
 * the functions below. */
typedef struct organ_app {
    const organ_app_board_t *board;
    const organ_app_identity_t *id;
    organ_link_hooks_t hooks;
    organ_store_io_t io;
    organ_params_t params;
    organ_state_t state;
    organ_band_out_t out[ORGAN_MAX_BANDS]; /* latest outputs (live audio or PROCESS) */
    volatile uint32_t overruns;            /* live-audio sample overruns since boot */
    volatile uint8_t paused;               /* nonzero: live audio is not processed */
    uint8_t reboot_pending;                /* RESET(REBOOT) acknowledged, restart due */
    uint8_t process_hold;                  /* live audio paused since a PROCESS */
    uint32_t hold_from_ms;                 /* clock of the last PROCESS */
    uint32_t now_ms;                       /* clock at the last organ_app_poll */
    uint8_t params_status;                 /* ORGAN_STORE_* status at boot */
    uint32_t design_tag;                   /* organ_store_tag() of the design hash */
    int8_t dsp_error;                      /* organ_init result when init failed */
    uint8_t link_error;                    /* organ_link_init result when init failed */
    organ_link_t link;
} organ_app_t;

/* Main context, once at boot, before live audio starts: parameters from storage (or defaults),
 * DSP state reset, link bound. Live audio is accepted once this returns ORGAN_APP_OK. */
int organ_app_init(organ_app_t *app, const organ_app_board_t *board,
                   const organ_app_identity_t *id);

/* Main context: send HELLO (once the board is ready for commands). */
void organ_app_hello(organ_app_t *app);

/* Main context: bytes received from the serial port; complete frames are answered before this
 * returns. May call board->reboot after acknowledging a RESET(REBOOT). */
void organ_app_feed(organ_app_t *app, const uint8_t *data, uint8_t n);

/* Main context, every loop pass: LEVELS stream, pending reboot, live audio back after PROCESS.
 * now_ms: a free-running millisecond clock (wraps). */
void organ_app_poll(organ_app_t *app, uint32_t now_ms);

/* Audio context: one input sample (int16, full scale 32768). Runs the DSP unless live audio is
 * paused, and keeps the outputs for the LEDs and LEVELS. */
void organ_app_live_sample(organ_app_t *app, int16_t x);

/* Audio context: the board dropped a live sample (AVR: a conversion completed while the DSP was
 * still busy, or while the main loop needed the CPU for serial input; ESP32: the I2S driver
 * dropped a DMA buffer the audio task was too late to read, counted once per buffer). */
void organ_app_overrun(organ_app_t *app);

/* Main context: the LED value (0..255; on/off LEDs: 0 = off) band b shows now. */
uint8_t organ_app_led(const organ_app_t *app, uint8_t band);

/* Main context: number of bands of the design. */
uint8_t organ_app_bands(const organ_app_t *app);

/* Main context: the overrun counter (read consistently under the critical section). */
uint32_t organ_app_overruns(organ_app_t *app);

#ifdef __cplusplus
}
#endif

#endif /* ORGAN_APP_H */
