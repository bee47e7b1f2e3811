"""Messages a user can act on: one root cause per problem, ``<config>: <key path>: <message>``
everywhere (validation and training alike), and training summaries without blanks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from designer.cli import main
from designer.config import load_config
from designer.errors import ConfigError
from designer.filters import design_filters
from designer.report_text import training_lines, training_summary

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "examples" / "learned_labels.csv"

LEARNED_BASS = 'board = "uno"\n[[bands]]\nname = "bass"\ntype = "lowpass"\n'


def write(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> Path:
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content)
    path = tmp_path / "organ.toml"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.messages


def training(data: str, kind: str) -> str:
    return f'[training]\ndata = "{data}"\nkind = "{kind}"\n'


def lowpass_magnitudes(cutoff_hz: float = 300.0) -> str:
    f = np.geomspace(50, 8000, 40)
    h = 1 / np.sqrt(1 + (f / cutoff_hz) ** 2)
    return "frequency_hz,bass\n" + "".join(f"{a:.3f},{b:.6f}\n" for a, b in zip(f, h, strict=True))


class TestTrainingSummary:
    def test_magnitude_training_has_no_label_bracket(self, tmp_path):
        cfg = load_config(write(tmp_path, LEARNED_BASS + training("m.csv", "magnitude"),
                                {"m.csv": lowpass_magnitudes()}))
        (line,) = training_lines(design_filters(cfg))
        assert line.startswith("bass: learned in ")
        assert "bracket" not in line and "edge at" not in line
        assert "  " not in line  # no blank value left behind

    def test_binary_training_says_where_each_edge_sits(self):
        lines = training_lines(design_filters(load_config(ROOT / "examples" / "learned.toml")))
        bass, mid, treble = lines
        assert bass.endswith("edge at 50 % of its label bracket (50 % = max margin)")
        assert "edges at 50 % and 50 % of their label brackets" in mid
        assert "  " not in bass + mid + treble

    def test_report_and_terminal_share_the_text(self):
        t = {"steps": 3, "seconds": 0.25, "final_loss": 1e-3, "bracket_positions": [0.5]}
        assert training_summary("bass", t) == (
            "bass: learned in 3 steps (0.25 s), final loss 0.001, edge at 50 % of its label "
            "bracket (50 % = max margin)")
        # REPORT.md leaves the time out (it must not change between builds)
        assert training_summary("bass", t, seconds=False).startswith(
            "bass: learned in 3 steps, final loss")

    def test_report_md_uses_the_shared_line(self, tmp_path):
        from designer.design import make_design
        from designer.report import design_section

        cfg = load_config(write(tmp_path, LEARNED_BASS + training("m.csv", "magnitude"),
                                {"m.csv": lowpass_magnitudes()}))
        design = make_design(cfg)
        lines = [x for x in design_section(design) if x.startswith("- bass")]
        assert lines == ["- " + training_summary("bass", design.filters.bands[0].training,
                                                 seconds=False)]


class TestOneRootCause:
    def test_butterworth_band_named_in_the_data(self, tmp_path):
        text = LEARNED_BASS + """[[bands]]
name = "mid"
type = "bandpass"
[[bands]]
name = "treble"
type = "highpass"
filter = "butterworth"
cutoff_hz = 3000
""" + training(str(LABELS), "binary")
        messages = problems_of(write(tmp_path, text))
        assert len(messages) == 1, messages
        assert messages[0].startswith("bands[2].filter: a butterworth band is designed")

    @pytest.mark.parametrize("name,content,kind,why", [
        ("nope.csv", None, "binary", "no such file"),
        ("empty.csv", "# only a comment\n", "binary", "empty"),
        ("one.csv", "frequency_hz,bass\n100,1\n200,1\n", "binary", "no bracket"),
        ("neg.csv", "frequency_hz,bass\n100,-1\n200,1\n", "magnitude", "must be >= 0"),
        ("head.csv", "freq,bass\n100,1\n200,0\n", "binary", "first column must be"),
    ])
    def test_unusable_data_does_not_require_the_learned_keys(self, tmp_path, name, content,
                                                            kind, why):
        files = {name: content} if content is not None else {}
        messages = problems_of(write(tmp_path, LEARNED_BASS + training(name, kind), files))
        assert len(messages) == 1, messages
        assert messages[0].startswith("training.data: ") and why in messages[0]

    def test_wav_with_too_few_columns(self, tmp_path):
        x = (np.random.default_rng(0).normal(size=(200, 2)) * 0.1).astype(np.float32)
        wavfile.write(tmp_path / "h.wav", 19231, x)
        text = """board = "uno"
