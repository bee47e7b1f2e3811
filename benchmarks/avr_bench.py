"""ATmega328P figures of every Uno example, measured on the real firmware in simavr.

    python benchmarks/avr_bench.py [--json] [--verify] [--seconds S]

Each example's generated project is built with Debian's avr-gcc and Arduino core
(designer/avrbuild.py) and run on the simulated ATmega328P (host/simavr.py); nothing in the
firmware is changed for the measurement. Per example:

* cycles per sample: the ADC interrupt works in pairs (every other conversion's interrupt only
  keeps its sample, the next runs the two-sample step on both), so it is the own cycles of all
  ADC interrupts (interrupt response and RETI, register saves, ADC reads, DC blocker, filters,
  levels, the control tasks; serial and timer interrupts nested inside not counted) over a drum
  loop (tests/dsp_examples.py), divided by the conversions; CPU load = that / the sample period
  (832 cycles at 19230.77 Hz). A pair interrupt must end within two periods or the next pair
  is dropped (two overruns): its p99 and max against that budget, and the overruns as the
  harness counts them (samples that never reached the DSP) next to the firmware's own counter;
* per band: the marginal cost of each band (the design without it, re-quantized and rebuilt, costs
  that much less), and for the classic organ the per-section costs solved from its three bands
  (bass = o + LP1, mid = o + HP1 + LP1, treble = o + HP1; o = the per-band level work);
* where the cycles go, per processed sample: the interrupts that keep a sample and those that run
  a pair, and from a program-counter profile the pair interrupt's own body (register saves and
  the inlined filters), the control tasks it calls (organ_*) and the top functions of the CPU;
* flash and static RAM (avr-size of the ELF);
* onset-to-LED latency: a full-scale 200 Hz burst (first band) and a full-scale 6.5 kHz burst
  (last band), or, where those bands do not pass those tones, bursts at the centres of the first
  and last bands; from the conversion of the burst's first sample to the LED register write
  that lights the band's pin. ``latency_ms`` is the worse of the two; the pin itself follows a new
  PWM duty at the timer's next TOP (``latency_pwm_worst_ms`` adds one PWM period);
* with --verify: wall time of ``designer verify --sim simavr`` (classic only; target <= 60 s).

JSON (--json): {"configs": [{"name", "cycles_per_sample", "cpu_load", "flash_bytes", "ram_bytes",
"latency_ms", ...more}], "targets": {...}}. tests/avr_cycles (benchmarks/avr_dsp_cycles.py)
measures the same interrupt on a test program; the two agree to the cycle on the classic organ.
Targets (issue 6): classic <= 50 % of the 832-cycle period, <= 120 cycles per biquad, <= 70 per
first-order section, latency <= 5 ms. The examples have no standard biquad; the cost of one
(Butterworth sections, the resonator's all-pole section, a general numerator) is measured per
section by benchmarks/avr_dsp_cycles.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from dsp_examples import drum_loop  # noqa: E402

from designer.config import load_config  # noqa: E402
from designer.design import Design, compiled_in, design_hash, load_design  # noqa: E402
from designer.filters import FilterSet  # noqa: E402
from designer.quantize import BandSpec, quantize  # noqa: E402
from host import simavr  # noqa: E402
from host.verify_signals import designed_on  # noqa: E402

TARGETS = {"classic_cpu_load": 0.5, "biquad_cycles": 120, "first_order_cycles": 70,
           "latency_ms": 5.0, "verify_s": 60.0}
PWM_PERIOD_MS = {3: 2.04, 9: 2.04, 10: 2.04, 11: 2.04, 5: 1.024, 6: 1.024}  # Arduino's timers
QUIET_S, BURST_S, GAP_S = 0.6, 1.2, 1.0
WARMUP_S = 0.5


def uno_examples() -> list[Path]:
    return [p for p in sorted((ROOT / "examples").glob("*.toml"))
            if load_config(p).board.name == "uno"]


def music(fs: float, seconds: float) -> np.ndarray:
    x, *_ = drum_loop(fs, bars=2)
    return np.resize(x, int(seconds * fs)).astype(np.int16)


def without_band(d: Design, i: int) -> Design:
    """The design minus band i, re-quantized (control period and scaling follow the band count)."""
    keep = [j for j in range(len(d.wiring)) if j != i]
    fs = d.sample_rate_hz
    bands = tuple(d.filters.bands[j] for j in keep)
    specs = [BandSpec(b.name, b.sos, b.passband_hz(fs)) for b in bands]
    qd = quantize(specs, fs, d.board.arithmetic, params=dict(d.quantized.param_defaults))
    wiring = tuple(d.wiring[j] for j in keep)
    h = design_hash(compiled_in(d.board, fs, d.config, wiring, qd))
    return Design(d.config_name, d.config, d.board, fs, FilterSet(fs, bands, {}), wiring, qd, h)


def cycles(d: Design, seconds: float, profile: bool = False) -> simavr.OfflineRun:
    return simavr.run_offline(d, music(d.sample_rate_hz, seconds), seconds, warmup_s=WARMUP_S,
                              profile=profile)


CONTROL = ("organ_ctl", "organ_control", "organ_avr_", "organ_mul")  # called by the pair step


def breakdown(run: simavr.OfflineRun) -> dict:
    """Where the ADC interrupts' cycles go, per sample the DSP ran on: the interrupts that keep
    a sample and those that run a pair (own cycles, with response and RETI); from the PC profile
    (which has neither the response nor nested interrupts apart) the pair interrupt's own body
    (register saves, the inlined two-sample filters, the task dispatch) and the control tasks it
    calls; the cost of an interrupt that drops a pair; the top functions of the whole CPU."""
    s = run.stats
    n = max(s["dsp_samples"], 1)
    prof = s["profile"]
    tasks = sum(v for k, v in prof.items() if k.startswith(CONTROL))
    skip = s["adc_skip"]
    return {"store_interrupts": round(s["adc_store"]["sum"] / n, 1),
            "pair_interrupts": round(s["adc_dsp"]["sum"] / n, 1),
            "pair_body": round(prof.get("__vector_organ_pair", 0) / n, 1),
            "control_tasks": round(tasks / n, 1),
            "dropped_pair_interrupt": round(skip["sum"] / skip["count"], 1) if skip["count"] else 0,
            "functions": {k: round(v / n, 1) for k, v in
                          sorted(prof.items(), key=lambda kv: -kv[1])[:10] if k != "main"}}


def latency_tones(d: Design) -> tuple[list[tuple[float, int]], str]:
    """[(tone Hz, band index)] for the two bursts, and how they were chosen."""
    fs, bands = d.sample_rate_hz, d.filters.bands
    if designed_on(bands[0], 200.0, fs) and designed_on(bands[-1], 6500.0, fs):
        return [(200.0, 0), (6500.0, len(bands) - 1)], "200 Hz -> first band, 6.5 kHz -> last"
    tones = []
    for i in (0, len(bands) - 1):
        lo, hi = bands[i].passband_hz(fs)
        tones.append((float(np.sqrt(lo * hi)), i))
    return tones, "centres of the first and last bands (no band passes 200 Hz / 6.5 kHz)"


def latency(d: Design) -> dict:
    fs = d.sample_rate_hz
    tones, how = latency_tones(d)
    parts, onsets, pos = [np.zeros(int(QUIET_S * fs))], [], int(QUIET_S * fs)
    for f, _ in tones:
        n = int(BURST_S * fs)
        onsets.append(pos)
        parts += [32767 * np.sin(2 * np.pi * f * np.arange(n) / fs), np.zeros(int(GAP_S * fs))]
        pos += n + int(GAP_S * fs)
    x = np.round(np.concatenate(parts)).astype(np.int16)
    run = simavr.run_offline(d, x, len(x) / fs + 0.05, marks=onsets)
    out = {"how": how, "tones": []}
    for (f, i), k in zip(tones, onsets, strict=True):
        pin = d.wiring[i].led_pin
        start = run.marks[k]
        on = run.first_on(pin, start, start + int(BURST_S * simavr.F_CPU))
        ms = None if on is None else round((on - start) / simavr.F_CPU * 1e3, 3)
        out["tones"].append({"hz": round(f, 2), "band": d.wiring[i].name, "pin": pin,
                             "latency_ms": ms})
    worst = [t["latency_ms"] for t in out["tones"]]
    out["latency_ms"] = None if None in worst else max(worst)
    out["latency_pwm_worst_ms"] = None if None in worst else round(max(
        t["latency_ms"] + PWM_PERIOD_MS.get(t["pin"], 0.0) for t in out["tones"]), 3)
    return out


def verify_time(path: Path) -> dict:
    import argparse as ap
    import contextlib
    import io

    from host.cli_commands import run_verify

    t = time.monotonic()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = run_verify(ap.Namespace(sim="simavr", port=None, json=True, design=str(path)))
    doc = json.loads(buf.getvalue())
    return {"seconds": round(time.monotonic() - t, 2), "exit": code, "ok": doc.get("ok"),
            "bit_exact": doc.get("bit_exact", {}).get("mismatches"), "link": doc.get("link")}


def measure(path: Path, seconds: float, with_verify: bool) -> dict:
    d = load_design(path)
    image = simavr.build_firmware(d)
    run = cycles(d, seconds, profile=True)
    s = run.stats
    total = run.cycles_per_sample()
    per_band = {}
    for i, w in enumerate(d.wiring):
        per_band[w.name] = round(total - cycles(without_band(d, i), seconds).cycles_per_sample(), 1)
    lat = latency(d)
    period = simavr.F_CPU / d.sample_rate_hz
    doc = {
        "name": path.stem, "cycles_per_sample": round(total, 1),
        "cpu_load": round(run.cpu_load(), 4), "flash_bytes": image.flash, "ram_bytes": image.ram,
        "latency_ms": lat["latency_ms"], "cycles_per_band": per_band,
        "period_cycles": round(period, 2),
        "pair_cycles_p50": s["adc_dsp_p50"], "pair_cycles_p99": s["adc_dsp_p99"],
        "pair_cycles_max": s["adc_dsp"]["max"], "pair_budget_cycles": round(2 * period, 2),
        "store_cycles": s["adc_store"]["max"],
        "overruns": run.overruns(), "firmware_overruns": run.firmware_overruns(),
        "overrun_fraction": round(run.overruns() / max(s["adc"]["conversions"], 1), 4),
        "breakdown": breakdown(run), "latency": lat,
        "simulated_mhz": round(s["cycles"] / max(s["wall_s"], 1e-9) / 1e6, 1),
    }
    if path.stem == "classic":
        b, m, t = (per_band[w.name] for w in d.wiring)
        doc["sections"] = {"lp1": round(m - t, 1), "hp1": round(m - b, 1),
                           "band_levels": round(b + t - m, 1)}
    if with_verify and path.stem == "classic":
        doc["verify"] = verify_time(path)
    return doc


def report(docs: list[dict]) -> None:
    for d in docs:
        print(f"{d['name']}: {d['cycles_per_sample']:.1f} cycles/sample = {d['cpu_load']:.1%} of "
              f"{d['period_cycles']:.0f}; pair interrupt p50 {d['pair_cycles_p50']}, p99 "
              f"{d['pair_cycles_p99']}, max {d['pair_cycles_max']} of {d['pair_budget_cycles']:.0f}"
              f"; overruns {d['overruns']} (firmware {d['firmware_overruns']}, "
              f"{d['overrun_fraction']:.1%}); flash {d['flash_bytes']} B, RAM {d['ram_bytes']} B; "
              f"simavr {d['simulated_mhz']} MHz")
        print("  per band (marginal): " + ", ".join(f"{k} {v:.0f}"
                                                   for k, v in d["cycles_per_band"].items()))
        if "sections" in d:
            s = d["sections"]
            print(f"  sections: LP1 {s['lp1']:.0f} (target <= {TARGETS['first_order_cycles']}), "
                  f"HP1 {s['hp1']:.0f}, per-band levels {s['band_levels']:.0f}")
        bd = d["breakdown"]
        print(f"  per processed sample: keep-a-sample interrupts {bd['store_interrupts']:.1f} "
              f"({d['store_cycles']} each) + pair interrupts {bd['pair_interrupts']:.1f} (body "
              f"{bd['pair_body']:.1f}, control tasks {bd['control_tasks']:.1f}); a dropped "
              f"pair's interrupt {bd['dropped_pair_interrupt']:.0f}; by function (whole CPU): "
              + ", ".join(f"{k} {v:.0f}" for k, v in bd["functions"].items()))
        lat = d["latency"]
        print(f"  latency ({lat['how']}): " + ", ".join(
            f"{t['hz']:g} Hz -> {t['band']} {t['latency_ms']} ms" for t in lat["tones"])
            + f"; with the PWM's next period at worst {lat['latency_pwm_worst_ms']} ms")
        if "verify" in d:
            v = d["verify"]
            print(f"  verify --sim simavr: {v['seconds']} s, exit {v['exit']}, "
                  f"mismatches {v['bit_exact']}, link {v['link']}")
    print(f"targets: {TARGETS}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--verify", action="store_true", help="also time verify --sim simavr")
    ap.add_argument("--seconds", type=float, default=2.5, help="simulated seconds per cycle run")
    args = ap.parse_args()
    missing = simavr.missing_tools()
    if missing:
        sys.exit("avr_bench needs " + ", ".join(missing))
    docs = [measure(p, args.seconds, args.verify) for p in uno_examples()]
    if args.json:
        print(json.dumps({"configs": docs, "targets": TARGETS}, indent=1))
    else:
        report(docs)


if __name__ == "__main__":
    main()
