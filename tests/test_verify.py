"""host/verify.py (+ cli_commands.run_verify, verify_report): ``designer verify`` against native
simulated boards: every example passes, another design is refused, a board that computes
something else fails with the band and the first differing sample, the user's parameters come
back, and a board that is not there is exit 2."""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
import pytest
from conftest import require_tool
from host_helpers import EXAMPLES as EXAMPLE_DIR
from host_helpers import built, design, fast_timeouts, start_design_board

from designer.errors import DesignerError
from host.board import Board
from host.cli_commands import run_verify
from host.simboard import run_native
from host.verify import FLOOR_DB, MIN_COMPARED, led_settle_samples, verify


@pytest.fixture(autouse=True)
def _needs_gcc():
    require_tool("gcc")  # the native simulated board is built with it


EXAMPLES = ["classic", "learned", "resonator", "msgeq7"]


def verify_json(capsys, **kw) -> tuple[int, dict]:
    args = argparse.Namespace(**{"port": None, "sim": None, "json": True, **kw})
    code = run_verify(args)
    out = capsys.readouterr()
    return code, json.loads(out.out)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_passes_on_the_native_board(name, capsys):
    d = design(name)
    code, doc = verify_json(capsys, design=str(design_path(name)), sim="native")
    assert code == 0 and doc["ok"] is True, doc.get("error") or doc
    assert doc["design_hash"] == d.hash
    assert doc["bit_exact"]["samples"] >= MIN_COMPARED and doc["bit_exact"]["mismatches"] == 0
    assert [b["name"] for b in doc["bands"]] == list(d.band_names)
    for i, band in enumerate(doc["bands"]):
        assert len(band["freqs_hz"]) >= 12
        assert len(band["measured_db"]) == len(band["design_db"]) == len(band["freqs_hz"])
        assert band["max_error_db"] <= 0.5
        # design_db is the quantized design's response, and only points above -40 dB count
        want = 20 * np.log10(np.abs(d.quantized.response(band["freqs_hz"], raw=False)[i]))
        np.testing.assert_allclose(band["design_db"], want, atol=1e-3)
        assert band["scored"] == [v >= FLOOR_DB for v in band["design_db"]]
    assert len(doc["led_table"]) == 7 * len(d.band_names)
    assert all(r["ok"] for r in doc["led_table"])
    assert doc["parameters"]["restored"] is True


def design_path(name):
    return EXAMPLE_DIR / f"{name}.toml"


def test_human_report(capsys):
    code = run_verify(argparse.Namespace(port=None, sim="native", json=False,
                                         design=str(design_path("classic"))))
    out = capsys.readouterr().out
    assert code == 0
    for text in ("bit-exact: ", "LED table", "desired", "predicted", "verify: pass", "bass"):
        assert text in out


def test_a_board_running_another_design_is_refused(capsys):
    with start_design_board("classic") as sim:
        code, doc = verify_json(capsys, design=str(design_path("resonator")), port=sim.port)
    assert code == 1 and doc["ok"] is False
    want = (f"the board runs design {design('classic').hash[:12]}, "
            f"expected {design('resonator').hash[:12]}")
    assert want in doc["error"]
    # DESIGN.md's fields are there even when no stage ran
    assert doc["bit_exact"] == {"samples": 0, "mismatches": 0}
    assert doc["bands"] == [] and doc["led_table"] == []


def test_a_board_that_computes_something_else_fails(capsys):
    d = design("classic")
    qd = d.quantized
    band = qd.bands[0]
    sec = band.sections[0]  # the bass low-pass: its coefficient 25 % off
    wrong = dataclasses.replace(sec, c=(int(sec.c[0] * 1.25),) + tuple(sec.c[1:]))
    bands = (dataclasses.replace(band, sections=(wrong,) + band.sections[1:]),) + qd.bands[1:]
    exe = built(d, tables=dataclasses.replace(qd, bands=bands))
    with run_native(exe, fs=d.sample_rate_hz) as sim, \
            Board.open(sim.port, timeouts=fast_timeouts()) as b:
        report = verify(b, d)
    assert report["ok"] is False and report["bit_exact"]["ok"] is False
    first = report["bit_exact"]["first_mismatch"]
    assert [m["band"] for m in first] == ["bass"]  # only the band that differs
    assert first[0]["segment"] == "impulses" and first[0]["sample"] >= 0
    assert report["bit_exact"]["mismatches"] > 0
    bass = report["bands"][0]
    assert bass["ok"] is False and bass["max_error_db"] > 0.5
    assert all(b["ok"] for b in report["bands"][1:])


def test_user_parameters_are_restored(capsys):
    with start_design_board("classic") as sim, Board.open(sim.port, timeouts=fast_timeouts()) as b:
        b.set(8, 300)   # hold_ms: the user's taste, not the design's default
        b.set(1, 0)     # AGC off
        report = verify(b, design("classic"))
        assert report["ok"] is True
        assert report["parameters"]["set_for_test"] == {"agc": 1, "hold_ms": 0}
        assert b.get(8) == 300 and b.get(1) == 0


def test_no_board_at_the_port_is_exit_2(capsys, tmp_path):
    code, doc = verify_json(capsys, design=str(design_path("classic")),
                            port=str(tmp_path / "ttyNothing"))
    assert code == 2 and doc["ok"] is False and "cannot open port" in doc["error"]
    assert doc["bit_exact"]["mismatches"] == 0 and doc["bands"] == []


def test_a_bad_design_file_still_gives_one_json_document(capsys, tmp_path):
    bad = tmp_path / "design.json"
    bad.write_text("{not json")
    with pytest.raises(DesignerError):
        verify_json(capsys, design=str(bad), sim="native")
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["design_hash"] is None and doc["exit_code"] == 2
    assert doc["bit_exact"] == {"samples": 0, "mismatches": 0}


def test_led_settle_follows_the_parameters():
    d = design("classic")
    base = d.quantized.params()
    fs = d.sample_rate_hz
    assert led_settle_samples({**base, "slow_ms": 2000}, fs) > led_settle_samples(base, fs)
    assert led_settle_samples({**base, "hold_ms": 1000}, fs) > led_settle_samples(base, fs)
