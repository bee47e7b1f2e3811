"""designer/build_cmd.py: ``designer build`` and ``designer upload`` through the CLI.

build: files written atomically and only on change, other files left alone, hand edits refused
unless --force, nothing written by a refused build, --json document. upload: run against a fake
``pio`` on PATH (the real one needs the registry, which is out of reach here)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from conftest import ROOT

from designer import design as design_mod
from designer.cli import main
from designer.errors import QuantizationError

CLASSIC = ROOT / "examples" / "classic.toml"


def build(*argv: str) -> int:
    return main(["build", *map(str, argv)])


def snapshot(d: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(d)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(d.rglob("*")) if p.is_file()}


class TestBuild:
    def test_writes_project_and_says_what_next(self, tmp_path, capsys):
        out = tmp_path / "fw"
        assert build(CLASSIC, "--out", out) == 0
        for rel in ("platformio.ini", "src/main.cpp", "include/organ_design.h",
                    "include/organ_board.h", "design.json", "lib/organ_app/organ_app.c",
                    "lib/organ_dsp/organ_dsp.h", "lib/organ_link/organ_link.c"):
            assert (out / rel).is_file(), rel
        text = capsys.readouterr().out
        assert f"pio run -d {out} -e uno -t upload" in text
        assert "17 file(s) written" in text or "file(s) written" in text
        doc = json.loads((out / "design.json").read_text())
        assert doc["board"] == "uno" and len(doc["design_hash"]) == 64

    def test_rebuild_changes_nothing(self, tmp_path, capsys):
        out = tmp_path / "fw"
        assert build(CLASSIC, "--out", out) == 0
        before = snapshot(out)
        assert build(CLASSIC, "--out", out) == 0
        assert snapshot(out) == before  # same bytes, same mtimes: PlatformIO rebuilds nothing
        assert "0 file(s) written" in capsys.readouterr().out

    def test_json(self, tmp_path, capsys):
        out = tmp_path / "fw"
        assert build(CLASSIC, "--out", out, "--json") == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["sample_rate_hz"] == pytest.approx(16e6 / 64 / 13)
        for band in doc["bands"]:
            for key in ("name", "type", "filter", "cutoffs_hz", "edges_hz", "resistors_ohm",
                        "resistors_e_series_ohm", "capacitor_f", "sos"):
                assert key in band, key
        assert "seconds" in doc["training"]
        assert doc["budget"]["cycles_per_sample"] <= doc["budget"]["cycles_budget"]
        assert doc["budget"]["ram_bytes"] <= doc["budget"]["ram_budget_bytes"]
        assert "platformio.ini" in doc["files"]["written"]
        assert doc["next_command"] == f"pio run -d {out} -e uno -t upload"

    def test_other_files_left_alone(self, tmp_path):
        out = tmp_path / "fw"
        (out / ".pio" / "build").mkdir(parents=True)
        (out / ".pio" / "build" / "firmware.elf").write_bytes(b"\x7fELF")
        (out / "notes.txt").write_text("my notes\n")
        assert build(CLASSIC, "--out", out) == 0
        assert (out / "notes.txt").read_text() == "my notes\n"
        assert (out / ".pio" / "build" / "firmware.elf").read_bytes() == b"\x7fELF"

    def test_hand_edit_refused_unless_forced(self, tmp_path, capsys):
        out = tmp_path / "fw"
        assert build(CLASSIC, "--out", out) == 0
        main_cpp = out / "src" / "main.cpp"
        main_cpp.write_text(main_cpp.read_text() + "/* my tweak */\n")
        edited = main_cpp.read_bytes()
        # a different design, so that every generated file would change
        cfg = tmp_path / "organ.toml"
        cfg.write_text(CLASSIC.read_text().replace("cutoff_hz = 800", "cutoff_hz = 700"))
        before = snapshot(out)
        capsys.readouterr()
        assert build(cfg, "--out", out) == 2
        err = capsys.readouterr().err
        assert "src/main.cpp" in err and "--force" in err
        assert snapshot(out) == before  # a refused build writes nothing
        assert build(cfg, "--out", out, "--force") == 0
        assert main_cpp.read_bytes() != edited
        assert "cutoffs_hz [700]" in (out / "include" / "organ_design.h").read_text()

    def test_bad_config_writes_nothing(self, tmp_path, capsys):
        cfg = tmp_path / "organ.toml"
        cfg.write_text('board = "uno"\n[[bands]]\nname = "bass"\ntype = "lowpass"\n'
                       "cutoff_hz = 90000\n")
        out = tmp_path / "fw"
        assert build(cfg, "--out", out) == 2
        assert "bands[0].cutoff_hz" in capsys.readouterr().err
        assert not out.exists()

    def test_over_budget_writes_nothing(self, tmp_path, capsys):
        bands = "".join(
            f'[[bands]]\nname = "b{i}"\ntype = "bandpass"\nfilter = "butterworth"\norder = 4\n'
            f"low_hz = {200 * (i + 1)}\nhigh_hz = {300 * (i + 1)}\nled_pin = {p}\n"
            for i, p in enumerate([9, 10, 11, 3])
        )
        cfg = tmp_path / "organ.toml"
        cfg.write_text('board = "uno"\n' + bands)
        out = tmp_path / "fw"
        assert build(cfg, "--out", out) == 2
        assert "cycles per sample" in capsys.readouterr().err
        assert not out.exists()

    def test_quantization_error_writes_nothing(self, tmp_path, capsys, monkeypatch):
        def refuse(*args, **kwargs):
            raise QuantizationError("band 'bass': 0.9 dB off over its passband")

        monkeypatch.setattr(design_mod, "quantize", refuse)
        out = tmp_path / "fw"
        assert build(CLASSIC, "--out", out) == 2
        assert "0.9 dB off" in capsys.readouterr().err
        assert not out.exists()

    def test_default_config(self, tmp_path, monkeypatch, capsys):
        monkeypatch.chdir(tmp_path)
        assert build() == 0  # no organ.toml here: the bundled classic organ, into firmware/
        assert json.loads(Path("firmware/design.json").read_text())["config_file"] == "classic.toml"
        Path("organ.toml").write_text(CLASSIC.read_text().replace("cutoff_hz = 800",
                                                                  "cutoff_hz = 650"))
        assert build("--out", "mine") == 0
        doc = json.loads(Path("mine/design.json").read_text())
        assert doc["config_file"] == "organ.toml"
        assert "pio run -d mine -e uno -t upload" in capsys.readouterr().out


FAKE_PIO = """#!/usr/bin/env python3
import os, sys
with open(os.environ["FAKE_PIO_LOG"], "a") as f:
    f.write(" ".join(sys.argv[1:]) + "\\n")
