"""``designer monitor``: live per-band level bars from a board's LEVELS stream.

Per band: the level (equivalent sine peak in dBFS when the board's design is known, see
``host.levels``) and the LED brightness the board drives; above them the gain, AGC and squelch
settings, the board's overrun counter and lost LEVELS frames. ``--seconds`` stops after that long
(else Ctrl-C); ``--png`` saves the levels and LEDs over time as a picture at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from designer import params as params_mod

from . import protocol as P
from .board import Board
from .levels import LevelScale, find_design

PERIOD_MS = 50           # LEVELS period
REFRESH_S = 0.1          # screen refresh
BAR_WIDTH = 32
BAR_FLOOR_DB = -72.0     # an empty bar
FRAME_TIMEOUT = 1.0      # no LEVELS frame for this long: the board stopped streaming


@dataclass
class LevelHistory:
    """What the stream showed: time (s), env and LED per frame, counters."""

    t: list[float] = field(default_factory=list)
    env: list[np.ndarray] = field(default_factory=list)
    led: list[np.ndarray] = field(default_factory=list)
    frames: int = 0
    lost_frames: int = 0
    overruns: int = 0
    _last_counter: int | None = None

    def add(self, t: float, lv: P.Levels, outs: P.BandOutputs) -> None:
        if self._last_counter is not None:
            self.lost_frames += (lv.counter - self._last_counter - 1) % 65536
        self._last_counter = lv.counter
        self.frames += 1
        self.overruns = lv.overruns
        self.t.append(t)
        self.env.append(outs.env[0].astype(float))
        self.led.append(outs.led[0].astype(int))


def _settings(board: Board) -> dict[str, float]:
    out = {}
    for name in ("gain", "agc", "squelch"):
        try:
            out[name] = params_mod.from_wire(name, board.get(params_mod.by_name(name).id))
        except P.DeviceError:
            pass
    return out


def _bar(fraction: float, style: str) -> Text:
    n = int(round(max(0.0, min(1.0, fraction)) * BAR_WIDTH))
    return Text("█" * n + "·" * (BAR_WIDTH - n), style=style)


def render(info: P.Info, names: tuple[str, ...], scale: LevelScale, settings: dict[str, float],
           hist: LevelHistory, link_errors: int) -> Group:
    """The screen: a header line and one row per band."""
    gain = "AGC" if settings.get("agc") else f"{settings.get('gain', float('nan')):+.1f} dB"
    head = Text(
        f"{info.board} @ {info.fs_hz:.0f} Hz   gain {gain}   squelch "
        f"{settings.get('squelch', float('nan')):.1f} dBFS   overruns {hist.overruns}   "
        f"frames {hist.frames} (lost {hist.lost_frames}, bad {link_errors})"
    )
    t = Table(box=None, pad_edge=False)
    for col in ("band", f"level ({scale.unit})", "", "LED", ""):
        t.add_column(col)
    if hist.env:
        db = scale.dbfs(hist.env[-1][None, :])[0]
        led = hist.led[-1]
        for i, name in enumerate(names):
            frac = (db[i] - BAR_FLOOR_DB) / -BAR_FLOOR_DB
            t.add_row(name, _bar(frac, "cyan"), f"{db[i]:6.1f}",
                      _bar(led[i] / 255, "yellow" if led[i] else "dim"), f"{led[i]:3d}")
    return Group(head, t)


def monitor(
    board: Board,
    *,
    seconds: float | None = None,
    png: str | Path | None = None,
    console: Console | None = None,
    design_path: str | Path | None = None,
    period_ms: int = PERIOD_MS,
) -> dict[str, Any]:
    """Show the LEVELS stream until ``seconds`` pass (or Ctrl-C); returns a summary."""
    console = console or Console()
    info = board.info()
    design = find_design(info, design_path)
    scale = LevelScale.for_design(design) if design else LevelScale.raw(info)
    names = tuple(info.band_names)
    settings = _settings(board)
    hist = LevelHistory()
    t0 = time.monotonic()
    board.start_levels(period_ms)
    try:
        with Live(render(info, names, scale, settings, hist, 0), console=console,
                  auto_refresh=False, transient=False) as live:
            shown = 0.0
            while seconds is None or time.monotonic() - t0 < seconds:
                wait = FRAME_TIMEOUT if seconds is None else min(
                    FRAME_TIMEOUT, max(0.0, seconds - (time.monotonic() - t0)) + 0.05)
                lv = board.read_levels(wait)
                now = time.monotonic() - t0
                if lv is None:
                    if seconds is not None and now >= seconds:
                        break
                    raise P.ProtocolError(f"no LEVELS frame for {FRAME_TIMEOUT} s")
                try:
                    outs = lv.outputs(info.n_bands, info.value_format)
                except P.PayloadError:
                    board.link_errors += 1
                    continue
                hist.add(now, lv, outs)
                if now - shown >= REFRESH_S:
                    live.update(render(info, names, scale, settings, hist, board.link_errors),
                                refresh=True)
                    shown = now
            live.update(render(info, names, scale, settings, hist, board.link_errors),
                        refresh=True)
    finally:
        try:
            board.stop_levels()
        except P.ProtocolError:
            pass
    if png:
        save_png(hist, names, scale, png)
    return summary(hist, names, scale)


def summary(hist: LevelHistory, names: tuple[str, ...], scale: LevelScale) -> dict[str, Any]:
    env = np.array(hist.env) if hist.env else np.zeros((0, len(names)))
    led = np.array(hist.led) if hist.led else np.zeros((0, len(names)), int)
    db = scale.dbfs(env) if len(env) else env
    return {
        "frames": hist.frames, "lost_frames": hist.lost_frames, "overruns": hist.overruns,
        "unit": scale.unit,
        "bands": [
            {"name": n,
             "max_level_db": float(db[:, i].max()) if len(db) else None,
             "median_level_db": float(np.median(db[:, i])) if len(db) else None,
             "led_on_fraction": float((led[:, i] > 0).mean()) if len(led) else 0.0}
            for i, n in enumerate(names)
        ],
    }


def save_png(hist: LevelHistory, names: tuple[str, ...], scale: LevelScale,
             path: str | Path) -> None:
    """Levels (top) and LED brightness (bottom) of every band over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.array(hist.t)
    env = np.array(hist.env) if hist.env else np.zeros((0, len(names)))
    led = np.array(hist.led) if hist.led else np.zeros((0, len(names)))
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    for i, name in enumerate(names):
        if len(t):
            a1.plot(t, scale.dbfs(env)[:, i], label=name)
            a2.plot(t, led[:, i], label=name)
    a1.set_ylabel(f"level ({scale.unit})")
    a1.set_ylim(BAR_FLOOR_DB, 3)
    a1.legend(loc="upper right", fontsize="small", ncol=min(len(names), 4))
    a2.set_ylabel("LED (0..255)")
    a2.set_xlabel("time (s)")
    a2.set_ylim(-5, 260)
    fig.suptitle(f"band levels: {hist.frames} frames, {hist.lost_frames} lost, "
                 f"{hist.overruns} overruns")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
