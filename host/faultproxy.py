"""A fault-injecting serial link: TCP on 127.0.0.1 in front of a simulated board's pty.

The Board client connects to :attr:`FaultProxy.url` (``socket://127.0.0.1:PORT``); the proxy
forwards every byte to and from the board's pty, damaging the stream on request:

* random faults: each byte dropped with probability ``drop_rate`` and one of its bits flipped
  with probability ``flip_rate`` (either direction, or one: ``to_host`` / ``to_board``);
* bursts of ``burst_len`` random bytes towards the host every ``burst_every`` seconds;
* one-shot faults: :meth:`inject` bytes, :meth:`drop_byte` (the k-th byte of the next frame),
  :meth:`corrupt_crc` (a bit of the next frame's CRC, re-encoded so only the CRC is wrong);
* :meth:`at_frame` runs an action when the n-th frame from the board arrives (faults at a
  reproducible point of a run, whatever the machine's speed);
* :meth:`disconnect` closes the host's connection (as a pulled USB cable); the proxy keeps
  listening, so the host can reconnect. When the board's pty goes away, every connection is
  closed at once.
Frames towards the host are forwarded when their 0x00 delimiter arrives (the one-shot faults
need whole frames); the board only ever sends whole frames. Only loopback addresses are used.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from . import protocol as P

TO_HOST, TO_BOARD = "to_host", "to_board"


class FaultProxy:
    """Start with :meth:`start` (or ``with``); stop with :meth:`close`."""

    def __init__(self, pty_path: str, *, seed: int = 0):
        self.pty_path = pty_path
        self.rng = np.random.default_rng(seed)
        self.drop_rate = {TO_HOST: 0.0, TO_BOARD: 0.0}
        self.flip_rate = {TO_HOST: 0.0, TO_BOARD: 0.0}
        self.burst_every: float | None = None
        self.burst_len = 32
        self.counts = {"dropped": 0, "flipped": 0, "burst_bytes": 0, "frames": 0,
                       "connections": 0, "disconnects": 0}
        self._lock = threading.Lock()
        self._oneshot: dict[str, deque] = {TO_HOST: deque(), TO_BOARD: deque()}
        self._at: list[tuple[int, Callable[[], object]]] = []
        self.drop_reasons: list[str] = []  # why each host connection was closed
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listen.bind(("127.0.0.1", 0))
        self._listen.listen(4)
        self.port = self._listen.getsockname()[1]
        self._client: socket.socket | None = None
        self._fd = os.open(pty_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self._board_gone = False
        self._kick = False
        self._pending = bytearray()  # towards the host, until a delimiter
        self._thread = threading.Thread(target=self._run, daemon=True, name="fault-proxy")

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop = True
        os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(2.0)
        for s in (self._client, self._listen):
            if s is not None:
                s.close()
        for fd in (self._fd, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    # -- controls (any thread) ----------------------------------------------------------------

    def set_random(self, drop: float = 0.0, flip: float = 0.0,
                   direction: str | None = None) -> None:
        """Per-byte drop and bit-flip probabilities (both directions unless one is named)."""
        for d in (TO_HOST, TO_BOARD) if direction is None else (direction,):
            self.drop_rate[d], self.flip_rate[d] = drop, flip

    def inject(self, data: bytes, direction: str = TO_HOST) -> None:
        """Insert ``data`` into the stream before the next frame."""
        with self._lock:
            self._oneshot[direction].append(("inject", bytes(data)))

    def drop_byte(self, index: int, direction: str = TO_HOST) -> None:
        """Drop byte ``index`` (on the wire) of the next frame."""
        with self._lock:
            self._oneshot[direction].append(("drop", index))

    def corrupt_crc(self, direction: str = TO_HOST) -> None:
        """Flip one bit of the next frame's CRC (COBS re-encoded: only the CRC is wrong)."""
        with self._lock:
            self._oneshot[direction].append(("crc", None))

    def at_frame(self, n: int, action: Callable[[], object]) -> None:
        """Call ``action()`` (in the proxy's thread) before forwarding the n-th frame (counted
        from the proxy's start) from the board."""
        with self._lock:
            self._at.append((n, action))

    def disconnect(self) -> None:
        """Close the host's connection now."""
        self._kick = True
        os.write(self._wake_w, b"x")

    # -- the forwarding thread ----------------------------------------------------------------

    def _run(self) -> None:
        next_burst = None
        while not self._stop:
            if self._kick:
                self._kick = False
                self._drop_client()
            rd = [self._listen, self._wake_r] + ([self._client] if self._client else [])
            if not self._board_gone:
                rd.append(self._fd)
            timeout = 0.01 if self.burst_every else 0.5
            r, _, _ = select.select(rd, [], [], timeout)
            if self._wake_r in r:
                os.read(self._wake_r, 64)
            if self._listen in r:
                conn, _ = self._listen.accept()
                if self._board_gone:
                    conn.close()
                else:
                    self._drop_client("a new connection")
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self._client = conn
                    self.counts["connections"] += 1
            if self._fd in r:
                self._from_board()
            if self._client is not None and self._client in r:
                self._from_host()
            if self.burst_every and self._client is not None:
                now = time.monotonic()
                next_burst = next_burst if next_burst is not None else now + self.burst_every
                if now >= next_burst:
                    next_burst = now + self.burst_every
                    junk = self.rng.integers(0, 256, self.burst_len, dtype=np.uint8).tobytes()
                    self.counts["burst_bytes"] += len(junk)
                    self._send_host(junk)

    def _drop_client(self, why: str = "disconnect()") -> None:
        if self._client is not None:
            self.drop_reasons.append(why)
            self._client.close()
            self._client = None
            self.counts["disconnects"] += 1
            self._pending.clear()

    def _from_board(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the simulated board is gone: so is every connection to it
            self._board_gone = True
            self._drop_client("the board's pty closed")
            return
        self._pending += data
        while True:
            cut = self._pending.find(0)
            if cut < 0:
                break
            frame = bytes(self._pending[: cut + 1])
            del self._pending[: cut + 1]
            self.counts["frames"] += 1
            with self._lock:
                due = [a for n, a in self._at if n == self.counts["frames"]]
            for action in due:
                action()
            if self._kick:
                self._kick = False
                self._drop_client()
            self._send_host(self._damage(frame, TO_HOST))

    def _from_host(self) -> None:
        try:
            data = self._client.recv(65536)
        except OSError as e:
            data, why = b"", f"host socket error {e}"
        else:
            why = "the host closed"
        if not data:
            self._drop_client(why)
            return
        data = self._damage(data, TO_BOARD)
        try:
            os.write(self._fd, data)
        except OSError:
            pass

    def _send_host(self, data: bytes) -> None:
        if self._client is None or not data:
            return
        try:
            self._client.sendall(data)
        except OSError as e:
            self._drop_client(f"sending to the host failed: {e}")

    def _damage(self, data: bytes, direction: str) -> bytes:
        with self._lock:
            shot = self._oneshot[direction].popleft() if self._oneshot[direction] else None
        if shot is not None:
            kind, arg = shot
            if kind == "inject":
                data = arg + data
            elif kind == "drop" and arg < len(data) - 1:
                data = data[:arg] + data[arg + 1 :]
            elif kind == "crc" and data.endswith(b"\x00"):
                data = _corrupt_crc(data)
        return self._random(data, direction)

    def _random(self, data: bytes, direction: str) -> bytes:
        pd, pf = self.drop_rate[direction], self.flip_rate[direction]
        if not (pd or pf) or not data:
            return data
        a = np.frombuffer(data, np.uint8).copy()
        flip = self.rng.random(len(a)) < pf
        if flip.any():
            a[flip] ^= (1 << self.rng.integers(0, 8, int(flip.sum()))).astype(np.uint8)
            self.counts["flipped"] += int(flip.sum())
        keep = self.rng.random(len(a)) >= pd
        self.counts["dropped"] += int((~keep).sum())
        return a[keep].tobytes()


def _corrupt_crc(wire: bytes) -> bytes:
    """The same frame with bit 0 of its CRC's low byte flipped, COBS-encoded again."""
    raw = bytearray(P.cobs_decode(wire[:-1]))
    raw[-1] ^= 0x01
    return P.cobs_encode(bytes(raw)) + b"\x00"
