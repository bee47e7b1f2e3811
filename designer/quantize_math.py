"""Numerical helpers of the quantizer: impulse responses and L1 norms, frequency responses and
errors (absolute and gain aside), pole displacement, the plain-Q14 comparison, the bound of a
first-order recursion's u (see designer/quantize.py)."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

Rows = list[tuple[np.ndarray, np.ndarray]]


def pole_radius(a1: float, a2: float) -> float:
    return float(max(np.abs(np.roots([1.0, a1, a2])), default=0.0)) if (a1 or a2) else 0.0



def impulse(rows: list[tuple[np.ndarray, np.ndarray]], extra: tuple | None = None) -> np.ndarray:
    """Impulse response of a cascade of (b, a) sections, long enough for its slowest pole."""
    allrows = list(rows) + ([extra] if extra is not None else [])
    r = max((pole_radius(a[1], a[2]) for _, a in allrows), default=0.0)
    n = int(min(2_000_000, max(4096, math.ceil(40.0 / max(1.0 - r, 1e-7)))))
    sos = np.array([np.concatenate([b, a]) for b, a in allrows])
    h = np.zeros(n)
    h[0] = 1.0
    return signal.sosfilt(sos, h)


def l1(h: np.ndarray) -> float:
    """L1 norm plus a geometric bound on the truncated tail."""
    tail = np.max(np.abs(h[-64:]))
    ratio = min(0.9999999, max(np.max(np.abs(h[-64:])) / max(np.max(np.abs(h[-128:-64])), 1e-300),
                              0.0) ** (1 / 64))
    return float(np.sum(np.abs(h)) + tail * 64 / max(1 - ratio, 1e-7))


def diff(h: np.ndarray) -> np.ndarray:
    return np.diff(h, prepend=0.0)


def response(rows: list[tuple[np.ndarray, np.ndarray]], f: np.ndarray, fs: float) -> np.ndarray:
    z1 = np.exp(-2j * np.pi * f / fs)
    h = np.ones(f.shape, dtype=complex)
    for b, a in rows:
        h *= (b[0] + b[1] * z1 + b[2] * z1 * z1) / (a[0] + a[1] * z1 + a[2] * z1 * z1)
    return h


def passband_grid(passband_hz: tuple[float, float], fs: float) -> np.ndarray:
    """512 log-spaced frequencies (Hz) over a passband, kept inside (0, fs/2)."""
    lo, hi = passband_hz
    hi = min(hi, 0.4999 * fs)
    lo = max(lo, hi * 1e-3, 1e-3)
    if lo >= hi:
        lo = hi * 0.999
    return np.geomspace(lo, hi, 512)


def shape_error_db(h_q: np.ndarray, h_f: np.ndarray) -> float:
    """error_db of h_q against h_f after dividing out their mean gain ratio (a realised gain
    is undone by the band's norm)."""
    ok = (np.abs(h_f) > 0) & (np.abs(h_q) > 0)
    if not np.any(ok):
        return float("inf")
    g = float(np.exp(np.mean(np.log(np.abs(h_q[ok]) / np.abs(h_f[ok])))))
    return error_db(h_q / g, h_f)


def error_db(h_q: np.ndarray, h_f: np.ndarray) -> float:
    ok = np.abs(h_f) > 0
    if not np.any(ok):
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.abs(20 * np.log10(np.abs(h_q[ok]) / np.abs(h_f[ok])))
    return float(np.max(e)) if np.all(np.isfinite(e)) else float("inf")


def poles(a: np.ndarray) -> np.ndarray:
    return np.roots(a[: 3 if a[2] != 0 else 2]) if (a[1] or a[2]) else np.zeros(0)


def pole_shift(a_f: np.ndarray, a_q: np.ndarray) -> float:
    pf, pq = np.sort_complex(poles(a_f)), np.sort_complex(poles(a_q))
    if pf.size != pq.size:
        return float("inf")
    return float(np.max(np.abs(pf - pq), initial=0.0))


def q14_error(rows_f: list, k: int, row: np.ndarray, f: np.ndarray, fs: float,
               h_f: np.ndarray) -> float | None:
    """Response error if section k were a plain Q14 direct-form biquad (for the report)."""
    q = np.round(np.asarray(row) * 16384) / 16384
    if pole_radius(q[4], q[5]) >= 1.0:
        return None
    rows = list(rows_f)
    rows[k] = (q[:3], q[3:])
    e = error_db(response(rows, f, fs), h_f)
    return e if math.isfinite(e) else None


def u_bound(rows: Rows, lpb: np.ndarray, lpa: np.ndarray, full: float, err_in: float,
            err_lp: float, convex_first: bool, lo_in: int, hi_in: int) -> float:
    """Bound on |u| = |x + x1 - 2 hi(Y)| of a first-order recursion whose input x is the node
    after ``rows``. A convex first section (state inside the input's range) has the exact
    bound 2 (hi - lo) of its input range; otherwise the L1 norm of u's impulse response plus
    the accumulated rounding errors (the floors of the input and of hi(Y))."""
    if convex_first:
        return 2.0 * (hi_in - lo_in)
    h_x = impulse(rows, None) if rows else np.concatenate([[1.0], np.zeros(4095)])
    h_y = signal.lfilter(lpb, lpa, h_x)
    h_u = h_x.copy()
    h_u[1:] += h_x[:-1] - 2.0 * h_y[:-1]
    return l1(h_u) * full + 2.0 * err_in + 2.0 * err_lp