[[bands]]
name = "a4"
type = "resonator"
[[bands]]
name = "low"
type = "lowpass"
filter = "iir"
[training]
data = "h.wav"
kind = "impulse"
columns = ["a4"]
"""
        assert problems_of(write(tmp_path, text)) == [
            "training.columns: 1 names for 2 WAV channel(s)"]

    def test_independent_errors_are_still_reported_together(self, tmp_path):
        text = (LEARNED_BASS + "led_pin = 4\n[[bands]]\nname = \"hi\"\ntype = \"highpass\"\n"
                + training("nope.csv", "binary"))
        keys = [m.split(":")[0] for m in problems_of(write(tmp_path, text))]
        assert keys == ["training.data", "bands[0].led_pin"]

    def test_known_columns_still_require_the_other_bands_keys(self, tmp_path):
        # the data is readable up to its values: 'bass' is learned, 'hi' is not and needs its key
        text = (LEARNED_BASS + "[[bands]]\nname = \"hi\"\ntype = \"highpass\"\n"
                + training("one.csv", "binary"))
        keys = [m.split(":")[0] for m in problems_of(
            write(tmp_path, text, {"one.csv": "frequency_hz,bass\n100,1\n200,1\n"}))]
        assert keys == ["training.data", "bands[1].cutoff_hz"]

    def test_column_of_an_invalid_band_is_not_called_unknown(self, tmp_path):
        text = LEARNED_BASS + "led_pin = 4\n" + training("m.csv", "magnitude")
        messages = problems_of(write(tmp_path, text, {"m.csv": lowpass_magnitudes()}))
        assert [m.split(":")[0] for m in messages] == ["bands[0].led_pin"]


class TestFormat:
    def test_contradicting_labels_name_the_file_and_key(self, tmp_path, capsys):
        f = np.geomspace(50, 8000, 40)
        y = np.zeros(40, int)
        y[[30, 33, 36]] = 1  # three stray "on" labels: the best low-pass is never on
        csv = "frequency_hz,bass\n" + "".join(f"{a:.3f},{b}\n" for a, b in zip(f, y, strict=True))
        cfg = write(tmp_path, LEARNED_BASS + training("c.csv", "binary"), {"c.csv": csv})
        assert main(["train", str(cfg)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: {cfg}: training.data: c.csv: column 'bass': no bracket: ")
        assert "3 of the 40 labels" in err and "Traceback" not in err

    def test_wav_at_another_rate_is_a_config_error(self, tmp_path):
        x = (np.random.default_rng(0).normal(size=200) * 0.1).astype(np.float32)
        wavfile.write(tmp_path / "h.wav", 44100, x)
        text = ('board = "uno"\n[[bands]]\nname = "a4"\ntype = "resonator"\n'
                + training("h.wav", "impulse") + 'columns = ["a4"]\n')
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, text))
        assert str(info.value).startswith(
            f"{tmp_path / 'organ.toml'}: training.data: h.wav: the impulse response is sampled "
            "at 44100 Hz, board uno runs at sample_rate_hz = 19230.77 Hz")

    def test_wav_rate_the_board_makes_is_suggested(self, tmp_path):
        x = (np.random.default_rng(0).normal(size=200) * 0.1).astype(np.float32)
        wavfile.write(tmp_path / "h.wav", 16000, x)
        text = ('board = "esp32dev"\n[[bands]]\nname = "a4"\ntype = "resonator"\n'
                + training("h.wav", "impulse") + 'columns = ["a4"]\n')
        (message,) = problems_of(write(tmp_path, text))
        assert message.endswith("or set sample_rate_hz = 16000")

    @pytest.mark.parametrize("kind,word", [("highpass", "always be lit"),
                                           ("lowpass", "never light")])
    def test_band_that_never_crosses_minus_3_db(self, tmp_path, kind, word):
        text = f'board = "uno"\n[[bands]]\nname = "b"\ntype = "{kind}"\ncutoff_hz = 0.001\n'
        cfg = load_config(write(tmp_path, text))
        with pytest.raises(ConfigError) as info:
            design_filters(cfg)
        assert str(info.value).startswith(f"{tmp_path / 'organ.toml'}: bands[0].cutoff_hz: ")
        assert word in str(info.value)

    def test_i2s_pins_that_clash(self, tmp_path):
        base = 'board = "esp32dev"\n[input]\n{}\n[[bands]]\nname = "b"\ntype = "lowpass"\n' \
               'cutoff_hz = 800\n'
        (message,) = problems_of(write(tmp_path, base.format("ws = 25\nsd = 25")))
        assert message == ("input.sd: GPIO25 is also input.ws: sck, ws and sd must be three "
                           "different pins")
        (message,) = problems_of(write(tmp_path, base.format("ws = 33")))
        assert message.startswith("input.ws: GPIO33 is also input.sd (the esp32dev default)")

    def test_limit_printed_apart_from_the_value(self, tmp_path):
        text = 'board = "uno"\n[[bands]]\nname = "b"\ntype = "lowpass"\ncutoff_hz = 8654\n'
        (message,) = problems_of(write(tmp_path, text))
        assert message.startswith("bands[0].cutoff_hz: 8654 Hz is above 0.45·fs = 8653.8 Hz "
                                  "for board uno at 19230.77 Hz")


class TestSampleRate:
    @pytest.mark.parametrize("board", ["esp32dev", "esp32c3"])
    def test_esp32_refuses_a_fractional_rate(self, tmp_path, board):
        text = (f'board = "{board}"\nsample_rate_hz = 44100.5\n[[bands]]\nname = "b"\n'
                'type = "lowpass"\ncutoff_hz = 800\n')
        (message,) = problems_of(write(tmp_path, text))
        assert message.startswith("sample_rate_hz: 44100.5 Hz is not a rate board")
        assert message.endswith("nearest: 44100 Hz")
        assert load_config(write(tmp_path, text.replace("44100.5", "44100"))).sample_rate_hz \
            == 44100.0


class TestDsp:
    def dsp(self, tmp_path, lines: str):
        text = ('board = "uno"\n[dsp]\n' + lines
                + '\n[[bands]]\nname = "b"\ntype = "lowpass"\ncutoff_hz = 800\n')
        return write(tmp_path, text)

    @pytest.mark.parametrize("value,stored", [("false", 0.0), ("true", 1.0), ("0", 0.0),
                                              ("1", 1.0)])
    def test_agc_is_a_switch(self, tmp_path, value, stored):
        assert load_config(self.dsp(tmp_path, f"agc = {value}")).dsp == {"agc": stored}

    @pytest.mark.parametrize("value", ["2", '"on"', "0.5"])
    def test_agc_refuses_other_values(self, tmp_path, value):
        (message,) = problems_of(self.dsp(tmp_path, f"agc = {value}"))
        assert message.startswith("dsp.agc: must be true or false")

    def test_whole_milliseconds_only(self, tmp_path):
        (message,) = problems_of(self.dsp(tmp_path, "hold_ms = 2.5"))
        assert message == "dsp.hold_ms: must be a whole number of ms, got 2.5"
        assert load_config(self.dsp(tmp_path, "hold_ms = 334.0")).dsp == {"hold_ms": 334.0}

    def test_other_numbers_are_not_switches(self, tmp_path):
        (message,) = problems_of(self.dsp(tmp_path, "gain = true"))
        assert message.startswith("dsp.gain: must be a number, got boolean")
