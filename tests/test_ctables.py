"""designer/ctables.py: C literals (checked by a C compiler) and the design tables text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import require_tool
from dsp_examples import classic, msgeq7, resonators
from hypothesis import given, settings
from hypothesis import strategies as st

from designer import ctables
from designer.native import CORE_DIR
from designer.quantize import quantize


def _run_c(tmp_path: Path, body: str, flags: tuple[str, ...] = ()) -> str:
    require_tool("gcc")
    src = tmp_path / "t.c"
    src.write_text("#include <stdio.h>\n#include <stdint.h>\n" + body)
    exe = tmp_path / "t"
    res = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", *flags,
                          str(src), "-o", str(exe)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout


class TestLiterals:
    def test_ints(self, tmp_path):
        values = [0, 1, -1, 32767, -32768, 65535, 2**31 - 1, -(2**31), 2**32 - 1]
        body = "int main(void) {\n" + "".join(
            f'    printf("%lld\\n", (long long)({ctables.c_int(v)}));\n' for v in values
        ) + "    return 0;\n}\n"
        assert [int(x) for x in _run_c(tmp_path, body).split()] == values
        for bad in (2**32, -(2**31) - 1, 1.5):
            with pytest.raises(ValueError):
                ctables.c_int(bad)

    def test_floats_round_trip_bit_exactly(self, tmp_path):
        rng = np.random.default_rng(0)
        values = [0.0, -0.0, 1.0, 0.1, 1e-30, 3.4e38, -2.5e-7] + list(
            rng.standard_normal(40) * 10.0 ** rng.integers(-8, 8, 40))
        body = "#include <string.h>\nint main(void) {\n    float f; uint32_t u;\n" + "".join(
            f'    f = {ctables.c_float(v)}; memcpy(&u, &f, 4); printf("%u\\n", (unsigned)u);\n'
            for v in values) + "    return 0;\n}\n"
        got = [int(x) for x in _run_c(tmp_path, body).split()]
        want = [int(np.float32(v).view(np.uint32)) for v in values]
        assert got == want
        assert ctables.c_float(2.0).endswith("f") and "." in ctables.c_float(2.0)
        assert ctables.c_float(0.1, single=False) == "0.10000000000000001"
        with pytest.raises(ValueError, match="non-finite"):
            ctables.c_float(float("inf"))

    @settings(max_examples=25, deadline=None)
    @given(st.text(min_size=0, max_size=30))
    def test_strings_survive_anything(self, tmp_path_factory, text):
        tmp = tmp_path_factory.mktemp("s")
        lit = ctables.c_string(text)
        body = ("int main(void) {\n    const unsigned char s[] = " + lit + ";\n"
                "    size_t i;\n    for (i = 0; i + 1 < sizeof s; i++) printf(\"%u \", s[i]);\n"
                "    return 0;\n}\n")
        out = _run_c(tmp, body)
        assert [int(x) for x in out.split()] == list(text.encode("utf-8"))

    def test_comment_and_ident(self, tmp_path):
        c = ctables.c_comment("evil */ int x; /* and\nnewline")
        assert c.startswith("/* ") and c.endswith(" */") and c.count("*/") == 1
        assert "\n" not in c
        _run_c(tmp_path, c + "\nint main(void) { return 0; }\n")
        assert ctables.c_ident("bass_2") == "bass_2"
        for bad in ("2bass", "int", "a-b", ""):
            with pytest.raises(ValueError):
                ctables.c_ident(bad)


def _compile_tables(tmp_path: Path, text: str, flags: list[str]) -> subprocess.CompletedProcess:
    src = tmp_path / "tables.c"
    src.write_text('#include "organ_dsp.h"\n' + text + "\nint main(void) { organ_params_t p;\n"
                   "    organ_params_default(&organ_design, &p); return p.v[0] == 256 ? 0 : 1; }\n")
    return subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
                           f"-I{CORE_DIR}", *flags, str(src), str(CORE_DIR / "organ_dsp.c"),
                           "-o", str(tmp_path / "tables")], capture_output=True, text=True)


class TestDesignTables:
    @pytest.mark.parametrize("example", [classic, resonators, msgeq7])
    def test_compiles_warning_free_and_runs(self, tmp_path, example):
        require_tool("gcc")
        fs, bands, ar = example()
        qd = quantize(bands, fs, ar)
        text = ctables.design_tables_c(qd)
        flags = [f"-D{k}={v}" for k, v in ctables.design_macros(qd).items()]
        if ar == "float":
            flags.append("-DORGAN_FLOAT")
        res = _compile_tables(tmp_path, text, flags)
        assert res.returncode == 0, res.stderr
        assert subprocess.run([str(tmp_path / "tables")]).returncode == 0
        for band in qd.bands:
            assert ctables.c_string(band.name) in text
            assert f"/* {band.name}[0]" in text  # float coefficients in comments
        assert "static const organ_design_t organ_design" in text
        assert ctables.design_tables_c(qd) == text  # deterministic

    def test_refuses_wrong_sizes_or_arithmetic(self, tmp_path):
        require_tool("gcc")
        fs, bands, ar = classic()
        text = ctables.design_tables_c(quantize(bands, fs, ar))
        res = _compile_tables(tmp_path, text, ["-DORGAN_MAX_BANDS=2"])
        assert res.returncode != 0 and "ORGAN_MAX_BANDS >= 3" in res.stderr
        res = _compile_tables(tmp_path, text, ["-DORGAN_FLOAT"])
        assert res.returncode != 0 and "quantized for fixed" in res.stderr

    def test_storage_and_name(self):
        fs, bands, ar = classic()
        qd = quantize(bands, fs, ar)
        text = ctables.design_tables_c(qd, name="my_organ", storage="extern")
        assert "\nconst organ_design_t my_organ = {" in text
        # fixed point: the filters are the generated steps, not a sections table
        assert "organ_section_t" not in text
        for fn in ("ORGAN_STEP_INLINE void my_organ_step(",
                   "static void my_organ_process(", "ORGAN_NOINLINE void my_organ_process2(",
                   "ORGAN_STEP_INLINE void my_organ_step2("):
            assert fn in text
        assert text.rstrip().endswith("my_organ_process,\n};")
        fs, bands, ar = msgeq7()
        text = ctables.design_tables_c(quantize(bands, fs, ar), name="my_organ")
        assert "static const organ_section_t my_organ_sections[14]" in text
        assert "my_organ_step" not in text
        with pytest.raises(ValueError):
            ctables.design_tables_c(qd, storage="auto")
        with pytest.raises(ValueError):
            ctables.design_tables_c(qd, name="not a name")
        assert ctables.design_macros(qd) == {"ORGAN_MAX_BANDS": 3, "ORGAN_MAX_SECTIONS": 4}
