/*
 * dsp_driver.c - host test driver for the DSP core (tests/test_dsp_c.py), built with
 * -fsanitize=address,undefined.  Includes the generated design tables (design_tables.h).
 *
 *   dsp_driver run [ID=VALUE ...] < samples.i16 > outputs.bin
 *       int16 samples in, per sample per band: y, env (int16 or float32), led (uint8) out
 *   dsp_driver pairs SKIP < samples.i16 > outputs.bin   (fixed point)
 *       the first SKIP samples one at a time (organ_process_sample), the rest two at a time
 *       through the design's two-sample step, as the AVR interrupt runs them: outputs after
 *       each single sample, then after each pair
 *   dsp_driver api
 *       checks the return codes of init / param_get / param_set; prints "ok" or exits 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "organ_dsp.h"
#include "design_tables.h"

static int fail(const char *what)
{
    fprintf(stderr, "FAIL: %s\n", what);
    return 1;
}

static int api(void)
{
    organ_params_t p;
    organ_state_t s;
    organ_design_t bad;
    organ_band_t bands[ORGAN_MAX_BANDS];
    int32_t v, lo, hi, fb;
    uint8_t id;
    organ_params_default(&organ_design, &p);
    if (organ_init(&s, &organ_design, &p) != ORGAN_OK) {
        return fail("init of the generated design");
    }
    for (id = 0; id < ORGAN_N_PARAMS; id++) {
        if (organ_param_info(id, &lo, &hi, &fb) != ORGAN_OK || lo > fb || fb > hi) {
            return fail("param_info");
        }
        if (organ_param_set(&p, id, hi + 1) != ORGAN_ERR_RANGE ||
            organ_param_set(&p, id, lo - 1) != ORGAN_ERR_RANGE) {
            return fail("out of range values refused");
        }
        if (organ_param_set(&p, id, lo) != ORGAN_OK || organ_param_get(&p, id, &v) != ORGAN_OK ||
            v != lo) {
            return fail("set/get round trip");
        }
    }
    if (organ_param_set(&p, ORGAN_N_PARAMS, 0) != ORGAN_ERR_ID ||
        organ_param_get(&p, 255, &v) != ORGAN_ERR_ID ||
        organ_param_info(ORGAN_N_PARAMS, &lo, &hi, &fb) != ORGAN_ERR_ID) {
        return fail("unknown ids");
    }
    bad = organ_design;
    bad.max_bands = (uint8_t)(ORGAN_MAX_BANDS + 1);
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_LAYOUT) {
        return fail("layout mismatch detected");
    }
    bad = organ_design;
    bad.arithmetic = (uint8_t)(1 - ORGAN_ARITH);
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_LAYOUT) {
        return fail("arithmetic mismatch detected");
    }
    bad = organ_design;
    bad.ctl_period = (uint16_t)(bad.ctl_period + 1u);
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_DESIGN) {
        return fail("an odd control period refused");
    }
    bad.ctl_period = (uint16_t)(2u * organ_design.n_bands + 4u);
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_DESIGN) {
        return fail("a control period too short for its tasks refused");
    }
    bad = organ_design;
    bad.n_bands = 0;
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_DESIGN) {
        return fail("no bands refused");
    }
    memcpy(bands, organ_design.bands, organ_design.n_bands * sizeof bands[0]);
#ifdef ORGAN_FLOAT
    bands[0].first_section = 1;
    bad = organ_design;
    bad.bands = bands;
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_DESIGN) {
        return fail("sections out of order refused");
    }
#else
    bands[0].in_shift = 16;
    bad = organ_design;
    bad.bands = bands;
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_DESIGN) {
        return fail("input shift checked");
    }
    bad = organ_design;
    bad.step = 0;
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_DESIGN) {
        return fail("a fixed design without its step refused");
    }
    bad = organ_design;
    bad.dc_coef = 0;
    if (organ_init(&s, &bad, &p) != ORGAN_ERR_DESIGN) {
        return fail("DC blocker coefficient checked");
    }
#endif
    printf("ok\n");
    return 0;
}

static void put(const organ_band_out_t *out)
{
    uint8_t b;
    for (b = 0; b < organ_design.n_bands; b++) {
        fwrite(&out[b].y, sizeof out[b].y, 1, stdout);
        fwrite(&out[b].env, sizeof out[b].env, 1, stdout);
        fwrite(&out[b].led, 1, 1, stdout);
    }
}

#ifndef ORGAN_FLOAT
static int pairs(long skip)
{
    static organ_state_t s;
    static organ_params_t p;
    static organ_band_out_t out[ORGAN_MAX_BANDS];
    int16_t x[2];
    organ_params_default(&organ_design, &p);
    if (organ_init(&s, &organ_design, &p) != ORGAN_OK) {
        return fail("init");
    }
    for (; skip > 0 && fread(x, sizeof x[0], 1, stdin) == 1; skip--) {
        organ_process_sample(&s, x[0], out);
        put(out);
    }
    while (fread(x, sizeof x[0], 2, stdin) == 2) {
        organ_design_step2(&s, x[0], x[1], out);
        put(out);
    }
    return 0;
}
#endif

static int run(int argc, char **argv)
{
    static organ_state_t s;
    static organ_params_t p;
    organ_band_out_t out[ORGAN_MAX_BANDS];
    int16_t x;
    int i;
    organ_params_default(&organ_design, &p);
    for (i = 2; i < argc; i++) {
        int id;
        long value;
        if (sscanf(argv[i], "%d=%ld", &id, &value) != 2 ||
            organ_param_set(&p, (uint8_t)id, (int32_t)value) != ORGAN_OK) {
            return fail("parameter argument");
        }
    }
    if (organ_init(&s, &organ_design, &p) != ORGAN_OK) {
        return fail("init");
    }
    while (fread(&x, sizeof x, 1, stdin) == 1) {
        organ_process_sample(&s, x, out);
        put(out);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "api") == 0) {
        return api();
    }
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        return run(argc, argv);
    }
#ifndef ORGAN_FLOAT
    if (argc == 3 && strcmp(argv[1], "pairs") == 0) {
        return pairs(strtol(argv[2], NULL, 10));
    }
#endif
    fprintf(stderr, "usage: dsp_driver api | run [ID=VALUE ...] | pairs SKIP\n");
    return 2;
}
