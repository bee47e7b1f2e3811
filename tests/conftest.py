"""Shared test helpers.

In CI (``CI=true``) a test whose tool is missing fails instead of skipping: a skipped test
must never be counted as a pass.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(*names: str) -> None:
    """Skip (locally) or fail (in CI) when one of the named executables is not on PATH."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        msg = f"required tool(s) not installed: {', '.join(missing)}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def require_path(path: str | Path, what: str) -> None:
    """Like :func:`require_tool` for a file or directory (a Debian package's data)."""
    if not Path(path).exists():
        msg = f"{what} not installed: {path} is missing"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
