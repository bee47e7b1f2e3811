"""designer.simulate: WAV → board samples → host C core → LED intervals, and the CLI command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, require_tool
from scipy import signal
from wavs import FS_WAV, sine, write_wav

from designer import simulate
from designer.datafiles import Audio
from designer.design import load_design


@pytest.fixture(scope="module")
def classic():
    require_tool("gcc")  # the host build of the DSP core
    return load_design(ROOT / "examples" / "classic.toml")


def run(design, x: np.ndarray, fs: int = FS_WAV) -> simulate.Simulation:
    audio = Audio(Path("synthetic.wav"), float(fs), np.asarray(x, float).reshape(len(x), -1))
    return simulate.simulate_audio(design, audio)


def on_fraction(sim: simulate.Simulation, band: str, t0: float, t1: float) -> float:
    """Share of [t0, t1) during which the band's LED is on."""
    iv = sim.intervals[sim.band_names.index(band)] / sim.sample_rate_hz
    covered = sum(max(0.0, min(b, t1) - max(a, t0)) for a, b in iv)
    return covered / (t1 - t0)


class TestInputMapping:
    def test_avr_is_10_bit_shifted_by_6(self):
        m = simulate.input_mapping("avr", "adc")
        y = simulate.to_core_samples(np.array([-1.0, -0.5, 0.0, 0.5, 0.999999, 1.5, -2.0]), m)
        assert y.tolist() == [-32768, -16384, 0, 16384, 32704, 32704, -32768]
        assert np.all(simulate.to_core_samples(np.linspace(-1, 1, 999), m) % 64 == 0)

    def test_esp32_adc_is_12_bit_shifted_by_4(self):
        m = simulate.input_mapping("esp32", "adc")
        y = simulate.to_core_samples(np.linspace(-1, 1, 1001), m)
        assert np.all(y % 16 == 0) and y.min() == -32768 and y.max() == 32752

    def test_i2s_keeps_the_top_16_bits(self):
        m = simulate.input_mapping("esp32", "i2s")
        y = simulate.to_core_samples(np.array([-1.0, -1 / 65536, 0.0, 0.5, 1.0]), m)
        assert y.tolist() == [-32768, -1, 0, 16384, 32767]


class TestResample:
    def test_board_rate_ratio_is_exact(self):
        assert simulate.rate_ratio(44100, 16e6 / 64 / 13) == (2500, 5733)
        assert simulate.rate_ratio(48000, 48000) == (1, 1)
        assert simulate.rate_ratio(8000, 44100) == (441, 80)

    def test_tone_keeps_frequency_and_level(self):
        fs = 16e6 / 64 / 13
        y = simulate.resample(sine(1000.0, 1.0, 0.5), FS_WAV, fs)
        assert abs(y.size - fs) <= 2
        mid = y[2000:-2000]
        spec = np.abs(np.fft.rfft(mid * np.hanning(mid.size)))
        peak_hz = np.argmax(spec) * fs / mid.size
        assert abs(peak_hz - 1000.0) < 2.0
        assert np.max(np.abs(mid)) == pytest.approx(0.5, abs=0.005)

    def test_odd_rates_get_a_close_small_ratio(self):
        fs = 16e6 / 64 / 13
        up, down = simulate.rate_ratio(44101, fs)
        assert max(up, down) <= simulate.MAX_RATIO_TERM
        assert up / down * 44101 / fs == pytest.approx(1.0, abs=1e-7)
        with pytest.raises(simulate.DesignerError, match="positive"):
            simulate.rate_ratio(0, fs)


class TestFormats:
    @pytest.mark.parametrize("fmt,tol", [("int16", 2e-4), ("uint8", 1.2e-2), ("int24", 1e-4),
                                         ("int32", 1e-4), ("float32", 1e-4)])
    def test_every_sample_format_reaches_the_same_core_input(self, classic, tmp_path, fmt, tol):
        x = sine(300.0, 0.3, 0.7)
        wav = write_wav(tmp_path / f"t_{fmt}.wav", x, fmt)
        mapping = simulate.design_mapping(classic)
        ref = simulate.audio_to_core(
            Audio(wav, float(FS_WAV), x[:, None]), classic.sample_rate_hz, mapping)
        from designer.datafiles import read_wav

        got = simulate.audio_to_core(read_wav(wav), classic.sample_rate_hz, mapping)
        assert got.dtype == np.int16 and got.shape == ref.shape
        err = np.max(np.abs(got.astype(float) - ref.astype(float))) / 32768
        assert err <= tol + 64 / 32768  # plus one 10-bit ADC step

    @pytest.mark.parametrize("fmt", ["uint8", "int24", "float32"])
    def test_low_tone_lights_bass_in_any_format(self, classic, tmp_path, fmt):
        wav = write_wav(tmp_path / f"bass_{fmt}.wav", sine(100.0, 1.0), fmt)
        sim = simulate.simulate_wav(classic, wav)
        assert on_fraction(sim, "bass", 0.2, 1.0) == 1.0
        assert on_fraction(sim, "treble", 0.0, 1.0) == 0.0

    def test_stereo_is_mixed_to_mono(self, classic, tmp_path):
        left = sine(100.0, 0.5, 0.8)
        wav = write_wav(tmp_path / "st.wav", np.stack([left, np.zeros_like(left)], 1), "int16")
        from designer.datafiles import read_wav

        x = simulate.audio_to_core(read_wav(wav), classic.sample_rate_hz,
                                   simulate.design_mapping(classic))
        assert np.max(np.abs(x[500:])) / 32768 == pytest.approx(0.4, abs=0.01)


