"""The core on a simulated ATmega328P (libsimavr, tests/avr_cycles): the AVR assembly path and
the portable C path both bit-exact with the oracle, and the cycle stamps working.

Cycle targets are reported by benchmarks/avr_dsp_cycles.py, not asserted here."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import IN_CI, require_tool
from dsp_examples import EXAMPLES, drum_loop

from designer import model
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
    rng = np.random.default_rng(4)
    drums, *_ = drum_loop(fs, bars=1)
    x = np.concatenate([drums[:2500], rng.integers(-32768, 32768, 800),
                        np.repeat(rng.choice([-32768, 32767], 40), 10)]).astype(np.int16)
    return ((x.astype(np.int32) >> 6) << 6).astype(np.int16)  # what the ADC delivers


@pytest.mark.parametrize("name", ["classic", "resonator", "esp32c3"])
@pytest.mark.parametrize("asm", [True, False], ids=["asm", "portable-c"])
def test_bit_exact_on_the_avr(build, name, asm):
    """classic: the all-first-order loop; resonator: all-pole biquads; esp32c3's tables (full
    numerators, left shifts) run here too, to cover every branch of the biquad kernel."""
    b, harness = build
    fs, bands, ar = EXAMPLES[name]()
    qd = quantize(bands, fs, ar)
    x = _input(fs)
    elf = avr_run.build_program(qd, b, f"{name}_{asm}", asm=asm)
    y, env, led, pairs = avr_run.run_kernel(harness, elf, x, qd.n_bands, b)
    ref = model.run(qd, x)
    assert np.array_equal(y, ref.y), np.argwhere(y != ref.y)[:3]
    assert np.array_equal(env, ref.env) and np.array_equal(led, ref.led)
    count, total, lo, hi = pairs["1>2"]
    assert count == x.size and lo <= total / count <= hi


def test_stage_stamps(build):
    b, harness = build
    fs, bands, ar = EXAMPLES["classic"]()
    qd = quantize(bands, fs, ar)
    x = _input(fs)[:1200]
    elf = avr_run.build_program(qd, b, "classic_marks", marks=True)
    stages = avr_run.section_cycles(avr_run.run_kernel(harness, elf, x, 3, b)[3])
    assert {"dc_blocker+rect", "all_bands_asm"} <= set(stages)
    assert sum(1 for k in stages if k.startswith("control_")) == 12
    elf = avr_run.build_program(qd, b, "classic_sections", section_marks=True)
    stages = avr_run.section_cycles(avr_run.run_kernel(harness, elf, x, 3, b)[3])
    assert stages["lp1"]["count"] == 2 * x.size and stages["hp1"]["count"] == 2 * x.size
