"""designer.plots_sim: the picture of a simulation."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, require_tool
from pictures import assert_picture, count_color

from designer import plots_sim, simulate
from designer.design import load_design


@pytest.fixture(scope="module")
def classic():
    require_tool("gcc")  # the host build of the DSP core
    return load_design(ROOT / "examples" / "classic.toml")


def test_simulation_picture(classic):
    fs = classic.sample_rate_hz
    t = np.arange(int(1.2 * fs)) / fs
    x = np.where(t < 0.6, 0.5 * np.sin(2 * np.pi * 100 * t), 0.0)
    sim = simulate.run_samples(classic, simulate.to_core_samples(
        x, simulate.design_mapping(classic)), source={"file": "tone.wav"})
    img = assert_picture(plots_sim.simulation_png(sim), min_w=900, min_h=500)
    assert count_color(img, "#ff0000", tol=4) > 1000  # the bass strip
    assert count_color(img, "#ffff00", tol=4) == 0  # treble never lit, its strip stays grey