class TestBehaviour:
    def test_100hz_lights_only_bass(self, classic):
        # an abrupt start (no fade-in) and an abrupt stop at -6 dBFS: the LED follows within
        # 50 ms and is dark again within 100 ms of the stop
        sim = run(classic, np.concatenate([sine(100.0, 1.5), np.zeros(FS_WAV // 2)]))
        assert on_fraction(sim, "bass", 0.05, 1.5) == 1.0
        assert on_fraction(sim, "bass", 1.6, 2.0) == 0.0
        assert sim.intervals[sim.band_names.index("mid")].size == 0
        assert sim.intervals[sim.band_names.index("treble")].size == 0

    def test_6khz_lights_only_treble(self, classic):
        sim = run(classic, np.concatenate([sine(6000.0, 1.5), np.zeros(FS_WAV // 2)]))
        assert on_fraction(sim, "treble", 0.05, 1.5) == 1.0
        assert on_fraction(sim, "treble", 1.6, 2.0) == 0.0
        assert on_fraction(sim, "bass", 0.0, 2.0) == 0.0
        # the mid band (-5 dB at 6 kHz) stays dark at the tone's onset too: the transient rule
        # wants the band to rise more than the input did
        assert sim.intervals[sim.band_names.index("mid")].size == 0

    @pytest.mark.parametrize("level_db", [None, -70.0])
    def test_silence_lights_nothing(self, classic, level_db):
        n = FS_WAV
        x = np.zeros(n) if level_db is None else (
            10 ** (level_db / 20) * np.random.default_rng(3).standard_normal(n))
        sim = run(classic, x)
        assert all(iv.size == 0 for iv in sim.intervals)
        assert sim.to_json()["bands"][0]["led_on_intervals_s"] == []

    def test_noise_bursts_light_the_right_bands_at_the_right_times(self, classic):
        rng = np.random.default_rng(7)

        def burst(seconds: float, kind: str, corner_hz: float, peak: float) -> np.ndarray:
            sos = signal.butter(4, corner_hz, btype=kind, fs=FS_WAV, output="sos")
            y = signal.sosfilt(sos, rng.standard_normal(int(seconds * FS_WAV)))
            return peak * y / np.max(np.abs(y))

        low_peak = 10 ** (-1 / 20)
        high_peak = low_peak * 10 ** (-15 / 20)  # 15 dB quieter
        parts, events, t = [], [], 0.0
        gap = 0.8
        for _ in range(2):
            for name, kind, corner, peak in (("bass", "lowpass", 250.0, low_peak),
                                             ("treble", "highpass", 6500.0, high_peak)):
                parts.append(np.zeros(int(gap * FS_WAV)))
                t += gap
                parts.append(burst(0.3, kind, corner, peak))
                events.append((name, t, t + 0.3))
                t += 0.3
        parts.append(np.zeros(int(gap * FS_WAV)))
        sim = run(classic, np.concatenate(parts))
        other = {"bass": "treble", "treble": "bass"}
        for i, (band, t0, t1) in enumerate(events):
            assert on_fraction(sim, band, t0 + 0.03, t1) >= 0.9, (band, t0)
            assert on_fraction(sim, other[band], t0, t1) == 0.0, (band, t0)
            quiet_until = events[i + 1][1] if i + 1 < len(events) else sim.duration_s
            for b in sim.band_names:  # dark again well before the next burst
                assert on_fraction(sim, b, t1 + 0.45, quiet_until) == 0.0, (b, t1)


class TestRun:
    def test_block_boundaries_do_not_split_intervals(self, classic, monkeypatch):
        x = simulate.to_core_samples(
            simulate.resample(np.concatenate([sine(100, 0.4), np.zeros(20000), sine(6000, 0.4)]),
                              FS_WAV, classic.sample_rate_hz),
            simulate.design_mapping(classic))
        whole = simulate.run_samples(classic, x)
        monkeypatch.setattr(simulate, "BLOCK", 997)
        calls = []
        pieces = simulate.run_samples(classic, x, progress=lambda d, n: calls.append((d, n)))
        for a, b in zip(whole.intervals, pieces.intervals, strict=True):
            assert np.array_equal(a, b)
        assert np.array_equal(whole.trace_led, pieces.trace_led)
        assert len(calls) > 10 and calls[-1] == (x.size, x.size)

    def test_intervals_are_ordered_and_inside_the_audio(self, classic):
        sim = run(classic, np.concatenate([sine(100, 0.5), np.zeros(FS_WAV // 2)] * 2))
        for i in range(len(sim.band_names)):
            iv = sim.intervals_s(i)
            flat = [t for pair in iv for t in pair]
            assert flat == sorted(flat) and all(a < b for a, b in iv)
            assert not flat or (flat[0] >= 0 and flat[-1] <= sim.duration_s)
        assert len(sim.intervals_s(0)) == 2

    def test_tone_leds_follow_the_3db_rule_away_from_edges(self, classic):
        from designer.plots import TABLE_FREQS_HZ, near_edge

        freqs = list(TABLE_FREQS_HZ) + [100.0, 6000.0]
        got = simulate.tone_leds(classic, freqs)
        want = simulate.desired_leds(classic, freqs)
        scored = ~near_edge(classic, freqs)
        assert np.array_equal(got[scored], want[scored])
        assert want[:7, 0].sum() == 3  # 300, 500, 700 Hz lie below the 800 Hz bass edge
        assert want[7].tolist() == [True, False, False] and want[8].tolist() == [False, False, True]
