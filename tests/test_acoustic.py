"""The acoustic path of the real firmware, with no serial shortcut: tone bursts go into ADC0 of
the simulated ATmega328P (host/simavr.py), the LED pins are watched (their PWM duty, from the
registers the firmware writes, with the cycle of each write).

On the classic organ: a full-scale 200 Hz burst lights bass and a full-scale 6.5 kHz burst
lights treble, each within 5 ms of the burst's first sample (the cycle of its conversion);
bands far from the tone (designed gain below the transient rule's ``share``) never light; a
settled tone lights exactly the bands the -3 dB rule names; silence turns every LED off; and every
value the pins show is one the bit-exact model computes from the samples the firmware actually
processed (the harness records them: an overloaded firmware drops samples, see avr_bench.py)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_path, require_tool
from host_helpers import design

from designer import params as params_mod
from designer.avrbuild import ARDUINO_AVR
from designer.model import Model
from host import simavr
from host.verify_signals import designed_on

pytestmark = pytest.mark.slow
LATENCY_LIMIT_S = 5e-3
QUIET_S, BURST_S, GAP_S = 0.6, 1.2, 1.0
SETTLED_S = 0.2          # the end of a burst where the tone counts as settled
DARK_AFTER_S = 0.9       # every LED is off this long after a burst ends
NOISE = 16               # +-int16 units: a microphone's floor (about -66 dBFS)
TONES = ((200.0, "bass"), (6500.0, "treble"))


@pytest.fixture(scope="module")
def bursts():
    """Silence, a 200 Hz burst, silence, a 6.5 kHz burst, silence, through the classic organ."""
    require_tool("gcc", "pkg-config", "avr-gcc", "avr-g++", "avr-nm", "avr-size", "avr-objcopy")
    require_path("/usr/include/simavr/sim_avr.h", "libsimavr-dev")
    require_path(ARDUINO_AVR / "cores" / "arduino", "Arduino AVR core (arduino-core-avr)")
    d = design("classic")
    fs = d.sample_rate_hz
    parts, onsets, pos = [np.zeros(int(QUIET_S * fs))], [], int(QUIET_S * fs)
    for freq, _ in TONES:
        n = int(BURST_S * fs)
        onsets.append(pos)
        parts += [32767 * np.sin(2 * np.pi * freq * np.arange(n) / fs), np.zeros(int(GAP_S * fs))]
        pos += n + int(GAP_S * fs)
    x = np.concatenate(parts)
    x += np.random.default_rng(1).integers(-NOISE, NOISE + 1, len(x))
    x = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    ends = [k + int(BURST_S * fs) for k in onsets]
    run = simavr.run_offline(d, x, len(x) / fs + 0.05, marks=[*onsets, *ends])
    return d, run, onsets, ends


def cycle(run, sample: int) -> int:
    return run.marks[sample]


@pytest.mark.parametrize("tone", TONES, ids=[name for _, name in TONES])
def test_onset_to_led_latency(bursts, tone):
    d, run, onsets, ends = bursts
    k = TONES.index(tone)
    pin = d.wiring[d.band_names.index(tone[1])].led_pin
    start = cycle(run, onsets[k])
    on = run.first_on(pin, start, cycle(run, ends[k]))
    assert on is not None, f"{tone[1]} LED (pin {pin}) never lit during the {tone[0]} Hz burst"
    latency = (on - start) / simavr.F_CPU
    print(f"{tone[0]:.0f} Hz -> {tone[1]}: {latency * 1e3:.2f} ms "
          f"(+ up to one PWM period, 2.04 ms, until the pin's next high phase)")
    assert latency <= LATENCY_LIMIT_S


def test_bands_far_from_the_tone_stay_dark(bursts):
    d, run, onsets, ends = bursts
    share = params_mod.from_wire("share", d.quantized.params()["share"])  # dB
    checked = 0
    for (freq, _), k0, k1 in zip(TONES, onsets, ends, strict=True):
        gains = np.abs(d.quantized.response([freq], raw=False)[:, 0])
        for i, w in enumerate(d.wiring):
            if 20 * np.log10(gains[i]) < share - 1.0:
                end = cycle(run, k1) + int(0.5 * simavr.F_CPU)
                assert run.first_on(w.led_pin, cycle(run, k0), end) is None, (
                    f"{w.name} lit by a {freq} Hz tone {20 * np.log10(gains[i]):.1f} dB down")
                checked += 1
    assert checked >= 2  # treble at 200 Hz, bass at 6.5 kHz


def test_a_settled_tone_lights_exactly_its_bands(bursts):
    d, run, onsets, ends = bursts
    settled = int(SETTLED_S * simavr.F_CPU)
    for (freq, _), k1 in zip(TONES, ends, strict=True):
        end = cycle(run, k1)
        for band, w in zip(d.filters.bands, d.wiring, strict=True):
            lit = run.lit_cycles(w.led_pin, end - settled, end)
            want = designed_on(band, freq, d.sample_rate_hz)
            assert lit == (settled if want else 0), (
                f"{band.name} at {freq} Hz: lit {lit / settled:.0%} of the settled tone, "
                f"designed {'on' if want else 'off'}")


def test_silence_turns_every_led_off(bursts):
    d, run, _, ends = bursts
    for k1 in ends:
        t = cycle(run, k1) + int(DARK_AFTER_S * simavr.F_CPU)
        assert {w.name: run.level_at(w.led_pin, t) for w in d.wiring} == {
            w.name: 0 for w in d.wiring}


def test_pins_show_the_models_values(bursts):
    d, run, _, _ = bursts
    qd = d.quantized
    out = Model(qd, qd.params()).process(run.processed, reset=True)
    assert len(run.processed) == run.stats["dsp_samples"] == 2 * run.stats["adc_dsp"]["count"]
    assert run.overruns() == run.firmware_overruns() == 0  # the classic organ keeps up
    shown_by_band = {}
    for b, w in enumerate(d.wiring):
        model = out.led[:, b].astype(int)
        changes = model[np.r_[True, model[1:] != model[:-1]]]
        _, shown = run.events.get(w.led_pin, (None, np.zeros(0, int)))
        k = 0
        for v in shown:  # each level shown is the model's next (or a later) value, in order
            while k < len(changes) and changes[k] != v:
                k += 1
            assert k < len(changes), f"{w.name}: pin showed {v}, which the model never computed"
        assert changes[-1] == 0 and (len(shown) == 0 or shown[-1] == 0)
        assert (len(shown) > 0) == bool(model.any()), f"{w.name}: the model lit it, the pin not"
        shown_by_band[w.name] = len(shown)
    assert shown_by_band["bass"] >= 2 and shown_by_band["treble"] >= 2
