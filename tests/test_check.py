"""designer/check.py: the budget check refuses designs that do not fit their board, naming the
numbers, and its RAM model agrees with avr-size of the real build."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import ROOT, require_path, require_tool

from designer import avrbuild
from designer.check import Budget, check_design, estimate_cycles, estimate_ram
from designer.config import load_config
from designer.design import make_design
from designer.errors import BudgetError
from designer.outfiles import write_plan
from designer.render import render_project

BAND = '[[bands]]\nname = "{n}"\ntype = "{t}"\n{k}\nled_pin = {p}\n'


def design(tmp_path: Path, text: str):
    path = tmp_path / "organ.toml"
    path.write_text(text)
    return make_design(load_config(path))


def example(name: str):
    return make_design(load_config(ROOT / "examples" / f"{name}.toml"))


def butterworth_bands(n: int, pins: list[int], order: int = 4) -> str:
    out = []
    for i in range(n):
        lo = 100 * 1.5**i
        out.append(BAND.format(n=f"b{i}", t="bandpass",
                               k=f'filter = "butterworth"\norder = {order}\nlow_hz = {lo:.1f}\n'
                               f"high_hz = {1.4 * lo:.1f}",
                               p=pins[i]))
    return "".join(out)


class TestCheckDesign:
    def test_classic_fits(self):
        b = check_design(example("classic"))
        assert isinstance(b, Budget)
        assert b.cycles_per_sample <= b.cycles_budget
        assert b.ram_bytes <= b.ram_budget_bytes
        assert b.cycles_available == pytest.approx(16e6 / (16e6 / 64 / 13))
        assert b.cycles_per_sample == pytest.approx(sum(b.cycles_breakdown.values()))
        assert b.ram_bytes == sum(b.ram_breakdown.values())
        assert b.to_dict()["cpu_load"] == pytest.approx(b.cpu_load, abs=1e-4)

    def test_msgeq7_fits_esp32(self):
        b = check_design(example("msgeq7"))
        assert b.cpu_load < 0.5 and b.board == "esp32dev"
        assert b.cycles_measured is None  # measured figures exist for the AVR only

    def test_measured_figures_reported_on_avr(self):
        d = example("classic")
        b = check_design(d)
        assert b.cycles_measured == pytest.approx(estimate_cycles(d, measured=True)[0])
        assert b.to_dict()["cpu_load_measured"] == pytest.approx(
            b.cycles_measured / b.cycles_available, abs=1e-4)

    def test_cost_grows_with_sections(self, tmp_path):
        small = estimate_cycles(design(tmp_path, 'board = "uno"\n' + butterworth_bands(1, [9])))
        big = estimate_cycles(design(tmp_path, 'board = "uno"\n' + butterworth_bands(2, [9, 10])))
        assert big[0] > small[0]
        assert big[1]["bq"] == 2 * small[1]["bq"]

    def test_general_numerator_costs_more_on_avr(self, tmp_path):
        """A biquad whose numerator is not c0 (1, r1, r2) (zeros off z = +-1, as a trained iir
        band's) runs one sample at a time on AVR (designer/cstep_avr.py): the model says so."""
        d = design(tmp_path, 'board = "uno"\n' + butterworth_bands(1, [9], order=2))
        band = d.quantized.bands[0]
        sec = band.sections[0]
        assert sec.kind == "bq"
        general = dataclasses.replace(sec, c=(sec.c[0], sec.c[1] + 1) + tuple(sec.c[2:]))
        qd = dataclasses.replace(d.quantized, bands=(
            dataclasses.replace(band, sections=(general,) + band.sections[1:]),))
        structured, parts = estimate_cycles(d)
        slow, slow_parts = estimate_cycles(dataclasses.replace(d, quantized=qd))
        assert parts["bq"] > 0 and "bq_general" not in parts
        assert slow_parts["bq_general"] > parts["bq"] and "bq" not in slow_parts
        assert slow > structured

    def test_cpu_over_budget_refused_with_numbers(self, tmp_path):
        d = design(tmp_path, 'board = "uno"\n' + butterworth_bands(4, [9, 10, 11, 3]))
        cycles, _ = estimate_cycles(d)
        with pytest.raises(BudgetError) as e:
            check_design(d)
        msg = str(e.value)
        assert f"about {cycles:.0f} cycles per sample" in msg
        assert "budget of 416" in msg and "832-cycle" in msg and "uno" in msg

    def test_ram_over_budget_refused_with_numbers(self, tmp_path):
        text = (ROOT / "examples" / "classic.toml").read_text()
        d = design(tmp_path, text.replace('mode = "pwm"',
                                          'mode = "pwm"\nstrip_pin = 4\nstrip_count = 60'))
        ram, _ = estimate_ram(d)
        assert ram > 1024
        with pytest.raises(BudgetError, match=f"about {ram} bytes of static RAM.*budget of 1024"):
            check_design(d)

    def test_esp32c3_has_six_ledc_channels(self, tmp_path):
        pins = [0, 1, 2, 3, 4, 5, 6]
        bands = "".join(BAND.format(n=f"b{i}", t="lowpass", k=f"cutoff_hz = {300 + 100 * i}",
                                    p=p) for i, p in enumerate(pins))
        d = design(tmp_path, 'board = "esp32c3"\n[input]\nsck = 7\nws = 8\nsd = 10\n' + bands)
        with pytest.raises(BudgetError, match="7 PWM LEDs.*6 LEDC channels"):
            check_design(d)

    def test_esp32c3_analog_input_refused(self, tmp_path):
        d = design(tmp_path, 'board = "esp32c3"\n[input]\nkind = "adc"\npin = 2\n'
                   + BAND.format(n="bass", t="lowpass", k="cutoff_hz = 500", p=6))
        with pytest.raises(BudgetError, match="analog input on esp32c3"):
            check_design(d)

    def test_pins_rechecked(self):
        """A design.json edited by hand (or a config bug) cannot put PWM on a non-PWM pin."""
        d = example("classic")
        bad = dataclasses.replace(
            d, wiring=(dataclasses.replace(d.wiring[0], led_pin=4), *d.wiring[1:]))
        with pytest.raises(BudgetError, match="D4 has no PWM"):
            check_design(bad)
        clash = dataclasses.replace(
            d, wiring=(d.wiring[0], dataclasses.replace(d.wiring[1], led_pin=9), d.wiring[2]))
        with pytest.raises(BudgetError, match="already the LED of band 'bass'"):
            check_design(clash)


class TestRamModel:
    @pytest.mark.parametrize("config", ["classic", "resonator", "strip", "onoff6"])
    def test_estimate_matches_avr_size(self, tmp_path, config):
        """The estimate is within a few bytes of .data + .bss of the real build."""
        require_tool("avr-gcc", "avr-g++", "avr-gcc-ar", "avr-size")
        require_path(avrbuild.ARDUINO_AVR, "Arduino AVR core (arduino-core-avr)")
        if config == "strip":
            # FastLED is not installed here: compare without the strip's own share
            d = design(tmp_path, 'board = "uno"\n'
                       + BAND.format(n="bass", t="lowpass", k="cutoff_hz = 500", p=9))
        elif config == "onoff6":
            bands = "".join(BAND.format(n=f"band{i}", t="lowpass", k=f"cutoff_hz = {300 * (i + 1)}",
                                        p=p) for i, p in enumerate([2, 4, 7, 8, 12, 13]))
            d = design(tmp_path, 'board = "nano"\n[leds]\nmode = "onoff"\n' + bands)
        else:
            d = example(config)
        write_plan(render_project(d), tmp_path / "p")
        image = avrbuild.build(tmp_path / "p", cache=tmp_path / "cache")
        estimate, parts = estimate_ram(d)
        assert abs(estimate - image.ram) <= 16, f"estimate {estimate} {parts}, avr-size {image.ram}"
