"""Tests for designer/learn_impulse.py: IIR filters recovered from impulse responses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from scipy import signal

from designer.errors import DesignerError
from designer.learn_impulse import _Recursion, fit_impulse, fit_resonator, prony

FS = 8000.0
Q = 0.995
OMEGA = 2 * math.pi * 440.0 / FS
K1, K2 = 2 * Q * math.cos(OMEGA), -Q * Q  # y[n] = x[n] + k1 y[n-1] + k2 y[n-2]


@pytest.fixture(scope="module")
def notebook_response() -> np.ndarray:
    """BACKGROUND.md §2: the resonator's response to x[0] = 0.1, 16000 samples, as float32."""
    x = np.zeros(16000)
    x[0] = 0.1
    return signal.lfilter([1.0], [1.0, -K1, -K2], x).astype(np.float32)


class TestNotebookResonator:
    def test_recovers_k1_k2_to_1e_6(self, notebook_response):
        fit = fit_impulse(notebook_response, FS, 2)
        assert fit.feedback[0] == pytest.approx(K1, rel=1e-6)
        assert fit.feedback[1] == pytest.approx(K2, rel=1e-6)
        assert fit.input_scale == 1.0
        # the data fix only x[0]·g: with a unit impulse assumed, the gain is the data's 0.1
        assert fit.feedforward[0] == pytest.approx(0.1, rel=1e-6)
        assert_allclose(fit.feedforward[1:], 0.0, atol=1e-7)
        assert fit.sos.shape == (1, 6)
        assert fit.sos[0, 3:] == pytest.approx([1.0, -K1, -K2], rel=1e-6)
        assert np.all(fit.pole_radii < 1.0)
        assert fit.pole_radii == pytest.approx([Q, Q], rel=1e-6)
        assert fit.rms_error < 1e-6
        assert fit.max_error_db < 1e-3

    def test_input_scale_moves_the_gain_only(self, notebook_response):
        fit = fit_impulse(notebook_response, FS, 2, numerator_order=0, input_scale=0.1)
        assert fit.feedforward.shape == (1,)
        assert fit.feedforward[0] == pytest.approx(1.0, rel=1e-6)  # the notebook's g = 1
        assert fit.feedback == pytest.approx([K1, K2], rel=1e-6)
        assert fit.input_scale == 0.1

    def test_sos_reproduces_the_data(self, notebook_response):
        fit = fit_impulse(notebook_response, FS, 2, numerator_order=0)
        x = np.zeros(notebook_response.size)
        x[0] = 1.0
        assert_allclose(signal.sosfilt(fit.sos, x), notebook_response, atol=1e-8)


class TestRecursion:
    def test_doubling_equals_the_filter_recursion(self):
        """The companion-matrix ("linear RNN") response is the lfilter response."""
        rng = np.random.default_rng(0)
        for order, n_zeros in ((1, 0), (2, 2), (4, 3), (5, 5)):
            rec = _Recursion(order, n_zeros, 300)
            th = torch.tensor(rng.normal(0, 1, order + n_zeros + 1), dtype=torch.float64)
            a = rec.denominator(th).numpy()
            b = rec.numerator(th).numpy()
            assert np.all(np.abs(np.roots(a)) < 1.0)
            x = np.zeros(300)
            x[0] = 1.0
            assert_allclose(rec.impulse(th).detach().numpy(), signal.lfilter(b, a, x), atol=1e-12)

    def test_prony_is_exact_on_exact_data(self):
        b, a = signal.butter(3, 0.3)
        x = np.zeros(200)
        x[0] = 1.0
        a_hat, b_hat = prony(signal.lfilter(b, a, x), 3, 3)
        assert_allclose(a_hat, a, atol=1e-9)
        assert_allclose(b_hat, b, atol=1e-9)


