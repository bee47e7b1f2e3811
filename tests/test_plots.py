"""designer.plots: the design pictures are produced and show what they should."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, require_tool
from pictures import assert_picture, count_color, pixels

from designer import biquad, plots, simulate
from designer.design import load_design

CLASSIC = ROOT / "examples" / "classic.toml"


@pytest.fixture(scope="module")
def classic():
    require_tool("gcc")  # the LED tables run the host build of the DSP core
    return load_design(CLASSIC)


@pytest.fixture(scope="module")
def classic_plots(classic):
    return plots.design_plots(classic)


class TestDesignPlots:
    def test_names(self, classic_plots):
        assert set(classic_plots) == {
            "bode_bass.png", "bode_mid.png", "bode_treble.png", "bode_all.png", "polezero.png",
            "led_table.png", "led_table_bands.png"}

    @pytest.mark.parametrize("name", ["bode_bass.png", "bode_mid.png", "bode_treble.png",
                                      "bode_all.png", "polezero.png", "led_table.png",
                                      "led_table_bands.png"])
    def test_every_picture_is_non_trivial(self, classic_plots, name):
        assert_picture(classic_plots[name])

    def test_same_input_same_bytes(self, classic):
        assert plots.bode_png(classic, 1) == plots.bode_png(classic, 1)
        assert plots.bode_png(classic, 0) != plots.bode_png(classic, 1)
        assert plots.polezero_png(classic) == plots.polezero_png(classic)

    def test_bode_shows_float_quantized_and_analog(self, classic_plots):
        img = pixels(classic_plots["bode_mid.png"])
        for color in (plots.FLOAT_COLOR, plots.QUANT_COLOR, plots.ANALOG_COLOR):
            assert count_color(img, color, tol=30) > 100, color

    def test_overview_draws_every_band_in_its_colour(self, classic, classic_plots):
        img = pixels(classic_plots["bode_all.png"])
        for w in classic.wiring:
            assert count_color(img, plots.line_color(w.color), tol=30) > 200, w.name

    def test_quantized_poles_sit_on_the_float_poles(self, classic):
        for i, band in enumerate(classic.filters.bands):
            qp = biquad.poles(plots.quantized_sos(classic, i))
            fp = biquad.poles(band.sos)
            assert qp.size == fp.size
            # byte coefficients (AVR) move a first-order pole by up to ~2e-3 (0.03 dB)
            assert plots._pole_shift(fp, qp) < 3e-3
            assert np.all(np.abs(qp) < 1)


class TestLedTable:
    FREQS = plots.TABLE_FREQS_HZ

    def test_lit_cells_take_the_band_colour(self, classic):
        desired = simulate.desired_leds(classic, self.FREQS)
        img = pixels(plots.led_table_png(classic, self.FREQS, desired, desired))
        red = count_color(img, "#ff0000", tol=4)
        assert red > 2000  # bass: 300, 500, 700 Hz, two rows
        dark = np.zeros_like(desired)
        img_off = pixels(plots.led_table_png(classic, self.FREQS, dark, dark))
        assert count_color(img_off, "#ff0000", tol=4) == 0

    def test_a_mismatch_gets_a_red_frame(self, classic):
        desired = simulate.desired_leds(classic, self.FREQS)
        agree = pixels(plots.led_table_png(classic, self.FREQS, desired, desired))
        wrong = desired.copy()
        wrong[-1, 2] = True  # treble lit at 1500 Hz
        differ = pixels(plots.led_table_png(classic, self.FREQS, wrong, desired))
        assert count_color(agree, plots.QUANT_COLOR, tol=20) < 50
        assert count_color(differ, plots.QUANT_COLOR, tol=20) > 300

    def test_frequencies(self, classic):
        tables = plots.table_frequencies(classic)
        assert tables["led_table"] == (300.0, 500.0, 700.0, 900.0, 1100.0, 1300.0, 1500.0)
        freqs = tables["led_table_bands"]
        desired = simulate.desired_leds(classic, freqs)
        for j, band in enumerate(classic.filters.bands):
            centre = round(plots.band_centre_hz(band, classic.sample_rate_hz), 1)
            assert desired[freqs.index(centre), j], band.name
        assert all(f < 0.5 * classic.sample_rate_hz for f in freqs)

    def test_near_edge(self, classic):
        near = plots.near_edge(classic, [800.0, 820.0, 900.0, 5100.0])
        assert near[:, 0].tolist() == [True, True, False, False]
        assert near[:, 2].tolist() == [False, False, False, True]


def test_line_color_darkens_only_light_colours():
    assert plots.line_color("#ff0000") == "#ff0000"
    r, g, b = plots.line_color("#ffff00")
    assert 0.299 * r + 0.587 * g + 0.114 * b == pytest.approx(0.7)
