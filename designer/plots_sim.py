"""The picture of a simulation: waveform, band levels, and an LED timeline in each band's colour."""

from __future__ import annotations

import numpy as np
from matplotlib import rc_context

from .plots import OFF_COLOR, STYLE, line_color, new_figure, png_bytes
from .simulate import Simulation

LEVEL_FLOOR_DB = -72.0
WAVE_COLUMNS = 1000


def simulation_png(sim: Simulation, title: str | None = None) -> bytes:
    """Three panels on one time axis: the input as the core saw it (min/max per column, full
    scale ±1), each band's level (the core's envelope, see :func:`simulate.env_to_dbfs`), and one
    strip per band, lit where the firmware's LED is on."""
    names = sim.band_names
    nb = len(names)
    t_end = sim.duration_s
    with rc_context(STYLE):
        fig = new_figure(11.0, 5.5 + 0.35 * nb)
        wax, lax, sax = fig.subplots(3, 1, sharex=True, height_ratios=[2, 3, 0.5 + 0.35 * nb])
        t = np.append(sim.trace_t, t_end)
        # The waveform at about a quarter of the trace resolution, so that a low tone's
        # min/max envelope reads as a solid band.
        idx = np.arange(0, sim.trace_t.size, max(1, -(-sim.trace_t.size // WAVE_COLUMNS)))
        tw = np.append(sim.trace_t[idx], t_end)
        wmin = np.minimum.reduceat(sim.trace_min, idx)
        wmax = np.maximum.reduceat(sim.trace_max, idx)
        wax.fill_between(tw, np.append(wmin, wmin[-1]), np.append(wmax, wmax[-1]), step="post",
                         color="#555555", linewidth=0)
        wax.set_ylim(-1.05, 1.05)
        wax.set_ylabel("input (full scale)")
        wax.set_title(title or f"{sim.source.get('file', 'audio')}: {t_end:,.2f} s at "
                               f"{sim.sample_rate_hz:,.2f} Hz")
        for b, (name, color) in enumerate(zip(names, sim.colors, strict=True)):
            lvl = np.maximum(sim.trace_level_dbfs[:, b], LEVEL_FLOOR_DB)
            lax.step(t, np.append(lvl, lvl[-1]), where="post", color=line_color(color),
                     linewidth=1.0, label=name)
        lax.set_ylim(LEVEL_FLOOR_DB, 3.0)
        lax.set_ylabel("band envelope (dBFS)")
        lax.legend(loc="upper right", ncols=min(nb, 6))
        for b, color in enumerate(sim.colors):
            row = nb - 1 - b
            sax.broken_barh([(0.0, t_end)], (row + 0.1, 0.8), facecolors=OFF_COLOR)
            iv = sim.intervals[b]
            if iv.size:
                spans = [(a / sim.sample_rate_hz, (e - a) / sim.sample_rate_hz)
                         for a, e in iv.tolist()]
                sax.broken_barh(spans, (row + 0.1, 0.8), facecolors=color,
                                edgecolors=line_color(color), linewidth=0.3)
        sax.set_yticks(np.arange(nb) + 0.5, list(reversed(names)))
        sax.set_ylim(0, nb)
        sax.grid(False)
        sax.set_xlim(0.0, t_end)
        sax.set_xlabel("time (s)")
        sax.set_ylabel("LED")
        return png_bytes(fig)
