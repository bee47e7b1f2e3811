"""Build a generated Uno/Nano project with Debian's avr-gcc and the Arduino AVR core.

PlatformIO cannot reach its registry here, so this module compiles the same sources with the same
flags as PlatformIO's ``atmelavr`` Arduino environment: avr-gcc 5.4 (Debian ``gcc-avr``), the
Arduino AVR core 1.8.7 (Debian ``arduino-core-avr``), ``-Os``, LTO, ``-ffunction-sections
-fdata-sections`` and ``--gc-sections``, the project's ``build_flags`` from ``platformio.ini``.
The core is compiled once into an archive (so unused core files, with their interrupt vectors,
stay out of the image, as with PlatformIO's ``libFrameworkArduino.a``).

Results are cached by a content hash of every input (sources, headers, flags, compiler version)
in ``$COLOR_ORGAN_CACHE`` or ``~/.cache/color-organ-designer/avr/``: building the same project
twice costs a hash. Entries are written to a temporary directory and renamed into place, so
concurrent builds (pytest-xdist, two terminals) never see half an entry.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import DesignerError

ARDUINO_AVR = Path("/usr/share/arduino/hardware/arduino/avr")
ARDUINO_VERSION = "10807"
MCU = "atmega328p"
F_CPU = "16000000L"
# PlatformIO board id -> (ARDUINO_<board> define, Arduino variant folder)
BOARDS = {
    "uno": ("ARDUINO_AVR_UNO", "standard"),
    "nanoatmega328": ("ARDUINO_AVR_NANO", "eightanaloginputs"),
}
COMMON = [
    f"-mmcu={MCU}",
    f"-DF_CPU={F_CPU}",
    "-DARDUINO_ARCH_AVR",
    f"-DARDUINO={ARDUINO_VERSION}",
    "-Os",
    "-Wall",
    "-flto",
    "-ffunction-sections",
    "-fdata-sections",
    # avr-gcc 5.4's float.h lacks DECIMAL_DIG, which the C11/C++11 library headers expect
    "-DDECIMAL_DIG=__DECIMAL_DIG__",
]
C_FLAGS = ["-std=gnu11", "-fno-fat-lto-objects"]
CXX_FLAGS = ["-std=gnu++11", "-fno-exceptions", "-fno-threadsafe-statics", "-fpermissive"]
S_FLAGS = ["-x", "assembler-with-cpp"]
LINK_FLAGS = [f"-mmcu={MCU}", "-Os", "-flto", "-fuse-linker-plugin", "-Wl,--gc-sections"]
SOURCE_SUFFIXES = (".c", ".cpp", ".S")


class AvrBuildError(DesignerError):
    """The toolchain is missing, or the project does not compile or link."""


@dataclass(frozen=True)
class AvrImage:
    """A built firmware image. Sizes in bytes: ``flash`` = .text + .data, ``ram`` = .data +
    .bss (static RAM; the stack comes on top), ``sections`` as avr-size reports them."""

    elf: Path
    hex: Path
    flash: int
    ram: int
    sections: dict[str, int]
    cached: bool


def cache_dir() -> Path:
    """The designer's build cache root (``$COLOR_ORGAN_CACHE``, else ``~/.cache/...``)."""
    env = os.environ.get("COLOR_ORGAN_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "color-organ-designer"


def toolchain_missing() -> list[str]:
    """What this module needs and cannot find (empty when everything is there)."""
    missing = [t for t in ("avr-gcc", "avr-g++", "avr-gcc-ar", "avr-size", "avr-objcopy")
               if shutil.which(t) is None]
    if not (ARDUINO_AVR / "cores" / "arduino" / "Arduino.h").exists():
        missing.append(f"Arduino AVR core ({ARDUINO_AVR})")
    return missing


def project_env(project: Path, env: str | None = None) -> tuple[str, str, list[str]]:
    """(env name, PlatformIO board id, build_flags) of ``project/platformio.ini``."""
    ini = project / "platformio.ini"
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
    try:
        parser.read_string(ini.read_text(encoding="utf-8"))
    except (OSError, configparser.Error) as e:
        raise AvrBuildError(f"{ini}: cannot read ({e})") from None
    envs = [s.split(":", 1)[1] for s in parser.sections() if s.startswith("env:")]
    if env is None:
        if len(envs) != 1:
            raise AvrBuildError(f"{ini}: choose an environment among {envs}")
        env = envs[0]
    if env not in envs:
        raise AvrBuildError(f"{ini}: no [env:{env}] (has {envs})")
    sec = parser[f"env:{env}"]
    board = sec.get("board", "")
    if board not in BOARDS:
        raise AvrBuildError(f"{ini}: board {board!r} is not an ATmega328P board ({list(BOARDS)})")
    flags = shlex.split(sec.get("build_flags", ""))
    return env, board, flags


def _sources(project: Path) -> list[Path]:
    """src/ and every lib/<name>/ folder, as PlatformIO finds them (top level of each lib)."""
    files = sorted(p for p in (project / "src").rglob("*") if p.suffix in SOURCE_SUFFIXES)
    lib = project / "lib"
    if lib.is_dir():
        for d in sorted(p for p in lib.iterdir() if p.is_dir()):
            root = d / "src" if (d / "src").is_dir() else d
            files += sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES)
    return files


