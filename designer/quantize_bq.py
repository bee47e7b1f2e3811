"""Biquads (BQ, BQ_GAIN) for the fixed-point core: mantissas, exponents, numerator scaling and
the overflow proof of one section (``designer/quantize.py`` runs it per section).

Every coefficient is an integer mantissa with its own exponent, and every exponent is a multiple
of 8 (organ_dsp.h, BQ): the AVR adds each partial product at a whole byte, so no shift is ever
executed. Precision comes from the mantissa's width instead (1, 2 or 3 bytes, one multiply per
byte and operand byte), chosen as small as the section's response allows:

- poles ``beta = 1 - a2`` and ``gamma = 1 + a1 + a2`` (both positive for a stable section):
  unsigned mantissas, the cheapest pair of widths whose section response stays within
  ``MANTISSA_MAX_DB`` of the float section (its gain aside: ``norm`` undoes gain) and stable;
- numerator: its scale is free (the band's ``norm`` undoes it), so a structured numerator (one
  mantissa times small integers: zeros at z = +-1, the Butterworth and all-pole sections) takes
  the largest byte mantissa at or below the scale the overflow proof allows when that loses at
  most 1/``NUM_BYTE_MIN`` of the range, else a 16-bit one; a general numerator shares one
  exponent over 16-bit mantissas, or 24-bit ones where the response asks for them, and is
  scaled down (by at most 1/``NUM_BYTE_MIN``) so that one mantissa, or the outer pair of a
  symmetric or antisymmetric one, has a zero low byte (fewer partial products on the AVR).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from designer import quantize_math as qm
from designer.errors import QuantizationError
from designer.qdesign import QSection

#: each section's response, gain aside, stays within this of its float design (the cheapest
#: mantissa widths that achieve it are taken)
MANTISSA_MAX_DB = 0.05
#: a byte numerator mantissa must be at least this (it may lose 1/16 of the scale)
NUM_BYTE_MIN = 16
#: exponents e (fractional bits of a coefficient; the shift is e - 16): multiples of 8 from 8
#: to 32 (a coefficient below 2^-24 matters to no audio band; the AVR then needs at most two
#: bytes below D's)
E_MIN, E_MAX = 8, 32
#: pole mantissa widths (bytes) in the order of their AVR cost
WIDTHS = sorted(((wb, wg) for wb in (1, 2, 3) for wg in (1, 2, 3)),
                key=lambda w: (w[0] + w[1], max(w)))


class NoFit(Exception):
    """No numerator scale keeps this section's nodes in range (try a larger input shift)."""


def pole_mantissa(v: float, width: int) -> tuple[int, int] | None:
    """(m, sh) with v ~ m 2^-(sh + 16), m unsigned of at most ``width`` bytes at the largest
    aligned exponent, trailing zero bytes dropped; None if v needs more bytes or rounds to 0."""
    lim = (1 << (8 * width)) - 1
    for e in range(E_MAX, E_MIN - 1, -8):
        m = int(round(v * 2.0**e))
        if m <= lim:
            if m == 0:
                return None
            while m % 256 == 0 and e > E_MIN:
                m //= 256
                e -= 8
            return m, e - 16
    return None


def structure(b: np.ndarray, kind: str) -> tuple[int, int, int] | None:
    """The small integers r with b = b0 r when the numerator is one mantissa times them (zeros
    at z = +-1: (1 +- z^-1)^2, 1 - z^-2, ...; all-pole: (1, 0, 0)); None for a general one."""
    if kind == "bq_gain":
        return 1, 0, 0
    if b[0] == 0.0:
        return None
    ratios = b[1:] / b[0]
    if np.all(np.abs(ratios - np.round(ratios)) < 1e-9) and np.all(np.abs(ratios) <= 2):
        return 1, int(round(ratios[0])), int(round(ratios[1]))
    return None


def _aligned_floor(v: float, lim: int) -> tuple[int, int] | None:
    """(floor(v 2^e), e) for v > 0 at the largest aligned e whose mantissa is at most lim."""
    for e in range(E_MAX, E_MIN - 1, -8):
        m = math.floor(v * 2.0**e)
        if m <= lim:
            return (m, e) if m >= 1 else None
    return None


