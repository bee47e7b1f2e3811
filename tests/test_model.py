"""designer/model.py: the fixed-point oracle's own behaviour (its agreement with the C core is
tests/test_native.py's job)."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_examples import classic, msgeq7, resonators

from designer import model
from designer.errors import DesignerError
from designer.quantize import quantize


@pytest.fixture(scope="module")
def qd():
    fs, bands, ar = classic()
    return quantize(bands, fs, ar)


class TestDerived:
    def test_alpha_is_one_minus_exp(self):
        for ms in (2, 8, 60, 400, 2000):
            a = model.alpha(ms, 801) / 65536
            exact = 1 - np.exp(-1000 / (ms * 801))
            assert a == pytest.approx(exact, rel=0.03)
        assert model.alpha(0, 801) == 65535
        # a 5 s release at 2 kHz control rate is still a nonzero step: it does not stall
        assert model.alpha(5000, 2000) >= 6

    def test_derive(self, qd):
        k = model.derive(qd, qd.params())
        assert k["hold_ticks"] == 0
        assert k["squelch_m"] == (184 * qd.lvl_k) >> 16
        mfs = qd.lvl_k >> 1
        assert k["kb"] == round(255 * 65536 / mfs)
        k2 = model.derive(qd, {**qd.params(), "hold_ms": 334})
        assert k2["hold_ticks"] == round(334 * qd.ctl_hz / 1000)
        # the transient window is 20 ms of control rounds; the slow parts run every 4th round
        assert k["age_max"] == round(model.TRANSIENT_MS * qd.ctl_hz / 1000)
        slow_hz = (qd.ctl_hz + 2) // model.SLOW_ROUNDS
        assert k["a_slow"] == model.alpha(400, slow_hz)
        assert k["a_agc"] == model.alpha(2000, slow_hz)

    def test_gamma_table(self):
        vals = [model.gamma(i, None) for i in range(256)]
        assert vals[0] == 0 and vals[255] >= 250
        assert all(b >= a for a, b in zip(vals, vals[1:], strict=False))
        assert np.array_equal(model.gamma(np.arange(256), np), vals)


class TestModel:
    def test_gate_and_brightness_start_ready(self, qd):
        """The gate is the squelch and gc the AGC-free factor from reset on, not from the first
        AGC round: noise at the start lights nothing."""
        m = model.Model(qd)
        assert m.gate == m.k["squelch_m"] and m.gc == min((m.k["kb"] * 256) >> 8, 65535)
        m = model.Model(qd, {"agc": 0, "gain": 512})
        assert m.gc == min((m.k["kb"] * 512) >> 8, 65535)

    def test_tasks_run_after_odd_samples(self, qd):
        """Task k of a round runs after sample 2k + 1: the band outputs (task 2 + b) change only
        there, and the AGC task (n_bands + 2) keeps the round's last task slot."""
        rng = np.random.default_rng(1)
        x = rng.integers(-8000, 8000, 20 * qd.ctl_period).astype(np.int16)
        out = model.run(qd, x)
        changed = np.flatnonzero(np.any(np.diff(out.env.astype(int), axis=0) != 0, axis=1)) + 1
        ticks = set((changed % qd.ctl_period).tolist())
        assert ticks and ticks <= {2 * (2 + b) + 1 for b in range(qd.n_bands)}
        assert qd.ctl_tasks == qd.n_bands + 3 and qd.ctl_period % 2 == 0

    def test_silence_is_zero_and_dark(self, qd):
        out = model.run(qd, np.zeros(5000, np.int16))
        assert not out.y.any() and not out.env.any() and not out.led.any()
        assert out.overflows == 0

    def test_shapes_and_types(self, qd):
        out = model.run(qd, np.zeros(10, np.int16))
        assert out.y.shape == (10, 3) and out.y.dtype == np.int16 and out.led.dtype == np.uint8
        out = model.run(qd, np.zeros((4, 10), np.int16))
        assert out.y.shape == (4, 10, 3)

    def test_state_carries_and_reset(self, qd):
        rng = np.random.default_rng(0)
        x = rng.integers(-20000, 20000, 4000).astype(np.int16)
        whole = model.Model(qd).process(x)
        m = model.Model(qd)
        a = m.process(x[:1500])
        b = m.process(x[1500:])
        assert np.array_equal(np.concatenate([a.y, b.y]), whole.y)
        assert np.array_equal(np.concatenate([a.led, b.led]), whole.led)
        again = m.process(x, reset=True)
        assert np.array_equal(again.y, whole.y)

    def test_dc_blocker_removes_a_bias(self, qd):
        out = model.run(qd, np.full(20000, 8000, np.int16))
        assert np.all(np.abs(out.y[-1000:]) <= 2)

    def test_saturation_is_counted(self, qd):
        x = np.tile(np.repeat(np.array([32767, -32768], np.int16), 4), 200)
        assert model.run(qd, x).overflows > 0

    def test_parameters(self, qd):
        m = model.Model(qd, {"hold_ms": 334})
        assert m.values["hold_ms"] == 334
        m.set_params({"agc": 0})
        assert m.values["agc"] == 0 and m.values["hold_ms"] == 334
        with pytest.raises(DesignerError):
            model.Model(qd, {"hold_ms": -3})
        with pytest.raises(DesignerError):
            model.Model(qd, {"bogus": 1})

    def test_rejects_wrong_input_shape_or_arithmetic(self, qd):
        with pytest.raises(ValueError):
            model.Model(qd).process(np.zeros((2, 5), np.int16))
        with pytest.raises(ValueError):
            model.Model(qd, streams=2).process(np.zeros(5, np.int16))
        fs, bands, _ = msgeq7()
        with pytest.raises(ValueError, match="float design"):
            model.Model(quantize(bands, fs, "float"))

    def test_resonator_rings_at_its_centre(self):
        fs, bands, ar = resonators()
        qd = quantize(bands[:1], fs, ar)
        t = np.arange(int(fs)) / fs
        x = np.round(10000 * np.sin(2 * np.pi * 82.41 * t)).astype(np.int16)
        y = model.run(qd, x).y[-2000:, 0].astype(float)
        gain = np.max(np.abs(y)) / 10000 * qd.norm_factor(0)
        assert gain == pytest.approx(1.0, abs=0.02)


class TestIncrement:
    """increment(): one floor of the exact sum of the biquad's terms (organ_dsp.h, BQ)."""

    def test_floor_of_the_exact_sum(self):
        from fractions import Fraction

        rng = np.random.default_rng(5)
        for _ in range(2000):
            terms = [(int(rng.integers(-2**39, 2**39)) >> int(rng.integers(0, 30)),
                      int(rng.choice([-16, -8, 0, 3, 8, 16, 24]))) for _ in range(3)]
            exact = sum(Fraction(p, 2**sh) if sh > 0 else Fraction(p * 2**-sh) for p, sh in terms)
            assert model.increment(terms) == (exact.numerator // exact.denominator) % 2**32

    def test_batch_equals_scalar(self):
        rng = np.random.default_rng(6)
        p = rng.integers(-2**38, 2**38, (3, 500))
        terms = [(p[0], 8), (p[1], -8), (p[2], 16)]
        batch = model.increment(terms)
        for i in range(500):
            assert batch[i] == model.increment([(int(p[0, i]), 8), (int(p[1, i]), -8),
                                                (int(p[2, i]), 16)])

