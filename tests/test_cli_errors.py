"""File-system mistakes and unusable ports on the command line: exit 2 and one line naming the
option (``--out``, ``--plot``, ``--link``, ``--png``) or the file, never a traceback, and nothing
written. Truncated WAV files are refused cleanly at every cut length."""

from __future__ import annotations

import errno
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import serial
from conftest import ROOT
from wavs import sine, write_wav

from designer import cli
from designer import design as design_mod
from designer.config import load_config
from designer.datafiles import DataFileError, check_wav, read_wav
from designer.errors import ConfigError, DesignerError
from host import protocol as P
from host.board import Board, EchoError, PortError, Timeouts
from host.board_errors import describe, port_open_failure
from host.simboard import SimulatedBoard, link_board

CLASSIC = ROOT / "examples" / "classic.toml"
BUILT = ROOT / "firmware" / "design.json"
FAST = Timeouts(reply=0.1, frame_gap=0.05, hello_grace=0.05)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``designer ARGV`` (a traceback fails the test)."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str) -> str:
    """The single ``error: ...`` line; fails on a wrapped, repeated or traceback message."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err and "Errno" not in err
    return lines[0]


def tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def no_design(monkeypatch):
    """Designing must not start: output paths are checked first (learning may take minutes)."""
    def refuse(*args, **kwargs):
        raise AssertionError("the design was made before the output path was checked")

    monkeypatch.setattr(design_mod, "make_design", refuse)
    monkeypatch.setattr(design_mod, "load_design", refuse)
    monkeypatch.setattr(design_mod, "load_design_json", refuse)


class TestBuildOut:
    def test_out_is_a_regular_file(self, tmp_path, capsys, no_design):
        afile = tmp_path / "afile"
        afile.write_text("notes\n")
        before = tree(tmp_path)
        code, out, err = run(capsys, "build", str(CLASSIC), "--out", str(afile))
        assert code == 2 and out == ""
        assert one_error_line(err) == f"error: --out {afile}: exists and is not a directory"
        assert tree(tmp_path) == before

    def test_out_below_a_regular_file(self, tmp_path, capsys, no_design):
        afile = tmp_path / "afile"
        afile.write_text("notes\n")
        before = tree(tmp_path)
        code, _, err = run(capsys, "build", str(CLASSIC), "--out", str(afile / "sub"))
        assert code == 2
        line = one_error_line(err)
        assert line.startswith(f"error: --out {afile / 'sub'}: ")
        assert f"{afile} is not a directory" in line
        assert tree(tmp_path) == before

    def test_out_is_a_broken_symlink(self, tmp_path, capsys, no_design):
        (tmp_path / "dangling").symlink_to(tmp_path / "gone")
        code, _, err = run(capsys, "build", str(CLASSIC), "--out", str(tmp_path / "dangling"))
        assert code == 2 and "broken symlink" in one_error_line(err)
        assert not (tmp_path / "gone").exists()


class TestPlot:
    def test_out_is_an_existing_file(self, tmp_path, capsys, no_design):
        target = tmp_path / "design.json"
        shutil.copy(BUILT, target)
        code, _, err = run(capsys, "plot", str(CLASSIC), "--out", str(target))
        assert code == 2
        assert one_error_line(err) == f"error: --out {target}: exists and is not a directory"
        assert target.read_bytes() == BUILT.read_bytes()

    def test_a_build_folder_stands_for_its_design_json(self, tmp_path, capsys):
        build = tmp_path / "firmware"
        build.mkdir()
        shutil.copy(BUILT, build / "design.json")
        out = tmp_path / "pics"
        code, _, err = run(capsys, "plot", str(build), "--out", str(out))
        assert code == 0, err
        assert (out / "polezero.png").read_bytes()[:4] == b"\x89PNG"

    def test_a_folder_without_design_json(self, tmp_path, capsys):
        code, _, err = run(capsys, "plot", str(tmp_path), "--out", str(tmp_path / "pics"))
        assert code == 2
        line = one_error_line(err)
        assert str(tmp_path / "design.json") in line and "no such design file" in line
        assert "Is a directory" not in line and not (tmp_path / "pics").exists()

    def test_help_says_what_design_may_be(self, capsys):
        with pytest.raises(SystemExit):
            cli.main(["plot", "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "a config (.toml), a build's design.json, or a build folder" in text


class TestSimulatePlot:
    @pytest.fixture
    def tone(self, tmp_path):
        return write_wav(tmp_path / "tone.wav", sine(440, 0.05), "int16")

    def test_plot_below_a_regular_file(self, tmp_path, tone, capsys, no_design):
        afile = tmp_path / "afile"
        afile.write_text("x")
        code, out, err = run(capsys, "simulate", str(CLASSIC), str(tone),
                             "--plot", str(afile / "p.png"))
        assert code == 2 and out == ""
        line = one_error_line(err)
        assert line.startswith(f"error: --plot {afile / 'p.png'}: ")
        assert "not a directory" in line and afile.read_text() == "x"

    def test_plot_is_a_directory(self, tmp_path, tone, capsys, no_design):
        code, _, err = run(capsys, "simulate", str(CLASSIC), str(tone), "--plot", str(tmp_path))
        assert code == 2 and "--plot" in one_error_line(err) and "is a directory" in err

    def test_audio_is_a_directory(self, tmp_path, capsys, no_design):
        code, _, err = run(capsys, "simulate", str(CLASSIC), str(tmp_path))
        assert code == 2 and "is a directory" in one_error_line(err)


class TestSimBoardLink:
    def test_link_in_a_missing_folder(self, tmp_path, capsys, no_design):
        link = tmp_path / "nonexist" / "dir" / "x"
        code, _, err = run(capsys, "sim-board", str(BUILT), "--link", str(link))
        assert code == 2
        assert one_error_line(err) == (f"error: --link {link}: its folder {link.parent} "
                                       "does not exist")

    def test_link_on_a_regular_file(self, tmp_path, capsys, no_design):
        afile = tmp_path / "afile"
        afile.write_text("x")
        code, _, err = run(capsys, "sim-board", str(BUILT), "--link", str(afile))
        assert code == 2 and "not a symlink" in one_error_line(err)
        assert afile.read_text() == "x"

    def test_symlink_failure_stops_the_board_and_names_link(self, tmp_path):
        closed = []

        class Fake(SimulatedBoard):
            def close(self):
                closed.append(True)

        board = Fake(port="/dev/pts/999", storage=tmp_path / "eeprom.bin")
        link = tmp_path / "missing" / "x"
        with pytest.raises(DesignerError, match=r"--link .*missing/x: cannot make the symlink "
                                                r"\(no such file or directory\)"):
            link_board(board, link)
        assert closed and board.link is None

    def test_input_cut_in_its_header(self, tmp_path, capsys, no_design):
        wav = write_wav(tmp_path / "in.wav", sine(440, 0.05), "int16")
        wav.write_bytes(wav.read_bytes()[:30])
        code, _, err = run(capsys, "sim-board", str(BUILT), "--input", str(wav))
        assert code == 2 and "truncated or malformed WAV" in one_error_line(err)


# ---- WAV files cut inside their header ---------------------------------------------------------

GUID_TAIL = b"\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def write_extensible(path: Path, x: np.ndarray, fs: int = 44100) -> Path:
    """16-bit PCM in a WAVE_FORMAT_EXTENSIBLE header (fmt chunk of 40 bytes)."""
    data = np.round(x * 32767).astype("<i2").tobytes()
    fmt = (struct.pack("<HHIIHH", 0xFFFE, 1, fs, 2 * fs, 2, 16)
           + struct.pack("<HHI", 22, 16, 4) + struct.pack("<I", 1) + GUID_TAIL)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def wav_file(tmp_path: Path, kind: str) -> Path:
    x = sine(440, 0.01)
    if kind == "extensible":
        return write_extensible(tmp_path / "full.wav", x)
    return write_wav(tmp_path / "full.wav", x, kind)


class TestTruncatedWav:
    @pytest.mark.parametrize("kind", ["int16", "int24", "float32", "extensible"])
    def test_every_cut_through_the_header(self, tmp_path, kind):
        full = wav_file(tmp_path, kind).read_bytes()
        header = full.index(b"data") + 8
        assert read_wav(tmp_path / "full.wav").samples.shape == (441, 1)
        cut = tmp_path / "cut.wav"
        for n in range(header + 8):
            cut.write_bytes(full[:n])
            with pytest.raises(DataFileError) as info:
                read_wav(cut)
            message = str(info.value)
            expected = "empty file" if n == 0 else "truncated or malformed WAV"
            assert message.startswith(f"{cut}: {expected}"), (n, message)
            assert "\n" not in message

    @pytest.mark.parametrize("n", [30, 40, 43])
    def test_simulate(self, tmp_path, capsys, no_design, n):
        wav = wav_file(tmp_path, "int16")
        wav.write_bytes(wav.read_bytes()[:n])
        code, _, err = run(capsys, "simulate", str(CLASSIC), str(wav))
        assert code == 2
        assert f"full.wav: truncated or malformed WAV (it ends at byte {n}" in one_error_line(err)

    @pytest.mark.parametrize("n", [30, 40, 43])
    def test_impulse_training_data(self, tmp_path, n):
        wav = wav_file(tmp_path, "int16")
        wav.write_bytes(wav.read_bytes()[:n])
        config = tmp_path / "organ.toml"
        config.write_text('board = "uno"\n[[bands]]\nname = "a4"\ntype = "resonator"\n'
                          '[training]\ndata = "full.wav"\nkind = "impulse"\ncolumns = ["a4"]\n')
        with pytest.raises(ConfigError, match=r"training\.data: .*truncated or malformed WAV"):
            load_config(config)

    def test_odd_chunk_with_its_pad_byte_still_reads(self, tmp_path):
        full = wav_file(tmp_path, "int16").read_bytes()
        i = full.index(b"data")
        extra = b"LIST" + struct.pack("<I", 5) + b"abcde" + b"\x00"
        body = full[8:i] + extra + full[i:]
        (tmp_path / "odd.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
        assert read_wav(tmp_path / "odd.wav").samples.shape == (441, 1)

    @pytest.mark.parametrize("offset,field", [(22, "channels"), (24, "sample rate"),
                                              (32, "block align"), (34, "bits per sample")])
    def test_zero_in_a_fmt_field(self, tmp_path, offset, field):
        data = bytearray(wav_file(tmp_path, "int16").read_bytes())
        width = 4 if field == "sample rate" else 2
        data[offset : offset + width] = bytes(width)
        (tmp_path / "zero.wav").write_bytes(data)
        with pytest.raises(DataFileError, match=f"fmt chunk says {field} 0"):
            check_wav(tmp_path / "zero.wav")


# ---- ports ---------------------------------------------------------------------------------------


class TestPortErrors:
    @pytest.mark.parametrize("command", ["monitor", "calibrate", "verify"])
    def test_no_such_port_is_one_readable_line(self, tmp_path, capsys, command):
        port = tmp_path / ("a-rather-long-folder-name-so-that-wrapping-would-show" * 2) / "tty"
        argv = [command, "--port", str(port)] + ([str(BUILT)] if command == "verify" else [])
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert one_error_line(err) == f"error: cannot open port {port}: no such file or directory"

    def test_verify_json_error_field(self, tmp_path, capsys):
        port = tmp_path / "tty"
        code, out, _ = run(capsys, "verify", "--json", "--port", str(port), str(BUILT))
        doc = json.loads(out)
        assert code == 2 and doc["exit_code"] == 2
        assert doc["error"] == f"cannot open port {port}: no such file or directory"

    @pytest.mark.parametrize("command", ["monitor", "calibrate", "verify"])
    def test_loopback_port(self, capsys, command):
        argv = [command, "--port", "loop://"] + ([str(BUILT)] if command == "verify" else [])
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert one_error_line(err) == ("error: the port loop:// echoes what it is sent: "
                                       "a loopback, not a board")

    def test_board_open_on_a_loopback(self):
        with pytest.raises(EchoError, match="loopback, not a board"):
            Board.open("loop://", timeouts=FAST)

    def test_monitor_png_checked_before_the_port(self, tmp_path, capsys):
        afile = tmp_path / "afile"
        afile.write_text("x")
        code, _, err = run(capsys, "monitor", "--port", "loop://", "--png",
                           str(afile / "levels.png"))
        assert code == 2 and one_error_line(err).startswith(f"error: --png {afile / 'levels.png'}")


class TestPortOpenFailure:
    @pytest.mark.parametrize("exc,reason", [
        (serial.SerialException(errno.ENOENT, "could not open port /dev/x: [Errno 2] No such "
                                              "file or directory: '/dev/x'"),
         "no such file or directory"),
        (serial.SerialException(errno.EACCES, "could not open port /dev/x: [Errno 13] "
                                              "Permission denied: '/dev/x'"),
         "permission denied"),
        (serial.SerialException("Could not configure port: (25, 'Inappropriate ioctl for "
                                "device')"),
         "not a serial port (it takes no serial settings)"),
        (serial.SerialException("Could not open port /dev/x: [Errno 111] Connection refused"),
         "connection refused"),
        (serial.SerialException("Could not open port /dev/x: [Errno -2] Name or service not "
                                "known"),
         "name or service not known"),
        (ValueError("invalid URL, protocol 'foo' not known"),
         "invalid URL, protocol 'foo' not known"),
    ])
    def test_reason(self, exc, reason):
        err = port_open_failure("/dev/x", exc)
        assert isinstance(err, PortError)
        assert str(err) == f"cannot open port /dev/x: {reason}"

    def test_describe_keeps_the_kind_of_a_link_error(self):
        assert describe(PortError("cannot open port x: busy")) == "cannot open port x: busy"
        assert "CrcError" in describe(P.CrcError("crc mismatch"))
        assert "UnexpectedTypeError" in describe(P.UnexpectedTypeError("got Ack"))


def test_an_unforeseen_os_error_is_one_line_and_exit_2(monkeypatch, capsys):
    from designer import commands

    def fail(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/srv/organ/firmware")

    monkeypatch.setattr(commands, "cmd_train", fail)
    code, _, err = run(capsys, "train", "organ.toml")
    assert code == 2
    assert one_error_line(err) == "error: /srv/organ/firmware: permission denied"
