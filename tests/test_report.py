"""designer.report and report_analog: REPORT.md with its pictures, and the wiring numbers."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from designer import report
from designer import report_analog as ra
from designer.design import load_design
from designer.outfiles import FilePlan, banner_intact
from tests.conftest import ROOT, require_tool

ESP32_TOML = """
board = "esp32dev"
sample_rate_hz = 16000
[input]
kind = "i2s"
mic = "inmp441"
sck = 32
ws = 25
sd = 33
[leds]
strip_pin = 5
strip_count = 30
[[bands]]
name = "low"
type = "lowpass"
filter = "butterworth"
order = 2
cutoff_hz = 300
led_pin = 16
color = "#0000ff"
[[bands]]
name = "high"
type = "highpass"
filter = "butterworth"
order = 2
cutoff_hz = 2000
led_pin = 17
color = "#ffffff"
"""


@pytest.fixture(scope="module")
def classic():
    require_tool("gcc")
    return load_design(ROOT / "examples" / "classic.toml")


@pytest.fixture(scope="module")
def classic_plan(classic):
    plan = FilePlan()
    added = report.add_report(classic, plan)
    return plan, added


class TestAddReport:
    def test_files(self, classic_plan):
        plan, added = classic_plan
        assert sorted(added) == sorted(plan.files)
        assert "report/REPORT.md" in plan.files
        pngs = [k for k in plan.files if k.endswith(".png")]
        assert len(pngs) == 7 and all(k.startswith("report/") for k in pngs)
        for k in pngs:
            data = plan.files[k]
            assert isinstance(data, bytes)
            w, h = Image.open(io.BytesIO(data)).size
            assert w >= 500 and h >= 250

    def test_markdown_links_every_picture_and_has_a_banner(self, classic_plan):
        plan, _ = classic_plan
        text = plan.files["report/REPORT.md"]
        assert isinstance(text, str) and banner_intact(text) is True
        linked = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text))
        assert linked == {k[len("report/"):] for k in plan.files if k.endswith(".png")}

    def test_design_and_quantization_tables(self, classic, classic_plan):
        text = classic_plan[0].files["report/REPORT.md"]
        for band in classic.filters.bands:
            assert re.search(rf"^\| {band.name} \| {band.type} \| rc \|", text, re.M)
        assert "| bass | lowpass | rc | 800.0 | 800.0 | D9 |" in text
        assert "198.9 Ω → 200 Ω" in text  # R for 800 Hz at 1 µF, snapped to E24
        in_shift = classic.quantized.bands[0].in_shift
        assert "## Quantization" in text and f"| bass | {in_shift} |" in text
        assert f"`{classic.hash[:16]}`" in text

    def test_wiring_numbers(self, classic, classic_plan):
        text = classic_plan[0].files["report/REPORT.md"]
        aa = ra.anti_alias(classic.sample_rate_hz, "E24")
        assert f"| R_aa | {aa.r_ohm / 1e3:.3g} kΩ (E24) |" in text
        assert "| C_aa | 10 nF" in text
        assert "| bass | D9 | red, V_f ≈ 2 V | 5 V from the pin | 200 Ω (E24) | 15.0 mA |" in text
        assert "20 mA recommended, 40 mA absolute maximum per pin, 200 mA" in text
        assert "270 Ω gate resistor" in text and "100 kΩ gate to source" in text

    def test_same_design_same_files(self, classic, classic_plan):
        again = FilePlan()
        report.add_report(classic, again)
        assert again.files == classic_plan[0].files

    def test_prefix(self, classic, classic_plan):
        plan = FilePlan()
        report.add_report(classic, plan, prefix="docs/")
        assert set(plan.files) == {k.replace("report/", "docs/") for k in classic_plan[0].files}

    def test_i2s_board_with_strip(self, tmp_path):
        require_tool("gcc")
        cfg = tmp_path / "esp.toml"
        cfg.write_text(ESP32_TOML)
        design = load_design(cfg)
        plan = FilePlan()
        report.add_report(design, plan)
        text = plan.files["report/REPORT.md"]
        assert "SCK → GPIO32, WS → GPIO25, SD → GPIO33" in text
        assert "R_aa" not in text  # no analog input: no anti-alias RC
        # blue and white LEDs need more than 3.3 V: 5 V through the MOSFET, (5 − 3.1) / 15 mA
        assert "| low | GPIO16 | blue, V_f ≈ 3.1 V | 5 V through the MOSFET switch below | " \
               "130 Ω (E24) | 14.6 mA |" in text
        assert "74AHCT125" in text and "GPIO5" in text
        assert "AO3400A" in text and "180 Ω gate resistor" in text


def test_report_markdown_without_pictures(classic):
    text = report.report_markdown(classic, [])
    assert "## Plots" in text and "![" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert np.isfinite(classic.quantized.report["worst_error_db"])
