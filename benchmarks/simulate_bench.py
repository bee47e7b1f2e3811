"""Simulation benchmark: 3 minutes of audio through ``designer simulate``, end to end.

    python benchmarks/simulate_bench.py [--json] [--seconds S]

Writes a seeded music-like WAV (44.1 kHz, 16-bit stereo: kicks, a bass line, hi-hats 15 dB
quieter, chords) into a temporary folder, then times the real command line as a subprocess
(Python start-up, imports, design, WAV reading, resampling, the host C core, JSON out), with and
without ``--plot``, for the classic organ (uno, 19,231 Hz, fixed point; the config designed
afresh, and a built design.json) and msgeq7 (esp32dev, 48 kHz, float32, 7 bands). Target
(issue 7): 3 minutes in ≤ 5 s. The native core is built (and cached) before timing starts;
the first, cold build adds about a second. A second table splits the in-process time by stage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from designer import simulate  # noqa: E402
from designer.datafiles import read_wav  # noqa: E402
from designer.design import load_design  # noqa: E402

FS = 44100
TARGET_S = 5.0


def music(seconds: float, seed: int = 5) -> np.ndarray:
    """A drum loop at 120 bpm with a bass line and chords, peak −1 dBFS, shape (n, 2)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    t = np.arange(n) / FS
    x = np.zeros(n)
    beat = FS // 2
    hat_sos = signal.butter(4, 7000, "highpass", fs=FS, output="sos")
    kick_t = np.arange(int(0.25 * FS)) / FS
    kick = np.sin(2 * np.pi * (50 + 50 * np.exp(-kick_t * 30)) * kick_t) * np.exp(-kick_t * 12)
    hat = signal.sosfilt(hat_sos, rng.standard_normal(int(0.05 * FS))) * np.exp(
        -np.arange(int(0.05 * FS)) / (0.01 * FS))
    hat *= 10 ** (-15 / 20) / np.max(np.abs(hat))
    for start in range(0, n - beat, beat):
        x[start : start + kick.size] += kick[: n - start]
        h = start + beat // 2
        x[h : h + hat.size] += hat[: max(0, n - h)]
    notes = 55.0 * 2 ** (np.array([0, 3, 5, 7]) / 12)
    bar = (t // 2).astype(int) % 4
    x += 0.15 * np.sin(2 * np.pi * notes[bar] * t)
    for k in (1.0, 1.26, 1.5):
        x += 0.04 * np.sin(2 * np.pi * 4 * notes[bar] * k * t)
    x *= 10 ** (-1 / 20) / np.max(np.abs(x))
    return np.stack([x, 0.9 * x], axis=1)


def time_cli(args: list[str]) -> float:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "designer.cli", *args], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"designer {' '.join(args)} failed:\n{res.stderr}")
    return dt


def stages(design_path: Path, wav: Path) -> dict[str, float]:
    """In-process seconds per stage (design already loaded excluded from the total)."""
    out = {}
    t0 = time.perf_counter()
    design = load_design(design_path)
    out["design"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    audio = read_wav(wav)
    out["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    x = simulate.audio_to_core(audio, design.sample_rate_hz, simulate.design_mapping(design))
    out["resample"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim = simulate.run_samples(design, x)
    out["core"] = time.perf_counter() - t0
    out["samples"] = float(x.size)
    out["flashes"] = float(sum(iv.shape[0] for iv in sim.intervals))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--seconds", type=float, default=180.0, help="audio length (default 180)")
    a = ap.parse_args()
    rows, split = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "music.wav"
        wavfile.write(wav, FS, np.round(music(a.seconds) * 32767).astype(np.int16))
        built = Path(tmp) / "design.json"
        built.write_text(load_design(ROOT / "examples" / "classic.toml").to_json())
        cases = [
            ("classic.toml", ROOT / "examples" / "classic.toml"),
            ("classic design.json", built),
            ("msgeq7.toml", ROOT / "examples" / "msgeq7.toml"),
        ]
        for label, path in cases:
            simulate.run_samples(load_design(path), np.zeros(16, np.int16))  # build + cache
            for extra in ([], ["--plot", str(Path(tmp) / "sim.png")]):
                dt = time_cli(["simulate", str(path), str(wav), "--json", *extra])
                rows.append({"design": label, "plot": bool(extra), "seconds": dt,
                             "pass": dt <= TARGET_S})
            split[label] = stages(path, wav)
    if a.json:
        print(json.dumps({"audio_s": a.seconds, "target_s": TARGET_S, "runs": rows,
                          "stages": split}, indent=2))
        return 0
    print(f"designer simulate, {a.seconds:g} s of 44.1 kHz stereo audio, end to end "
          f"(target ≤ {TARGET_S:g} s)")
    print(f"{'design':<22}{'--plot':<8}{'seconds':>9}  result")
    for r in rows:
        print(f"{r['design']:<22}{'yes' if r['plot'] else 'no':<8}{r['seconds']:>9.2f}  "
              f"{'pass' if r['pass'] else 'FAIL'}")
    print()
    print(f"{'in process':<22}{'design':>8}{'read':>8}{'resample':>10}{'core':>8}"
          f"{'Msamples/s':>12}{'flashes':>9}")
    for label, s in split.items():
        print(f"{label:<22}{s['design']:>8.2f}{s['read']:>8.2f}{s['resample']:>10.2f}"
              f"{s['core']:>8.2f}{s['samples'] / s['core'] / 1e6:>12.2f}{s['flashes']:>9.0f}")
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
