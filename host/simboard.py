"""Simulated boards: the firmware's own C code compiled for the host and served on a pty.

The native engine builds ``host/native_board/sim_board.c`` (the pty, the storage file, the
real-time "microphone") with an application: for a design, the firmware's ``organ_app`` with
``organ_link``, ``organ_dsp`` and the design tables from ``designer.ctables`` (the same text the
firmware's ``organ_design.h`` holds); for tests of the link alone, any implementation of
``tests/link_c/test_app.h``. Executables are cached by a hash of every input (sources, generated
tables, flags, compiler) in ``$COLOR_ORGAN_CACHE`` or ``~/.cache/color-organ-designer``, and
written atomically, so parallel processes can share the cache.

:func:`start_simulated_board` is the one entry point for every engine: ``native`` here,
``simavr`` in ``host/simavr.py`` (``start_board(design, link=..., input_wav=..., storage=...)``
returning a :class:`SimulatedBoard`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from designer import resources
from designer.errors import DesignerError
from designer.render import ENV_FRAC_BITS, Y_FRAC_BITS  # what the firmware's INFO says

if TYPE_CHECKING:
    from designer.design import Design
    from designer.qdesign import QuantizedDesign

HERE = Path(__file__).resolve().parent
NATIVE_DIR = HERE / "native_board"
ROOT = HERE.parent
LIB = resources.LIB
LINK_SOURCES = [LIB / "organ_link" / "organ_link.c", LIB / "organ_link" / "organ_store.c"]
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]
FLOAT_CFLAGS = ["-DORGAN_FLOAT", "-ffp-contract=off"]
STORAGE_SIZE = 1024       # bytes of simulated EEPROM / NVS
START_TIMEOUT = 10.0      # seconds for the simulated board to print its pty
STOP_TIMEOUT = 2.0        # seconds between SIGTERM and SIGKILL
DEFAULT_NOISE_DBFS = -66.0  # microphone floor of a board without --input (about 16 LSB)
ENGINES = ("native", "simavr")


def cache_dir() -> Path:
    """Where built executables are kept."""
    base = os.environ.get("COLOR_ORGAN_CACHE") or Path.home() / ".cache" / "color-organ-designer"
    return Path(base) / "simboard"


def _compiler_id(cc: str) -> str:
    try:
        return subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    except OSError:
        raise DesignerError(f"the native simulated board needs {cc} (apt install gcc)") from None


def build_executable(
    sources: Sequence[Path],
    generated: dict[str, str] | None = None,
    flags: Sequence[str] = (),
    include_dirs: Sequence[Path] = (),
    cc: str = "gcc",
) -> Path:
    """Compile ``sources`` plus ``generated`` files (name -> C text, written next to each other
    in the build folder, which is on the include path) into a cached executable; returns it."""
    generated = generated or {}
    h = hashlib.sha256()
    for part in (cc, _compiler_id(cc), *flags, *map(str, include_dirs)):
        h.update(part.encode() + b"\0")
    for src in sources:
        h.update(str(src).encode() + b"\0" + Path(src).read_bytes() + b"\0")
    for d in include_dirs:  # headers change the build too
        for hdr in sorted(Path(d).glob("*.h")):
            h.update(hdr.name.encode() + b"\0" + hdr.read_bytes() + b"\0")
    for name in sorted(generated):
        h.update(name.encode() + b"\0" + generated[name].encode() + b"\0")
    key = h.hexdigest()[:24]
    out = cache_dir() / f"sim_board-{key}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        gen = [Path(tmp) / name for name in generated]
        for path, name in zip(gen, generated, strict=True):
            path.write_text(generated[name], encoding="utf-8")
        c_files = [*sources, *(g for g in gen if g.suffix == ".c")]
        exe = Path(tmp) / "sim_board"
        cmd = [cc, *CFLAGS, *flags, f"-I{tmp}", *(f"-I{d}" for d in include_dirs),
               *map(str, c_files), "-lm", "-o", str(exe)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise DesignerError(f"building the native simulated board failed:\n{r.stderr[-4000:]}")
        os.replace(exe, out)  # atomic: a parallel build of the same key writes the same bytes
    return out


def build_for_test_app(app_sources: Sequence[Path], defines: Sequence[str] = ()) -> Path:
    """A simulated board running a ``tests/link_c/test_app.h`` application (no DSP, no design)."""
    link_c = ROOT / "tests" / "link_c"
    return build_executable(
        [NATIVE_DIR / "sim_board.c", NATIVE_DIR / "sim_app_testapp.c", *app_sources,
         *LINK_SOURCES],
        flags=list(defines),
        include_dirs=[NATIVE_DIR, LIB / "organ_link", link_c],
    )


def design_header(design: Design, tables: QuantizedDesign | None = None) -> str:
    """``sim_design.h``: the design tables (designer.ctables, as in the firmware's
    organ_design.h) and the identity INFO reports. ``tables`` compiles other tables under the
    design's identity: a board that claims the design but computes something else (tests)."""
    from designer import __version__
    from designer.ctables import c_comment, c_string, design_tables_c

    qd = tables or design.quantized
    digest = bytes.fromhex(design.hash)
    major, minor, patch = (int(v) for v in (__version__.split(".") + ["0", "0"])[:3])
    lines = [
        c_comment(f"native simulated board of design {design.hash}"),
        "#ifndef SIM_DESIGN_H",
        "#define SIM_DESIGN_H",
        '#include "organ_dsp.h"',
        "#define SIM_DESIGN_HASH {" + ", ".join(str(b) for b in digest) + "}",
        f"#define SIM_BOARD_NAME {c_string(design.board.name)}",
        f"#define SIM_FS_MILLIHZ {int(round(design.sample_rate_hz * 1000))}u",
        f"#define SIM_FW_MAJOR {major}u",
        f"#define SIM_FW_MINOR {minor}u",
        f"#define SIM_FW_PATCH {patch}u",
        f"#define SIM_Y_FRAC_BITS {Y_FRAC_BITS}u",
        f"#define SIM_ENV_FRAC_BITS {ENV_FRAC_BITS}u",
        design_tables_c(qd, name="organ_design"),
        "#endif",
        "",
    ]
    return "\n".join(lines)