def _include_dirs(project: Path) -> list[Path]:
    dirs = [project / "include", project / "src"]
    lib = project / "lib"
    if lib.is_dir():
        for d in sorted(p for p in lib.iterdir() if p.is_dir()):
            dirs.append(d / "src" if (d / "src").is_dir() else d)
    return [d for d in dirs if d.is_dir()]


def _compiler_id() -> str:
    r = subprocess.run(["avr-gcc", "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.stdout else "avr-gcc ?"


def _run(cmd: Sequence[str], cwd: Path | None = None) -> None:
    r = subprocess.run(list(cmd), capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        raise AvrBuildError(f"{cmd[0]} failed:\n$ {shlex.join(cmd)}\n{r.stderr[-4000:]}")


def _compile(src: Path, obj: Path, includes: list[Path], defines: list[str],
             extra: Sequence[str] = ()) -> None:
    if src.suffix == ".cpp":
        tool, flags = "avr-g++", CXX_FLAGS
    elif src.suffix == ".S":
        tool, flags = "avr-gcc", S_FLAGS
    else:
        tool, flags = "avr-gcc", C_FLAGS
    inc = [f"-I{d}" for d in includes]
    _run([tool, "-c", *COMMON, *flags, *defines, *extra, *inc, str(src), "-o", str(obj)])


def _core_files() -> list[Path]:
    core = ARDUINO_AVR / "cores" / "arduino"
    return sorted(p for p in core.iterdir() if p.suffix in SOURCE_SUFFIXES)


def _digest(parts: Sequence[bytes]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def _core_archive(board: str, flags: list[str], root: Path) -> Path:
    """libcore.a of the Arduino core for this board and these build flags (cached)."""
    define, variant = BOARDS[board]
    files = _core_files()
    vdir = ARDUINO_AVR / "variants" / variant
    parts = [_compiler_id().encode(), board.encode(), json.dumps(flags).encode()]
    for p in [*files, *sorted((ARDUINO_AVR / "cores" / "arduino").glob("*.h")),
              vdir / "pins_arduino.h"]:
        parts += [p.name.encode(), p.read_bytes()]
    key = _digest(parts)
    out = root / f"core-{key[:24]}" / "libcore.a"
    if out.exists():
        return out
    includes = [ARDUINO_AVR / "cores" / "arduino", vdir]
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        t = Path(tmp)
        objs = []
        for f in files:
            obj = t / (f.name + ".o")
            _compile(f, obj, includes, [f"-D{define}", *flags], extra=["-w"])
            objs.append(str(obj))
        _run(["avr-gcc-ar", "rcs", str(t / "libcore.a"), *objs])
        _publish(t / "libcore.a", out)
    return out


def _publish(src: Path, dest: Path) -> None:
    """Move a finished file into the cache atomically (a concurrent writer may win: fine)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def _sizes(elf: Path) -> dict[str, int]:
    r = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def build(project: str | Path, env: str | None = None, cache: Path | None = None) -> AvrImage:
    """Compile and link the PlatformIO project at ``project`` for its ATmega328P environment.

    Returns the ELF/HEX paths (inside the cache) and the flash/RAM sizes. Raises
    :class:`AvrBuildError` when the toolchain is missing or the code does not build."""
    missing = toolchain_missing()
    if missing:
        raise AvrBuildError("cannot build for AVR: missing " + ", ".join(missing))
    project = Path(project)
    env, board, flags = project_env(project, env)
    define, variant = BOARDS[board]
    root = (cache or cache_dir()) / "avr"
    root.mkdir(parents=True, exist_ok=True)
    core = _core_archive(board, flags, root)
    sources = _sources(project)
    if not sources:
        raise AvrBuildError(f"{project}: no sources under src/ or lib/")
    includes = _include_dirs(project)
    headers = sorted(p for d in includes for p in d.rglob("*") if p.suffix in (".h", ".hpp"))
    parts = [_compiler_id().encode(), board.encode(), json.dumps(flags).encode(),
             core.read_bytes()]
    for p in [*sources, *headers]:
        parts += [str(p.relative_to(project)).encode(), p.read_bytes()]
    key = _digest(parts)
    out_dir = root / f"fw-{key[:24]}"
    elf, hexf = out_dir / "firmware.elf", out_dir / "firmware.hex"
    cached = elf.exists() and hexf.exists()
    if not cached:
        vdir = ARDUINO_AVR / "variants" / variant
        inc = [*includes, ARDUINO_AVR / "cores" / "arduino", vdir]
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            t = Path(tmp)
            objs = []
            for i, src in enumerate(sources):
                obj = t / f"{i:03d}_{src.name}.o"
                _compile(src, obj, inc, [f"-D{define}", *flags])
                objs.append(str(obj))
            _run(["avr-gcc", *LINK_FLAGS, "-o", str(t / "firmware.elf"), *objs, str(core), "-lm"])
            _run(["avr-objcopy", "-O", "ihex", "-R", ".eeprom", str(t / "firmware.elf"),
                  str(t / "firmware.hex")])
            _publish(t / "firmware.hex", hexf)
            _publish(t / "firmware.elf", elf)
    sec = _sizes(elf)
    return AvrImage(
        elf=elf,
        hex=hexf,
        flash=sec.get(".text", 0) + sec.get(".data", 0),
        ram=sec.get(".data", 0) + sec.get(".bss", 0),
        sections=sec,
        cached=cached,
    )
