"""designer/cstep.py: the generated steps of a fixed-point design (their bit-exactness is
tests/test_dsp_c.py's on the host and tests/test_dsp_avr.py's on the simulated AVR)."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import require_tool
from dsp_examples import classic, esp32c3, msgeq7, random_biquads, resonators

from designer import ctables
from designer.cstep import design_step_c
from designer.native import CORE_DIR
from designer.quantize import quantize


def _parts(qd) -> tuple[str, str, str]:
    """(step, process, step2) text of a design."""
    text = "\n".join(design_step_c(qd))
    i1 = text.index("ORGAN_STEP_INLINE void organ_design_step(")
    i2 = text.index("static void organ_design_process(")
    i3 = text.index("ORGAN_STEP_INLINE void organ_design_step2(")
    return text[i1:i2], text[i2:i3], text[i3:]


def _asm_blocks(text: str) -> list[str]:
    return re.findall(r"__asm__ __volatile__\((.*?)\);", text, flags=re.S)


class TestFirstOrder:
    def test_classic_two_sample_step_shares_each_load(self):
        fs, bands, ar = classic()
        qd = quantize(bands, fs, ar)
        one, _, two = _parts(qd)
        # the same state objects, each loaded once per call: 1 DC, 4 window sums, 2 pairs,
        # 4 recursions
        for body in (one, two):
            assert body.count("organ_ld32(") == 1 and body.count("organ_ld24(") == 8
            assert body.count("organ_ld16(") == 2
        assert one.count("organ_k_fo8(") == 4 and two.count("organ_k_fo8(") == 8
        assert two.count("organ_k_rect(") == 8 and two.count("organ_k_dc(") == 2
        # from an odd tick (after a PROCESS block of odd length) two single steps
        assert "if (s->tick & 1u) {\n        organ_design_process2(s, x0, x1, out);" in two
        # tasks on the odd samples: once per pair, on the second sample of the pair
        assert f"if ((t & 1u) && t < {2 * qd.ctl_tasks}u)" in one
        assert f"if (t < {2 * qd.ctl_tasks}u)" in two
        assert f"t == {qd.ctl_period - 2}u ? 0u : t + 2u" in two
        assert "__asm__" not in one + two  # first-order sections use the core's kernels


class TestBiquads:
    def test_one_block_per_section_loading_its_state_once(self):
        """Butterworth sections: per section one assembly block in the one-sample and in the
        two-sample step, each reading and writing Y, D and the input history once; the
        portable C calls organ_k_bq once per sample."""
        fs, bands, ar = esp32c3()
        qd = quantize(bands, fs, ar)
        one, process, two = _parts(qd)
        for body, n in ((one, 1), (two, 2)):
            blocks = _asm_blocks(body)
            assert len(blocks) == qd.n_sections
            for block in blocks:
                offsets = [int(v) for v in re.findall(r"ldd\s+%\S+, %a\[b\]\+(\d+)", block)]
                stores = [int(v) for v in re.findall(r"std\s+%a\[b\]\+(\d+)", block)]
                assert len(set(offsets)) == 12  # Y, D, x1, x2
                # only Y's low half may be reloaded per sample (and stored between samples)
                # when the block would need more registers than MAX_REGISTERS
                y0 = min(offsets)  # Y is the section's first state bytes
                again = [v for v in set(offsets) if offsets.count(v) > 1]
                assert set(again) <= {y0, y0 + 1}
                assert all(offsets.count(v) <= n for v in again)
                assert sorted(stores) == sorted(offsets)
                assert block.count("mul") >= 3 * n  # numerator and two pole terms per sample
            assert body.count("organ_k_bq(") == qd.n_sections * n
            assert body.count("#if ORGAN_AVR_ASM") == qd.n_sections
        # the out-of-line step is the same step (one copy of the code in the firmware's PROCESS
        # path, no interpreter)
        assert "organ_design_step(s, x, out);" in process

    def test_a_general_numerator_runs_both_samples_in_one_block(self):
        """A general numerator reads its history from memory, so a two-sample block fits the
        registers: one block per section in the two-sample step too, each input read once."""
        qd = random_biquads(2)
        _, _, two = _parts(qd)
        general = [s for b in qd.bands for s in b.sections
                   if s.kind == "bq" and s.c[1] % s.c[0]]
        assert general
        blocks = _asm_blocks(two)
        assert len(blocks) == qd.n_sections
        assert sum('"+r"(v1)' in blk for blk in blocks) == qd.n_sections

    def test_all_pole_sections_keep_no_history(self):
        fs, bands, ar = resonators()
        qd = quantize(bands, fs, ar)
        _, _, two = _parts(qd)
        for block in _asm_blocks(two):
            offsets = re.findall(r"ldd\s+%\S+, %a\[b\]\+(\d+)", block)
            assert len(offsets) == 8

    @pytest.mark.parametrize("make", [classic, resonators, msgeq7, esp32c3])
    def test_compiles_as_cxx(self, tmp_path, make):
        require_tool("g++")
        fs, bands, ar = make()
        qd = quantize(bands, fs, ar)
        src = tmp_path / "t.cpp"
        src.write_text('#include "organ_dsp.h"\n' + ctables.design_tables_c(qd) +
                       "\nint main() { return organ_design.n_bands == 0; }\n")
        flags = [f"-D{k}={v}" for k, v in ctables.design_macros(qd).items()]
        if ar == "float":
            flags.append("-DORGAN_FLOAT")
        res = subprocess.run(["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", *flags,
                              f"-I{CORE_DIR}", "-c", str(src), "-o", str(tmp_path / "t.o")],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr

    def test_assembly_compiles_as_cxx_for_the_avr(self, tmp_path):
        """The firmware's main is C++: the generated assembly through avr-g++."""
        require_tool("avr-g++")
        fs, bands, ar = esp32c3()
        qd = quantize(bands, fs, ar)
        src = tmp_path / "t.cpp"
        src.write_text('#include "organ_dsp.h"\n' + ctables.design_tables_c(qd) +
                       "\nstatic organ_state_t s;\nstatic organ_band_out_t o[7];\n"
                       "int main() { organ_design_step2(&s, 1, 2, o); return o[0].y; }\n")
        flags = [f"-D{k}={v}" for k, v in ctables.design_macros(qd).items()]
        res = subprocess.run(["avr-g++", "-mmcu=atmega328p", "-Os", "-std=gnu++11", "-Wall",
                              "-Wextra", "-Werror", *flags, f"-I{CORE_DIR}", "-S", str(src),
                              "-o", "-"], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        assert res.stdout.count("mulsu") >= 2 * 3 * qd.n_sections
