"""Training benchmark: the targets of issue 2 against the notebooks' loops (BACKGROUND.md).

    python benchmarks/train_bench.py [--json] [--repeat N] [--threads N]

Per task: wall seconds of the fit (the first call in this process, which pays any lazy
initialisation, and the median of ``--repeat`` calls), accepted optimizer steps, the error, and
pass/fail. A task passes when its error meets the target and *every* call, the first included,
is within the time limit. Torch's import (~1 s) is not counted: the pipeline pays it once.
Data are seeded; with C = 1 µF a cutoff f gives R = 1 / (2π f C).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_T_IMPORT = time.perf_counter()
from designer import learn, learn_opt  # noqa: E402  (imports torch)

IMPORT_SECONDS = time.perf_counter() - _T_IMPORT

C_F = 1e-6
INV_SQRT2 = 1.0 / math.sqrt(2.0)
SEED = 2


def cutoff_for_r(r_ohm: float) -> float:
    """f_c = 1 / (2π R C) with C = 1 µF."""
    return 1.0 / (2.0 * math.pi * r_ohm * C_F)


def rc_mag(kind: str, f: np.ndarray, cutoffs: tuple[float, ...]) -> np.ndarray:
    """|H| of an RC band (BACKGROUND.md §1): LP, HP, or HP(low)·LP(high)."""

    def lp(fc: float) -> np.ndarray:
        return 1.0 / np.sqrt(1.0 + (f / fc) ** 2)

    def hp(fc: float) -> np.ndarray:
        return (f / fc) / np.sqrt(1.0 + (f / fc) ** 2)

    if kind == "lowpass":
        return lp(cutoffs[0])
    if kind == "highpass":
        return hp(cutoffs[0])
    return hp(cutoffs[0]) * lp(cutoffs[1])


def sample_freqs(rng: np.random.Generator, n: int = 1000) -> np.ndarray:
    """n frequencies log-uniform over 1 Hz … 1 MHz, as in the notebook."""
    return np.exp(rng.uniform(0.0, math.log(1e6), n))


@dataclass
class Task:
    name: str
    target: str
    limit_s: float | None
    notebook: str
    run: Callable[[], tuple[Any, float, bool, dict[str, Any]]]  # fit, error, ok, extra


def task_lp_magnitude(noise_db: float) -> Callable[[], tuple[Any, float, bool, dict[str, Any]]]:
    rng = np.random.default_rng(SEED)
    f = sample_freqs(rng)
    v = rc_mag("lowpass", f, (800.0,)) * 10.0 ** (rng.normal(0.0, noise_db, f.size) / 20.0)
    bands = [learn.RcBandTarget("bass", "lowpass", v, (cutoff_for_r(1000.0),))]
    tol = 1e-3 if noise_db == 0 else 1e-2

    def run() -> tuple[Any, float, bool, dict[str, Any]]:
        fit = learn.fit_rc(f, "magnitude", bands)
        err = abs(fit.bands[0].cutoffs_hz[0] / 800.0 - 1.0)
        return fit, err, err < tol, {"cutoff_hz": fit.bands[0].cutoffs_hz[0]}

    return run


def _binary_run(specs: list[tuple[str, str, tuple[float, ...]]], start_r: float):
    rng = np.random.default_rng(SEED)
    f = sample_freqs(rng)
    bands = [
        learn.RcBandTarget(
            name,
            kind,
            (rc_mag(kind, f, cut) > INV_SQRT2).astype(float),
            tuple(cutoff_for_r(start_r) for _ in cut),
        )
        for name, kind, cut in specs
    ]
    true_edges = {
        "lowpass": lambda c: [c[0]],
        "highpass": lambda c: [c[0]],
        "bandpass": lambda c: list(_bp_edges(*c)),
    }

    def run() -> tuple[Any, float, bool, dict[str, Any]]:
        fit = learn.fit_rc(f, "binary", bands)
        ok, worst, extra = True, 0.0, {}
        for (name, kind, cut), b in zip(specs, fit.bands, strict=True):
            for e_true, br in zip(true_edges[kind](cut), b.edge_brackets, strict=True):
                ok &= br.below_hz < br.edge_hz < br.above_hz
                worst = max(worst, abs(br.edge_hz / e_true - 1.0))
            extra[name] = {
                "cutoffs_hz": [round(c, 2) for c in b.cutoffs_hz],
                "edges_hz": [round(e, 2) for e in b.edges_hz],
                "bracket_positions": [round(p, 4) for p in b.bracket_positions],
            }
        return fit, worst, ok, extra

    return run


def _bp_edges(lo: float, hi: float) -> tuple[float, float]:
    """−3 dB edges of HP(lo)·LP(hi): u² + (lo² − hi²)u + lo²hi² = 0 with u = f²."""
    p, q = lo * lo - hi * hi, (lo * hi) ** 2
    r = math.sqrt(p * p - 4.0 * q)
    return math.sqrt((-p - r) / 2.0), math.sqrt((-p + r) / 2.0)


def task_resonator() -> Callable[[], tuple[Any, float, bool, dict[str, Any]]]:
    fs, q, f0 = 8000.0, 0.995, 440.0
    om = 2.0 * math.pi * f0 / fs
    k1, k2 = 2.0 * q * math.cos(om), -q * q
    x = np.zeros(16000)
    x[0] = 0.1
    h = signal.lfilter([1.0], [1.0, -k1, -k2], x).astype(np.float32)  # a float WAV's samples

    def run() -> tuple[Any, float, bool, dict[str, Any]]:
        fit = learn.fit_impulse(h, fs, 2, seed=SEED)
        err = max(abs(fit.feedback[0] / k1 - 1.0), abs(fit.feedback[1] / k2 - 1.0))
        extra = {
            "k1": float(fit.feedback[0]),
            "k2": float(fit.feedback[1]),
            "b0": float(fit.feedforward[0]),
            "input_scale": fit.input_scale,
        }
        return fit, err, err < 1e-6 and bool(np.all(fit.pole_radii < 1)), extra

    return run


def task_butter_iir() -> Callable[[], tuple[Any, float, bool, dict[str, Any]]]:
    fs = 16000.0
    sos = signal.butter(2, [1000.0, 4000.0], "bandpass", fs=fs, output="sos")
    freqs, h = signal.sosfreqz(sos, worN=512, fs=fs)

    def run() -> tuple[Any, float, bool, dict[str, Any]]:
        fit = learn.fit_iir(freqs, np.abs(h), "magnitude", 4, fs, seed=SEED)
        radii = fit.pole_radii
        ok = fit.max_error_db <= 0.1 and bool(np.all(radii < 1.0))
        return fit, fit.max_error_db, ok, {"max_pole_radius": float(radii.max())}

    return run


TASKS = [
    Task(
        "lp_magnitude",
        "cutoff within 0.1 %, <= 0.5 s",
        0.5,
        "0.75 % off, 8.9 s",
        task_lp_magnitude(0.0),
    ),
    Task("lp_magnitude_noisy", "0.5 dB noise: within 1 %", None, "-", task_lp_magnitude(0.5)),
    Task(
        "lp_binary",
        "edge inside the label bracket, <= 0.5 s",
        0.5,
        "2.9 % off, 12.2 s",
        _binary_run([("bass", "lowpass", (800.0,))], 500.0),
    ),
    Task(
        "organ_binary",
        "every edge inside its bracket, <= 1 s",
        1.0,
        "11.5 % off worst, 6.5 s",
        _binary_run(
            [
                ("bass", "lowpass", (800.0,)),
                ("mid", "bandpass", (1000.0, 4000.0)),
                ("treble", "highpass", (5000.0,)),
            ],
            200.0,
        ),
    ),
    Task(
        "resonator_impulse",
        "k1, k2 within 1e-6 relative, <= 1 s",
        1.0,
        "loss 4.39 -> 3.92 after 160 s",
        task_resonator(),
    ),
    Task(
        "butter_bp_iir",
        "<= 0.1 dB where > -20 dB, poles inside, <= 2 s",
        2.0,
        "-",
        task_butter_iir(),
    ),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--repeat", type=int, default=5, help="calls per task (default 5)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads during fits")
    args = ap.parse_args(argv)
    if args.threads is not None:
        learn_opt.FIT_THREADS = args.threads
    results = []
    for task in TASKS:
        times, fit, err, ok, extra = [], None, math.inf, False, {}
        for _ in range(max(args.repeat, 1)):
            t0 = time.perf_counter()
            fit, err, ok, extra = task.run()
            times.append(time.perf_counter() - t0)
        in_time = task.limit_s is None or max(times) <= task.limit_s
        results.append(
            {
                "task": task.name,
                "target": task.target,
                "first_seconds": times[0],
                "median_seconds": statistics.median(times),
                "steps": fit.steps,
                "error": err,
                "pass": bool(ok and in_time),
                "notebook": task.notebook,
                "details": extra,
            }
        )
    if args.json:
        doc = {"threads": learn_opt.FIT_THREADS, "import_seconds": IMPORT_SECONDS, "tasks": results}
        print(json.dumps(doc, indent=2))
    else:
        head = f"{'task':20} {'first s':>8} {'median s':>9} {'steps':>6} {'error':>10}  result"
        print(head)
        print("-" * len(head))
        for r in results:
            print(
                f"{r['task']:20} {r['first_seconds']:8.4f} {r['median_seconds']:9.4f} "
                f"{r['steps']:6d} {r['error']:10.3g}  {'PASS' if r['pass'] else 'FAIL'}"
                f"   target: {r['target']}; notebook: {r['notebook']}"
            )
        for r in results:
            print(f"  {r['task']}: {json.dumps(r['details'])}")
        print(
            f"(import of designer.learn + torch: {IMPORT_SECONDS:.2f} s, not counted; "
            f"torch threads during fits: {learn_opt.FIT_THREADS})"
        )
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