def build_for_design(design: Design, tables: QuantizedDesign | None = None) -> Path:
    """A simulated board running ``design`` through the firmware's organ_app (``tables``: see
    :func:`design_header`)."""
    from designer.ctables import design_macros

    qd = tables or design.quantized
    flags = [f"-D{k}={v}" for k, v in design_macros(qd).items()]
    if qd.arithmetic == "float":
        flags += FLOAT_CFLAGS
    return build_executable(
        [NATIVE_DIR / "sim_board.c", NATIVE_DIR / "sim_app_organ.c",
         LIB / "organ_app" / "organ_app.c", LIB / "organ_dsp" / "organ_dsp.c", *LINK_SOURCES],
        generated={"sim_design.h": design_header(design, tables)},
        flags=flags,
        include_dirs=[NATIVE_DIR, LIB / "organ_app", LIB / "organ_dsp", LIB / "organ_link"],
    )


@dataclass
class SimulatedBoard:
    """A running simulated board: ``port`` is what to open (the pty, or ``link`` if given)."""

    port: str
    storage: Path
    process: subprocess.Popen | None = None
    link: Path | None = None
    engine: str = "native"
    _tmp: tempfile.TemporaryDirectory | None = None
    _stderr: list[str] = field(default_factory=list)
    _extra: list[Any] = field(default_factory=list)  # engine-specific things to close

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        """What the simulated board wrote to stderr so far."""
        return "".join(self._stderr)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the board process ends (``sim-board`` in the foreground)."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """The board vanishes at once (as a yanked cable): SIGKILL, no clean-up by the board."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)

    def close(self) -> None:
        """Stop the board (SIGTERM, then SIGKILL) and remove its link and temporary files."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        for extra in self._extra:
            extra.close()
        if self.process is not None and self.process.stdin:
            self.process.stdin.close()
        if self.link is not None and self.link.is_symlink():
            self.link.unlink()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SimulatedBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def audio_for_board(path: str | Path, fs: float) -> np.ndarray:
    """A WAV file as the board's microphone would deliver it: mono int16 at ``fs``."""
    from designer.datafiles import read_wav

    audio = read_wav(path)
    x = audio.samples.mean(axis=1)
    if abs(audio.rate_hz - fs) > 1e-6 * fs:
        from fractions import Fraction

        from scipy.signal import resample_poly

        ratio = Fraction(fs / audio.rate_hz).limit_denominator(1000)
        x = resample_poly(x, ratio.numerator, ratio.denominator)
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")