class TestHigherOrders:
    def test_butterworth_bandpass_order_4(self):
        fs = 16000.0
        sos = signal.butter(2, [1000.0, 4000.0], "bandpass", fs=fs, output="sos")
        x = np.zeros(2000)
        x[0] = 1.0
        h = signal.sosfilt(sos, x)
        fit = fit_impulse(h, fs, 4)
        assert np.all(fit.pole_radii < 1.0)
        f = np.linspace(50.0, 7950.0, 300)
        _, want = signal.sosfreqz(sos, worN=f, fs=fs)
        _, got = signal.sosfreqz(fit.sos, worN=f, fs=fs)
        assert_allclose(np.abs(got), np.abs(want), atol=1e-8)

    def test_growing_data_still_give_a_stable_filter(self):
        h = 1.01 ** np.arange(200) * np.cos(0.3 * np.arange(200))  # an unstable "response"
        fit = fit_impulse(h, FS, 2)
        assert np.all(fit.pole_radii < 1.0)

    def test_noisy_response(self):
        rng = np.random.default_rng(5)
        b, a = signal.butter(3, 0.25)
        x = np.zeros(3000)
        x[0] = 1.0
        noise = rng.normal(0, 1e-4, x.size)
        h = signal.lfilter(b, a, x) + noise
        fit = fit_impulse(h, FS, 3)
        assert np.all(fit.pole_radii < 1.0)
        assert_allclose(np.sort(np.abs(np.roots(a))), np.sort(fit.pole_radii), atol=1e-3)
        # least squares: the residual is no larger than the noise the true filter leaves
        residual_rms = fit.rms_error * np.sqrt(np.mean(h * h))
        assert residual_rms <= np.sqrt(np.mean(noise * noise))


class TestErrors:
    def test_bad_inputs(self, notebook_response):
        h = np.asarray(notebook_response, dtype=float)
        cases = [
            (dict(h=np.r_[h[:100], np.nan]), "finite"),
            (dict(h=np.zeros(100)), "every sample is zero"),
            (dict(h=h[:5]), "at least"),
            (dict(h=h.reshape(100, 160)), "1-D"),
            (dict(order=0), "order must be"),
            (dict(numerator_order=3), "numerator_order must be"),
            (dict(input_scale=0.0), "input_scale"),
            (dict(fs=0.0), "positive sample rate"),
        ]
        for over, match in cases:
            kw = dict(h=h, fs=FS, order=2, numerator_order=None, input_scale=1.0) | over
            with pytest.raises(DesignerError, match=match):
                fit_impulse(
                    kw["h"],
                    kw["fs"],
                    kw["order"],
                    numerator_order=kw["numerator_order"],
                    input_scale=kw["input_scale"],
                )


class TestFitResonator:
    def test_from_impulse(self, notebook_response):
        fit = fit_resonator(notebook_response, "impulse", FS)
        assert fit.center_hz == pytest.approx(440.0, rel=1e-6)
        assert fit.pole_radius == pytest.approx(Q, rel=1e-7)
        assert fit.gain == pytest.approx(0.1, rel=1e-6)

    @pytest.mark.parametrize("kind", ["magnitude", "db"])
    def test_from_spectrum(self, kind):
        f, h = signal.freqz([0.3], [1.0, -K1, -K2], worN=512, fs=FS)
        values = np.abs(h) if kind == "magnitude" else 20 * np.log10(np.abs(h))
        fit = fit_resonator(values, kind, FS, freqs_hz=f)
        assert fit.center_hz == pytest.approx(440.0, rel=1e-4)
        assert fit.pole_radius == pytest.approx(Q, rel=1e-5)
        assert fit.gain == pytest.approx(0.3, rel=1e-3)
        assert fit.sos[0, 3:] == pytest.approx([1.0, -K1, -K2], rel=1e-4)
        assert fit.max_error_db < 0.01

    def test_errors(self, notebook_response):
        x = np.zeros(500)
        x[0] = 1.0
        real_poles = signal.lfilter([1.0], [1.0, -0.5, 0.06], x)  # poles 0.2 and 0.3
        with pytest.raises(DesignerError, match="real, not a resonance"):
            fit_resonator(real_poles, "impulse", FS)
        with pytest.raises(DesignerError, match="needs freqs_hz"):
            fit_resonator(np.ones(10), "magnitude", FS)
        with pytest.raises(DesignerError, match="kind must be"):
            fit_resonator(np.ones(10), "binary", FS)
