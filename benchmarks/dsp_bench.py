"""Host speed of the DSP core: the C core (designer.native) and the Python oracle
(designer.model, one stream and a batch of streams), samples per second per example design.

    python benchmarks/dsp_bench.py [--json] [--seconds S]

Also checks the issue-3 target: 3 minutes of 16 kHz audio (2.88 M samples) through the classic
organ on the host C path in <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from dsp_examples import EXAMPLES, drum_loop  # noqa: E402

from designer import model  # noqa: E402
from designer.native import NativeCore  # noqa: E402
from designer.quantize import quantize  # noqa: E402

TARGET_CLASSIC_S = 2.0


def _rate(fn, n: int, min_time: float) -> float:
    best, spent = 0.0, 0.0
    while spent < min_time:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        spent += dt
        best = max(best, n / dt)
    return best


def bench(seconds: float) -> dict:
    rows = []
    for name, make in EXAMPLES.items():
        fs, bands, ar = make()
        qd = quantize(bands, fs, ar)
        x, *_ = drum_loop(fs, bars=8)
        core = NativeCore(qd)
        one = x[:4000]
        batch = np.resize(x, (256, 2000))
        c_rate = _rate(lambda c=core, v=x: c.process(v), x.size, seconds)
        py1 = _rate(lambda q=qd, v=one: model.run(q, v), one.size, seconds)
        pyb = _rate(lambda q=qd, v=batch: model.run(q, v), batch.size, seconds)
        rows.append({"design": name, "arithmetic": ar, "fs": fs, "bands": qd.n_bands,
                     "sections": qd.n_sections, "c_samples_per_s": c_rate,
                     "model_samples_per_s": py1, "model_batch256_samples_per_s": pyb,
                     "c_realtime_factor": c_rate / fs})
    fs, bands, ar = EXAMPLES["classic"]()
    core = NativeCore(quantize(bands, fs, ar))
    x = np.resize(drum_loop(16000.0, bars=8)[0], 2_880_000)
    t0 = time.perf_counter()
    core.process(x)
    classic_s = time.perf_counter() - t0
    return {"designs": rows, "classic_3min_16k_s": classic_s,
            "classic_3min_target_s": TARGET_CLASSIC_S, "classic_3min_ok": classic_s <= 2.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--seconds", type=float, default=0.5, help="minimum time per measurement")
    args = ap.parse_args()
    res = bench(args.seconds)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"{'design':10} {'arith':6} {'fs':>8} {'bands':>5} {'secs':>4} {'C samples/s':>13} "
          f"{'x realtime':>10} {'model/s':>9} {'model batch/s':>14}")
    for r in res["designs"]:
        print(f"{r['design']:10} {r['arithmetic']:6} {r['fs']:8.0f} {r['bands']:5d} "
              f"{r['sections']:4d} {r['c_samples_per_s']:13.3e} {r['c_realtime_factor']:10.0f} "
              f"{r['model_samples_per_s']:9.0f} {r['model_batch256_samples_per_s']:14.3e}")
    ok = "ok" if res["classic_3min_ok"] else "MISSED"
    print(f"classic organ, 3 min of 16 kHz audio (2.88 M samples): "
          f"{res['classic_3min_16k_s']:.3f} s (target <= {TARGET_CLASSIC_S} s: {ok})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
