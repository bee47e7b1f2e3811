"""ATmega328P cycles of the DSP core, measured in simavr (tests/avr_cycles).

    python benchmarks/avr_dsp_cycles.py [--json] [--samples N]

Build flags are the firmware's (avr-gcc 5.4, -mmcu=atmega328p -DF_CPU=16000000L -Os -flto).
For every uno example (examples/*.toml at its own sample rate) and a Butterworth organ on the
Uno (standard biquads: low-pass (1 + z^-1)^2, band-pass 1 - z^-2 and high-pass (1 - z^-1)^2
numerators, written below) it prints cycles per sample of
the generated step run three ways (organ_process_sample(), the PROCESS path; the step inlined;
the two-sample step of the firmware's interrupt), the filters alone and each control task, then
the firmware-like pair interrupt (vector, register saves, ADC read, busy flags, the inlined
two-sample step) as a share of the sample period; and per section kind the cost of one more
section (one-band designs with one and with two sections, the step inlined and two-sample).
Targets (issues 3 and 6): <= 70 cycles per first-order section, <= 120 per biquad, the whole
classic organ per sample <= 50 % of 832 = 416 cycles.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import signal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "avr_cycles"))

import avr_run  # noqa: E402
from dsp_examples import FS_UNO, drum_loop, rc_highpass, rc_lowpass, resonator  # noqa: E402

from designer import model  # noqa: E402
from designer.config import load_config  # noqa: E402
from designer.design import make_design  # noqa: E402
from designer.quantize import BandSpec, quantize  # noqa: E402

F_CPU = 16e6
TARGETS = {"first_order": 70, "biquad": 120, "classic_per_sample": 416}
EXAMPLES = ("classic", "learned", "resonator", "butterworth")
#: the standard-biquad organ: three bands of one or two Butterworth sections each
BUTTERWORTH_TOML = """
board = "uno"

[[bands]]
name = "bass"
type = "lowpass"
filter = "butterworth"
order = 2
cutoff_hz = 250
led_pin = 9

[[bands]]
name = "mid"
type = "bandpass"
filter = "butterworth"
order = 2
low_hz = 500
high_hz = 2000
led_pin = 10

