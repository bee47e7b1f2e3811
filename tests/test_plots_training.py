"""designer.plots_training: training curves and loss surfaces with the optimizer's path."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT
from pictures import assert_picture, count_color
from scipy import signal

from designer import analog, biquad, learn, plots, plots_training
from designer.config import load_config

CLASSIC = ROOT / "examples" / "classic.toml"


class TestTraining:
    @pytest.fixture(scope="class")
    def learned_fits(self):
        return plots_training.training_fits(load_config(ROOT / "examples" / "learned.toml"))

    def test_learned_example(self, learned_fits):
        out = plots_training.training_plots(learned_fits)
        assert set(out) == {"training.png", "loss_bass.png", "loss_mid.png", "loss_treble.png"}
        for png in out.values():
            assert_picture(png)

    def test_no_training_no_pictures(self):
        assert plots_training.training_fits(load_config(CLASSIC)) == {}
        assert plots_training.training_plots({}) == {}

    def test_surfaces_and_paths_of_a_moving_fit(self):
        f = np.geomspace(10, 1e5, 300)
        targets = [
            learn.RcBandTarget("mid", "bandpass", analog.bandpass_mag(f, 1000, 4000),
                               (300.0, 9000.0)),
            learn.RcBandTarget("bass", "lowpass", analog.lowpass_mag(f, 800), (3000.0,)),
        ]
        fit = learn.fit_rc(f, "magnitude", targets)
        assert fit.param_history.shape[0] > 2
        two = assert_picture(plots_training.loss_surface_png(fit, "mid"))
        one = assert_picture(plots_training.loss_surface_png(fit, "bass"))
        assert count_color(two, plots.QUANT_COLOR, tol=40) > 20  # the path's markers
        assert count_color(one, plots.QUANT_COLOR, tol=40) > 20
        assert_picture(plots_training.training_png({"rc": fit}))

    def test_fit_without_parameter_history(self):
        fs = 16000
        sos = signal.butter(1, [1000, 4000], "bandpass", fs=fs, output="sos")
        f = np.geomspace(20, 7900, 256)
        mag = np.abs(biquad.sos_response(sos, f, fs))
        fit = learn.fit_iir(f, mag, "magnitude", 2, fs)
        out = plots_training.training_plots({"mid": fit})
        assert set(out) == {"training.png"}
        assert_picture(out["training.png"], min_h=200)
