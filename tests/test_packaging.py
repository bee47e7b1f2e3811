"""A regular install (not editable) carries everything the designer reads besides Python: the
firmware templates, the bundled examples and the simulated boards' C sources (pyproject.toml,
designer/resources.py). Installed into a folder of its own, from the files git sees, it builds
the bundled default config into exactly the repository's firmware/."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, require_tool


def _tracked_copy(dst: Path) -> None:
    # the working tree as git sees it: tracked files and new ones not ignored
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)


def _differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["report", ".pio"])
    out = [f"{a.name}/{n}" for n in cmp.left_only + cmp.right_only + cmp.diff_files]
    for name, sub in cmp.subdirs.items():
        out += [f"{name}/{d}" for d in _differences(Path(sub.left), Path(sub.right))]
    return out


@pytest.mark.slow
def test_a_regular_install_builds_the_bundled_default(tmp_path):
    require_tool("git")
    src, target, work = tmp_path / "src", tmp_path / "site", tmp_path / "work"
    src.mkdir()
    work.mkdir()
    _tracked_copy(src)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                        str(target), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    pkg = target / "designer" / "_bundled"
    assert (pkg / "firmware_templates" / "lib" / "organ_dsp" / "organ_dsp.c").is_file()
    assert (pkg / "examples" / "classic.toml").is_file()
    assert (target / "host" / "native_board" / "sim_board.c").is_file()
    assert (target / "host" / "simavr_harness" / "main.c").is_file()

    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = ("import designer, designer.resources as r; "
             "print(designer.__file__, r.TEMPLATES, r.EXAMPLES)")
    where = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True,
                           text=True, check=True)
    assert all(Path(p).is_relative_to(target) for p in where.stdout.split()), where.stdout
    assert len(where.stdout.split()) == 3
    build = subprocess.run([sys.executable, "-m", "designer.cli", "build"], cwd=work, env=env,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    assert _differences(work / "firmware", ROOT / "firmware") == []
