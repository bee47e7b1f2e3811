"""Numerical helpers of the quantizer: impulse responses and L1 norms, frequency responses and
errors, pole displacement, int16 mantissas with shared exponents, byte mantissas, the bound of a
first-order recursion's u (see designer/quantize.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def mantissas(values: Sequence[float], limit_sum: float | None) -> tuple[list[int], int]:
    """Largest exponent F (shift F - 16 in [-16, 30]) whose int16 mantissas round(v 2^F) fit
    (and, for a numerator, whose |mantissa| sum stays below 2^16); prefers a byte-aligned
    shift (cheap on AVR) when it costs at most 3 bits."""
    vmax = max(abs(v) for v in values)
    if vmax == 0.0:
        raise ValueError("all-zero coefficients")

    def fits(f: int) -> bool:
        m = [round(v * 2.0**f) for v in values]
        return max(abs(x) for x in m) <= 32767 and (
            limit_sum is None or sum(abs(x) for x in m) <= 65535)

    best = None
    for f in range(46, -1, -1):
        if fits(f):
            best = f
            break
    if best is None:
        raise ValueError("coefficients too large")
    for f in range(best, best - 4, -1):
        if f >= 0 and (f - 16) % 8 == 0:
            best = f
            break
    return [int(round(v * 2.0**best)) for v in values], best


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


def numerator(b: np.ndarray) -> tuple[list[int], int]:
    """Numerator mantissas; zeros on the unit circle at z = +-1 ((1 +- z^-1)^2, 1 - z^-2, ...)
    are kept exact by quantizing b0 only and deriving the others as integer multiples: near the
    zero the response is tiny, so an independent rounding would move it by many dB."""
    m, f = mantissas(list(b), 65535.0)
    if b[0] != 0.0:
        ratios = b[1:] / b[0]
        if np.all(np.abs(ratios - np.round(ratios)) < 1e-9) and np.all(np.abs(ratios) <= 2):
            m0 = m[0]
            m = [m0] + [int(round(r)) * m0 for r in ratios]
    return m, f


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


def byte_round(m: int) -> int:
    """m rounded to a multiple of 256 (a byte mantissa: the AVR multiplies by one byte), or 0
    when that leaves int16."""
    r = int(round(m / 256.0)) * 256
    return r if -32768 <= r <= 32767 else 0


def byte_numerator(mnum: list[int]) -> list[int] | None:
    """Byte mantissas for a numerator, keeping integer ratios to its first mantissa (the
    structured numerators of organ_k_mul); None if one would vanish or leave int16."""
    m0 = byte_round(mnum[0])
    if m0 == 0:
        return None
    if all(m % mnum[0] == 0 for m in mnum[1:]):
        out = [m0] + [m0 * (m // mnum[0]) for m in mnum[1:]]
    else:
        out = [byte_round(m) if m else 0 for m in mnum]
    pairs = zip(out, mnum, strict=True)
    if any(not -32768 <= m <= 32767 or (m == 0) != (o == 0) for m, o in pairs):
        return None
    return out
