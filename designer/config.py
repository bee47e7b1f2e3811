"""The organ config: TOML in, one validated, frozen :class:`OrganConfig` out.

Validation happens once, here, at the boundary. Every problem in a file is reported together,
each with its key path, the value and what is allowed; unknown keys get a did-you-mean. Defaults
live here and in the board profile, never in templates or C.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import params
from .boards import BOARDS, BoardProfile
from .config_bands import BandConfig, declared_names, read_bands
from .config_reader import (
    Problems,
    TableReader,
    describe,
    did_you_mean,
    fmt_hz,
    type_name,
)
from .config_training import TrainingConfig, read_training
from .errors import ConfigError

E_SERIES_NAMES = ("E12", "E24", "E96")
LED_MODES = ("pwm", "onoff")
I2S_MICS = ("inmp441", "sph0645")
RATE_TOLERANCE = 1e-4  # "a rate the board makes (within 0.01 %)"


@dataclass(frozen=True)
class InputConfig:
    """Where the audio comes from: an ADC pin, or an I2S microphone."""

    kind: str  # "adc" | "i2s"
    pin: int | None = None  # ADC: pin number (AVR: 14 for A0) / GPIO
    pin_name: str | None = None
    sck: int | None = None
    ws: int | None = None
    sd: int | None = None
    mic: str | None = None  # I2S microphone model


@dataclass(frozen=True)
class AnalogConfig:
    """The analog RC organ's parts (the bill of materials for people who build it)."""

    capacitor_f: float = 1e-6
    e_series: str = "E24"
    choose_capacitor: bool = False


@dataclass(frozen=True)
class LedConfig:
    """How band values reach the LEDs."""

    mode: str = "pwm"
    strip_pin: int | None = None  # optional WS2812 strip (FastLED)
    strip_count: int = 0


@dataclass(frozen=True)
class OrganConfig:
    """A whole, validated organ description. Paths are absolute."""

    board: BoardProfile
    sample_rate_hz: float
    input: InputConfig
    analog: AnalogConfig
    leds: LedConfig
    bands: tuple[BandConfig, ...]
    training: TrainingConfig | None
    dsp: dict[str, float] = field(
        default_factory=dict
    )  # runtime parameter defaults set by the user
    source: Path | None = None
    warnings: tuple[str, ...] = ()

    def band(self, name: str) -> BandConfig:
        """The band called ``name``."""
        for b in self.bands:
            if b.name == name:
                return b
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The config's values as resolved (defaults filled in), JSON-able."""
        out: dict[str, Any] = {
            "board": self.board.name,
            "sample_rate_hz": self.sample_rate_hz,
            "input": {k: v for k, v in vars(self.input).items() if v is not None},
            "analog": vars(self.analog).copy(),
            "leds": {k: v for k, v in vars(self.leds).items() if v is not None},
            "bands": [b.to_dict() for b in self.bands],
            "dsp": dict(sorted(self.dsp.items())),
        }
        if self.training is not None:
            out["training"] = self.training.to_dict()
        return out


