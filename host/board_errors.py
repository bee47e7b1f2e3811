"""Errors of the Board client, and how opening a port restarts each kind of board.

Every error is a ``protocol.ProtocolError``; the class says what happened.
"""

from __future__ import annotations

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
