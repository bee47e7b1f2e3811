"""The byte-level side of the Board client: non-blocking reads that wait on the port itself,
the deframer (resynchronising on the frame delimiter), and a backlog of received frames. See
``host/board.py``."""

from __future__ import annotations

import select
import time
from collections import deque

import serial

from . import protocol as P
from .board_errors import BoardGoneError, NoiseError

READ_SLICE = 0.05          # one wait for data at most this long (keeps deadlines exact)
POLL_SLICE = 0.002         # polling period of ports that cannot be waited on (loop://)
READ_CHUNK = 65536         # bytes taken per read


class ResyncDeframer(P.Deframer):
    """A :class:`protocol.Deframer` that also keeps an intact frame arriving behind noise.

    A frame is the bytes between two delimiters, so bytes that arrive without a 0x00 while the
    line is idle (a burst of noise) end up in front of the next frame, which then fails to decode
    and is lost, whichever reply it was: a host that retries gets noise in front of every retried
    reply when bursts come faster than its timeout. When the bytes between two delimiters do not
    decode, the longest tail of them that is a whole frame (COBS, CRC-16, protocol version and
    length field all intact, exactly what a frame on its own must pass) is kept: it comes out
    after a :class:`NoiseError` for the bytes in front of it. Nothing else changes: a frame
    damaged anywhere else (a byte lost or flipped inside it) has no intact tail and stays a
    :class:`protocol.FrameError`; so does a frame cut by noise arriving in its middle.
    """

    def __init__(self, max_frame: int = P.MAX_FRAME, expect_version: int = P.PROTOCOL_VERSION):
        super().__init__(max_frame, expect_version)
        self._tail = bytearray()  # the last max_encoded bytes since the last delimiter
        self.salvaged = 0         # frames kept from behind noise

    def take_partial(self) -> P.PartialFrameError | None:
        self._tail.clear()
        return super().take_partial()

    def feed(self, data: bytes) -> list[P.Frame | P.FrameError]:
        out: list[P.Frame | P.FrameError] = []
        data = bytes(data)
        start = 0
        while start < len(data):
            cut = data.find(0, start)
            if cut < 0:
                out += super().feed(data[start:])
                self._keep(data[start:])
                break
            items = super().feed(data[start : cut + 1])  # one delimiter: at most one item
            self._keep(data[start:cut])
            chunk = bytes(self._tail)
            self._tail.clear()
            if len(items) == 1 and isinstance(items[0], P.FrameError):
                found = salvage(chunk, self.expect_version)
                if found is not None:
                    items = [NoiseError(found[0]), found[1]]
                    self.frames += 1
                    self.salvaged += 1
            out += items
            start = cut + 1
        return out

    def _keep(self, data: bytes) -> None:
        self._tail += data
        if len(self._tail) > self.max_encoded:
            del self._tail[: len(self._tail) - self.max_encoded]


def salvage(chunk: bytes, expect_version: int = P.PROTOCOL_VERSION) -> tuple[int, P.Frame] | None:
    """(bytes in front of it, the frame) for the longest proper tail of ``chunk`` (the bytes
    between two delimiters) that decodes as an intact frame of ``expect_version``; None if none
    does."""
    for start in range(1, len(chunk) - P.OVERHEAD):  # a frame is at least OVERHEAD + 1 bytes
        try:
            return start, P.decode_frame(chunk[start:], expect_version)
        except P.FrameError:  # ProtocolVersionError included: only our version is kept
            continue
    return None


class PortIO:
    """Reads and writes one pyserial port; frames come out of :meth:`_next_item`."""

    def __init__(self, port: serial.SerialBase, url: str):
        self.port, self.url = port, url
        self.deframer = ResyncDeframer()
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