def load_config(path: str | Path) -> OrganConfig:
    """Read and validate the TOML file at ``path``; raises ConfigError listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"no such config file: {path}"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"cannot read config: {e}"], str(path)) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"not valid TOML: {e}"], str(path)) from None
    return parse_config(raw, base_dir=path.resolve().parent, source=path)


def parse_config(raw: dict[str, Any], base_dir: Path, source: Path | None = None) -> OrganConfig:
    """Validate an already-parsed TOML document; data paths are relative to ``base_dir``."""
    problems = Problems()
    top = TableReader(raw, "", problems)
    board = _read_board(top)
    fs = _read_sample_rate(top, board) if board else None
    analog = _read_analog(TableReader(top.table_of("analog"), "analog", problems))
    leds = _read_leds(TableReader(top.table_of("leds"), "leds", problems), board)
    input_cfg = _read_input(TableReader(top.table_of("input"), "input", problems), board)
    training, trained = None, set()
    if "training" in raw:
        training, trained = read_training(
            TableReader(top.table_of("training"), "training", problems), base_dir, raw
        )
    # With a bad sample rate, check frequencies against the board's default rate rather than not
    # at all, so the user sees those problems in the same run.
    check_fs = fs if fs is not None else (board.default_rate_hz if board else None)
    bands = read_bands(
        top, board, check_fs, leds.mode if leds else "pwm", input_cfg, trained, problems
    )
    if training is not None:
        training = training.check_against_bands(bands, declared_names(raw.get("bands")), problems)
        rate_problem = training.sample_rate_problem(fs, board, RATE_TOLERANCE) if fs else None
        if rate_problem:
            problems.error("training.data", rate_problem)
    dsp = _read_dsp(TableReader(top.table_of("dsp"), "dsp", problems))
    if leds and leds.strip_pin is not None and board is not None:
        _check_strip_pin(leds.strip_pin, board, bands, input_cfg, problems)
    top.finish()
    if problems.errors:
        raise ConfigError(problems.errors, str(source) if source else None)
    assert board is not None and fs is not None and input_cfg is not None
    assert analog is not None and leds is not None
    return OrganConfig(
        board=board,
        sample_rate_hz=fs,
        input=input_cfg,
        analog=analog,
        leds=leds,
        bands=tuple(bands),
        training=training,
        dsp=dsp,
        source=source,
        warnings=tuple(problems.warnings),
    )


def _read_board(top: TableReader) -> BoardProfile | None:
    name = top.choice("board", BOARDS, required=True)
    return BOARDS[name] if name else None


def _read_sample_rate(top: TableReader, board: BoardProfile) -> float | None:
    requested = top.number(
        "sample_rate_hz", check=lambda v: None if v > 0 else f"must be > 0 Hz, got {v:g}"
    )
    if requested is None:
        return None if top.has("sample_rate_hz") else board.default_rate_hz
    nearest = board.nearest_rate(requested)
    if not board.makes_rate(requested, RATE_TOLERANCE):
        top.error(
            "sample_rate_hz",
            f"{requested:g} Hz is not a rate board {board.name} makes ({board.rates_text()}); "
            f"nearest: {fmt_hz(nearest)} Hz",
        )
        return None
    return nearest


def _read_analog(t: TableReader) -> AnalogConfig | None:
    c = t.number(
        "capacitor_f",
        1e-6,
        check=lambda v: None if 0 < v <= 1.0 else f"must be 0 < C <= 1 F, got {v:g}",
    )
    series = t.choice("e_series", E_SERIES_NAMES, "E24")
    choose = t.boolean("choose_capacitor", False)
    t.finish()
    if c is None or series is None or choose is None:
        return None
    return AnalogConfig(c, series, choose)


def _read_leds(t: TableReader, board: BoardProfile | None) -> LedConfig | None:
    mode = t.choice("mode", LED_MODES, "pwm")
    strip_pin = t.integer("strip_pin", None, lo=0, hi=63)
    count = t.integer("strip_count", 30 if t.has("strip_pin") else 0, lo=0, hi=1024)
    if t.has("strip_count") and not t.has("strip_pin"):
        t.error("strip_count", "needs leds.strip_pin (the WS2812 data pin)")
    if strip_pin is not None and board is not None and board.family == "avr" and count:
        # FastLED keeps 3 bytes per LED in RAM; the Uno's budget is 1 KB for everything.
        if count > 60:
            t.error(
                "strip_count", f"at most 60 LEDs fit the {board.name}'s RAM budget, got {count}"
            )
            count = None
    t.finish()
    if mode is None or count is None:
        return None
    return LedConfig(mode, strip_pin, count)


def _read_input(t: TableReader, board: BoardProfile | None) -> InputConfig | None:
    if board is None:
        t.seen.update(t.table)
        return None
    if board.family == "avr":
        name = t.string("pin", "A0")
        t.choice("kind", ("adc",), "adc")
        t.finish()
        if name is None:
            return None
        if name not in board.analog_inputs:
            hint = did_you_mean(name, board.analog_inputs)
            t.error(
                "pin",
                f"{describe(name)} is not an analog input of {board.name} "
                f"({', '.join(board.analog_inputs)}){hint}",
            )
            return None
        return InputConfig("adc", board.analog_inputs[name], name)
    kind = t.choice("kind", ("i2s", "adc"), "i2s")
    if kind == "adc":
        pin = t.integer("pin", required=True, lo=0, hi=48)
        t.finish()
        if pin is None:
            return None
        if pin in board.adc2_pins:
            t.error(
                "pin",
                f"GPIO{pin} is on ADC2, unusable while WiFi runs; use ADC1: "
                f"{', '.join(board.analog_inputs)}",
            )
            return None
        if pin not in board.analog_inputs.values():
            t.error(
                "pin",
                f"GPIO{pin} is not an ADC1 input of {board.name} "
                f"({', '.join(board.analog_inputs)})",
            )
            return None
        return InputConfig("adc", pin, f"GPIO{pin}")
    if kind is None:
        t.finish()
        return None
    assert board.default_i2s is not None
    pins = {}
    for key in ("sck", "ws", "sd"):
        pin = t.integer(key, board.default_i2s[key], lo=0, hi=48)
        if pin is None:
            continue
        if pin in board.forbidden_pins:
            t.error(key, f"GPIO{pin}: {board.forbidden_pins[pin]}")
        elif key != "sd" and pin not in board.output_pins:
            t.error(
                key, f"GPIO{pin} cannot drive the I2S clock (not an output pin of {board.name})"
            )
        elif key == "sd" and pin not in board.output_pins and pin not in board.input_only_pins:
            t.error(key, f"GPIO{pin} does not exist on {board.name}")
        else:
            pins[key] = pin
            if pin in board.strapping_pins:
                t.problems.warn(t.key_path(key), f"GPIO{pin} is a strapping pin; check boot mode")
    mic = t.choice("mic", I2S_MICS, "inmp441")
    t.finish()
    if len(pins) != 3 or mic is None:
        return None
    if not _i2s_pins_distinct(t, board, pins):
        return None
    return InputConfig("i2s", sck=pins["sck"], ws=pins["ws"], sd=pins["sd"], mic=mic)


def _i2s_pins_distinct(t: TableReader, board: BoardProfile, pins: dict[str, int]) -> bool:
    """sck, ws and sd must differ; a clash is reported on a key the user wrote (a default pin
    is said to be one), so the message points at the line to change."""
    ok = True
    keys = list(pins)
    for i, key in enumerate(keys):
        for other in keys[:i]:
            if pins[key] != pins[other]:
                continue
            blamed, kept = (other, key) if t.has(other) and not t.has(key) else (key, other)
            default = "" if t.has(kept) else f" (the {board.name} default)"
            t.error(
                blamed,
                f"GPIO{pins[key]} is also input.{kept}{default}: sck, ws and sd must be "
                "three different pins",
            )
            ok = False
            break  # one message per key, even when all three clash
    return ok


def _read_dsp(t: TableReader) -> dict[str, float]:
    """Runtime parameter defaults the user sets, in user units (dB, dBFS, ms, 0/1 for on/off
    switches), checked against the DSP core's bounds (designer.params)."""
    if not t.table:
        return {}
    names = [p.name for p in params.PARAMS]
    out: dict[str, float] = {}
    for key in list(t.table):
        if key not in names:
            continue
        value = _read_dsp_value(t, params.by_name(key))
        if value is not None:
            out[key] = value
    t.finish(known=names)
    return out


