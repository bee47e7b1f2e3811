"""Learning free IIR cascades (``filter = "iir"``) from magnitude or dB data, in torch.

Parametrisation, stable by construction: each second-order section's denominator
1 + a1 z⁻¹ + a2 z⁻² lies in the stability triangle scaled to radius R_MAX < 1,

    a2 = R²·tanh(u),   a1 = R·(1 + tanh(u))·tanh(v),

which covers every pair of poles (complex or two real ones) with radius < R and nothing else;
an odd order adds one first-order section with its pole at R·tanh(w). Numerators are free
monic quadratics (1, c1, c2) and one overall log-gain. Loss: log-spectral, the dB difference with
a soft floor 80 dB under the target's peak (10·log10(|H|² + P_floor)), so stop-band nulls count
but cannot dominate.

Start: an equation-error solve on the power spectrum (linear least squares for |B|² and |A|² as
cosine series, reweighted Sanathanan–Koerner style), spectrally factored into minimum-phase
zeros and stable poles. Refinement: Levenberg–Marquardt. If the result is poor, a few seeded
random starts are tried and the best kept.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from scipy import signal

from .errors import DesignerError
from .learn_opt import DTYPE, levenberg_marquardt, torch_threads

R_MAX = 1.0 - 1e-6  # every learned pole has radius < R_MAX
FLOOR_DB = 80.0  # soft floor of the log-spectral loss, under the target's peak
SCORE_ABOVE_DB = -20.0  # max_error_db is scored where the target is above this level
MAX_ORDER = 12
GOOD_RMS_DB = 0.01  # below this the first start is kept without trying random ones
DONE_RMS_DB = 1e-4  # rms dB error of an exact fit: stop refining (far below any quantization)
RESTARTS = 3
FIRST_BUDGET, RESTART_BUDGET = 300, 100  # LM trial steps from the data's start / random ones
STALL = 1e-4  # stop a start whose loss fell less than this (relative) over 10 steps
_CLIP = 1.0 - 1e-12
_ON_CIRCLE = 0.02  # roots this close to |z| = 1 are taken to lie on it


@dataclass(frozen=True, eq=False)
class IirFit:
    """A learned IIR filter.

    ``sos``: scipy SOS (n, 6), rows ``[b0 b1 b2 1 a1 a2]``, every pole strictly inside the unit
    circle. ``loss_history``: mean squared error per accepted step (dB² for spectra, squared
    sample error for impulse responses). ``max_error_db``: for spectra, the largest dB error
    where the target is above −20 dB (relative to the peak when nothing is); for impulse fits,
    the same on the response's DFT, within 20 dB of its peak.

    Impulse fits also give the recursion y[n] = Σ b_j·x[n−j] + Σ k_i·y[n−i]: ``feedforward``
    (b_0..b_M) and ``feedback`` (k_1..k_N), for an input impulse of height ``input_scale``.
    """

    sos: np.ndarray
    steps: int
    seconds: float
    loss_history: np.ndarray
    max_error_db: float
    feedforward: np.ndarray | None = None
    feedback: np.ndarray | None = None
    input_scale: float | None = None
    rms_error: float | None = None

    @property
    def pole_radii(self) -> np.ndarray:
        """Radii of all poles (each < 1)."""
        out = []
        for row in np.asarray(self.sos):
            out.extend(np.abs(np.roots(row[3:] if row[5] != 0 else row[3:5])).tolist())
        return np.array(out)


# ---------------------------------------------------------------- stable sections (torch)


def den2(u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(a1, a2) of a second-order denominator inside the triangle scaled to R_MAX."""
    t = torch.tanh(u)
    return R_MAX * (1.0 + t) * torch.tanh(v), R_MAX * R_MAX * t


def den2_inverse(a1: float, a2: float) -> tuple[float, float]:
    """(u, v) for a stable (a1, a2); values at or past the boundary are pulled just inside."""
    t = float(np.clip(a2 / (R_MAX * R_MAX), -_CLIP, _CLIP))
    s = float(np.clip(a1 / (R_MAX * (1.0 + t)), -_CLIP, _CLIP))
    return math.atanh(t), math.atanh(s)


def den1(w: torch.Tensor) -> torch.Tensor:
    """a1 of a first-order denominator 1 + a1 z⁻¹ with its pole −a1 = R_MAX·tanh(w)."""
    return -R_MAX * torch.tanh(w)


def power2(
    c1: torch.Tensor, c2: torch.Tensor, cos1: torch.Tensor, cos2: torch.Tensor
) -> torch.Tensor:
    """|1 + c1 e^{−jω} + c2 e^{−2jω}|² = 1 + c1² + c2² + 2c1(1 + c2)cos ω + 2c2 cos 2ω."""
    return 1.0 + c1 * c1 + c2 * c2 + 2.0 * c1 * (1.0 + c2) * cos1 + 2.0 * c2 * cos2


