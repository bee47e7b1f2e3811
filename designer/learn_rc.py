"""Learning the section cutoffs of RC bands (low-pass, high-pass, RC band-pass) in torch.

Parametrisation is scale-free: every parameter is a natural log of a frequency in Hz, so a step
of 0.1 means "10 % higher" whatever the band. All bands of a fit are learned together, full batch,
float64, by second-order methods (:mod:`designer.learn_opt`).

- ``magnitude`` / ``db`` data: least squares on |H| (linear) or on 20·log10|H|, parameters the
  log section cutoffs, Levenberg–Marquardt.
- ``binary`` data (LED on = |H| > 1/√2): the parameters are the band's log −3 dB *edges* (one
  for LP/HP, two for a band-pass). Section cutoffs follow in closed form
  (:func:`cutoffs_from_edges`), so the band-pass always reaches −3 dB during training, even from
  a start where it does not. The loss is an unbiased max-margin loss on a log-frequency axis,
  see :mod:`designer.learn_binary`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from .errors import DesignerError
from .learn_opt import DTYPE, Trace, levenberg_marquardt, torch_threads

BandType = Literal["lowpass", "highpass", "bandpass"]
RcKind = Literal["magnitude", "db", "binary"]

DB_PER_NEPER = 20.0 / math.log(10.0)  # dB per unit of ln|H|
HALF_POWER_DB = 10.0 * math.log10(0.5)  # −3.0103 dB, the LED threshold |H| = 1/√2
N_CUTOFFS = {"lowpass": 1, "highpass": 1, "bandpass": 2}
# ln(1 + √2): a band-pass whose section cutoffs are closer than this ratio never reaches −3 dB.
LN_MIN_BP_RATIO = math.asinh(1.0)


class BandDataError(DesignerError):
    """Data that cannot train one band: ``band`` names it, ``detail`` says why. The text reads
    ``band 'bass': <detail>``; the designer reports it as a problem of the data file's column."""

    def __init__(self, band: str, detail: str):
        self.band = band
        self.detail = detail
        super().__init__(f"band {band!r}: {detail}")


@dataclass(frozen=True)
class RcBandTarget:
    """One RC band to learn.

    ``values`` has one entry per frequency: linear magnitude, dB, or a 0/1 LED label, by the
    fit's ``kind``. ``init_cutoffs_hz`` are the section cutoffs to start from (``[f]`` for LP/HP,
    ``[low, high]`` for a band-pass), or None to estimate them from the data.
    """

    name: str
    type: BandType
    values: np.ndarray
    init_cutoffs_hz: tuple[float, ...] | None = None


@dataclass(frozen=True)
class EdgeBracket:
    """The label bracket around one learned −3 dB edge (binary data), frequencies in Hz.

    ``below_hz``/``above_hz`` are the neighbouring samples the labels pin the edge between (for a
    low-pass: the highest "on" and the lowest "off" frequency). ``position`` is where the edge
    sits on a log axis: 0 at ``below_hz``, 1 at ``above_hz``, 0.5 in the middle (max margin).
    Labels that contradict the rest (see :attr:`RcBandFit.misclassified`) are left out first.
    """

    edge_hz: float
    below_hz: float
    above_hz: float
    position: float


@dataclass(frozen=True)
class RcBandFit:
    """One learned band: section cutoffs and −3 dB edges in Hz (edges empty if it never reaches
    −3 dB).

    Binary fits add one :class:`EdgeBracket` per edge and ``misclassified``: how many labels the
    learned band disagrees with. It is 0 for consistent labels; otherwise it is the fewest any
    band of this type gets wrong, and those labels were left out of the margin (more than 10 %
    is refused as data that do not describe such a band).
    """

    name: str
    type: BandType
    cutoffs_hz: tuple[float, ...]
    edges_hz: tuple[float, ...]
    edge_brackets: tuple[EdgeBracket, ...] = ()
    misclassified: int | None = None

    @property
    def brackets(self) -> tuple[tuple[float, float], ...]:
        """``(below_hz, above_hz)`` per edge (binary fits; empty otherwise)."""
        return tuple((b.below_hz, b.above_hz) for b in self.edge_brackets)

    @property
    def bracket_positions(self) -> tuple[float, ...]:
        """Where each edge sits in its bracket on a log axis (0.5 = the middle)."""
        return tuple(b.position for b in self.edge_brackets)


