"""Build and run the DSP core on a simulated ATmega328P (libsimavr), for the AVR bit-exactness
test and benchmarks/avr_dsp_cycles.py.

Build flags are the firmware's: ``avr-gcc -mmcu=atmega328p -DF_CPU=16000000L -Os -flto``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from designer.ctables import design_macros, design_tables_c
from designer.qdesign import QuantizedDesign

HERE = Path(__file__).resolve().parent
CORE = HERE.parent.parent / "firmware_templates" / "lib" / "organ_dsp"
AVR_FLAGS = ["-mmcu=atmega328p", "-DF_CPU=16000000L", "-Os", "-flto", "-std=gnu99"]
MARK = "-DORGAN_MARK(n)=(*(volatile uint8_t *)0x3E = (uint8_t)(n))"


def tools_missing() -> list[str]:
    """Executables / files this needs that are not installed."""
    missing = [t for t in ("avr-gcc", "gcc") if shutil.which(t) is None]
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        missing.append("libsimavr-dev")
    return missing


def build_harness(build: Path) -> Path:
    exe = build / "sim_harness"
    if not exe.exists():
        _run(["gcc", "-O2", "-std=gnu99", "-I/usr/include/simavr", "-I/usr/include/simavr/avr",
              str(HERE / "sim_harness.c"), "-o", str(exe), "-lsimavr", "-lelf"])
    return exe


def build_program(qd: QuantizedDesign, build: Path, name: str, isr: bool = False,
                  asm: bool = True, marks: bool = False, section_marks: bool = False) -> Path:
    """Compile avr_organ.c + the core + qd's tables into ``build/name.elf``. ``marks``: cycle
    stamps between stages; ``section_marks``: also between sections (this takes the C section
    loop instead of the assembly chain of first-order sections)."""
    build.mkdir(parents=True, exist_ok=True)
    (build / "design_tables.h").write_text(design_tables_c(qd, name="organ_design"))
    flags = list(AVR_FLAGS) + [f"-D{k}={v}" for k, v in design_macros(qd).items()]
    if isr:
        flags.append("-DMODE_ISR")
    if not asm:
        flags.append("-DORGAN_NO_ASM")
    if marks or section_marks:
        flags.append(MARK)
    if section_marks:
        flags.append("-DORGAN_MARK_SECTIONS")
    elf = build / f"{name}.elf"
    _run(["avr-gcc", *flags, f"-I{CORE}", f"-I{build}", str(HERE / "avr_organ.c"),
          str(CORE / "organ_dsp.c"), "-o", str(elf)])
    return elf


def program_size(elf: Path) -> dict[str, int]:
    out = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def run_kernel(harness: Path, elf: Path, samples: np.ndarray, n_bands: int, build: Path
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Run the KERNEL program; returns y, env, led (n, n_bands) and the stamp statistics."""
    x = np.ascontiguousarray(samples, dtype="<i2")
    if x.size > 65535:
        raise ValueError("at most 65535 samples per run")
    inp, outp = build / f"{elf.stem}.in", build / f"{elf.stem}.out"
    inp.write_bytes(x.tobytes())
    res = _run([str(harness), "kernel", str(elf), str(inp), str(outp)])
    stats = json.loads(res.strip().splitlines()[-1])
    raw = np.frombuffer(outp.read_bytes(), dtype=np.uint8).reshape(x.size, n_bands, 5)
    y = raw[:, :, 0].astype(np.uint16) | (raw[:, :, 1].astype(np.uint16) << 8)
    env = raw[:, :, 2].astype(np.uint16) | (raw[:, :, 3].astype(np.uint16) << 8)
    return y.view(np.int16), env.view(np.int16), raw[:, :, 4].copy(), stats["pairs"]


def run_isr(harness: Path, elf: Path, samples: np.ndarray, build: Path) -> dict:
    """Run the ISR program; returns {"count", "mean", "min", "max"} cycles per interrupt."""
    inp = build / f"{elf.stem}.in"
    inp.write_bytes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    stats = json.loads(_run([str(harness), "isr", str(elf), str(inp)]).strip().splitlines()[-1])
    n, total, lo, hi = stats["isr"]
    return {"count": n, "mean": total / max(n, 1), "min": lo, "max": hi}


def section_cycles(pairs: dict) -> dict[str, dict[str, float]]:
    """Per-stage cycles from the stamp pairs of a ``marks=True`` KERNEL run: the stage ending
    with stamp b costs the time since the previous stamp (minus the 1-cycle stamp itself)."""
    names = {3: "dc_blocker+rect", 0x11: "lp1", 0x12: "hp1", 0x13: "bq_gain", 0x14: "bq",
             0x30: "band_rect+out", 0x31: "all_bands_asm"}
    for t in range(6):  # the stamp carries the task index after the advance
        names[0x40 + 4 * t] = f"control_input_task{(t - 1) % 6}"
        names[0x41 + 4 * t] = f"control_band_task{(t - 1) % 6}"
    acc: dict[str, list[float]] = {}
    for key, (count, total, lo, hi) in pairs.items():
        a, b = (int(v) for v in key.split(">"))
        if b not in names or a == 2:
            continue
        s = acc.setdefault(names[b], [0, 0, 1e18, 0])
        s[0] += count
        s[1] += total - count
        s[2] = min(s[2], lo - 1)
        s[3] = max(s[3], hi - 1)
    return {k: {"count": v[0], "mean": v[1] / v[0], "min": v[2], "max": v[3]}
            for k, v in sorted(acc.items())}


def _run(cmd: list[str]) -> str:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}")
    return res.stdout
