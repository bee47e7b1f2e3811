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
from designer.qdesign import Outputs, QuantizedDesign

HERE = Path(__file__).resolve().parent
CORE = HERE.parent.parent / "firmware_templates" / "lib" / "organ_dsp"
AVR_FLAGS = ["-mmcu=atmega328p", "-DF_CPU=16000000L", "-Os", "-flto", "-std=gnu99"]
#: the stamp after a sample whose step ran control task t is CONTROL_MARK + t
CONTROL_MARK = 0x40


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


#: how the KERNEL program runs a sample: organ_process_sample(), the step inlined, or the
#: two-sample step (the firmware interrupt's)
KERNEL_STEPS = {"process": [], "inline": ["-DSTEP_INLINE"], "pairs": ["-DSTEP_PAIRS"]}


def build_program(qd: QuantizedDesign, build: Path, name: str, isr: bool = False,
                  asm: bool = True, step: str = "process", single: bool = False) -> Path:
    """Compile avr_organ.c + the core + qd's tables into ``build/name.elf``: the KERNEL program
    running samples through ``step`` (KERNEL_STEPS), or the ISR program (``isr``: the
    firmware's pair interrupt, ``single``: the one-sample interrupt)."""
    build.mkdir(parents=True, exist_ok=True)
    (build / "design_tables.h").write_text(design_tables_c(qd, name="organ_design"))
    flags = list(AVR_FLAGS) + [f"-D{k}={v}" for k, v in design_macros(qd).items()]
    if isr:
        # the free-running ADC at the design's rate: 16 MHz / 64 or / 128, 13 clocks each
        prescaler = 7 if qd.fs < 14000 else 6
        flags += ["-DMODE_ISR", f"-DADC_PRESCALER_BITS={prescaler}"]
        flags += ["-DSINGLE"] if single else []
    else:
        flags += KERNEL_STEPS[step]
    if not asm:
        flags.append("-DORGAN_NO_ASM")
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


def run_kernel(harness: Path, elf: Path, samples: np.ndarray, n_bands: int, build: Path,
               pairs: bool = False) -> tuple[Outputs, dict]:
    """Run the KERNEL program: its outputs (y, env, led with one row per sample, or per pair of
    samples for a ``pairs`` program: the outputs after its second sample; the saturation count)
    and the stamp statistics."""
    x = np.ascontiguousarray(samples, dtype="<i2")
    if x.size > 65534 or (pairs and x.size % 2):
        raise ValueError("at most 65534 samples per run (an even count for pairs)")
    inp, outp = build / f"{elf.stem}.in", build / f"{elf.stem}.out"
    inp.write_bytes(x.tobytes())
    res = _run([str(harness), "kernel", str(elf), str(inp), str(outp)])
    stats = json.loads(res.strip().splitlines()[-1])
    rows = x.size // 2 if pairs else x.size
    data = outp.read_bytes()
    raw = np.frombuffer(data[:-2], dtype=np.uint8).reshape(rows, n_bands, 5)
    y = raw[:, :, 0].astype(np.uint16) | (raw[:, :, 1].astype(np.uint16) << 8)
    env = raw[:, :, 2].astype(np.uint16) | (raw[:, :, 3].astype(np.uint16) << 8)
    out = Outputs(y=y.view(np.int16), env=env.view(np.int16), led=raw[:, :, 4].copy(),
                  overflows=data[-2] | (data[-1] << 8))
    return out, stats["pairs"]


def sample_cycles(pairs: dict) -> dict:
    """Cycles per step from a KERNEL run's stamps (the 1-cycle stamp itself removed; a step is
    one sample, or two for a pairs program): ``all`` steps, ``filters`` (steps without a control
    task) and ``tasks`` (each control task: the cycles of its step minus the mean of a step
    without one)."""
    acc: dict[int, list[float]] = {}
    for key, (count, total, lo, hi) in pairs.items():
        a, b = (int(v) for v in key.split(">"))
        if a != 1:
            continue
        acc[b] = [count, total - count, lo - 1, hi - 1]
    n = sum(v[0] for v in acc.values())
    plain = acc.get(2, [1, 0.0, 0, 0])
    base = plain[1] / plain[0]
    tasks = {t - CONTROL_MARK: {"count": v[0], "mean": v[1] / v[0] - base, "max": v[3] - base}
             for t, v in sorted(acc.items()) if t >= CONTROL_MARK}
    return {
        "all": {"count": n, "mean": sum(v[1] for v in acc.values()) / max(n, 1),
                "min": min(v[2] for v in acc.values()), "max": max(v[3] for v in acc.values())},
        "filters": {"count": plain[0], "mean": base, "min": plain[2], "max": plain[3]},
        "tasks": tasks,
    }


def run_isr(harness: Path, elf: Path, samples: np.ndarray, build: Path) -> dict:
    """Run a program with an ADC interrupt (the ISR test program or a firmware image) on
    ``samples``, one per conversion; returns the ADC interrupt's cycles per invocation
    {"count", "mean", "min", "max"} (nested interrupts excluded), the other interrupts' total
    and the simulated cycles."""
    inp = build / f"{elf.stem}.in"
    inp.write_bytes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    cmd = [str(harness), "isr", str(elf), str(inp)]
    stats = json.loads(_run(cmd).strip().splitlines()[-1])
    n, total, lo, hi = stats["adc"]
    return {"count": n, "mean": total / max(n, 1), "min": lo, "max": hi,
            "other_cycles": stats["other"][1], "cycles": stats["cycles"]}


def _run(cmd: list[str]) -> str:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}")
    return res.stdout
