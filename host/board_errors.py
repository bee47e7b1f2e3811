"""Errors of the Board client, and how opening a port restarts each kind of board.

Every error is a ``protocol.ProtocolError``; the class says what happened.
"""

from __future__ import annotations

import errno
import os
import re
from typing import Literal

from . import protocol as P

ResetStyle = Literal["auto", "dtr", "esp32", "none"]
#: how opening the port restarts the board: ``dtr`` (Uno/Nano: DTR reset, wait for HELLO),
#: ``esp32`` (RTS pulse with DTR released), ``none`` (ptys, sockets, boards already running),
#: ``auto`` (from the USB vendor id of a real device, else ``none``)
RESET_STYLES = ("auto", "dtr", "esp32", "none")
BOARD_RESET: dict[str, ResetStyle] = {
    "uno": "dtr", "nano": "dtr", "esp32dev": "esp32", "esp32c3": "esp32"
}
_ESP32_VIDS = {0x303A, 0x10C4}          # Espressif native USB, Silicon Labs CP210x
_DTR_RESET_VIDS = {0x2341, 0x2A03, 0x0403, 0x1A86}  # Arduino, FTDI, WCH CH340


class PortError(P.ProtocolError):
    """The port cannot be opened (no such device, busy, bad URL)."""


class EchoError(PortError):
    """What the host sends comes straight back: a loopback (``loop://``, a jumper on TX/RX, an
    echo server), not a board. Refused at once: no baud rate or retry changes that."""


class NoReplyError(P.ProtocolError):
    """Nothing came back within the timeout: no board, a lost command, or a stuck board."""


class BoardGoneError(P.ProtocolError):
    """The port closed under us: the board was unplugged, or the simulated board ended."""


class BoardResetError(P.ProtocolError):
    """A HELLO arrived while a reply was awaited: the board restarted and lost its state."""


class NoiseError(P.FrameError):
    """Bytes without a frame arrived in front of an intact frame (a burst of noise while the line
    was idle): they were dropped and the frame after them was kept (``board_io.ResyncDeframer``).
    """

    def __init__(self, n: int):
        self.n = n
        super().__init__(f"{n} bytes of noise in front of a frame dropped")


class DesignMismatchError(P.ProtocolError):
    """The board reports another design hash than the host's design."""

    def __init__(self, board_hash: str, expected: str):
        self.board_hash, self.expected = board_hash, expected
        super().__init__(f"the board runs design {board_hash[:12]}, expected {expected[:12]}")


def port_open_failure(url: str, e: Exception) -> PortError:
    """``cannot open port URL: no such file or directory``: pyserial's message repeats the port
    and nests ``[Errno 2]`` twice, so the reason is taken from the errno when there is one."""
    return PortError(f"cannot open port {url}: {_open_reason(url, e)}")


def _open_reason(url: str, e: Exception) -> str:
    code = getattr(e, "errno", None)
    text = str(e)
    if not isinstance(code, int):  # URL handlers and termios put the errno in the text
        m = re.search(r"\[Errno (-?\d+)\]|\((\d+), '", text)
        code = int(m.group(1) or m.group(2)) if m else None
    if code == errno.ENOTTY:
        return "not a serial port (it takes no serial settings)"
    if isinstance(code, int) and code > 0:
        return os.strerror(code).lower()
    # no errno: drop pyserial's "could not open port URL: " and "[Errno N] " repetitions
    text = re.sub(rf"(?i)could not open port {re.escape(url)}:\s*", "", text)
    text = re.sub(r"\[Errno -?\d+\]\s*", "", text).strip()
    return (text[:1].lower() + text[1:]) if text else type(e).__name__


def describe(e: P.ProtocolError) -> str:
    """One line for a user: the message alone where it says what happened, else the kind of
    link error in front of it (a bare "crc mismatch" does not say it came from the board)."""
    if isinstance(e, PortError | NoReplyError | BoardGoneError | BoardResetError
                  | DesignMismatchError | P.DeviceError | P.ProtocolVersionError):
        return str(e)
    if isinstance(e, P.FrameError):
        return f"a damaged frame from the board ({type(e).__name__}: {e})"
    return f"a reply that makes no sense here ({type(e).__name__}: {e})"


def mark_processed(err: Exception, processed: bool | None) -> Exception:
    """Attach ``processed`` (did the board run the PROCESS block?) to an exception."""
    err.processed = processed  # type: ignore[attr-defined]
    return err


def auto_style(url: str) -> ResetStyle:
    """The reset style of a real USB serial device from its vendor id; ``none`` otherwise."""
    if "://" in url:
        return "none"
    try:
        from serial.tools import list_ports

        for p in list_ports.comports():
            if p.device == url and p.vid is not None:
                if p.vid in _ESP32_VIDS:
                    return "esp32"
                if p.vid in _DTR_RESET_VIDS:
                    return "dtr"
    except (OSError, ImportError):
        pass
    return "none"


def reset_style_for(board_name: str | None) -> ResetStyle:
    """The reset style of a board profile name (``uno``, ``esp32dev``, ...); ``auto`` if unknown."""
    return BOARD_RESET.get(board_name or "", "auto")
