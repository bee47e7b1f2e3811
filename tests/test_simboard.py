"""host/simboard.py + host/native_board/: the native simulated board (organ_app, organ_link,
organ_dsp and the design tables compiled for the host, served on a pty)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
import scipy.io.wavfile as wavfile
from conftest import require_tool
from host_helpers import built, design, fast_timeouts, start_design_board, wait_until

from designer.errors import DesignerError
from host import protocol as P
from host.board import Board
from host.simboard import (
    audio_for_board,
    design_header,
    start_simulated_board,
)


@pytest.fixture(autouse=True)
def _needs_gcc():
    require_tool("gcc")  # the native simulated board is built with it


def open_board(sim) -> Board:
    return Board.open(sim.port, timeouts=fast_timeouts())


def tone_wav(path, freq, fs=44100, seconds=1.0, amp=0.5):
    t = np.arange(int(fs * seconds)) / fs
    wavfile.write(path, fs, (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16))
    return path


class TestBuild:
    def test_cached_by_content(self):
        a = built(design("classic"))
        mtime = a.stat().st_mtime_ns
        assert built(design("classic")) == a and a.stat().st_mtime_ns == mtime
        assert built(design("resonator")) != a

    def test_header_carries_identity_and_tables(self):
        d = design("classic")
        text = design_header(d)
        digest = bytes.fromhex(d.hash)
        assert "{" + ", ".join(map(str, digest)) + "}" in text
        assert '"uno"' in text and "organ_design" in text and '"treble"' in text

    @pytest.mark.parametrize("board, band", [
        ("esp32c3", 'type = "lowpass"\nfilter = "butterworth"\norder = 3\ncutoff_hz = 1000'),
        ("uno", 'type = "highpass"\nfilter = "butterworth"\norder = 1\ncutoff_hz = 3000'),
        ("uno", 'type = "lowpass"\nfilter = "butterworth"\norder = 5\ncutoff_hz = 500'),
        ("esp32c3", 'type = "bandpass"\nfilter = "butterworth"\nlow_hz = 500\nhigh_hz = 2000'),
        ("uno", 'type = "bandpass"\nfilter = "butterworth"\norder = 6\nlow_hz = 500\n'
                'high_hz = 2000'),
    ])
    def test_every_section_shape_compiles_clean(self, tmp_path, board, band):
        """The generated step under -Wall -Wextra -Werror: odd orders (a first-order BQ, no x2
        term), band-pass numerators 1 - z^-2 (no x1 term), one- and two-sample steps."""
        from designer.config import load_config
        from designer.design import make_design
        from host.simboard import build_for_design

        cfg = tmp_path / "organ.toml"
        cfg.write_text(f'board = "{board}"\n[[bands]]\nname = "b"\n{band}\n')
        assert build_for_design(make_design(load_config(cfg))).is_file()


class TestServing:
    def test_hello_at_start_and_identity(self):
        with start_design_board("classic") as sim:
            fd = os.open(sim.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                assert wait_until(lambda: _readable(fd), 2.0)
                frames = [f for f in P.Deframer().feed(os.read(fd, 4096)) if isinstance(f, P.Frame)]
            finally:
                os.close(fd)
            hello = P.parse_message(frames[0])
            assert isinstance(hello, P.Hello) and hello.n_bands == 3
            with open_board(sim) as b:
                info = b.check_design(design("classic").hash)
                assert (info.board, info.band_names) == ("uno", ("bass", "mid", "treble"))
                assert info.value_format == P.ValueFormat.INT16 and info.max_samples == 123
                assert abs(info.fs_hz - design("classic").sample_rate_hz) < 1e-3

    def test_float_variant(self):
        with start_design_board("msgeq7") as sim, open_board(sim) as b:
            info = b.check_design(design("msgeq7").hash)
            assert info.value_format == P.ValueFormat.FLOAT32 and info.n_bands == 7
            out = b.process(np.full(10, 1000, np.int16), from_reset=True)
            assert out.y.dtype == np.float32

    def test_link_symlink(self, tmp_path):
        link = tmp_path / "organ"
        with start_design_board("classic", link=link) as sim:
            assert link.is_symlink() and sim.port == str(link)
            with open_board(sim) as b:
                assert b.ping() == b"organ"
        assert not link.exists() and not link.is_symlink()

    def test_link_never_replaces_a_file(self, tmp_path):
        (tmp_path / "notes.txt").write_text("mine")
        with pytest.raises(DesignerError, match="not a symlink"):
            start_design_board("classic", link=tmp_path / "notes.txt")
        assert (tmp_path / "notes.txt").read_text() == "mine"

    def test_parent_gone_board_gone(self):
        sim = start_design_board("classic")
        try:
            sim.process.stdin.close()  # what the parent's death does
            assert wait_until(lambda: not sim.running, 3.0)
        finally:
            sim.close()


def _readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])


class TestStorage:
    def test_saved_parameters_survive_a_restart(self, tmp_path):
        eeprom = tmp_path / "eeprom.bin"
        with start_design_board("classic", storage=eeprom) as sim, open_board(sim) as b:
            assert b.info().params_status == P.ParamsStatus.ABSENT
            b.set(8, 120)  # hold_ms
            b.save()
            b.set(8, 250)  # not saved
        with start_design_board("classic", storage=eeprom) as sim, open_board(sim) as b:
            assert b.info().params_status == P.ParamsStatus.LOADED
            assert b.get(8) == 120

    def test_reboot_reloads_the_saved_image(self, tmp_path):
        with start_design_board("classic", storage=tmp_path / "e.bin") as sim, open_board(sim) as b:
            b.set(8, 77)
            b.save()
            b.set(8, 5)
            hello = b.reset(P.ResetKind.REBOOT)
            assert hello.params_status == P.ParamsStatus.LOADED and b.get(8) == 77


class TestLiveAudio:
    def test_input_lights_the_right_band(self, tmp_path):
        wav = tone_wav(tmp_path / "a.wav", 300.0)
        with start_design_board("classic", input_wav=wav) as sim, open_board(sim) as b:
            time.sleep(0.6)  # let the tone settle (real time)
            b.start_levels(20)
            frames = [b.read_levels(1.0) for _ in range(5)]
            b.stop_levels()
            info = b.last_info
            leds = np.array([f.outputs(3, info.value_format).led[0] for f in frames])
            assert (leds[:, 0] > 0).all() and (leds[:, 2] == 0).all()

    def test_process_blocks_continue_despite_live_audio(self, tmp_path):
        from designer import model

        d = design("classic")
        wav = tone_wav(tmp_path / "loud.wav", 700.0, amp=0.9, seconds=2.0)
        x = np.random.default_rng(5).integers(-20000, 20000, 123 * 6).astype(np.int16)
        with start_design_board("classic", input_wav=wav) as sim, open_board(sim) as b:
            got = []
            for i in range(6):
                got.append(b.process(x[123 * i : 123 * (i + 1)], from_reset=i == 0))
                time.sleep(0.02)  # live samples keep arriving meanwhile
        want = model.run(d.quantized, x)
        np.testing.assert_array_equal(np.concatenate([g.y for g in got]), want.y)
        np.testing.assert_array_equal(np.concatenate([g.led for g in got]), want.led)

    def test_overruns_when_the_host_falls_behind(self):
        with start_design_board("classic") as sim, open_board(sim) as b:
            assert b.info().overruns == 0
            os.kill(sim.process.pid, signal.SIGSTOP)
            time.sleep(0.6)
            os.kill(sim.process.pid, signal.SIGCONT)
            assert wait_until(lambda: b.info().overruns > 0, 2.0)

    def test_audio_for_board(self, tmp_path):
        fs = 48000
        t = np.arange(fs // 10) / fs
        stereo = np.stack([np.sin(2 * np.pi * 1000 * t)] * 2, axis=1) * 0.5
        wavfile.write(tmp_path / "s.wav", fs, (stereo * 32767).astype(np.int16))
        x = audio_for_board(tmp_path / "s.wav", 19230.769)
        assert x.dtype == np.dtype("<i2") and abs(len(x) - 1923) <= 2
        assert 15000 < np.max(np.abs(x)) < 17500


class TestEngines:
    def test_unknown_engine(self):
        with pytest.raises(DesignerError, match="unknown simulation engine 'qemu'"):
            start_simulated_board("qemu", design("classic"))


def test_sim_board_command(tmp_path):
    """``designer sim-board``: the link appears, a board answers on it, SIGTERM cleans up, and
    the design is left where monitor and calibrate look for it by hash."""
    import subprocess
    import sys

    from conftest import ROOT

    env = {**os.environ, "COLOR_ORGAN_CACHE": str(tmp_path / "cache")}
    link = tmp_path / "organ"
    proc = subprocess.Popen(
        [sys.executable, "-m", "designer.cli", "sim-board", str(ROOT / "examples/classic.toml"),
         "--link", str(link)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(link.is_symlink, 30.0), proc.stderr.read() if proc.poll() else ""
        with Board.open(str(link), timeouts=fast_timeouts()) as b:
            assert b.check_design(design("classic").hash).board == "uno"
        known = tmp_path / "cache" / "designs" / f"{design('classic').hash}.json"
        assert known.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
    assert code == 0 and not link.exists() and not link.is_symlink()
    assert proc.stdout.read().strip() == str(link)


def test_board_program_is_clean_under_sanitizers():
    """sim_board.c (pty, ring buffer, storage, pacing) with ASan + UBSan, driven through every
    kind of command, garbage and a reboot, then stopped."""
    from conftest import ROOT

    from host.simboard import build_for_test_app, run_native

    exe = build_for_test_app([ROOT / "tests" / "link_c" / "mock_app.c"],
                             ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"])
    with run_native(exe, fs=8000.0, noise_dbfs=-40.0) as sim:
        with Board.open(sim.port, timeouts=fast_timeouts()) as b:
            b.port.write(bytes(range(256)) * 4)
            assert b.ping(retries=2) == b"organ"
            b.process(np.arange(-60, 63, dtype=np.int16) * 500, from_reset=True)
            b.set(0, 200)
            b.save()
            b.start_levels(10)
            assert b.read_levels(1.0) is not None
            b.stop_levels()
            assert b.reset(P.ResetKind.REBOOT) is not None
        sim.process.terminate()
        assert sim.wait(5) == 0, sim.log()
        assert "runtime error" not in sim.log() and "AddressSanitizer" not in sim.log()
