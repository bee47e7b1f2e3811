"""The core on a simulated ATmega328P (libsimavr, tests/avr_cycles): the AVR assembly path and
the portable C path both bit-exact with the oracle - the out-of-line step, the step inlined,
and the two-sample step the firmware's interrupt runs - and the cycle stamps working.

Cycle targets are reported by benchmarks/avr_dsp_cycles.py, not asserted here."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import IN_CI, require_tool
from dsp_examples import EXAMPLES, drum_loop, random_biquads

from designer import cstep_avr, model
from designer.qdesign import QSection
from designer.quantize import quantize

sys.path.insert(0, str(Path(__file__).parent / "avr_cycles"))
import avr_run  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    require_tool("avr-gcc", "gcc")
    missing = avr_run.tools_missing()
    if missing:
        msg = f"required tool(s) not installed: {', '.join(missing)}"
        pytest.fail(msg) if IN_CI else pytest.skip(msg)
    b = tmp_path_factory.mktemp("avr")
    return b, avr_run.build_harness(b)


def _input(fs: float) -> np.ndarray:
    """Drums, white noise and full-scale squares (saturating the DC blocker and the HP1
    outputs), as the 10-bit ADC delivers them; an even count for the two-sample step."""
    rng = np.random.default_rng(4)
    drums, *_ = drum_loop(fs, bars=1)
    x = np.concatenate([drums[:2500], rng.integers(-32768, 32768, 800),
                        np.repeat(rng.choice([-32768, 32767], 40), 10)]).astype(np.int16)
    return ((x.astype(np.int32) >> 6) << 6).astype(np.int16)


CASES = [(True, "process"), (True, "inline"), (True, "pairs"), (False, "process"),
         (False, "pairs")]


@pytest.mark.parametrize("name", ["classic", "resonator", "esp32c3"])
@pytest.mark.parametrize("asm,step", CASES, ids=[f"{'asm' if a else 'c'}-{s}" for a, s in CASES])
def test_bit_exact_on_the_avr(build, name, asm, step):
    """classic: first-order sections with byte coefficients; resonator: all-pole biquads with
    byte and full mantissas; esp32c3's tables (full numerators, left shifts) run here too, to
    cover every branch of the biquad kernels."""
    b, harness = build
    fs, bands, ar = EXAMPLES[name]()
    qd = quantize(bands, fs, ar)
    x = _input(fs)
    elf = avr_run.build_program(qd, b, f"{name}_{asm}_{step}", asm=asm, step=step)
    out, pairs = avr_run.run_kernel(harness, elf, x, qd.n_bands, b, pairs=step == "pairs")
    ref = model.run(qd, x)
    rows = slice(1, None, 2) if step == "pairs" else slice(None)
    assert np.array_equal(out.y, ref.y[rows]), np.argwhere(out.y != ref.y[rows])[:3]
    assert np.array_equal(out.env, ref.env[rows]) and np.array_equal(out.led, ref.led[rows])
    assert out.overflows == ref.overflows > 0  # the saturations happened, and were counted


def _assert_every_variant_bit_exact(build, qd, x: np.ndarray, tag: str) -> None:
    """The generated assembly in the two-sample and the one-sample block, and the portable C
    in pairs, run on the simulated AVR: every band's output equal to the oracle's."""
    b, harness = build
    ref = model.run(qd, x)
    for asm, step in ((True, "pairs"), (True, "inline"), (False, "pairs")):
        elf = avr_run.build_program(qd, b, f"{tag}_{asm}_{step}", asm=asm, step=step)
        out, _ = avr_run.run_kernel(harness, elf, x, qd.n_bands, b, pairs=step == "pairs")
        rows = slice(1, None, 2) if step == "pairs" else slice(None)
        bad = np.argwhere(out.y != ref.y[rows])[:3]
        assert np.array_equal(out.y, ref.y[rows]), (asm, step, bad)


@pytest.mark.parametrize("seed", range(8))
def test_random_biquad_constants_on_the_avr(build, seed):
    """The generated assembly for random biquad constants (designer/cstep_avr.py: every
    mantissa width, sign and shift, bytes below D, structured and general numerators, one- and
    two-sample blocks), and the portable C on the AVR's 16-bit int: bit-exact with the oracle,
    wrap-around included."""
    qd = random_biquads(seed)
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.integers(-32768, 32768, 700), _input(qd.fs)[:900]]).astype(np.int16)
    _assert_every_variant_bit_exact(build, qd, x, f"rnd{seed}")


def _whole_byte_numerators(qd, rng: np.random.Generator):
    """qd with every biquad made a general BQ as the quantizer makes them: one mantissa (or
    the equal outer pair of a symmetric numerator) a whole number of 256s, either sign,
    sometimes one term missing; its poles and shifts kept."""
    import dataclasses

    def numerator(sec) -> QSection:
        m = [int(v) for v in rng.integers(-21845, 21846, 3)]
        j = int(rng.integers(0, 3))
        m[j] = (m[j] // 256 or 1) * 256
        shape = rng.integers(0, 4)
        if shape == 1:  # symmetric (zeros on the unit circle): the outer pair whole bytes
            m[0] = m[2] = m[j]
        elif shape == 2:  # one term missing (the history moves on regardless)
            m[int(rng.choice([k for k in range(3) if k != j]))] = 0
        out = dataclasses.replace(sec, kind="bq", c=(*m, *sec.c[3:]))
        return numerator(sec) if cstep_avr.structure(out) is not None else out

    new = []
    for band in qd.bands:
        secs = tuple(numerator(sec) for sec in band.sections)
        new.append(dataclasses.replace(band, sections=secs))
    return dataclasses.replace(qd, bands=tuple(new))


@pytest.mark.parametrize("seed", range(4))
def test_whole_byte_general_numerators_on_the_avr(build, seed):
    """General numerators with whole-byte mantissas (fewer partial products), in the
    two-sample block (the first input passed to the second sample through x2's slot) and the
    one-sample block (the history moved from the partials' registers), and the portable C:
    bit-exact with the oracle for every pole width and shift, wrap-around included."""
    rng = np.random.default_rng(100 + seed)
    qd = _whole_byte_numerators(random_biquads(100 + seed), rng)
    assert all(cstep_avr.structure(s) is None for band in qd.bands for s in band.sections)
    x = np.concatenate([rng.integers(-32768, 32768, 700), _input(qd.fs)[:900]]).astype(np.int16)
    _assert_every_variant_bit_exact(build, qd, x, f"wb{seed}")


def test_cycle_stamps_name_every_task(build):
    b, harness = build
    fs, bands, ar = EXAMPLES["classic"]()
    qd = quantize(bands, fs, ar)
    x = _input(fs)[:20 * qd.ctl_period]
    elf = avr_run.build_program(qd, b, "classic_stamps", step="inline")
    _, pairs = avr_run.run_kernel(harness, elf, x, qd.n_bands, b)
    cyc = avr_run.sample_cycles(pairs)
    assert cyc["all"]["count"] == x.size
    # windows, input, three bands and the AGC, once per round, on the odd samples 1..11
    assert sorted(cyc["tasks"]) == list(range(qd.ctl_tasks))
    assert all(t["count"] == 20 for t in cyc["tasks"].values())
    assert cyc["filters"]["count"] == x.size - 20 * qd.ctl_tasks
    assert 0 < cyc["filters"]["min"] <= cyc["filters"]["mean"] <= cyc["filters"]["max"]
    assert all(t["mean"] > 0 for t in cyc["tasks"].values())


def test_the_interrupt_keeps_up(build):
    """The firmware's pair interrupt on the classic organ: every conversion interrupt returns
    before the next one (the harness follows them all), none overlaps the busy DSP."""
    b, harness = build
    fs, bands, ar = EXAMPLES["classic"]()
    qd = quantize(bands, fs, ar)
    x = _input(fs)[:2000]
    elf = avr_run.build_program(qd, b, "classic_isr", isr=True)
    res = avr_run.run_isr(harness, elf, x, b)
    assert res["count"] == x.size
    assert 0 < res["min"] < res["mean"] < 16e6 / fs < res["max"] < 2 * 16e6 / fs
