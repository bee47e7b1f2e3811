"""designer/cstep_avr.py: the AVR assembly of a biquad section. Its bit-exactness against the
oracle is tests/test_dsp_avr.py's (simavr); here: structure, multiplies, registers, refusals."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dsp_examples import FS_UNO, random_biquads, resonator
from scipy import signal

from designer import quantize_bq as qbq
from designer import quantize_math as qm
from designer.cstep_avr import MAX_REGISTERS, bq_asm, bq_cycles, structure
from designer.qdesign import QSection
from designer.quantize import BandSpec, quantize


def _section(sos: np.ndarray) -> QSection:
    qd = quantize([BandSpec("b", sos, (100.0, 2000.0))], FS_UNO, "fixed")
    return qd.bands[0].sections[0]


def _ops(lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines for m in [re.match(r'\s*"(\w+)', line)] if m]


def _registers(lines: list[str]) -> int:
    """Registers the block asks for: its scratch variables, inputs and the base pointer."""
    sizes = {"uint8_t": 1, "uint16_t": 2, "int16_t": 2, "organ_u24": 3, "uint32_t": 4}
    n = 2  # the base pointer
    for line in lines:
        m = re.match(r"\s*(u?int\d+_t|organ_u24) (.*);", line)
        if m:
            n += sizes[m.group(1)] * len(re.findall(r"\b[rv]\w*", m.group(2)))
    return n


class TestStructure:
    def test_structured_numerators(self):
        def sec(c: tuple[int, int, int], kind: str = "bq") -> QSection:
            return QSection(kind, (*c, 100, 100))

        assert structure(sec((50, 100, 50))) == (1, 2, 1)
        assert structure(sec((-50, 100, -50))) == (1, -2, 1)
        assert structure(sec((70, 0, -70))) == (1, 0, -1)
        assert structure(sec((9, 0, 0), "bq_gain")) == (1, 0, 0)
        assert structure(sec((100, -70, 30))) is None
        # the portable C forms c0 s in int32: |c0| (|r0| + |r1| + |r2|) < 2^16
        assert structure(sec((20000, 40000, 20000))) is None


class TestAssembly:
    def test_byte_mantissas_cost_two_multiplies_per_term(self):
        """The benchmark's Butterworth low-pass gets byte mantissas: per sample three partial
        products of the numerator (a 3-byte sum) and two per pole term, nothing else."""
        sec = _section(signal.butter(2, 2000, fs=FS_UNO, output="sos"))
        assert all(abs(int(v)) < 256 for v in (sec.c[0], sec.c[3], sec.c[4]))
        for n in (1, 2):
            lines = bq_asm(sec, [f"x{k}" for k in range(n)], [f"y{k}" for k in range(n)], "b0", 4)
            ops = _ops(lines)
            assert sum(op.startswith("mul") for op in ops) == 7 * n
            assert ops.count("ldd") == 12 and ops.count("std") == 12  # state once per call
            assert "uint32_t" not in "\n".join(lines)  # bytes and pairs only: easy to place

    def test_wider_mantissas_cost_more_multiplies(self):
        sec = _section(resonator(500, FS_UNO, bw=50))
        widths = [(int(v).bit_length() + 7) // 8 for v in (sec.c[0], sec.c[3], sec.c[4])]
        ops = _ops(bq_asm(sec, ["x"], ["y"], "b0", 4))
        assert sum(op.startswith("mul") for op in ops) == 2 * sum(widths)

    def test_general_numerator_pairs_and_byte_aligned_mantissas(self):
        """The elliptic low-pass (zeros off z = +-1, c0 = c2): the quantizer makes the outer
        pair whole 256s, so its terms cost two partial products each, the middle one four, the
        poles two each; the two-sample block reads and writes the state once per pair (the
        history: the first sample's input written where the second one reads it as x1)."""
        sec = _section(signal.ellip(2, 1, 40, 2000, fs=FS_UNO, output="sos"))
        assert structure(sec) is None
        c = [int(v) for v in sec.c]
        assert c[0] == c[2] and c[0] % 256 == 0 and c[1] % 256 != 0
        for n in (1, 2):
            ops = _ops(bq_asm(sec, [f"x{k}" for k in range(n)], [f"y{k}" for k in range(n)],
                              "b0", 4))
            assert sum(op.startswith("mul") for op in ops) == (2 + 4 + 2 + 2 + 2) * n
            # Y, D and the history (four bytes) written once per call
            assert ops.count("std") == 12
        one, two = bq_cycles(sec, 1), bq_cycles(sec, 2)
        assert two < 2 * one - 24  # Y's and D's loads and stores paid once per pair
        assert two <= 2 * 120  # issue 6's target per sample (the compiler's moves aside)

    @pytest.mark.parametrize("f_hz,radius", [(6000, 0.7), (4000, 0.6), (2500, 0.5)])
    def test_trained_like_numerator_gets_a_whole_byte_mantissa(self, f_hz, radius):
        """Minimum-phase zeros (no symmetry, as a trained iir band's): the quantizer scales
        the numerator down by at most 1/NUM_BYTE_MIN so one mantissa is whole 256s (two partial
        products fewer per sample), the others keep their 16-bit precision and the section's
        response its limit."""
        row = signal.butter(2, 2000, fs=FS_UNO, output="sos")[0].copy()
        th = 2 * np.pi * f_hz / FS_UNO
        b = np.array([1.0, -2 * radius * np.cos(th), radius * radius]) * 0.3
        a = row[3:]
        grid = qm.passband_grid((100.0, 2000.0), FS_UNO)
        m, sh, width = qbq.numerator(b, "bq", a, grid, FS_UNO)
        whole = [i for i, v in enumerate(m) if v and v % 256 == 0]
        assert width == 2 and whole
        j = whole[0]
        scale = m[j] * 2.0 ** -(sh + 16) / b[j]
        assert 1 - 1 / qbq.NUM_BYTE_MIN <= scale <= 1
        got = qm.response([(np.array(m) * 2.0 ** -(sh + 16), a)], grid, FS_UNO)
        assert qm.shape_error_db(got, qm.response([(b, a)], grid, FS_UNO)) <= qbq.MANTISSA_MAX_DB
        sec = QSection("bq", (*m, 154, 74), sh_num=sh, sh_beta=-8, sh_gamma=-8)
        ops = _ops(bq_asm(sec, ["x0", "x1"], ["y0", "y1"], "b0", 4))
        # two samples, per nonzero mantissa byte two partials (x's bytes), two per pole byte
        nonzero = sum(1 for v in m for k in (0, 8) if (abs(v) >> k) & 255)
        assert sum(op.startswith("mul") for op in ops) == 2 * (2 * nonzero + 2 + 2)

    @pytest.mark.parametrize("seed", range(12))
    def test_registers_stay_few(self, seed):
        """Every variant fits the registers an interrupt leaves around it (the compiler reports
        'impossible constraints' otherwise): at most MAX_REGISTERS with the base pointer."""
        qd = random_biquads(seed)
        for band in qd.bands:
            for sec in band.sections:
                for n in (1, 2):
                    lines = bq_asm(sec, [f"x{k}" for k in range(n)],
                                   [f"y{k}" for k in range(n)], "b0", 4)
                    assert _registers(lines) <= MAX_REGISTERS, (sec, n)

    def test_refusals(self):
        sec = QSection("bq_gain", (100, 0, 0, 300, 300), sh_num=4)
        with pytest.raises(ValueError, match="multiples of 8"):
            bq_asm(sec, ["x"], ["y"], "b0", 4)
        deep = QSection("bq_gain", (100, 0, 0, 300, 300), sh_beta=24)
        with pytest.raises(ValueError, match="two bytes below D"):
            bq_asm(deep, ["x"], ["y"], "b0", 4)
