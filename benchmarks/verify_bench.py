"""Host tool figures: ``designer verify --sim native`` wall time, PROCESS throughput on the native
link, and verify under link faults.

    python benchmarks/verify_bench.py [--json] [--faults]

* verify: the whole command as a user runs it (``designer verify --sim native CONFIG``: Python
  start, design, simulated board start, every stage, shutdown), on the classic organ (target
  <= 10 s) and the other examples; the simulated board's executable is built first (cached), so
  the figure is a warm run;
* process: samples/s of back-to-back PROCESS round trips (123-sample blocks, one in flight) on a
  native board's pty (target >= 50,000), for the classic organ (3 bands int16) and msgeq7
  (7 bands float32);
* faults (with --faults): verify of the classic organ through host/faultproxy.py with random
  byte drops and bit flips at 1e-3 per byte (each 5e-4, both directions), garbage bursts, and
  two disconnects: wall time, faults survived, samples lost, verdict.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from designer.design import load_design  # noqa: E402
from host.board import Board, Timeouts  # noqa: E402
from host.faultproxy import FaultProxy  # noqa: E402
from host.simboard import build_for_design, start_simulated_board  # noqa: E402
from host.verify import verify  # noqa: E402

EXAMPLES = ("classic", "learned", "resonator", "msgeq7")
VERIFY_TARGET_S = 10.0
PROCESS_TARGET = 50000


def verify_wall(name: str) -> dict:
    config = ROOT / "examples" / f"{name}.toml"
    build_for_design(load_design(config))  # warm the executable cache
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "designer.cli", "verify", "--sim", "native",
                        str(config), "--json"], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    doc = json.loads(r.stdout) if r.stdout.strip() else {}
    return {"example": name, "exit_code": r.returncode, "wall_s": round(wall, 2),
            "stages_s": doc.get("seconds"), "ok": doc.get("ok")}


def process_rate(name: str, seconds: float = 2.0) -> dict:
    d = load_design(ROOT / "examples" / f"{name}.toml")
    with start_simulated_board("native", d) as sim, Board.open(sim.port) as b:
        info = b.info()
        x = np.random.default_rng(0).integers(-20000, 20000, info.max_samples).astype(np.int16)
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < seconds:
            b.process(x, from_reset=n == 0)
            n += len(x)
        rate = n / (time.perf_counter() - t)
    return {"example": name, "bands": info.n_bands, "value_format": info.value_format,
            "samples_per_s": round(rate)}


def faults_run() -> dict:
    d = load_design(ROOT / "examples" / "classic.toml")
    to = Timeouts(reply=0.05, frame_gap=0.03)
    with start_simulated_board("native", d) as sim, FaultProxy(sim.port, seed=1) as px:
        connect = lambda: Board.open(px.url, timeouts=to)  # noqa: E731
        px.set_random(drop=5e-4, flip=5e-4)
        px.burst_every, px.burst_len = 0.25, 32
        px.at_frame(3000, px.disconnect)
        px.at_frame(20000, px.disconnect)
        t = time.perf_counter()
        with connect() as b:
            report = verify(b, d, connect=connect)
        wall = time.perf_counter() - t
    return {"wall_s": round(wall, 1), "ok": report["ok"], "faults": report["link"]["faults"],
            "reconnects": report["link"]["reconnects"],
            "lost_samples": report["link"]["lost_samples"],
            "bit_exact_samples": report["bit_exact"]["samples"],
            "proxy": {k: v for k, v in px.counts.items() if k != "frames"}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--faults", action="store_true", help="also verify through a faulty link")
    args = ap.parse_args()
    doc = {"verify": [verify_wall(n) for n in EXAMPLES],
           "process": [process_rate(n) for n in ("classic", "msgeq7")]}
    if args.faults:
        doc["faults"] = faults_run()
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"designer verify --sim native (warm; target <= {VERIFY_TARGET_S:.0f} s on classic)")
    for v in doc["verify"]:
        print(f"  {v['example']:10s} wall {v['wall_s']:6.2f} s   stages {v['stages_s']} s   "
              f"exit {v['exit_code']}   ok {v['ok']}")
    print(f"PROCESS round trips on the native link (target >= {PROCESS_TARGET} samples/s)")
    for p in doc["process"]:
        fmt = "float32" if p["value_format"] else "int16"
        print(f"  {p['example']:10s} {p['bands']} bands {fmt:8s} {p['samples_per_s']:>10,} "
              "samples/s")
    if args.faults:
        f = doc["faults"]
        print("verify through faults (1e-3 drops+flips, bursts, 2 disconnects): "
              f"{f['wall_s']} s, ok {f['ok']}, faults {f['faults']}, reconnects "
              f"{f['reconnects']}, samples lost {f['lost_samples']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
