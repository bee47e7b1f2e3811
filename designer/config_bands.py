"""The ``[[bands]]`` of a config: each band's filter parameters, its LED pin and colour."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .boards import BoardProfile
from .config_reader import Problems, TableReader, describe, fmt_hz, limit_text, type_name

if TYPE_CHECKING:
    from .config import InputConfig

BAND_TYPES = ("lowpass", "highpass", "bandpass", "resonator")
FILTERS = ("rc", "butterworth", "iir")
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,15}")
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")
MAX_BANDS = 12
MAX_FREQ_FRACTION = 0.45  # cutoffs inside (0, 0.45·fs)
RC_MIN_RATIO = 1.0 + math.sqrt(2.0)  # an RC band-pass below this never reaches −3 dB
DEFAULT_COLORS = (
    "#ff0000",
    "#ff8000",
    "#ffff00",
    "#00ff00",
    "#00ffff",
    "#0000ff",
    "#8000ff",
    "#ff00ff",
    "#ffffff",
    "#ff4040",
    "#40ff40",
    "#4040ff",
)
# Keys a band may carry; which apply depends on its type and filter.
FREQ_KEYS = ("cutoff_hz", "low_hz", "high_hz", "center_hz", "bandwidth_hz")
BAND_KEYS = ("name", "type", "filter", *FREQ_KEYS, "pole_radius", "order", "led_pin", "color")


@dataclass(frozen=True)
class BandConfig:
    """One band as resolved. Frequencies in Hz; ``None`` where the key does not apply or the value
    is left to training."""

    name: str
    type: str
    filter: str | None  # None for resonators
    led_pin: int
    color: str
    cutoff_hz: float | None = None
    low_hz: float | None = None
    high_hz: float | None = None
    order: int | None = None
    center_hz: float | None = None
    bandwidth_hz: float | None = None
    pole_radius: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The band's resolved keys (None values left out), JSON-able."""
        return {k: v for k, v in vars(self).items() if v is not None}

    @property
    def given_cutoffs(self) -> tuple[float, ...] | None:
        """The config's cutoffs in the order of ``cutoffs_hz`` (None when left to training)."""
        if self.type in ("lowpass", "highpass"):
            return (self.cutoff_hz,) if self.cutoff_hz is not None else None
        if self.type == "bandpass":
            if self.low_hz is None or self.high_hz is None:
                return None
            return (self.low_hz, self.high_hz)
        return (self.center_hz,) if self.center_hz is not None else None


def read_bands(
    top: TableReader,
    board: BoardProfile | None,
    fs: float | None,
    led_mode: str,
    input_cfg: InputConfig | None,
    trained: set[str] | None,
    problems: Problems,
) -> list[BandConfig]:
    """Validate every ``[[bands]]`` entry, then the cross-band rules (unique names and pins).

    ``trained``: names of the bands the training data has columns for; None when ``[training]``
    is given but its data could not be read, so any band may be meant to be learned (its
    frequency keys are then not required: the data's error is the one to fix first).
    """
    raw = top.raw("bands")
    if raw is None:
        problems.error("bands", "missing: at least one [[bands]] table is required")
        return []
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        problems.error("bands", f"must be an array of tables ([[bands]]), got {type_name(raw)}")
        return []
    if not raw:
        problems.error("bands", "empty: at least one band is required")
        return []
    if len(raw) > MAX_BANDS:
        problems.error("bands", f"at most {MAX_BANDS} bands, got {len(raw)}")
        return []
    bands: list[BandConfig] = []
    used_pins: dict[int, str] = {}
    for i, table in enumerate(raw):
        t = TableReader(table, f"bands[{i}]", problems)
        band = _read_band(t, i, board, fs, led_mode, input_cfg, trained, used_pins)
        if band is not None:
            bands.append(band)
    # Bands without led_pin take the board's free pins in its preferred order, after every
    # explicit pin is known, so a default never collides with a pin the user chose.
    for i, band in enumerate(bands):
        if band.led_pin < 0 and board is not None:
            pin = _default_led_pin(board, led_mode, input_cfg, used_pins)
            if pin is None:
                problems.error(
                    f"bands[{i}].led_pin",
                    f"missing, and board {board.name} has no "
                    f"free {'PWM ' if led_mode == 'pwm' else ''}pin left to default to",
                )
            else:
                used_pins[pin] = band.name
                bands[i] = replace(band, led_pin=pin)
    bands = [b for b in bands if b.led_pin >= 0]
    names = [b.get("name") for b in raw if isinstance(b.get("name"), str)]
    for name in sorted(set(names)):
        if names.count(name) > 1:
            idx = [i for i, b in enumerate(raw) if b.get("name") == name]
            problems.error(
                f"bands[{idx[-1]}].name", f"{name!r} is used by bands {idx}: names must be unique"
            )
    return bands


