"""The Board client: one color organ board (real, or simulated) behind any pyserial URL.

``Board.open(url)`` takes a device (``/dev/ttyACM0``), a pty path, ``socket://host:port`` or
``loop://``. On open it brings the board to a known state the way its hardware wants it
(:data:`RESET_STYLES`): an Uno resets when DTR rises, so the client waits for its HELLO; an ESP32
dev board's auto-program circuit ties RTS/DTR to EN/IO0, so the client keeps both released
(neither reset nor bootloader) and pulses RTS alone for a clean restart; a pty or a socket is
left alone. Then it sends one 0x00 (the device drops a half-received frame) and makes sure the
board answers. Received bytes resynchronise on the frame delimiter, and an intact frame that
arrives behind noise (bytes without a delimiter, a burst on an idle line) is kept: noise in front
of every reply, as bursts closer together than the reply timeout cause, costs no retry
(``board_io.ResyncDeframer``; a damaged frame is never kept).

One command is in flight at a time (the AVR's 64-byte receive buffer is smaller than a PROCESS
request). Every wait is bounded by a named timeout (:class:`Timeouts`). What went wrong is said by
the exception's class: :class:`NoReplyError`, :class:`BoardGoneError`, :class:`PortError` (and
:class:`EchoError`, a loopback where a board should be),
:class:`BoardResetError`, :class:`DesignMismatchError` here (:class:`NoiseError` is only counted
in :attr:`Board.link_errors`), and from ``host.protocol``
``PartialFrameError``, ``CrcError``, ``CobsError``, ``FrameLengthError``, ``DeviceError`` (an
ERROR reply with its code) and ``ProtocolVersionError``. All are ``protocol.ProtocolError``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import serial

from . import protocol as P
from .board_errors import (
    RESET_STYLES,
    BoardGoneError,
    BoardResetError,
    DesignMismatchError,
    EchoError,
    NoiseError,
    NoReplyError,
    PortError,
    ResetStyle,
    auto_style,
    mark_processed,
    port_open_failure,
    reset_style_for,
)
from .board_io import PortIO, parse_hello

DEFAULT_BAUD = 500000

# ---- named timeouts (seconds) -----------------------------------------------------------------
REPLY_TIMEOUT = 0.5        # first byte of a reply to a short command (PING, INFO, GET, SET, ...)
FRAME_GAP_TIMEOUT = 0.25   # silence inside a multi-frame reply that means the rest is lost
SAVE_TIMEOUT = 2.0         # SAVE: the AVR writes its EEPROM at 3.3 ms per byte
UNO_BOOT_TIMEOUT = 3.0     # DTR reset -> bootloader (about 1 s) -> setup -> HELLO
ESP32_BOOT_TIMEOUT = 3.0   # RTS pulse -> ROM boot -> setup -> HELLO
HELLO_GRACE = 0.2          # a port that resets nothing: a HELLO already on its way
ESP32_RESET_PULSE = 0.1    # EN held low this long


@dataclass(frozen=True)
class Timeouts:
    """The waits of one Board, in seconds (tests shorten them)."""

    reply: float = REPLY_TIMEOUT
    frame_gap: float = FRAME_GAP_TIMEOUT
    save: float = SAVE_TIMEOUT
    uno_boot: float = UNO_BOOT_TIMEOUT
    esp32_boot: float = ESP32_BOOT_TIMEOUT
    hello_grace: float = HELLO_GRACE


class Collector(Protocol):
    """Gathers a reply of one or more frames (``protocol.InfoReply``, ``ProcessReply``)."""

    def feed(self, frame: P.Frame) -> bool: ...

    def result(self) -> object: ...


class _Single:
    """A reply of exactly one frame of type ``cls``."""

    def __init__(self, cls: type[P.Message], seq: int):
        self.cls, self.seq = cls, seq
        self.msg: P.Message | None = None

    def feed(self, frame: P.Frame) -> bool:
        self.msg = P.expect(frame, self.cls, self.seq)
        return True

    def result(self) -> P.Message | None:
        return self.msg


# ---- the client -------------------------------------------------------------------------------


class Board(PortIO):
    """A connected board. Use :meth:`open`; close with :meth:`close` or a ``with`` block."""

    def __init__(self, port: serial.SerialBase, url: str, timeouts: Timeouts = Timeouts()):
        super().__init__(port, url)
        self.timeouts = timeouts
        self.hello: P.Hello | None = None
        self.levels: deque[P.Levels] = deque(maxlen=1024)
        self.stale_frames = 0      # replies to earlier commands, dropped
        self.late_replies: set[int] = set()  # seqs given up on whose reply came later anyway
        self._given_up: set[int] = set()
        self.link_errors = 0       # bad frames seen
        self._seq = 0
        self._info: P.Info | None = None

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str,
        *,
        baud: int = DEFAULT_BAUD,
        reset: ResetStyle = "auto",
        timeouts: Timeouts = Timeouts(),
    ) -> Board:
        """Open ``url``, restart the board as ``reset`` says, and make sure it answers.

        Raises :class:`PortError` (cannot open), :class:`NoReplyError` (no board answers) or
        :class:`BoardGoneError`."""
        if reset not in RESET_STYLES:
            raise ValueError(f"reset must be one of {RESET_STYLES}, got {reset!r}")
        style = auto_style(url) if reset == "auto" else reset
        try:
            port = serial.serial_for_url(url, do_not_open=True, baudrate=baud, timeout=0)
            if style == "esp32":  # both lines released before the open touches them
                port.dtr = False
                port.rts = False
            port.open()
        except (serial.SerialException, OSError, ValueError) as e:
            raise port_open_failure(url, e) from None
        board = cls(port, url, timeouts)
        try:
            board._start(style)
        except BaseException:
            board.close()
            raise
        return board

    def _start(self, style: str) -> None:
        wait = self.timeouts.hello_grace
        # a port without modem lines (a pty, a socket) restarts nothing: no boot to wait for
        if style == "dtr" and self._set_line("dtr", False):
            # opening raised DTR already on most systems; a falling then rising edge makes sure
            time.sleep(0.05)
            self._set_line("dtr", True)
            wait = self.timeouts.uno_boot
        elif style == "esp32" and self._set_line("dtr", False):
            self._set_line("rts", True)   # EN low: reset, IO0 high: normal boot afterwards
            time.sleep(ESP32_RESET_PULSE)
            self._set_line("rts", False)
            wait = self.timeouts.esp32_boot
        if wait != self.timeouts.hello_grace:
            self._flush_input()
        self._write(b"\x00")
        self.hello = self.wait_hello(wait)
        if self.hello is None:
            self.ping(retries=2)

    def _set_line(self, line: str, value: bool) -> bool:
        """Drive a modem line; False when the port has none."""
        try:
            setattr(self.port, line, value)
        except (serial.SerialException, OSError, ValueError):
            return False
        return True

    def close(self) -> None:
        try:
            self.port.close()
        except (serial.SerialException, OSError):
            pass

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- low-level I/O --------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = self._seq % 255 + 1  # 1..255: 0 is what unsolicited frames carry
        self._given_up.discard(self._seq)  # a new command reuses the number
        self.late_replies.discard(self._seq)
        return self._seq

    @property
    def last_seq(self) -> int:
        """Sequence number of the latest command."""
        return self._seq

    # -- exchanges ------------------------------------------------------------------------------

    def command(
        self,
        msg: P.Message,
        reply: type[P.Message] | Callable[[int], Collector],
        *,
        timeout: float | None = None,
        retries: int = 0,
        expect_reboot: bool = False,
    ) -> object:
        """Send ``msg`` and collect its reply: a message of class ``reply``, or, for replies of
        several frames, ``reply(seq)`` makes a collector (``feed(frame) -> done``, ``result()``,
        as ``protocol.InfoReply`` / ``ProcessReply``) whose result is returned.

        ``retries``: resend after a lost or damaged reply (only for commands safe to repeat).
        The port's settings are restored afterwards whatever happens. Frames of earlier commands
        are dropped; LEVELS frames are kept in :attr:`levels`."""
        saved = self.port.timeout
        try:
            for attempt in range(retries + 1):
                try:
                    return self._exchange(msg, reply, timeout, expect_reboot)
                except (NoReplyError, P.FrameError, P.PayloadError, P.UnexpectedTypeError):
                    if attempt == retries:
                        raise
                    self._write(b"\x00")
            raise AssertionError("unreachable")
        finally:
            try:
                self.port.timeout = saved
            except (serial.SerialException, OSError, ValueError):
                pass

    def _exchange(self, msg, reply, timeout, expect_reboot):
        seq = self._next_seq()
        if isinstance(reply, type) and issubclass(reply, P.Message):
            collector: Collector = _Single(reply, seq)
        else:
            collector = reply(seq)
        self._write(msg.encode(seq))
        start = time.monotonic()
        wait = timeout or self.timeouts.reply
        hard_deadline = start + max(10 * wait, 5.0)  # however the reply trickles in
        deadline = start + wait
        first_error: Exception | None = None
        doomed: Exception | None = None  # the reply cannot complete: wait for its end, then raise
        intact_reply = False
        while True:
            item = self._next_item(deadline)
            if item is None:
                if doomed is not None:
                    raise mark_processed(doomed, True)
                partial = self.deframer.take_partial()
                err = first_error or partial
                if err is None:
                    name, took = type(msg).__name__, time.monotonic() - start
                    err = NoReplyError(
                        f"the reply to {name} from {self.url} broke off after {took:.2f} s"
                        if intact_reply
                        else f"no reply to {name} from {self.url} within {took:.2f} s"
                    )
                # ran it: a frame of its reply came intact; did not: nothing but intact frames
                # of other exchanges came (a damaged frame might have been its reply)
                damaged = first_error is not None or partial is not None
                if not intact_reply:
                    self._given_up.add(seq)
                raise mark_processed(err, True if intact_reply else (None if damaged else False))
            if isinstance(item, P.ProtocolVersionError):
                raise item  # intact, but another protocol: no point in waiting
            if isinstance(item, P.FrameError):
                self.link_errors += 1
                first_error = first_error or item
                continue
            if item.type == P.MsgType.LEVELS_DATA:
                self._keep_levels(item)
                continue
            if item.type == P.MsgType.HELLO:
                self.hello = parse_hello(item) or self.hello
                self._info = None
                if expect_reboot:
                    return self.hello
                raise mark_processed(BoardResetError(
                    f"the board restarted while {type(msg).__name__} was running"), None)
            if item.seq == seq and item.type == msg.TYPE:
                # a board answers a command with a reply type, never with the command itself
                raise EchoError(f"the port {self.url} echoes what it is sent: a loopback, "
                                "not a board")
            if item.seq != seq:
                self.stale_frames += 1
                if item.seq in self._given_up:
                    self.late_replies.add(item.seq)
                continue
            intact_reply = True
            # a reply that is alive: allow the next frame its gap, within the hard limit
            deadline = min(max(deadline, time.monotonic() + self.timeouts.frame_gap),
                           hard_deadline)
            if doomed is not None:
                if item.type in (P.MsgType.DONE, P.MsgType.ERROR):
                    raise mark_processed(doomed, True)
                continue
            try:
                done = collector.feed(item)
            except (P.PayloadError, P.UnexpectedTypeError) as e:
                # a frame of the reply was lost; drain the rest so the next command starts clean
                doomed = first_error or e
                if item.type in (P.MsgType.DONE, P.MsgType.ERROR) or isinstance(collector, _Single):
                    raise mark_processed(doomed, True) from None
                continue
            if done:
                # complete and consistent (chunks in order, counts match): any damaged frame
                # seen meanwhile was not part of it
                return collector.result()

    def _keep_levels(self, frame: P.Frame) -> None:
        try:
            msg = P.parse_message(frame)
        except P.PayloadError:
            self.link_errors += 1
            return
        self.levels.append(msg)  # type: ignore[arg-type]

    def wait_hello(self, timeout: float) -> P.Hello | None:
        """The HELLO frame, if one arrives within ``timeout`` (other frames are dropped)."""
        deadline = time.monotonic() + timeout
        while (item := self._next_item(deadline)) is not None:
            if isinstance(item, P.Frame) and item.type == P.MsgType.HELLO:
                hello = parse_hello(item)
                if hello is not None:
                    self.hello = hello
                    self._info = None
                    return hello
        self.deframer.take_partial()
        return None

    # -- commands -------------------------------------------------------------------------------

    def ping(self, data: bytes = b"organ", retries: int = 0) -> bytes:
        pong = self.command(P.Ping(data), P.Pong, retries=retries)
        if pong.data != data:  # type: ignore[attr-defined]
            raise P.PayloadError(f"PONG carries {pong.data!r}, sent {data!r}")  # type: ignore[attr-defined]
        return data

    def info(self, retries: int = 2) -> P.Info:
        """INFO with the board and band names (kept as :attr:`last_info`)."""
        self._info = self.command(P.InfoRequest(), P.InfoReply, retries=retries)  # type: ignore[assignment]
        return self._info  # type: ignore[return-value]

    @property
    def last_info(self) -> P.Info:
        return self._info if self._info is not None else self.info()

    def check_design(self, expected_hash: str) -> P.Info:
        """INFO, then :class:`DesignMismatchError` unless the board runs ``expected_hash``."""
        info = self.info()
        got = info.design_hash.hex()
        if got != expected_hash.lower():
            raise DesignMismatchError(got, expected_hash)
        return info

    def process(self, samples: np.ndarray, from_reset: bool = False) -> P.BandOutputs:
        """Run one block of int16 samples (at most INFO's max_samples) through the board.

        A lost or damaged reply raises with ``err.processed``: True when the board certainly
        ran the block (its state moved on), False when it certainly did not, None when unknown.
        Only a ``from_reset`` block is safe to resend."""
        info = self.last_info
        x = np.asarray(samples)
        if len(x) > info.max_samples:
            raise ValueError(f"{len(x)} samples in one PROCESS, the board takes {info.max_samples}")
        rec = P.record_dtype(info.value_format).itemsize * info.n_bands
        wire = rec * len(x) * 1.25 * 10 / max(self.port.baudrate or DEFAULT_BAUD, 1)
        return self.command(  # type: ignore[return-value]
            P.Process(x, from_reset),
            lambda seq: P.ProcessReply(seq, len(x), info.n_bands, info.value_format),
            timeout=self.timeouts.reply + wire,
        )

    def get(self, param_id: int, retries: int = 2) -> int:
        return self.command(P.Get(param_id), P.Value, retries=retries).value  # type: ignore[attr-defined]

    def set(self, param_id: int, value: int, retries: int = 2) -> int:
        """SET; returns the value read back. DeviceError OUT_OF_RANGE when refused."""
        return self.command(P.Set(param_id, value), P.Value, retries=retries).value  # type: ignore[attr-defined]

    def save(self, retries: int = 1) -> None:
        self.command(P.Save(), P.Ack, timeout=self.timeouts.save, retries=retries)

    def reset(self, kind: int = P.ResetKind.STATE, retries: int = 2) -> P.Hello | None:
        """RESET; with REBOOT also waits for the HELLO of the restarted board."""
        self.command(P.Reset(kind), P.Ack, retries=retries if kind != P.ResetKind.REBOOT else 0)
        if kind == P.ResetKind.REBOOT:
            self._info = None
            hello = self.wait_hello(max(self.timeouts.uno_boot, self.timeouts.esp32_boot))
            if hello is None:
                raise NoReplyError(f"no HELLO from {self.url} after RESET REBOOT")
            return hello
        return None

    def start_levels(self, period_ms: int) -> None:
        self.levels.clear()
        self.command(P.SetLevels(period_ms), P.Ack, retries=2)

    def stop_levels(self) -> None:
        self.command(P.SetLevels(0), P.Ack, retries=2)

    def read_levels(self, timeout: float) -> P.Levels | None:
        """The next LEVELS frame of the stream (None when none came within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not self.levels:
            item = self._next_item(deadline)
            if item is None:
                return None
            if isinstance(item, P.FrameError):
                self.link_errors += 1
            elif item.type == P.MsgType.LEVELS_DATA:
                self._keep_levels(item)
            elif item.type == P.MsgType.HELLO:
                self.hello = parse_hello(item) or self.hello
                self._info = None
        return self.levels.popleft()


__all__ = [
    "Board", "Timeouts", "Collector", "PortError", "EchoError", "NoReplyError", "BoardGoneError",
    "BoardResetError", "DesignMismatchError", "NoiseError", "RESET_STYLES", "reset_style_for",
]
