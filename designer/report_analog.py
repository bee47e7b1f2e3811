"""The analog side of a build, for the person wiring it: microphone bias, anti-alias RC, LED drive.

Part values come from the config's E-series (resistors) and the E6 capacitor series; currents
and voltages are typical values, stated as such. Units: ohms, farads, volts, amperes, hertz.

Board limits used (datasheets):
- ATmega328P (uno, nano): 20 mA recommended / 40 mA absolute maximum per I/O pin, 200 mA total
  through VCC and GND; 10 kΩ or less source impedance at an ADC pin; 5 V logic.
- ESP32 / ESP32-C3: about 20 mA per GPIO at the default drive strength, 40 mA at the strongest
  setting; 3.3 V logic (never 5 V on a pin).
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

from . import analog

#: ADC sample-and-hold capacitance of the ATmega328P (datasheet: 14 pF); the anti-alias
#: capacitor must dwarf it so a conversion barely discharges the pin.
SH_CAPACITANCE_F = 14e-12
AA_CAPACITORS_F = (10e-9, 22e-9, 47e-9, 100e-9)
ADC_MAX_SOURCE_OHM = 10_000.0
BIAS_HIGHPASS_HZ = 10.0  # the coupling capacitor's corner: below every band (DC blocker: 5 Hz)
GATE_PULLDOWN_OHM = 100_000.0  # holds the MOSFET off while the pin floats (reset, boot)


@dataclass(frozen=True)
class BoardElectrical:
    """Supply and pin limits of a board family."""

    logic_v: float
    pin_recommended_a: float
    pin_absolute_a: float
    total_a: float | None  # all pins together, None where the datasheet gives no single number
    adc_full_scale_v: tuple[float, float] | None  # ADC input range, volts


ELECTRICAL = {
    "avr": BoardElectrical(5.0, 0.020, 0.040, 0.200, (0.0, 5.0)),
    # ESP32 ADC1 at 11 dB attenuation reads about 0.15-2.45 V.
    "esp32": BoardElectrical(3.3, 0.020, 0.040, None, (0.15, 2.45)),
}


def snap_up(value: float, series: str | tuple[float, ...]) -> float:
    """The smallest preferred value >= ``value`` (so a current or a corner never overshoots)."""
    mantissas = analog.E_SERIES[series] if isinstance(series, str) else series
    decade = math.floor(math.log10(value))
    for d in (decade, decade + 1):
        for m in mantissas:
            cand = float(f"{m * 10.0**d:.3g}")
            if cand >= value * (1 - 1e-9):
                return cand
    return float(f"{mantissas[0] * 10.0 ** (decade + 2):.3g}")


@dataclass(frozen=True)
class RcFilter:
    """A first-order RC low-pass at the ADC pin."""

    r_ohm: float
    c_f: float
    corner_hz: float
    target_hz: float

    def attenuation_db(self, f_hz: float) -> float:
        """Its magnitude at ``f_hz``, dB (negative)."""
        return float(20.0 * math.log10(analog.lowpass_mag(f_hz, self.corner_hz)))


def anti_alias(fs: float, series: str) -> RcFilter:
    """A first-order RC at the ADC input with its corner at fs/4, well below fs/2.

    The smallest capacitor of :data:`AA_CAPACITORS_F` (each ≥ 700× the sample-and-hold
    capacitance) that keeps R ≤ 10 kΩ, R snapped up to ``series`` (the corner lands at or
    just below fs/4)."""
    target = fs / 4.0
    for c in AA_CAPACITORS_F:
        r = snap_up(analog.resistor_for_cutoff(target, c), series)
        if r <= ADC_MAX_SOURCE_OHM:
            break
    return RcFilter(r, c, analog.cutoff_for_resistor(r, c), target)


@dataclass(frozen=True)
class Bias:
    """Re-biasing an AC-coupled microphone output: coupling capacitor into a divider."""

    r_top_ohm: float
    r_bottom_ohm: float
    bias_v: float
    c_couple_f: float
    highpass_hz: float


def mic_bias(family: str, series: str) -> Bias:
    """A divider that sets the ADC pin's DC level to the middle of its input range, and a
    coupling capacitor whose high-pass corner sits at or below :data:`BIAS_HIGHPASS_HZ`."""
    el = ELECTRICAL[family]
    lo, hi = el.adc_full_scale_v or (0.0, el.logic_v)
    mid = 0.5 * (lo + hi)
    r_top = 100_000.0
    r_bot = analog.snap(r_top * mid / (el.logic_v - mid), series)
    v = el.logic_v * r_bot / (r_top + r_bot)
    r_th = r_top * r_bot / (r_top + r_bot)
    c = snap_up(1.0 / (2 * math.pi * r_th * BIAS_HIGHPASS_HZ), analog.CAPACITOR_SERIES)
    return Bias(r_top, r_bot, v, c, 1.0 / (2 * math.pi * r_th * c))


def led_forward_voltage(color: str) -> tuple[str, float]:
    """(colour name, typical forward voltage) of an indicator LED of this RGB colour."""
    r, g, b = (int(color[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    hue = h * 360.0
    if s < 0.25:
        return "white", 3.1
    if hue < 20 or hue >= 345:
        return "red", 2.0
    if hue < 45:
        return "orange", 2.1
    if hue < 70:
        return "yellow", 2.1
    if hue < 165:
        return "green", 3.0
    if hue < 200:
        return "cyan", 3.1
    if hue < 260:
        return "blue", 3.1
    if hue < 290:
        return "violet", 3.2
    return "pink", 3.1


@dataclass(frozen=True)
class LedDrive:
    """One band's LED: series resistor and resulting current, from the pin (``supply_v`` = the
    logic level) or, when the pin's voltage leaves under 1 V for the resistor (blue and white
    LEDs on 3.3 V), from 5 V through the MOSFET switch (``needs_mosfet``)."""

    band: str
    pin: str
    color_name: str
    vf: float
    supply_v: float
    target_a: float
    r_ohm: float
    current_a: float
    needs_mosfet: bool

    @property
    def resistor_w(self) -> float:
        return self.current_a**2 * self.r_ohm


#: supply for LEDs switched by a MOSFET when the logic level is too low for them
MOSFET_SUPPLY_V = 5.0
MOSFET_LED_A = 0.015


def led_target_current(family: str, n_leds: int) -> float:
    """Per-pin LED current: 15 mA (AVR; below its 20 mA recommendation) or 10 mA (ESP32), lower
    when all LEDs together would use more than 150 mA of the AVR's 200 mA total."""
    if family == "avr":
        return min(0.015, math.floor(150.0 / max(n_leds, 1)) / 1000.0)
    return 0.010


