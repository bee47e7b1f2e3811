"""host/verify.py (+ cli_commands.run_verify, verify_report): ``designer verify`` against native
simulated boards: every example passes, another design is refused, a board that computes
something else fails with the band and the first differing sample, the user's parameters come
back, and a board that is not there is exit 2."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json

import numpy as np
import pytest
from conftest import require_tool
from host_helpers import EXAMPLES as EXAMPLE_DIR
from host_helpers import built, design, fast_timeouts, start_design_board
from rich.console import Console

from designer.design import load_design
from designer.errors import DesignerError
from host import verify_signals as S
from host.board import Board
from host.cli_commands import run_verify
from host.simboard import run_native
from host.verify import (
    FLOOR_DB,
    MIN_COMPARED,
    VerifyOptions,
    led_settle_samples,
    stage_led_bands,
    stage_led_table,
    verify,
)
from host.verify_report import print_report
from host.verify_runner import Received


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
    assert_every_led_switched_on(doc, d)
    assert doc["parameters"]["restored"] is True


def assert_every_led_switched_on(doc, d):
    """The "LED per band" stage: one tone per band, every band's LED scored at each, each
    band's own LED seen on (strictly: never excused as near an edge), all in the verdict."""
    names = list(d.band_names)
    rows = doc["led_bands"]
    assert doc["led_bands_untested"] == [] and doc["led_bands_ok"] is True
    assert [r["tone_for"] for r in rows] == [n for n in names for _ in names]
    assert [r["band"] for r in rows] == names * len(names)
    table_keys = set(doc["led_table"][0])
    for r in rows:
        assert set(r) == table_keys | {"tone_for"}
        assert r["ok"] is True and r["desired"] == r["predicted"]
        if r["band"] == r["tone_for"]:
            assert r["desired"] is True and r["led"] > 0 and r["near_edge"] is False
    assert set(doc["stage_seconds"]) == {"bit_exact", "response", "led_table", "led_bands"}


def design_path(name):
    return EXAMPLE_DIR / f"{name}.toml"


def test_human_report(capsys):
    code = run_verify(argparse.Namespace(port=None, sim="native", json=False,
                                         design=str(design_path("classic"))))
    out = capsys.readouterr().out
    assert code == 0
    for text in ("bit-exact: ", "LED table", "desired", "predicted", "verify: pass", "bass",
                 "LED per band", "6577.9 Hz"):
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