def power1(c1: torch.Tensor, cos1: torch.Tensor) -> torch.Tensor:
    """|1 + c1 e^{−jω}|²."""
    return 1.0 + c1 * c1 + 2.0 * c1 * cos1


def pair_roots(
    roots: np.ndarray, n2: int, n1: int
) -> tuple[list[tuple[float, float]], list[float]]:
    """Group polynomial roots into ``n2`` real quadratics (c1, c2) and ``n1`` linear factors (c1).

    Conjugate pairs make quadratics; real roots are sorted and paired neighbour by neighbour, and
    a left-over real root makes the first-order factor 1 + c1 z⁻¹ (c1 = −root).
    """
    roots = np.asarray(roots, dtype=complex)
    tol = 1e-9 * max(1.0, float(np.abs(roots).max(initial=0.0)))
    cplx = sorted((r for r in roots if r.imag > tol), key=lambda r: abs(r))
    real = sorted(float(r.real) for r in roots if abs(r.imag) <= tol)
    quads = [(-2.0 * r.real, abs(r) ** 2) for r in cplx]
    lin: list[float] = []
    if len(real) % 2:  # the odd real root out: the one nearest the origin
        k = int(np.argmin(np.abs(real)))
        lin.append(-real.pop(k))
    quads += [(-(real[i] + real[i + 1]), real[i] * real[i + 1]) for i in range(0, len(real), 2)]
    quads += [(0.0, 0.0)] * (n2 - len(quads))
    lin += [0.0] * (n1 - len(lin))
    return quads[:n2], lin[:n1]


# ---------------------------------------------------------------- the model


class _Cascade:
    """Parameter layout and magnitude of a free stable cascade of ``order`` poles and zeros."""

    def __init__(self, order: int):
        self.n2, self.n1 = divmod(order, 2)
        self.n_params = 4 * self.n2 + 2 * self.n1 + 1

    def split(self, th: torch.Tensor) -> tuple[torch.Tensor, ...]:
        n2, n1 = self.n2, self.n1
        den = th[: 2 * n2].reshape(n2, 2)
        w = th[2 * n2 : 2 * n2 + n1]
        num = th[2 * n2 + n1 : 4 * n2 + n1].reshape(n2, 2)
        d1 = th[4 * n2 + n1 : 4 * n2 + 2 * n1]
        return den, w, num, d1, th[-1]

    def power(self, th: torch.Tensor, cos1: torch.Tensor, cos2: torch.Tensor) -> torch.Tensor:
        """|H(e^{jω})|² (products, not logs: exact zeros on the circle keep finite gradients)."""
        den, w, num, d1, log_g = self.split(th)
        p = torch.exp(2.0 * log_g) * torch.ones_like(cos1)
        for k in range(self.n2):
            a1, a2 = den2(den[k, 0], den[k, 1])
            p = p * power2(num[k, 0], num[k, 1], cos1, cos2) / power2(a1, a2, cos1, cos2)
        for k in range(self.n1):
            p = p * power1(d1[k], cos1) / power1(den1(w[k]), cos1)
        return p

    def pack(self, poles: np.ndarray, zeros: np.ndarray, log_g: float) -> np.ndarray:
        """Parameters for given stable poles and zeros (pole radii are clipped inside R_MAX)."""
        mag = np.abs(poles)
        poles = np.where(
            mag > 0.999 * R_MAX, poles / np.maximum(mag, 1e-300) * 0.999 * R_MAX, poles
        )
        pq, pl = pair_roots(poles, self.n2, self.n1)
        zq, zl = pair_roots(zeros, self.n2, self.n1)
        th = [x for a1, a2 in pq for x in den2_inverse(a1, a2)]
        th += [math.atanh(float(np.clip(-c / R_MAX, -_CLIP, _CLIP))) for c in pl]
        th += [x for q in zq for x in q] + list(zl) + [log_g]
        return np.array(th, dtype=float)

    def sos(self, th: np.ndarray) -> np.ndarray:
        """SOS rows, the gain spread evenly over the sections."""
        t = torch.tensor(th, dtype=DTYPE)
        den, w, num, d1, log_g = self.split(t)
        n = self.n2 + self.n1
        g = math.exp(float(log_g) / n)
        rows = []
        for k in range(self.n2):
            a1, a2 = den2(den[k, 0], den[k, 1])
            rows.append([g, g * float(num[k, 0]), g * float(num[k, 1]), 1.0, float(a1), float(a2)])
        for k in range(self.n1):
            rows.append([g, g * float(d1[k]), 0.0, 1.0, float(den1(w[k])), 0.0])
        return np.array(rows)


