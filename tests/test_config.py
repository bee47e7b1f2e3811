from pathlib import Path

import pytest

from designer.boards import UNO
from designer.config import load_config, parse_config
from designer.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

MINIMAL = """
board = "uno"
[[bands]]
name = "bass"
type = "lowpass"
cutoff_hz = 800
"""


def write(tmp_path: Path, text: str, name: str = "organ.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


class TestExamples:
    @pytest.mark.parametrize("name", ["classic", "learned", "resonator", "msgeq7"])
    def test_every_example_validates(self, name):
        cfg = load_config(EXAMPLES / f"{name}.toml")
        assert cfg.bands

    def test_classic_resolves_board_defaults(self):
        cfg = load_config(EXAMPLES / "classic.toml")
        assert cfg.board is UNO
        assert cfg.sample_rate_hz == pytest.approx(19230.77, abs=0.01)
        assert cfg.input.pin_name == "A0" and cfg.input.pin == 14
        assert [b.led_pin for b in cfg.bands] == [9, 10, 11]
        assert cfg.bands[1].given_cutoffs == (1000.0, 4000.0)

    def test_learned_loads_its_labels(self):
        cfg = load_config(EXAMPLES / "learned.toml")
        assert cfg.training is not None and cfg.training.kind == "binary"
        assert cfg.training.freqs_hz.shape == (1000,)
        assert set(cfg.training.columns) == {"bass", "mid", "treble"}
        assert cfg.bands[0].cutoff_hz is None  # left to training

    def test_msgeq7_uses_float_board_and_i2s(self):
        cfg = load_config(EXAMPLES / "msgeq7.toml")
        assert cfg.board.arithmetic == "float"
        assert cfg.input.kind == "i2s" and cfg.input.mic == "inmp441"
        assert len(cfg.bands) == 7 and all(b.order == 2 for b in cfg.bands)


class TestDefaults:
    def test_minimal_config_gets_every_default(self, tmp_path):
        cfg = load_config(write(tmp_path, MINIMAL))
        assert cfg.bands[0].filter == "rc"
        assert cfg.bands[0].led_pin == 9       # first free PWM pin
        assert cfg.analog.capacitor_f == 1e-6 and cfg.analog.e_series == "E24"
        assert cfg.leds.mode == "pwm"
        assert cfg.training is None

    def test_default_led_pins_avoid_explicit_ones(self, tmp_path):
        text = MINIMAL + '[[bands]]\nname = "hi"\ntype = "highpass"\ncutoff_hz = 5000\n'
        text += "led_pin = 9\n"
        cfg = load_config(write(tmp_path, text))
        assert [b.led_pin for b in cfg.bands] == [10, 9]

    def test_sample_rate_snaps_to_the_exact_board_rate(self, tmp_path):
        cfg = load_config(write(tmp_path, "sample_rate_hz = 9615.38\n" + MINIMAL))
        assert cfg.sample_rate_hz == 16e6 / 128 / 13

    def test_esp32_rate_and_default_i2s_pins(self, tmp_path):
        text = MINIMAL.replace('"uno"', '"esp32dev"') + "\n"
        cfg = load_config(write(tmp_path, "sample_rate_hz = 16000\n" + text))
        assert cfg.sample_rate_hz == 16000.0
        assert (cfg.input.sck, cfg.input.ws, cfg.input.sd) == (32, 25, 33)

    def test_butterworth_order_defaults(self, tmp_path):
        text = """board = "uno"
[[bands]]
name = "b"
type = "bandpass"
filter = "butterworth"
low_hz = 100
high_hz = 200
"""
        assert load_config(write(tmp_path, text)).bands[0].order == 4

    def test_strapping_pin_warns(self, tmp_path):
        text = MINIMAL.replace('"uno"', '"esp32dev"') + "led_pin = 2\n"
        cfg = load_config(write(tmp_path, text))
        assert any("strapping" in w for w in cfg.warnings)


class TestErrorsTogether:
    def test_all_problems_reported_at_once(self, tmp_path):
        text = """board = "uno"
sample_rate_hz = 20000
[analog]
capacitor_f = -1
[[bands]]
name = "Bass"
type = "lowpass"
cutoff_hz = 800
"""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, text))
        keys = [m.split(":")[0] for m in info.value.messages]
        assert keys == ["sample_rate_hz", "analog.capacitor_f", "bands[0].name"]
        assert "nearest: 19230.77" in info.value.messages[0]

    def test_unknown_key_did_you_mean(self, tmp_path):
        with pytest.raises(ConfigError, match=r"bands\[0\]\.cutof_hz: unknown key \(did you mean "
                           r"'cutoff_hz'\?\)"):
            load_config(write(tmp_path, MINIMAL + "cutof_hz = 3\n"))

    def test_missing_file(self, tmp_path):
        with pytest.raises(ConfigError, match="no such config file"):
            load_config(tmp_path / "nope.toml")

    def test_parse_config_takes_a_dict(self, tmp_path):
        cfg = parse_config({"board": "nano", "bands": [{"name": "x", "type": "highpass",
                                                         "cutoff_hz": 100.0}]}, tmp_path)
        assert cfg.board.name == "nano"


class TestTrainingData:
    def test_relative_to_config_folder(self, tmp_path):
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "m.csv").write_text("frequency_hz,bass\n10,1.0\n1000,0.6\n")
        text = MINIMAL + '[training]\ndata = "m.csv"\nkind = "magnitude"\n'
        cfg = load_config(write(tmp_path / "d", text))
        assert cfg.training.columns["bass"].tolist() == [1.0, 0.6]

    def test_wav_impulse_needs_columns(self, tmp_path):
        import numpy as np
        from scipy.io import wavfile

        wavfile.write(tmp_path / "h.wav", 19231, (np.random.default_rng(0).normal(size=100)
                                                   * 0.1).astype(np.float32))
        text = """board = "uno"
[[bands]]
name = "a4"
type = "resonator"
[training]
data = "h.wav"
kind = "impulse"
"""
        with pytest.raises(ConfigError, match=r"training\.columns: missing"):
            load_config(write(tmp_path, text))
        cfg = load_config(write(tmp_path, text + 'columns = ["a4"]\n'))
        assert cfg.training.sample_rate_hz == 19231.0
        assert cfg.training.columns["a4"].shape == (100,)