def dark_band_board(d, index):
    """A native board of design ``d`` whose band ``index`` reads 6 dB low (its compiled-in
    level normalisation halved, same design hash): the filter output y is right, the LED never
    lights where the band is within 6 dB of -3 dB."""
    qd = d.quantized
    band = qd.bands[index]
    bands = list(qd.bands)
    bands[index] = dataclasses.replace(band, norm=band.norm // 2)
    return built(d, tables=dataclasses.replace(qd, bands=tuple(bands)))


def test_a_dark_led_fails_where_the_led_table_cannot_see_it():
    """Treble (high-pass 5 kHz) is never "desired on" in the 300..1500 Hz table, so its dark LED
    passes the table (and the response stage, which reads y); the per-band stage fails it."""
    d = design("classic")
    with run_native(dark_band_board(d, 2), fs=d.sample_rate_hz) as sim, \
            Board.open(sim.port, timeouts=fast_timeouts()) as b:
        report = verify(b, d)
    assert report["led_table_ok"] is True and report["response_ok"] is True
    assert not any(r["desired"] for r in report["led_table"] if r["band"] == "treble")
    assert report["led_bands_ok"] is False and report["ok"] is False
    bad = [r for r in report["led_bands"] if not r["ok"]]
    assert [(r["tone_for"], r["band"], r["desired"], r["predicted"]) for r in bad] == [
        ("treble", "treble", True, False)]
    assert bad[0]["led"] == 0 and bad[0]["freq_hz"] > 5000
    out = io.StringIO()
    print_report({**report, "led_bands_untested": ["sub"]}, Console(file=out, width=200))
    text = out.getvalue()
    assert "LED per band" in text and "verify: FAIL" in text
    assert "no tone lights band sub clearly" in text


def test_only_the_per_band_stage_sees_a_treble_that_never_lights(tmp_path):
    """The quantized design (board and oracle alike) keeps its 5 kHz treble while the designed
    response says 2 kHz: bit-exact and response compare with the quantized design and pass,
    the table's 300..1500 Hz expect treble dark and pass; only the per-band tone (~4.2 kHz,
    on by the -3 dB rule, dark on the board) fails, and with it the verdict."""
    d = design("classic")
    toml = (EXAMPLE_DIR / "classic.toml").read_text().replace("cutoff_hz = 5000",
                                                               "cutoff_hz = 2000")
    (tmp_path / "organ.toml").write_text(toml)
    treble_2k = load_design(tmp_path / "organ.toml").filters.bands[2]
    said = dataclasses.replace(d, filters=dataclasses.replace(
        d.filters, bands=(*d.filters.bands[:2], treble_2k)))
    with start_design_board("classic") as sim, \
            Board.open(sim.port, timeouts=fast_timeouts()) as b:
        report = verify(b, said)
    assert report["bit_exact_ok"] and report["response_ok"] and report["led_table_ok"]
    assert report["led_bands_ok"] is False and report["ok"] is False
    bad = [r for r in report["led_bands"] if not r["ok"]]
    assert [(r["tone_for"], r["band"], r["desired"], r["predicted"]) for r in bad] == [
        ("treble", "treble", True, False)]
    assert 4000 < bad[0]["freq_hz"] < 4500


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


class OracleRunner:
    """A BlockRunner stand-in: the Python model of the design is the board; records what it
    was asked to play (each run from reset, as every LED tone is)."""

    def __init__(self, d):
        from designer.model import Model

        self.model = Model(d.quantized, d.quantized.params())
        self.played: list[np.ndarray] = []

    def run(self, x):
        self.played.append(x)
        out = self.model.process(x, reset=True)
        return Received(x=x, y=out.y, env=out.env, led=out.led, mask=np.ones(len(x), bool),
                        splices=[])


class TestLedBandsStage:
    def test_a_table_tone_that_lights_a_band_clearly_is_not_played_again(self):
        d = design("classic")
        wanted = d.quantized.params()
        runner = OracleRunner(d)
        table = stage_led_table(runner, d, wanted, VerifyOptions(led_tones_hz=(500, 1300)),
                                lambda _m: None)
        assert len(runner.played) == 2
        rows, untested = stage_led_bands(runner, d, wanted, table, lambda _m: None)
        assert untested == [] and all(r["ok"] for r in rows)
        assert len(runner.played) == 3  # treble's tone only: bass and mid are lit by the table
        tones = {r["tone_for"]: r["freq_hz"] for r in rows}
        assert tones["bass"] == 500 and tones["mid"] == 1300 and tones["treble"] > 5000
        for name, f in (("bass", 500), ("mid", 1300)):
            mine = [{k: v for k, v in r.items() if k != "tone_for"} for r in rows
                    if r["tone_for"] == name]
            assert mine == [r for r in table if r["freq_hz"] == f]

    def test_a_band_no_tone_lights_clearly_is_reported_untested(self, monkeypatch):
        d = design("classic")
        real = S.led_band_tone
        monkeypatch.setattr(S, "led_band_tone", lambda band, bands, fs, played: None
                            if band.name == "mid" else real(band, bands, fs, played))
        logs = []
        rows, untested = stage_led_bands(OracleRunner(d), d, d.quantized.params(), [],
                                         logs.append)
        assert untested == ["mid"] and {r["tone_for"] for r in rows} == {"bass", "treble"}
        assert any("no tone lights mid clearly" in m for m in logs)
        assert all(r["ok"] for r in rows)
