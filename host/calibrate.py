"""``designer calibrate``: squelch and gain from the noise floor of the board's own microphone.

1. With the room silent, the LEVELS stream is read for a few seconds; per band the noise floor
   is the 95th percentile of its level, as an equivalent sine peak (``host.levels``).
2. ``squelch`` (the absolute gate, a sine peak as a Q15 fraction of full scale) goes
   SQUELCH_MARGIN_DB above the loudest band's floor, so silence lights nothing;
   ``gain`` (the brightness gain used when AGC is off; at 0 dB a full-scale sine reads 255) puts
   full brightness DYNAMIC_RANGE_DB above that floor. Both are SET, then SAVEd (one EEPROM/NVS
   write).
3. A second, shorter listen shows the effect: the share of time each LED was lit in silence
   before and after.
Needs the board's design (its level normalisation); its hash must be the board's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from designer import params as params_mod
from designer.errors import DesignerError

from . import protocol as P
from .board import Board
from .levels import LevelScale, find_design

PERIOD_MS = 20
PERCENTILE = 95.0
SQUELCH_MARGIN_DB = 6.0     # squelch above the loudest band's noise floor
DYNAMIC_RANGE_DB = 40.0     # full brightness this far above the noise floor (AGC off)
AFTER_S = 1.0               # listen again after setting, to report the effect
SETTLE_S = 0.3              # let the smoother follow the new settings before listening


def listen(board: Board, seconds: float) -> tuple[np.ndarray, np.ndarray, int]:
    """LEVELS for ``seconds``: env (frames, bands), led (frames, bands), frames lost."""
    info = board.last_info
    board.start_levels(PERIOD_MS)
    env, led, lost, last = [], [], 0, None
    t_end = time.monotonic() + seconds
    try:
        while time.monotonic() < t_end:
            lv = board.read_levels(max(0.05, min(1.0, t_end - time.monotonic())))
            if lv is None:
                continue
            try:
                out = lv.outputs(info.n_bands, info.value_format)
            except P.PayloadError:
                continue
            if last is not None:
                lost += (lv.counter - last - 1) % 65536
            last = lv.counter
            env.append(out.env[0].astype(float))
            led.append(out.led[0].astype(int))
    finally:
        board.stop_levels()
    if not env:
        raise P.ProtocolError(f"no LEVELS frames from the board in {seconds:.1f} s")
    return np.array(env), np.array(led), lost


def _params(board: Board) -> dict[str, int]:
    return {p.name: board.get(p.id) for p in params_mod.PARAMS}


def _user(name: str, wire: int) -> float:
    return round(params_mod.from_wire(name, wire), 2)


def choose(floor_peak: np.ndarray) -> dict[str, int]:
    """Squelch and gain wire values for per-band noise floors (sine peak, fraction of FS)."""
    loudest = float(max(np.max(floor_peak), 1e-6))
    sq = params_mod.by_name("squelch")
    squelch = int(round(32768 * loudest * 10 ** (SQUELCH_MARGIN_DB / 20)))
    g = params_mod.by_name("gain")
    gain = int(round(256 / (loudest * 10 ** (DYNAMIC_RANGE_DB / 20))))
    return {"squelch": min(max(squelch, sq.min), sq.max), "gain": min(max(gain, g.min), g.max)}


def calibrate(
    board: Board,
    *,
    seconds: float = 3.0,
    design_path: str | Path | None = None,
    save: bool = True,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Measure, set, save; returns the before/after report."""
    info = board.info()
    design = find_design(info, design_path)
    if design is None:
        raise DesignerError(
            "calibrate needs the board's design (its level scale): give its design.json or "
            "config, or run it where firmware/design.json is the board's"
        )
    scale = LevelScale.for_design(design)
    before = _params(board)
    log(f"listening to {seconds:.1f} s of silence on {info.board} ...")
    env, led, lost = listen(board, seconds)
    floor = np.percentile(scale.peak(env), PERCENTILE, axis=0)
    chosen = choose(floor)
    for name, value in chosen.items():
        board.set(params_mod.by_name(name).id, value)
    if save:
        board.save()
    time.sleep(SETTLE_S)
    _, led_after, _ = listen(board, AFTER_S)
    after = _params(board)
    names = list(info.band_names)
    return {
        "board": info.board,
        "design_hash": design.hash,
        "seconds": seconds,
        "frames": int(len(env)),
        "lost_frames": lost,
        "saved": save,
        "bands": [
            {"name": n, "noise_floor_dbfs": round(20 * math.log10(max(float(floor[i]), 1e-9)), 2),
             "led_on_before": round(float((led[:, i] > 0).mean()), 4),
             "led_on_after": round(float((led_after[:, i] > 0).mean()), 4)}
            for i, n in enumerate(names)
        ],
        "before": {k: {"wire": v, "value": _user(k, v)} for k, v in before.items()
                   if k in ("squelch", "gain", "agc")},
        "after": {k: {"wire": v, "value": _user(k, v)} for k, v in after.items()
                  if k in ("squelch", "gain", "agc")},
        "units": {"squelch": "dBFS", "gain": "dB", "agc": "bool"},
    }


def print_calibration(result: dict[str, Any], console: Console) -> None:
    t = Table(title=f"calibration of {result['board']} ({result['frames']} frames of silence)",
              title_justify="left")
    for col in ("band", "noise floor dBFS", "LED lit before", "LED lit after"):
        t.add_column(col, justify="left" if col == "band" else "right")
    for b in result["bands"]:
        t.add_row(b["name"], f"{b['noise_floor_dbfs']:.1f}", f"{100 * b['led_on_before']:.0f} %",
                  f"{100 * b['led_on_after']:.0f} %")
    console.print(t)
    for k in ("squelch", "gain", "agc"):
        u = result["units"][k]
        console.print(f"{k}: {result['before'][k]['value']} -> {result['after'][k]['value']} {u}")
    console.print("saved on the board" if result["saved"] else "not saved")