sys.stdout.write(os.environ.get("FAKE_PIO_OUTPUT", ""))
sys.exit(int(os.environ.get("FAKE_PIO_EXIT", "0")))
"""


@pytest.fixture
def fake_pio(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    pio = bindir / "pio"
    pio.write_text(FAKE_PIO)
    pio.chmod(pio.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "pio.log"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PIO_LOG", str(log))

    def configure(output: str = "", code: int = 0) -> Path:
        monkeypatch.setenv("FAKE_PIO_OUTPUT", output)
        monkeypatch.setenv("FAKE_PIO_EXIT", str(code))
        return log

    return configure


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("upload") / "fw"
    assert build(CLASSIC, "--out", out) == 0
    return out


def upload(*argv: str) -> int:
    return main(["upload", *map(str, argv)])


class TestUpload:
    def test_runs_pio_and_streams_output(self, project, fake_pio, capsys):
        log = fake_pio("Uploading .pio/build/uno/firmware.hex\navrdude done.  Thank you.\n")
        assert upload(project, "--port", "/dev/ttyACM0") == 0
        assert log.read_text().split() == ["run", "-d", str(project), "-e", "uno", "-t",
                                           "upload", "--upload-port", "/dev/ttyACM0"]
        assert "avrdude done" in capsys.readouterr().out

    def test_registry_unreachable(self, project, fake_pio, capsys):
        fake_pio("Platform Manager: Installing atmelavr @ ^5\nHTTPClientError: Could not resolve "
                 "host: api.registry.platformio.org\n", code=1)
        assert upload(project) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "cannot reach its registry" in err[0]

    def test_no_board(self, project, fake_pio, capsys):
        fake_pio("Looking for upload port...\nError: Please specify `upload_port` for environment "
                 "or use global `--upload-port` option.\n", code=1)
        assert upload(project) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no board answered" in err[0]

    def test_avrdude_cannot_open_port(self, project, fake_pio, capsys):
        fake_pio("avrdude: ser_open(): can't open device \"/dev/ttyUSB7\": No such file or "
                 "directory\n", code=1)
        assert upload(project, "--port", "/dev/ttyUSB7") == 2
        assert "no board answered on /dev/ttyUSB7" in capsys.readouterr().err

    def test_other_failure(self, project, fake_pio, capsys):
        fake_pio("src/main.cpp:1:1: error: something else\n", code=1)
        assert upload(project) == 2
        assert "pio exited with 1" in capsys.readouterr().err

    def test_missing_project_refused_at_once(self, tmp_path, fake_pio, capsys):
        log = fake_pio()
        assert upload(tmp_path / "nowhere") == 2
        assert "no platformio.ini" in capsys.readouterr().err
        assert not log.exists()

    def test_unknown_env_refused_at_once(self, project, fake_pio, capsys):
        log = fake_pio()
        assert upload(project, "--env", "esp32dev") == 2
        assert "no environment 'esp32dev'" in capsys.readouterr().err
        assert not log.exists()
