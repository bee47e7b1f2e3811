"""designer/cstep_avr.py: the AVR assembly of a biquad section. Its bit-exactness against the
oracle is tests/test_dsp_avr.py's (simavr); here: structure, multiplies, registers, refusals."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dsp_examples import FS_UNO, random_biquads, resonator
from scipy import signal

from designer.cstep_avr import MAX_REGISTERS, bq_asm, structure
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

    @pytest.mark.parametrize("seed", range(12))
    def test_registers_stay_few(self, seed):
        """Every variant fits the registers an interrupt leaves around it (the compiler reports
        'impossible constraints' otherwise): at most MAX_REGISTERS with the base pointer."""
        qd = random_biquads(seed)
        for band in qd.bands:
            for sec in band.sections:
                for n in (1, 2) if structure(sec) is not None else (1,):
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
        general = QSection("bq", (100, -70, 30, 300, 300))
        with pytest.raises(ValueError, match="one sample at a time"):
            bq_asm(general, ["x0", "x1"], ["y0", "y1"], "b0", 4)
