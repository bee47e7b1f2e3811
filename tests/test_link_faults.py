"""Link faults between the Board client and the native simulated board (issue 8, item 4), with
host/faultproxy.py in the middle: garbage, a byte dropped mid-frame, a corrupted CRC, the board
vanishing, random drops and flips at 1e-3, bursts of garbage, disconnect and reconnect. Each
gives the right error or a recovery; nothing hangs (every test is timed); nothing passes falsely.
Also host/verify_runner.py (the recovery logic) and host/faultproxy.py themselves."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import pytest
from conftest import require_tool
from host_helpers import EXAMPLES, built, design, hello_bytes, start_design_board

from host import protocol as P
from host.board import Board, BoardGoneError, NoReplyError, Timeouts
from host.cli_commands import run_verify
from host.faultproxy import TO_BOARD, TO_HOST, FaultProxy
from host.simboard import run_native
from host.verify import VerifyOptions, verify
from host.verify_runner import BlockRunner, LinkUnreliableError


@pytest.fixture(autouse=True)
def _needs_gcc():
    require_tool("gcc")  # the native simulated board is built with it


T = Timeouts(reply=0.05, frame_gap=0.03, save=0.5, hello_grace=0.05)
QUICK = VerifyOptions(led_tones_hz=(500, 1100))  # the LED stage is the longest: two tones


@pytest.fixture
def sim():
    with start_design_board("classic") as s:
        yield s


@pytest.fixture
def proxy(sim):
    with FaultProxy(sim.port, seed=7) as px:
        yield px


def connector(px: FaultProxy):
    return lambda: Board.open(px.url, timeouts=T)


def timed_verify(px: FaultProxy, d, options=QUICK, limit: float = 60.0) -> dict:
    t = time.monotonic()
    connect = connector(px)
    try:
        with connect() as b:
            report = verify(b, d, connect=connect, options=options)
    except P.ProtocolError as e:
        raise AssertionError(f"{e!r}; proxy {px.counts}, drops {px.drop_reasons}") from e
    assert time.monotonic() - t < limit
    return report


class TestSingleFaults:
    def test_garbage_before_a_reply(self, proxy):
        with connector(proxy)() as b:
            proxy.inject(bytes(range(1, 40)) + b"\x00\x17\x42")
            assert b.get(0) == 256 and b.link_errors >= 1

    def test_byte_dropped_from_a_command(self, proxy):
        with connector(proxy)() as b:
            proxy.drop_byte(5, TO_BOARD)
            with pytest.raises(NoReplyError) as e:
                b.get(0, retries=0)
            assert e.value.processed is False  # the board dropped the damaged frame unanswered
            proxy.drop_byte(5, TO_BOARD)
            assert b.get(0, retries=1) == 256

    def test_byte_dropped_from_a_reply(self, proxy):
        with connector(proxy)() as b:
            proxy.drop_byte(4, TO_HOST)
            with pytest.raises((P.FrameLengthError, P.CrcError, P.CobsError)):
                b.get(0, retries=0)
            proxy.drop_byte(4, TO_HOST)
            assert b.get(0, retries=1) == 256

    def test_corrupted_crc(self, proxy):
        with connector(proxy)() as b:
            proxy.corrupt_crc(TO_HOST)
            with pytest.raises(P.CrcError, match="bad CRC"):
                b.ping(retries=0)
            proxy.corrupt_crc(TO_HOST)
            assert b.ping(retries=1) == b"organ"

    def test_damaged_process_reply_says_the_block_ran(self, proxy):
        with connector(proxy)() as b:
            b.info()
            proxy.corrupt_crc(TO_HOST)  # the first DATA frame of the reply
            with pytest.raises(P.CrcError) as e:
                b.process(np.arange(100, dtype=np.int16), from_reset=True)
            assert e.value.processed is True
            assert b.ping() == b"organ"  # the rest of the reply was drained


class TestVerifyUnderFaults:
    def test_random_drops_and_flips_at_1e3(self, proxy):
        proxy.set_random(drop=5e-4, flip=5e-4)  # 1e-3 per byte, both directions
        report = timed_verify(proxy, design("classic"))
        assert report["ok"] is True, report["link"]
        assert sum(report["link"]["faults"].values()) > 20
        assert proxy.counts["dropped"] > 0 and proxy.counts["flipped"] > 0

    def test_never_a_false_pass(self):
        d = design("classic")
        qd = d.quantized
        band = qd.bands[2]
        sec = band.sections[0]  # treble: one LSB off in one coefficient
        wrong = dataclasses.replace(sec, c=(sec.c[0] + 1,) + tuple(sec.c[1:]))
        bands = qd.bands[:2] + (dataclasses.replace(band, sections=(wrong,) + band.sections[1:]),)
        exe = built(d, tables=dataclasses.replace(qd, bands=bands))
        with run_native(exe, fs=d.sample_rate_hz) as sim, FaultProxy(sim.port, seed=3) as px:
            px.set_random(drop=5e-4, flip=5e-4)
            report = timed_verify(px, d, VerifyOptions(led_tones_hz=(500,)))
        assert report["ok"] is False and report["bit_exact"]["mismatches"] > 0
        assert {m["band"] for m in report["bit_exact"]["first_mismatch"]} == {"treble"}

    def test_bursts_of_garbage(self, proxy):
        proxy.burst_every, proxy.burst_len = 0.02, 48
        report = timed_verify(proxy, design("classic"))
        assert report["ok"] is True and proxy.counts["burst_bytes"] > 0

    def test_disconnect_and_reconnect(self, proxy):
        proxy.at_frame(300, proxy.disconnect)  # in the bit-exact stage
        proxy.at_frame(2000, proxy.disconnect)  # in the response stage
        report = timed_verify(proxy, design("classic"))
        assert report["ok"] is True
        assert report["link"]["reconnects"] >= 1 and proxy.counts["connections"] >= 2

    def test_board_restart_mid_run(self, proxy):
        proxy.at_frame(400, lambda: proxy.inject(hello_bytes(), TO_HOST))
        report = timed_verify(proxy, design("classic"))
        assert report["ok"] is True and report["link"]["faults"].get("BoardResetError") == 1

    def test_hopeless_link_gives_up(self, proxy):
        t = time.monotonic()
        with connector(proxy)() as b:
            runner = BlockRunner(b, expected_hash=design("classic").hash)
            proxy.set_random(drop=0.05, flip=0.05)
            with pytest.raises(LinkUnreliableError, match="too unreliable"):
                runner.run(np.zeros(20000, np.int16))
        assert time.monotonic() - t < 30
        with pytest.raises(P.ProtocolError):  # a hopeless link is "cannot talk" for verify
            with connector(proxy)() as b:
                verify(b, design("classic"), options=QUICK)


def test_board_vanishing_mid_run_is_exit_2(capsys, sim, proxy):
    proxy.at_frame(500, sim.kill)
    t = time.monotonic()
    code = run_verify(argparse.Namespace(port=proxy.url, sim=None, json=True,
                                         design=str(EXAMPLES / "classic.toml")))
    took = time.monotonic() - t
    doc = json.loads(capsys.readouterr().out)
    assert code == 2 and doc["ok"] is False and "vanished" in doc["error"], doc
    assert took < 15


def test_proxy_passes_bytes_untouched(proxy):
    with connector(proxy)() as b:
        x = np.random.default_rng(0).integers(-30000, 30000, 123).astype(np.int16)
        first = b.process(x, from_reset=True)
        again = b.process(x, from_reset=True)
        np.testing.assert_array_equal(first.y, again.y)
    assert proxy.counts["dropped"] == proxy.counts["flipped"] == 0


def test_pty_gone_means_every_connection_gone(sim, proxy):
    b = connector(proxy)()
    sim.kill()
    with pytest.raises(BoardGoneError):
        for _ in range(5):
            b.ping()
            time.sleep(0.05)
    b.close()
