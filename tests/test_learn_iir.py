"""Tests for designer/learn_iir.py: free stable IIR cascades fitted to magnitude responses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import signal

from designer.errors import DesignerError
from designer.learn_iir import R_MAX, den2, den2_inverse, fit_iir, pair_roots


def mag_db(sos: np.ndarray, freqs: np.ndarray, fs: float) -> np.ndarray:
    _, h = signal.sosfreqz(sos, worN=freqs, fs=fs)
    return 20.0 * np.log10(np.maximum(np.abs(h), 1e-300))


def all_poles(sos: np.ndarray) -> np.ndarray:
    return np.concatenate([np.roots(row[3:]) for row in sos])


class TestButterworthBandpass:
    FS = 16000.0

    @pytest.fixture(scope="class")
    def target(self):
        sos = signal.butter(2, [1000.0, 4000.0], "bandpass", fs=self.FS, output="sos")
        freqs, h = signal.sosfreqz(sos, worN=512, fs=self.FS)
        return sos, freqs, h

    @pytest.mark.parametrize("kind", ["magnitude", "db"])
    def test_order_4_fit_within_0_1_db(self, target, kind):
        sos, freqs, h = target
        with np.errstate(divide="ignore"):
            values = np.abs(h) if kind == "magnitude" else 20 * np.log10(np.abs(h))  # -inf at DC
        fit = fit_iir(freqs, values, kind, 4, self.FS)
        assert fit.sos.shape == (2, 6) and np.all(fit.sos[:, 3] == 1.0)
        assert fit.max_error_db <= 0.1
        assert np.all(np.abs(all_poles(fit.sos)) < 1.0)
        assert np.all(fit.pole_radii < 1.0)
        # independent check off the training grid, where the target is above −20 dB
        f = np.linspace(10.0, 7990.0, 997)
        want = mag_db(sos, f, self.FS)
        got = mag_db(fit.sos, f, self.FS)
        scored = want > -20.0
        assert np.max(np.abs(got[scored] - want[scored])) <= 0.1
        # the reported error is the real one on the training grid
        train = 20 * np.log10(np.maximum(np.abs(h), 1e-300))
        keep = train > -20.0
        err = np.max(np.abs(mag_db(fit.sos, freqs, self.FS)[keep] - train[keep]))
        assert fit.max_error_db == pytest.approx(err, rel=1e-6, abs=1e-12)
        assert fit.loss_history[-1] <= fit.loss_history[0]

    def test_same_seed_same_result(self, target):
        _, freqs, h = target
        a = fit_iir(freqs, np.abs(h), "magnitude", 3, self.FS, seed=4)
        b = fit_iir(freqs, np.abs(h), "magnitude", 3, self.FS, seed=4)
        assert_allclose(a.sos, b.sos, rtol=0, atol=0)

    def test_under_modelled_fit_is_stable_and_reports_its_error(self, target):
        _, freqs, h = target
        fit = fit_iir(freqs, np.abs(h), "magnitude", 2, self.FS)
        assert np.all(np.abs(all_poles(fit.sos)) < 1.0)
        train = 20 * np.log10(np.maximum(np.abs(h), 1e-300))
        keep = train > -20.0
        err = np.max(np.abs(mag_db(fit.sos, freqs, self.FS)[keep] - train[keep]))
        assert fit.max_error_db == pytest.approx(err, rel=1e-6)
        assert fit.max_error_db > 0.1  # order 2 cannot match a 4th-order band-pass


class TestOtherShapes:
    @pytest.mark.parametrize(
        "order, btype, edges",
        [(3, "lowpass", 2000.0), (5, "highpass", 3000.0), (1, "lowpass", 500.0)],
    )
    def test_odd_orders_use_one_first_order_section(self, order, btype, edges):
        fs = 16000.0
        sos = signal.butter(order, edges, btype, fs=fs, output="sos")
        freqs, h = signal.sosfreqz(sos, worN=400, fs=fs)
        fit = fit_iir(freqs, np.abs(h), "magnitude", order, fs)
        first_order = [row for row in fit.sos if row[2] == 0.0 and row[5] == 0.0]
        assert len(first_order) == 1 and len(fit.sos) == (order + 1) // 2
        assert fit.max_error_db <= 0.01
        assert np.all(np.abs(all_poles(fit.sos)) < 1.0)


class TestParametrisation:
    @given(st.floats(-30.0, 30.0), st.floats(-30.0, 30.0))
    @settings(max_examples=200, deadline=None)
    def test_every_parameter_gives_poles_inside(self, u, v):
        a1, a2 = den2(torch.tensor(u, dtype=torch.float64), torch.tensor(v, dtype=torch.float64))
        radii = np.abs(np.roots([1.0, float(a1), float(a2)]))
        # at most R_MAX = 1 − 1e-6, up to the root finder's error at a double root (~1e-8)
        assert np.all(radii < 1.0) and np.all(radii <= R_MAX + 1e-7)

    @given(st.floats(0.0, 0.999), st.floats(0.0, math.pi))
    @settings(max_examples=100, deadline=None)
    def test_inverse_round_trip(self, r, phi):
        a1, a2 = -2.0 * r * math.cos(phi), r * r
        u, v = den2_inverse(a1, a2)
        b1, b2 = den2(torch.tensor(u, dtype=torch.float64), torch.tensor(v, dtype=torch.float64))
        assert float(b1) == pytest.approx(a1, abs=1e-9) and float(b2) == pytest.approx(a2, abs=1e-9)

    def test_pair_roots(self):
        roots = np.array([0.5 + 0.5j, 0.5 - 0.5j, 0.2, -0.3, 0.9])
        quads, lin = pair_roots(roots, 2, 1)
        assert lin == [pytest.approx(-0.2)]  # the real root nearest the origin stays alone
        assert quads[0] == pytest.approx((-1.0, 0.5))
        assert quads[1] == pytest.approx((-(0.9 - 0.3), -0.27))


class TestErrors:
    def test_bad_inputs(self):
        fs = 8000.0
        f = np.linspace(0.0, 4000.0, 64)
        v = np.ones_like(f)
        cases = [
            (dict(kind="binary"), "kind must be magnitude or db"),
            (dict(order=0), "order must be an integer"),
            (dict(order=13), "order must be an integer"),
            (dict(freqs=f + 100.0), r"\[0, fs/2\]"),
            (dict(freqs=f[:8], values=v[:8]), "at least 10 frequencies"),
            (dict(values=v[:10]), "one value per frequency"),
            (dict(values=-v), ">= 0"),
            (dict(values=np.r_[v[:-1], np.nan], kind="db"), "NaN"),
            (dict(values=np.zeros_like(v)), "zero at every frequency"),
            (dict(fs=-1.0), "positive sample rate"),
        ]
        for over, match in cases:
            kw = dict(freqs=f, values=v, kind="magnitude", order=4, fs=fs) | over
            with pytest.raises(DesignerError, match=match):
                fit_iir(kw["freqs"], kw["values"], kw["kind"], kw["order"], kw["fs"])
