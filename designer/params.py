"""Runtime parameters of the DSP core: the firmware's GET/SET ids, units, wire encodings, bounds.

This table mirrors ``organ_param_limits()`` and the ``ORGAN_P_*`` ids in
``firmware_templates/lib/organ_dsp/organ_dsp.{h,c}``; ``tests/test_quantize.py`` compiles the C
and compares. Every value travels as an int32 ("wire value") in the C fixed-point encoding named
in ``encoding``; :func:`to_wire` / :func:`from_wire` convert from / to the user unit.

Encodings:
- ``q15``: linear ratio (or level as a fraction of full scale) times 32768, user unit dB.
- ``q8.8``: linear ratio times 256, user unit dB.
- ``ms``: integer milliseconds.
- ``bool``: 0 or 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from designer.errors import DesignerError

Encoding = Literal["q15", "q8.8", "ms", "bool"]

_SCALE = {"q15": 32768.0, "q8.8": 256.0}


@dataclass(frozen=True)
class Param:
    """One runtime parameter. ``default``, ``min`` and ``max`` are wire values."""

    name: str
    id: int
    unit: str
    encoding: Encoding
    default: int
    min: int
    max: int
    doc: str


PARAMS: tuple[Param, ...] = (
    Param("gain", 0, "dB", "q8.8", 256, 26, 25600,
          "brightness gain when AGC is off (0 dB: a full-scale sine in the band reads 255)"),
    Param("agc", 1, "bool", "bool", 1, 0, 1,
          "1: automatic gain scales PWM brightness to the recent loudest input; 0: use gain"),
    Param("squelch", 2, "dBFS", "q15", 184, 1, 32767,
          "absolute gate: a band below this level (sine peak, dB full scale) stays dark"),
    Param("gate", 3, "dB", "q15", 519, 33, 32767,
          "gate relative to the AGC reference: turns LEDs off in gaps of loud music"),
    Param("on_threshold", 4, "dB", "q15", 23467, 3277, 32767,
          "band level relative to the input level that turns a band on (steady tones)"),
    Param("off_threshold", 5, "dB", "q15", 22932, 3277, 32767,
          "band level relative to the input level below which a lit band turns off"),
    Param("attack_ms", 6, "ms", "ms", 2, 0, 1000, "envelope attack time constant"),
    Param("release_ms", 7, "ms", "ms", 50, 1, 5000, "envelope release time constant"),
    Param("hold_ms", 8, "ms", "ms", 0, 0, 5000,
          "minimum time an LED stays on or off after a change (0 = off; 334 keeps flashing "
          "under 3 Hz)"),
    Param("smoothing_ms", 9, "ms", "ms", 8, 0, 1000,
          "time constant of the smoother the on/off decision reads"),
    Param("onset", 10, "dB", "q8.8", 511, 256, 4096,
          "transient rule: how far a band must rise above its slow average"),
    Param("slow_ms", 11, "ms", "ms", 400, 10, 5000,
          "time constant of the slow average the transient rule compares with"),
    Param("agc_release_ms", 12, "ms", "ms", 2000, 100, 30000,
          "release time constant of the AGC reference (and of the relative gate)"),
    Param("share", 13, "dB", "q15", 5827, 33, 32767,
          "transient rule: minimum band level relative to the input level"),
)

_BY_NAME = {p.name: p for p in PARAMS}
_BY_ID = {p.id: p for p in PARAMS}


def by_name(name: str) -> Param:
    """The parameter called ``name``; DesignerError listing the known names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise DesignerError(
            f"unknown parameter {name!r}; known: {', '.join(p.name for p in PARAMS)}"
        ) from None


def by_id(pid: int) -> Param:
    """The parameter with wire id ``pid``."""
    try:
        return _BY_ID[pid]
    except KeyError:
        raise DesignerError(f"unknown parameter id {pid} (0..{len(PARAMS) - 1})") from None


def defaults(overrides: dict[str, int] | None = None) -> dict[str, int]:
    """Wire values of every parameter, by name, in id order; ``overrides`` (wire values) are
    validated and applied."""
    out = {p.name: p.default for p in PARAMS}
    for name, value in (overrides or {}).items():
        out[name] = validate(name, value)
    return out


