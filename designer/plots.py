"""Pictures of a design (PNG, matplotlib's Agg canvas, no pyplot state).

- :func:`bode_png`: one band's magnitude on a log-frequency axis: the analog RC circuit (exact
  resistors and E-series parts), the float digital design and the quantized firmware filter, the
  −3 dB line, section cutoffs and −3 dB edges; below it, quantized minus float in dB.
- :func:`overview_png`: every band's quantized response on one axis.
- :func:`polezero_png`: per band, poles and zeros on the unit circle (float and quantized) and a
  zoom onto the poles, where the quantization moves them.
- :func:`led_table_png`: the LED decision table of BACKGROUND.md §1: tones × bands, what the
  firmware model lights once the tone has settled against what the −3 dB rule wants.
- Training curves and loss surfaces: :mod:`designer.plots_training`; the simulation picture:
  :mod:`designer.plots_sim`.

Same input, same machine → same PNG bytes: no timestamps or software tag in the metadata.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from . import analog, biquad

if TYPE_CHECKING:
    from .design import Design

DPI = 100
HALF_POWER_DB = 20.0 * math.log10(1.0 / math.sqrt(2.0))
#: the notebook's test tones: 300 ... 1500 Hz in 200 Hz steps (BACKGROUND.md §1)
TABLE_FREQS_HZ = tuple(range(300, 1501, 200))
STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 8,
}
OFF_COLOR = "#d9d9d9"
FLOAT_COLOR = "#1f77b4"
QUANT_COLOR = "#d62728"
ANALOG_COLOR = "#7f7f7f"


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure on its own Agg canvas (no pyplot: nothing global, nothing to close)."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes, without the metadata that would differ between runs."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def line_color(color: str) -> str | tuple[float, float, float]:
    """A band's colour, darkened when too light to read as a line on white (yellow, white)."""
    r, g, b = to_rgb(color)
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    if luma <= 0.7:
        return color
    k = 0.7 / luma
    return (r * k, g * k, b * k)


def plot_freqs(design: Design, n: int = 1200) -> np.ndarray:
    """Log-spaced frequencies (Hz) from a decade below the lowest band feature to fs/2."""
    fs = design.sample_rate_hz
    lows = [f for b in design.filters.bands for f in (*b.cutoffs_hz, *b.edges_hz) if f > 0]
    f_lo = min(20.0, 0.1 * min(lows)) if lows else 20.0
    return np.geomspace(f_lo, 0.4999 * fs, n)


def hz_label(f: float) -> str:
    """Three significant digits at least: 82.4, 440, 1,000."""
    return f"{f:,.0f}" if f >= 100 else f"{f:.3g}"


def _db(h: np.ndarray) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(np.abs(h), 1e-15))


def _mark_frequencies(ax: Any, band: Any) -> None:
    """Section cutoffs (dashed) and −3 dB edges (dotted), their values in a box."""
    for f in band.cutoffs_hz:
        ax.axvline(f, color="black", linestyle="--", linewidth=0.8, alpha=0.6)
    for f in band.edges_hz:
        ax.axvline(f, color="black", linestyle=":", linewidth=1.0, alpha=0.8)
    what = "centre" if band.type == "resonator" else "section cutoffs"
    text = f"{what} (dashed): " + " / ".join(f"{f:,.1f}" for f in band.cutoffs_hz) + " Hz"
    if band.edges_hz:
        text += "\n−3 dB edges (dotted): " + " / ".join(f"{f:,.1f}" for f in band.edges_hz)
        text += " Hz"
    ax.text(0.01, 0.98, text, transform=ax.transAxes, va="top", ha="left", fontsize=8,
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "linewidth": 0.5})


