"""Board profiles: what each supported board can do.

Pins, the sample rates its ADC or I2S peripheral makes exactly, the arithmetic the DSP core uses on
it, and the CPU and RAM budget a design must fit. Everything board-specific that the config
validation, the budget check and the templates need lives here, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal["avr", "esp32"]
Arithmetic = Literal["fixed", "float"]


@dataclass(frozen=True)
class BoardProfile:
    """One board. Frequencies in Hz, sizes in bytes, budgets in CPU cycles."""

    name: str
    family: Family
    pio_board: str  # PlatformIO board id
    pio_platform: str  # pinned PlatformIO platform
    mcu: str
    f_cpu_hz: int
    arithmetic: Arithmetic  # DSP core variant: fixed point or float32
    exact_rates_hz: tuple[float, ...]  # rates made by a clock divider (AVR ADC)
    rate_range_hz: tuple[int, int] | None  # whole-Hz rates made by I2S (ESP32)
    default_rate_hz: float
    output_pins: tuple[int, ...]  # pins that may drive an LED
    pwm_pins: tuple[int, ...]  # pins with hardware PWM
    analog_inputs: dict[str, int]  # analog input name -> pin number / GPIO
    forbidden_pins: dict[int, str]  # pin -> why it may not be used at all
    input_only_pins: tuple[int, ...] = ()
    adc2_pins: tuple[int, ...] = ()  # unusable as analog input while WiFi runs
    strapping_pins: tuple[int, ...] = ()  # usable, with a warning
    ram_bytes: int = 0  # total SRAM
    ram_budget_bytes: int = 0  # what a design's static RAM may take
    flash_budget_bytes: int = 0
    cpu_budget_fraction: float = 0.5  # share of the sample period the DSP may take
    default_i2s: dict[str, int] | None = None
    baud: int = 500000
    max_ledc_channels: int = 0

    def nearest_rate(self, requested_hz: float) -> float:
        """The rate this board makes that is closest to ``requested_hz``."""
        if self.rate_range_hz is not None:
            lo, hi = self.rate_range_hz
            return float(min(max(round(requested_hz), lo), hi))
        return min(self.exact_rates_hz, key=lambda r: abs(r - requested_hz))

    def makes_rate(self, requested_hz: float, tolerance: float) -> bool:
        """Whether this board makes ``requested_hz``: exactly a whole number of Hz in range on
        I2S (a fractional rate is not made, however close), or within the relative
        ``tolerance`` of a divider rate (19230.77 stands for 16 MHz / 64 / 13)."""
        nearest = self.nearest_rate(requested_hz)
        if self.rate_range_hz is not None:
            return requested_hz == nearest
        return abs(requested_hz - nearest) <= tolerance * nearest

    def rates_text(self) -> str:
        """Human-readable list of the rates this board makes."""
        if self.rate_range_hz is not None:
            lo, hi = self.rate_range_hz
            return f"any whole number of Hz from {lo} to {hi}"
        return " or ".join(f"{r:.2f}" for r in self.exact_rates_hz)

    def cycles_per_sample(self, fs_hz: float) -> float:
        """CPU cycles available in one sample period."""
        return self.f_cpu_hz / fs_hz

    def pin_name(self, pin: int) -> str:
        """How users and the board's silkscreen call a pin."""
        if self.family == "avr":
            for name, number in self.analog_inputs.items():
                if number == pin:
                    return f"{pin} ({name})"
            return f"D{pin}"
        return f"GPIO{pin}"


def _avr_rates() -> tuple[float, ...]:
    # The ADC free-runs: one conversion every 13 ADC clocks, ADC clock = F_CPU / prescaler.
    return (16_000_000 / 64 / 13, 16_000_000 / 128 / 13)


_AVR_COMMON = dict(
    family="avr",
    pio_platform="atmelavr@^5",
    mcu="atmega328p",
    f_cpu_hz=16_000_000,
    arithmetic="fixed",
    exact_rates_hz=_avr_rates(),
    rate_range_hz=None,
    default_rate_hz=16_000_000 / 64 / 13,
    # D0/D1 carry the serial link to the host.
    output_pins=tuple(range(2, 20)),
    # Pins 9/10 (Timer1), 11/3 (Timer2), 5/6 (Timer0, shared with millis()); defaults are
    # handed out in this order.
    pwm_pins=(9, 10, 11, 3, 5, 6),
    forbidden_pins={0: "D0 is the serial RX line to the host", 1: "D1 is the serial TX line"},
    ram_bytes=2048,
    ram_budget_bytes=1024,
    flash_budget_bytes=16 * 1024,
    cpu_budget_fraction=0.5,
    baud=500000,
)

