"""Audio through the bit-exact firmware model: WAV in, LED on intervals (and plot data) out.

The audio is mixed to mono, resampled to the design's sample rate with a polyphase filter
(``scipy.signal.resample_poly``), mapped to the int16 samples the board's input HAL would hand
the DSP core (:func:`to_core_samples`), and run through the DSP core compiled for the host
(:mod:`designer.native`), block by block. An LED counts as on while the core's PWM value for
it is above 0.

Full scale (WAV ±1.0) is the ADC's full scale:

- ``avr`` (uno, nano; microphone biased at mid-supply on an analog pin): the 10-bit ADC code is
  ``floor(512 (x + 1))`` clipped to 0..1023 (the ATmega328P truncates, datasheet §24.7), and the
  HAL feeds ``(code - 512) << 6``: int16 multiples of 64, −32768..32704.
- ``esp32`` with ``input.kind = "adc"`` (ADC1, 12 bits): ``floor(2048 (x + 1))`` clipped to
  0..4095, fed as ``(code - 2048) << 4``.
- ``esp32`` with ``input.kind = "i2s"`` (a digital microphone): the HAL keeps the top 16 bits of
  the I2S word, an arithmetic shift: ``floor(32768 x)`` clipped to −32768..32767.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .datafiles import Audio, read_wav
from .errors import DesignerError

if TYPE_CHECKING:
    from .design import Design
    from .qdesign import QuantizedDesign

#: samples per call into the C core: large enough that the call overhead vanishes, small
#: enough that a block's outputs stay a few MB
BLOCK = 1 << 16
#: columns of the decimated traces kept for plots (about one per pixel of a wide picture)
PLOT_POINTS = 4000
#: audio longer than this (s) gets a progress bar on a terminal
PROGRESS_MIN_S = 20.0
#: the largest polyphase up/down factor (a filter of 20 taps per phase of the larger one)
MAX_RATIO_TERM = 20000

Progress = Callable[[int, int], None]  # (samples done, samples total)


@dataclass(frozen=True)
class InputMapping:
    """How full scale reaches the core: an ADC of ``bits`` bits (shifted up into int16), or the
    top 16 bits of a digital microphone's word (``bits = 16``, ``shift = 0``)."""

    name: str
    bits: int

    @property
    def shift(self) -> int:
        return 16 - self.bits

    def describe(self) -> str:
        """One line for reports: what the HAL does with the converter's code."""
        if self.bits == 16:
            return "I2S microphone: top 16 bits of the word, floor(32768·x)"
        half = 1 << (self.bits - 1)
        return (
            f"{self.bits}-bit ADC, code = floor({half}·(x + 1)) in 0..{2 * half - 1}, "
            f"sample = (code − {half}) << {self.shift}"
        )


def input_mapping(family: str, input_kind: str | None) -> InputMapping:
    """The full-scale mapping of a board family (``avr`` / ``esp32``) and input kind."""
    if family == "avr":
        return InputMapping("avr-adc", 10)
    if input_kind == "adc":
        return InputMapping("esp32-adc", 12)
    return InputMapping("i2s", 16)


def design_mapping(design: Design) -> InputMapping:
    """The mapping of a design's board and ``[input]`` table."""
    kind = (design.config.get("input") or {}).get("kind")
    return input_mapping(design.board.family, kind)


def to_core_samples(x: np.ndarray, mapping: InputMapping) -> np.ndarray:
    """Audio in full-scale units (±1.0) → the int16 samples the HAL feeds the core."""
    x = np.asarray(x, dtype=np.float64)
    half = 1 << (mapping.bits - 1)
    if mapping.bits == 16:
        return np.clip(np.floor(32768.0 * x), -32768, 32767).astype(np.int16)
    code = np.clip(np.floor(half * (x + 1.0)), 0, 2 * half - 1).astype(np.int32)
    return ((code - half) << mapping.shift).astype(np.int16)


def rate_ratio(from_hz: float, to_hz: float) -> tuple[int, int]:
    """(up, down) with up/down = to/from: exact for the board rates (ratios of small integers,
    16 MHz / 832) and whole-Hz WAV rates, else the nearest ratio with terms up to
    :data:`MAX_RATIO_TERM` (within 1e-8 relative: far below any audible pitch change)."""
    if not (from_hz > 0 and to_hz > 0 and math.isfinite(from_hz) and math.isfinite(to_hz)):
        raise DesignerError(f"sample rates must be positive, got {from_hz:g} -> {to_hz:g} Hz")
    ratio = Fraction(to_hz).limit_denominator(1000) / Fraction(from_hz).limit_denominator(1000)
    if ratio.numerator > MAX_RATIO_TERM or ratio.denominator > MAX_RATIO_TERM:
        ratio = ratio.limit_denominator(MAX_RATIO_TERM)
    return ratio.numerator, ratio.denominator


