"""The analog RC color organ: section magnitudes, cutoff <-> resistor, E-series parts.

Frequencies in Hz, resistance in ohms, capacitance in farads. A first-order RC section has its
cutoff at f_c = 1 / (2 pi R C); a band-pass is a high-pass section (cutoff = low edge) buffered
into a low-pass section (cutoff = high edge), as in BACKGROUND.md section 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

INV_SQRT2 = 1.0 / math.sqrt(2.0)

# IEC 60063 preferred numbers, one decade.
# fmt: off
E_SERIES: dict[str, tuple[float, ...]] = {
    "E12": (1.0, 1.2, 1.5, 1.8, 2.2, 2.7, 3.3, 3.9, 4.7, 5.6, 6.8, 8.2),
    "E24": (
        1.0, 1.1, 1.2, 1.3, 1.5, 1.6, 1.8, 2.0, 2.2, 2.4, 2.7, 3.0,
        3.3, 3.6, 3.9, 4.3, 4.7, 5.1, 5.6, 6.2, 6.8, 7.5, 8.2, 9.1,
    ),
    "E96": (
        1.00, 1.02, 1.05, 1.07, 1.10, 1.13, 1.15, 1.18, 1.21, 1.24, 1.27, 1.30,
        1.33, 1.37, 1.40, 1.43, 1.47, 1.50, 1.54, 1.58, 1.62, 1.65, 1.69, 1.74,
        1.78, 1.82, 1.87, 1.91, 1.96, 2.00, 2.05, 2.10, 2.15, 2.21, 2.26, 2.32,
        2.37, 2.43, 2.49, 2.55, 2.61, 2.67, 2.74, 2.80, 2.87, 2.94, 3.01, 3.09,
        3.16, 3.24, 3.32, 3.40, 3.48, 3.57, 3.65, 3.74, 3.83, 3.92, 4.02, 4.12,
        4.22, 4.32, 4.42, 4.53, 4.64, 4.75, 4.87, 4.99, 5.11, 5.23, 5.36, 5.49,
        5.62, 5.76, 5.90, 6.04, 6.19, 6.34, 6.49, 6.65, 6.81, 6.98, 7.15, 7.32,
        7.50, 7.68, 7.87, 8.06, 8.25, 8.45, 8.66, 8.87, 9.09, 9.31, 9.53, 9.76,
    ),
}
# fmt: on
# Capacitors are stocked in coarser series than resistors.
CAPACITOR_SERIES = (1.0, 1.5, 2.2, 3.3, 4.7, 6.8)


def lowpass_mag(f_hz: np.ndarray | float, fc_hz: float) -> np.ndarray:
    """|H| of a first-order RC low-pass: 1 / sqrt(1 + (f/fc)^2)."""
    x = np.asarray(f_hz, dtype=float) / fc_hz
    return 1.0 / np.sqrt(1.0 + x * x)


def highpass_mag(f_hz: np.ndarray | float, fc_hz: float) -> np.ndarray:
    """|H| of a first-order RC high-pass: (f/fc) / sqrt(1 + (f/fc)^2)."""
    x = np.asarray(f_hz, dtype=float) / fc_hz
    return x / np.sqrt(1.0 + x * x)


def bandpass_mag(f_hz: np.ndarray | float, low_hz: float, high_hz: float) -> np.ndarray:
    """|H| of the buffered cascade: high-pass section at ``low_hz``, low-pass at ``high_hz``."""
    return highpass_mag(f_hz, low_hz) * lowpass_mag(f_hz, high_hz)


def band_mag(kind: str, f_hz: np.ndarray | float, cutoffs_hz: tuple[float, ...]) -> np.ndarray:
    """|H| of an RC band of ``kind`` (lowpass / highpass / bandpass) with its section cutoffs."""
    if kind == "lowpass":
        return lowpass_mag(f_hz, cutoffs_hz[0])
    if kind == "highpass":
        return highpass_mag(f_hz, cutoffs_hz[0])
    if kind == "bandpass":
        return bandpass_mag(f_hz, cutoffs_hz[0], cutoffs_hz[1])
    raise ValueError(f"kind must be lowpass, highpass or bandpass, got {kind!r}")


def bandpass_edges(low_hz: float, high_hz: float) -> tuple[float, float]:
    """The −3 dB edges of the RC band-pass cascade (inside its section cutoffs).

    With a = f/low and b = f/high, |H|^2 = a^2 / ((1 + a^2)(1 + b^2)) = 1/2 is a quadratic in
    u = f^2: u^2 + (l^2 + h^2 - 2 h^2) u ... solved in closed form below. Raises ValueError when the
    band never reaches −3 dB (high/low < 1 + sqrt(2)).
    """
    lo2, hi2 = low_hz * low_hz, high_hz * high_hz
    # 2 u hi2 = (u + lo2)(hi2 + u)  ->  u^2 + (lo2 - hi2) u + lo2 hi2 = 0
    p = lo2 - hi2
    disc = p * p - 4.0 * lo2 * hi2
    if disc < 0:
        raise ValueError(
            f"an RC band-pass {low_hz:g}-{high_hz:g} Hz never reaches -3 dB "
            f"(needs high/low >= {1 + math.sqrt(2):.3f}, got {high_hz / low_hz:.3f})"
        )
    r = math.sqrt(disc)
    return (math.sqrt((-p - r) / 2.0), math.sqrt((-p + r) / 2.0))


def bandpass_sections_for_edges(edge_lo_hz: float, edge_hi_hz: float) -> tuple[float, float]:
    """Inverse of :func:`bandpass_edges`: the section cutoffs whose cascade has these −3 dB edges.

    From the quadratic above, the edges' squares u1, u2 satisfy u1 u2 = lo2 hi2 and
    u1 + u2 = hi2 - lo2.
    """
    s = edge_lo_hz**2 + edge_hi_hz**2
    prod = (edge_lo_hz * edge_hi_hz) ** 2
    # hi2 - lo2 = s, hi2 * lo2 = prod -> hi2 = (s + sqrt(s^2 + 4 prod)) / 2
    hi2 = (s + math.sqrt(s * s + 4.0 * prod)) / 2.0
    lo2 = prod / hi2
    return (math.sqrt(lo2), math.sqrt(hi2))


def band_edges(kind: str, cutoffs_hz: tuple[float, ...]) -> tuple[float, ...]:
    """Where an RC band crosses −3 dB: the cutoff for LP/HP, the two inner edges for BP."""
    if kind in ("lowpass", "highpass"):
        return (float(cutoffs_hz[0]),)
    return bandpass_edges(cutoffs_hz[0], cutoffs_hz[1])


def resistor_for_cutoff(fc_hz: float, capacitor_f: float) -> float:
    """R = 1 / (2 pi f_c C), in ohms."""
    return 1.0 / (2.0 * math.pi * fc_hz * capacitor_f)


def cutoff_for_resistor(r_ohm: float, capacitor_f: float) -> float:
    """f_c = 1 / (2 pi R C), in Hz."""
    return 1.0 / (2.0 * math.pi * r_ohm * capacitor_f)


def snap(value: float, series: str | tuple[float, ...]) -> float:
    """The preferred value nearest to ``value`` on a log axis (any decade)."""
    mantissas = E_SERIES[series] if isinstance(series, str) else series
    if value <= 0 or not math.isfinite(value):
        raise ValueError(f"value must be positive and finite, got {value}")
    decade = math.floor(math.log10(value))
    best = None
    for d in (decade - 1, decade, decade + 1):
        for m in mantissas:
            cand = m * 10.0**d
            err = abs(math.log(cand / value))
            if best is None or err < best[0]:
                best = (err, cand)
    assert best is not None
    # Round away float noise from m * 10**d (4.7 * 10**2 -> 470.00000000000006); every
    # preferred value has three significant digits at most.
    return float(f"{best[1]:.3g}")


@dataclass(frozen=True)
class RcPart:
    """One section's resistor: exact value, the part to buy, and what that part really gives."""

    cutoff_hz: float
    resistor_ohm: float
    part_ohm: float
    part_cutoff_hz: float

    @property
    def cutoff_error(self) -> float:
        """Relative cutoff error of the part: part_cutoff / cutoff - 1."""
        return self.part_cutoff_hz / self.cutoff_hz - 1.0


