"""Formatting physical values for people: one place, so tables and reports agree."""

from __future__ import annotations

from collections.abc import Iterable

#: how people call a design's arithmetic (QuantizedDesign.arithmetic)
ARITHMETIC_NAMES = {"fixed": "fixed point", "float": "floating point"}


def fmt_hz_list(values: Iterable[float] | None, empty: str = "–") -> str:
    """Frequencies in Hz with thousands separators, joined with " / "."""
    values = list(values or ())
    return " / ".join(f"{v:,.1f}" for v in values) if values else empty


def fmt_ohm(r: float) -> str:
    """A resistance with its SI prefix: 198.9 Ω, 4.7 kΩ, 1 MΩ."""
    if r >= 1e6:
        return f"{r / 1e6:.4g} MΩ"
    if r >= 1e3:
        return f"{r / 1e3:.4g} kΩ"
    return f"{r:.4g} Ω"


def fmt_farad(c: float) -> str:
    """A capacitance with its SI prefix: 1 µF, 10 nF, 14 pF."""
    for scale, unit in ((1e-6, "µF"), (1e-9, "nF"), (1e-12, "pF")):
        if c >= scale:
            return f"{c / scale:.3g} {unit}"
    return f"{c:.3g} F"
