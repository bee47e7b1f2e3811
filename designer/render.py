"""Stage "render": a :class:`~designer.design.Design` in, every file of its PlatformIO project out.

The project (``firmware/`` for the bundled default) is computed in memory as an
:class:`~designer.outfiles.FilePlan`; :func:`designer.outfiles.write_plan` writes it. Files:

- ``platformio.ini``, ``src/main.cpp`` (the board's HAL: AVR or ESP32), ``include/organ_design.h``
  (the quantized tables, with the float design and its provenance in comments) and
  ``include/organ_board.h`` (pins, input, LED mode): rendered from ``firmware_templates/`` with
  Jinja2, each with the generated-file banner;
- ``lib/organ_dsp``, ``lib/organ_link``, ``lib/organ_app``: verbatim copies of the portable C;
- ``design.json``: the design as compiled in (no banner).

Templates only format values computed here. Every value that reaches C goes through
:mod:`designer.ctables` (the one place that writes C literals and comments), and the text in
banners is reduced to printable ASCII, so no config string can end a comment or a literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2

from . import __version__, ctables
from .boards import BoardProfile
from .check import AVR_SERIAL_TX
from .design import GENERATOR, Design
from .outfiles import FilePlan, with_banner
from .resources import TEMPLATES

LIB_DIRS = ("organ_dsp", "organ_link", "organ_app")
LIB_SUFFIXES = (".c", ".h")
# ESP32 GPIO -> ADC1 channel (ESP32 technical reference, "RTC IO MUX")
ESP32_ADC1_CHANNELS = {36: 0, 37: 1, 38: 2, 39: 3, 32: 4, 33: 5, 34: 6, 35: 7}
AVR_ADC_PRESCALERS = {64: 6, 128: 7}  # ADPS2..0 bits of ADCSRA
FASTLED_DEP = "fastled/FastLED@^3.6.0"
# Q formats reported by INFO: y is the band output as a Q15 fraction of full scale (before the
# band's in_shift and section scaling, per band in design.json); env is in "m-units", integers.
Y_FRAC_BITS = 15
ENV_FRAC_BITS = 0


def pio_env(board: BoardProfile) -> str:
    """The PlatformIO environment name of a board's project (``uno``, ``nano``, ...)."""
    return board.name


def banner_text(text: str) -> str:
    """``text`` safe inside a one-line ``//`` or ``;`` comment: printable ASCII without ``\\``
    (a trailing backslash would continue a ``//`` comment onto the next line)."""
    return "".join(ch if " " <= ch <= "~" and ch != "\\" else "_" for ch in str(text))


def fs_millihz(fs_hz: float) -> int:
    """The sample rate in mHz, as INFO reports it."""
    return int(round(fs_hz * 1000.0))


def _hash_bytes_c(hex_digest: str) -> str:
    data = bytes.fromhex(hex_digest)
    rows = []
    for i in range(0, len(data), 8):
        rows.append("    " + ", ".join(f"0x{b:02x}" for b in data[i : i + 8]) + ",")
    return "\n".join(rows)


def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


@dataclass(frozen=True)
class _Band:
    """A band as the templates see it: every string already a C literal or comment."""

    index: int
    name_comment: str
    led_pin: int
    rgb: tuple[int, int, int]
    comments: tuple[str, ...]


def _band_comments(design: Design, i: int) -> tuple[str, ...]:
    """Provenance of band i: the float design it came from, one C comment per line."""
    f = design.filters.bands[i]
    w = design.wiring[i]

    def nums(v: Any) -> str:
        return "[" + ", ".join(f"{x:.6g}" for x in v) + "]"

    lines = [
        f"band {i} {f.name}: {f.type}, filter {f.filter}, LED pin {w.led_pin}, colour {w.color}",
        f"  cutoffs_hz {nums(f.cutoffs_hz)}, -3 dB edges_hz {nums(f.edges_hz)}",
    ]
    if f.resistors_ohm:
        lines.append(
            f"  RC twin: C = {f.capacitor_f:g} F, R = {nums(f.resistors_ohm)} ohm, "
            f"E-series {nums(f.resistors_e_series_ohm)} ohm"
        )
    if f.pole_radius is not None:
        lines.append(f"  pole radius {f.pole_radius!r}")
    for k, row in enumerate(f.sos.tolist()):
        lines.append(
            f"  float sos[{k}]: b = [{row[0]!r}, {row[1]!r}, {row[2]!r}], "
            f"a = [{row[3]!r}, {row[4]!r}, {row[5]!r}]"
        )
    return tuple(ctables.c_comment(t) for t in lines)


