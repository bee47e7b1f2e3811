"""Firmware generation figures: render time, AVR build time (cold and cached), flash and static RAM
of every Uno/Nano example, against the ATmega328P budgets (16 KB flash, 1 KB static RAM).

    python benchmarks/build_bench.py [--json]

JSON: {"configs": [{"name", "board", "render_s", "build_cold_s", "build_cached_s",
"flash_bytes", "ram_bytes", "ram_estimate_bytes", "cycles_estimate"}]}
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from designer import avrbuild  # noqa: E402
from designer.check import estimate_cycles, estimate_ram  # noqa: E402
from designer.config import load_config  # noqa: E402
from designer.design import make_design  # noqa: E402
from designer.outfiles import write_plan  # noqa: E402
from designer.render import render_project  # noqa: E402


def measure(config: Path, work: Path) -> dict:
    design = make_design(load_config(config))
    t0 = time.perf_counter()
    plan = render_project(design)
    render_s = time.perf_counter() - t0
    out = work / config.stem
    write_plan(plan, out)
    row = {
        "name": config.stem,
        "board": design.board.name,
        "render_s": round(render_s, 4),
        "ram_estimate_bytes": estimate_ram(design)[0],
        "cycles_estimate": round(estimate_cycles(design)[0], 1),
    }
    if design.board.family == "avr" and not avrbuild.toolchain_missing():
        cache = work / "cache"
        t0 = time.perf_counter()
        avrbuild.build(out, cache=cache)
        row["build_cold_s"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        image = avrbuild.build(out, cache=cache)
        row["build_cached_s"] = round(time.perf_counter() - t0, 3)
        row["flash_bytes"], row["ram_bytes"] = image.flash, image.ram
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(p, Path(tmp)) for p in sorted((ROOT / "examples").glob("*.toml"))]
    if args.json:
        print(json.dumps({"configs": rows}, indent=2))
        return 0
    print(f"{'config':<10} {'board':<9} {'render ms':>9} {'build s':>8} {'cached s':>8} "
          f"{'flash B':>8} {'RAM B':>6} {'RAM est':>7} {'cycles est':>10}")
    for r in rows:
        print(f"{r['name']:<10} {r['board']:<9} {1000 * r['render_s']:>9.1f} "
              f"{r.get('build_cold_s', float('nan')):>8.2f} "
              f"{r.get('build_cached_s', float('nan')):>8.3f} {r.get('flash_bytes', '-'):>8} "
              f"{r.get('ram_bytes', '-'):>6} {r['ram_estimate_bytes']:>7} "
              f"{r['cycles_estimate']:>10.0f}")
    print("budgets: flash 16384 B, static RAM 1024 B (uno/nano)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