def defaults_list(values: dict[str, int] | None = None) -> list[int]:
    """Wire values indexed by id (the C ``param_defaults`` array)."""
    vals = defaults(values)
    return [vals[p.name] for p in PARAMS]


def validate(name: str, value: int) -> int:
    """Check a wire value against the bounds; returns it as int."""
    p = by_name(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise DesignerError(f"{name} wire value must be an integer, got {value!r}")
    v = int(value)
    if not p.min <= v <= p.max:
        raise DesignerError(
            f"{name} must be {p.min} <= v <= {p.max} "
            f"({_fmt(p, p.min)} .. {_fmt(p, p.max)} {p.unit}), got {v} ({_fmt(p, v)} {p.unit})"
        )
    return v


def to_wire(name: str, value: float) -> int:
    """User units (dB, dBFS, ms, bool) -> validated wire value (rounded to nearest)."""
    p = by_name(name)
    if p.encoding == "bool":
        wire = 1 if value else 0
    elif p.encoding == "ms":
        if not math.isfinite(value):
            raise DesignerError(f"{name} must be finite, got {value}")
        wire = int(round(value))
    else:
        if not math.isfinite(value):
            raise DesignerError(f"{name} must be finite, got {value}")
        wire = int(round(_SCALE[p.encoding] * 10.0 ** (value / 20.0)))
    return validate(name, wire)


def from_wire(name: str, wire: int) -> float:
    """Wire value -> user units (dB values are exact logs of the quantized ratio)."""
    p = by_name(name)
    if p.encoding in ("bool", "ms"):
        return float(wire)
    if wire <= 0:
        return -math.inf
    return 20.0 * math.log10(wire / _SCALE[p.encoding])


def user_value_problem(name: str, value: float) -> str | None:
    """Why ``value`` (user units, as a config gives it) is refused for parameter ``name``, or
    None: on/off switches take 0 or 1 only, millisecond times whole numbers only (the core
    counts whole ms), everything inside the bounds of :func:`user_bounds`."""
    p = by_name(name)
    if p.encoding == "bool" and value not in (0, 1):
        return f"must be true or false (or 1 / 0), got {value:g}"
    if p.encoding == "ms" and value != int(value):
        return f"must be a whole number of ms, got {value:g}"
    try:
        to_wire(name, value)
    except DesignerError:
        lo, hi = user_bounds(p)
        return f"{value:g} {p.unit} is outside {lo} .. {hi} {p.unit}"
    return None


def user_bounds(p: Param) -> tuple[str, str]:
    """The bounds in user units as text a user can type back: dB values are rounded inwards to
    0.01 dB, so both ends are accepted (rounding outwards could land one wire step outside)."""
    if p.encoding == "bool":
        return "0", "1"
    if p.encoding == "ms":
        return str(p.min), str(p.max)
    lo, hi = from_wire(p.name, p.min), from_wire(p.name, p.max)
    return f"{math.ceil(lo * 100) / 100:.2f}", f"{math.floor(hi * 100) / 100:.2f}"


def user_default(p: Param) -> str:
    """The default in user units, as docs and reports show it."""
    if p.encoding == "bool":
        return "true" if p.default else "false"
    return _fmt(p, p.default)


def markdown_table() -> str:
    """The ``[dsp]`` key table of docs/config.md (``tests/test_params.py`` keeps them equal)."""
    rows = ["| key | unit | default | bounds | meaning |", "|---|---|---|---|---|"]
    for p in PARAMS:
        lo, hi = user_bounds(p)
        unit = "on/off" if p.encoding == "bool" else p.unit
        bounds = "true or false (1 or 0)" if p.encoding == "bool" else f"{lo} .. {hi}"
        rows.append(f"| `{p.name}` | {unit} | {user_default(p)} | {bounds} | {p.doc} |")
    return "\n".join(rows) + "\n"


def _fmt(p: Param, wire: int) -> str:
    v = from_wire(p.name, wire)
    return f"{v:g}" if p.encoding in ("bool", "ms") else f"{v:.2f}"
