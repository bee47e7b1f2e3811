"""host/board.py: the Board client, against scripted fake ports (every failure kind, modem
lines) and against the real C link (tests/link_c's mock application on a native pty board)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import serial
from host_helpers import (
    MOCK_HASH,
    FakePort,
    MockModel,
    fast_timeouts,
    hello_bytes,
    start_mock_board,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from host import protocol as P
from host.board import (
    Board,
    BoardGoneError,
    BoardResetError,
    DesignMismatchError,
    EchoError,
    NoiseError,
    NoReplyError,
    PortError,
    Timeouts,
    reset_style_for,
)
from host.board_io import ResyncDeframer

SHORT = Timeouts(reply=0.15, frame_gap=0.05, uno_boot=1.0, esp32_boot=1.0, hello_grace=0.05)


def fake_board(monkeypatch, respond=None, on_line=None) -> FakePort:
    port = FakePort(respond, on_line)
    monkeypatch.setattr(serial, "serial_for_url", lambda url, **kw: port)
    return port


def pong(frame: P.Frame) -> bytes:
    if frame.type == P.MsgType.PING:
        return P.Pong(frame.payload).encode(frame.seq)
    return b""


class TestFailureKinds:
    """Each failure says which one it is (esptool's lesson)."""

    def test_no_such_port(self):
        t = time.monotonic()
        with pytest.raises(PortError, match="cannot open port /dev/no-such-organ"):
            Board.open("/dev/no-such-organ", timeouts=SHORT)
        assert time.monotonic() - t < 1

    def test_nobody_answers(self, monkeypatch):
        fake_board(monkeypatch)
        t = time.monotonic()
        with pytest.raises(NoReplyError, match="no reply to Ping from fake://"):
            Board.open("fake://", timeouts=SHORT)
        assert time.monotonic() - t < 2  # 3 bounded attempts

    def test_partial_frame(self, monkeypatch):
        def respond(f):  # a PONG without its delimiter
            return P.Pong(f.payload).encode(f.seq)[:-1] if f.type == P.MsgType.PING else b""

        fake_board(monkeypatch, respond)
        with pytest.raises(P.PartialFrameError, match="partial frame"):
            Board.open("fake://", timeouts=SHORT)

    def test_bad_crc(self, monkeypatch):
        def respond(f):
            raw = bytearray(P.frame_bytes(P.MsgType.PONG, f.seq, f.payload))
            raw[-1] ^= 0x10
            return P.cobs_encode(bytes(raw)) + b"\x00"

        fake_board(monkeypatch, respond)
        with pytest.raises(P.CrcError, match="bad CRC"):
            Board.open("fake://", timeouts=SHORT)

    def test_protocol_version_mismatch_is_immediate(self, monkeypatch):
        fake_board(monkeypatch, lambda f: P.encode_frame(P.MsgType.PONG, f.seq, f.payload, 2))
        t = time.monotonic()
        with pytest.raises(P.ProtocolVersionError, match="device speaks version 2"):
            Board.open("fake://", timeouts=SHORT)
        assert time.monotonic() - t < SHORT.reply  # no waiting for a timeout

    def test_device_error_code(self, monkeypatch):
        def respond(f):
            if f.type == P.MsgType.SET:
                return P.Error(P.ErrorCode.OUT_OF_RANGE, P.MsgType.SET, 7).encode(f.seq)
            return pong(f)

        fake_board(monkeypatch, respond)
        with Board.open("fake://", timeouts=SHORT) as b:
            with pytest.raises(P.DeviceError) as e:
                b.set(7, 10**6, retries=0)
        assert (e.value.code, e.value.name, e.value.detail) == (6, "OUT_OF_RANGE", 7)

    def test_unexpected_hello_is_a_restart(self, monkeypatch):
        def respond(f):
            return hello_bytes() if f.type == P.MsgType.GET else pong(f)

        fake_board(monkeypatch, respond)
        with Board.open("fake://", timeouts=SHORT) as b, pytest.raises(BoardResetError):
            b.get(0, retries=0)

    def test_garbage_and_stale_replies_are_skipped(self, monkeypatch):
        def respond(f):
            if f.type != P.MsgType.GET:
                return pong(f)
            stale = P.Value(0, 111).encode((f.seq - 1) % 256)
            return b"\x13\x37\xff\x00" + stale + P.Value(0, 222).encode(f.seq)

        fake_board(monkeypatch, respond)
        with Board.open("fake://", timeouts=SHORT) as b:
            assert b.get(0) == 222
            assert b.stale_frames == 1 and b.link_errors == 1

    def test_retries_recover_a_damaged_reply(self, monkeypatch):
        calls = []

        def respond(f):
            if f.type != P.MsgType.GET:
                return pong(f)
            calls.append(f.seq)
            good = P.Value(0, 5).encode(f.seq)
            return good[:3] + good[4:] if len(calls) == 1 else good  # first: a byte dropped

        fake_board(monkeypatch, respond)
        with Board.open("fake://", timeouts=SHORT) as b:
            assert b.get(0, retries=1) == 5
        assert len(calls) == 2

    def test_design_mismatch_says_both(self, monkeypatch):
        info = P.Info(0, 1, 0, 19230769, 1, 0, 15, 0, 123, 1, 0, 0, 0, bytes(range(32)))

        def respond(f):
            if f.type != P.MsgType.INFO:
                return pong(f)
            return (info.encode(f.seq) + P.Name(0, 0, "uno").encode(f.seq)
                    + P.Name(1, 0, "bass").encode(f.seq))

        fake_board(monkeypatch, respond)
        with Board.open("fake://", timeouts=SHORT) as b:
            with pytest.raises(DesignMismatchError,
                               match="the board runs design 000102030405, expected abcdef"):
                b.check_design("abcdef" * 10 + "abcd")
            assert b.check_design(bytes(range(32)).hex()).band_names == ("bass",)

    def test_command_restores_port_settings(self, monkeypatch):
        port = fake_board(monkeypatch, pong)
        with Board.open("fake://", timeouts=SHORT) as b:
            port.timeout = 1.25
            b.ping()
            assert port.timeout == 1.25
            port.respond = lambda f: b""
            with pytest.raises(NoReplyError):
                b.ping()
            assert port.timeout == 1.25

    def test_loopback_is_not_a_board(self):
        with pytest.raises(EchoError, match="loop:// echoes what it is sent: a loopback"):
            Board.open("loop://", timeouts=SHORT)


def noise(rng: np.random.Generator, n: int = 48) -> bytes:
    """Random bytes without a delimiter: a burst on an idle line."""
    return rng.integers(1, 256, n, dtype=np.uint8).tobytes()


class TestNoiseOnTheLine:
    """Bytes that arrive without a delimiter end up in front of the next frame; the client keeps
    the intact frame behind them (host/board_io.ResyncDeframer), never a damaged one."""

    def test_open_and_commands_with_noise_before_every_reply(self, monkeypatch):
        rng = np.random.default_rng(5)

        def respond(f):
            if f.type == P.MsgType.GET:
                return noise(rng) + P.Value(0, 7).encode(f.seq)
            return noise(rng) + pong(f)

        fake_board(monkeypatch, respond)
        with Board.open("fake://", timeouts=SHORT) as b:  # each retry would get noise as well
            assert b.get(0, retries=0) == 7 and b.ping(b"x") == b"x"
            assert b.deframer.salvaged == 3 and b.link_errors == 3

    def test_noise_longer_than_a_frame(self):
        d = ResyncDeframer()
        good = P.Pong(b"organ").encode(9)
        items = d.feed(noise(np.random.default_rng(1), 400) + good)
        assert isinstance(items[0], NoiseError) and items[0].n == d.max_encoded - len(good) + 1
        assert items[1:] == [P.Frame(P.MsgType.PONG, 9, b"organ")]

    def test_a_damaged_reply_behind_noise_still_fails(self, monkeypatch):
        rng = np.random.default_rng(6)

        def respond(f):
            raw = bytearray(P.frame_bytes(P.MsgType.PONG, f.seq, f.payload))
            raw[-1] ^= 0x10  # bad CRC
            return noise(rng) + P.cobs_encode(bytes(raw)) + b"\x00"

        fake_board(monkeypatch, respond)
        with pytest.raises((P.CrcError, P.CobsError, P.FrameLengthError)):
            Board.open("fake://", timeouts=SHORT)

    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(st.binary(max_size=300), st.integers(0, 255),
           st.binary(max_size=P.MAX_FRAME - P.OVERHEAD))
    def test_the_frame_behind_any_noise_is_kept(self, junk, seq, payload):
        items = ResyncDeframer().feed(junk + P.encode_frame(P.MsgType.DATA, seq, payload))
        assert items[-1] == P.Frame(P.MsgType.DATA, seq, payload)
        assert all(isinstance(x, P.FrameError) for x in items[:-1])

    @settings(max_examples=300, derandomize=True, deadline=None)
    @given(st.binary(max_size=60), st.integers(0, 255), st.binary(min_size=1, max_size=120),
           st.sampled_from(["flip", "drop", "insert"]), st.integers(0, 10**6),
           st.integers(0, 255))
    def test_a_damaged_frame_is_never_kept(self, junk, seq, payload, how, where, byte):
        body = bytearray(P.encode_frame(P.MsgType.DATA, seq, payload)[:-1])
        i = where % len(body)
        if how == "flip":
            body[i] ^= 1 << (byte % 8)
        elif how == "drop":
            del body[i]
        else:  # inside the frame: a byte in front of it is noise, and rightly skipped
            body.insert(1 + where % (len(body) - 1), byte)
        items = ResyncDeframer().feed(junk + bytes(body) + b"\x00")
        assert not any(isinstance(x, P.Frame) and x.seq == seq and x.type == P.MsgType.DATA
                       for x in items)


class TestResetLines:
    def test_uno_dtr_reset_waits_for_hello(self, monkeypatch):
        def on_line(port, name, value):
            if name == "dtr" and value and port.is_open:
                port.deliver_after(0.3, hello_bytes(P.ParamsStatus.LOADED))  # bootloader time

        port = fake_board(monkeypatch, pong, on_line)
        t = time.monotonic()
        with Board.open("fake://", reset="dtr", timeouts=SHORT) as b:
            assert b.hello is not None and b.hello.params_status == P.ParamsStatus.LOADED
        assert 0.3 <= time.monotonic() - t < 1.0
        assert ("dtr", False, True) in port.events and port.events[-1] == ("dtr", True, True)

    def test_esp32_never_held_in_reset_or_bootloader(self, monkeypatch):
        def on_line(port, name, value):
            if name == "rts" and not value and port.is_open:
                port.deliver_after(0.05, hello_bytes())

        port = fake_board(monkeypatch, pong, on_line)
        with Board.open("fake://", reset="esp32", timeouts=SHORT) as b:
            assert b.hello is not None
        opened = port.events.index(("open",))
        before = port.events[:opened]
        assert ("dtr", False, False) in before and ("rts", False, False) in before
        after = [e for e in port.events[opened + 1 :]]
        # DTR (IO0 low = bootloader) is never asserted; RTS (EN low = reset) is pulsed once
        assert not any(e[0] == "dtr" and e[1] for e in after)
        assert [e[1] for e in after if e[0] == "rts"] == [True, False]
        assert not port.rts and not port.dtr

    def test_board_without_hello_still_answers_ping(self, monkeypatch):
        fake_board(monkeypatch, pong)
        with Board.open("fake://", reset="none", timeouts=SHORT) as b:
            assert b.hello is None and b.ping(b"x") == b"x"

    def test_styles_by_board(self):
        assert reset_style_for("uno") == "dtr" and reset_style_for("nano") == "dtr"
        assert reset_style_for("esp32dev") == "esp32" and reset_style_for("esp32c3") == "esp32"
        assert reset_style_for(None) == "auto"


@pytest.fixture(scope="module")
def mock_sim():
    with start_mock_board() as sim:
        yield sim


@pytest.fixture
def board(mock_sim):
    with Board.open(mock_sim.port, timeouts=fast_timeouts()) as b:
        b.reset(P.ResetKind.PARAMS)
        yield b


class TestRealLink:
    """The Board against the C link (organ_link) and the link tests' mock application."""

    def test_info(self, board):
        info = board.info()
        assert (info.board, info.band_names) == ("mock", ("bass", "mid", "treble"))
        assert info.design_hash == MOCK_HASH and info.max_samples == 123
        assert board.check_design(MOCK_HASH.hex()) == info

    def test_process_matches_the_mock_model_across_blocks(self, board):
        rng = np.random.default_rng(3)
        model = MockModel(3, P.ValueFormat.INT16)
        for i, n in enumerate((123, 50, 1, 123)):
            x = rng.integers(-32768, 32768, n)
            got, want = board.process(x, from_reset=i == 0), model.process(x, i == 0)
            for f in ("y", "env", "led"):
                np.testing.assert_array_equal(getattr(got, f), getattr(want, f))

    def test_block_larger_than_the_board_takes_is_refused(self, board):
        with pytest.raises(ValueError, match="the board takes 123"):
            board.process(np.zeros(124, np.int16))

    def test_parameters(self, board):
        assert board.set(0, 300) == 300 and board.get(0) == 300
        with pytest.raises(P.DeviceError, match="OUT_OF_RANGE"):
            board.set(0, 513)
        with pytest.raises(P.DeviceError, match="UNKNOWN_PARAM"):
            board.get(42)

    def test_resync_after_garbage_on_the_line(self, board):
        board.port.write(bytes(range(1, 200)))  # half a frame of junk, no delimiter
        assert board.ping(b"still here", retries=1) == b"still here"

    def test_levels_stream_alongside_commands(self, board):
        board.start_levels(10)
        first = board.read_levels(1.0)
        assert first is not None and first.counter == 0
        assert board.get(0) == 128  # replies are told from LEVELS frames by type
        more = board.read_levels(1.0)
        assert more is not None and more.counter >= 1
        board.stop_levels()

    def test_reboot_waits_for_hello(self, board):
        hello = board.reset(P.ResetKind.REBOOT)
        assert hello is not None and hello.n_bands == 3
        assert board.ping() == b"organ"


def test_board_vanishing_is_reported_not_hung():
    sim = start_mock_board()
    try:
        b = Board.open(sim.port, timeouts=fast_timeouts())
        sim.kill()
        t = time.monotonic()
        with pytest.raises(BoardGoneError, match="vanished"):
            b.ping()
        assert time.monotonic() - t < 2
        b.close()
    finally:
        sim.close()
