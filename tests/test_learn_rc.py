"""Tests for designer/learn_rc.py: RC magnitudes in torch, edge maps, magnitude/dB fits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from designer import analog
from designer.errors import DesignerError
from designer.learn_rc import (
    RcBandTarget,
    cutoffs_from_edges,
    edges_from_cutoffs,
    fit_rc,
    log_mag,
)

C_F = 1e-6


def cutoff_for_r(r_ohm: float) -> float:
    return 1.0 / (2.0 * math.pi * r_ohm * C_F)


@pytest.fixture(scope="module")
def freqs() -> np.ndarray:
    rng = np.random.default_rng(11)
    return np.exp(rng.uniform(0.0, math.log(1e6), 1000))


class TestLogMag:
    @pytest.mark.parametrize(
        "kind, cutoffs", [("lowpass", (800.0,)), ("highpass", (5000.0,)), ("bandpass", (1e3, 4e3))]
    )
    def test_matches_numpy_model_deep_into_stop_band(self, kind, cutoffs):
        f = np.geomspace(0.01, 1e8, 300)
        got = log_mag(kind, torch.tensor(np.log(f)), torch.tensor(np.log(cutoffs))).numpy()
        assert_allclose(got, np.log(analog.band_mag(kind, f, cutoffs)), rtol=1e-12, atol=1e-12)


class TestEdgeMaps:
    @pytest.mark.parametrize("lo, hi", [(1000.0, 4000.0), (100.0, 250.0), (20.0, 2e4)])
    def test_bandpass_edges_match_closed_form(self, lo, hi):
        edges = np.exp(edges_from_cutoffs("bandpass", np.log([lo, hi])))
        assert_allclose(edges, analog.bandpass_edges(lo, hi), rtol=1e-9)
        assert_allclose(analog.bandpass_mag(edges, lo, hi), analog.INV_SQRT2, rtol=1e-12)

    @given(
        st.floats(0.0, 12.0),
        st.floats(0.0, 5.0),
    )
    @settings(max_examples=50, deadline=None)
    def test_round_trip(self, log_lo_edge, log_width):
        edges = np.array([log_lo_edge, log_lo_edge + log_width])
        cut = cutoffs_from_edges("bandpass", edges)
        assert cut[1] - cut[0] >= math.asinh(1.0) - 1e-12  # always reaches −3 dB
        assert_allclose(edges_from_cutoffs("bandpass", cut), edges, atol=1e-7)

    def test_crossed_edges_give_the_same_band(self):
        a = cutoffs_from_edges("bandpass", np.array([7.0, 8.0]))
        b = cutoffs_from_edges("bandpass", np.array([8.0, 7.0]))
        assert_allclose(a, b)

    def test_band_too_narrow_puts_both_edges_at_the_centre(self):
        e = edges_from_cutoffs("bandpass", np.log([1000.0, 2000.0]))
        assert_allclose(e, [math.log(math.sqrt(2e6))] * 2)

    def test_lowpass_edge_is_its_cutoff(self):
        assert edges_from_cutoffs("lowpass", np.array([6.5])).tolist() == [6.5]


class TestFitMagnitude:
    def test_lowpass_from_magnitude_samples(self, freqs):
        v = analog.lowpass_mag(freqs, 800.0)
        fit = fit_rc(freqs, "magnitude", [RcBandTarget("bass", "lowpass", v, (cutoff_for_r(1e3),))])
        assert fit.bands[0].cutoffs_hz[0] == pytest.approx(800.0, rel=1e-9)
        assert fit.bands[0].edges_hz == pytest.approx((800.0,), rel=1e-9)
        assert fit.bands[0].edge_brackets == () and fit.bands[0].misclassified is None

    def test_noisy_lowpass_within_one_percent(self, freqs):
        rng = np.random.default_rng(3)
        v = analog.lowpass_mag(freqs, 800.0) * 10 ** (rng.normal(0, 0.5, freqs.size) / 20)
        fit = fit_rc(freqs, "magnitude", [RcBandTarget("bass", "lowpass", v, (cutoff_for_r(1e3),))])
        assert fit.bands[0].cutoffs_hz[0] == pytest.approx(800.0, rel=0.01)

    @pytest.mark.parametrize("init", [(795.8, 795.8), (1e5, 10.0), None])
    def test_bandpass_from_db_any_start(self, freqs, init):
        v = 20 * np.log10(analog.bandpass_mag(freqs, 1000.0, 4000.0))
        fit = fit_rc(freqs, "db", [RcBandTarget("mid", "bandpass", v, init)])
        assert fit.bands[0].cutoffs_hz == pytest.approx((1000.0, 4000.0), rel=1e-8)
        assert fit.bands[0].edges_hz == pytest.approx(analog.bandpass_edges(1e3, 4e3), rel=1e-8)

    def test_all_bands_at_once_with_data_estimates(self, freqs):
        specs = [
            ("bass", "lowpass", (800.0,)),
            ("mid", "bandpass", (1e3, 4e3)),
            ("treble", "highpass", (5000.0,)),
        ]
        bands = [RcBandTarget(n, k, analog.band_mag(k, freqs, c), None) for n, k, c in specs]
        fit = fit_rc(freqs, "magnitude", bands)
        for (_, _, cut), b in zip(specs, fit.bands, strict=True):
            assert b.cutoffs_hz == pytest.approx(cut, rel=1e-8)

    def test_narrow_bandpass_reports_no_edges(self, freqs):
        v = analog.bandpass_mag(freqs, 1000.0, 2000.0)
        fit = fit_rc(freqs, "magnitude", [RcBandTarget("mid", "bandpass", v, (900.0, 2500.0))])
        assert fit.bands[0].cutoffs_hz == pytest.approx((1000.0, 2000.0), rel=1e-8)
        assert fit.bands[0].edges_hz == ()

    @given(st.floats(math.log(20.0), math.log(2e4)), st.floats(-2.5, 2.5))
    @settings(max_examples=15, deadline=None)
    def test_any_lowpass_from_any_nearby_start(self, log_fc, offset):
        f = np.geomspace(1.0, 1e6, 200)
        fc = math.exp(log_fc)
        v = analog.lowpass_mag(f, fc)
        fit = fit_rc(f, "magnitude", [RcBandTarget("b", "lowpass", v, (fc * math.exp(offset),))])
        assert fit.bands[0].cutoffs_hz[0] == pytest.approx(fc, rel=1e-7)


class TestHistory:
    def test_histories_and_loss_fn_agree(self, freqs):
        v = analog.lowpass_mag(freqs, 800.0)
        start = cutoff_for_r(1e3)
        fit = fit_rc(freqs, "magnitude", [RcBandTarget("bass", "lowpass", v, (start,))])
        assert fit.param_names == ("bass",)
        assert fit.param_history.shape == (fit.steps + 1, 1)
        assert len(fit.loss_history) == fit.steps + 1
        assert fit.param_history[0, 0] == pytest.approx(start)
        assert fit.param_history[-1, 0] == pytest.approx(fit.bands[0].cutoffs_hz[0])
        for row, loss in zip(fit.param_history, fit.loss_history, strict=True):
            assert fit.loss_fn([tuple(row)]) == pytest.approx(loss, rel=1e-9, abs=1e-30)
        expected = np.mean((analog.lowpass_mag(freqs, start) - v) ** 2)
        assert fit.loss_history[0] == pytest.approx(expected, rel=1e-9)
        assert fit.loss_history[-1] < 1e-20
        assert fit.band_param_history("bass").shape == (fit.steps + 1, 1)
        with pytest.raises(ValueError, match="expected 1 cutoffs"):
            fit.loss_fn([(1.0, 2.0)])
        with pytest.raises(KeyError):
            fit.band("treble")


class TestValidation:
    def bands(self, values, **kw):
        return [
            RcBandTarget(kw.get("name", "bass"), kw.get("type", "lowpass"), values, kw.get("init"))
        ]

    def test_bad_inputs_are_reported(self):
        f = np.geomspace(1.0, 1e6, 20)
        ok = analog.lowpass_mag(f, 800.0)
        cases = [
            (dict(freqs=f, kind="phase", bands=self.bands(ok)), "kind must be"),
            (dict(freqs=-f, kind="magnitude", bands=self.bands(ok)), "finite and > 0"),
            (dict(freqs=f, kind="magnitude", bands=self.bands(ok[:5])), "5 values for 20"),
            (dict(freqs=f, kind="magnitude", bands=self.bands(np.r_[ok[:-1], np.nan])), "finite"),
            (dict(freqs=f, kind="magnitude", bands=self.bands(-ok)), ">= 0"),
            (dict(freqs=f, kind="binary", bands=self.bands(ok)), "must be 0 or 1"),
            (
                dict(freqs=f, kind="magnitude", bands=self.bands(ok, init=(1.0, 2.0))),
                "init_cutoffs_hz must be 1",
            ),
            (dict(freqs=f, kind="magnitude", bands=self.bands(ok, type="notch")), "type must be"),
            (dict(freqs=f, kind="magnitude", bands=self.bands(ok) * 2), "unique"),
            (dict(freqs=f, kind="magnitude", bands=[]), "no bands"),
            (dict(freqs=f[:2], kind="magnitude", bands=self.bands(ok[:2])), "at least 3"),
        ]
        for kw, match in cases:
            with pytest.raises(DesignerError, match=match):
                fit_rc(kw["freqs"], kw["kind"], kw["bands"])

    def test_data_that_do_not_pin_the_cutoff(self):
        f = np.geomspace(1.0, 1e6, 50)
        with pytest.raises(DesignerError, match="every magnitude is 0"):
            fit_rc(f, "magnitude", self.bands(np.zeros(50)))
        with pytest.raises(DesignerError, match="do not pin its cutoffs"):
            fit_rc(f, "magnitude", self.bands(np.ones(50)))  # a "low-pass" that never falls
