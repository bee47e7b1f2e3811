"""host/calibrate.py (+ cli_commands.run_calibrate): squelch and gain from the noise floor."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from conftest import require_tool
from host_helpers import EXAMPLES, built, design, fast_timeouts

from designer import params as params_mod
from designer.errors import DesignerError
from host import protocol as P
from host.board import Board
from host.calibrate import DYNAMIC_RANGE_DB, SQUELCH_MARGIN_DB, calibrate, choose
from host.cli_commands import run_calibrate
from host.simboard import run_native


@pytest.fixture(autouse=True)
def _needs_gcc():
    require_tool("gcc")  # the native simulated board is built with it


SQUELCH = params_mod.by_name("squelch")
GAIN = params_mod.by_name("gain")


def board_with_noise(noise_dbfs: float, storage=None):
    d = design("classic")
    return run_native(built(d), fs=d.sample_rate_hz, noise_dbfs=noise_dbfs,
                      storage=storage)


class TestChoose:
    def test_squelch_and_gain_from_the_loudest_floor(self):
        floor = np.array([1e-4, 1e-3, 5e-4])  # sine-peak fractions of full scale
        got = choose(floor)
        assert got["squelch"] == round(32768 * 1e-3 * 10 ** (SQUELCH_MARGIN_DB / 20))
        assert got["gain"] == round(256 / (1e-3 * 10 ** (DYNAMIC_RANGE_DB / 20)))

    def test_bounds(self):
        quiet, loud = choose(np.array([1e-9])), choose(np.array([2.0]))
        assert quiet["squelch"] == SQUELCH.min and quiet["gain"] == GAIN.max
        assert loud["squelch"] == SQUELCH.max and loud["gain"] == GAIN.min


def test_calibration_is_set_saved_and_survives_a_restart(tmp_path):
    eeprom = tmp_path / "eeprom.bin"
    with board_with_noise(-60.0, eeprom) as sim, \
            Board.open(sim.port, timeouts=fast_timeouts()) as b:
        result = calibrate(b, seconds=1.0, design_path=EXAMPLES / "classic.toml")
    after = {k: v["wire"] for k, v in result["after"].items()}
    assert result["saved"] and result["frames"] >= 30
    assert after["squelch"] != result["before"]["squelch"]["wire"]
    floors = [b["noise_floor_dbfs"] for b in result["bands"]]
    assert -75 < max(floors) < -50  # the board's microphone floor, per band
    # squelch sits SQUELCH_MARGIN_DB above the loudest band's floor
    assert params_mod.from_wire("squelch", after["squelch"]) == pytest.approx(
        max(floors) + SQUELCH_MARGIN_DB, abs=0.2)
    assert all(b["led_on_after"] == 0.0 for b in result["bands"])
    with board_with_noise(-60.0, eeprom) as sim, \
            Board.open(sim.port, timeouts=fast_timeouts()) as b:
        assert b.info().params_status == P.ParamsStatus.LOADED
        assert b.get(SQUELCH.id) == after["squelch"] and b.get(GAIN.id) == after["gain"]


def test_louder_room_higher_squelch_lower_gain():
    got = {}
    for noise in (-70.0, -45.0):
        with board_with_noise(noise) as sim, \
                Board.open(sim.port, timeouts=fast_timeouts()) as b:
            r = calibrate(b, seconds=0.6, design_path=EXAMPLES / "classic.toml", save=False)
            got[noise] = {k: v["wire"] for k, v in r["after"].items()}
    assert got[-45.0]["squelch"] > got[-70.0]["squelch"]
    assert got[-45.0]["gain"] < got[-70.0]["gain"]


def test_needs_the_boards_design(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no firmware/design.json here, and no sim-board left one
    monkeypatch.setattr("host.levels.known_designs_dir", lambda: tmp_path / "designs")
    with board_with_noise(-60.0) as sim, Board.open(sim.port, timeouts=fast_timeouts()) as b:
        with pytest.raises(DesignerError, match="needs the board's design"):
            calibrate(b, seconds=0.2)
        with pytest.raises(DesignerError, match="the board runs design"):
            calibrate(b, seconds=0.2, design_path=EXAMPLES / "resonator.toml")


def test_cli(capsys):
    with board_with_noise(-60.0) as sim:
        code = run_calibrate(argparse.Namespace(port=sim.port, seconds=0.5,
                                                design=str(EXAMPLES / "classic.toml")))
    out = capsys.readouterr().out
    assert code == 0 and "noise floor" in out and "squelch:" in out and "saved" in out
