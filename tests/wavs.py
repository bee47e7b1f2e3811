"""Test signals and WAV files in every sample format the simulator reads."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from scipy.io import wavfile

FS_WAV = 44100


def sine(freq: float, seconds: float, peak: float = 0.5, fs: int = FS_WAV,
         fade_s: float = 0.0) -> np.ndarray:
    """A tone; ``fade_s`` > 0 starts it with a raised-cosine fade-in instead of a click (an
    abrupt start is a broadband transient that may rightly flash other bands)."""
    x = peak * np.sin(2 * np.pi * freq * np.arange(int(seconds * fs)) / fs)
    n = int(fade_s * fs)
    if n:
        x[:n] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
    return x


def write_wav(path: Path, x: np.ndarray, fmt: str, fs: int = FS_WAV) -> Path:
    """x in full-scale units, shape (n,) or (n, channels), written as ``fmt``."""
    x = np.asarray(x, dtype=np.float64)
    if fmt == "int16":
        wavfile.write(path, fs, np.round(x * 32767).astype(np.int16))
    elif fmt == "uint8":
        wavfile.write(path, fs, np.clip(np.round(x * 127 + 128), 0, 255).astype(np.uint8))
    elif fmt == "int32":
        wavfile.write(path, fs, np.round(x * 2147483647).astype(np.int32))
    elif fmt == "float32":
        wavfile.write(path, fs, x.astype(np.float32))
    elif fmt == "int24":
        v = np.round(x * 8388607).astype(np.int32)
        raw = v.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1 if x.ndim == 1 else x.shape[1])
            w.setsampwidth(3)
            w.setframerate(fs)
            w.writeframes(raw)
    else:
        raise ValueError(fmt)
    return path
