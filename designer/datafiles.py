"""Readers for the data files a config points at: CSV tables and WAV audio.

Both raise :class:`DataFileError` with the file name and, for CSV, the line, so a config error can
name the key that pointed at the file as well.
"""

from __future__ import annotations

import csv
import math
import struct
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


RIFF_HEADER_BYTES = 12   # "RIFF" or "RF64", a size, "WAVE"
CHUNK_HEADER_BYTES = 8   # a chunk's id and its size (little-endian uint32)
FMT_MIN_BYTES = 16       # the PCM WAVEFORMAT; WAVE_FORMAT_EXTENSIBLE has 40 (scipy checks that)
RIFF_IDS = (b"RIFF", b"RF64")


def check_wav(path: str | Path) -> Path:
    """Check that ``path`` is a WAV file whose header is whole, without reading its samples.

    Walks the RIFF chunks up to the header of the data chunk, so a file cut anywhere in front of
    its samples is refused here with where it ends (scipy would fail with ``struct.error``).
    Raises DataFileError; returns the path."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            _check_riff_header(path, f.read(RIFF_HEADER_BYTES), size)
            _walk_to_data(path, f, size)
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except OSError as e:  # a folder, no permission, ...
        raise DataFileError(f"{path}: cannot read ({(e.strerror or str(e)).lower()})") from None
    return path


def _truncated(path: Path, why: str) -> DataFileError:
    return DataFileError(f"{path}: truncated or malformed WAV ({why})")


def _check_riff_header(path: Path, head: bytes, size: int) -> None:
    if size == 0:
        raise DataFileError(f"{path}: empty file, not a WAV")
    whole_id = head[:4] in RIFF_IDS and head[8:12] == b"WAVE"
    if len(head) == RIFF_HEADER_BYTES and whole_id:
        return
    # the start of a RIFF/WAVE header that stops short is a cut WAV, anything else is no WAV
    cut = len(head) < RIFF_HEADER_BYTES and any(r.startswith(head[:4]) for r in RIFF_IDS) and (
        b"WAVE".startswith(head[8:12]))
    if cut:
        raise _truncated(path, f"it ends at byte {size}, inside the 12-byte RIFF header")
    raise DataFileError(f"{path}: not a WAV file (no RIFF/WAVE header)")


def _walk_to_data(path: Path, f, size: int) -> None:
    """Follow the chunks from just after the RIFF header to the data chunk's header."""
    fmt_seen = False
    while True:
        at = f.tell()
        header = f.read(CHUNK_HEADER_BYTES)
        if len(header) < CHUNK_HEADER_BYTES:
            where = " with no data chunk" if not header else ", inside a chunk header"
            raise _truncated(path, f"it ends at byte {size}{where}")
        chunk_id, n = header[:4], int.from_bytes(header[4:], "little")
        text = chunk_id.decode("latin-1").strip()
        name = text if text.isprintable() and text else repr(chunk_id)
        if chunk_id == b"data":
            if not fmt_seen:
                raise _truncated(path, "no fmt chunk in front of the data chunk")
            return  # a cut inside the samples: scipy reports how many bytes it expected
        end = at + CHUNK_HEADER_BYTES + n
        if end > size:
            raise _truncated(path, f"it ends at byte {size}, inside the {name} chunk that "
                                   f"runs to byte {end}")
        if chunk_id == b"fmt ":
            if n < FMT_MIN_BYTES:
                raise _truncated(path, f"a fmt chunk of {n} bytes, at least {FMT_MIN_BYTES}")
            _check_fmt(path, f.read(FMT_MIN_BYTES))
            fmt_seen = True
        f.seek(end + (n & 1))  # chunks are word-aligned: an odd size is followed by a pad byte


def _check_fmt(path: Path, fmt: bytes) -> None:
    """The fmt fields scipy divides by or sizes arrays with must not be zero."""
    fields = ("channels", "sample rate", "byte rate", "block align", "bits per sample")
    values = struct.unpack("<HIIHH", fmt[2:FMT_MIN_BYTES])
    for name, value in zip(fields, values, strict=True):
        if value == 0 and name != "byte rate":  # scipy does not use the byte rate
            raise _truncated(path, f"its fmt chunk says {name} 0")


def read_wav(path: str | Path) -> Audio:
    """Read a WAV file: 8/16/24/32-bit integer PCM or 32/64-bit float, any rate, any channels.

    Integer full scale maps to ±1.0. Empty, truncated and non-WAV files raise DataFileError.
    """
    import warnings

    from scipy.io import wavfile  # local: scipy.io is slow to import and rarely needed

    path = check_wav(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    # struct.error: scipy reading a header past the end of the file; TypeError: a sample format
    # numpy has no type for. check_wav refuses what it can see; this is the net for the rest.
    except (ValueError, struct.error, TypeError, ZeroDivisionError, wavfile.WavFileWarning,
            EOFError, OSError, wave.Error) as e:
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