def bode_png(design: Design, index: int) -> bytes:
    """Band ``index``: analog (RC bands), float and quantized magnitudes, and their difference."""
    band = design.filters.bands[index]
    qd = design.quantized
    fs = design.sample_rate_hz
    f = plot_freqs(design)
    float_db = biquad.sos_mag_db(band.sos, f, fs)
    quant_db = _db(qd.response(f, include_dc=False, raw=False)[index])
    with rc_context(STYLE):
        fig = new_figure(8.0, 6.0)
        ax, dax = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        if band.filter == "rc" and band.type != "resonator":
            ax.semilogx(f, _db(analog.band_mag(band.type, f, band.cutoffs_hz)),
                        color=ANALOG_COLOR, linewidth=2.5, alpha=0.6,
                        label="analog RC (exact resistors)")
            if band.e_series_cutoffs_hz:
                series = design.config.get("analog", {}).get("e_series", "E-series")
                ax.semilogx(f, _db(analog.band_mag(band.type, f, band.e_series_cutoffs_hz)),
                            color=ANALOG_COLOR, linewidth=1.0, linestyle="-.",
                            label=f"analog RC ({series} parts)")
        ax.semilogx(f, float_db, color=FLOAT_COLOR, linewidth=1.6, label="float digital design")
        ax.semilogx(f, quant_db, color=QUANT_COLOR, linewidth=1.0, linestyle="--",
                    label=f"quantized firmware ({qd.arithmetic})")
        ax.axhline(HALF_POWER_DB, color="black", linewidth=0.8, label="−3 dB: LED threshold")
        _mark_frequencies(ax, band)
        ax.set_ylim(-60, 6)
        ax.set_ylabel("magnitude (dB)")
        ax.set_title(f"{band.name}: {band.type}, {band.filter} — fs = {fs:,.2f} Hz")
        ax.legend(loc="lower center", ncols=2)
        diff = quant_db - float_db
        shown = float_db > -40.0
        dax.semilogx(f[shown], diff[shown], color=QUANT_COLOR, linewidth=1.0)
        dax.axhline(0.0, color="black", linewidth=0.6)
        lim = max(0.05, float(np.max(np.abs(diff[shown]))) * 1.2) if shown.any() else 0.05
        dax.set_ylim(-lim, lim)
        dax.set_ylabel("quantized − float (dB)")
        dax.set_xlabel("frequency (Hz)")
        dax.set_xlim(f[0], f[-1])
        return png_bytes(fig)


def overview_png(design: Design) -> bytes:
    """Every band's quantized response (solid) and float design (thin) on one axis."""
    qd = design.quantized
    f = plot_freqs(design)
    q = qd.response(f, include_dc=False, raw=False)
    with rc_context(STYLE):
        fig = new_figure(8.0, 4.5)
        ax = fig.subplots()
        for i, (band, wire) in enumerate(zip(design.filters.bands, design.wiring, strict=True)):
            c = line_color(wire.color)
            ax.semilogx(f, biquad.sos_mag_db(band.sos, f, design.sample_rate_hz), color=c,
                        linewidth=0.8, alpha=0.6)
            ax.semilogx(f, _db(q[i]), color=c, linewidth=1.8, label=band.name)
        ax.axhline(HALF_POWER_DB, color="black", linewidth=0.8)
        ax.set_ylim(-40, 3)
        ax.set_xlim(f[0], f[-1])
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("magnitude (dB)")
        ax.set_title(f"All bands, quantized ({qd.arithmetic}; thin: float design), "
                     f"{design.board.name} at {design.sample_rate_hz:,.2f} Hz")
        ax.legend(loc="lower right", ncols=min(4, len(design.filters.bands)))
        return png_bytes(fig)


def quantized_sos(design: Design, index: int) -> np.ndarray:
    """Band ``index``'s sections as compiled in, as a real SOS (for poles and zeros)."""
    rows = []
    for s in design.quantized.bands[index].sections:
        b, a = s.coeffs(design.quantized.arithmetic)
        rows.append([b[0], b[1], b[2], 1.0, a[1], a[2]])
    return np.array(rows, dtype=float).reshape(-1, 6)


