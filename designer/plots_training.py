"""Training pictures: loss and cutoffs per step, and loss surfaces with the optimizer's path.

A design keeps only a summary of its training (steps, time, final loss); the histories live in the
fit objects of :mod:`designer.learn`. :func:`training_fits` re-runs the fits of a config (they are
deterministic and take milliseconds) when the caller has no fit objects at hand.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import rc_context

from .plots import FLOAT_COLOR, QUANT_COLOR, STYLE, new_figure, png_bytes

if TYPE_CHECKING:
    from .config import OrganConfig

SURFACE_GRID = 41  # points per axis of a loss surface


def training_fits(cfg: OrganConfig) -> dict[str, Any]:
    """The fit objects of a config's training, by label: ``"rc"`` for the joint fit of every RC
    band with data (:class:`designer.learn.RcFit`), the band name for a single-band fit (IIR,
    impulse, resonator). Empty without ``[training]``."""
    if cfg.training is None:
        return {}
    from .filters import design_filters

    return design_filters(cfg).fits


def _loss_axis(ax: Any, losses: np.ndarray, title: str) -> None:
    steps = np.arange(losses.size)
    ax.plot(steps, losses, "o-", color=FLOAT_COLOR, ms=3, linewidth=1.2)
    if losses.size and np.all(losses > 0):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)


def training_png(fits: dict[str, Any]) -> bytes:
    """One row per fit: loss against the step, and (RC fits) every section cutoff against the
    step on a log axis, with its final value."""
    with rc_context(STYLE):
        fig = new_figure(10.0, 3.2 * len(fits))
        axes = np.atleast_2d(fig.subplots(len(fits), 2))
        for (key, fit), (lax, cax) in zip(fits.items(), axes, strict=True):
            label = "RC bands" if key == "rc" else key
            losses = np.asarray(fit.loss_history, dtype=float)
            kind = getattr(fit, "kind", "")
            # No wall time in the picture: the same config must give the same bytes.
            _loss_axis(lax, losses, f"{label}: loss{f' ({kind})' if kind else ''}, "
                                    f"{fit.steps} steps")
            hist = getattr(fit, "param_history", None)
            if hist is None:
                cax.set_axis_off()
                cax.text(0.5, 0.5, _fit_text(fit), ha="center", va="center",
                         transform=cax.transAxes)
                continue
            steps = np.arange(hist.shape[0])
            for k, name in enumerate(fit.param_names):
                line = cax.plot(steps, hist[:, k], "o-", ms=3, linewidth=1.2,
                                label=f"{name}: {hist[-1, k]:,.1f} Hz")
                cax.axhline(hist[-1, k], color=line[0].get_color(), linewidth=0.6,
                            linestyle=":")
            cax.set_yscale("log")
            cax.set_xlabel("step")
            cax.set_ylabel("section cutoff (Hz)")
            cax.set_title(f"{label}: cutoffs per step")
            cax.legend(loc="best")
        return png_bytes(fig)


def _fit_text(fit: Any) -> str:
    lines = []
    if getattr(fit, "center_hz", None) is not None:
        lines.append(f"centre {fit.center_hz:,.2f} Hz, pole radius {fit.pole_radius:.6f}")
    if getattr(fit, "max_error_db", None) is not None:
        lines.append(f"max error {fit.max_error_db:.3f} dB")
    sos = getattr(fit, "sos", None)
    if sos is not None:
        lines.append(f"{len(sos)} second-order section(s)")
    return "\n".join(lines) or "no parameter history"


def _grid_around(path: np.ndarray, final: float, n: int) -> np.ndarray:
    """Log-spaced cutoffs covering the path and at least ±40 % around the final value."""
    lo = min(float(np.min(path)), final / 1.4)
    hi = max(float(np.max(path)), final * 1.4)
    pad = 0.15 * math.log(hi / lo)
    return np.exp(np.linspace(math.log(lo) - pad, math.log(hi) + pad, n))


def loss_surface_png(fit: Any, band_name: str, n: int = SURFACE_GRID) -> bytes:
    """The loss of an RC fit as a function of one band's section cutoffs (1 → curve, 2 →
    contours), the other bands held at their learned values, with the optimizer's path."""
    finals = [list(b.cutoffs_hz) for b in fit.bands]
    j = next(i for i, b in enumerate(fit.bands) if b.name == band_name)
    path = fit.band_param_history(band_name)

    def loss_at(cutoffs: list[float]) -> float:
        trial = [list(c) for c in finals]
        trial[j] = cutoffs
        return fit.loss_fn(trial)

    with rc_context(STYLE):
        fig = new_figure(7.0, 5.0)
        ax = fig.subplots()
        path_loss = np.array([loss_at(list(p)) for p in path])
        if path.shape[1] == 1:
            grid = _grid_around(path[:, 0], finals[j][0], 4 * n)
            ax.semilogx(grid, [loss_at([g]) for g in grid], color=FLOAT_COLOR,
                        label="loss (other bands at their learned cutoffs)")
            ax.plot(path[:, 0], path_loss, "o-", color=QUANT_COLOR, ms=4, label="optimizer path")
            ax.plot(path[-1, 0], path_loss[-1], "*", color="black", ms=12,
                    label=f"learned: {path[-1, 0]:,.1f} Hz")
            for below, above in fit.bands[j].brackets:
                ax.axvspan(below, above, color="#2ca02c", alpha=0.15,
                           label=f"label bracket {below:,.0f}–{above:,.0f} Hz")
            ax.set_xlabel(f"{band_name} cutoff (Hz)")
            ax.set_ylabel("loss")
        else:
            gx = _grid_around(path[:, 0], finals[j][0], n)
            gy = _grid_around(path[:, 1], finals[j][1], n)
            z = np.array([[loss_at([x, y]) for x in gx] for y in gy])
            ax.grid(False)
            cs = ax.contourf(gx, gy, z, levels=24, cmap="viridis")
            fig.colorbar(cs, ax=ax, label="loss")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.plot(path[:, 0], path[:, 1], "o-", color="white", mec=QUANT_COLOR, ms=4,
                    label="optimizer path")
            ax.plot(path[-1, 0], path[-1, 1], "*", color="black", ms=14,
                    label=f"learned: {path[-1, 0]:,.1f} / {path[-1, 1]:,.1f} Hz")
            ax.set_xlabel(f"{band_name} low section cutoff (Hz)")
            ax.set_ylabel(f"{band_name} high section cutoff (Hz)")
        ax.set_title(f"{band_name}: {fit.kind} loss surface, {path.shape[0] - 1} steps")
        ax.legend(loc="best")
        return png_bytes(fig)


def training_plots(fits: dict[str, Any]) -> dict[str, bytes]:
    """``training.png`` and, per band of an RC fit (one or two parameters each),
    ``loss_<band>.png``."""
    if not fits:
        return {}
    out = {"training.png": training_png(fits)}
    for fit in fits.values():
        if getattr(fit, "loss_fn", None) is None or not hasattr(fit, "band_param_history"):
            continue
        for b in fit.bands:
            out[f"loss_{b.name}.png"] = loss_surface_png(fit, b.name)
    return out
