"""Fuzz the firmware's frame parser and command handler, and measure what the fuzzer reached.

Builds tests/fuzz/fuzz_link.c over the REAL application (organ_app.c + the DSP core + the classic
organ's tables, through tests/link_c/organ_app_adapter.c) with libFuzzer, ASan, UBSan and clang's
source-based coverage; fuzzes for --seconds from the seed corpus; then prints executions, crashes
and the line and branch coverage of each firmware source file (llvm-profdata / llvm-cov).

    python benchmarks/fuzz_coverage.py [--seconds 60] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fuzz import make_corpus  # noqa: E402

from designer import ctables  # noqa: E402
from designer.config import load_config  # noqa: E402
from designer.design import make_design  # noqa: E402
from designer.render import rendered_sources  # noqa: E402

LIB = ROOT / "firmware_templates" / "lib"
SOURCES = {
    "organ_link.c": LIB / "organ_link" / "organ_link.c",
    "organ_store.c": LIB / "organ_link" / "organ_store.c",
    "organ_app.c": LIB / "organ_app" / "organ_app.c",
    "organ_dsp.c": LIB / "organ_dsp" / "organ_dsp.c",
}


def build(work: Path) -> Path:
    """The instrumented fuzzer for the classic organ on AVR-sized link buffers."""
    design = make_design(load_config(ROOT / "examples" / "classic.toml"))
    inc = work / "include"
    inc.mkdir()
    (inc / "organ_design.h").write_text(rendered_sources(design)["include/organ_design.h"])
    macros = [f"-D{k}={v}" for k, v in ctables.design_macros(design.quantized).items()]
    exe = work / "fuzz_app"
    cmd = [
        "clang", "-std=c99", "-g", "-O1",
        "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
        "-fprofile-instr-generate", "-fcoverage-mapping",
        "-DORGAN_LINK_RX_MAX=136u", "-DORGAN_LINK_TX_MAX=64u", *macros,
        *(f"-I{d}" for d in (LIB / "organ_link", LIB / "organ_app", LIB / "organ_dsp", inc,
                              ROOT / "tests" / "link_c")),
        str(ROOT / "tests" / "fuzz" / "fuzz_link.c"),
        str(ROOT / "tests" / "link_c" / "organ_app_adapter.c"),
        *map(str, SOURCES.values()), "-lm", "-o", str(exe),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


def fuzz(exe: Path, work: Path, seconds: int) -> dict:
    seeds, corpus = work / "seeds", work / "corpus"
    make_corpus.write(seeds)
    corpus.mkdir()
    env = dict(os.environ, LLVM_PROFILE_FILE=str(work / "fuzz-%p.profraw"))
    r = subprocess.run(
        [str(exe), f"-max_total_time={seconds}", "-max_len=1024", "-timeout=10",
         "-print_final_stats=1", f"-artifact_prefix={work}/", str(corpus), str(seeds)],
        capture_output=True, text=True, env=env, timeout=seconds + 300,
    )
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    crashes = sorted(p.name for p in work.iterdir() if p.name.startswith(("crash-", "leak-")))
    # Replay the final corpus once so the profile covers everything the fuzzer kept.
    subprocess.run([str(exe), "-runs=0", str(corpus), str(seeds)], capture_output=True,
                   env=env, timeout=600)
    return {
        "seconds": seconds,
        "executions": int(runs.group(1)) if runs else 0,
        "corpus_inputs": len(list(corpus.iterdir())),
        "crashes": crashes,
        "exit_code": r.returncode,
    }


def coverage(exe: Path, work: Path) -> dict[str, dict[str, float]]:
    profdata = work / "fuzz.profdata"
    raws = [str(p) for p in work.glob("*.profraw")]
    subprocess.run(["llvm-profdata", "merge", "-sparse", *raws, "-o", str(profdata)],
                   check=True, capture_output=True)
    report = subprocess.run(
        ["llvm-cov", "report", str(exe), f"-instr-profile={profdata}",
         *map(str, SOURCES.values())],
        check=True, capture_output=True, text=True,
    ).stdout
    out = {}
    for line in report.splitlines():
        parts = line.split()
        name = Path(parts[0]).name if parts else ""
        if name in SOURCES:
            pct = [float(p.rstrip("%")) for p in parts if p.endswith("%")]
            # columns: regions, functions, lines, branches (each with a percentage)
            out[name] = {"regions": pct[0], "functions": pct[1], "lines": pct[2],
                         "branches": pct[3] if len(pct) > 3 else float("nan")}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exe = build(work)
        stats = fuzz(exe, work, args.seconds)
        cov = coverage(exe, work)
    doc = {"fuzz": stats, "coverage": cov}
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"real application (classic organ, AVR buffers): {stats['executions']:,} "
              f"executions in {stats['seconds']} s, {stats['corpus_inputs']} corpus inputs, "
              f"crashes: {stats['crashes'] or 'none'}")
        print(f"{'file':<16}{'lines':>8}{'branches':>10}{'functions':>11}")
        for name, c in cov.items():
            print(f"{name:<16}{c['lines']:>7.1f}%{c['branches']:>9.1f}%{c['functions']:>10.1f}%")
    return 0 if stats["exit_code"] == 0 and not stats["crashes"] else 1


if __name__ == "__main__":
    sys.exit(main())
