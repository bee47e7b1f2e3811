"""Tests for designer/learn.py: the public entry points as the pipeline calls them."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import signal

from designer import analog, learn


def test_public_names():
    assert set(learn.__all__) == {
        "EdgeBracket",
        "IirFit",
        "RcBandFit",
        "RcBandTarget",
        "RcFit",
        "ResonatorFit",
        "fit_iir",
        "fit_impulse",
        "fit_rc",
        "fit_resonator",
    }


def test_rc_fit_as_the_pipeline_uses_it():
    """Positional RcBandTarget, results per band in input order, JSON-able brackets."""
    rng = np.random.default_rng(1)
    f = np.exp(rng.uniform(0.0, math.log(1e6), 1000))
    specs = [
        ("treble", "highpass", (5000.0,)),
        ("bass", "lowpass", (800.0,)),
        ("mid", "bandpass", (1000.0, 4000.0)),
    ]
    targets = [
        learn.RcBandTarget(n, k, (analog.band_mag(k, f, c) > analog.INV_SQRT2).astype(float), c)
        for n, k, c in specs
    ]
    fit = learn.fit_rc(f, "binary", targets, seed=0)
    assert [b.name for b in fit.bands] == ["treble", "bass", "mid"]
    assert fit.seconds > 0 and fit.steps >= 0
    for b in fit.bands:
        json.dumps({"brackets": b.brackets, "bracket_positions": b.bracket_positions})
        assert len(b.brackets) == len(b.edges_hz) == len(b.bracket_positions)
        for (lo, hi), e in zip(b.brackets, b.edges_hz, strict=True):
            assert lo < e < hi
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.bands[0].cutoffs_hz = (1.0,)  # type: ignore[misc]


def test_iir_and_impulse_fits_give_stable_sos():
    fs = 16000.0
    sos = signal.butter(2, [1000.0, 4000.0], "bandpass", fs=fs, output="sos")
    freqs, h = signal.sosfreqz(sos, worN=512, fs=fs)
    spectral = learn.fit_iir(freqs, np.abs(h), "magnitude", 4, fs, seed=0)
    x = np.zeros(1000)
    x[0] = 1.0
    temporal = learn.fit_impulse(signal.sosfilt(sos, x), fs, 4, seed=0)
    for fit in (spectral, temporal):
        assert fit.sos.shape == (2, 6)
        assert np.all(fit.pole_radii < 1.0)
        assert fit.max_error_db < 0.1
        assert fit.loss_history[-1] <= fit.loss_history[0]
