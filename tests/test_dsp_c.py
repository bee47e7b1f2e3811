"""The C core itself: strict C99 with ASan/UBSan (and bit-exact with the oracle under them),
return codes, and compile checks for the AVR (avr-gcc) and RISC-V (ESP32-C3) targets."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import require_path, require_tool
from dsp_examples import EXAMPLES, classic, drum_loop, esp32c3, msgeq7, resonators

from designer import model, params
from designer.ctables import design_macros, design_tables_c
from designer.native import CORE_DIR
from designer.quantize import quantize

HERE = Path(__file__).parent
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow", "-Wconversion",
          "-Wno-sign-conversion"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1",
            "-ffp-contract=off"]


def _build(tmp: Path, qd, extra: list[str] | None = None) -> Path:
    require_tool("gcc")
    (tmp / "design_tables.h").write_text(design_tables_c(qd))
    flags = [f"-D{k}={v}" for k, v in design_macros(qd).items()]
    if qd.arithmetic == "float":
        flags.append("-DORGAN_FLOAT")
    exe = tmp / "dsp_driver"
    res = subprocess.run(["gcc", *STRICT, *SANITIZE, *flags, *(extra or []), f"-I{CORE_DIR}",
                          f"-I{tmp}", str(HERE / "dsp_c" / "dsp_driver.c"),
                          str(CORE_DIR / "organ_dsp.c"), "-o", str(exe)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return exe


def _outputs(raw: bytes, n: int, nb: int, arithmetic: str):
    vt = "<f4" if arithmetic == "float" else "<i2"
    rec = np.dtype([("y", vt), ("env", vt), ("led", "u1")])
    a = np.frombuffer(raw, dtype=rec).reshape(n, nb)
    return a["y"], a["env"], a["led"]


def _signal(fs: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    drums, *_ = drum_loop(fs, bars=1, seed=seed)
    parts = [drums[: n // 2], rng.integers(-32768, 32768, n // 4),
             np.repeat(rng.choice([-32768, 32767], n // 64), 16)]
    x = np.concatenate(parts).astype(np.int16)
    x[::997] = 32767
    return x


@pytest.mark.parametrize("make", [classic, resonators, msgeq7, esp32c3],
                         ids=["classic", "resonator", "msgeq7", "esp32c3"])
def test_sanitized_build_is_bit_exact(tmp_path, make):
    fs, bands, ar = make()
    qd = quantize(bands, fs, ar)
    exe = _build(tmp_path, qd)
    x = _signal(fs, 40000, 1)
    p = {"hold_ms": 50, "release_ms": 100}
    args = [f"{params.by_name(k).id}={v}" for k, v in p.items()]
    res = subprocess.run([str(exe), "run", *args], input=x.tobytes(), capture_output=True)
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    assert not res.stderr, res.stderr.decode()[-2000:]
    y, env, led = _outputs(res.stdout, x.size, qd.n_bands, ar)
    ref = model.run(qd, x, p)
    assert np.array_equal(y, ref.y) and np.array_equal(env, ref.env)
    assert np.array_equal(led, ref.led)


@pytest.mark.parametrize("make", [classic, resonators, esp32c3],
                         ids=["classic", "resonator", "esp32c3"])
@pytest.mark.parametrize("skip", [0, 1])
def test_two_sample_step_is_bit_exact(tmp_path, make, skip):
    """The AVR interrupt's two-sample step (portable C here) against the oracle, from an even
    tick and, after one single sample, from an odd one (its out-of-line fallback)."""
    fs, bands, ar = make()
    qd = quantize(bands, fs, ar)
    exe = _build(tmp_path, qd)
    x = _signal(fs, 30001, 2)
    res = subprocess.run([str(exe), "pairs", str(skip)], input=x.tobytes(), capture_output=True)
    assert res.returncode == 0 and not res.stderr, res.stderr.decode()[-2000:]
    pairs = (x.size - skip) // 2
    y, env, led = _outputs(res.stdout, skip + pairs, qd.n_bands, ar)
    ref = model.run(qd, x)
    rows = np.r_[np.arange(skip), skip + 1 + 2 * np.arange(pairs)]  # the outputs' samples
    assert np.array_equal(y, ref.y[rows]) and np.array_equal(env, ref.env[rows])
    assert np.array_equal(led, ref.led[rows])


@pytest.mark.parametrize("arith", ["fixed", "float"])
def test_return_codes(tmp_path, arith):
    fs, bands, _ = classic()
    exe = _build(tmp_path, quantize(bands, fs, arith))
    res = subprocess.run([str(exe), "api"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


def _cross_compile(tmp: Path, cc: list[str], qd, float_variant: bool = False) -> None:
    (tmp / "design_tables.h").write_text(design_tables_c(qd, storage="extern"))
    src = tmp / "use.c"
    src.write_text('#include "organ_dsp.h"\n#include "design_tables.h"\n'
                   "static organ_state_t s;\nstatic organ_params_t p;\n"
                   "int use(int16_t x, organ_band_out_t *o);\n"
                   "int use(int16_t x, organ_band_out_t *o) {\n"
                   "    organ_params_default(&organ_design, &p);\n"
                   "    if (organ_init(&s, &organ_design, &p)) return 1;\n"
                   "    organ_process_sample(&s, x, o);\n    return 0;\n}\n")
    flags = [f"-D{k}={v}" for k, v in design_macros(qd).items()]
    if float_variant:
        flags.append("-DORGAN_FLOAT")
    for f in (src, CORE_DIR / "organ_dsp.c"):
        res = subprocess.run([*cc, *STRICT, *flags, f"-I{CORE_DIR}", f"-I{tmp}", "-c", str(f),
                              "-o", str(tmp / (f.stem + ".o"))], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("name", ["classic", "resonator"])
def test_compiles_for_the_atmega328p(tmp_path, name):
    require_tool("avr-gcc")
    fs, bands, ar = EXAMPLES[name]()
    _cross_compile(tmp_path, ["avr-gcc", "-mmcu=atmega328p", "-Os"], quantize(bands, fs, ar))
    for asm_off in (False, True):
        extra = ["-DORGAN_NO_ASM"] if asm_off else []
        res = subprocess.run(["avr-gcc", "-mmcu=atmega328p", "-Os", *STRICT, *extra,
                              f"-I{CORE_DIR}", f"-I{tmp_path}", "-S", str(tmp_path / "use.c"),
                              "-o", "-"], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        assert ("mulsu" in res.stdout) != asm_off  # the inline assembly is there, or not


def test_compiles_for_rv32imc(tmp_path):
    require_tool("riscv64-unknown-elf-gcc")
    require_path("/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs", "picolibc for RISC-V")
    cc = ["riscv64-unknown-elf-gcc", "-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs",
          "-Os"]
    fs, bands, ar = esp32c3()
    _cross_compile(tmp_path, cc, quantize(bands, fs, ar))
    fs, bands, _ = msgeq7()
    (tmp_path / "f").mkdir()
    _cross_compile(tmp_path / "f", cc, quantize(bands, fs, "float"), float_variant=True)
