"""firmware/ in the repository is exactly what ``designer build`` makes of the bundled default
(examples/classic.toml on the uno): rebuilt into a temporary folder and compared byte for byte.
A report folder (pictures a user may add with ``designer plot --out firmware/report``) and
PlatformIO's .pio/ are set aside. If this fails, rebuild it at the repository root:
``rm -rf firmware && designer build`` (a build never deletes files, so files the templates no
longer make stay behind until firmware/ is removed)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT

from designer.cli import main
from designer.outfiles import MANIFEST

FIRMWARE = ROOT / "firmware"
ASIDE = ("report", ".pio")


def files(d: Path) -> dict[str, bytes]:
    out = {
        str(p.relative_to(d)): p.read_bytes()
        for p in sorted(d.rglob("*"))
        if p.is_file() and p.relative_to(d).parts[0] not in ASIDE
    }
    if MANIFEST in out:
        # The manifest also lists the report's pictures, whose bytes depend on the installed
        # matplotlib and freetype: compare the entries of everything else.
        doc = json.loads(out[MANIFEST])
        doc["files"] = {k: v for k, v in doc["files"].items() if k.split("/")[0] not in ASIDE}
        out[MANIFEST] = json.dumps(doc, sort_keys=True).encode()
    return out


def test_firmware_matches_a_fresh_build(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no organ.toml here: the bundled classic organ
    assert main(["build", "--out", "fresh"]) == 0
    fresh = files(tmp_path / "fresh")
    committed = files(FIRMWARE)
    stale = sorted(k for k in fresh if committed.get(k) != fresh[k])
    extra = sorted(set(committed) - set(fresh))
    assert not stale and not extra, (
        f"firmware/ is out of date: differs {stale}, not generated {extra}; "
        "run `rm -rf firmware && designer build` at the repository root"
    )


def test_firmware_has_no_machine_specific_text():
    for rel, data in files(FIRMWARE).items():
        text = data.decode("utf-8")
        assert str(ROOT) not in text and str(Path.home()) not in text, rel
