"""Test signals and measurements of ``designer verify`` (no I/O here).

* :func:`bit_exact_segments`: impulses, steps, chirps, band-edge tones, white noise and
  full-scale signals, each a segment that starts from reset;
* :func:`band_tone_range` / :func:`multitone`: the response stage's log-spaced tones of a band,
  played together (Schroeder phases keep the crest factor low) so every band settles once;
* :func:`fit_tones`: complex amplitudes of known frequencies by least squares (works on a record
  with gaps, as after lost blocks);
* :func:`settle_samples`: how long the realised band (and the DC blocker) takes to forget its
  start, from its slowest pole;
* :func:`designed_on` / :func:`near_edge`: the LED stages' -3 dB rule and its tolerance;
  :func:`led_band_tone`: the "LED per band" stage's steady tone that clearly lights a band.
Frequencies in Hz, sample rates in Hz, samples int16 (full scale 32768).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from designer.filters import BandFilter
from designer.qdesign import QuantizedDesign

N_TONES = 12              # response stage: tones per band
LOW_PASS_FLOOR_HZ = 20.0  # a low-pass band's lowest tone
TOP_FRACTION = 0.45       # highest tone: 0.45 fs
TONE_PEAK = 16384         # response stage: peak of the multitone (-6 dBFS)
SETTLE_TAUS = 10.0        # time constants of the slowest pole before measuring (e^-10)
MIN_MEASURE = 2048        # samples of the shortest measurement record
MAX_MEASURE_S = 3.0       # seconds of the longest measurement record
MIN_SETTLE = 256
EDGE_TOLERANCE = 0.05     # LED stages: a tone this close (relative) to a -3 dB edge is not scored
BAND_TONE_CANDIDATES = 33  # LED per band: log-spaced fallbacks across a band's passband
CLEAR_DB = -1.0           # LED per band: a band this loud is on whatever its edges do


@dataclass(frozen=True)
class Segment:
    """A named test signal, run from reset."""

    name: str
    samples: np.ndarray  # int16


def _i16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def _tone(f: float, fs: float, n: int, amp: float, phase: float = 0.0) -> np.ndarray:
    return amp * np.sin(2 * np.pi * f * np.arange(n) / fs + phase)


def bit_exact_segments(
    fs: float, edges_hz: list[float], total: int = 12000, seed: int = 0
) -> list[Segment]:
    """The bit-exact stage's signals, at least ``total`` samples in all."""
    rng = np.random.default_rng(seed)
    share = max(total // 6, 500)
    segs = []

    imp = np.zeros(share)
    step = max(share // 8, 40)
    for k, v in enumerate((32767, -32768, 1000, -1, 1, 20000, -20000, 32767)):
        imp[k * step] = v
    segs.append(Segment("impulses", _i16(imp)))

    st = np.zeros(share)
    q = share // 5
    st[q : 2 * q] = 16384
    st[2 * q : 3 * q] = -32768
    st[3 * q : 4 * q] = 32767
    st[4 * q :] = 100
    segs.append(Segment("steps", _i16(st)))

    t = np.arange(share) / fs
    f0, f1 = 20.0, TOP_FRACTION * fs
    k = np.log(f1 / f0) / t[-1]
    phase = 2 * np.pi * f0 * (np.exp(k * t) - 1) / k
    segs.append(Segment("chirp", _i16(0.7 * 32767 * np.sin(phase))))

    per = max(share // max(len(edges_hz), 1), 200)
    tones = [_tone(f, fs, per, 12000 + 4000 * (i % 3), rng.uniform(0, 2 * np.pi))
             for i, f in enumerate(edges_hz)]
    segs.append(Segment("band-edge tones", _i16(np.concatenate(tones) if tones else imp)))

    segs.append(Segment("white noise", _i16(rng.normal(0, 8000, share))))

    n_fs = max(total - sum(len(s.samples) for s in segs), share)
    fsq = np.where((np.arange(n_fs) // 4) % 2 == 0, 32767, -32768)
    half = n_fs // 2
    full = np.concatenate([fsq[:half], _i16(_tone(0.23 * fs, fs, n_fs - half, 32767.0))])
    full[half - 3 : half] = -32768
    segs.append(Segment("full scale", _i16(full)))
    return segs


def extra_noise_segment(n: int, seed: int) -> Segment:
    """More white noise, when link faults cost compared samples."""
    rng = np.random.default_rng(1000 + seed)
    return Segment(f"white noise {seed}", _i16(rng.normal(0, 8000, n)))


def band_tone_range(band: BandFilter, fs: float) -> tuple[float, float]:
    """From half the lower -3 dB edge (20 Hz for a low-pass) to twice the upper edge (0.45 fs
    for a high-pass)."""
    top = TOP_FRACTION * fs
    edges = sorted(band.edges_hz) or sorted(band.cutoffs_hz)
    if band.type == "lowpass":
        return LOW_PASS_FLOOR_HZ, min(2 * edges[-1], top)
    if band.type == "highpass":
        return min(edges[0] / 2, top / 2), top
    return edges[0] / 2, min(2 * edges[-1], top)


def band_tones(band: BandFilter, fs: float, n: int = N_TONES) -> np.ndarray:
    lo, hi = band_tone_range(band, fs)
    return np.geomspace(lo, hi, n)


def multitone(freqs: np.ndarray, fs: float, n: int, peak: float = TONE_PEAK) -> np.ndarray:
    """Equal-amplitude tones with Schroeder phases, scaled to ``peak``; int16."""
    k = np.arange(len(freqs))
    phases = -np.pi * k * (k - 1) / max(len(freqs), 1)
    t = np.arange(n) / fs
    x = np.zeros(n)
    for f, ph in zip(freqs, phases, strict=True):
        x += np.cos(2 * np.pi * f * t + ph)
    return _i16(x * (peak / max(np.max(np.abs(x)), 1e-12)))


def measure_length(freqs: np.ndarray, fs: float) -> int:
    """Samples to tell the tones apart and see a few periods of the lowest."""
    f = np.sort(np.asarray(freqs, float))
    spacing = np.min(np.diff(f)) if len(f) > 1 else f[0]
    n = int(np.ceil(4 * fs / min(spacing, f[0])))
    return int(min(max(n, MIN_MEASURE), MAX_MEASURE_S * fs))


def settle_samples(qd: QuantizedDesign, band_index: int, include_dc: bool = True) -> int:
    """Samples until the slowest pole of the band (or of the DC blocker, unless ``include_dc``
    is False) decays by e^-10."""
    radii = [1.0 - qd.dc_coef / 65536.0] if qd.dc_coef and include_dc else []
    for sec in qd.bands[band_index].sections:
        _, a = sec.coeffs(qd.arithmetic)
        radii += [float(abs(p)) for p in np.roots(a) if abs(p) > 0]
    r = min(max(radii, default=0.0), 1 - 1e-9)
    if r <= 0:
        return MIN_SETTLE
    tau = -1.0 / np.log(r)
    return int(max(MIN_SETTLE, np.ceil(SETTLE_TAUS * tau)))


def fit_tones(
    signal: np.ndarray, freqs: np.ndarray, fs: float, index: np.ndarray | None = None
) -> np.ndarray:
    """Complex amplitudes a_k of ``signal ≈ c + Σ Re(a_k e^{j 2π f_k n / fs})`` by least
    squares; ``index`` gives each value's sample number (default 0, 1, 2, ...)."""
    s = np.asarray(signal, dtype=float)
    n = np.arange(len(s)) if index is None else np.asarray(index, dtype=float)
    w = 2 * np.pi * np.asarray(freqs, float)[None, :] * n[:, None] / fs
    basis = np.hstack([np.cos(w), -np.sin(w), np.ones((len(s), 1))])
    coef, *_ = np.linalg.lstsq(basis, s, rcond=None)
    k = len(freqs)
    return coef[:k] + 1j * coef[k : 2 * k]


def designed_magnitude(band: BandFilter, freq_hz: float, fs: float) -> float:
    """|H(f)| of the band's designed (float) SOS, the response the -3 dB rule reads."""
    z1 = np.exp(-2j * np.pi * freq_hz / fs)
    h = 1.0 + 0j
    for b0, b1, b2, a0, a1, a2 in np.asarray(band.sos, float):
        h *= (b0 + b1 * z1 + b2 * z1 * z1) / (a0 + a1 * z1 + a2 * z1 * z1)
    return float(abs(h))


def designed_on(band: BandFilter, freq_hz: float, fs: float) -> bool:
    """The -3 dB rule of DESIGN.md: the band's designed magnitude above 1/sqrt(2)."""
    return bool(designed_magnitude(band, freq_hz, fs) > 1 / np.sqrt(2))


def near_edge(band: BandFilter, freq_hz: float, tolerance: float = EDGE_TOLERANCE) -> bool:
    """Within ``tolerance`` (relative) of one of the band's -3 dB edges."""
    return any(abs(freq_hz - e) <= tolerance * e for e in band.edges_hz)


def led_passband_hz(band: BandFilter, fs: float) -> tuple[float, float]:
    """Where the band is meant to be lit, as the LED stages play it: between its -3 dB edges;
    a low-pass from LOW_PASS_FLOOR_HZ (the response stage's lowest tone: lower tones take long
    to show a few periods and meet the DC blocker), a high-pass up to TOP_FRACTION fs (the
    highest tone any stage plays). A resonator without edges gets +-1 % around its centre."""
    top = TOP_FRACTION * fs
    edges = sorted(band.edges_hz)
    if band.type == "lowpass" and edges:
        return LOW_PASS_FLOOR_HZ, min(edges[0], top)
    if band.type == "highpass" and edges:
        return max(edges[-1], LOW_PASS_FLOOR_HZ), top
    if len(edges) >= 2:
        return max(edges[0], LOW_PASS_FLOOR_HZ), min(edges[-1], top)
    centre = band.cutoffs_hz[0]
    return 0.99 * centre, 1.01 * centre


@dataclass(frozen=True)
class BandTone:
    """The "LED per band" stage's tone for one band. ``strict``: the band is scored without the
    near-edge tolerance although the tone lies within it (a band narrower than the tolerance,
    played where it is at least CLEAR_DB loud)."""

    freq_hz: float
    strict: bool = False


def led_band_tone(band: BandFilter, bands: Sequence[BandFilter], fs: float,
                  played: Sequence[float] = (), tolerance: float = EDGE_TOLERANCE
                  ) -> BandTone | None:
    """A steady tone (Hz, rounded to 0.1 Hz) that clearly lights ``band``; None if none does.

    A tone of ``played`` (the LED table's, already on the board) comes first, the one nearest
    the band's middle: it is not played again. Else the geometric middle of
    :func:`led_passband_hz` (the middle on a log axis, where a band-pass or a resonator peaks
    and a first-order low/high-pass is ~1 dB or more above its -3 dB edge), else the nearest of
    BAND_TONE_CANDIDATES log-spaced points across the passband. A tone qualifies when the band
    is on there by the -3 dB rule (not in a ripple of a free iir band) and it lies farther than
    ``tolerance`` from every band's -3 dB edges (nearer, a row is excused, not scored).

    A band narrower than twice the tolerance (a resonator 8 Hz wide at 82 Hz) has no such
    point: its own edges are waived where it is at least CLEAR_DB loud (2 dB above the
    threshold: far more than quantization moves a response or the decision's 0.2 dB
    hysteresis), so its LED is still scored strictly; other bands' edges are still avoided."""
    lo, hi = led_passband_hz(band, fs)
    mid = float(np.sqrt(lo * hi)) if 0 < lo < hi else float(band.cutoffs_hz[0])

    def nearest_first(freqs: Sequence[float]) -> list[float]:
        return sorted((round(float(f), 1) for f in freqs), key=lambda g: abs(np.log(g / mid)))

    fresh = nearest_first([mid, *np.geomspace(lo, hi, BAND_TONE_CANDIDATES)]) \
        if 0 < lo < hi else []
    candidates = [f for f in nearest_first(played) + [f for f in fresh if lo <= f <= hi]
                  if LOW_PASS_FLOOR_HZ <= f < TOP_FRACTION * fs and designed_on(band, f, fs)]
    others = [b for b in bands if b is not band]
    for f in candidates:
        if not any(near_edge(b, f, tolerance) for b in bands):
            return BandTone(f)
    clear = 10 ** (CLEAR_DB / 20)
    for f in candidates:
        if (designed_magnitude(band, f, fs) >= clear
                and not any(near_edge(b, f, tolerance) for b in others)):
            return BandTone(f, strict=True)
    return None