def _factor_cosine_series(alpha: np.ndarray, n: int) -> np.ndarray:
    """The n roots inside (or nearest inside) the unit circle of Σ α_k cos kω = |p(e^{jω})|²."""
    half = 0.5 * alpha[1:]
    roots = np.roots(np.r_[half[::-1], alpha[0], half])
    # Roots come in pairs (r, 1/r̄). A root on the circle is a double root, which the solver
    # splits into two close ones: merge each such pair back onto the circle.
    near = [r for r in roots if abs(abs(r) - 1.0) <= _ON_CIRCLE]
    out = [r for r in roots if abs(r) < 1.0 - _ON_CIRCLE]
    while len(near) >= 2:
        r = near.pop()
        k = int(np.argmin([abs(r - q) for q in near]))
        mid = 0.5 * (r + near.pop(k))
        out.append(mid / abs(mid))
    if len(out) != n:  # not a clean spectrum: keep the n roots of smallest radius
        return roots[np.argsort(np.abs(roots))][:n]
    return np.array(out)


def equation_error_start(
    w: np.ndarray, power: np.ndarray, floor: float, cascade: _Cascade
) -> np.ndarray:
    """A start from the data: linear least squares for B(ω) − P·A(ω) = 0, then factorisation."""
    order = 2 * cascade.n2 + cascade.n1
    C = np.cos(np.outer(w, np.arange(order + 1)))
    A_prev = np.ones_like(w)
    for _ in range(3):  # Sanathanan–Koerner: weight by 1 / (A_prev·P) ~ relative output error
        wt = 1.0 / (np.maximum(A_prev, 1e-12) * (power + floor))
        M = np.hstack([C, -power[:, None] * C[:, 1:]]) * wt[:, None]
        sol = np.linalg.lstsq(M, power * wt, rcond=None)[0]
        beta, alpha = sol[: order + 1], np.r_[1.0, sol[order + 1 :]]
        A_prev = np.abs(C @ alpha)
    poles = _factor_cosine_series(alpha, order)
    zeros = _factor_cosine_series(beta, order)
    zeros = np.where(np.abs(zeros) > 1.0, 1.0 / np.conj(zeros), zeros)
    th = cascade.pack(poles, zeros, 0.0)
    cos1, cos2 = (torch.tensor(np.cos(k * w), dtype=DTYPE) for k in (1, 2))
    unit = cascade.power(torch.tensor(th, dtype=DTYPE), cos1, cos2).numpy()
    keep = power > floor
    th[-1] = 0.5 * float(np.median(np.log(power[keep] / np.maximum(unit[keep], 1e-300))))
    if not np.all(np.isfinite(th)):
        raise np.linalg.LinAlgError("equation-error start is not finite")
    return th


def _random_start(
    w: np.ndarray, power: np.ndarray, cascade: _Cascade, rng: np.random.Generator
) -> np.ndarray:
    """Poles at random angles where the target is within 20 dB of its peak, zeros at random."""
    order = 2 * cascade.n2 + cascade.n1
    band = w[power >= power.max() * 1e-2]
    angles = rng.uniform(band.min(), band.max(), size=cascade.n2)
    radii = rng.uniform(0.5, 0.95, size=cascade.n2)
    poles = np.r_[radii * np.exp(1j * angles), radii * np.exp(-1j * angles)]
    zeros = rng.uniform(0.2, 1.0, cascade.n2) * np.exp(1j * rng.uniform(0, np.pi, cascade.n2))
    zeros = np.r_[zeros, np.conj(zeros)]
    if cascade.n1:
        poles = np.r_[poles, rng.uniform(-0.9, 0.9)]
        zeros = np.r_[zeros, rng.uniform(-1.0, 1.0)]
    assert poles.size == order
    return cascade.pack(poles, zeros, 0.5 * math.log(float(power.max())))


# ---------------------------------------------------------------- entry point


