import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import signal

from designer import biquad

FS_UNO = 16e6 / 64 / 13


class TestRcTwins:
    @pytest.mark.parametrize("fc", [20.0, 800.0, 5000.0, 8000.0])
    def test_lowpass_minus_3db_at_cutoff_and_unity_at_dc(self, fc):
        sos = biquad.rc_lowpass_sos(fc, FS_UNO)
        assert abs(biquad.sos_response(sos, fc, FS_UNO)[0]) == pytest.approx(biquad.INV_SQRT2)
        assert abs(biquad.sos_response(sos, 1e-6, FS_UNO)[0]) == pytest.approx(1.0)
        assert sos[0, 0] == sos[0, 1]  # two products on the target

    @pytest.mark.parametrize("fc", [100.0, 1000.0, 5000.0])
    def test_highpass_minus_3db_at_cutoff(self, fc):
        sos = biquad.rc_highpass_sos(fc, FS_UNO)
        assert abs(biquad.sos_response(sos, fc, FS_UNO)[0]) == pytest.approx(biquad.INV_SQRT2)
        assert sos[0, 0] == -sos[0, 1]
        assert abs(biquad.sos_response(sos, FS_UNO / 2 * 0.99999, FS_UNO)[0]) == pytest.approx(
            1.0, abs=1e-6
        )

    def test_bandpass_is_hp_then_lp(self):
        sos = biquad.rc_band_sos("bandpass", (1000.0, 4000.0), FS_UNO)
        assert sos.shape == (2, 6)
        assert_allclose(sos[0], biquad.rc_highpass_sos(1000.0, FS_UNO)[0])
        assert_allclose(sos[1], biquad.rc_lowpass_sos(4000.0, FS_UNO)[0])

    def test_matches_scipy_bilinear_with_prewarp(self):
        fc = 800.0
        wc = 2 * FS_UNO * math.tan(math.pi * fc / FS_UNO)
        b, a = signal.bilinear([wc], [1, wc], fs=FS_UNO)
        sos = biquad.rc_lowpass_sos(fc, FS_UNO)
        assert_allclose(sos[0, :2], b, rtol=1e-12)
        assert_allclose(sos[0, 3:5], a, rtol=1e-12)

    def test_rejects_cutoff_above_nyquist(self):
        with pytest.raises(ValueError, match=r"fc_hz must be 0 < f < fs/2"):
            biquad.rc_lowpass_sos(10000.0, FS_UNO)


class TestButterworth:
    def test_bandpass_equals_scipy_within_001_db(self):
        sos = biquad.butterworth_sos("bandpass", (1000.0, 4000.0), 4, 16000.0)
        ref = signal.butter(2, [1000, 4000], "bandpass", output="sos", fs=16000)
        f = np.geomspace(20, 7990, 400)
        _, h_ref = signal.sosfreqz(ref, worN=f, fs=16000)
        diff = biquad.sos_mag_db(sos, f, 16000) - 20 * np.log10(np.abs(h_ref))
        assert np.max(np.abs(diff)) < 0.01

    def test_edges_are_minus_3db(self):
        sos = biquad.butterworth_sos("lowpass", (800.0,), 4, FS_UNO)
        (edge,) = biquad.edges_hz(sos, FS_UNO)
        assert edge == pytest.approx(800.0, rel=1e-9)

    def test_odd_bandpass_order_refused(self):
        with pytest.raises(ValueError, match="even order"):
            biquad.butterworth_sos("bandpass", (100.0, 200.0), 3, 8000.0)


class TestResonator:
    def test_background_coefficients(self):
        sos = biquad.resonator_sos_from_radius(440.0, 0.995, 8000.0)
        w = 2 * math.pi * 440 / 8000
        assert -sos[0, 4] == pytest.approx(2 * 0.995 * math.cos(w))  # k1 ≈ 1.8724
        assert -sos[0, 5] == pytest.approx(-0.990025)                 # k2
        assert -sos[0, 4] == pytest.approx(1.8724, abs=1e-4)

    def test_zero_db_at_centre(self):
        sos = biquad.resonator_sos(82.41, FS_UNO, radius=0.995)
        assert biquad.sos_mag_db(sos, 82.41, FS_UNO)[0] == pytest.approx(0.0, abs=1e-9)

    @pytest.mark.parametrize("center,bw", [(82.41, 8.0), (440.0, 30.0), (2000.0, 200.0)])
    def test_bandwidth_is_the_minus_3db_width(self, center, bw):
        r = biquad.resonator_radius_for_bandwidth(center, bw, FS_UNO)
        assert biquad.resonator_bandwidth(center, r, FS_UNO) == pytest.approx(bw, rel=1e-6)

    def test_exactly_one_of_bandwidth_and_radius(self):
        with pytest.raises(ValueError, match="exactly one"):
            biquad.resonator_sos(440.0, 8000.0, bandwidth_hz=10.0, radius=0.99)
        with pytest.raises(ValueError, match="exactly one"):
            biquad.resonator_sos(440.0, 8000.0)

    def test_radius_out_of_range(self):
        with pytest.raises(ValueError, match="0 < r < 1"):
            biquad.resonator_sos_from_radius(440.0, 1.0, 8000.0)


class TestPolesAndEdges:
    def test_poles_of_resonator(self):
        sos = biquad.resonator_sos_from_radius(440.0, 0.995, 8000.0)
        p = biquad.poles(sos)
        assert_allclose(np.abs(p), 0.995)
        assert_allclose(np.abs(np.angle(p)), 2 * math.pi * 440 / 8000)
        assert biquad.is_stable(sos)
        assert not biquad.is_stable(sos, margin=0.01)

    def test_zeros_of_rc_highpass_at_dc(self):
        z = biquad.zeros(biquad.rc_highpass_sos(1000.0, FS_UNO))
        assert_allclose(z, [1.0])

    def test_edges_of_rc_bandpass_are_inside_sections(self):
        sos = biquad.rc_band_sos("bandpass", (1000.0, 4000.0), FS_UNO)
        lo, hi = biquad.edges_hz(sos, FS_UNO)
        assert 1000 < lo < hi < 4000
        for e in (lo, hi):
            assert abs(biquad.sos_response(sos, e, FS_UNO)[0]) == pytest.approx(biquad.INV_SQRT2)

    def test_no_edges_when_never_minus_3db(self):
        sos = np.array([[0.1, 0.0, 0.0, 1.0, 0.0, 0.0]])
        assert biquad.edges_hz(sos, 8000.0) == ()