def _read_dsp_value(t: TableReader, p: params.Param) -> float | None:
    """One ``[dsp]`` value in user units; an on/off switch also takes true/false (stored as
    1.0/0.0, so ``agc = false`` and ``agc = 0`` give the same design)."""
    raw = t.raw(p.name)
    if p.encoding == "bool":
        if isinstance(raw, bool):
            return 1.0 if raw else 0.0
        if not isinstance(raw, int | float):
            t.error(p.name, f"must be true or false, got {type_name(raw)} {describe(raw)}")
            return None
    value = t.number(p.name)
    if value is None:
        return None
    problem = params.user_value_problem(p.name, value)
    if problem:
        t.error(p.name, problem)
        return None
    return value


def _check_strip_pin(pin: int, board: BoardProfile, bands, input_cfg, problems: Problems) -> None:
    path = "leds.strip_pin"
    if pin in board.forbidden_pins:
        problems.error(path, f"{board.pin_name(pin)}: {board.forbidden_pins[pin]}")
    elif pin not in board.output_pins:
        problems.error(path, f"{board.pin_name(pin)} cannot drive an output on {board.name}")
    elif any(b.led_pin == pin for b in bands):
        problems.error(path, f"{board.pin_name(pin)} is already a band's led_pin")
    elif input_cfg is not None and pin in (
        input_cfg.pin,
        input_cfg.sck,
        input_cfg.ws,
        input_cfg.sd,
    ):
        problems.error(path, f"{board.pin_name(pin)} is the audio input")
