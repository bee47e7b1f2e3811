"""The byte-level side of the Board client: non-blocking reads that wait on the port itself,
the deframer, and a backlog of received frames. See ``host/board.py``."""

from __future__ import annotations

import select
import time
from collections import deque

import serial

from . import protocol as P
from .board_errors import BoardGoneError

READ_SLICE = 0.05          # one wait for data at most this long (keeps deadlines exact)
POLL_SLICE = 0.002         # polling period of ports that cannot be waited on (loop://)
READ_CHUNK = 65536         # bytes taken per read


class PortIO:
    """Reads and writes one pyserial port; frames come out of :meth:`_next_item`."""

    def __init__(self, port: serial.SerialBase, url: str):
        self.port, self.url = port, url
        self.deframer = P.Deframer()
        self.bytes_in = 0          # bytes received so far
        self._backlog: deque[P.Frame | P.FrameError] = deque()  # received, not yet looked at

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except (serial.SerialException, OSError) as e:
            raise BoardGoneError(f"the board vanished from {self.url} ({e})") from None

    def _flush_input(self) -> None:
        try:
            self.port.reset_input_buffer()
        except (serial.SerialException, OSError):
            pass
        self.deframer.take_partial()
        self._backlog.clear()

    def _read_some(self, deadline: float) -> bytes:
        """What arrives before ``deadline``, waiting at most READ_SLICE: reads are non-blocking
        (timeout 0) and the wait is a select on the port, so a burst comes in one call."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b""
        try:
            if self.port.timeout != 0:
                self.port.timeout = 0
            data = self.port.read(READ_CHUNK)
            if not data:
                self._wait_readable(min(remaining, READ_SLICE))
                data = self.port.read(READ_CHUNK)
        except (serial.SerialException, OSError) as e:
            raise BoardGoneError(f"the board vanished from {self.url} ({e})") from None
        self.bytes_in += len(data)
        return data

    def _wait_readable(self, wait: float) -> None:
        waitable = getattr(self.port, "_socket", None)  # socket:// ports
        if waitable is None:
            try:
                waitable = self.port.fileno()  # devices and ptys
            except (AttributeError, NotImplementedError, OSError, ValueError,
                    serial.SerialException):
                waitable = None
        if waitable is None:  # loop:// and other URL handlers: poll
            time.sleep(min(wait, POLL_SLICE))
            return
        select.select([waitable], [], [], wait)

    def _next_item(self, deadline: float) -> P.Frame | P.FrameError | None:
        """The next received frame (or bad frame); None once ``deadline`` passed without one."""
        while not self._backlog:
            if time.monotonic() >= deadline:
                return None
            data = self._read_some(deadline)
            if data:
                self._backlog.extend(self.deframer.feed(data))
        return self._backlog.popleft()


def parse_hello(frame: P.Frame) -> P.Hello | None:
    try:
        msg = P.parse_message(frame)
    except P.PayloadError:
        return None
    return msg if isinstance(msg, P.Hello) else None
