"""Link faults against the simavr board (issue 8, item 4): host/faultproxy.py between the Board
client and the real firmware's UART on a simulated ATmega328P. Random byte drops and bit flips at
1e-3: the whole of verify recovers and passes; bursts of garbage, disconnect and reconnect: the
bit-exact stage recovers and passes; a board that computes something else never passes, through
faults; a board that vanishes ends verify with exit 2 in bounded time. Every run is timed:
nothing hangs. (The simulated Uno is slower than the native board, so the stages other than
bit-exact run once, under random faults, to keep the suite short.)"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import pytest
from conftest import require_path, require_tool
from host_helpers import EXAMPLES, design

from designer.avrbuild import ARDUINO_AVR
from designer.model import Model
from host import protocol as P
from host import simavr
from host.board import Board, Timeouts
from host.cli_commands import run_verify
from host.faultproxy import FaultProxy
from host.verify import VerifyOptions, stage_bit_exact, verify
from host.verify_runner import BlockRunner

pytestmark = pytest.mark.slow
# the simulated Uno answers within a few ms of wall time (Board adds the reply's wire time)
T = Timeouts(reply=0.15, frame_gap=0.1, save=2.0, hello_grace=0.05)
QUICK = VerifyOptions(led_tones_hz=(500,), n_tones=4)
LIMIT_S = 120.0


@pytest.fixture(autouse=True, scope="module")
def _toolchain():
    require_tool("gcc", "pkg-config", "avr-gcc", "avr-g++", "avr-nm", "avr-size", "avr-objcopy")
    require_path("/usr/include/simavr/sim_avr.h", "libsimavr-dev")
    require_path(ARDUINO_AVR / "cores" / "arduino", "Arduino AVR core (arduino-core-avr)")


@pytest.fixture
def sim():
    with simavr.start_board(design("classic")) as s:
        yield s


@pytest.fixture
def proxy(sim):
    with FaultProxy(sim.port, seed=11) as px:
        yield px


def timed(px: FaultProxy, d, stage_only: bool) -> dict:
    """verify (QUICK), or only its bit-exact stage, through the proxy; the report."""
    t = time.monotonic()
    boards: list[Board] = []

    def connect() -> Board:
        boards.append(Board.open(px.url, reset="none", timeouts=T))
        return boards[-1]

    try:
        with connect() as b:
            if not stage_only:
                report = verify(b, d, connect=connect, options=QUICK)
            else:
                b.check_design(d.hash)
                wanted = d.quantized.params()
                runner = BlockRunner(b, expected_hash=d.hash, connect=connect,
                                     oracle=lambda: Model(d.quantized, wanted))
                report = stage_bit_exact(runner, d, wanted, QUICK, lambda _m: None)
                report["link"] = {"faults": dict(runner.faults), "reconnects": runner.reconnects}
    except P.ProtocolError as e:
        raise AssertionError(f"{e!r}; proxy {px.counts}, drops {px.drop_reasons}") from e
    took = time.monotonic() - t
    report["salvaged"] = sum(b.deframer.salvaged for b in boards)  # frames kept behind noise
    print(f"{'bit-exact' if stage_only else 'verify'} through faults: {took:.1f} s, "
          f"link {report['link']}, salvaged {report['salvaged']}, proxy {px.counts}")
    assert took < LIMIT_S
    return report


def test_random_drops_and_flips_at_1e3(proxy):
    proxy.set_random(drop=5e-4, flip=5e-4)  # 1e-3 per byte, both directions
    report = timed(proxy, design("classic"), stage_only=False)
    assert report["ok"] is True, report["link"]
    assert report["bit_exact"]["mismatches"] == 0 and report["bit_exact"]["samples"] >= 10000
    assert sum(report["link"]["faults"].values()) > 10
    assert proxy.counts["dropped"] > 0 and proxy.counts["flipped"] > 0


@pytest.mark.parametrize("every_s", [0.2, 0.05])
def test_bursts_of_garbage(proxy, every_s):
    """Noise lands in front of the board's next frame. Bursts closer together than the reply
    timeout used to damage every retried reply of Board.open's handshake; the client's deframer
    now keeps the intact frame behind the noise (host/board_io.py), retries or not."""
    proxy.burst_every, proxy.burst_len = every_s, 48
    report = timed(proxy, design("classic"), stage_only=True)
    assert report["ok"] is True and report["mismatches"] == 0
    assert proxy.counts["burst_bytes"] > 0 and report["salvaged"] > 0


def test_handshake_through_bursts(proxy):
    """Board.open while noise arrives every 50 ms, well inside its reply timeout: each retried
    PING reply used to have noise in front of it, and the open failed (CobsError)."""
    proxy.burst_every, proxy.burst_len = 0.05, 48
    salvaged = 0
    for _ in range(4):
        time.sleep(0.12)  # a burst is due: the proxy sends it as the connection opens
        with Board.open(proxy.url, reset="none", timeouts=T) as b:
            assert b.check_design(design("classic").hash)
            salvaged += b.deframer.salvaged
    assert proxy.counts["burst_bytes"] > 0 and salvaged > 0


def test_disconnect_and_reconnect(proxy):
    proxy.at_frame(200, proxy.disconnect)
    proxy.at_frame(700, proxy.disconnect)
    report = timed(proxy, design("classic"), stage_only=True)
    assert report["ok"] is True and report["samples"] >= 10000
    assert report["link"]["reconnects"] >= 2 and proxy.counts["connections"] >= 3


def test_never_a_false_pass():
    """A firmware claiming the classic design's hash with one treble coefficient one LSB off."""
    d = design("classic")
    qd = d.quantized
    band = qd.bands[2]
    sec = band.sections[0]
    wrong = dataclasses.replace(sec, c=(sec.c[0] + 1,) + tuple(sec.c[1:]))
    bands = qd.bands[:2] + (dataclasses.replace(band, sections=(wrong,) + band.sections[1:]),)
    impostor = dataclasses.replace(d, quantized=dataclasses.replace(qd, bands=bands))
    with simavr.start_board(impostor) as s, FaultProxy(s.port, seed=5) as px:
        with Board.open(px.url, reset="none", timeouts=T) as b:
            assert b.check_design(d.hash)  # it claims the design
        px.set_random(drop=5e-4, flip=5e-4)
        report = timed(px, d, stage_only=True)
    assert report["ok"] is False and report["mismatches"] > 0
    assert {m["band"] for m in report["first_mismatch"]} == {"treble"}


def test_board_vanishing_mid_run_is_exit_2(capsys, sim, proxy):
    proxy.at_frame(400, sim.kill)
    t = time.monotonic()
    code = run_verify(argparse.Namespace(port=proxy.url, sim=None, json=True,
                                         design=str(EXAMPLES / "classic.toml")))
    took = time.monotonic() - t
    doc = json.loads(capsys.readouterr().out)
    assert code == 2 and doc["ok"] is False and "vanished" in doc["error"], doc
    assert took < 30