def numerator(b: np.ndarray, kind: str, a_q: np.ndarray, grid: np.ndarray, fs: float
              ) -> tuple[list[int], int, int]:
    """(mantissas, sh_num, width) of the scaled numerator b (its realised gain at most b's)."""
    r = structure(b, kind)
    if r is not None:
        v, sign, rsum = abs(float(b[0])), 1 if b[0] > 0 else -1, sum(abs(x) for x in r)
        byte = _aligned_floor(v, 255)
        if byte is not None and byte[0] >= NUM_BYTE_MIN:
            (m, e), width = byte, 1
        else:
            # the C sums mantissa x s in int32: |m| (|r0| + |r1| + |r2|) < 2^16
            word = _aligned_floor(v, min(32767, 65535 // rsum))
            if word is None:
                raise ValueError(f"numerator gain {b[0]:.3g} is out of range")
            (m, e), width = word, 2
        return [sign * m * x for x in r], e - 16, width
    ref = qm.response([(b, a_q)], grid, fs)
    best = None
    for width, lim in ((2, 32767), (3, (1 << 23) - 1)):
        for e in range(E_MAX, E_MIN - 1, -8):
            m = [int(round(v * 2.0**e)) for v in b]
            wide = sum(abs(x >> 8) for x in m) if width == 3 else sum(abs(x) for x in m)
            if max(abs(x) for x in m) <= lim and wide <= 65535:
                break
        else:
            continue
        if max(abs(x) for x in m) == 0:
            continue
        h = qm.response([(np.array(m, float) * 2.0**-e, a_q)], grid, fs)
        best = (m, e - 16, width)
        if qm.shape_error_db(h, ref) <= MANTISSA_MAX_DB:
            if width == 2:
                best = (_byte_aligned(b, m, e, ref, a_q, grid, fs), e - 16, width)
            break
    if best is None:
        raise ValueError("numerator out of range")
    return best


def _byte_aligned(b: np.ndarray, m: list[int], e: int, ref: np.ndarray, a_q: np.ndarray,
                  grid: np.ndarray, fs: float) -> list[int]:
    """16-bit general mantissas m = round(b 2^e) rescaled down, by at most 1/NUM_BYTE_MIN, so
    that one of them is a whole number of 256s: a byte mantissa at the next exponent, two
    partial products per sample fewer on the AVR. The outer pair of a symmetric or
    antisymmetric numerator (|m0| = |m2|: zeros on the unit circle) first, as it aligns two,
    else the one that loses the least; m unchanged when none fits or the response says no."""
    if any(v and v % 256 == 0 for v in m):
        return m

    def loss(i: int) -> float:
        return (abs(m[i]) & 255) / abs(m[i])

    pair = m[0] != 0 and abs(m[0]) == abs(m[2])
    order = ([0] if pair else []) + sorted((i for i in range(3) if m[i]), key=loss)
    for j in order:
        if loss(j) > 1 / NUM_BYTE_MIN:
            continue
        f = (abs(m[j]) >> 8 << 8) / abs(b[j] * 2.0**e)
        out = [int(round(v * f * 2.0**e)) for v in b]
        if pair and j == 0:
            # equal before, equal after (b2 may differ from b0 below the rounding)
            out[2] = out[0] if m[2] == m[0] else -out[0]
        h = qm.response([(np.array(out, float) * 2.0**-e, a_q)], grid, fs)
        if qm.shape_error_db(h, ref) <= MANTISSA_MAX_DB:
            return out
    return m


def poles(row: np.ndarray, b: np.ndarray, grid: np.ndarray, fs: float, strict: bool
          ) -> tuple[int, int, int, int]:
    """(m_beta, sh_beta, m_gamma, sh_gamma): the cheapest widths whose section is stable and
    within MANTISSA_MAX_DB of the float section (``strict``: the most precise); ValueError when
    no width gives a stable section."""
    beta, gamma = 1.0 - row[5], 1.0 + row[4] + row[5]
    ref = qm.response([(b, row[3:])], grid, fs)
    best: tuple[float, tuple[int, int, int, int]] | None = None
    for wb, wg in (WIDTHS[-1:] if strict else WIDTHS):
        pb, pg = pole_mantissa(beta, wb), pole_mantissa(gamma, wg)
        if pb is None or pg is None:
            continue
        a = _a_of(*pb, *pg)
        if qm.pole_radius(a[1], a[2]) >= 1.0:
            continue
        err = qm.shape_error_db(qm.response([(b, a)], grid, fs), ref)
        if best is None or err < best[0]:
            best = (err, (*pb, *pg))
        if err <= MANTISSA_MAX_DB:
            return (*pb, *pg)
    if best is None:
        raise ValueError("unstable at every mantissa width")
    return best[1]


def _a_of(mb: int, shb: int, mg: int, shg: int) -> np.ndarray:
    beta, gamma = mb * 2.0 ** -(shb + 16), mg * 2.0 ** -(shg + 16)
    return np.array([1.0, beta + gamma - 2.0, 1.0 - beta])


def fixed_bq(name: str, k: int, row: np.ndarray, kind: str,
             rows: list[tuple[np.ndarray, np.ndarray]], full: float, err_in: float,
             rep: dict[str, Any], grid: np.ndarray, fs: float, strict: bool = False,
             headroom: float = 0.97) -> tuple[QSection, float, float]:
    """Section k of band ``name``: (section, output bound, error bound in LSB) for an input
    bounded by ``full`` after the realised sections ``rows`` (accumulated rounding error
    ``err_in`` LSB). Fills the section's report ``rep``."""
    b = row[:3] if kind == "bq" else np.array([row[0], 0.0, 0.0])
    try:
        mb, shb, mg, shg = poles(row, b, grid, fs, strict)
    except ValueError:
        raise QuantizationError(f"band {name!r}: section {k} becomes unstable when quantized "
                                f"(pole radius {qm.pole_radius(row[4], row[5]):.7f})") from None
    a_q = _a_of(mb, shb, mg, shg)
    # scale the numerator so the worst-case output (or D state) fills the headroom of int16
    h1 = qm.impulse(rows, (b, a_q))
    g = headroom * 32767 / (max(qm.l1(h1), qm.l1(qm.diff(h1))) * full)
    beta_q, gamma_q = 1.0 - a_q[2], a_q[1] + a_q[2] + 1.0
    own = beta_q + gamma_q + 2.0**-15   # hi(D), hi(Y) and the increment's floor, LSB per step
    ha = qm.impulse([(np.array([1.0, 0.0, 0.0]), a_q)])
    for _ in range(60):
        try:
            mnum, sh_num, nwidth = numerator(b * g, kind, a_q, grid, fs)
        except ValueError as e:
            raise QuantizationError(f"band {name!r}: section {k} numerator: {e}") from None
        b_q = np.array(mnum, float) * 2.0 ** -(sh_num + 16)
        h, hs = qm.impulse(rows, (b_q, a_q)), qm.impulse([(b_q, a_q)])
        err = qm.l1(hs) * err_in + qm.l1(ha) * own + 1.0
        err_d = qm.l1(qm.diff(hs)) * err_in + qm.l1(qm.diff(ha)) * own
        y_b, d_b = qm.l1(h) * full + err, qm.l1(qm.diff(h)) * full + err_d
        if y_b <= 32767 and d_b <= 32767:
            break
        g *= 0.95
    else:
        raise NoFit(f"section {k}: no numerator scale keeps Y and D in range")
    qs = QSection(kind=kind, c=(mnum[0], mnum[1] if kind == "bq" else 0,
                                mnum[2] if kind == "bq" else 0, mb, mg),
                  sh_num=sh_num, sh_beta=shb, sh_gamma=shg)
    widths = {"num": nwidth, "beta": _bytes(mb), "gamma": _bytes(mg)}
    bits = max(shb, shg) + 16
    rep.update(output_bound=y_b, d_bound=d_b, error_bound_lsb=err, coef_bits=bits,
               wide=bits > 14, numerator_scale=float(b_q[0] / b[0]) if b[0] else g,
               q14_error_db=None, mantissa_bytes=widths,
               byte_mantissas=sum(1 for w in widths.values() if w == 1))
    return qs, y_b, err


def _bytes(m: int) -> int:
    return max(1, (abs(m).bit_length() + 7) // 8)
