"""The two behaviours the DSP core must show together with DEFAULT parameters (issue 3).

1. Steady tones: after settling, a sine at any level from full scale down to -30 dBFS lights
   exactly the bands whose designed magnitude at that frequency is above -3 dB (frequencies
   within 5 % of a band's -3 dB edge are skipped; a narrow resonator's centre is tested too).
2. Music: in a synthetic drum loop peaking at -1 dBFS, kicks light bass, hi-hats 15 dB quieter
   light treble, kicks do not light treble nor hats bass, and no LED stays lit through a gap.

The runs use the host-built C core, which tests/test_native.py holds bit-identical to the
Python oracle (designer.model); uno designs get 10-bit ADC samples ((adc - 512) << 6).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_tool
from dsp_examples import EXAMPLES, drum_loop, edges_hz
from scipy import signal

from designer.quantize import quantize

LEVELS_DBFS = (0.0, -10.0, -20.0, -30.0)
SETTLE_S, CHECK_S = 1.2, 0.4
RESONATOR_CENTRES = (82.41, 110.0, 220.0, 440.0)


def adc10(v: np.ndarray) -> np.ndarray:
    """What the AVR HAL feeds the core: a 10-bit conversion, (adc - 512) << 6."""
    return ((np.clip(np.round(v / 64 + 512), 0, 1023) - 512) * 64).astype(np.int16)


def _core(name: str):
    require_tool("gcc")
    from designer.native import NativeCore

    fs, bands, ar = EXAMPLES[name]()
    return fs, bands, NativeCore(quantize(bands, fs, ar))


def _input(fs: float, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if fs < 20000:  # an Arduino: 10-bit ADC with a little noise
        return adc10(v + rng.uniform(-32, 32, v.size))
    return np.round(np.clip(v, -32768, 32767)).astype(np.int16)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_steady_tones_light_exactly_the_bands_above_minus_3db(name):
    fs, bands, core = _core(name)
    rng = np.random.default_rng(1)
    edges = [edges_hz(b.sos, fs) for b in bands]
    freqs = list(np.geomspace(40.0, 0.45 * fs, 60))
    if name == "resonator":
        freqs += list(RESONATOR_CENTRES)
    n = int((SETTLE_S + CHECK_S) * fs)
    t = np.arange(n) / fs
    tested = failures = 0
    report = []
    for f in freqs:
        near = any(np.any(np.abs(f / e - 1) < 0.05) for e in edges)
        if near and f not in RESONATOR_CENTRES:
            continue
        want = np.array([abs(signal.sosfreqz(b.sos, worN=[f], fs=fs)[1][0]) > 10 ** (-3.0103 / 20)
                         for b in bands])
        for level in LEVELS_DBFS:
            v = 32767 * 10 ** (level / 20) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
            lit = core.process(_input(fs, v, rng)).led[-int(CHECK_S * fs):] > 0
            tested += 1
            if not np.all(lit == want):
                failures += 1
                report.append(f"{f:.1f} Hz {level} dBFS: want {want.astype(int)}, "
                              f"lit fraction {np.round(lit.mean(axis=0), 2)}")
    assert tested >= 100
    assert failures == 0, "\n".join(report)


@pytest.mark.parametrize("name, bass, treble", [("classic", 0, 2), ("msgeq7", 0, 6),
                                                ("esp32c3", 0, 6)])
@pytest.mark.parametrize("bpm", [100, 120, 140])
def test_drum_loop(name, bass, treble, bpm):
    fs, bands, core = _core(name)
    x, kicks, hats, gaps = drum_loop(fs, bars=4, bpm=bpm, seed=bpm)
    if fs < 20000:
        x = adc10(x.astype(float))
    assert np.max(np.abs(x)) == pytest.approx(32767 * 10 ** (-1 / 20), rel=0.01)
    lit = core.process(x).led > 0

    def on(band: int, t0: float, t1: float) -> bool:
        return bool(lit[int(t0 * fs):int(t1 * fs), band].any())

    def turns_on(band: int, t: float, within: float) -> bool:
        return not on(band, t - 0.005, t) and on(band, t, t + within)

    lone_hats = [h for h in hats if all(abs(h - k) > 0.01 for k in kicks)]
    lone_kicks = [k for k in kicks if all(abs(h - k) > 0.01 for h in hats)]
    assert len(lone_hats) >= 8 and len(lone_kicks) >= 4
    missed = [k for k in kicks if not on(bass, k, k + 0.03)]
    assert not missed, f"kicks at {missed} s did not light bass within 30 ms"
    missed = [h for h in lone_hats if not on(treble, h, h + 0.03)]
    assert not missed, f"hi-hats at {missed} s did not light treble within 30 ms"
    wrong = [k for k in lone_kicks if turns_on(treble, k, 0.05)]
    assert not wrong, f"kicks at {wrong} s turned treble on"
    wrong = [h for h in lone_hats if turns_on(bass, h, 0.03)]
    assert not wrong, f"hi-hats at {wrong} s turned bass on"
    assert gaps
    for g0, g1 in gaps:
        seg = lit[int(g0 * fs):int(g1 * fs) - int(0.005 * fs)].any(axis=1)
        off_from = int(0.15 * fs)
        assert not seg[off_from:].any(), f"an LED stays lit in the gap {g0:.2f}..{g1:.2f} s"


def test_silence_and_noise_floor_light_nothing():
    fs, bands, core = _core("classic")
    rng = np.random.default_rng(5)
    x = adc10(rng.normal(0, 64, int(fs)))  # +-1 ADC LSB of noise
    assert not core.process(x).led.any()
    assert not core.process(np.zeros(int(fs), np.int16)).led.any()


def test_hold_time_limits_the_flash_rate():
    """hold_ms = 334 keeps every on and off period >= 1/3 s (flashing under 3 Hz)."""
    fs, bands, core = _core("classic")
    x, *_ = drum_loop(fs, bars=4, bpm=140, seed=2)
    lit = core.process(adc10(x.astype(float)), params={"hold_ms": 334}).led[:, 0] > 0
    changes = np.flatnonzero(np.diff(lit.astype(int)))
    assert changes.size >= 4
    assert np.min(np.diff(changes)) >= int(0.33 * fs)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_abrupt_tone_onset_and_stop(name):
    """A -6 dBFS tone that starts and stops abruptly (no fade): while it sounds, a band more
    than 4 dB down lights at most in its first 30 ms (a flash of the onset's splatter; the
    classic organ's mid band at 6 kHz, which flashed ~250 ms, stays dark altogether:
    tests/test_simulate.py), and 100 ms after the stop every LED is dark (it took ~250 ms)."""
    fs, bands, core = _core(name)
    rng = np.random.default_rng(7)
    for freq in (200.0, 1500.0, 6000.0):
        n0, n1 = int(0.3 * fs), int(1.3 * fs)
        v = np.zeros(int(1.8 * fs))
        v[n0:n1] = 16384 * np.sin(2 * np.pi * freq * np.arange(n1 - n0) / fs)
        led = core.process(_input(fs, v, rng)).led > 0
        for b, band in enumerate(bands):
            g = abs(signal.sosfreqz(band.sos, worN=[freq], fs=fs)[1][0])
            if g < 10 ** (-4 / 20):
                assert not led[n0 + int(0.03 * fs):n1, b].any(), (
                    f"{band.name} ({20 * np.log10(g):.0f} dB) lit by a settled {freq} Hz tone")
        assert not led[n1 + int(0.1 * fs):].any(), f"an LED still lit 100 ms after {freq} Hz"
