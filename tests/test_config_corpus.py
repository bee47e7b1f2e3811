"""The bad-config corpus: every case exits 2 with a message naming the key, with no traceback,
and writes nothing (run through ``designer build`` into an empty directory)."""


import pytest

from designer.cli import main

BAND = '[[bands]]\nname = "bass"\ntype = "lowpass"\ncutoff_hz = 800\n'
UNO = 'board = "uno"\n'


def band(**kv) -> str:
    lines = ["[[bands]]"]
    for k, v in kv.items():
        lines.append(f"{k} = {v}")
    return "\n".join(lines) + "\n"


def _lowpass_csv(cutoff_hz: float, fs: float = 19230.77) -> str:
    """|H| of a second-order Butterworth low-pass: data that describe no band-pass."""
    import numpy as np
    from scipy import signal

    f = np.geomspace(50, 8000, 25)
    _, h = signal.sosfreqz(signal.butter(2, cutoff_hz, output="sos", fs=fs), f, fs=fs)
    rows = (f"{a:.2f},{abs(v):.6f}\n" for a, v in zip(f, h, strict=True))
    return "frequency_hz,b\n" + "".join(rows)


_LOWPASS_800_CSV = _lowpass_csv(800.0)

# (case id, config text, files to create {name: text}, key path the message must name)
CASES = [
    ("no-board", BAND, {}, "board"),
    ("unknown-board", 'board = "mega"\n' + BAND, {}, "board"),
    ("board-wrong-type", "board = 1\n" + BAND, {}, "board"),
    ("no-bands", UNO, {}, "bands"),
    ("bands-not-tables", UNO + "bands = [1, 2]\n", {}, "bands"),
    ("empty-bands", UNO + "bands = []\n", {}, "bands"),
    ("rate-board-cannot-make", UNO + "sample_rate_hz = 16000\n" + BAND, {}, "sample_rate_hz"),
    ("rate-string", UNO + 'sample_rate_hz = "fast"\n' + BAND, {}, "sample_rate_hz"),
    ("esp32-rate-too-high", 'board = "esp32dev"\nsample_rate_hz = 96000\n' + BAND, {},
     "sample_rate_hz"),
    ("unknown-top-key", UNO + "colour = 3\n" + BAND, {}, "colour"),
    ("unknown-band-key", UNO + BAND + "cutof = 3\n", {}, "bands[0].cutof"),
    ("name-uppercase", UNO + band(name='"Bass"', type='"lowpass"', cutoff_hz=800), {},
     "bands[0].name"),
    ("name-c-injection", UNO + band(name='"x\\"; system(\\"rm\\"); //"', type='"lowpass"',
                                    cutoff_hz=800), {}, "bands[0].name"),
    ("name-comment-close", UNO + band(name='"a*/b"', type='"lowpass"', cutoff_hz=800), {},
     "bands[0].name"),
    ("name-newline-include", UNO + band(name='"a\\n#include <x>"', type='"lowpass"',
                                        cutoff_hz=800), {}, "bands[0].name"),
    ("name-too-long", UNO + band(name='"a234567890123456789"', type='"lowpass"', cutoff_hz=800),
     {}, "bands[0].name"),
    ("duplicate-names", UNO + BAND + BAND.replace("800", "900"), {}, "bands[1].name"),
    ("unknown-type", UNO + band(name='"b"', type='"notch"', cutoff_hz=800), {}, "bands[0].type"),
    ("unknown-filter", UNO + band(name='"b"', type='"lowpass"', filter='"cheby"', cutoff_hz=800),
     {}, "bands[0].filter"),
    ("cutoff-missing", UNO + band(name='"b"', type='"lowpass"'), {}, "bands[0].cutoff_hz"),
    ("cutoff-negative", UNO + band(name='"b"', type='"lowpass"', cutoff_hz=-5), {},
     "bands[0].cutoff_hz"),
    ("cutoff-above-045fs", UNO + band(name='"b"', type='"lowpass"', cutoff_hz=9000), {},
     "bands[0].cutoff_hz"),
    ("cutoff-huge", UNO + band(name='"b"', type='"lowpass"', cutoff_hz="1e300"), {},
     "bands[0].cutoff_hz"),
    ("cutoff-inf", UNO + band(name='"b"', type='"lowpass"', cutoff_hz="inf"), {},
     "bands[0].cutoff_hz"),
    ("cutoff-bool", UNO + band(name='"b"', type='"lowpass"', cutoff_hz="true"), {},
     "bands[0].cutoff_hz"),
    ("bandpass-inverted", UNO + band(name='"b"', type='"bandpass"', low_hz=4000, high_hz=1000),
     {}, "bands[0].high_hz"),
    ("rc-bandpass-too-narrow", UNO + band(name='"b"', type='"bandpass"', low_hz=1000,
                                          high_hz=2000), {}, "bands[0].high_hz"),
    ("order-on-rc", UNO + band(name='"b"', type='"lowpass"', cutoff_hz=800, order=2), {},
     "bands[0].order"),
    ("order-zero", UNO + band(name='"b"', type='"lowpass"', filter='"butterworth"',
                              cutoff_hz=800, order=0), {}, "bands[0].order"),
    ("odd-butterworth-bandpass", UNO + band(name='"b"', type='"bandpass"',
                                            filter='"butterworth"', low_hz=100, high_hz=200,
                                            order=3), {}, "bands[0].order"),
    ("resonator-both", UNO + band(name='"r"', type='"resonator"', center_hz=440,
                                  bandwidth_hz=10, pole_radius=0.99), {}, "bands[0].pole_radius"),
    ("resonator-neither", UNO + band(name='"r"', type='"resonator"', center_hz=440), {},
     "bands[0].bandwidth_hz"),
    ("resonator-unstable", UNO + band(name='"r"', type='"resonator"', center_hz=440,
                                      pole_radius=1.0), {}, "bands[0].pole_radius"),
    ("resonator-filter-key", UNO + band(name='"r"', type='"resonator"', filter='"rc"',
                                        center_hz=440, pole_radius=0.99), {}, "bands[0].filter"),
    ("resonator-too-wide", UNO + band(name='"r"', type='"resonator"', center_hz=440,
                                      bandwidth_hz=1000), {}, "bands[0].bandwidth_hz"),
    ("cutoff-on-resonator", UNO + band(name='"r"', type='"resonator"', center_hz=440,
                                       pole_radius=0.99, cutoff_hz=3), {}, "bands[0].cutoff_hz"),
    ("duplicate-pins", UNO + band(name='"a"', type='"lowpass"', cutoff_hz=800, led_pin=9)
     + band(name='"b"', type='"highpass"', cutoff_hz=5000, led_pin=9), {}, "bands[1].led_pin"),
    ("pin-not-pwm", UNO + band(name='"a"', type='"lowpass"', cutoff_hz=800, led_pin=4), {},
     "bands[0].led_pin"),
    ("pin-serial", UNO + 'leds = { mode = "onoff" }\n'
     + band(name='"a"', type='"lowpass"', cutoff_hz=800, led_pin=1), {}, "bands[0].led_pin"),
    ("pin-is-input", UNO + '[leds]\nmode = "onoff"\n'
     + band(name='"a"', type='"lowpass"', cutoff_hz=800, led_pin=14), {}, "bands[0].led_pin"),
    ("esp32-flash-pin", 'board = "esp32dev"\n' + band(name='"a"', type='"lowpass"',
                                                      cutoff_hz=800, led_pin=7), {},
     "bands[0].led_pin"),
    ("esp32-input-only-pin", 'board = "esp32dev"\n' + band(name='"a"', type='"lowpass"',
                                                           cutoff_hz=800, led_pin=35), {},
     "bands[0].led_pin"),
    ("esp32-adc2-input", 'board = "esp32dev"\n[input]\nkind = "adc"\npin = 25\n' + BAND, {},
     "input.pin"),
    ("avr-bad-input", UNO + '[input]\npin = "A7"\n' + BAND, {}, "input.pin"),
    ("too-many-pwm-bands", UNO + "".join(
        band(name=f'"b{i}"', type='"lowpass"', cutoff_hz=100 + i) for i in range(7)), {},
     "bands[6].led_pin"),
    ("capacitor-zero", UNO + "[analog]\ncapacitor_f = 0\n" + BAND, {}, "analog.capacitor_f"),
    ("e-series-unknown", UNO + '[analog]\ne_series = "E48"\n' + BAND, {}, "analog.e_series"),
    ("led-mode-unknown", UNO + '[leds]\nmode = "blink"\n' + BAND, {}, "leds.mode"),
    ("iir-without-data", UNO + band(name='"b"', type='"lowpass"', filter='"iir"'), {},
     "bands[0].filter"),
    ("data-missing", UNO + BAND + '[training]\ndata = "nope.csv"\nkind = "binary"\n', {},
     "training.data"),
    ("data-not-numeric", UNO + BAND + '[training]\ndata = "d.csv"\nkind = "magnitude"\n',
     {"d.csv": "frequency_hz,bass\n100,abc\n"}, "training.data"),
    ("data-nan", UNO + BAND + '[training]\ndata = "d.csv"\nkind = "magnitude"\n',
     {"d.csv": "frequency_hz,bass\n100,nan\n200,1\n"}, "training.data"),
    ("data-one-class", UNO + BAND + '[training]\ndata = "d.csv"\nkind = "binary"\n',
     {"d.csv": "frequency_hz,bass\n100,1\n200,1\n"}, "training.data"),
    ("data-unknown-column", UNO + BAND + '[training]\ndata = "d.csv"\nkind = "binary"\n',
     {"d.csv": "frequency_hz,bas\n100,1\n20000,0\n"}, "training.data"),
    ("data-ragged", UNO + BAND + '[training]\ndata = "d.csv"\nkind = "binary"\n',
     {"d.csv": "frequency_hz,bass\n100,1,3\n"}, "training.data"),
    ("data-empty", UNO + BAND + '[training]\ndata = "d.csv"\nkind = "binary"\n',
     {"d.csv": "# only a comment\n"}, "training.data"),
    ("kind-unknown", UNO + BAND + '[training]\ndata = "d.csv"\nkind = "labels"\n',
     {"d.csv": "frequency_hz,bass\n100,1\n"}, "training.kind"),
    ("iir-bandpass-data-of-a-lowpass",
     UNO + band(name='"b"', type='"bandpass"', filter='"iir"', order=2)
     + '[training]\ndata = "d.csv"\nkind = "magnitude"\n', {"d.csv": _LOWPASS_800_CSV}, "bands[0]"),
    ("toml-syntax", UNO + "bands = [[[\n", {}, "not valid TOML"),
    ("dsp-out-of-range", UNO + "[dsp]\nrelease_ms = 100000\n" + BAND, {}, "dsp.release_ms"),
    ("dsp-unknown", UNO + "[dsp]\nrelase_ms = 10\n" + BAND, {}, "dsp.relase_ms"),
]


@pytest.mark.parametrize("case_id,text,files,key", CASES, ids=[c[0] for c in CASES])
def test_bad_config_exits_2_naming_the_key(case_id, text, files, key, tmp_path, capsys):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    cfg = tmp_path / "organ.toml"
    cfg.write_text(text)
    out = tmp_path / "fw"
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["build", str(cfg), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert key in err, err
    assert "Traceback" not in err
    assert not out.exists(), "a refused build wrote files"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_corpus_is_big_enough():
    assert len(CASES) >= 30
