"""Tests for designer/learn_resonator.py: two-pole resonators fitted to magnitude data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from designer.learn_resonator import _half_power_width, fit_resonator_spectrum


def resonator(center_hz: float, r: float, fs: float, gain: float = 1.0):
    om = 2 * math.pi * center_hz / fs
    return [gain], [1.0, -2 * r * math.cos(om), r * r]


@pytest.mark.parametrize(
    "center, r, fs",
    [
        (440.0, 0.995, 8000.0),
        (100.0, 0.99, 8000.0),
        (3000.0, 0.9, 8000.0),
        (12000.0, 0.999, 48000.0),
    ],
)
def test_recovers_centre_radius_gain(center, r, fs):
    b, a = resonator(center, r, fs, gain=0.05)
    f, h = signal.freqz(b, a, worN=1024, fs=fs)
    got_center, got_r, got_gain, steps, hist, err = fit_resonator_spectrum(
        f, np.abs(h), "magnitude", fs
    )
    assert got_center == pytest.approx(center, rel=1e-4)
    assert got_r == pytest.approx(r, abs=1e-5)
    assert got_gain == pytest.approx(0.05, rel=1e-3)
    assert got_r < 1.0
    assert err < 0.01
    assert len(hist) == steps + 1 and hist[-1] <= hist[0]


def test_half_power_width_matches_a_dense_search():
    fs = 8000.0
    b, a = resonator(440.0, 0.99, fs)
    w, h = signal.freqz(b, a, worN=4096)
    p = np.abs(h) ** 2
    dense_w, dense_h = signal.freqz(b, a, worN=2**18)
    above = dense_w[np.abs(dense_h) ** 2 >= 0.5 * (np.abs(dense_h) ** 2).max()]
    assert _half_power_width(w, p) == pytest.approx(above.max() - above.min(), rel=1e-2)


def test_half_power_width_unknown_without_a_drop():
    assert _half_power_width(np.linspace(0, 1, 10), np.linspace(1, 2, 10)) is None
