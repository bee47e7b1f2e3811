"""Tests for designer/learn_binary.py: RC bands learned from LED on/off labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from designer import analog
from designer.errors import DesignerError
from designer.learn_binary import best_band
from designer.learn_rc import RcBandTarget, fit_rc

C_F = 1e-6


def cutoff_for_r(r_ohm: float) -> float:
    return 1.0 / (2.0 * math.pi * r_ohm * C_F)


def labels(kind: str, f: np.ndarray, cutoffs: tuple[float, ...]) -> np.ndarray:
    return (analog.band_mag(kind, f, cutoffs) > analog.INV_SQRT2).astype(float)


@pytest.fixture(scope="module")
def freqs() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.exp(rng.uniform(0.0, math.log(1e6), 1000))


def bracket_from_data(f: np.ndarray, y: np.ndarray, on_below: bool) -> tuple[float, float]:
    """Independent oracle for one edge: the neighbouring samples of opposite label."""
    on, off = f[y == 1], f[y == 0]
    return (on.max(), off.min()) if on_below else (off.max(), on.min())


def log_middle(lo: float, hi: float) -> float:
    return math.sqrt(lo * hi)


class TestLowpass:
    def test_edge_in_the_log_middle_of_the_bracket(self, freqs):
        y = labels("lowpass", freqs, (800.0,))
        fit = fit_rc(freqs, "binary", [RcBandTarget("bass", "lowpass", y, (cutoff_for_r(500),))])
        b = fit.bands[0]
        lo, hi = bracket_from_data(freqs, y, on_below=True)
        assert b.brackets[0] == pytest.approx((lo, hi), rel=1e-12)
        assert lo < b.edges_hz[0] < hi
        assert b.edges_hz[0] == pytest.approx(log_middle(lo, hi), rel=1e-7)
        assert b.bracket_positions[0] == pytest.approx(0.5, abs=1e-4)
        assert b.cutoffs_hz == b.edges_hz  # a first-order section's edge is its cutoff
        assert b.misclassified == 0

    def test_unbiased_when_one_side_is_much_denser(self):
        # 500 samples just below the edge, 5 far above: a loss that sums per-sample pulls
        # would be dragged; the max-margin edge sits in the log middle regardless.
        f = np.r_[np.geomspace(100.0, 700.0, 500), np.geomspace(1000.0, 1e5, 5)]
        y = (f < 800.0).astype(float)
        fit = fit_rc(f, "binary", [RcBandTarget("bass", "lowpass", y, (50.0,))])
        assert fit.bands[0].edges_hz[0] == pytest.approx(log_middle(700.0, 1000.0), rel=1e-7)

    def test_data_estimate_start_gives_the_same_edge(self, freqs):
        y = labels("lowpass", freqs, (800.0,))
        a = fit_rc(freqs, "binary", [RcBandTarget("bass", "lowpass", y, None)])
        b = fit_rc(freqs, "binary", [RcBandTarget("bass", "lowpass", y, (20.0,))])
        assert a.bands[0].edges_hz[0] == pytest.approx(b.bands[0].edges_hz[0], rel=1e-8)

    def test_contradicting_label_is_left_out(self, freqs):
        y = labels("highpass", freqs, (5000.0,))
        clean = bracket_from_data(freqs, y, on_below=False)
        y[np.argmin(np.abs(freqs - 100.0))] = 1  # one "on" far in the stop band
        fit = fit_rc(freqs, "binary", [RcBandTarget("treble", "highpass", y, (300.0,))])
        b = fit.bands[0]
        assert b.misclassified == 1
        assert b.brackets[0] == pytest.approx(clean, rel=1e-12)
        assert clean[0] < b.edges_hz[0] < clean[1]


class TestColourOrgan:
    SPECS = [
        ("bass", "lowpass", (800.0,)),
        ("mid", "bandpass", (1000.0, 4000.0)),
        ("treble", "highpass", (5000.0,)),
    ]

    def test_four_resistors_together_from_200_ohm(self, freqs):
        start = cutoff_for_r(200.0)
        bands = [
            RcBandTarget(n, k, labels(k, freqs, c), tuple(start for _ in c))
            for n, k, c in self.SPECS
        ]
        fit = fit_rc(freqs, "binary", bands)
        assert fit.param_names == ("bass", "mid.low", "mid.high", "treble")
        assert fit.param_history.shape == (fit.steps + 1, 4)
        assert np.allclose(fit.param_history[0], start)
        bass, mid, treble = fit.bands
        y = labels("bandpass", freqs, (1000.0, 4000.0))
        on = freqs[y == 1]
        off_lo = freqs[(y == 0) & (freqs < on.min())]
        off_hi = freqs[(y == 0) & (freqs > on.max())]
        expected = [(off_lo.max(), on.min()), (on.max(), off_hi.min())]
        for got, want in zip(mid.brackets, expected, strict=True):
            assert got == pytest.approx(want, rel=1e-12)
        for band in fit.bands:
            assert band.misclassified == 0
            for br in band.edge_brackets:
                assert br.below_hz < br.edge_hz < br.above_hz
                assert br.position == pytest.approx(0.5, abs=1e-4)
        # the learned band-pass edges are where the two-section product crosses −3 dB
        assert mid.edges_hz == pytest.approx(analog.bandpass_edges(*mid.cutoffs_hz), rel=1e-9)
        for e in mid.edges_hz:
            assert analog.bandpass_mag(e, *mid.cutoffs_hz) == pytest.approx(analog.INV_SQRT2)
        # and they match the generating design to within its bracket
        true_edges = analog.bandpass_edges(1000.0, 4000.0)
        for br, e in zip(mid.edge_brackets, true_edges, strict=True):
            assert br.below_hz <= e <= br.above_hz

    def test_loss_surface_is_lowest_at_the_result(self, freqs):
        bands = [RcBandTarget(n, k, labels(k, freqs, c), None) for n, k, c in self.SPECS]
        fit = fit_rc(freqs, "binary", bands)
        best = [b.cutoffs_hz for b in fit.bands]
        assert fit.loss_fn(best) == pytest.approx(fit.loss_history[-1], rel=1e-9, abs=1e-12)
        moved = [best[0], (best[1][0] * 1.05, best[1][1]), best[2]]
        assert fit.loss_fn(moved) > fit.loss_fn(best)
        # a band-pass too narrow to reach −3 dB is still on the surface (continuous there)
        narrow = [best[0], (2000.0, 2100.0), best[2]]
        assert np.isfinite(fit.loss_fn(narrow)) and fit.loss_fn(narrow) > fit.loss_fn(best)


class TestErrors:
    @pytest.mark.parametrize("kind", ["lowpass", "highpass", "bandpass"])
    def test_one_class_only(self, freqs, kind):
        for value, word in ((1.0, "every label is 1"), (0.0, "every label is 0")):
            y = np.full(freqs.size, value)
            with pytest.raises(DesignerError, match=f"band 'x': no bracket: {word}"):
                fit_rc(freqs, "binary", [RcBandTarget("x", kind, y, None)])

    def test_bandpass_open_at_the_top(self, freqs):
        y = (freqs > 1000.0).astype(float)
        with pytest.raises(DesignerError, match="no label 0 above"):
            fit_rc(freqs, "binary", [RcBandTarget("mid", "bandpass", y, None)])

    def test_labels_of_the_wrong_shape(self, freqs):
        y = (freqs > 1000.0).astype(float)  # a high-pass pattern offered as a low-pass
        with pytest.raises(DesignerError, match="do not look like a lowpass"):
            fit_rc(freqs, "binary", [RcBandTarget("bass", "lowpass", y, None)])


class TestBestBand:
    def test_consistent_labels_are_unchanged(self):
        z = np.log(np.array([10.0, 30.0, 20.0, 40.0]))
        y = np.array([1, 0, 1, 0])
        assert best_band("lowpass", z, y).tolist() == y.tolist()

    def test_fewest_changes(self):
        z = np.arange(8.0)
        assert best_band("lowpass", z, np.array([1, 1, 1, 0, 1, 1, 0, 0])).sum() in (5, 6)
        got = best_band("highpass", z, np.array([0, 0, 0, 1, 0, 1, 1, 1])).tolist()
        assert got in ([0, 0, 0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1, 1])
        got = best_band("bandpass", z, np.array([0, 1, 0, 1, 1, 1, 0, 0]))
        assert got.tolist() == [0, 0, 0, 1, 1, 1, 0, 0] or got.tolist() == [0, 1, 1, 1, 1, 1, 0, 0]
