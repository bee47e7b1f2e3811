/*
 * sim_app: the application a native simulated board runs, seen from sim_board.c.
 *
 * sim_board.c owns the host side of a board (the pty standing in for the USB serial port, the
 * storage bytes standing in for the EEPROM/NVS, a real-time clock pacing the "microphone"); an
 * adapter binds this small interface to an application:
 *   - sim_app_organ.c: the firmware's own organ_app (organ_link + organ_dsp + organ_store + the
 *     design tables from designer/ctables.py): the real simulated board;
 *   - sim_app_testapp.c: any implementation of tests/link_c/test_app.h (the link tests' mock
 *     application), to test the host's Board client against the real C link without a design.
 * Everything runs in one thread: the entry points are never called concurrently.
 */
#ifndef SIM_APP_H
#define SIM_APP_H

#include <stddef.h>
#include <stdint.h>

/* Bytes the application sends towards the host. */
typedef void (*sim_app_sink_fn)(void *sink_ctx, const uint8_t *data, uint8_t n);

/* Bytes to allocate for one application instance (from malloc: suitably aligned). */
size_t sim_app_size(void);

/* Power-on: parameters from storage[0..storage_size) (owned by the caller, kept across boots),
 * link set up, HELLO sent through sink. Returns 0 on success. */
int sim_app_boot(void *app, uint8_t *storage, uint16_t storage_size, sim_app_sink_fn sink,
                 void *sink_ctx);

/* Bytes received from the host (main-loop context). */
void sim_app_feed(void *app, const uint8_t *data, size_t n);

/* Main-loop housekeeping (the LEVELS stream). now_ms: a free-running millisecond clock. */
void sim_app_poll(void *app, uint32_t now_ms);

/* n live microphone samples, in order, as the audio interrupt would deliver them. */
void sim_app_live(void *app, const int16_t *x, size_t n);

/* Sample periods the simulated audio path missed (the host fell behind real time). */
void sim_app_add_overruns(void *app, uint32_t n);

/* Nonzero once a RESET(REBOOT) was acknowledged: the caller boots the application again. */
int sim_app_reboot_requested(void *app);

#endif /* SIM_APP_H */