def declared_names(raw_bands: Any) -> list[str] | None:
    """The names of every ``[[bands]]`` table as written (valid or not), in order; None when
    ``bands`` is not a usable array of tables (that error is reported by :func:`read_bands`)."""
    if not isinstance(raw_bands, list) or not raw_bands or len(raw_bands) > MAX_BANDS:
        return None
    if not all(isinstance(b, dict) for b in raw_bands):
        return None
    return [b["name"] for b in raw_bands if isinstance(b.get("name"), str)]


def _read_band(
    t: TableReader,
    index: int,
    board: BoardProfile | None,
    fs: float | None,
    led_mode: str,
    input_cfg: InputConfig | None,
    trained: set[str] | None,
    used_pins: dict[int, str],
) -> BandConfig | None:
    ok = True
    name = t.string("name", required=True)
    if name is not None and not NAME_RE.fullmatch(name):
        t.error(
            "name",
            f"{describe(name)} must match [a-z][a-z0-9_]{{0,15}} (it becomes a C identifier)",
        )
        ok = False
    kind = t.choice("type", BAND_TYPES, required=True)
    # is_trained: the data has a column for this band; may_learn: it has, or the data could
    # not be read, so the band's frequency keys cannot be required.
    is_trained = trained is not None and name in trained
    may_learn = trained is None or is_trained
    board_name = board.name if board else "?"

    def freq_check(v: float) -> str | None:
        return _freq_problem(v, fs, board_name)

    if kind == "resonator":
        filt = None
        if t.has("filter"):
            t.raw("filter")
            t.error("filter", "resonators take no filter key (they are two-pole resonators)")
            ok = False
    else:
        filt = t.choice("filter", FILTERS, "rc")
    allowed = _allowed_freq_keys(kind)
    values: dict[str, float | None] = {}
    for key in FREQ_KEYS:
        if key in allowed:
            required = not may_learn and not (kind == "resonator" and key == "bandwidth_hz")
            if filt == "iir" or kind is None:
                required = False
            check = freq_check if key != "bandwidth_hz" else _positive
            values[key] = t.number(key, required=required, check=check)
            if values[key] is None and t.has(key):
                ok = False
        elif t.has(key):
            t.raw(key)
            t.error(key, f"does not apply to a {kind} band (it takes {', '.join(allowed)})")
            ok = False
    radius = None
    if kind == "resonator":
        radius = t.number(
            "pole_radius",
            check=lambda v: None if 0 < v < 1 else f"must be 0 < r < 1 (a stable pole), got {v:g}",
        )
        if t.has("pole_radius") and radius is None:
            ok = False
        has_bw, has_r = t.has("bandwidth_hz"), t.has("pole_radius")
        if has_bw and has_r:
            t.error("pole_radius", "give exactly one of bandwidth_hz and pole_radius, not both")
            ok = False
        elif not has_bw and not has_r and not may_learn:
            t.error("bandwidth_hz", "missing: give bandwidth_hz (the −3 dB width) or pole_radius")
            ok = False
        elif fs and values.get("bandwidth_hz") and values.get("center_hz"):
            if values["bandwidth_hz"] >= min(values["center_hz"], 0.5 * fs - values["center_hz"]):
                t.error(
                    "bandwidth_hz",
                    f"{values['bandwidth_hz']:g} Hz is too wide for a "
                    f"resonator at {values['center_hz']:g} Hz (the band would reach 0 Hz "
                    "or fs/2)",
                )
                ok = False
    elif t.has("pole_radius"):
        t.raw("pole_radius")
        t.error("pole_radius", "only resonator bands take pole_radius")
        ok = False
    order = _read_order(t, kind, filt)
    if t.has("order") and order is None:
        ok = False
    if kind == "bandpass" and values.get("low_hz") and values.get("high_hz"):
        lo, hi = values["low_hz"], values["high_hz"]
        if lo >= hi:
            t.error("high_hz", f"must be above low_hz ({lo:g} Hz), got {hi:g}")
            ok = False
        elif filt == "rc" and hi / lo < RC_MIN_RATIO:
            t.error(
                "high_hz",
                f"an RC band-pass needs high_hz/low_hz >= 1+√2 = {RC_MIN_RATIO:.5f} to "
                f"reach −3 dB; {hi:g}/{lo:g} = {hi / lo:.5f} never lights its LED "
                '(use filter = "butterworth")',
            )
            ok = False
    if filt == "iir" and name is not None and not may_learn:
        t.error("filter", f'filter = "iir" is trained: [training] data needs a column {name!r}')
        ok = False
    if filt == "butterworth" and is_trained:
        t.error(
            "filter",
            'a butterworth band is designed, not trained: use filter = "iir" '
            f'or "rc", or drop the column {name!r} from the training data',
        )
        ok = False
    led_pin = _read_led_pin(t, board, led_mode, input_cfg, used_pins, name or f"bands[{index}]")
    color = t.string("color", DEFAULT_COLORS[index % len(DEFAULT_COLORS)])
    if color is not None and not COLOR_RE.fullmatch(color):
        t.error("color", f'{describe(color)} must be a colour like "#ff8000"')
        ok = False
    t.finish(known=BAND_KEYS)
    if (
        not ok
        or name is None
        or kind is None
        or led_pin is None
        or (kind != "resonator" and filt is None)
    ):
        return None
    return BandConfig(
        name=name,
        type=kind,
        filter=filt,
        led_pin=led_pin,
        color=(color or "#ffffff").lower(),
        cutoff_hz=values.get("cutoff_hz"),
        low_hz=values.get("low_hz"),
        high_hz=values.get("high_hz"),
        order=order,
        center_hz=values.get("center_hz"),
        bandwidth_hz=values.get("bandwidth_hz"),
        pole_radius=radius,
    )


