import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from designer import analog


class TestMagnitudes:
    def test_lowpass_is_minus_3db_at_cutoff(self):
        assert analog.lowpass_mag(800.0, 800.0) == pytest.approx(analog.INV_SQRT2)

    def test_highpass_is_minus_3db_at_cutoff(self):
        assert analog.highpass_mag(5000.0, 5000.0) == pytest.approx(analog.INV_SQRT2)

    def test_bandpass_is_product_of_sections(self):
        f = np.geomspace(10, 1e5, 50)
        assert_allclose(
            analog.bandpass_mag(f, 1000, 4000),
            analog.highpass_mag(f, 1000) * analog.lowpass_mag(f, 4000),
        )

    def test_band_mag_rejects_unknown_kind(self):
        with pytest.raises(ValueError, match="kind must be"):
            analog.band_mag("notch", 100.0, (100.0,))


class TestBandpassEdges:
    def test_classic_edges_match_design_md(self):
        lo, hi = analog.bandpass_edges(1000, 4000)
        assert lo == pytest.approx(1075, abs=0.5)
        assert hi == pytest.approx(3721, abs=0.5)
        assert analog.bandpass_mag(lo, 1000, 4000) == pytest.approx(analog.INV_SQRT2)
        assert analog.bandpass_mag(hi, 1000, 4000) == pytest.approx(analog.INV_SQRT2)

    def test_too_narrow_never_reaches_minus_3db(self):
        with pytest.raises(ValueError, match="never reaches -3 dB"):
            analog.bandpass_edges(1000, 2000)

    def test_boundary_ratio(self):
        r = 1 + math.sqrt(2)
        lo, hi = analog.bandpass_edges(1000, 1000 * r * (1 + 1e-9))
        assert lo == pytest.approx(hi, rel=1e-3)

    @pytest.mark.parametrize("lo,hi", [(1000, 4000), (50, 300), (200, 20000)])
    def test_sections_for_edges_inverts(self, lo, hi):
        edges = analog.bandpass_edges(lo, hi)
        assert_allclose(analog.bandpass_sections_for_edges(*edges), (lo, hi), rtol=1e-10)


class TestResistors:
    def test_background_values(self):
        c = 1e-6
        assert analog.resistor_for_cutoff(800, c) == pytest.approx(198.9, abs=0.05)
        assert analog.resistor_for_cutoff(1000, c) == pytest.approx(159.2, abs=0.05)
        assert analog.resistor_for_cutoff(4000, c) == pytest.approx(39.8, abs=0.05)
        assert analog.resistor_for_cutoff(5000, c) == pytest.approx(31.8, abs=0.05)

    def test_round_trip(self):
        assert analog.cutoff_for_resistor(analog.resistor_for_cutoff(1234.5, 4.7e-9), 4.7e-9) == (
            pytest.approx(1234.5)
        )


class TestSnap:
    @pytest.mark.parametrize(
        "value,series,expected",
        [(198.9, "E24", 200.0), (159.2, "E24", 160.0), (39.79, "E24", 39.0), (31.83, "E24", 33.0),
         (198.9, "E12", 180.0), (198.9, "E96", 200.0), (31.83, "E96", 31.6), (0.95, "E12", 1.0),
         (9.6e4, "E12", 1e5)],
    )
    def test_nearest_on_log_axis(self, value, series, expected):
        assert analog.snap(value, series) == expected

    def test_every_series_value_snaps_to_itself(self):
        for name, values in analog.E_SERIES.items():
            for m in values:
                assert analog.snap(m * 1000, name) == pytest.approx(m * 1000)

    def test_rejects_nonpositive(self):
        with pytest.raises(ValueError, match="positive"):
            analog.snap(0.0, "E24")

    def test_parts_report_real_cutoff(self):
        (p,) = analog.rc_parts((800.0,), 1e-6, "E24")
        assert p.part_ohm == 200.0
        assert p.part_cutoff_hz == pytest.approx(795.77, abs=0.01)
        assert p.cutoff_error == pytest.approx(-0.00528, abs=1e-4)


class TestChooseCapacitor:
    def test_resistors_land_in_range(self):
        cutoffs = (800.0, 1000.0, 4000.0, 5000.0)
        c = analog.choose_capacitor(cutoffs, "E24")
        for fc in cutoffs:
            assert 1e3 <= analog.resistor_for_cutoff(fc, c) <= 1e5
        assert round(c / 10 ** math.floor(math.log10(c)), 1) in analog.CAPACITOR_SERIES