def _pz(ax: Any, fp: np.ndarray, fz: np.ndarray, qp: np.ndarray, qz: np.ndarray) -> None:
    t = np.linspace(0, 2 * np.pi, 721)
    ax.plot(np.cos(t), np.sin(t), color="black", linewidth=0.7)
    ax.axhline(0, color="black", linewidth=0.4)
    ax.axvline(0, color="black", linewidth=0.4)
    if fz.size:
        ax.plot(fz.real, fz.imag, "o", mfc="none", mec=FLOAT_COLOR, ms=8, label="zeros (float)")
    if qz.size:
        ax.plot(qz.real, qz.imag, "s", mfc="none", mec=QUANT_COLOR, ms=5,
                label="zeros (quantized)")
    ax.plot(fp.real, fp.imag, "x", color=FLOAT_COLOR, ms=9, mew=1.5, label="poles (float)")
    ax.plot(qp.real, qp.imag, "+", color=QUANT_COLOR, ms=9, mew=1.5, label="poles (quantized)")
    ax.set_aspect("equal", adjustable="box")


def polezero_png(design: Design) -> bytes:
    """Per band (row): the whole unit circle, and a zoom on the poles with their displacement."""
    bands = design.filters.bands
    with rc_context(STYLE):
        fig = new_figure(8.0, 3.4 * len(bands))
        axes = np.atleast_2d(fig.subplots(len(bands), 2))
        for i, band in enumerate(bands):
            qsos = quantized_sos(design, i)
            fp, fz = biquad.poles(band.sos), biquad.zeros(band.sos)
            qp, qz = biquad.poles(qsos), biquad.zeros(qsos)
            full, zoom = axes[i]
            _pz(full, fp, fz, qp, qz)
            full.set_xlim(-1.3, 1.3)
            full.set_ylim(-1.3, 1.3)
            full.set_title(f"{band.name}: poles and zeros")
            full.legend(loc="lower left", fontsize=7)
            _pz(zoom, fp, fz, qp, qz)
            # Zoom onto the float pole nearest the unit circle (upper half plane): that is
            # where quantization matters, and a shift of 1e-6 must be visible.
            upper = fp[fp.imag >= -1e-12] if fp.size else fp
            moved = _pole_shift(fp, qp)
            if upper.size:
                p0 = upper[np.argmax(np.abs(upper))]
                half = max(4.0 * moved, 1e-6)
                zoom.set_xlim(p0.real - half, p0.real + half)
                zoom.set_ylim(p0.imag - half, p0.imag + half)
                zoom.ticklabel_format(useOffset=True, style="sci", scilimits=(-3, 3))
            radius = float(np.max(np.abs(qp))) if qp.size else 0.0
            zoom.xaxis.set_major_locator(MaxNLocator(4))
            zoom.set_title(f"zoom: pole shift {moved:.1e}, max |pole| {radius:.6f}")
        return png_bytes(fig)


def _pole_shift(fp: np.ndarray, qp: np.ndarray) -> float:
    """Largest distance from a float pole to the nearest quantized pole."""
    if not fp.size or not qp.size:
        return 0.0
    return float(np.max(np.min(np.abs(fp[:, None] - qp[None, :]), axis=1)))


def near_edge(design: Design, freqs_hz: Sequence[float], tol: float = 0.05) -> np.ndarray:
    """bool (n_freqs, n_bands): the tone lies within ``tol`` (relative) of a −3 dB edge, where
    the decision may go either way (the DSP core's steady-tone rule leaves those out)."""
    f = np.asarray(freqs_hz, dtype=float)[:, None]
    out = np.zeros((f.shape[0], len(design.filters.bands)), dtype=bool)
    for j, band in enumerate(design.filters.bands):
        for e in band.edges_hz:
            out[:, j] |= np.abs(f[:, 0] / e - 1.0) <= tol
    return out