@dataclass(frozen=True, eq=False)
class RcFit:
    """Result of :func:`fit_rc`.

    ``loss_history[i]`` is the loss at ``param_history[i]`` (row 0: the start; ``steps`` accepted
    steps after it). ``param_history`` holds the section cutoffs in Hz, one column per
    ``param_names`` entry (``bass``, ``mid.low``, ``mid.high``, ...). ``loss_fn`` evaluates the same
    loss at any cutoffs (one tuple per band, in Hz), e.g. to draw a loss surface. Losses: mean
    squared error of |H| (``magnitude``) or of dB (``db``); the margin loss in log-frequency
    units at its final temperature (``binary``).
    """

    kind: RcKind
    bands: tuple[RcBandFit, ...]
    steps: int
    seconds: float
    loss_history: np.ndarray
    param_history: np.ndarray
    param_names: tuple[str, ...]
    loss_fn: Callable[[Sequence[Sequence[float]]], float]

    def band(self, name: str) -> RcBandFit:
        """The fit of the band called ``name``."""
        for b in self.bands:
            if b.name == name:
                return b
        raise KeyError(name)

    def band_param_history(self, name: str) -> np.ndarray:
        """Section cutoffs (Hz) of one band per step, shape (steps + 1, 1 or 2)."""
        cols = [i for i, p in enumerate(self.param_names) if p.split(".")[0] == name]
        if not cols:
            raise KeyError(name)
        return self.param_history[:, cols]


# ---------------------------------------------------------------- RC magnitudes (torch, log f)


