"""Stage "check": does a design fit its board? Pins, input, CPU cycles per sample, static RAM.

Runs after quantization (the quantizer already proved stability and the absence of overflow) and
before rendering, so a refused design writes nothing. Every problem is reported at once in one
:class:`~designer.errors.BudgetError` that names the numbers (a
:class:`~designer.errors.QuantizationError` when the response is all that is wrong).

CPU: cycles per sample from a per-board cost model: the interrupt or audio-task overhead, the
per-sample part of the DSP core (DC blocker, input window sum, the control tick), per band and
per section kind, and (AVR) the control tasks, whose cycles per round are spread over the
``ctl_period`` samples of a round. On AVR there are two tables: the figures the refusal uses,
and the figures measured in simavr (``benchmarks/avr_dsp_cycles.py``: the generated steps, the
control tasks, and this firmware's pair interrupt; docs/dsp.md), which ``build`` reports next
to it; since the core meets its targets they are the same. ESP32 figures are conservative
estimates (no ESP32 toolchain here).

Response (fixed point): the quantizer scores the quantized *coefficients*; this scores the
*arithmetic*, whose rounding of a biquad's damping term ``beta hi(D)`` its poles amplify up to
``beta / gamma`` times (docs/dsp.md, section 4). Every band runs bit-exactly on the tones of
``designer verify``'s response stage, scored as verify scores a board
(designer/check_response.py); one more than ``MAX_ERROR_DB`` off is refused, so a built design
passes that stage.

RAM: static RAM (.data + .bss) from the layout of the C structures the firmware allocates
(``organ_app_t`` with the link, the DSP state and parameters; the design tables, which avr-gcc
keeps in RAM; the Arduino core's serial buffers; the HAL's globals), checked against
``BoardProfile.ram_budget_bytes``. On AVR ``tests/test_check.py`` compares this estimate with
avr-size of the real build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .boards import BoardProfile
from .check_response import response_problems
from .cstep_avr import structure
from .design import Design
from .errors import BudgetError, QuantizationError

#: AVR cycles per sample as measured in simavr (avr-gcc 5.4 -Os, the firmware's flags,
#: benchmarks/avr_bench.py on the generated firmware, benchmarks/avr_dsp_cycles.py per section)
#: with the two-sample interrupt: isr: the interrupt of every other conversion keeping its
#: sample, and the pair's entry, register saves, flags and exit, per sample; base: DC blocker,
#: input window sum, control tick; band: its window sum and output; per section kind in the
#: two-sample step (LP1/HP1 with byte coefficients sharing x + x1; BQ and BQ_GAIN as the
#: per-section assembly of designer/cstep_avr.py, the interrupt's extra register saves
#: included; bq: a structured numerator (Butterworth: (1 +- z^-1)^2, 1 - z^-2), bq_general: any
#: other numerator (its history read from memory, one mantissa a whole number of bytes): the
#: structured figure plus the 32 cycles per sample the per-section benchmark measures between
#: the two for a trained-like numerator, bq_general_mp (19 for the symmetric elliptic one,
#: bq_general)). The control tasks in cycles per round, spread over its ctl_period samples:
#: windows, input and AGC, and per band its task and window. Fitted to the generated firmware
#: of the classic, learned and resonator examples and the Butterworth organ of
#: benchmarks/avr_dsp_cycles.py (BUTTERWORTH_TOML: four structured BQ) in
#: benchmarks/avr_bench.py's measurement (372, 372, 623 and 584 cycles per sample measured;
#: this model: 372, 372, 624 and 584).
AVR_CYCLES_MEASURED: dict[str, float] = {
    "isr": 84.0,
    "base": 48.0,
    "band": 17.0,
    "lp1": 36.0,
    "hp1": 39.0,
    "bq_gain": 91.5,
    "bq": 90.5,
    "bq_general": 122.5,
    "control_round": 575.0,
    "control_band": 431.0,
}
#: What the refusal uses: the measured figures (the core meets its targets: <= 70 cycles per
#: first-order section, the classic organ within half its sample period).
AVR_CYCLES: dict[str, float] = dict(AVR_CYCLES_MEASURED)
#: ESP32 (Xtensa LX6, float) and ESP32-C3 (RISC-V, fixed point): cycles per sample, including
#: the spinlock around each sample and the I2S buffer copy.
ESP32_CYCLES: dict[str, dict[str, float]] = {
    "float": {"isr": 250.0, "base": 150.0, "band": 60.0, "lp1": 30.0, "hp1": 35.0,
              "bq_gain": 40.0, "bq": 60.0},
    "fixed": {"isr": 250.0, "base": 200.0, "band": 60.0, "lp1": 40.0, "hp1": 45.0,
              "bq_gain": 60.0, "bq": 90.0},
}

#: AVR static RAM, bytes. organ_app_t without the band/section-sized parts (the link's 233 bytes
#: of frame buffers and counters, the parameters, hooks, storage binding, flags).
AVR_APP_FIXED = 366
#: organ_state_t = 78 + 29 per band (of ORGAN_MAX_BANDS) + 12 per section
AVR_STATE_FIXED, AVR_STATE_PER_BAND, AVR_STATE_PER_SECTION = 78, 29, 12
#: organ_app_t.out[]: 5 bytes per band
AVR_OUT_PER_BAND = 5
#: design tables: organ_design_t (23); 5 per band, 2 per band-name pointer, plus the names
#: themselves (the filters are the generated step, the parameter defaults are kept in flash)
AVR_TABLES_FIXED, AVR_TABLES_PER_BAND = 23, 7
#: Arduino core and HAL globals besides the serial buffers: Serial object (29), millis (9),
#: vtable (18), board and identity structs (35), gamma table (17), switch tables, flags and
#: small constants (15), the pair interrupt's held sample and phase (3)
AVR_BASE = 126
#: HardwareSerial buffers: receive (Arduino default) and transmit (set by the build flags)
AVR_SERIAL_RX = 64
AVR_SERIAL_TX = 32
#: per band in the HAL: LED pin table and the last value written
AVR_HAL_PER_BAND = 2
#: WS2812 strip: 3 bytes per LED, plus FastLED's controller objects and the HAL's timers
AVR_STRIP_FIXED, AVR_STRIP_PER_LED = 48, 3

#: ESP32: static RAM of an Arduino-ESP32 sketch before our code (core, FreeRTOS, I2S driver
#: buffers: 8 DMA buffers of 64 frames), and of the application
ESP32_BASE = 24_000
ESP32_APP_FIXED = 1_200
ESP32_PER_BAND = 80
ESP32_PER_SECTION = 40


@dataclass(frozen=True)
class Budget:
    """What a design costs on its board. Cycles per sample, bytes of static RAM."""

    board: str
    cycles_per_sample: float
    cycles_available: float  # F_CPU / fs: one sample period
    cycles_budget: float  # the share of it the DSP may take
    ram_bytes: int
    ram_budget_bytes: int
    pwm_channels: int
    cycles_breakdown: dict[str, float] = field(default_factory=dict)
    ram_breakdown: dict[str, int] = field(default_factory=dict)
    cycles_measured: float | None = None  # AVR: the same design by the measured figures
    #: fixed point: each band's largest error (dB) on verify's tones, whole record, bit-exact
    response_error_db: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_load(self) -> float:
        """Estimated fraction of the sample period the per-sample work takes."""
        return self.cycles_per_sample / self.cycles_available

    def to_dict(self) -> dict[str, Any]:
        """The ``budget`` object of ``build --json``."""
        return {
            "board": self.board,
            "cycles_per_sample": round(self.cycles_per_sample, 1),
            "cycles_available": round(self.cycles_available, 1),
            "cycles_budget": round(self.cycles_budget, 1),
            "cpu_load": round(self.cpu_load, 4),
            "ram_bytes": self.ram_bytes,
            "ram_budget_bytes": self.ram_budget_bytes,
            "pwm_channels": self.pwm_channels,
            "cycles_breakdown": {k: round(v, 1) for k, v in self.cycles_breakdown.items()},
            "ram_breakdown": dict(self.ram_breakdown),
            "cycles_measured": (None if self.cycles_measured is None
                                else round(self.cycles_measured, 1)),
            "cpu_load_measured": (None if self.cycles_measured is None
                                  else round(self.cycles_measured / self.cycles_available, 4)),
            "response_error_db": {k: round(v, 4) for k, v in self.response_error_db.items()},
        }


def _section_kinds(design: Design) -> list[str]:
    """Section kinds of the cost tables; on AVR a BQ without a structured numerator is
    ``bq_general``: designer/cstep_avr.py runs it in pairs too, but with its input history read
    from memory and more partial products, so it costs more than a structured numerator."""
    avr = design.board.family == "avr"
    return ["bq_general" if avr and s.kind == "bq" and structure(s) is None else s.kind
            for b in design.quantized.bands for s in b.sections]


def estimate_cycles(design: Design, measured: bool = False) -> tuple[float, dict[str, float]]:
    """(cycles per sample, breakdown by item) on the design's board; ``measured`` selects the
    AVR figures measured in simavr instead of the ones the refusal uses."""
    board = design.board
    qd = design.quantized
    n = qd.n_bands
    if board.family == "avr":
        cost = AVR_CYCLES_MEASURED if measured else AVR_CYCLES
    else:
        cost = ESP32_CYCLES[qd.arithmetic]
    parts = {"isr": cost["isr"], "base": cost["base"], "bands": cost["band"] * n}
    if board.family == "avr":
        parts["control"] = (cost["control_round"] + cost["control_band"] * n) / qd.ctl_period
    for kind in _section_kinds(design):
        parts[kind] = parts.get(kind, 0.0) + cost[kind]
    return sum(parts.values()), parts


def estimate_ram(design: Design) -> tuple[int, dict[str, int]]:
    """(static RAM bytes, breakdown) of the firmware for ``design``."""
    qd = design.quantized
    nb, ns = qd.n_bands, qd.n_sections
    leds = design.config.get("leds", {})
    strip = int(leds.get("strip_count", 0)) if leds.get("strip_pin") is not None else 0
    if design.board.family != "avr":
        parts = {
            "core": ESP32_BASE,
            "app": ESP32_APP_FIXED + ESP32_PER_BAND * nb + ESP32_PER_SECTION * ns,
            "strip": 3 * strip,
        }
        return sum(parts.values()), parts
    state = AVR_STATE_FIXED + AVR_STATE_PER_BAND * nb + AVR_STATE_PER_SECTION * ns
    names = sum(len(b.name.encode("utf-8")) + 1 for b in qd.bands)
    parts = {
        "app": AVR_APP_FIXED + state + AVR_OUT_PER_BAND * nb,
        "tables": AVR_TABLES_FIXED + AVR_TABLES_PER_BAND * nb + names,
        "serial": AVR_SERIAL_RX + AVR_SERIAL_TX,
        "core": AVR_BASE + AVR_HAL_PER_BAND * nb,
        "strip": AVR_STRIP_FIXED + AVR_STRIP_PER_LED * strip if strip else 0,
    }
    return sum(parts.values()), parts


def _pin_problems(design: Design) -> list[str]:
    board = design.board
    leds = design.config.get("leds", {})
    mode = leds.get("mode", "pwm")
    out: list[str] = []
    seen: dict[int, str] = {}
    for w in design.wiring:
        pin, where = w.led_pin, board.pin_name(w.led_pin)
        if pin in board.forbidden_pins:
            out.append(f"band {w.name!r}: LED on {where}: {board.forbidden_pins[pin]}")
        elif pin in board.input_only_pins:
            out.append(f"band {w.name!r}: {where} is input-only on {board.name}")
        elif pin not in board.output_pins:
            out.append(f"band {w.name!r}: {where} is not an output pin of {board.name}")
        elif mode == "pwm" and pin not in board.pwm_pins:
            out.append(f"band {w.name!r}: {where} has no PWM on {board.name} "
                       f"(PWM pins: {', '.join(map(str, board.pwm_pins))})")
        if pin in seen:
            out.append(f"band {w.name!r}: {where} is already the LED of band {seen[pin]!r}")
        seen[pin] = w.name
    if board.family == "esp32" and mode == "pwm" and len(design.wiring) > board.max_ledc_channels:
        out.append(f"{len(design.wiring)} PWM LEDs, but the {board.name} has "
                   f"{board.max_ledc_channels} LEDC channels (use leds.mode = \"onoff\")")
    return out


def _input_problems(design: Design) -> list[str]:
    board = design.board
    inp = design.config.get("input", {})
    kind = inp.get("kind", "adc")
    pins = {w.led_pin for w in design.wiring}
    out: list[str] = []
    if kind == "adc":
        pin = inp.get("pin")
        if pin not in board.analog_inputs.values():
            names = ", ".join(board.analog_inputs)
            out.append(f"input pin {pin!r} is not an analog input of {board.name} ({names})")
        elif pin in board.adc2_pins:
            out.append(f"input GPIO{pin} is on ADC2, unusable while WiFi runs")
        elif board.family == "esp32" and board.name != "esp32dev":
            out.append(f"analog input on {board.name} is not supported by the generated firmware "
                       "(it samples ADC1 through the ESP32's I2S ADC mode): use an I2S microphone")
        if pin in pins:
            out.append(f"input pin {board.pin_name(pin)} is also an LED pin")
        if board.family == "avr":
            exact = [abs(design.sample_rate_hz - r) <= 1e-4 * r for r in board.exact_rates_hz]
            if not any(exact):
                out.append(f"sample rate {design.sample_rate_hz:.2f} Hz is not a rate of the "
                           f"free-running ADC ({board.rates_text()} Hz)")
    else:
        for key in ("sck", "ws", "sd"):
            pin = inp.get(key)
            if pin is None or pin in board.forbidden_pins:
                out.append(f"I2S {key} pin {pin!r} cannot be used on {board.name}")
            elif pin in pins:
                out.append(f"I2S {key} pin GPIO{pin} is also an LED pin")
    return out


def check_design(design: Design) -> Budget:
    """The design's budget on its board; BudgetError listing every problem when it does not fit
    (or uses pins the firmware cannot drive), QuantizationError when only its fixed-point
    response is more than MAX_ERROR_DB off (``response_problems``)."""
    board: BoardProfile = design.board
    cycles, cparts = estimate_cycles(design)
    response, off = response_problems(design)
    ram, rparts = estimate_ram(design)
    available = board.cycles_per_sample(design.sample_rate_hz)
    budget = Budget(
        board=board.name,
        cycles_per_sample=cycles,
        cycles_available=available,
        cycles_budget=board.cpu_budget_fraction * available,
        ram_bytes=ram,
        ram_budget_bytes=board.ram_budget_bytes,
        pwm_channels=len(design.wiring),
        cycles_breakdown=cparts,
        ram_breakdown=rparts,
        cycles_measured=estimate_cycles(design, measured=True)[0]
        if board.family == "avr" else None,
        response_error_db=response,
    )
    problems = _pin_problems(design) + _input_problems(design)
    if cycles > budget.cycles_budget:
        top = ", ".join(f"{k} {v:.0f}" for k, v in sorted(cparts.items(), key=lambda kv: -kv[1]))
        problems.append(
            f"CPU: about {cycles:.0f} cycles per sample, over the budget of "
            f"{budget.cycles_budget:.0f} ({board.cpu_budget_fraction:.0%} of the "
            f"{available:.0f}-cycle sample period at {design.sample_rate_hz:.2f} Hz on "
            f"{board.name}); {top}. Use fewer bands or sections, or a lower sample rate "
            f"(sample_rate_hz: {board.rates_text()})"
        )
    if ram > board.ram_budget_bytes:
        top = ", ".join(f"{k} {v}" for k, v in sorted(rparts.items(), key=lambda kv: -kv[1]) if v)
        problems.append(
            f"RAM: about {ram} bytes of static RAM, over the budget of "
            f"{board.ram_budget_bytes} on {board.name} ({board.ram_bytes} in all, the rest is "
            f"the stack); {top}. Use fewer bands or sections, or a shorter LED strip"
        )
    if problems:
        problems += off  # every problem at once; the budget's first
        raise BudgetError(
            f"the design does not fit the {board.name}: " + "; ".join(problems)
            if len(problems) == 1
            else f"the design does not fit the {board.name}:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    if off:
        raise QuantizationError(off[0] if len(off) == 1 else f"{len(off)} bands are off:\n"
                                + "\n".join(f"  - {p}" for p in off))
    return budget