UNO = BoardProfile(
    name="uno",
    pio_board="uno",
    analog_inputs={f"A{i}": 14 + i for i in range(6)},
    **_AVR_COMMON,
)

NANO = BoardProfile(
    name="nano",
    pio_board="nanoatmega328",
    # A6/A7 exist on the Nano's ATmega328P (TQFP) but are analog-only: inputs, never LEDs.
    analog_inputs={**{f"A{i}": 14 + i for i in range(6)}, "A6": 20, "A7": 21},
    **_AVR_COMMON,
)

_ESP32_FLASH = {p: f"GPIO{p} is wired to the SPI flash" for p in range(6, 12)}
# GPIOs that exist on the ESP32 and can drive an output (20, 24, 28-31 do not exist; 34-39 are
# input-only; 6-11 are the flash; 1/3 are the serial link).
_ESP32_OUTPUTS = tuple(
    p for p in range(0, 34) if p not in range(6, 12) and p not in (1, 3, 20, 24, 28, 29, 30, 31)
)
_ESP32C3_OUTPUTS = tuple(p for p in range(0, 12))

ESP32DEV = BoardProfile(
    name="esp32dev",
    family="esp32",
    pio_board="esp32dev",
    pio_platform="espressif32@^6",
    mcu="esp32",
    f_cpu_hz=240_000_000,
    arithmetic="float",
    exact_rates_hz=(),
    rate_range_hz=(8000, 48000),
    default_rate_hz=44100.0,
    output_pins=_ESP32_OUTPUTS,
    pwm_pins=_ESP32_OUTPUTS,
    analog_inputs={f"GPIO{p}": p for p in (32, 33, 34, 35, 36, 39)},
    forbidden_pins={
        **_ESP32_FLASH,
        1: "GPIO1 is the serial TX line (U0TXD)",
        3: "GPIO3 is the serial RX line (U0RXD)",
    },
    input_only_pins=(34, 35, 36, 37, 38, 39),
    adc2_pins=(0, 2, 4, 12, 13, 14, 15, 25, 26, 27),
    strapping_pins=(0, 2, 5, 12, 15),
    ram_bytes=327_680,
    ram_budget_bytes=160_000,
    flash_budget_bytes=1_310_720,
    cpu_budget_fraction=0.5,
    default_i2s={"sck": 32, "ws": 25, "sd": 33},
    baud=921600,
    max_ledc_channels=16,
)

ESP32C3 = BoardProfile(
    name="esp32c3",
    family="esp32",
    pio_board="esp32-c3-devkitm-1",
    pio_platform="espressif32@^6",
    mcu="esp32c3",
    f_cpu_hz=160_000_000,
    arithmetic="fixed",
    exact_rates_hz=(),
    rate_range_hz=(8000, 48000),
    default_rate_hz=44100.0,
    output_pins=_ESP32C3_OUTPUTS,
    pwm_pins=_ESP32C3_OUTPUTS,
    analog_inputs={f"GPIO{p}": p for p in (0, 1, 2, 3, 4)},
    forbidden_pins={
        **{p: f"GPIO{p} is wired to the SPI flash" for p in range(12, 18)},
        18: "GPIO18 is USB D- (the serial link to the host)",
        19: "GPIO19 is USB D+ (the serial link to the host)",
        20: "GPIO20 is the serial RX line (U0RXD)",
        21: "GPIO21 is the serial TX line (U0TXD)",
    },
    input_only_pins=(),
    adc2_pins=(5,),
    strapping_pins=(2, 8, 9),
    ram_bytes=409_600,
    ram_budget_bytes=200_000,
    flash_budget_bytes=1_310_720,
    cpu_budget_fraction=0.5,
    default_i2s={"sck": 4, "ws": 5, "sd": 6},
    baud=921600,
    max_ledc_channels=6,
)

BOARDS: dict[str, BoardProfile] = {b.name: b for b in (UNO, NANO, ESP32DEV, ESP32C3)}


def get_board(name: str) -> BoardProfile:
    """The profile of board ``name``; KeyError when unknown (config validation reports it)."""
    return BOARDS[name]