[[bands]]
name = "treble"
type = "highpass"
filter = "butterworth"
order = 4
cutoff_hz = 4000
led_pin = 11
"""
SECTIONS = {
    "lp1": lambda fs: rc_lowpass(3000, fs),
    "hp1": lambda fs: rc_highpass(3000, fs),
    "bq_gain": lambda fs: resonator(500, fs, bw=50),
    "bq": lambda fs: signal.butter(2, 2000, fs=fs, output="sos"),
    "bq_bandpass": lambda fs: signal.butter(1, (1000, 2000), btype="bandpass", fs=fs,
                                            output="sos"),
    # zeros off z = +-1: general numerators; elliptic (zeros on the unit circle, c0 = c2) and
    # minimum-phase zeros as a trained "iir" band's (no symmetry)
    "bq_general": lambda fs: signal.ellip(2, 1, 40, 2000, fs=fs, output="sos"),
    "bq_general_mp": lambda fs: _min_phase_zeros(signal.butter(2, 2000, fs=fs, output="sos"),
                                                 6000, 0.7, fs),
}


def _min_phase_zeros(sos: np.ndarray, f_hz: float, radius: float, fs: float) -> np.ndarray:
    """sos with its numerator replaced by zeros at radius < 1 and +-f_hz (a trained shape)."""
    out = sos.copy()
    out[0, :3] = [1.0, -2 * radius * np.cos(2 * np.pi * f_hz / fs), radius * radius]
    return out


def _input(fs: float, n: int) -> np.ndarray:
    x, *_ = drum_loop(fs, bars=4)
    x = np.resize(x, n - n % 2).astype(np.int32)
    return ((x >> 6) << 6).astype(np.int16)  # a 10-bit ADC


def _kernel(harness, build, qd, x, step: str, name: str, asm: bool = True) -> dict:
    elf = avr_run.build_program(qd, build, name, step=step, asm=asm)
    pairs = step == "pairs"
    out, stamps = avr_run.run_kernel(harness, elf, x, qd.n_bands, build, pairs=pairs)
    ref = model.run(qd, x)
    rows = slice(1, None, 2) if pairs else slice(None)
    exact = bool(np.array_equal(out.y, ref.y[rows]) and np.array_equal(out.led, ref.led[rows]))
    c = avr_run.sample_cycles(stamps)
    k = 2 if pairs else 1
    return {"bit_exact": exact, "mean": c["all"]["mean"] / k, "max_step": c["all"]["max"],
            "filters": c["filters"]["mean"] / k,
            "tasks": {t: round(v["mean"]) for t, v in c["tasks"].items()},
            "size": avr_run.program_size(elf)}


def _section_costs(harness, build, x) -> dict:
    out = {}
    for kind, make in SECTIONS.items():
        out[kind] = {}
        for step in ("inline", "pairs"):
            means = []
            for n in (1, 2):
                sos = np.vstack([make(FS_UNO)] * n)
                qd = quantize([BandSpec("b", sos, (100.0, 2000.0))], FS_UNO, "fixed")
                means.append(_kernel(harness, build, qd, x, step, f"sec_{kind}{n}")["filters"])
            out[kind][step] = means[1] - means[0]
    return out


def measure(n_samples: int) -> dict:
    res: dict = {"f_cpu": F_CPU, "targets": TARGETS, "designs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        harness = avr_run.build_harness(build)
        for name in EXAMPLES:
            path = ROOT / "examples" / f"{name}.toml"
            if name == "butterworth":
                path = build / "butterworth.toml"
                path.write_text(BUTTERWORTH_TOML)
            d = make_design(load_config(path))
            qd = d.quantized
            x = _input(d.sample_rate_hz, n_samples)
            period = F_CPU / d.sample_rate_hz
            r: dict = {"fs": d.sample_rate_hz, "cycles_per_sample_available": period,
                       "ctl_period": qd.ctl_period}
            for step in avr_run.KERNEL_STEPS:
                r[step] = _kernel(harness, build, qd, x, step, f"{name}_{step}")
            r["portable_c_process"] = _kernel(harness, build, qd, x, "process", f"{name}_c",
                                              asm=False)
            elf = avr_run.build_program(qd, build, f"{name}_isr", isr=True)
            r["isr"] = avr_run.run_isr(harness, elf, x, build)
            r["isr_share_of_sample_period"] = r["isr"]["mean"] / period
            res["designs"][name] = r
        res["per_section"] = _section_costs(harness, build, _input(FS_UNO, 2000))
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--samples", type=int, default=8000, help="samples per measurement")
    args = ap.parse_args()
    missing = avr_run.tools_missing()
    if missing:
        print(f"missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    res = measure(args.samples)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    for name, r in res["designs"].items():
        print(f"== {name}: fs {r['fs']:.2f} Hz, {r['cycles_per_sample_available']:.0f} cycles "
              f"per sample, control every {r['ctl_period']} samples")
        for step in (*avr_run.KERNEL_STEPS, "portable_c_process"):
            v = r[step]
            print(f"   {step:20} mean {v['mean']:7.1f} (filters {v['filters']:6.1f})  "
                  f"max step {v['max_step']:5d}  bit-exact {v['bit_exact']}")
        print(f"   control tasks (cycles each, once per round): {r['pairs']['tasks']}")
        isr = r["isr"]
        print(f"   pair interrupt, all included: mean {isr['mean']:6.1f} per sample "
              f"({100 * r['isr_share_of_sample_period']:.1f} % of the period), max "
              f"{isr['max']} per interrupt")
    print("one more section (cycles per sample): " + ", ".join(
        f"{k} {v['inline']:.0f} / {v['pairs']:.0f}" for k, v in res["per_section"].items())
        + f" (step inlined / two-sample step; targets <= {TARGETS['first_order']} first-order,"
        f" <= {TARGETS['biquad']} biquad)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