def _check_spectrum(
    freqs_hz: np.ndarray, values: np.ndarray, kind: str, order: int, fs: float
) -> tuple[np.ndarray, np.ndarray]:
    if kind not in ("magnitude", "db"):
        raise DesignerError(f"kind must be magnitude or db for an iir fit, got {kind!r}")
    if not (isinstance(order, int) and 1 <= order <= MAX_ORDER):
        raise DesignerError(f"order must be an integer from 1 to {MAX_ORDER}, got {order!r}")
    if not (math.isfinite(fs) and fs > 0):
        raise DesignerError(f"fs must be a positive sample rate in Hz, got {fs!r}")
    f = np.asarray(freqs_hz, dtype=float)
    v = np.asarray(values, dtype=float)
    if f.ndim != 1 or v.shape != f.shape:
        raise DesignerError(f"need one value per frequency, got shapes {v.shape} and {f.shape}")
    if f.size < 2 * order + 2:
        raise DesignerError(
            f"an order-{order} fit needs at least {2 * order + 2} frequencies, got {f.size}"
        )
    if not np.all(np.isfinite(f)) or f.min() < 0 or f.max() > fs / 2:
        raise DesignerError(f"frequencies must lie in [0, fs/2] = [0, {fs / 2:g}] Hz")
    if kind == "magnitude":
        if not np.all(np.isfinite(v)) or v.min() < 0:
            raise DesignerError("magnitudes must be finite and >= 0")
        db = 20.0 * np.log10(np.maximum(v, 1e-300))
    else:
        if np.any(np.isnan(v)) or np.any(v == np.inf):
            raise DesignerError("dB values must not be NaN or +inf (-inf means zero magnitude)")
        db = np.maximum(v, -6000.0)
    if db.max() < -2000:
        raise DesignerError("the target is zero at every frequency")
    return f, db


def max_error_db(model_db: np.ndarray, target_db: np.ndarray, above_db: float | None) -> float:
    """Largest |model − target| (dB) where the target is above ``above_db`` (None: peak − 20)."""
    level = target_db.max() - 20.0 if above_db is None or target_db.max() <= above_db else above_db
    scored = target_db > level
    return float(np.max(np.abs(model_db[scored] - target_db[scored])))


def fit_iir(
    freqs_hz: np.ndarray,
    values: np.ndarray,
    kind: Literal["magnitude", "db"],
    order: int,
    fs: float,
    seed: int = 0,
) -> IirFit:
    """Fit a stable IIR cascade of ``order`` poles (and as many zeros) to a magnitude response.

    ``freqs_hz`` in [0, fs/2]; ``values`` |H| (``magnitude``) or 20·log10|H| (``db``). Odd orders
    get one first-order section. Deterministic for a given ``seed`` (used by random restarts).
    """
    t0 = time.perf_counter()
    f, target_db = _check_spectrum(freqs_hz, values, kind, order, fs)
    w = 2.0 * math.pi * f / fs
    power = 10.0 ** (target_db / 10.0)
    floor = float(power.max()) * 10.0 ** (-FLOOR_DB / 10.0)
    cascade = _Cascade(order)
    cos1, cos2 = (torch.tensor(np.cos(k * w), dtype=DTYPE) for k in (1, 2))
    target_soft = torch.tensor(10.0 * np.log10(power + floor), dtype=DTYPE)

    def residuals(th: torch.Tensor) -> torch.Tensor:
        return (
            10.0 / math.log(10.0) * torch.log(cascade.power(th, cos1, cos2) + floor) - target_soft
        )

    rng = np.random.default_rng(seed)
    with torch_threads():
        try:
            starts = [equation_error_start(w, power, floor, cascade)]
        except (np.linalg.LinAlgError, ValueError):
            starts = []
        lm = dict(atol=0.5 * f.size * DONE_RMS_DB**2, stall=STALL)
        best, steps = None, 0
        for attempt in range(RESTARTS + 1):
            first = attempt == 0 and bool(starts)
            th0 = starts[0] if first else _random_start(w, power, cascade, rng)
            budget = FIRST_BUDGET if first else RESTART_BUDGET
            th, trace = levenberg_marquardt(
                residuals, torch.tensor(th0, dtype=DTYPE), max_steps=budget, **lm
            )
            steps += trace.steps
            if best is None or trace.losses[-1] < best[1].losses[-1]:
                best = (th, trace, trace.attempts >= budget)
            if 2.0 * best[1].losses[-1] / f.size < GOOD_RMS_DB**2:
                break
        th, trace, unfinished = best
        if unfinished:  # the best start ran out of budget while still improving: go on
            before = trace.steps
            th, trace = levenberg_marquardt(
                residuals, th, max_steps=FIRST_BUDGET - RESTART_BUDGET, trace=trace, **lm
            )
            steps += trace.steps - before
    sos = cascade.sos(th.numpy())
    _, h = signal.sosfreqz(sos, worN=w)
    model_db = 20.0 * np.log10(np.maximum(np.abs(h), 1e-300))
    return IirFit(
        sos=sos,
        steps=steps,
        seconds=time.perf_counter() - t0,
        loss_history=np.array(trace.losses) * 2.0 / f.size,
        max_error_db=max_error_db(model_db, target_db, SCORE_ABOVE_DB),
    )