def log_mag(band_type: str, z: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """ln|H| of an RC band at z = ln f, with theta the ln section cutoffs (BACKGROUND.md §1).

    Low-pass |H|² = 1/(1 + (f/fc)²) = 1/(1 + e^{2(z−θ)}), computed with softplus so it stays
    exact far into the stop band; high-pass is its mirror; band-pass = high-pass · low-pass.
    """

    def sp(x: torch.Tensor) -> torch.Tensor:  # log(1 + e^x); F.softplus rounds off past x = 20
        return torch.logaddexp(x, torch.zeros_like(x))

    if band_type == "lowpass":
        return -0.5 * sp(2.0 * (z - theta[0]))
    if band_type == "highpass":
        return -0.5 * sp(-2.0 * (z - theta[0]))
    return -0.5 * sp(-2.0 * (z - theta[0])) - 0.5 * sp(2.0 * (z - theta[1]))


def edges_from_cutoffs(band_type: str, log_cutoffs: np.ndarray) -> np.ndarray:
    """ln of the −3 dB edges from ln section cutoffs (closed form).

    For a band-pass with centre m = (ln lo + ln hi)/2 and half log-ratio h, the edges are
    m ± d with cosh 2d = sinh 2h. Below the ratio 1 + √2 the band never reaches −3 dB; both
    "edges" are then put at the centre (d = 0), which keeps the map continuous.
    """
    x = np.asarray(log_cutoffs, dtype=float)
    if band_type != "bandpass":
        return x[:1].copy()
    m, h = 0.5 * (x[0] + x[1]), 0.5 * (x[1] - x[0])
    s = math.sinh(2.0 * h)
    d = 0.5 * math.acosh(s) if s > 1.0 else 0.0
    return np.array([m - d, m + d])


def cutoffs_from_edges(band_type: str, log_edges: np.ndarray) -> np.ndarray:
    """Inverse of :func:`edges_from_cutoffs`: ln section cutoffs = m ± asinh(cosh 2d)/2.

    Symmetric in the two edges, so edges that cross during training still map to a valid band.
    """
    e = np.asarray(log_edges, dtype=float)
    if band_type != "bandpass":
        return e[:1].copy()
    m, d = 0.5 * (e[0] + e[1]), 0.5 * abs(e[1] - e[0])
    half = 0.5 * math.asinh(math.cosh(2.0 * d))
    return np.array([m - half, m + half])


# ---------------------------------------------------------------- validation and start values


def _as_1d(name: str, values: object) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DesignerError(f"{name}: not numeric ({exc})") from None
    if arr.ndim != 1:
        raise DesignerError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    return arr


def validate(
    freqs_hz: np.ndarray, kind: str, bands: Sequence[RcBandTarget]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Check the inputs of :func:`fit_rc`; returns ln f and one float array per band."""
    if kind not in ("magnitude", "db", "binary"):
        raise DesignerError(f"kind must be magnitude, db or binary, got {kind!r}")
    f = _as_1d("frequencies", freqs_hz)
    if f.size < 3:
        raise DesignerError(f"frequencies: need at least 3 samples, got {f.size}")
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise DesignerError("frequencies: every frequency must be finite and > 0 Hz")
    if not bands:
        raise DesignerError("no bands to learn")
    names = [b.name for b in bands]
    if len(set(names)) != len(names):
        raise DesignerError(f"band names must be unique, got {names}")
    out = [_validate_band(b, f.size, kind) for b in bands]
    return np.log(f), out


def _validate_band(b: RcBandTarget, n_freqs: int, kind: str) -> np.ndarray:
    """One band's values as a float array; BandDataError naming the band otherwise."""
    if b.type not in N_CUTOFFS:
        raise BandDataError(b.name, f"type must be lowpass, highpass or bandpass, got {b.type!r}")
    try:
        v = _as_1d("values", b.values)
    except DesignerError as e:
        raise BandDataError(b.name, str(e)) from None
    if v.size != n_freqs:
        raise BandDataError(b.name, f"{v.size} values for {n_freqs} frequencies")
    if not np.all(np.isfinite(v)):
        raise BandDataError(b.name, "values must be finite (found NaN or inf)")
    if kind == "magnitude" and np.any(v < 0):
        raise BandDataError(b.name, f"magnitudes must be >= 0, got {v.min():g}")
    if kind == "magnitude" and not np.any(v > 0):
        raise BandDataError(b.name, "every magnitude is 0")
    if kind == "binary" and not np.all((v == 0) | (v == 1)):
        bad = v[(v != 0) & (v != 1)][0]
        raise BandDataError(b.name, f"binary labels must be 0 or 1, got {bad:g}")
    init = b.init_cutoffs_hz
    if init is not None:
        n = N_CUTOFFS[b.type]
        if len(init) != n or not all(math.isfinite(c) and c > 0 for c in init):
            raise BandDataError(
                b.name, f"init_cutoffs_hz must be {n} positive frequencies, got {init}"
            )
    return v


def _crossings(z: np.ndarray, db: np.ndarray) -> tuple[float | None, float | None]:
    """First upward and last downward −3 dB crossing of sampled data (ln f, by interpolation)."""
    order = np.argsort(z)
    zs, ds = z[order], db[order] - HALF_POWER_DB
    above = ds > 0
    up = np.nonzero(~above[:-1] & above[1:])[0]
    down = np.nonzero(above[:-1] & ~above[1:])[0]

    def interp(i: int) -> float:
        t = ds[i] / (ds[i] - ds[i + 1])
        return float(zs[i] + t * (zs[i + 1] - zs[i]))

    return (interp(up[0]) if up.size else None, interp(down[-1]) if down.size else None)


def estimate_log_cutoffs(band_type: str, z: np.ndarray, db: np.ndarray) -> np.ndarray:
    """A start from magnitude data alone: where the data crosses −3 dB, else the range's ends."""
    up, down = _crossings(z, db)
    lo, hi = float(z.min()), float(z.max())
    if band_type == "lowpass":
        return np.array([down if down is not None else (hi if db[np.argmax(z)] > 0 else lo)])
    if band_type == "highpass":
        return np.array([up if up is not None else (lo if db[np.argmin(z)] > 0 else hi)])
    if up is not None and down is not None and down > up:
        return cutoffs_from_edges("bandpass", np.array([up, down]))
    peak = float(z[np.argmax(db)])  # never reaches −3 dB: a narrow band around the peak
    return np.array([peak - 0.55, peak + 0.55])


# ---------------------------------------------------------------- magnitude / dB least squares


def _fit_lsq(
    z: np.ndarray, kind: str, bands: Sequence[RcBandTarget], values: list[np.ndarray]
) -> tuple[np.ndarray, Trace, Callable[[np.ndarray], float]]:
    zt = torch.tensor(z, dtype=DTYPE)
    targets = torch.cat([torch.tensor(v, dtype=DTYPE) for v in values])
    slices, start = [], 0
    for b in bands:
        slices.append(slice(start, start + N_CUTOFFS[b.type]))
        start += N_CUTOFFS[b.type]

    def residuals(theta: torch.Tensor) -> torch.Tensor:
        parts = [log_mag(b.type, zt, theta[s]) for b, s in zip(bands, slices, strict=True)]
        pred = torch.cat(parts)
        pred = torch.exp(pred) if kind == "magnitude" else DB_PER_NEPER * pred
        return pred - targets

    theta0 = []
    for b, v in zip(bands, values, strict=True):
        if b.init_cutoffs_hz is not None:
            theta0.extend(math.log(c) for c in b.init_cutoffs_hz)
        else:
            db = 20.0 * np.log10(np.maximum(v, 1e-300)) if kind == "magnitude" else v
            theta0.extend(estimate_log_cutoffs(b.type, z, db).tolist())
    theta, trace = levenberg_marquardt(residuals, torch.tensor(theta0, dtype=DTYPE))
    n = targets.numel()
    trace.losses = [2.0 * c / n for c in trace.losses]  # 0.5·Σr² -> mean squared error

    def mse(log_cutoffs: np.ndarray) -> float:
        r = residuals(torch.tensor(log_cutoffs, dtype=DTYPE))
        return float(r @ r) / n

    return theta.numpy(), trace, mse


# ---------------------------------------------------------------- entry point


def fit_rc(
    freqs_hz: np.ndarray, kind: RcKind, bands: Sequence[RcBandTarget], seed: int = 0
) -> RcFit:
    """Learn the section cutoffs of RC bands from one data set (all bands at once).

    ``freqs_hz``: the sample frequencies (Hz, any order). Each band's ``values`` are |H|
    (``magnitude``), 20·log10|H| (``db``) or LED labels 1/0 (``binary``, 1 = |H| > 1/√2).
    Deterministic: ``seed`` is accepted for interface symmetry (no random start is needed).
    Raises :class:`DesignerError` for data that cannot be learned from.
    """
    from .learn_binary import fit_binary  # imported here: it imports this module's types

    del seed
    t0 = time.perf_counter()
    z, values = validate(freqs_hz, kind, bands)
    with torch_threads():
        if kind == "binary":
            result = fit_binary(z, bands, values)
            log_cutoffs, trace, loss_of = result.log_cutoffs, result.trace, result.loss_of
            history = result.log_cutoff_history
        else:
            log_cutoffs, trace, loss_of = _fit_lsq(z, kind, bands, values)
            history = np.array([p.numpy() for p in trace.params])
    fits, names, pos = [], [], 0
    for i, b in enumerate(bands):
        n = N_CUTOFFS[b.type]
        lc = log_cutoffs[pos : pos + n]
        if not np.all(np.isfinite(lc)) or np.any(np.abs(lc - np.clip(lc, z.min(), z.max())) > 7):
            raise BandDataError(
                b.name,
                f"the data do not pin its cutoffs: training drove them to "
                f"{np.exp(lc).round(3).tolist()} Hz, far outside the data's "
                f"{math.exp(z.min()):g}-{math.exp(z.max()):g} Hz",
            )
        cutoffs = tuple(float(math.exp(c)) for c in lc)
        edges = edges_from_cutoffs(b.type, lc)
        reaches = b.type != "bandpass" or lc[1] - lc[0] >= LN_MIN_BP_RATIO - 1e-9
        edges_hz = tuple(float(math.exp(e)) for e in edges) if reaches else ()
        names.extend([b.name] if n == 1 else [f"{b.name}.low", f"{b.name}.high"])
        if kind == "binary":
            fits.append(result.band_fit(i, b, cutoffs, edges_hz))
        else:
            fits.append(RcBandFit(b.name, b.type, cutoffs, edges_hz))
        pos += n

    def loss_fn(cutoffs_per_band: Sequence[Sequence[float]]) -> float:
        flat = [math.log(float(c)) for band in cutoffs_per_band for c in band]
        if len(flat) != len(names):
            raise ValueError(f"expected {len(names)} cutoffs ({', '.join(names)}), got {len(flat)}")
        with torch_threads():
            return loss_of(np.array(flat))

    return RcFit(
        kind=kind,
        bands=tuple(fits),
        steps=trace.steps,
        seconds=time.perf_counter() - t0,
        loss_history=np.array(trace.losses),
        param_history=np.exp(history),
        param_names=tuple(names),
        loss_fn=loss_fn,
    )
