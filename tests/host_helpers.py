"""Helpers shared by the host tool's tests (test_board, test_simboard, test_verify, test_monitor,
test_calibrate, test_link_faults): a scripted fake serial port, simulated boards, designs.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conftest import ROOT, require_tool

from host import protocol as P

sys.path.insert(0, str(Path(__file__).parent))
from link_c.mirror import MOCK_HASH, MockModel  # noqa: E402, F401

EXAMPLES = ROOT / "examples"

def fast_timeouts():
    """Timeouts for simulated boards on this machine (replies come in well under 1 ms)."""
    from host.board import Timeouts

    return Timeouts(reply=0.2, frame_gap=0.05, save=1.0, hello_grace=0.05)


@functools.cache
def design(name: str):
    """An example design (cached: learned.toml trains once per session)."""
    from designer.design import load_design

    return load_design(EXAMPLES / f"{name}.toml")


@functools.cache
def mock_board_exe() -> Path:
    """The native board running the link tests' mock application (no DSP, no design)."""
    require_tool("gcc")
    from host.simboard import build_for_test_app

    return build_for_test_app([ROOT / "tests" / "link_c" / "mock_app.c"])


def built(d, tables=None) -> Path:
    """The native board executable of design ``d`` (``tables``: other tables, same identity)."""
    require_tool("gcc")
    from host.simboard import build_for_design

    return build_for_design(d, tables)


def start_mock_board(**kw):
    from host.simboard import run_native

    return run_native(mock_board_exe(), fs=19230.769, noise_dbfs=None, **kw)


def start_design_board(name_or_design, **kw):
    require_tool("gcc")
    from host.simboard import start_simulated_board

    d = design(name_or_design) if isinstance(name_or_design, str) else name_or_design
    return start_simulated_board("native", d, **kw)


def wait_until(cond: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


class FakePort:
    """A pyserial-like port whose device is a Python function: ``respond(frame) -> bytes`` is
    called for each frame the host writes. Records modem-line changes in ``events``."""

    def __init__(self, respond: Callable[[P.Frame], bytes] | None = None,
                 on_line: Callable[[FakePort, str, bool], None] | None = None):
        self.respond = respond or (lambda f: b"")
        self.on_line = on_line
        self.events: list[tuple] = []
        self.is_open = False
        self.timeout: float | None = None
        self.baudrate = 500000
        self.rx = bytearray()
        self.later: list[tuple[float, bytes]] = []  # (time, bytes) delivered from then on
        self._deframer = P.Deframer()
        self._dtr = self._rts = True

    def _line(self, name: str, value: bool) -> None:
        self.events.append((name, value, self.is_open))
        if self.on_line:
            self.on_line(self, name, value)

    @property
    def dtr(self) -> bool:
        return self._dtr

    @dtr.setter
    def dtr(self, value: bool) -> None:
        self._dtr = value
        self._line("dtr", value)

    @property
    def rts(self) -> bool:
        return self._rts

    @rts.setter
    def rts(self, value: bool) -> None:
        self._rts = value
        self._line("rts", value)

    def deliver_after(self, delay: float, data: bytes) -> None:
        self.later.append((time.monotonic() + delay, data))

    def open(self) -> None:
        self.is_open = True
        self.events.append(("open",))

    def close(self) -> None:
        self.is_open = False

    def write(self, data: bytes) -> int:
        for item in self._deframer.feed(data):
            if isinstance(item, P.Frame):
                self.rx += self.respond(item)
        return len(data)

    def _due(self) -> None:
        now = time.monotonic()
        for t, data in [x for x in self.later if x[0] <= now]:
            self.rx += data
            self.later.remove((t, data))

    @property
    def in_waiting(self) -> int:
        self._due()
        return len(self.rx)

    def read(self, n: int = 1) -> bytes:
        self._due()
        data = bytes(self.rx[:n])
        del self.rx[:n]
        return data

    def reset_input_buffer(self) -> None:
        self._due()
        self.rx.clear()


def hello_bytes(status: int = P.ParamsStatus.ABSENT) -> bytes:
    return P.Hello(0, 1, 0, status, 3, 0).encode(0)
