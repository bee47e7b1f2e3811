"""designer/qdesign.py: the quantized design's serialisation and responses."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import require_tool
from dsp_examples import classic, esp32c3, msgeq7, resonators
from scipy import signal

from designer.qdesign import QuantizedDesign
from designer.quantize import quantize


@pytest.fixture(scope="module", params=[classic, resonators, msgeq7, esp32c3],
                ids=["classic", "resonator", "msgeq7", "esp32c3"])
def qd(request):
    fs, bands, ar = request.param()
    return quantize(bands, fs, ar)


class TestSerialisation:
    def test_round_trip(self, qd):
        d = qd.to_dict()
        text = json.dumps(d, sort_keys=True, allow_nan=False)
        back = QuantizedDesign.from_dict(json.loads(text))
        assert back == qd
        assert json.dumps(back.to_dict(), sort_keys=True) == text
        assert back.report == qd.report

    def test_compiled_is_what_the_tables_hold(self, qd):
        c = qd.compiled()
        assert set(c) == {"arithmetic", "fs", "dc_coef", "ctl_period", "rect_shift", "ctl_hz",
                          "lvl_k", "bands", "param_defaults"}
        assert "sos" not in json.dumps(c) and "report" not in c
        assert QuantizedDesign.from_dict(c).compiled() == c

    def test_integer_tables_for_fixed(self, qd):
        for band in qd.to_dict()["bands"]:
            for sec in band["sections"]:
                if qd.arithmetic == "float":
                    assert all(v == float(np.float32(v)) for v in sec["c"])
                elif sec["kind"] in ("lp1", "hp1"):
                    assert isinstance(sec["c"][0], int) and 1 <= sec["c"][0] <= 65535
                else:
                    # numerator signed, poles unsigned, at most 24 bits each; shifts by bytes
                    assert all(isinstance(v, int) and abs(v) < 2**23 for v in sec["c"][:3])
                    assert all(isinstance(v, int) and 0 < v < 2**24 for v in sec["c"][3:])
                    assert all(sec[k] % 8 == 0 and -8 <= sec[k] <= 16
                               for k in ("sh_num", "sh_beta", "sh_gamma"))


class TestResponse:
    def test_normalised_response_is_the_design(self, qd):
        for i, band in enumerate(qd.bands):
            lo, hi = band.passband_hz
            f = np.geomspace(max(lo, 1.0), min(hi, 0.49 * qd.fs), 50)
            h = qd.response(f, include_dc=False, raw=False)[i]
            _, ref = signal.sosfreqz(np.array(band.sos), worN=f, fs=qd.fs)
            assert np.max(np.abs(20 * np.log10(np.abs(h) / np.abs(ref)))) < 0.25

    def test_raw_is_scaled_by_the_band_gain(self, qd):
        f = np.array([100.0, 1000.0])
        raw, norm = qd.response(f), qd.response(f, raw=False)
        for i in range(qd.n_bands):
            assert np.allclose(raw[i] * qd.norm_factor(i), norm[i])
            assert qd.band_gain(i) == pytest.approx(1 / qd.norm_factor(i), rel=0.01)

    def test_dc_blocker(self, qd):
        assert abs(qd.dc_response([0.0])[0]) < 1e-12
        assert abs(qd.dc_response([82.41])[0]) > 10 ** (-0.03 / 20)
        with_dc = qd.response([20.0])
        without = qd.response([20.0], include_dc=False)
        assert np.allclose(with_dc, without * qd.dc_response([20.0]))

    def test_matches_the_c_core(self, qd):
        """What verify measures: the C core's steady-state gain for a tone = |response(raw)|."""
        require_tool("gcc")
        from designer.native import NativeCore

        core = NativeCore(qd)
        for i, band in enumerate(qd.bands):
            lo, hi = band.passband_hz
            f0 = float(np.sqrt(max(lo, 20.0) * min(hi, 0.45 * qd.fs)))
            n = int(qd.fs)
            t = np.arange(n) / qd.fs
            x = np.round(12000 * np.sin(2 * np.pi * f0 * t)).astype(np.int16)
            y = core.process(x).y[n // 2:, i].astype(float)
            if qd.arithmetic == "float":
                y = y * 32768.0
            tt = t[n // 2:]
            basis = np.stack([np.sin(2 * np.pi * f0 * tt), np.cos(2 * np.pi * f0 * tt)], 1)
            amp = np.hypot(*np.linalg.lstsq(basis, y, rcond=None)[0])
            want = abs(qd.response([f0])[i, 0]) * 12000
            assert 20 * np.log10(amp / want) == pytest.approx(0.0, abs=0.05), band.name
