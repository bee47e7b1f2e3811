"""designer.report_analog: anti-alias RC, microphone bias, LED and MOSFET drive values."""

from __future__ import annotations

import math

import pytest

from designer import analog
from designer import report_analog as ra


class TestAnalog:
    @pytest.mark.parametrize("fs", [16e6 / 832, 16e6 / 1664, 8000.0, 44100.0, 48000.0])
    @pytest.mark.parametrize("series", ["E12", "E24", "E96"])
    def test_anti_alias_sits_well_below_nyquist(self, fs, series):
        aa = ra.anti_alias(fs, series)
        assert 0.2 * fs <= aa.corner_hz <= 0.25 * fs
        assert aa.r_ohm <= ra.ADC_MAX_SOURCE_OHM
        assert aa.c_f >= 500 * ra.SH_CAPACITANCE_F
        assert aa.r_ohm == analog.snap(aa.r_ohm, series)  # a real part of the series
        assert aa.attenuation_db(fs / 2) < -6.0

    def test_snap_up(self):
        assert ra.snap_up(196.0, "E24") == 200.0
        assert ra.snap_up(200.0, "E24") == 200.0
        assert ra.snap_up(9.2, "E12") == 10.0
        assert ra.snap_up(3.2e-7, analog.CAPACITOR_SERIES) == pytest.approx(3.3e-7)

    def test_mic_bias_sits_mid_range(self):
        avr = ra.mic_bias("avr", "E24")
        assert avr.bias_v == pytest.approx(2.5)
        assert avr.highpass_hz <= ra.BIAS_HIGHPASS_HZ
        esp = ra.mic_bias("esp32", "E24")
        lo, hi = ra.ELECTRICAL["esp32"].adc_full_scale_v
        assert abs(esp.bias_v - 0.5 * (lo + hi)) < 0.1
        r_th = esp.r_top_ohm * esp.r_bottom_ohm / (esp.r_top_ohm + esp.r_bottom_ohm)
        assert esp.highpass_hz == pytest.approx(1 / (2 * math.pi * r_th * esp.c_couple_f))

    @pytest.mark.parametrize("n", [1, 3, 8, 12])
    def test_led_currents_respect_the_avr_limits(self, n):
        pins = [(f"b{i}", f"D{i + 2}", "#ff0000") for i in range(n)]
        drives = ra.led_drives("avr", pins, "E24")
        assert all(d.current_a <= 0.015 + 1e-12 for d in drives)
        assert sum(d.current_a for d in drives) <= 0.150 + 1e-12
        assert all(d.current_a > 0.005 for d in drives)
        assert not any(d.needs_mosfet for d in drives)

    def test_led_resistor(self):
        (d,) = ra.led_drives("avr", [("bass", "D9", "#00ff00")], "E24")
        assert d.vf == 3.0 and d.r_ohm == 150.0  # (5 V − 3 V) / 15 mA = 133 Ω, snapped up
        assert d.current_a == pytest.approx((5.0 - 3.0) / d.r_ohm)
        (blue,) = ra.led_drives("esp32", [("b", "GPIO4", "#0000ff")], "E24")
        assert blue.needs_mosfet and blue.supply_v == 5.0
        assert blue.current_a == pytest.approx((5.0 - 3.1) / blue.r_ohm)
        assert blue.current_a <= ra.MOSFET_LED_A
        (red,) = ra.led_drives("esp32", [("r", "GPIO4", "#ff0000")], "E24")
        assert not red.needs_mosfet and red.supply_v == 3.3 and red.current_a <= 0.010

    @pytest.mark.parametrize("color,name", [("#ff0000", "red"), ("#ff8000", "orange"),
                                            ("#ffff00", "yellow"), ("#00ff00", "green"),
                                            ("#0000ff", "blue"), ("#ffffff", "white"),
                                            ("#8000ff", "violet"), ("#ff00ff", "pink")])
    def test_colour_names(self, color, name):
        got, vf = ra.led_forward_voltage(color)
        assert got == name and 1.8 <= vf <= 3.3

    @pytest.mark.parametrize("family", ["avr", "esp32"])
    def test_mosfet_gate_current_within_the_pin_rating(self, family):
        m = ra.mosfet_drive(family, "E24")
        assert m.gate_peak_a <= ra.ELECTRICAL[family].pin_recommended_a
        assert m.pulldown_ohm >= 10_000
