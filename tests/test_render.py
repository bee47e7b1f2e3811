"""designer/render.py: every example renders a complete, deterministic PlatformIO project; config
strings never reach C unescaped; the ESP32 HAL compiles against the Arduino-ESP32 signatures."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, require_path, require_tool

from designer import ctables
from designer.config import load_config
from designer.design import make_design
from designer.errors import ConfigError
from designer.outfiles import banner_intact, write_plan
from designer.render import (
    LIB_DIRS,
    TEMPLATES,
    banner_text,
    library_files,
    render_project,
    template_context,
)

EXAMPLES = ["classic", "learned", "resonator", "msgeq7"]
GENERATED = ["platformio.ini", "src/main.cpp", "include/organ_design.h", "include/organ_board.h"]
STUBS = Path(__file__).parent / "hal_stubs" / "esp32"
FASTLED_STUB = Path(__file__).parent / "hal_stubs" / "fastled"
ARDUINO_AVR = Path("/usr/share/arduino/hardware/arduino/avr")
STRICT_C = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def design_of(name: str):
    return make_design(load_config(ROOT / "examples" / f"{name}.toml"))


def design_from_toml(tmp_path: Path, text: str, name: str = "organ.toml"):
    path = tmp_path / name
    path.write_text(text)
    return make_design(load_config(path))


@pytest.fixture(scope="module")
def examples():
    return {name: design_of(name) for name in EXAMPLES}


def include_flags(project: Path) -> list[str]:
    return [f"-I{project / 'include'}", *(f"-I{project / 'lib' / d}" for d in LIB_DIRS)]


def design_flags(design) -> list[str]:
    flags = [f"-D{k}={v}" for k, v in ctables.design_macros(design.quantized).items()]
    if design.quantized.arithmetic == "float":
        flags.append("-DORGAN_FLOAT")
    return flags


class TestProject:
    @pytest.mark.parametrize("name", EXAMPLES)
    def test_files(self, examples, name):
        plan = render_project(examples[name])
        libs = set(library_files())
        assert set(plan.files) == set(GENERATED) | libs | {"design.json"}
        for rel in GENERATED:
            assert banner_intact(plan.files[rel]) is True, rel
            assert examples[name].hash in plan.files[rel].split("\n", 3)[1]
        for rel in libs:
            src = TEMPLATES / rel
            assert plan.files[rel] == src.read_text(), f"{rel} is not a verbatim copy"
        assert plan.files["design.json"] == examples[name].to_json()

    def test_deterministic(self):
        a = render_project(design_of("classic")).files
        b = render_project(design_of("classic")).files
        assert a == b

    @pytest.mark.parametrize(
        "name",
        [
            "classic",
            "learned",
            "resonator",
            "msgeq7",
        ],
    )
    def test_no_absolute_paths(self, examples, name):
        for rel, text in render_project(examples[name]).files.items():
            assert str(ROOT) not in text, rel
            assert str(Path.home()) not in text, rel

    def test_main_per_family(self, examples):
        avr = render_project(examples["classic"]).files["src/main.cpp"]
        esp = render_project(examples["msgeq7"]).files["src/main.cpp"]
        assert "ISR(ADC_vect" in avr and "i2s_read" not in avr
        assert "i2s_read" in esp and "ISR(" not in esp

    def test_design_header_carries_provenance(self, examples):
        d = examples["classic"]
        text = render_project(d).files["include/organ_design.h"]
        for band in d.filters.bands:
            assert f"band {d.band_names.index(band.name)} {band.name}:" in text
            for row in band.sos.tolist():
                assert repr(float(row[0])) in text
        for r in d.filters.bands[0].resistors_ohm:
            assert f"{r:.6g}" in text
        assert ", ".join(f"0x{b:02x}" for b in bytes.fromhex(d.hash)[:8]) in text


class TestPlatformioIni:
    @pytest.mark.parametrize("name", EXAMPLES)
    def test_pio_project_config(self, examples, name, tmp_path):
        """`pio project config` parses every output (offline) and sees the env we meant."""
        require_tool("pio")
        d = examples[name]
        write_plan(render_project(d), tmp_path)
        r = subprocess.run(["pio", "project", "config", "-d", str(tmp_path), "--json-output"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        cfg = {sec: dict(opts) for sec, opts in json.loads(r.stdout)}
        env = cfg[f"env:{d.board.name}"]
        assert cfg["platformio"]["default_envs"] == [d.board.name]
        assert env["board"] == d.board.pio_board
        assert env["platform"] == d.board.pio_platform
        assert env["monitor_speed"] == d.board.baud
        assert "lib_deps" not in env
        flags = env["build_flags"]
        assert f"-DORGAN_MAX_BANDS={d.quantized.n_bands}" in flags
        assert ("-DORGAN_FLOAT" in flags) == (d.quantized.arithmetic == "float")
        assert ("-ffp-contract=off" in flags) == (d.quantized.arithmetic == "float")

    @pytest.mark.parametrize(
        "board,pio_board,platform",
        [("uno", "uno", "atmelavr@^5"), ("nano", "nanoatmega328", "atmelavr@^5"),
         ("esp32dev", "esp32dev", "espressif32@^6"),
         ("esp32c3", "esp32-c3-devkitm-1", "espressif32@^6")],
    )
    def test_boards(self, tmp_path, board, pio_board, platform):
        d = design_from_toml(tmp_path, f'board = "{board}"\n[[bands]]\nname = "bass"\n'
                                       'type = "lowpass"\ncutoff_hz = 500\n')
        ini = render_project(d).files["platformio.ini"]
        assert f"[env:{board}]\n" in ini
        assert f"board = {pio_board}\n" in ini
        assert f"platform = {platform}\n" in ini

    def test_fastled_only_with_strip(self, tmp_path):
        base = 'board = "uno"\n[[bands]]\nname = "bass"\ntype = "lowpass"\ncutoff_hz = 500\n'
        plain = render_project(design_from_toml(tmp_path, base)).files
        strip = render_project(design_from_toml(
            tmp_path, base + "[leds]\nstrip_pin = 4\nstrip_count = 12\n")).files
        assert "FastLED" not in plain["platformio.ini"] + plain["src/main.cpp"]
        assert "fastled/FastLED" in strip["platformio.ini"]
        assert "#define ORGAN_STRIP_COUNT 12" in strip["include/organ_board.h"]


class TestWiring:
    def test_avr_rates_and_channels(self, tmp_path):
        d = design_from_toml(tmp_path, 'board = "nano"\nsample_rate_hz = 9615.38\n'
                                       '[input]\npin = "A6"\n[leds]\nmode = "onoff"\n'
                                       '[[bands]]\nname = "bass"\ntype = "lowpass"\n'
                                       'cutoff_hz = 500\nled_pin = 7\n')
        board_h = render_project(d).files["include/organ_board.h"]
        assert "#define ORGAN_ADC_CHANNEL 6\n" in board_h
        assert "#define ORGAN_ADC_PRESCALER_BITS 7\n" in board_h  # /128
        assert "#define ORGAN_LED_ONOFF 1\n" in board_h
        assert "#define ORGAN_SOFT_RESTART 1\n" in board_h
        assert "    7, /* bass */" in board_h

    def test_default_rate_prescaler(self, examples):
        board_h = render_project(examples["classic"]).files["include/organ_board.h"]
        assert "#define ORGAN_ADC_PRESCALER_BITS 6\n" in board_h  # /64
        assert "#define ORGAN_SOFT_RESTART 0\n" in board_h

    def test_identity(self, examples):
        d = examples["msgeq7"]
        ctx = template_context(d)
        assert ctx["fs_millihz"] == 48_000_000
        assert ctx["float"] is True
        assert ctx["input"] == {"kind": "i2s", "sck": 32, "ws": 25, "sd": 33, "sph0645": 0,
                                "mic": "/* I2S microphone inmp441 */"}


HOSTILE = [
    'a"b',
    "x*/ int evil; /*",
    "line\nbreak",
    "#include <stdio.h>",
    "back\\slash",
    "tri??/graph",
    "\u00e9t\u00e9",
]


class TestHostileStrings:
    def test_config_refuses_names_aimed_at_c(self, tmp_path):
        for name in HOSTILE:
            esc = json.dumps(name)  # a TOML basic string takes JSON escapes
            path = tmp_path / "organ.toml"
            path.write_text(f'board = "uno"\n[[bands]]\nname = {esc}\ntype = "lowpass"\n'
                            "cutoff_hz = 500\n")
            with pytest.raises(ConfigError, match="C identifier"):
                load_config(path)

    def test_render_escapes_everything(self, examples, tmp_path):
        """Even strings that got past validation stay inside their literals and comments: the
        header compiles and the names read back byte for byte."""
        require_tool("gcc")
        d = examples["classic"]
        names = HOSTILE[: d.quantized.n_bands]
        qd = dataclasses.replace(
            d.quantized,
            bands=tuple(dataclasses.replace(b, name=n)
                        for b, n in zip(d.quantized.bands, names, strict=True)),
        )
        bands = tuple(dataclasses.replace(f, name=n)
                      for f, n in zip(d.filters.bands, names, strict=True))
        wiring = tuple(dataclasses.replace(w, name=n)
                       for w, n in zip(d.wiring, names, strict=True))
        evil = dataclasses.replace(
            d,
            config_name="cfg\n#error injected \\\n*/ x.toml",
            quantized=qd,
            filters=dataclasses.replace(d.filters, bands=bands),
            wiring=wiring,
        )
        plan = render_project(evil)
        for rel in GENERATED:
            lines = plan.files[rel].split("\n")
            assert lines[0].startswith(("// Generated", "; Generated")), rel
            assert not any(line.lstrip().startswith("#error injected") for line in lines)
            assert banner_intact(plan.files[rel]) is True
        write_plan(plan, tmp_path / "p")
        prog = tmp_path / "names.c"
        prog.write_text(
            '#include <stdio.h>\n#include "organ_design.h"\n#include "organ_board.h"\n'
            "int main(void) { int i; for (i = 0; i < ORGAN_N_BANDS; ++i) "
            'printf("%s%c", organ_design.band_names[i], 0); '
            "return organ_led_pins[0] == 0; }\n"
        )
        exe = tmp_path / "names"
        # The generated tables reference the core's generic kernels: link organ_dsp.c too.
        core = tmp_path / "p" / "lib" / "organ_dsp" / "organ_dsp.c"
        r = subprocess.run(["gcc", *STRICT_C, *design_flags(d), *include_flags(tmp_path / "p"),
                            str(prog), str(core), "-o", str(exe)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        out = subprocess.run([str(exe)], capture_output=True, check=True).stdout
        assert out.split(b"\0")[:-1] == [n.encode() for n in names]

    def test_banner_text(self):
        assert banner_text("a\nb\\c*/\u00e9") == "a_b_c*/_"


def esp32_variants(tmp_path: Path):
    """(label, design): the HAL's ESP32 configurations."""
    band = '[[bands]]\nname = "{n}"\ntype = "lowpass"\ncutoff_hz = {f}\nled_pin = {p}\n'
    two = band.format(n="bass", f=500, p=16) + band.format(n="mid", f=2000, p=17)
    yield "esp32dev-i2s-float", design_of("msgeq7")
    yield "esp32dev-adc", design_from_toml(
        tmp_path, 'board = "esp32dev"\n[input]\nkind = "adc"\npin = 34\n' + two, "adc.toml")
    yield "esp32dev-strip-onoff", design_from_toml(
        tmp_path, 'board = "esp32dev"\n[leds]\nmode = "onoff"\nstrip_pin = 4\n'
        "strip_count = 30\n" + two, "strip.toml")
    yield "esp32c3-fixed", design_from_toml(
        tmp_path, 'board = "esp32c3"\n[input]\nmic = "sph0645"\n'
        + band.format(n="bass", f=500, p=2) + band.format(n="mid", f=2000, p=3), "c3.toml")


