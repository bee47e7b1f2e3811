"""The ``[training]`` table: which data file to learn from, what kind of data it holds.

The file is read and checked here, at validation time, so a broken data file is a config error
naming ``training.data`` (and the file's line), reported with every other problem of the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config_reader import Problems, TableReader, describe, did_you_mean, fmt_hz
from .datafiles import DataFileError, read_csv, read_wav

if TYPE_CHECKING:
    from .boards import BoardProfile
    from .config_bands import BandConfig

KINDS = ("binary", "magnitude", "db", "impulse")
FREQ_COLUMN = "frequency_hz"
# Which data kinds can train which filters.
TRAINABLE = {
    "rc": ("binary", "magnitude", "db"),
    "iir": ("magnitude", "db", "impulse"),
    None: ("magnitude", "db", "impulse"),  # resonators
}


@dataclass(frozen=True, eq=False)
class TrainingConfig:
    """Training data as loaded: ``freqs_hz`` (or None for impulse data) and one column per band."""

    data: Path
    kind: str
    seed: int
    freqs_hz: np.ndarray | None
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    sample_rate_hz: float | None = None  # WAV impulse responses carry their own rate
    data_as_given: str = ""  # relative to the config's folder, as written (for design.json)

    @property
    def band_columns(self) -> set[str]:
        """Names of the bands that have data."""
        return set(self.columns)

    def to_dict(self) -> dict[str, Any]:
        """Resolved keys, JSON-able (the data itself is summarised, not copied)."""
        return {
            "data": self.data_as_given or self.data.name,
            "kind": self.kind,
            "seed": self.seed,
            "bands": sorted(self.columns),
            "rows": int(next(iter(self.columns.values())).shape[0]) if self.columns else 0,
        }

    def check_against_bands(
        self, bands: list[BandConfig], declared: list[str] | None, problems: Problems
    ) -> TrainingConfig:
        """Every column must name a band that this kind of data can train.

        ``bands`` are the bands that passed validation, ``declared`` the names of every
        ``[[bands]]`` table (None when ``bands`` itself is unusable). A column naming a declared
        band that failed validation is not reported again: the band's own errors say why.
        """
        if declared is None:
            return self
        by_name = {b.name: b for b in bands}
        for name in sorted(self.columns):
            band = by_name.get(name)
            if band is None:
                if name not in declared:
                    hint = did_you_mean(name, declared)
                    problems.error(
                        "training.data",
                        f"{self.data.name}: column {name!r} names no "
                        f"band{hint} (bands: {', '.join(declared)})",
                    )
                continue
            key = band.filter if band.type != "resonator" else None
            if key == "butterworth":
                continue  # reported on the band itself
            if self.kind not in TRAINABLE[key]:
                what = "resonator" if key is None else f"filter = {key!r}"
                problems.error(
                    "training.kind",
                    f"{self.kind!r} data cannot train band "
                    f"{name!r} ({what} learns from {', '.join(TRAINABLE[key])})",
                )
        return self

    def sample_rate_problem(self, fs: float, board: BoardProfile, tolerance: float) -> str | None:
        """Why an impulse WAV's rate does not match the board's ``fs``, or None. The learned
        filter runs at ``fs`` and its taps are the WAV's samples, so the rates must agree; a WAV
        header holds whole Hz, so it matches as ``sample_rate_hz`` would (19231 stands for the
        Uno's 19230.77 Hz)."""
        rate = self.sample_rate_hz
        if rate is None or (board.makes_rate(rate, tolerance) and board.nearest_rate(rate) == fs):
            return None
        hint = "record it at that rate"
        if board.makes_rate(rate, tolerance):
            hint += f" or set sample_rate_hz = {rate:g}"
        return (
            f"{self.data.name}: the impulse response is sampled at {rate:g} Hz, board "
            f"{board.name} runs at sample_rate_hz = {fmt_hz(fs)} Hz: {hint}"
        )


#: What reading ``[training]`` gives: the loaded data (None when unusable) and the names of the
#: bands the data has columns for (None when unknown: the file or its header could not be read,
#: so any band may be meant to be learned).
TrainingRead = tuple[TrainingConfig | None, set[str] | None]


def read_training(t: TableReader, base_dir: Path, raw_config: dict[str, Any]) -> TrainingRead:
    """Validate ``[training]`` and load its data file; see :data:`TrainingRead`."""
    data = t.string("data", required=True)
    kind = t.choice("kind", KINDS, required=True)
    seed = t.integer("seed", 0, lo=0, hi=2**31 - 1)
    names = t.raw("columns")
    t.finish()
    if data is None or kind is None or seed is None:
        return None, None
    if names is not None and (
        not isinstance(names, list) or not all(isinstance(n, str) for n in names)
    ):
        t.error("columns", f"must be an array of band names, got {describe(names)}")
        return None, None
    path = (base_dir / data).resolve()
    try:
        if path.suffix.lower() == ".wav":
            loaded, columns = _read_wav_data(t, path, kind, seed, names)
        else:
            loaded, columns = _read_csv_data(t, path, kind, seed, names)
    except DataFileError as e:
        t.error("data", str(e))
        return None, None
    if loaded is None:
        return None, columns
    return replace(loaded, data_as_given=data), columns


def _read_csv_data(t: TableReader, path: Path, kind: str, seed: int, names) -> TrainingRead:
    table = read_csv(path)
    if names is not None:
        t.error("columns", "only WAV data takes columns (a CSV names them in its header row)")
        return None, None
    columns = {}
    if kind == "impulse":
        freqs = None
        band_cols = table.columns
    else:
        if table.columns[0] != FREQ_COLUMN:
            t.error(
                "data",
                f"{path.name}: the first column must be {FREQ_COLUMN!r} "
                f"(rows are frequencies), got {table.columns[0]!r}",
            )
            return None, None
        freqs = table.column(FREQ_COLUMN)
        band_cols = table.columns[1:]
        if np.any(freqs <= 0):
            t.error("data", f"{path.name}: {FREQ_COLUMN} must be > 0 Hz in every row")
            return None, set(band_cols)
    if not band_cols:
        t.error("data", f"{path.name}: no band columns (one column per band, named after it)")
        return None, set()
    ok = True
    for name in band_cols:
        values = table.column(name)
        message = _check_values(kind, values)
        if message:
            t.error("data", f"{path.name}: column {name!r}: {message}")
            ok = False
        columns[name] = values
    if kind != "impulse" and len(freqs) < 2:
        t.error("data", f"{path.name}: at least two frequencies are needed, got {len(freqs)}")
        ok = False
    loaded = TrainingConfig(path, kind, seed, freqs, columns) if ok else None
    return loaded, set(band_cols)


def _read_wav_data(t: TableReader, path: Path, kind: str, seed: int, names) -> TrainingRead:
    if kind != "impulse":
        t.error(
            "data",
            f"{path.name}: a WAV file holds an impulse response; kind = {kind!r} needs a CSV",
        )
        return None, None
    audio = read_wav(path)
    channels = audio.samples.shape[1]
    if names is None:
        t.error(
            "columns",
            f"missing: name the band of each of the {channels} WAV channel(s), "
            'e.g. columns = ["a4"]',
        )
        return None, None
    if len(names) != channels:
        t.error("columns", f"{len(names)} names for {channels} WAV channel(s)")
        return None, None
    columns = {}
    for i, name in enumerate(names):
        values = audio.samples[:, i]
        message = _check_values(kind, values)
        if message:
            t.error("data", f"{path.name}: channel {i} ({name}): {message}")
            return None, set(names)
        columns[name] = values
    loaded = replace(TrainingConfig(path, kind, seed, None, columns), sample_rate_hz=audio.rate_hz)
    return loaded, set(names)


def _check_values(kind: str, values: np.ndarray) -> str | None:
    if kind == "binary":
        if not np.all((values == 0) | (values == 1)):
            bad = values[(values != 0) & (values != 1)][0]
            return f"binary labels must be 0 or 1, found {bad:g}"
        if np.all(values == 1) or np.all(values == 0):
            return (
                f"no bracket: every label is {int(values[0])}, so the LED edge could be "
                "anywhere (labels need both on and off frequencies)"
            )
    elif kind == "magnitude":
        if np.any(values < 0):
            return 'magnitudes must be >= 0 (linear |H|, not dB: use kind = "db")'
        if not np.any(values > 0):
            return "every magnitude is 0"
    elif kind == "impulse":
        if len(values) < 8:
            return f"an impulse response needs at least 8 samples, got {len(values)}"
        if not np.any(values != 0):
            return "the impulse response is all zeros"
    return None
