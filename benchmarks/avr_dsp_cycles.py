"""ATmega328P cycles of the DSP core, measured in simavr (tests/avr_cycles).

    python benchmarks/avr_dsp_cycles.py [--json] [--samples N]

Build flags are the firmware's (avr-gcc 5.4, -mmcu=atmega328p -DF_CPU=16000000L -Os -flto).
For the classic and resonator examples it prints cycles per organ_process_sample() call (AVR
assembly and portable C), per stage (cycle stamps written to GPIOR0), per section kind, the
firmware-like ADC interrupt (entry/exit, ADC read, the core, LED PWM writes), and flash / RAM.
Issue-3 targets: <= 70 cycles per first-order section, <= 120 per biquad, the whole classic
organ per sample <= 50 % of 832 = 416 cycles.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "avr_cycles"))

import avr_run  # noqa: E402
from dsp_examples import EXAMPLES, FS_UNO, drum_loop, rc_highpass, rc_lowpass  # noqa: E402

from designer.quantize import BandSpec, quantize  # noqa: E402

F_CPU = 16e6
TARGETS = {"first_order": 70, "biquad": 120, "classic_per_sample": 416}


def _input(fs: float, n: int) -> np.ndarray:
    x, *_ = drum_loop(fs, bars=4)
    x = np.resize(x, n).astype(np.int32)
    return ((x >> 6) << 6).astype(np.int16)  # a 10-bit ADC


def _per_call(harness, elf, x, nb, build) -> dict:
    _, _, _, pairs = avr_run.run_kernel(harness, elf, x, nb, build)
    n, total, lo, hi = pairs["1>2"]
    return {"mean": (total - n) / n, "min": lo - 1, "max": hi - 1}


def _fo_section_cost(harness, build, x) -> dict:
    """LP1 / HP1 inside the assembly band loop: the difference between one-band designs with
    one and with two sections of the kind."""
    fs = FS_UNO
    out = {}
    for kind, make in (("lp1", rc_lowpass), ("hp1", rc_highpass)):
        means = []
        for n in (1, 2):
            sos = np.vstack([make(3000, fs)] * n)
            qd = quantize([BandSpec("b", sos, (100.0, 2000.0))], fs, "fixed")
            elf = avr_run.build_program(qd, build, f"fo_{kind}{n}", marks=True)
            stages = avr_run.section_cycles(avr_run.run_kernel(harness, elf, x, 1, build)[3])
            means.append(stages["all_bands_asm"]["mean"])
        out[kind] = means[1] - means[0]
    return out


def measure(n_samples: int) -> dict:
    res: dict = {"f_cpu": F_CPU, "targets": TARGETS, "designs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        harness = avr_run.build_harness(build)
        for name in ("classic", "resonator"):
            fs, bands, ar = EXAMPLES[name]()
            qd = quantize(bands, fs, ar)
            x = _input(fs, n_samples)
            period = F_CPU / fs
            d: dict = {"fs": fs, "cycles_per_sample_available": period}
            elf = avr_run.build_program(qd, build, f"{name}_asm")
            d["process_sample_asm"] = _per_call(harness, elf, x, qd.n_bands, build)
            d["size"] = avr_run.program_size(elf)
            elf = avr_run.build_program(qd, build, f"{name}_c", asm=False)
            d["process_sample_portable_c"] = _per_call(harness, elf, x, qd.n_bands, build)
            elf = avr_run.build_program(qd, build, f"{name}_marks", marks=True)
            d["stages"] = avr_run.section_cycles(
                avr_run.run_kernel(harness, elf, x, qd.n_bands, build)[3])
            elf = avr_run.build_program(qd, build, f"{name}_sections", section_marks=True)
            d["stages_c_path"] = avr_run.section_cycles(
                avr_run.run_kernel(harness, elf, x, qd.n_bands, build)[3])
            elf = avr_run.build_program(qd, build, f"{name}_isr", isr=True)
            try:
                d["isr"] = avr_run.run_isr(harness, elf, x[:2000], build)
            except RuntimeError:
                d["isr"] = {"overrun": True}  # the interrupt outlasts a conversion
            isr_mean = d["isr"].get("mean")
            d["isr_share_of_sample_period"] = isr_mean / period if isr_mean else None
            res["designs"][name] = d
        res["first_order_in_asm_loop"] = _fo_section_cost(harness, build, _input(FS_UNO, 1500))
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--samples", type=int, default=3000, help="samples per measurement")
    args = ap.parse_args()
    missing = avr_run.tools_missing()
    if missing:
        print(f"missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    res = measure(args.samples)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    for name, d in res["designs"].items():
        print(f"== {name}: fs {d['fs']:.0f} Hz, {d['cycles_per_sample_available']:.0f} cycles "
              f"per sample; flash {d['size'].get('.text', 0) + d['size'].get('.data', 0)} B, "
              f"RAM {d['size'].get('.data', 0) + d['size'].get('.bss', 0)} B (test program)")
        for k in ("process_sample_asm", "process_sample_portable_c"):
            v = d[k]
            print(f"   {k:28} mean {v['mean']:7.1f}  min {v['min']:5d}  max {v['max']:5d}")
        isr = d["isr"]
        if isr.get("overrun"):
            print("   ADC interrupt: longer than one conversion (overrun)")
        else:
            print(f"   ADC interrupt (all included)  mean {isr['mean']:7.1f}  max {isr['max']:5d}"
                  f"  = {100 * d['isr_share_of_sample_period']:.0f} % of the sample period")
        for stage, v in d["stages"].items():
            print(f"     {stage:26} mean {v['mean']:7.1f}  max {v['max']:5}")
        for stage in ("lp1", "hp1", "bq_gain", "bq"):
            if stage in d["stages_c_path"]:
                v = d["stages_c_path"][stage]
                print(f"     {stage + ' (C loop)':26} mean {v['mean']:7.1f}  max {v['max']:5}")
    fo = res["first_order_in_asm_loop"]
    print(f"first-order section in the assembly loop: LP1 {fo['lp1']:.1f}, HP1 {fo['hp1']:.1f} "
          f"cycles (target <= {TARGETS['first_order']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