class TestEsp32Hal:
    @pytest.mark.parametrize("core", [2, 3])
    def test_compiles_against_core_signatures(self, tmp_path, core):
        """g++ -fsyntax-only against stubs declaring exactly the Arduino-ESP32 2.0.x (or 3.x)
        signatures main.cpp uses: a call that does not match the core does not compile."""
        require_tool("g++")
        for label, d in esp32_variants(tmp_path):
            project = tmp_path / label
            write_plan(render_project(d), project)
            r = subprocess.run(
                ["g++", "-std=gnu++17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror",
                 f"-DSTUB_CORE_MAJOR={core}", *design_flags(d), f"-I{STUBS}", f"-I{FASTLED_STUB}",
                 *include_flags(project), str(project / "src" / "main.cpp")],
                capture_output=True, text=True,
            )
            assert r.returncode == 0, f"{label}, core {core}.x:\n{r.stderr}"

    def test_stubs_catch_a_wrong_call(self, tmp_path):
        """The check can fail: the 3.x LEDC call does not compile against the 2.0.x stubs."""
        require_tool("g++")
        src = tmp_path / "x.cpp"
        src.write_text('#include "Arduino.h"\nvoid f() { ledcAttach(4, 5000, 8); }\n')
        r = subprocess.run(["g++", "-fsyntax-only", f"-I{STUBS}", str(src)],
                           capture_output=True, text=True)
        assert r.returncode != 0


