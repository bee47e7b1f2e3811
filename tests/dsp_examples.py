"""Example designs and test signals shared by the DSP tests (tests/test_*dsp*, test_native, ...).

The SOS are built here with scipy exactly as designer/biquad.py will build them (RC twins by
the bilinear transform pre-warped at the cutoff, Butterworth band-passes, resonators normalised
to 0 dB at the centre), so the DSP tests do not depend on that module.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from designer.quantize import BandSpec

FS_UNO = 16e6 / 64 / 13


def rc_lowpass(fc: float, fs: float) -> np.ndarray:
    k = math.tan(math.pi * fc / fs)
    return np.array([[k / (1 + k), k / (1 + k), 0.0, 1.0, (k - 1) / (1 + k), 0.0]])


def rc_highpass(fc: float, fs: float) -> np.ndarray:
    k = math.tan(math.pi * fc / fs)
    return np.array([[1 / (1 + k), -1 / (1 + k), 0.0, 1.0, (k - 1) / (1 + k), 0.0]])


def resonator(f0: float, fs: float, bw: float | None = None, r: float | None = None
              ) -> np.ndarray:
    """y = g x + k1 y1 + k2 y2 with poles r e^(+-j w0), |H(w0)| = 1."""
    th = 2 * math.pi * f0 / fs
    if r is None:
        r = math.exp(-math.pi * bw / fs)
    a1, a2 = -2 * r * math.cos(th), r * r
    z = complex(math.cos(th), -math.sin(th))
    g = abs(1 + a1 * z + a2 * z * z)
    return np.array([[g, 0.0, 0.0, 1.0, a1, a2]])


def edges_hz(sos: np.ndarray, fs: float) -> np.ndarray:
    """Frequencies where |H| crosses -3.01 dB (fine log grid)."""
    f = np.geomspace(1.0, fs / 2 * 0.9999, 40000)
    _, h = signal.sosfreqz(sos, worN=f, fs=fs)
    above = np.abs(h) > 10 ** (-3.0103 / 20)
    return f[np.nonzero(np.diff(above.astype(int)))[0]]


def classic() -> tuple[float, list[BandSpec], str]:
    fs = FS_UNO
    return fs, [
        BandSpec("bass", rc_lowpass(800, fs), (20.0, 800.0)),
        BandSpec("mid", np.vstack([rc_highpass(1000, fs), rc_lowpass(4000, fs)]),
                 (1075.0, 3721.0)),
        BandSpec("treble", rc_highpass(5000, fs), (5000.0, 0.45 * fs)),
    ], "fixed"


def resonators() -> tuple[float, list[BandSpec], str]:
    fs = FS_UNO
    bands = []
    for name, f0, bw in (("e2", 82.41, 3.0), ("a2", 110.0, 5.0), ("a3", 220.0, 10.0),
                         ("a4", 440.0, 20.0)):
        bands.append(BandSpec(name, resonator(f0, fs, bw=bw), (f0 - bw / 2, f0 + bw / 2)))
    # the hard case of the issue: pole radius 0.995 at 82 Hz
    bands.append(BandSpec("e2wide", resonator(82.41, fs, r=0.995), (75.0, 90.0)))
    return fs, bands, "fixed"


def msgeq7(fs: float = 48000.0, arithmetic: str = "float") -> tuple[float, list[BandSpec], str]:
    bands = []
    for f in (63, 160, 400, 1000, 2500, 6250, 16000):
        lo, hi = f * 2 ** (-1 / 3), f * 2 ** (1 / 3)
        sos = signal.butter(2, [lo, hi], "bandpass", output="sos", fs=fs)
        bands.append(BandSpec(f"f{f}", sos, (lo, hi)))
    return fs, bands, arithmetic


def esp32c3() -> tuple[float, list[BandSpec], str]:
    return msgeq7(44100.0, "fixed")


EXAMPLES = {"classic": classic, "resonator": resonators, "msgeq7": msgeq7, "esp32c3": esp32c3}


def drum_loop(fs: float, bars: int = 4, bpm: float = 120.0, seed: int = 0,
              hat_db: float = -15.0) -> tuple[np.ndarray, list[float], list[float],
                                                list[tuple[float, float]]]:
    """A synthetic drum loop peaking at -1 dBFS: kicks (sines falling 100 -> 50 Hz, decaying
    with tau = 60 ms), hi-hats (noise high-passed at 7 kHz, tau = 20 ms) ``hat_db`` below the
    kicks, on a 16-step grid; the second half of every second bar is silent.

    Returns int16 samples, kick and hat onset times (s) and the silent gaps >= 0.2 s."""
    rng = np.random.default_rng(seed)
    step = 60 / bpm / 4
    n = int(bars * 16 * step * fs)
    kick, hat = np.zeros(n), np.zeros(n)
    kicks, hats = [], []
    b_hp, a_hp = signal.butter(4, min(7000.0, 0.36 * fs), "highpass", fs=fs)
    for bar in range(bars):
        for s in range(16):
            if bar % 2 == 1 and s >= 8:
                continue
            t0 = (bar * 16 + s) * step
            i0 = int(round(t0 * fs))
            if s in (0, 6, 8, 11):
                t = np.arange(int(0.30 * fs)) / fs
                ph = 2 * np.pi * np.cumsum(50 + 50 * np.exp(-t / 0.03)) / fs
                seg = np.sin(ph) * np.exp(-t / 0.06)
                fade = int(0.01 * fs)
                seg[-fade:] *= np.linspace(1, 0, fade)
                kick[i0:i0 + seg.size] += seg[: n - i0]
                kicks.append(t0)
            if s in (2, 4, 6, 10, 12, 14):
                t = np.arange(int(0.08 * fs)) / fs
                seg = signal.lfilter(b_hp, a_hp, rng.standard_normal(t.size)) * np.exp(-t / 0.02)
                fade = int(0.005 * fs)
                seg[-fade:] *= np.linspace(1, 0, fade)
                hat[i0:i0 + seg.size] += seg[: n - i0] / np.max(np.abs(seg))
                hats.append(t0)
    x = kick / np.max(np.abs(kick)) + hat * 10 ** (hat_db / 20) / np.max(np.abs(hat))
    x = np.round(x * 10 ** (-1 / 20) * 32767 / np.max(np.abs(x))).astype(np.int16)
    gaps, i = [], 0
    quiet = x == 0
    while i < n:
        if quiet[i]:
            j = i
            while j < n and quiet[j]:
                j += 1
            if (j - i) / fs >= 0.2:
                gaps.append((i / fs, j / fs))
            i = j
        else:
            i += 1
    return x, kicks, hats, gaps


def random_biquads(seed: int, fs: float = FS_UNO):
    """A fixed-point design whose biquads have random constants within organ_dsp.h's limits
    (mantissa widths 1..3 bytes, both signs of the numerator, every shift from -8 to 16,
    structured and general numerators, all-pole sections): for bit-exactness tests of the
    generated steps (wrap-around is deterministic, so stability does not matter)."""
    import dataclasses

    from designer.qdesign import QSection
    from designer.quantize import quantize

    rng = np.random.default_rng(seed)

    def mant(lo: int, hi: int, signed: bool) -> int:
        m = int(rng.integers(lo, hi + 1))
        return -m if signed and rng.random() < 0.5 else m

    def pole() -> int:
        w = int(rng.integers(1, 4))
        return mant(1 << (8 * w - 8), (1 << (8 * w)) - 1, False)

    def shift() -> int:
        return int(rng.choice([-8, 0, 8, 16]))

    def section(kind: str) -> QSection:
        poles = (pole(), pole())
        sh = dict(sh_num=shift(), sh_beta=shift(), sh_gamma=shift())
        if kind == "bq_gain":
            return QSection("bq_gain", (mant(1, 32767, True), 0, 0, *poles), **sh)
        if rng.random() < 0.5:  # structured: one mantissa times small integers
            r = [1, int(rng.integers(-2, 3)), int(rng.choice([-2, -1, 0, 1, 2]))]
            m = mant(1, 255 if rng.random() < 0.5 else 65535 // sum(map(abs, r)), True)
            return QSection("bq", (m * r[0], m * r[1], m * r[2], *poles), **sh)
        # general: 16-bit mantissas (sum of magnitudes < 2^16) or 24-bit ones (sum of their
        # high parts < 2^16)
        top = 21845 if rng.random() < 0.5 else 21845 * 256
        nums = [mant(1, top, True) for _ in range(3)]
        if rng.random() < 0.3:
            nums[2] = 0
        return QSection("bq", (*nums, *poles), **sh)

    _, bands, _ = classic()
    qd = quantize(bands[:2], fs, "fixed")
    new = []
    for band in qd.bands:
        kinds = [str(rng.choice(["bq", "bq_gain"])) for _ in range(int(rng.integers(1, 3)))]
        secs = tuple(section(k) for k in kinds)
        sos = tuple((1.0, 0.0, 0.0, 1.0, -1.5, 0.7) for _ in secs)
        new.append(dataclasses.replace(band, in_shift=int(rng.integers(0, 3)), sections=secs,
                                       sos=sos))
    return dataclasses.replace(qd, bands=tuple(new))
