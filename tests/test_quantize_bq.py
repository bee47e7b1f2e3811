"""designer/quantize_bq.py: biquad mantissas at byte-aligned exponents, as narrow as the
response allows; the numerator's free scale; the section's bounds."""

from __future__ import annotations

import numpy as np
from dsp_examples import FS_UNO, resonator
from scipy import signal

from designer import quantize_bq as qbq
from designer import quantize_math as qm
from designer.quantize import BandSpec, quantize


class TestPoleMantissa:
    def test_aligned_exponents_and_widths(self):
        m, sh = qbq.pole_mantissa(0.3, 1)
        assert (sh + 16) % 8 == 0 and m < 256 and abs(m * 2.0 ** -(sh + 16) - 0.3) <= 2.0 ** -9
        m2, sh2 = qbq.pole_mantissa(0.3, 2)
        assert 256 <= m2 < 65536 and abs(m2 * 2.0 ** -(sh2 + 16) - 0.3) < 1e-4
        m3, sh3 = qbq.pole_mantissa(0.003, 3)
        assert m3 >= 65536 and abs(m3 * 2.0 ** -(sh3 + 16) / 0.003 - 1) < 1e-5

    def test_trailing_zero_bytes_dropped_and_limits(self):
        assert qbq.pole_mantissa(0.5, 2) == (128, -8)  # 0x8000 at 2^-24 is 0x80 at 2^-8
        assert qbq.pole_mantissa(1.5, 1) is None  # 384 / 256 needs two bytes
        assert qbq.pole_mantissa(1e-12, 3) is None  # rounds to zero even at 2^-32


class TestNumerator:
    def test_structured_byte_mantissa_never_above_the_scale(self):
        a = np.array([1.0, -1.5, 0.7])
        grid = qm.passband_grid((100.0, 1000.0), FS_UNO)
        for v in (0.9, 0.07, 0.0123, 3e-4):
            m, sh, width = qbq.numerator(np.array([v, 2 * v, v]), "bq", a, grid, FS_UNO)
            assert m[1] == 2 * m[0] and m[2] == m[0] and sh % 8 == 0
            real = m[0] * 2.0 ** -(sh + 16)
            assert real <= v and real >= v * (1 - 1 / qbq.NUM_BYTE_MIN)
            assert (width == 1) == (m[0] < 256)

    def test_sign_in_the_mantissa(self):
        a = np.array([1.0, -1.5, 0.7])
        grid = qm.passband_grid((100.0, 1000.0), FS_UNO)
        m, _, _ = qbq.numerator(np.array([-0.2, 0.0, 0.2]), "bq", a, grid, FS_UNO)
        assert m[0] < 0 and m[1] == 0 and m[2] == -m[0]

    def test_general_numerator_widens_where_its_zeros_need_it(self):
        """Zeros close to the unit circle at a low frequency: 16-bit mantissas at a byte-aligned
        exponent (here 8 bits) move the notch; the quantizer takes 24-bit ones."""
        fs = 19230.77
        th, r = 2 * np.pi * 150 / fs, 0.9995
        b = np.array([1.0, -2 * r * np.cos(th), r * r]) * 0.85
        a = np.array([1.0, -1.9, 0.905])
        grid = qm.passband_grid((300.0, 1000.0), fs)
        m, sh, width = qbq.numerator(b, "bq", a, grid, fs)
        assert width == 3 and max(abs(v) for v in m) >= 32768
        got = qm.response([(np.array(m) * 2.0 ** -(sh + 16), a)], grid, fs)
        assert qm.shape_error_db(got, qm.response([(b, a)], grid, fs)) <= qbq.MANTISSA_MAX_DB


class TestPoles:
    def test_cheapest_widths_within_the_limit(self):
        fs = FS_UNO
        grid = qm.passband_grid((20.0, 2000.0), fs)
        row = signal.butter(2, 2000, fs=fs, output="sos")[0]
        mb, shb, mg, shg = qbq.poles(row, row[:3], grid, fs, strict=False)
        assert mb < 256 and mg < 256  # one multiply per byte of hi(D), hi(Y)
        narrow = resonator(500, fs, bw=5)[0]
        grid = qm.passband_grid((497.5, 502.5), fs)
        mb, shb, mg, shg = qbq.poles(narrow, narrow[:3], grid, fs, strict=False)
        assert max(mb, mg) >= 256
        # strict: three bytes each, the most precise
        mb3, _, mg3, _ = qbq.poles(narrow, narrow[:3], grid, fs, strict=True)
        assert mb3 >= 65536 and mg3 >= 65536

    def test_report_of_a_section(self):
        qd = quantize([BandSpec("r", resonator(440, FS_UNO, bw=20), (430.0, 450.0))], FS_UNO,
                      "fixed")
        rep = qd.report["bands"][0]["sections"][0]
        sec = qd.bands[0].sections[0]
        assert set(rep["mantissa_bytes"]) == {"num", "beta", "gamma"}
        assert rep["mantissa_bytes"]["beta"] == (int(sec.c[3]).bit_length() + 7) // 8
        assert rep["coef_bits"] == max(sec.sh_beta, sec.sh_gamma) + 16
        assert all(sh % 8 == 0 for sh in (sec.sh_num, sec.sh_beta, sec.sh_gamma))
        assert rep["output_bound"] <= 32767 and rep["d_bound"] <= 32767