class TestAvrStripHal:
    def test_strip_variant_compiles(self, tmp_path):
        """The FastLED strip path of the AVR HAL against the real Arduino core (FastLED stubbed:
        its library is not installed here)."""
        require_tool("avr-g++")
        require_path(ARDUINO_AVR, "Arduino AVR core (arduino-core-avr)")
        d = design_from_toml(tmp_path, 'board = "uno"\n[leds]\nstrip_pin = 4\nstrip_count = 20\n'
                             '[[bands]]\nname = "bass"\ntype = "lowpass"\ncutoff_hz = 500\n')
        write_plan(render_project(d), tmp_path / "p")
        r = subprocess.run(
            ["avr-g++", "-mmcu=atmega328p", "-DF_CPU=16000000L", "-DARDUINO=10807",
             "-DARDUINO_AVR_UNO", "-DARDUINO_ARCH_AVR", "-std=gnu++11", "-fsyntax-only", "-Os",
             "-Wall", "-Werror", "-DDECIMAL_DIG=__DECIMAL_DIG__", *design_flags(d),
             f"-I{ARDUINO_AVR / 'cores' / 'arduino'}", f"-I{ARDUINO_AVR / 'variants' / 'standard'}",
             f"-I{FASTLED_STUB}", *include_flags(tmp_path / "p"),
             str(tmp_path / "p" / "src" / "main.cpp")],
            capture_output=True, text=True,
        )
        assert r.returncode == 0, r.stderr
