"""designer/avrbuild.py: the generated Uno/Nano projects build with Debian's avr-gcc and the
Arduino AVR core, fit the ATmega328P budgets, keep Timer1/Timer2 free, and are cached."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, require_path, require_tool

from designer import avrbuild
from designer.config import load_config
from designer.design import make_design
from designer.outfiles import write_plan
from designer.render import render_project

FLASH_LIMIT = 16 * 1024
RAM_LIMIT = 1024
# ATmega328P vectors that would mean the firmware took a timer: Timer2 (7..9), Timer1 (10..13)
TIMER12_VECTORS = {f"__vector_{n}" for n in range(7, 14)}


@pytest.fixture(scope="module")
def toolchain():
    require_tool("avr-gcc", "avr-g++", "avr-gcc-ar", "avr-size", "avr-objcopy", "avr-nm")
    require_path(avrbuild.ARDUINO_AVR / "cores" / "arduino", "Arduino AVR core (arduino-core-avr)")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("avrcache")


def project_for(config: Path, out: Path) -> Path:
    write_plan(render_project(make_design(load_config(config))), out)
    return out


def nano_config(tmp_path: Path) -> Path:
    """The classic bands on a Nano, on/off LEDs on plain digital pins, audio on A7."""
    text = (ROOT / "examples" / "classic.toml").read_text()
    text = text.replace('board = "uno"', 'board = "nano"').replace('pin = "A0"', 'pin = "A7"')
    text = text.replace('mode = "pwm"', 'mode = "onoff"')
    for old, new in (("led_pin = 9", "led_pin = 2"), ("led_pin = 10", "led_pin = 4"),
                     ("led_pin = 11", "led_pin = 7")):
        text = text.replace(old, new)
    path = tmp_path / "nano.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("example", ["classic", "learned", "resonator", "nano"])
def test_example_fits_atmega328p(toolchain, cache, tmp_path, example):
    config = nano_config(tmp_path) if example == "nano" else ROOT / "examples" / f"{example}.toml"
    image = avrbuild.build(project_for(config, tmp_path / "p"), cache=cache)
    assert image.elf.exists() and image.hex.exists()
    assert 0 < image.flash <= FLASH_LIMIT, f"flash {image.flash} B"
    assert 0 < image.ram <= RAM_LIMIT, f"static RAM {image.ram} B"
    print(f"{example}: flash {image.flash} B, static RAM {image.ram} B")
    nm = subprocess.run(["avr-nm", str(image.elf)], capture_output=True, text=True,
                        check=True).stdout.splitlines()
    # unused vectors are weak aliases of __bad_interrupt: only strong text symbols are handlers
    handlers = {p[2] for p in (ln.split() for ln in nm) if len(p) == 3 and p[1] == "T"}
    assert "__vector_21" in handlers, "no ADC interrupt"
    assert not TIMER12_VECTORS & handlers, "the firmware took Timer1 or Timer2"
    assert image.hex.read_text().rstrip().endswith(":00000001FF")


def test_cached_by_content(toolchain, cache, tmp_path):
    project = project_for(ROOT / "examples" / "classic.toml", tmp_path / "p")
    first = avrbuild.build(project, cache=cache)
    again = avrbuild.build(project, cache=cache)
    assert again.cached and again.elf == first.elf and again.flash == first.flash
    main = project / "src" / "main.cpp"
    main.write_text(main.read_text() + "\nstatic int organ_extra_symbol;\n")
    changed = avrbuild.build(project, cache=cache)
    assert not changed.cached and changed.elf != first.elf


def test_compile_error_is_reported(toolchain, cache, tmp_path):
    project = project_for(ROOT / "examples" / "classic.toml", tmp_path / "p")
    (project / "src" / "main.cpp").write_text("#include <Arduino.h>\nvoid setup() { oops(); }\n")
    with pytest.raises(avrbuild.AvrBuildError, match="oops"):
        avrbuild.build(project, cache=cache)


def test_refuses_non_avr_project(tmp_path):
    project = project_for(ROOT / "examples" / "msgeq7.toml", tmp_path / "p")
    with pytest.raises(avrbuild.AvrBuildError, match="not an ATmega328P board"):
        avrbuild.project_env(project)


def test_refuses_missing_project(tmp_path):
    with pytest.raises(avrbuild.AvrBuildError, match="platformio.ini"):
        avrbuild.project_env(tmp_path)


def test_build_flags_come_from_platformio_ini(tmp_path):
    project = project_for(ROOT / "examples" / "resonator.toml", tmp_path / "p")
    env, board, flags = avrbuild.project_env(project)
    assert (env, board) == ("uno", "uno")
    assert "-DORGAN_MAX_BANDS=4" in flags