def led_table_png(
    design: Design,
    freqs_hz: Sequence[float],
    predicted: np.ndarray,
    desired: np.ndarray,
    level_dbfs: float = -6.0,
) -> bytes:
    """Rows: per band "predicted" (firmware model) and "desired" (−3 dB rule); one column per
    tone. Lit cells take the band's colour; a mismatch gets a thick red frame, a tone within 5 %
    of the band's edge a "~"."""
    bands = design.filters.bands
    nf, nb = len(freqs_hz), len(bands)
    edge = near_edge(design, freqs_hz)
    with rc_context({**STYLE, "axes.grid": False}):
        fig = new_figure(max(6.0, 1.2 + 0.75 * nf), 1.4 + 0.55 * 2 * nb)
        ax = fig.subplots()
        labels = []
        for j, (band, wire) in enumerate(zip(bands, design.wiring, strict=True)):
            for k, (what, state) in enumerate((("predicted", predicted), ("desired", desired))):
                row = 2 * j + k
                labels.append(f"{band.name} {what}")
                for i in range(nf):
                    on = bool(state[i, j])
                    ax.add_patch(Rectangle((i, row), 1, 1, facecolor=wire.color if on
                                           else OFF_COLOR, edgecolor="white", linewidth=2))
                    r, g, b = to_rgb(wire.color)
                    dark_cell = on and (0.299 * r + 0.587 * g + 0.114 * b) < 0.5
                    text = ("on" if on else "off") + (" ~" if edge[i, j] else "")
                    ax.text(i + 0.5, row + 0.5, text, ha="center", va="center", fontsize=8,
                            color="white" if dark_cell else "black")
            for i in range(nf):
                if bool(predicted[i, j]) != bool(desired[i, j]):
                    ax.add_patch(Rectangle((i + 0.04, 2 * j + 0.04), 0.92, 1.92, fill=False,
                                           edgecolor=QUANT_COLOR, linewidth=2.5))
        ax.set_xlim(0, nf)
        ax.set_ylim(2 * nb, 0)
        ax.set_xticks(np.arange(nf) + 0.5, [hz_label(f) for f in freqs_hz])
        ax.set_yticks(np.arange(2 * nb) + 0.5, labels)
        ax.set_xlabel("tone frequency (Hz)")
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        wrong = int(np.sum(predicted.astype(bool) != desired.astype(bool)))
        ax.set_title(
            f"LED decisions for {level_dbfs:g} dBFS tones after settling: {wrong} "
            f"mismatch{'es' if wrong != 1 else ''}\npredicted = firmware model, desired = design "
            "above −3 dB, ~ = within 5 % of an edge",
            fontsize=9,
        )
        return png_bytes(fig)


def band_centre_hz(band: Any, fs: float) -> float:
    """A frequency well inside a band: the geometric middle of its −3 dB edges (an octave below
    a low-pass edge, above a high-pass edge, capped at 0.45·fs)."""
    edges = band.edges_hz or band.cutoffs_hz
    if band.type == "lowpass":
        return 0.5 * edges[0]
    if band.type == "highpass":
        return min(2.0 * edges[-1], 0.45 * fs)
    if len(edges) >= 2:
        return math.sqrt(edges[0] * edges[-1])
    return band.cutoffs_hz[0]


def table_frequencies(design: Design) -> dict[str, tuple[float, ...]]:
    """The LED tables to draw: the notebook's 300–1500 Hz grid, and one that fits any design:
    each band's centre and the geometric midpoints between neighbouring centres."""
    fs = design.sample_rate_hz
    centres = sorted({round(band_centre_hz(b, fs), 1) for b in design.filters.bands})
    mids = [round(math.sqrt(a * b), 1) for a, b in zip(centres, centres[1:], strict=False)]
    return {
        "led_table": tuple(float(f) for f in TABLE_FREQS_HZ),
        "led_table_bands": tuple(sorted(set(centres) | set(mids))),
    }


def design_plots(design: Design, fits: dict[str, Any] | None = None) -> dict[str, bytes]:
    """Every picture of a design, by file name (``bode_<band>.png``, ``bode_all.png``,
    ``polezero.png``, ``led_table.png``, ``led_table_bands.png``, and with training fits
    ``training.png`` and ``loss_<band>.png``). Runs the firmware model for the LED tables."""
    from . import simulate

    out: dict[str, bytes] = {}
    for i, band in enumerate(design.filters.bands):
        out[f"bode_{band.name}.png"] = bode_png(design, i)
    out["bode_all.png"] = overview_png(design)
    out["polezero.png"] = polezero_png(design)
    for name, freqs in table_frequencies(design).items():
        predicted = simulate.tone_leds(design, freqs)
        desired = simulate.desired_leds(design, freqs)
        out[f"{name}.png"] = led_table_png(design, freqs, predicted, desired)
    if fits:
        from . import plots_training

        out.update(plots_training.training_plots(fits))
    return out