def led_drives(
    family: str, pins: list[tuple[str, str, str]], series: str
) -> list[LedDrive]:
    """One :class:`LedDrive` per (band, pin name, colour): R = (V_supply − V_f) / I, snapped up."""
    el = ELECTRICAL[family]
    target = led_target_current(family, len(pins))
    out = []
    for band, pin, color in pins:
        name, vf = led_forward_voltage(color)
        mosfet = el.logic_v - vf < 1.0
        supply, amps = (MOSFET_SUPPLY_V, MOSFET_LED_A) if mosfet else (el.logic_v, target)
        r = snap_up((supply - vf) / amps, series)
        out.append(LedDrive(band, pin, name, vf, supply, amps, r, (supply - vf) / r, mosfet))
    return out


@dataclass(frozen=True)
class MosfetDrive:
    """A logic-level N-MOSFET low-side switch for a strip or a high-current LED."""

    parts: str
    gate_ohm: float
    pulldown_ohm: float
    gate_peak_a: float


def mosfet_drive(family: str, series: str) -> MosfetDrive:
    """Gate resistor so that charging the gate never pulls more than the pin's recommended
    current, and a pull-down that keeps the load off while the pin floats."""
    el = ELECTRICAL[family]
    r = snap_up(el.logic_v / el.pin_recommended_a, series)
    if family == "avr":
        parts = ("IRLZ44N (TO-220, logic level: fully on at V_GS = 5 V) or AO3400A (SOT-23, "
                 "5.7 A, 30 V)")
    else:
        parts = ("AO3400A (SOT-23, R_DS(on) rated at V_GS = 2.5 V) or IRLML6344; not IRLZ44N, "
                 "IRF520 or IRFZ44N: they are not fully on at 3.3 V")
    return MosfetDrive(parts, r, GATE_PULLDOWN_OHM, el.logic_v / r)
