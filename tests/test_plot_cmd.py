"""designer.plot_cmd: the ``designer plot`` and ``designer simulate`` commands (exit codes, files,
JSON, progress bar)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT, require_tool
from rich.console import Console
from wavs import sine, write_wav

from designer import cli, plot_cmd, plots, simulate
from designer.datafiles import DataFileError
from designer.design import load_design

CLASSIC = ROOT / "examples" / "classic.toml"


@pytest.fixture(scope="module")
def classic():
    require_tool("gcc")  # the host build of the DSP core
    return load_design(CLASSIC)


class TestCli:
    def test_json_and_plot(self, classic, tmp_path, capsys):
        wav = write_wav(tmp_path / "a.wav", np.concatenate([np.zeros(4410), sine(100, 0.6)]),
                        "int16")
        png = tmp_path / "sim.png"
        rc = cli.main(["simulate", str(CLASSIC), str(wav), "--json",
                       "--plot", str(png)])
        assert rc == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["sample_rate_hz"] == pytest.approx(16e6 / 832)
        assert doc["duration_s"] == pytest.approx(0.7, abs=1e-3)
        names = [b["name"] for b in doc["bands"]]
        assert names == ["bass", "mid", "treble"]
        (t_on, t_off), = doc["bands"][0]["led_on_intervals_s"]
        assert 0.1 <= t_on < 0.12 and t_off > 0.69
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    @pytest.mark.parametrize("content,message", [
        (b"", "empty"),
        (b"hello, this is not audio at all", "not a WAV"),
        (None, "truncated"),
    ])
    def test_bad_audio_exits_2_with_a_clear_message(self, classic, tmp_path, capsys, content,
                                                    message):
        path = tmp_path / "bad.wav"
        if content is None:  # a valid header promising more data than the file holds
            write_wav(path, sine(100, 0.5), "int16")
            path.write_bytes(path.read_bytes()[:2000])
        else:
            path.write_bytes(content)
        rc = cli.main(["simulate", str(CLASSIC), str(path)])
        assert rc == 2
        err = capsys.readouterr().err
        assert message in err and "bad.wav" in err

    def test_missing_file_is_bad_input(self, classic, tmp_path):
        with pytest.raises(DataFileError, match="no such file"):
            simulate.simulate_wav(classic, tmp_path / "nope.wav")


def test_plot_command_writes_every_picture(classic, tmp_path, capsys):
    out = tmp_path / "pics"
    assert cli.main(["plot", str(CLASSIC), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(plots.design_plots(classic))
    assert (out / "bode_mid.png").read_bytes() == plots.bode_png(classic, 1)
    assert "pictures in" in capsys.readouterr().err


def test_plot_command_refuses_a_bad_design(tmp_path):
    bad = tmp_path / "design.json"
    bad.write_text("{}")
    assert cli.main(["plot", str(bad), "--out", str(tmp_path / "x")]) == 2


def test_progress_bar_only_for_long_audio_on_a_terminal():
    term = Console(force_terminal=True, stderr=True)
    assert plot_cmd._progress_bar(term, 5.0) == (None, None)
    assert plot_cmd._progress_bar(Console(force_terminal=False, stderr=True), 600.0) == (None, None)
    update, bar = plot_cmd._progress_bar(term, 600.0)
    update(50, 100)
    assert bar.tasks[0].completed == pytest.approx(0.5)
