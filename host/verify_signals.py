"""Test signals and measurements of ``designer verify`` (no I/O here).

* :func:`bit_exact_segments`: impulses, steps, chirps, band-edge tones, white noise and
  full-scale signals, each a segment that starts from reset;
* :func:`band_tone_range` / :func:`multitone`: the response stage's log-spaced tones of a band,
  played together (Schroeder phases keep the crest factor low) so every band settles once;
* :func:`fit_tones`: complex amplitudes of known frequencies by least squares (works on a record
  with gaps, as after lost blocks);
* :func:`settle_samples`: how long the realised band (and the DC blocker) takes to forget its
  start, from its slowest pole.
Frequencies in Hz, sample rates in Hz, samples int16 (full scale 32768).
"""

from __future__ import annotations

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


def settle_samples(qd: QuantizedDesign, band_index: int) -> int:
    """Samples until the slowest pole of the band (or of the DC blocker) decays by e^-10."""
    radii = [1.0 - qd.dc_coef / 65536.0] if qd.dc_coef else []
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


def designed_on(band: BandFilter, freq_hz: float, fs: float) -> bool:
    """The -3 dB rule of DESIGN.md: the band's designed magnitude above 1/sqrt(2)."""
    z1 = np.exp(-2j * np.pi * freq_hz / fs)
    h = 1.0 + 0j
    for b0, b1, b2, a0, a1, a2 in np.asarray(band.sos, float):
        h *= (b0 + b1 * z1 + b2 * z1 * z1) / (a0 + a1 * z1 + a2 * z1 * z1)
    return bool(abs(h) > 1 / np.sqrt(2))


def near_edge(band: BandFilter, freq_hz: float, tolerance: float = 0.05) -> bool:
    """Within ``tolerance`` (relative) of one of the band's -3 dB edges."""
    return any(abs(freq_hz - e) <= tolerance * e for e in band.edges_hz)
