"""Running long signals through a board's PROCESS command, surviving link faults.

A signal longer than one PROCESS block is sent block after block, the first with FROM_RESET, the
others continuing the board's state. When a block's round trip fails, the board client says
whether the board ran the block (``err.processed``):

* False (nothing came back): the request was lost; the block is sent again;
* True (part of the reply came back intact): the board's state moved on; the block's outputs
  are lost (not compared) and the next block follows;
* None (only damaged frames came back: the board may or may not have run it): with an oracle
  (``oracle()`` makes a fresh ``designer.model.Model``-like object), a LEVELS probe asks the
  board for the outputs of the last sample it ran, which tells in most cases; otherwise both
  histories are kept
  and the next blocks that come through decide between them by their outputs; if the board
  skipped the block, the result says so (``Received.x`` is what the board ran, ``splices``
  where its signal jumps). Without an oracle, or when the board restarted, the segment starts
  again from reset.

The first block of a segment is always safe to resend. After a fault the block shrinks (fewer
bytes per round trip survive a noisy link), after a run of good blocks it grows back. A vanished
board is reopened (``connect``) a few times; its design hash is checked again and the test
parameters applied again. Every wait is bounded: past ``max_fault_rate`` faults per round trip
(after MIN_FAULTS) or ``deadline_s`` seconds the run stops with :class:`LinkUnreliableError`.
Lost samples are only marked, never filled in, so a fault can cost a comparison but never fake
one; a reply given up on that turns up later (the block ran twice) restarts the segment.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import protocol as P
from .board import (
    Board,
    BoardGoneError,
    BoardResetError,
    NoReplyError,
    PortError,
)

MIN_BLOCK = 16             # samples: the smallest block tried on a noisy link
GROW_AFTER = 8             # good blocks in a row before the block doubles again
MAX_RESTARTS = 50          # segment restarts (unknown board state) per segment
MIN_FAULTS = 100           # faults always tolerated, however few blocks went through
MAX_FAULT_RATE = 0.9       # beyond these faults per round trip the link is hopeless
DEADLINE_S = 900.0         # a whole run, however the link behaves
RECONNECT_ATTEMPTS = 5
RECONNECT_DELAY = 0.2      # seconds between attempts to reopen a vanished board


class LinkUnreliableError(P.ProtocolError):
    """Too many faults on the link (or too long) to finish; the message counts them by kind."""


@dataclass
class Received:
    """What the board ran, in its order: inputs ``x`` (n,) and outputs (n, n_bands) each;
    ``mask[i]`` is False where sample i's outputs were lost. ``x`` is the segment unless the
    board skipped a block (a lost request the host could not tell from a damaged reply): then
    that block is missing and ``splices`` holds the row where the signal jumps."""

    x: np.ndarray
    y: np.ndarray
    env: np.ndarray
    led: np.ndarray
    mask: np.ndarray
    splices: list[int]


class BlockRunner:
    """Sends segments through ``board``; keeps count of what went wrong on the link."""

    def __init__(
        self,
        board: Board,
        *,
        expected_hash: str,
        connect: Callable[[], Board] | None = None,
        params: dict[int, int] | None = None,
        oracle: Callable[[], Any] | None = None,
        max_fault_rate: float = MAX_FAULT_RATE,
        deadline_s: float = DEADLINE_S,
    ):
        self.board = board
        self.expected_hash = expected_hash
        self.connect = connect
        self.params = dict(params or {})
        self.oracle = oracle
        self.resolved = 0  # unknown outcomes settled by later blocks
        self.probed = 0    # unknown outcomes settled by a LEVELS probe
        self._levels = True
        self.max_fault_rate = max_fault_rate
        self.trips = 0  # PROCESS round trips
        self.deadline = time.monotonic() + deadline_s
        info = board.last_info
        self.max_block = info.max_samples
        self.block = self.max_block
        self.faults: Counter[str] = Counter()
        self.reconnects = 0
        self.lost_samples = 0
        self._streak = 0

    @property
    def fault_count(self) -> int:
        return sum(self.faults.values())

    def apply_params(self) -> None:
        """SET the test parameters on the board (after a restart or a reconnect too)."""
        for pid, value in self.params.items():
            got = self.board.set(pid, value)
            if got != value:
                raise P.PayloadError(f"SET {pid} = {value} read back {got}")

    def run(self, x: np.ndarray) -> Received:
        """Run int16 ``x`` through the board from reset."""
        n = len(x)
        pos, restarts = 0, 0
        unanswered: list[int] = []  # seqs of continuing blocks taken as never run
        chunks: list[_Chunk] = []   # what the board ran (or may have run), in order
        hyp: _Hypotheses | None = None  # while the fate of some block is unknown
        while pos < n:
            size = min(self.block, n - pos)
            block = x[pos : pos + size]
            if unanswered and self.board.late_replies.intersection(unanswered):
                # a reply taken as never coming came late: that block ran twice
                self.faults["LateReply"] += 1
                unanswered.clear()
                chunks, hyp = [], None
                pos, restarts = 0, self._restart(restarts, P.ProtocolError("late reply"))
                continue
            self.trips += 1
            try:
                res = self.board.process(block, from_reset=pos == 0)
            except P.DeviceError:
                raise
            except (BoardGoneError, BoardResetError) as e:
                self._fault(e)
                self._recover(e)
                chunks, hyp = [], None
                pos, restarts = 0, self._restart(restarts, e)
                continue
            except P.ProtocolError as e:
                self._fault(e)
                self.block, self._streak = max(MIN_BLOCK, self.block // 2), 0
                processed = getattr(e, "processed", None)
                if pos == 0 or processed is False:
                    if pos > 0:
                        unanswered.append(self.board.last_seq)
                    continue  # a FROM_RESET block, or one the board never ran: send it again
                if processed is None and pos + size < n and hyp is None:
                    fate = self._probe(_ran(chunks), block)
                    if fate is False:
                        continue  # it never ran: send it again
                    processed = fate
                pos += size
                self.lost_samples += size
                if processed is None and pos < n:  # did it run? later blocks will tell
                    if self.oracle is None or (hyp is not None and hyp.full):
                        chunks, hyp = [], None
                        pos, restarts = 0, self._restart(restarts, e)
                        continue
                    hyp = hyp or _Hypotheses(self.oracle, _ran(chunks))
                    hyp.branch(block, len(chunks))
                    chunks.append(_Chunk(block, None, maybe=True))
                else:  # it ran (or it was the last block: no matter), its outputs are lost
                    if hyp is not None:
                        hyp.ran(block)
                    chunks.append(_Chunk(block, None))
                continue
            pos += size
            chunks.append(_Chunk(block, res, provisional=hyp is not None))
            if hyp is not None:
                verdict = hyp.observe(block, res)
                if verdict is not False:
                    self.resolved += 1
                    if verdict:
                        self.faults["SkippedBlock"] += len(verdict)
                    chunks = _settle(chunks, verdict)
                    hyp = None
            self._streak += 1
            if self._streak >= GROW_AFTER and self.block < self.max_block:
                self.block, self._streak = min(self.max_block, self.block * 2), 0
        return _assemble(chunks, self.board.last_info)

    def _probe(self, ran: np.ndarray, block: np.ndarray) -> bool | None:
        """Did the board run ``block`` after ``ran``? LEVELS reports the outputs of the last
        sample the board processed (live audio is held while PROCESS blocks come), without
        touching its state: those of ``block``'s last sample, or of ``ran``'s. None when that
        cannot be told (no oracle, no LEVELS, the probe lost, or both are the same)."""
        if self.oracle is None or not self._levels or len(ran) == 0:
            return None
        info = self.board.last_info
        try:
            self.board.start_levels(P.LEVELS_MAX_MS)  # the first frame now, the next in 60 s
            lv = self.board.read_levels(self.board.timeouts.reply)
            self.board.stop_levels()
        except P.DeviceError:
            self._levels = False  # this firmware has no LEVELS
            return None
        except P.ProtocolError as e:
            self._fault(e)
            return None
        if lv is None:
            return None
        try:
            now = lv.outputs(info.n_bands, info.value_format)
        except P.PayloadError:
            return None
        model = self.oracle()
        before = model.process(ran, reset=True)
        after = model.process(block)
        was = _equal(now, before, slice(-1, None))
        moved = _equal(now, after, slice(-1, None))
        if was == moved:
            return None
        self.probed += 1
        return moved

    def _restart(self, restarts: int, err: Exception) -> int:
        if restarts + 1 > MAX_RESTARTS:
            raise LinkUnreliableError(
                f"gave up after {MAX_RESTARTS} restarts of one test signal: {err}"
            ) from err
        return restarts + 1

    def _fault(self, err: Exception) -> None:
        self.faults[type(err).__name__] += 1
        n = self.fault_count
        hopeless = n > MIN_FAULTS and n > self.max_fault_rate * self.trips
        if hopeless or time.monotonic() > self.deadline:
            kinds = ", ".join(f"{k} x{v}" for k, v in self.faults.most_common())
            raise LinkUnreliableError(
                f"the link is too unreliable to finish: {self.fault_count} faults ({kinds})"
            ) from err

    def _recover(self, err: Exception) -> None:
        """After a restart of the board: parameters again; after a vanished port: reopen."""
        if isinstance(err, BoardResetError):
            self.board.info()
            self.apply_params()
            return
        if self.connect is None:
            raise err
        self.board.close()
        last: Exception = err
        for attempt in range(RECONNECT_ATTEMPTS):
            time.sleep(RECONNECT_DELAY * (attempt + 1))
            try:
                board = self.connect()
            except (PortError, NoReplyError, BoardGoneError, P.FrameError) as e:
                last = e
                continue
            try:
                board.check_design(self.expected_hash)
                self.board = board
                self.apply_params()
            except (NoReplyError, BoardGoneError, P.FrameError, P.PayloadError) as e:
                board.close()
                last = e
                continue
            self.reconnects += 1
            return
        raise BoardGoneError(
            f"the board vanished and did not come back after {RECONNECT_ATTEMPTS} attempts "
            f"({last})"
        ) from err


def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise identity (bitwise for floats: -0.0 and NaN payloads count)."""
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return a.astype(np.float32).view(np.uint32) == b.astype(np.float32).view(np.uint32)
    return a.astype(np.int64) == b.astype(np.int64)