def rc_parts(cutoffs_hz: tuple[float, ...], capacitor_f: float, series: str) -> tuple[RcPart, ...]:
    """Resistors for each section cutoff, snapped to ``series``, with the cutoff each part gives."""
    parts = []
    for fc in cutoffs_hz:
        r = resistor_for_cutoff(fc, capacitor_f)
        part = snap(r, series)
        parts.append(RcPart(fc, r, part, cutoff_for_resistor(part, capacitor_f)))
    return tuple(parts)


def choose_capacitor(
    cutoffs_hz: tuple[float, ...],
    series: str,
    r_min_ohm: float = 1_000.0,
    r_max_ohm: float = 100_000.0,
) -> float:
    """Pick C from the capacitor series so every resistor lies in [r_min, r_max] when possible.

    Among the capacitors that keep all resistors in range, the one with the smallest worst-case
    cutoff error after snapping the resistors wins; without any, the one closest to the range.
    """
    candidates = [m * 10.0**e for e in range(-12, -3) for m in CAPACITOR_SERIES]
    best = None
    for c in candidates:
        rs = [resistor_for_cutoff(fc, c) for fc in cutoffs_hz]
        out = sum(max(0.0, math.log(r_min_ohm / r)) + max(0.0, math.log(r / r_max_ohm)) for r in rs)
        err = max(abs(p.cutoff_error) for p in rc_parts(cutoffs_hz, c, series))
        key = (out, err)
        if best is None or key < best[0]:
            best = (key, c)
    assert best is not None
    return float(f"{best[1]:.2g}")