def _freq_problem(v: float, fs: float | None, board_name: str) -> str | None:
    """Why a band frequency ``v`` (Hz) is refused at sample rate ``fs``, or None."""
    if v <= 0:
        return f"must be > 0 Hz, got {v:g}"
    if fs is None:
        return None
    fmax = MAX_FREQ_FRACTION * fs
    if v < fmax:
        return None
    where = "equals" if v == fmax else "is above"
    return (
        f"{v:g} Hz {where} 0.45·fs = {limit_text(fmax, v)} Hz for board {board_name} at "
        f"{fmt_hz(fs)} Hz (band frequencies must lie below it)"
    )


def _positive(v: float) -> str | None:
    return None if v > 0 else f"must be > 0 Hz, got {v:g}"


def _allowed_freq_keys(kind: str | None) -> tuple[str, ...]:
    if kind in ("lowpass", "highpass"):
        return ("cutoff_hz",)
    if kind == "bandpass":
        return ("low_hz", "high_hz")
    if kind == "resonator":
        return ("center_hz", "bandwidth_hz")
    return FREQ_KEYS  # unknown type: do not pile on more errors


def _read_order(t: TableReader, kind: str | None, filt: str | None) -> int | None:
    takes_order = filt in ("butterworth", "iir")
    if not takes_order:
        if t.has("order"):
            t.raw("order")
            what = "a resonator" if kind == "resonator" else f"filter = {filt!r}"
            t.error("order", f"{what} takes no order (only butterworth and iir do)")
        return None
    default = 4 if kind == "bandpass" else 2
    order = t.integer("order", default, lo=1, hi=12)
    if order is not None and kind == "bandpass" and filt == "butterworth" and order % 2:
        t.error("order", f"a butterworth band-pass needs an even order, got {order}")
        return None
    return order


def _input_pins(input_cfg: InputConfig | None) -> set[int]:
    if input_cfg is None:
        return set()
    return {p for p in (input_cfg.pin, input_cfg.sck, input_cfg.ws, input_cfg.sd) if p is not None}


def _default_led_pin(
    board: BoardProfile, led_mode: str, input_cfg: InputConfig | None, used: dict[int, str]
) -> int | None:
    candidates = board.pwm_pins if led_mode == "pwm" else board.output_pins
    taken = _input_pins(input_cfg)
    for pin in candidates:
        if pin not in used and pin not in taken and pin not in board.strapping_pins:
            return pin
    return None


def _read_led_pin(
    t: TableReader,
    board: BoardProfile | None,
    led_mode: str,
    input_cfg: InputConfig | None,
    used: dict[int, str],
    band_name: str,
) -> int | None:
    if board is None:
        t.raw("led_pin")
        return None
    input_pins = _input_pins(input_cfg)
    if not t.has("led_pin"):
        t.raw("led_pin")
        return -1  # filled in by read_bands once every explicit pin is known
    pin = t.integer("led_pin", lo=0, hi=63)
    if pin is None:
        return None
    where = board.pin_name(pin)
    if pin in board.forbidden_pins:
        t.error("led_pin", f"{where}: {board.forbidden_pins[pin]}")
    elif pin in board.input_only_pins:
        t.error("led_pin", f"{where} is input-only on {board.name}; it cannot drive an LED")
    elif pin not in board.output_pins:
        t.error("led_pin", f"{where} is not an output pin of {board.name}")
    elif led_mode == "pwm" and pin not in board.pwm_pins:
        pwm = ", ".join(str(p) for p in board.pwm_pins)
        t.error(
            "led_pin",
            f"{where} has no PWM on {board.name} (PWM pins: {pwm}); "
            'use one of those or leds.mode = "onoff"',
        )
    elif pin in input_pins:
        t.error("led_pin", f"{where} is the audio input")
    elif pin in used:
        t.error("led_pin", f"{where} is already the LED of band {used[pin]!r}: pins must be unique")
    else:
        used[pin] = band_name
        if pin in board.strapping_pins:
            t.problems.warn(
                t.key_path("led_pin"),
                f"{where} is a strapping pin: an LED driver on it can change the boot mode",
            )
        return pin
    return None