def _equal(got: P.BandOutputs, want: Any, rows: slice) -> bool:
    return all(bool(same(getattr(got, f), getattr(want, f)[rows]).all())
               for f in ("y", "env", "led"))


@dataclass
class _Chunk:
    """One block as the board ran it: its samples and outputs (None: lost). ``maybe``: the
    board may not have run it; ``provisional``: outputs that count only if it did."""

    x: np.ndarray
    out: P.BandOutputs | None
    maybe: bool = False
    provisional: bool = False
    splice: bool = False  # a skipped block precedes it: the signal jumps here


def _ran(chunks: list[_Chunk]) -> np.ndarray:
    return np.concatenate([c.x for c in chunks]) if chunks else np.zeros(0, np.int16)


def _settle(chunks: list[_Chunk], skipped: frozenset[int] | None) -> list[_Chunk]:
    """The fates are known: drop the blocks the board skipped, keep the rest as run. None: no
    history explains the board (it computes something else): keep everything as run."""
    kept: list[_Chunk] = []
    jump = False
    for i, c in enumerate(chunks):
        if skipped is not None and i in skipped:
            jump = True
            continue
        kept.append(_Chunk(c.x, c.out, splice=c.splice or jump))
        jump = False
    return kept


def _assemble(chunks: list[_Chunk], info: P.Info) -> Received:
    nb = info.n_bands
    vt = np.int16 if info.value_format == P.ValueFormat.INT16 else np.float32
    n = sum(len(c.x) for c in chunks)
    out = Received(_ran(chunks).astype(np.int16), np.zeros((n, nb), vt), np.zeros((n, nb), vt),
                   np.zeros((n, nb), np.uint8), np.zeros(n, bool), [])
    row = 0
    for c in chunks:
        if c.splice:
            out.splices.append(row)
        rows = slice(row, row + len(c.x))
        if c.out is not None and not c.provisional:  # undecided at the end: not trusted
            out.y[rows], out.env[rows], out.led[rows] = c.out.y, c.out.env, c.out.led
            out.mask[rows] = True
        row += len(c.x)
    return out