def _input_context(design: Design) -> dict[str, Any]:
    """What the HAL needs to know about the audio input."""
    board = design.board
    inp = dict(design.config.get("input", {}))
    kind = inp.get("kind", "adc")
    ctx: dict[str, Any] = {"kind": kind}
    if board.family == "avr":
        pin = int(inp.get("pin", board.analog_inputs["A0"]))
        prescaler = round(board.f_cpu_hz / 13 / design.sample_rate_hz)
        if prescaler not in AVR_ADC_PRESCALERS:
            raise ValueError(f"no ADC prescaler makes {design.sample_rate_hz} Hz on {board.name}")
        ctx.update(
            adc_channel=pin - 14,
            pin_name=ctables.c_comment(board.pin_name(pin)),
            prescaler=prescaler,
            prescaler_bits=AVR_ADC_PRESCALERS[prescaler],
        )
    elif kind == "i2s":
        ctx.update(
            sck=int(inp["sck"]),
            ws=int(inp["ws"]),
            sd=int(inp["sd"]),
            sph0645=int(inp.get("mic") == "sph0645"),
            mic=ctables.c_comment(f"I2S microphone {inp.get('mic', 'inmp441')}"),
        )
    else:
        gpio = int(inp["pin"])
        if board.name != "esp32dev" or gpio not in ESP32_ADC1_CHANNELS:
            raise ValueError(f"GPIO{gpio} is not an ADC1 input the {board.name} HAL samples")
        ctx.update(gpio=gpio, adc1_channel=ESP32_ADC1_CHANNELS[gpio])
    return ctx


def template_context(design: Design) -> dict[str, Any]:
    """Every value the templates use, computed and escaped here."""
    board = design.board
    qd = design.quantized
    leds = design.config.get("leds", {})
    strip_pin = leds.get("strip_pin")
    strip_count = int(leds.get("strip_count", 0)) if strip_pin is not None else 0
    macros = ctables.design_macros(qd)
    major, minor, patch = (int(p) for p in (__version__.split(".") + ["0", "0"])[:3])
    bands = tuple(
        _Band(
            index=i,
            name_comment=ctables.c_comment(w.name),
            led_pin=int(w.led_pin),
            rgb=_rgb(w.color),
            comments=_band_comments(design, i),
        )
        for i, w in enumerate(design.wiring)
    )
    return {
        "generator": banner_text(GENERATOR),
        "config_name": banner_text(design.config_name),
        "config_comment": ctables.c_comment(f"config {design.config_name}"),
        "board": board,
        "env": pio_env(board),
        "float": qd.arithmetic == "float",
        "arithmetic": qd.arithmetic,
        "max_bands": macros["ORGAN_MAX_BANDS"],
        "max_sections": macros["ORGAN_MAX_SECTIONS"],
        "n_bands": qd.n_bands,
        "fs_hz": design.sample_rate_hz,
        "fs_text": f"{design.sample_rate_hz:.6f}",
        "fs_millihz": fs_millihz(design.sample_rate_hz),
        "fs_int": int(round(design.sample_rate_hz)),
        "baud": board.baud,
        "fw_version": (major, minor, patch),
        "y_frac_bits": Y_FRAC_BITS,
        "env_frac_bits": ENV_FRAC_BITS,
        "design_hash": design.hash,
        "hash_bytes": _hash_bytes_c(design.hash),
        "board_name": ctables.c_string(board.name),
        "tables": ctables.design_tables_c(qd, name="organ_design", storage="static"),
        "bands": bands,
        "led_onoff": int(leds.get("mode", "pwm") == "onoff"),
        "input": _input_context(design),
        "strip_pin": strip_pin,
        "strip_count": strip_count,
        "lib_deps": [FASTLED_DEP] if strip_count else [],
        "soft_restart": int(board.name == "nano"),
        "serial_tx_buffer": AVR_SERIAL_TX,
    }


def environment() -> jinja2.Environment:
    """The Jinja2 environment of the firmware templates: undefined names are errors."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _main_template(board: BoardProfile) -> str:
    return "src/main_avr.cpp.j2" if board.family == "avr" else "src/main_esp32.cpp.j2"


def rendered_sources(design: Design) -> dict[str, str]:
    """The generated sources (path -> text with banner), without the verbatim libraries."""
    env = environment()
    ctx = template_context(design)
    jobs = {
        "platformio.ini": "platformio.ini.j2",
        "src/main.cpp": _main_template(design.board),
        "include/organ_design.h": "include/organ_design.h.j2",
        "include/organ_board.h": "include/organ_board.h.j2",
    }
    out = {}
    for rel, template in jobs.items():
        body = env.get_template(template).render(**ctx)
        out[rel] = with_banner(rel, body, ctx["generator"], ctx["config_name"], design.hash)
    return out


def library_files() -> dict[str, str]:
    """The portable C copied verbatim into ``lib/`` (path -> text)."""
    out = {}
    for name in LIB_DIRS:
        for path in sorted((TEMPLATES / "lib" / name).iterdir()):
            if path.is_file() and path.suffix in LIB_SUFFIXES:
                out[f"lib/{name}/{path.name}"] = path.read_text(encoding="utf-8")
    return out


def render_project(design: Design) -> FilePlan:
    """Every file of the project for ``design``: same design, byte-identical plan."""
    plan = FilePlan()
    for rel, text in rendered_sources(design).items():
        plan.add(rel, text)
    for rel, text in library_files().items():
        plan.add(rel, text)
    plan.add("design.json", design.to_json())
    return plan
