"""Readers for the data files a config points at: CSV tables and WAV audio.

Both raise :class:`DataFileError` with the file name and, for CSV, the line, so a config error can
name the key that pointed at the file as well.
"""

from __future__ import annotations

import csv
import math
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DesignerError


class DataFileError(DesignerError):
    """A data file that is missing, empty, truncated or malformed."""


@dataclass(frozen=True, eq=False)
class Table:
    """A CSV table: column names from the header row, and the numeric rows."""

    path: Path
    columns: tuple[str, ...]
    values: np.ndarray  # shape (rows, len(columns)), float64

    def column(self, name: str) -> np.ndarray:
        """The values of column ``name``."""
        return self.values[:, self.columns.index(name)]


def read_csv(path: str | Path) -> Table:
    """Read a CSV file with a header row; lines starting with ``#`` are comments.

    Every cell must be a finite number; the first offending cell is reported with its line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DataFileError(f"{path}: cannot read ({e})") from None
    lines = [
        (i + 1, line)
        for i, line in enumerate(text.splitlines())
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise DataFileError(f"{path}: empty (no header row)")
    header_no, header_line = lines[0]
    header = [h.strip() for h in next(csv.reader([header_line]))]
    if any(not h for h in header):
        raise DataFileError(f"{path} line {header_no}: empty column name in the header")
    if len(set(header)) != len(header):
        raise DataFileError(f"{path} line {header_no}: repeated column name in the header")
    rows = []
    for number, line in lines[1:]:
        cells = [c.strip() for c in next(csv.reader([line]))]
        if len(cells) != len(header):
            raise DataFileError(
                f"{path} line {number}: {len(cells)} values, the header has {len(header)}"
            )
        row = []
        for name, cell in zip(header, cells, strict=True):
            try:
                value = float(cell)
            except ValueError:
                raise DataFileError(
                    f"{path} line {number}: column {name}: {cell!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise DataFileError(f"{path} line {number}: column {name}: {cell} is not finite")
            row.append(value)
        rows.append(row)
    if not rows:
        raise DataFileError(f"{path}: no data rows after the header")
    return Table(path, tuple(header), np.array(rows, dtype=float))


@dataclass(frozen=True, eq=False)
class Audio:
    """Audio samples scaled to [-1, 1), shape (frames, channels), and its rate in Hz."""

    path: Path
    rate_hz: float
    samples: np.ndarray

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.samples.shape[0] / self.rate_hz


def read_wav(path: str | Path) -> Audio:
    """Read a WAV file: 8/16/24/32-bit integer PCM or 32/64-bit float, any rate, any channels.

    Integer full scale maps to ±1.0. Empty, truncated and non-WAV files raise DataFileError.
    """
    from scipy.io import wavfile  # local: scipy.io is slow to import and rarely needed

    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: empty file, not a WAV")
    with path.open("rb") as f:
        head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise DataFileError(f"{path}: not a WAV file (no RIFF/WAVE header)")
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    except (ValueError, wavfile.WavFileWarning, EOFError, OSError, wave.Error) as e:
        raise DataFileError(f"{path}: truncated or malformed WAV ({e})") from None
    if data.ndim == 1:
        data = data[:, None]
    if data.shape[0] == 0:
        raise DataFileError(f"{path}: WAV holds no samples")
    if data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128.0) / 128.0
    elif data.dtype == np.int16:
        x = data.astype(np.float64) / 32768.0
    elif data.dtype == np.int32:
        # 24-bit files are returned left-justified in int32 by scipy, so one scale fits both.
        x = data.astype(np.float64) / 2147483648.0
    elif data.dtype in (np.float32, np.float64):
        x = data.astype(np.float64)
    else:
        raise DataFileError(f"{path}: unsupported WAV sample type {data.dtype}")
    if not np.all(np.isfinite(x)):
        raise DataFileError(f"{path}: WAV holds non-finite samples")
    return Audio(path, float(rate), x)
