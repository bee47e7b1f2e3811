"""Digital filter design as scipy second-order sections, and their responses.

Every filter here is an SOS array of shape (n, 6), rows ``[b0 b1 b2 1 a1 a2]`` with
y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2] (scipy's sign convention).
First-order sections are rows with b2 = a2 = 0. Frequencies in Hz with an explicit ``fs``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, signal

INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _check_freq(name: str, f_hz: float, fs: float) -> None:
    if not 0 < f_hz < 0.5 * fs:
        raise ValueError(f"{name} must be 0 < f < fs/2 (fs={fs:g} -> {0.5 * fs:g}), got {f_hz:g}")


def rc_lowpass_sos(fc_hz: float, fs: float) -> np.ndarray:
    """Digital twin of a first-order RC low-pass: bilinear transform pre-warped at ``fc_hz``.

    Exactly −3.01 dB at fc; b0 = b1, so the fixed-point section needs only two products.
    """
    _check_freq("fc_hz", fc_hz, fs)
    k = math.tan(math.pi * fc_hz / fs)
    b = k / (1.0 + k)
    a1 = (k - 1.0) / (k + 1.0)
    return np.array([[b, b, 0.0, 1.0, a1, 0.0]])


def rc_highpass_sos(fc_hz: float, fs: float) -> np.ndarray:
    """Digital twin of a first-order RC high-pass (bilinear, pre-warped): b0 = −b1."""
    _check_freq("fc_hz", fc_hz, fs)
    k = math.tan(math.pi * fc_hz / fs)
    b = 1.0 / (1.0 + k)
    a1 = (k - 1.0) / (k + 1.0)
    return np.array([[b, -b, 0.0, 1.0, a1, 0.0]])


def rc_band_sos(kind: str, cutoffs_hz: tuple[float, ...], fs: float) -> np.ndarray:
    """The RC band as first-order sections: LP, HP, or HP(low) then LP(high) for a band-pass."""
    if kind == "lowpass":
        return rc_lowpass_sos(cutoffs_hz[0], fs)
    if kind == "highpass":
        return rc_highpass_sos(cutoffs_hz[0], fs)
    if kind == "bandpass":
        return np.vstack([rc_highpass_sos(cutoffs_hz[0], fs), rc_lowpass_sos(cutoffs_hz[1], fs)])
    raise ValueError(f"kind must be lowpass, highpass or bandpass, got {kind!r}")


def butterworth_sos(kind: str, edges_hz: tuple[float, ...], order: int, fs: float) -> np.ndarray:
    """Butterworth band as in scipy: ``edges_hz`` are the −3 dB edges, ``order`` the whole filter's.

    A band-pass of order 4 is ``scipy.signal.butter(2, [lo, hi], "bandpass", output="sos", fs=fs)``.
    """
    for e in edges_hz:
        _check_freq("edge", e, fs)
    if kind == "bandpass":
        if order % 2:
            raise ValueError(f"a Butterworth band-pass needs an even order, got {order}")
        return signal.butter(order // 2, list(edges_hz), "bandpass", output="sos", fs=fs)
    if kind in ("lowpass", "highpass"):
        return signal.butter(order, edges_hz[0], kind, output="sos", fs=fs)
    raise ValueError(f"kind must be lowpass, highpass or bandpass, got {kind!r}")


def resonator_sos_from_radius(center_hz: float, radius: float, fs: float) -> np.ndarray:
    """Two-pole all-pole resonator, poles at r·e^{±jΩ}, gain set for 0 dB at ``center_hz``.

    y[n] = g x[n] + k1 y[n-1] + k2 y[n-2] with k1 = 2 r cos Ω, k2 = −r² (BACKGROUND.md §2);
    in scipy's convention a1 = −k1, a2 = −k2.
    """
    _check_freq("center_hz", center_hz, fs)
    if not 0.0 < radius < 1.0:
        raise ValueError(f"pole_radius must be 0 < r < 1, got {radius:g}")
    w = 2.0 * math.pi * center_hz / fs
    a1 = -2.0 * radius * math.cos(w)
    a2 = radius * radius
    z = np.exp(-1j * w)
    g = abs(1.0 + a1 * z + a2 * z * z)
    return np.array([[g, 0.0, 0.0, 1.0, a1, a2]])


def resonator_bandwidth(center_hz: float, radius: float, fs: float) -> float:
    """The −3 dB width (Hz) of the resonator around its centre; inf when it is wider than fs/2."""
    sos = resonator_sos_from_radius(center_hz, radius, fs)
    edges = edges_hz(sos, fs)
    lower = [e for e in edges if e < center_hz]
    upper = [e for e in edges if e > center_hz]
    if not upper:
        return math.inf
    return upper[0] - (lower[-1] if lower else 0.0)


def resonator_radius_for_bandwidth(center_hz: float, bandwidth_hz: float, fs: float) -> float:
    """The pole radius whose resonator is ``bandwidth_hz`` wide at −3 dB (solved numerically)."""
    _check_freq("center_hz", center_hz, fs)
    if not 0.0 < bandwidth_hz < 0.5 * fs:
        raise ValueError(f"bandwidth_hz must be 0 < bw < fs/2, got {bandwidth_hz:g}")

    def width_error(log_one_minus_r: float) -> float:
        r = 1.0 - math.exp(log_one_minus_r)
        return math.log(resonator_bandwidth(center_hz, r, fs) / bandwidth_hz)

    # Start from the classic approximation 1 - r = pi·BW/fs and bracket on log(1 - r).
    guess = math.log(min(math.pi * bandwidth_hz / fs, 0.5))
    lo, hi = guess - 1.0, guess + 1.0
    lo_bound = math.log(1e-9)
    hi_bound = math.log(0.999)
    while width_error(lo) > 0 and lo > lo_bound:
        lo -= 1.0
    while hi < hi_bound and width_error(min(hi, hi_bound)) < 0:
        hi += 1.0
    hi = min(hi, hi_bound)
    if width_error(lo) > 0 or width_error(hi) < 0:
        raise ValueError(
            f"no two-pole resonator at {center_hz:g} Hz is {bandwidth_hz:g} Hz wide at fs={fs:g}"
        )
    x = optimize.brentq(width_error, lo, hi, xtol=1e-13)
    return 1.0 - math.exp(x)


def resonator_sos(
    center_hz: float, fs: float, bandwidth_hz: float | None = None, radius: float | None = None
) -> np.ndarray:
    """Resonator from exactly one of ``bandwidth_hz`` (−3 dB width) or ``radius`` (pole radius)."""
    if (bandwidth_hz is None) == (radius is None):
        raise ValueError("give exactly one of bandwidth_hz and pole_radius")
    if radius is None:
        radius = resonator_radius_for_bandwidth(center_hz, float(bandwidth_hz), fs)
    return resonator_sos_from_radius(center_hz, radius, fs)


def sos_response(sos: np.ndarray, freqs_hz: np.ndarray | float, fs: float) -> np.ndarray:
    """Complex frequency response of the cascade at ``freqs_hz``."""
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    z1 = np.exp(-2j * np.pi * f / fs)
    z2 = z1 * z1
    h = np.ones_like(z1)
    for b0, b1, b2, a0, a1, a2 in np.asarray(sos, dtype=float):
        h *= (b0 + b1 * z1 + b2 * z2) / (a0 + a1 * z1 + a2 * z2)
    return h


def sos_mag_db(sos: np.ndarray, freqs_hz: np.ndarray | float, fs: float) -> np.ndarray:
    """Magnitude response in dB (floored at −300 dB)."""
    mag = np.abs(sos_response(sos, freqs_hz, fs))
    return 20.0 * np.log10(np.maximum(mag, 1e-15))


def edges_hz(sos: np.ndarray, fs: float, f_min: float = 1.0) -> tuple[float, ...]:
    """Every frequency in (f_min, fs/2) where the cascade's magnitude crosses 1/√2 (−3.01 dB)."""
    grid = np.geomspace(f_min, 0.4999 * fs, 4000)
    excess = np.abs(sos_response(sos, grid, fs)) - INV_SQRT2
    found = []
    for i in np.nonzero(np.sign(excess[:-1]) != np.sign(excess[1:]))[0]:

        def g(logf: float) -> float:
            return float(np.abs(sos_response(sos, math.exp(logf), fs))[0] - INV_SQRT2)

        x = optimize.brentq(g, math.log(grid[i]), math.log(grid[i + 1]), xtol=1e-14)
        found.append(math.exp(x))
    return tuple(found)


def poles(sos: np.ndarray) -> np.ndarray:
    """All poles of the cascade (complex)."""
    out = []
    for _, _, _, a0, a1, a2 in np.asarray(sos, dtype=float):
        if a2 == 0.0:
            out.append(complex(-a1 / a0))
        else:
            out.extend(np.roots([a0, a1, a2]).tolist())
    return np.array(out, dtype=complex)


def zeros(sos: np.ndarray) -> np.ndarray:
    """All finite zeros of the cascade (complex)."""
    out = []
    for b0, b1, b2, _, _, _ in np.asarray(sos, dtype=float):
        coeffs = np.trim_zeros(np.array([b0, b1, b2]), "b")
        if len(coeffs) > 1:
            out.extend(np.roots(coeffs).tolist())
    return np.array(out, dtype=complex)


def is_stable(sos: np.ndarray, margin: float = 0.0) -> bool:
    """True when every pole lies strictly inside the circle of radius 1 − margin."""
    p = poles(sos)
    return bool(np.all(np.abs(p) < 1.0 - margin)) if p.size else True