def run_native(
    exe: Path,
    *,
    fs: float,
    link: str | Path | None = None,
    audio: np.ndarray | None = None,
    storage: str | Path | None = None,
    noise_dbfs: float | None = DEFAULT_NOISE_DBFS,
    seed: int = 1,
) -> SimulatedBoard:
    """Start a built native board; returns once its pty is up and its HELLO has been sent.

    ``storage``: the EEPROM image file (kept across runs); a temporary one when None.
    ``audio``: int16 samples at ``fs`` standing in for the microphone (looped), else silence
    plus noise at ``noise_dbfs`` (None: none)."""
    tmp = tempfile.TemporaryDirectory(prefix="organ-sim-")
    storage_path = Path(storage) if storage else Path(tmp.name) / "eeprom.bin"
    cmd = [str(exe), "--storage", str(storage_path), "--storage-size", str(STORAGE_SIZE),
           "--fs", repr(float(fs)), "--watch-stdin", "--seed", str(seed)]
    if audio is not None:
        raw = Path(tmp.name) / "input.raw"
        raw.write_bytes(np.asarray(audio, dtype="<i2").tobytes())
        cmd += ["--audio", str(raw)]
    if noise_dbfs is not None:
        cmd += ["--noise", str(max(0, int(round(32768 * 10 ** (noise_dbfs / 20)))))]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    board = SimulatedBoard(port="", storage=storage_path, process=proc, _tmp=tmp)
    threading.Thread(target=drain, args=(proc.stderr, board._stderr), daemon=True).start()
    line = first_line(proc, START_TIMEOUT)
    if not line.startswith("PTY "):
        board.close()
        raise DesignerError(f"the native simulated board did not start: {line or board.log()}")
    board.port = line[4:].strip()
    if link is not None:
        link_board(board, Path(link))
    return board


def link_board(board: SimulatedBoard, link: Path) -> None:
    """Symlink ``link`` to the board's pty (replacing an earlier symlink, nothing else); on
    failure the board is stopped and the error names --link (no traceback, no stray process)."""
    try:
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            raise DesignerError(f"--link {link}: exists and is not a symlink; not replaced")
        link.symlink_to(board.port)
    except DesignerError:
        board.close()
        raise
    except OSError as e:
        board.close()
        raise DesignerError(f"--link {link}: cannot make the symlink "
                            f"({(e.strerror or str(e)).lower()})") from None
    board.link = link
    board.port = str(link)


def first_line(proc: subprocess.Popen, timeout: float) -> str:
    """The first line a board process prints on stdout ("PTY <path>"), or "" after ``timeout``
    seconds (read in a thread: a process that hangs before printing must not hang us)."""
    box: list[str] = []
    t = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return box[0] if box else ""


def drain(stream: Any, sink: list[str]) -> None:
    """Collect a process's stderr lines (for error messages) so its pipe never fills up."""
    for line in stream:
        sink.append(line)


def start_simulated_board(
    engine: str,
    design: Design,
    *,
    link: str | Path | None = None,
    input_wav: str | Path | None = None,
    storage: str | Path | None = None,
) -> SimulatedBoard:
    """Start a simulated board of ``engine`` running ``design``; use its ``port``, then
    ``close()`` it (or use it as a context manager)."""
    if engine == "native":
        # the audio first: a bad file is refused before a compile, not after
        audio = audio_for_board(input_wav, design.sample_rate_hz) if input_wav else None
        exe = build_for_design(design)
        return run_native(exe, fs=design.sample_rate_hz, link=link, audio=audio, storage=storage)
    if engine == "simavr":
        try:
            from . import simavr  # type: ignore[attr-defined]
        except ImportError:
            raise DesignerError("the simavr engine is not available in this build") from None
        return simavr.start_board(design, link=link, input_wav=input_wav, storage=storage)
    raise DesignerError(f"unknown simulation engine {engine!r}; known: {', '.join(ENGINES)}")


def have_compiler(cc: str = "gcc") -> bool:
    return shutil.which(cc) is not None
