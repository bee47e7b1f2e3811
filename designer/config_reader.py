"""Reading TOML tables key by key, collecting every problem with its key path.

Validation reports all errors of a file together (ESPHome style), so the reader never raises
while reading: it records a message and returns ``None`` and the caller keeps going.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from typing import Any


def describe(value: Any) -> str:
    """A short, safe rendering of a user value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def fmt_hz(f: float) -> str:
    """A frequency with up to two decimals and no trailing zeros (19230.77, 44100)."""
    return f"{f:.2f}".rstrip("0").rstrip(".")


def limit_text(limit: float, value: float) -> str:
    """``limit`` with the fewest decimals (up to 6) that keep it visibly on its side of
    ``value``, so a message never reads "8654 Hz is above 0.45·fs = 8654 Hz"."""
    if limit == value:
        return f"{limit:g}"
    for decimals in range(7):
        text = f"{limit:.{decimals}f}"
        if (float(text) < value) == (limit < value) and float(text) != value:
            return text
    return f"{limit:.6f}"


def type_name(value: Any) -> str:
    """TOML's name for the type of ``value``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


class Problems:
    """Collects error and warning messages, each prefixed with its key path."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}" if path else message)

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(f"{path}: {message}" if path else message)


class TableReader:
    """Reads one TOML table; remembers which keys were read so the rest can be reported."""

    def __init__(self, table: dict[str, Any], path: str, problems: Problems):
        self.table = table
        self.path = path
        self.problems = problems
        self.seen: set[str] = set()

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> None:
        self.problems.error(self.key_path(key), message)

    def has(self, key: str) -> bool:
        return key in self.table

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.table.get(key)

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        required: bool = False,
        check: Callable[[float], str | None] | None = None,
    ) -> float | None:
        """A finite int or float (not a boolean); ``check`` returns an error text or None."""
        self.seen.add(key)
        if key not in self.table:
            if required:
                self.error(key, "missing (a number is required)")
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(key, f"must be a number, got {type_name(value)} {describe(value)}")
            return None
        value = float(value)
        if not math.isfinite(value):
            self.error(key, f"must be a finite number, got {value}")
            return None
        if check is not None:
            message = check(value)
            if message:
                self.error(key, message)
                return None
        return value

    def integer(
        self,
        key: str,
        default: int | None = None,
        *,
        required: bool = False,
        lo: int | None = None,
        hi: int | None = None,
    ) -> int | None:
        """An integer within [lo, hi]."""
        self.seen.add(key)
        if key not in self.table:
            if required:
                self.error(key, "missing (an integer is required)")
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"must be an integer, got {type_name(value)} {describe(value)}")
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.error(key, f"must be an integer from {lo} to {hi}, got {value}")
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool | None:
        self.seen.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        if not isinstance(value, bool):
            self.error(key, f"must be true or false, got {type_name(value)} {describe(value)}")
            return None
        return value

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        self.seen.add(key)
        if key not in self.table:
            if required:
                self.error(key, "missing (a string is required)")
            return default
        value = self.table[key]
        if not isinstance(value, str):
            self.error(key, f"must be a string, got {type_name(value)} {describe(value)}")
            return None
        return value

    def choice(
        self,
        key: str,
        allowed: Iterable[str],
        default: str | None = None,
        *,
        required: bool = False,
    ) -> str | None:
        """One of ``allowed``; a near miss gets a did-you-mean."""
        allowed = tuple(allowed)
        value = self.string(key, default, required=required)
        if value is None or value in allowed:
            return value
        hint = did_you_mean(value, allowed)
        self.error(key, f"{describe(value)} is not one of {', '.join(allowed)}{hint}")
        return None

    def table_of(self, key: str) -> dict[str, Any]:
        """A sub-table; an absent one reads as empty."""
        self.seen.add(key)
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            self.error(key, f"must be a table, got {type_name(value)} {describe(value)}")
            return {}
        return value

    def finish(self, known: Iterable[str] = ()) -> None:
        """Report every key that was present but never read, with a did-you-mean among the keys
        read and ``known`` (keys valid elsewhere in this kind of table)."""
        candidates = self.seen | set(known)
        for key in self.table:
            if key not in self.seen:
                hint = did_you_mean(key, candidates)
                self.error(key, f"unknown key{hint}")


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a close match, else an empty string."""
    close = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
