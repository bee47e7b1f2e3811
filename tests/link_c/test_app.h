/*
 * The application the link tests and the fuzz harness drive, behind one small interface.
 *
 * mock_app.c implements it with a toy DSP that a Python mirror reproduces exactly. To put the
 * real firmware application under the same tests, write an adapter implementing these functions
 * over organ_app.c and pass its sources instead (tests/link_c/cbuild.py: ORGAN_TEST_APP_SOURCES).
 */
#ifndef TEST_APP_H
#define TEST_APP_H

#include <stddef.h>
#include <stdint.h>

#include "organ_link.h"

typedef void (*test_app_sink_fn)(void *sink_ctx, const uint8_t *data, uint8_t n);

/* Bytes to allocate for one application instance (suitably aligned, e.g. from malloc). */
size_t test_app_size(void);

/* Power-on: parameters from the storage image (defaults when it is not valid), link set up,
 * HELLO sent through sink. The storage bytes stay owned by the caller and persist across boots.
 * Returns the organ_link_init status. */
int test_app_boot(void *app, uint8_t *storage, uint16_t storage_size, test_app_sink_fn sink,
                  void *sink_ctx);

organ_link_t *test_app_link(void *app);

/* Set the live-audio overrun counter the app reports. */
void test_app_set_overruns(void *app, uint32_t n);

/* Nonzero once a RESET(REBOOT) was acknowledged: the caller boots the app again. */
int test_app_reboot_requested(void *app);

/* The firmware's own entry points, for harnesses that drive the application as the board layer
 * does (the fuzz harness): received bytes (the link tests feed test_app_link() directly
 * instead), the main loop's clock, and one live-audio sample from the audio context. An
 * application without a live audio path ignores the samples. */
void test_app_feed(void *app, const uint8_t *data, size_t n);
void test_app_poll(void *app, uint32_t now_ms);
void test_app_live_sample(void *app, int16_t x);

#endif /* TEST_APP_H */