def resample(x: np.ndarray, from_hz: float, to_hz: float) -> np.ndarray:
    """Polyphase resampling (Kaiser window, scipy's default) of a 1-D signal, float64 out."""
    up, down = rate_ratio(from_hz, to_hz)
    x = np.asarray(x, dtype=np.float64)
    if up == down:
        return x.copy()
    from scipy.signal import resample_poly

    return resample_poly(x, up, down)


def audio_to_core(audio: Audio, fs: float, mapping: InputMapping) -> np.ndarray:
    """A WAV's samples → mono (mean of the channels) → resampled to ``fs`` → int16 for the core."""
    mono = audio.samples.mean(axis=1) if audio.samples.ndim == 2 else audio.samples
    return to_core_samples(resample(mono, audio.rate_hz, fs), mapping)


# ---------------------------------------------------------------- running the core


class _Core:
    """The host build of the DSP core for one design (kept as an adapter: one place that knows
    :mod:`designer.native`'s calling convention)."""

    def __init__(self, qd: QuantizedDesign, params: dict[str, int] | None = None):
        from . import native

        self._core = native.NativeCore(qd, params)

    def process(self, x: np.ndarray, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        """(env, led) of shape (len(x), n_bands) for int16 samples ``x``."""
        out = self._core.process(x, reset=reset)
        return np.asarray(out.env), np.asarray(out.led)


def env_to_dbfs(env: np.ndarray, qd: QuantizedDesign) -> np.ndarray:
    """The core's band levels (``env``, shape (n, n_bands)) as the designed band level in dB of a
    full-scale sine's peak: fixed point m-units read ``lvl_k / 2`` for a full-scale sine at the
    band's raw output, float ``env`` is mean |y| (2/π of the peak); ``norm`` undoes the band's
    internal scaling (organ_dsp.h, "LED DESIGN"). The envelope's fast attack follows the peaks
    of the per-window means, so tones with periods longer than the control window read up to
    4 dB high (3 dB for a 100 Hz tone on the uno): a display level, not a measurement."""
    e = np.asarray(env, dtype=np.float64)
    if qd.arithmetic == "fixed":
        peak = e * (2.0 / max(qd.lvl_k, 1))
    else:
        peak = e * (math.pi / 2.0)
    norms = np.array([qd.norm_factor(i) for i in range(qd.n_bands)])
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(np.maximum(peak * norms, 1e-6))


@dataclass(frozen=True, eq=False)
class Simulation:
    """What a run of the core produced. Times in seconds, levels in dB of full scale.

    ``intervals[b]`` is an int array (k, 2) of [on, off) sample indices of band ``b``'s LED.
    The ``trace_*`` arrays are decimated to about :data:`PLOT_POINTS` columns for plots:
    ``trace_t`` the column start times, waveform min/max (full scale ±1), band level maximum
    (dBFS) and whether the LED was on at any time in the column.
    """

    sample_rate_hz: float
    n_samples: int
    band_names: tuple[str, ...]
    colors: tuple[str, ...]
    intervals: tuple[np.ndarray, ...]
    trace_t: np.ndarray
    trace_min: np.ndarray
    trace_max: np.ndarray
    trace_level_dbfs: np.ndarray
    trace_led: np.ndarray
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate_hz

    def intervals_s(self, band: int) -> list[list[float]]:
        """Band ``band``'s LED on intervals as [[t_on, t_off], ...] in seconds (µs resolution)."""
        fs = self.sample_rate_hz
        return [[round(a / fs, 6), round(b / fs, 6)] for a, b in self.intervals[band].tolist()]

    def on_seconds(self, band: int) -> float:
        """Total time band ``band``'s LED was on."""
        iv = self.intervals[band]
        return float((iv[:, 1] - iv[:, 0]).sum()) / self.sample_rate_hz if iv.size else 0.0

    def to_json(self) -> dict[str, Any]:
        """The ``simulate --json`` document of DESIGN.md, plus per-band totals and the source."""
        return {
            "sample_rate_hz": self.sample_rate_hz,
            "duration_s": round(self.duration_s, 6),
            "samples": self.n_samples,
            "source": self.source,
            "bands": [
                {
                    "name": name,
                    "color": color,
                    "led_on_intervals_s": self.intervals_s(i),
                    "on_s": round(self.on_seconds(i), 6),
                    "flashes": int(self.intervals[i].shape[0]),
                }
                for i, (name, color) in enumerate(zip(self.band_names, self.colors, strict=True))
            ],
        }


def _on_intervals(on: np.ndarray) -> np.ndarray:
    """[on, off) index pairs of the runs of True in a 1-D bool array."""
    d = np.diff(on.astype(np.int8), prepend=0, append=0)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return np.stack([starts, ends], axis=1) if starts.size else np.zeros((0, 2), dtype=np.int64)


def _merge(parts: list[np.ndarray]) -> np.ndarray:
    """Join per-block intervals, fusing a run that continues across a block boundary."""
    out: list[list[int]] = []
    for p in parts:
        for a, b in p.tolist():
            if out and out[-1][1] == a:
                out[-1][1] = b
            else:
                out.append([a, b])
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def run_samples(
    design: Design,
    x: np.ndarray,
    params: dict[str, int] | None = None,
    progress: Progress | None = None,
    source: dict[str, Any] | None = None,
) -> Simulation:
    """Run int16 samples (at the design's rate) through the host build of the core."""
    x = np.asarray(x)
    if x.dtype != np.int16 or x.ndim != 1:
        raise ValueError(f"samples must be a 1-D int16 array, got {x.dtype} {x.shape}")
    qd = design.quantized
    n, nb = x.size, qd.n_bands
    if n == 0:
        raise DesignerError("no samples to simulate")
    core = _Core(qd, params)
    win = max(1, -(-n // PLOT_POINTS))
    n_cols = -(-n // win)
    block = max(win, (BLOCK // win) * win)  # whole columns per block
    level = np.empty((n_cols, nb))
    led_col = np.zeros((n_cols, nb), dtype=bool)
    parts: list[list[np.ndarray]] = [[] for _ in range(nb)]
    for start in range(0, n, block):
        xb = x[start : start + block]
        env, led = core.process(xb, reset=start == 0)
        on = led > 0
        for b in range(nb):
            parts[b].append(_on_intervals(on[:, b]) + start)
        c0 = start // win
        idx = np.arange(0, xb.size, win)
        level[c0 : c0 + idx.size] = np.maximum.reduceat(env.astype(np.float64), idx, axis=0)
        led_col[c0 : c0 + idx.size] = np.logical_or.reduceat(on, idx, axis=0)
        if progress:
            progress(min(start + block, n), n)
    idx = np.arange(0, n, win)
    xf = x.astype(np.float64) / 32768.0
    return Simulation(
        sample_rate_hz=design.sample_rate_hz,
        n_samples=n,
        band_names=tuple(qd.band_names),
        colors=tuple(w.color for w in design.wiring),
        intervals=tuple(_merge(p) for p in parts),
        trace_t=idx / design.sample_rate_hz,
        trace_min=np.minimum.reduceat(xf, idx),
        trace_max=np.maximum.reduceat(xf, idx),
        trace_level_dbfs=env_to_dbfs(level, qd),
        trace_led=led_col,
        source=source or {},
    )


def simulate_audio(
    design: Design,
    audio: Audio,
    params: dict[str, int] | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """Simulate audio read by :func:`designer.datafiles.read_wav`."""
    mapping = design_mapping(design)
    x = audio_to_core(audio, design.sample_rate_hz, mapping)
    source = {
        "file": audio.path.name,
        "rate_hz": audio.rate_hz,
        "channels": int(audio.samples.shape[1]),
        "duration_s": round(audio.duration_s, 6),
        "input_mapping": mapping.describe(),
    }
    return run_samples(design, x, params, progress, source)


def simulate_wav(
    design: Design,
    wav: str | Path,
    params: dict[str, int] | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """Read a WAV file (DataFileError when empty, truncated or not a WAV) and simulate it."""
    return simulate_audio(design, read_wav(wav), params, progress)


# ---------------------------------------------------------------- steady tones (LED table)


def tone(freq_hz: float, fs: float, seconds: float, level_dbfs: float) -> np.ndarray:
    """A sine of peak ``level_dbfs`` (dB of full scale), float64 in full-scale units."""
    n = int(round(seconds * fs))
    amp = 10.0 ** (level_dbfs / 20.0)
    return amp * np.sin(2.0 * np.pi * freq_hz * np.arange(n) / fs)


def tone_leds(
    design: Design,
    freqs_hz: Sequence[float],
    level_dbfs: float = -6.0,
    settle_s: float = 2.0,
    read_s: float = 0.25,
) -> np.ndarray:
    """Which LEDs a settled steady tone lights, as the firmware computes it: bool array
    (n_freqs, n_bands). Each tone runs from a reset core for ``settle_s`` (long enough for the
    transient rule's slow average to catch up), then for ``read_s``; an LED counts as lit when
    it is on for more than half of that last stretch."""
    fs = design.sample_rate_hz
    mapping = design_mapping(design)
    core = _Core(design.quantized)
    n_read = max(1, int(round(read_s * fs)))
    out = np.zeros((len(freqs_hz), design.quantized.n_bands), dtype=bool)
    for i, f in enumerate(freqs_hz):
        x = to_core_samples(tone(f, fs, settle_s + read_s, level_dbfs), mapping)
        _, led = core.process(x, reset=True)
        out[i] = (led[-n_read:] > 0).mean(axis=0) > 0.5
    return out


def desired_leds(design: Design, freqs_hz: Sequence[float]) -> np.ndarray:
    """The −3 dB rule on the float design: bool array (n_freqs, n_bands)."""
    from .biquad import sos_response

    f = np.asarray(freqs_hz, dtype=float)
    mags = [np.abs(sos_response(b.sos, f, design.sample_rate_hz)) for b in design.filters.bands]
    return np.stack(mags, axis=1) > 1.0 / math.sqrt(2.0)