class _Hypotheses:
    """The histories a board may have run while the fate of some blocks is unknown: oracle
    models (``process(x, reset)``), each with the set of chunks it assumes were skipped."""

    MAX = 8

    def __init__(self, oracle: Callable[[], Any], prefix: np.ndarray):
        model = oracle()
        model.process(prefix, reset=True)
        self.cands: list[tuple[Any, frozenset[int]]] = [(model, frozenset())]

    @property
    def full(self) -> bool:
        return 2 * len(self.cands) > self.MAX

    def branch(self, block: np.ndarray, chunk: int) -> None:
        """The board may or may not have run ``block`` (chunk number ``chunk``)."""
        new = []
        for model, skipped in self.cands:
            ran = copy.deepcopy(model, {id(model.qd): model.qd})
            ran.process(block)
            new += [(ran, skipped), (model, skipped | {chunk})]
        self.cands = new

    def ran(self, block: np.ndarray) -> None:
        for model, _ in self.cands:
            model.process(block)

    def observe(self, block: np.ndarray, res: P.BandOutputs) -> frozenset[int] | None | bool:
        """Keep the histories whose outputs for ``block`` are the board's. Returns the chunks
        the board skipped once that is certain (empty: it ran them all), None when no history
        explains the board, False while undecided."""
        self.cands = [(m, sk) for m, sk in self.cands
                      if _equal(res, m.process(block), slice(None))]
        if not self.cands:
            return None
        fates = {sk for _, sk in self.cands}
        return next(iter(fates)) if len(fates) == 1 else False
