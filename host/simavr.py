"""The real AVR firmware on a simulated ATmega328P: the ``simavr`` engine of simulated boards.

A design's generated Uno/Nano project is built by ``designer.avrbuild`` (Debian's avr-gcc and
Arduino core, PlatformIO's flags, cached) and its ELF runs in ``host/simavr_harness`` (C against
libsimavr, built on demand and cached by content hash like the native board). The harness serves
UART0 on a pty, feeds ADC0 from a sample stream and watches the LED pins and the interrupts; see
its ``options.c`` for the command line, ``probes.c`` and ``isr.c`` for what is measured and how.

The firmware's ADC interrupt works in pairs (``firmware_templates/src/main_avr.cpp.j2``): every
other conversion only keeps its sample, the next runs the DSP on both. The harness tells what
each interrupt did from the firmware's own memory (:class:`PairMap`: addresses from the ELF's
symbols and, for the application struct, from a probe compiled against the generated headers).

* :func:`start_board`: the simulated board behind ``designer sim-board DESIGN --engine simavr``
  and ``designer verify --sim simavr`` (called through ``host.simboard.start_simulated_board``);
* :func:`run_offline`: a run without a host: samples into ADC0 for a number of simulated seconds,
  then the LED pin log, the cycle statistics and the samples the DSP actually processed;
* :func:`prepare_firmware`: the built image and its :class:`PairMap`.

Times inside the simulation are CPU cycles at 16 MHz (``F_CPU``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from designer.errors import DesignerError

from .simboard import (
    DEFAULT_NOISE_DBFS,
    START_TIMEOUT,
    SimulatedBoard,
    audio_for_board,
    drain,
    first_line,
    link_board,
)

if TYPE_CHECKING:
    from designer.avrbuild import AvrImage
    from designer.design import Design

HERE = Path(__file__).resolve().parent
HARNESS_DIR = HERE / "simavr_harness"
HARNESS_SOURCES = ("main.c", "options.c", "bridge.c", "probes.c", "isr.c", "leds.c")
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
F_CPU = 16_000_000
ADC_VECTOR = 21
EEPROM_SIZE = 1024       # bytes, ATmega328P
IDLE_SPEED = 1.0         # an idle link runs the firmware in real time (see start_board)
STATS_TIMEOUT = 2.0      # seconds for a running harness to write its statistics
SRAM_SYMBOL_BASE = 0x800000  # avr-nm's address of data-space byte 0
APP_SYMBOL = re.compile(r"_ZL3app(\.lto_priv\.\d+)?$")  # main.cpp's static organ_app_t app
# offsets in organ_app_t, as the generated headers lay it out (sizes of the probe's arrays - 1)
LAYOUT_PROBE = """#include <stddef.h>
#include "organ_app.h"
const char organ_probe_tick[offsetof(organ_app_t, state.tick) + 1] = {0};
const char organ_probe_overruns[offsetof(organ_app_t, overruns) + 1] = {0};
"""


class SimavrError(DesignerError):
    """The simavr engine cannot run (missing tools, a design for another board, a crash)."""


def cache_dir() -> Path:
    base = os.environ.get("COLOR_ORGAN_CACHE") or Path.home() / ".cache" / "color-organ-designer"
    return Path(base) / "simavr"


def missing_tools() -> list[str]:
    """What the engine needs and cannot find (empty when all is there)."""
    from designer import avrbuild

    missing = [t for t in ("gcc", "pkg-config") if shutil.which(t) is None]
    if not missing and _pkg_config() is None:
        missing.append("libsimavr-dev / libelf-dev (pkg-config simavr simavrparts)")
    return missing + avrbuild.toolchain_missing()


def _pkg_config() -> list[str] | None:
    r = subprocess.run(["pkg-config", "--cflags", "--libs", "simavr", "simavrparts"],
                       capture_output=True, text=True)
    return r.stdout.split() if r.returncode == 0 else None


def build_harness() -> Path:
    """The harness executable, compiled once per content of its sources, flags and compiler."""
    flags = _pkg_config()
    if flags is None or shutil.which("gcc") is None:
        raise SimavrError("the simavr engine needs gcc, pkg-config, libsimavr-dev and libelf-dev "
                          "(apt install gcc pkg-config libsimavr-dev libelf-dev)")
    cc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout
    h = hashlib.sha256()
    for part in (cc, *CFLAGS, *flags):
        h.update(part.encode() + b"\0")
    for name in (*HARNESS_SOURCES, "harness.h"):
        h.update(name.encode() + b"\0" + (HARNESS_DIR / name).read_bytes() + b"\0")
    out = cache_dir() / f"simavr_harness-{h.hexdigest()[:24]}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        exe = Path(tmp) / "simavr_harness"
        cmd = ["gcc", *CFLAGS, f"-I{HARNESS_DIR}",
               *(str(HARNESS_DIR / s) for s in HARNESS_SOURCES), *flags, "-lelf", "-lutil",
               "-o", str(exe)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SimavrError(f"building the simavr harness failed:\n{r.stderr[-4000:]}")
        os.replace(exe, out)  # atomic: a parallel build of the same key writes the same bytes
    return out


def build_firmware(design: Design) -> AvrImage:
    """The design's generated PlatformIO project, built for its ATmega328P (cached)."""
    return prepare_firmware(design)[0]


def prepare_firmware(design: Design) -> tuple[AvrImage, PairMap | None]:
    """The built image (cached) and where its ADC interrupt keeps its state."""
    from designer import avrbuild
    from designer.outfiles import write_plan
    from designer.render import render_project

    if design.board.family != "avr":
        raise SimavrError(f"the simavr engine runs ATmega328P boards (uno, nano); this design is "
                          f"for {design.board.name}")
    with tempfile.TemporaryDirectory(prefix="organ-avr-") as tmp:
        write_plan(render_project(design), Path(tmp))
        try:
            image = avrbuild.build(Path(tmp))
        except avrbuild.AvrBuildError as e:
            raise SimavrError(str(e)) from None
        return image, firmware_map(image.elf, Path(tmp))


@dataclass(frozen=True)
class PairMap:
    """SRAM addresses (data space) of the paired ADC interrupt's state in one firmware image:
    ``organ_adc_phase`` and ``organ_adc_held`` (the interrupt's own), ``app.state.tick`` (grows
    with every sample the DSP runs on) and ``app.overruns`` (the firmware's overrun counter).
    ``tick``/``overruns`` are None when the layout is unknown (an ELF without its project): the
    harness then falls back to a cycle threshold for "the DSP ran"."""

    phase: int
    held: int
    tick: int | None = None
    overruns: int | None = None

    def arg(self) -> str:
        """The harness's ``--pair-map`` value."""
        addrs = [self.phase, self.held]
        if self.tick is not None and self.overruns is not None:
            addrs += [self.tick, self.overruns]
        return ",".join(f"0x{a:x}" for a in addrs)


def firmware_map(elf: Path, project: Path | None = None) -> PairMap | None:
    """The :class:`PairMap` of ``elf`` (None: a firmware without the paired interrupt); with
    the generated ``project`` it was built from, the application struct's fields too. Cached
    by the ELF's content."""
    data = elf.read_bytes()
    key = hashlib.sha256(data).hexdigest()[:24]
    cached = cache_dir() / f"pairmap-{key}.json"
    if cached.exists():
        doc = json.loads(cached.read_text())
        if doc is None or doc.get("tick") is not None or project is None:
            return None if doc is None else PairMap(**doc)
    syms = _data_symbols(elf)
    if "organ_adc_phase" not in syms or "organ_adc_held" not in syms:
        pmap = None
    else:
        app = next((a for n, a in syms.items() if APP_SYMBOL.match(n)), None)
        offsets = _app_offsets(project) if app is not None and project is not None else None
        pmap = PairMap(syms["organ_adc_phase"], syms["organ_adc_held"],
                       None if offsets is None else app + offsets["tick"],
                       None if offsets is None else app + offsets["overruns"])
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}")
    tmp.write_text(json.dumps(None if pmap is None else asdict(pmap)))
    os.replace(tmp, cached)
    return pmap


def _data_symbols(elf: Path) -> dict[str, int]:
    """name -> SRAM address of every data-space symbol of ``elf``."""
    out = subprocess.run(["avr-nm", "--defined-only", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    syms = {}
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "bBdD" and int(p[0], 16) >= SRAM_SYMBOL_BASE:
            syms[p[2]] = int(p[0], 16) - SRAM_SYMBOL_BASE
    return syms


def _app_offsets(project: Path) -> dict[str, int] | None:
    """Offsets of ``state.tick`` and ``overruns`` in the project's ``organ_app_t`` (compiled
    with its flags and headers); None when the probe does not compile."""
    from designer import avrbuild

    try:
        _, board, flags = avrbuild.project_env(project)
    except avrbuild.AvrBuildError:
        return None
    dirs = avrbuild._include_dirs(project)  # the firmware build's own include path
    with tempfile.TemporaryDirectory(prefix="organ-layout-") as tmp:
        src, obj = Path(tmp) / "probe.c", Path(tmp) / "probe.o"
        src.write_text(LAYOUT_PROBE)
        r = subprocess.run(["avr-gcc", "-c", f"-mmcu={avrbuild.MCU}", "-std=gnu11", "-Os",
                            f"-D{avrbuild.BOARDS[board][0]}", *flags,
                            *(f"-I{d}" for d in dirs), str(src), "-o", str(obj)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None
        nm = subprocess.run(["avr-nm", "-S", str(obj)], capture_output=True, text=True).stdout
    sizes = {p[3]: int(p[1], 16) for p in (line.split() for line in nm.splitlines())
             if len(p) == 4}
    try:
        return {k: sizes[f"organ_probe_{k}"] - 1 for k in ("tick", "overruns")}
    except KeyError:
        return None


def design_io(design: Design) -> tuple[int, list[int]]:
    """(ADC channel of the audio input, the LED pins) of an AVR design."""
    pin = int(design.config.get("input", {}).get("pin", 14))
    return pin - 14, [w.led_pin for w in design.wiring]


def noise_amplitude(noise_dbfs: float | None) -> int:
    """Uniform noise amplitude in int16 units for a level in dBFS (None: none)."""
    return 0 if noise_dbfs is None else max(0, int(round(32768 * 10 ** (noise_dbfs / 20))))


# ---- a board on a pty ---------------------------------------------------------------------------


@dataclass
class SimavrBoard(SimulatedBoard):
    """A running simavr board; :meth:`stats` reads its cycle statistics while it runs."""

    stats_path: Path | None = None
    elf: Path | None = None

    def stats(self) -> dict[str, Any]:
        """The harness's statistics now (see ``host/simavr_harness/main.c``), or after it ended."""
        if self.stats_path is None:
            return {}
        before = self.stats_path.stat().st_mtime_ns if self.stats_path.exists() else 0
        if self.running:
            self.process.send_signal(signal.SIGUSR1)
            end = time.monotonic() + STATS_TIMEOUT
            while time.monotonic() < end:
                if self.stats_path.exists() and self.stats_path.stat().st_mtime_ns != before:
                    break
                time.sleep(0.01)
        try:
            return json.loads(self.stats_path.read_text())
        except (OSError, ValueError):
            return {}


def start_board(
    design: Design,
    *,
    link: str | Path | None = None,
    input_wav: str | Path | None = None,
    storage: str | Path | None = None,
    noise_dbfs: float | None = DEFAULT_NOISE_DBFS,
    speed: float = 0.0,
    idle_speed: float = IDLE_SPEED,
    uart_ideal: bool = False,
    seed: int = 1,
) -> SimavrBoard:
    """Build the firmware and the harness, start the board; returns once its pty is up.

    ``storage``: the EEPROM image file (kept across runs; a temporary one when None).
    ``input_wav``: the microphone (looped), else silence plus noise at ``noise_dbfs``.
    ``speed``: at most this many times real time while a command or its reply is on the link
    (0: as fast as this machine can, about 6x), ``idle_speed`` otherwise: at 1.0 the firmware's
    clock keeps pace with the host's timeouts while the host computes or waits (PROCESS holds
    live audio for 2 s of firmware time: a faster idle clock would let live audio resume between
    blocks the host still means to continue). ``uart_ideal``: no receive overruns (simavr's
    64-byte FIFO instead of the chip's two bytes)."""
    missing = missing_tools()
    if missing:
        raise SimavrError("the simavr engine needs " + ", ".join(missing))
    image, pmap = prepare_firmware(design)
    exe = build_harness()
    channel, pins = design_io(design)
    tmp = tempfile.TemporaryDirectory(prefix="organ-simavr-")
    work = Path(tmp.name)
    storage_path = Path(storage) if storage else work / "eeprom.bin"
    cmd = [str(exe), str(image.elf), "--pty", "--watch-stdin", "--storage", str(storage_path),
           "--storage-size", str(EEPROM_SIZE), "--adc-channel", str(channel),
           "--led-pins", ",".join(map(str, pins)), "--stats", str(work / "stats.json"),
           "--noise", str(noise_amplitude(noise_dbfs)), "--seed", str(seed),
           "--speed", repr(float(speed)), "--idle-speed", repr(float(idle_speed))]
    if pmap is not None:
        cmd += ["--pair-map", pmap.arg()]
    if uart_ideal:
        cmd.append("--uart-ideal")
    if input_wav is not None:
        raw = work / "input.raw"
        raw.write_bytes(audio_for_board(input_wav, design.sample_rate_hz).tobytes())
        cmd += ["--audio", str(raw)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    board = SimavrBoard(port="", storage=storage_path, process=proc, engine="simavr", _tmp=tmp,
                        stats_path=work / "stats.json", elf=image.elf)
    threading.Thread(target=drain, args=(proc.stderr, board._stderr), daemon=True).start()
    line = first_line(proc, START_TIMEOUT)
    if not line.startswith("PTY "):
        board.close()
        raise SimavrError(f"the simavr board did not start: {line or board.log()}")
    board.port = line[4:].strip()
    if link is not None:
        link_board(board, Path(link))
    return board


# ---- offline runs -------------------------------------------------------------------------------


@dataclass
class OfflineRun:
    """What a run without a host produced. ``events[pin]``: (cycles, levels) arrays of every
    change of the pin's level (PWM duty 0..255); ``marks``: sample index -> cycle of its
    conversion; ``processed``: the int16 samples the DSP ran on, in order, from boot (two per
    pair interrupt that ran it). The figures below cover the measured window (``warmup_s`` on),
    in cycles of the 16 MHz clock with interrupt entry and exit included (``isr.c``)."""

    stats: dict[str, Any]
    events: dict[int, tuple[np.ndarray, np.ndarray]]
    marks: dict[int, int]
    processed: np.ndarray
    fs: float
    stderr: str = ""
    led_pins: list[int] = field(default_factory=list)
    pair_map: PairMap | None = None

    def cycles_per_sample(self) -> float:
        """Own cycles of all ADC interrupts (those that keep a sample, run a pair, or drop one)
        per conversion: the mean CPU cost of one sample period."""
        n = self.stats["adc"]["conversions"]
        return self.stats["adc_all"]["sum"] / n if n else float("nan")

    def cpu_load(self) -> float:
        """The ADC interrupts' share of the CPU (:meth:`cycles_per_sample` / the period)."""
        return self.cycles_per_sample() * self.fs / F_CPU

    def cycles_per_processed_sample(self) -> float:
        """Cycles of the interrupts that kept or ran a sample per sample the DSP ran on: what a
        sample costs when it is not dropped (with overruns, :meth:`cycles_per_sample` also
        averages in the cheap dropped pairs and stays below the period)."""
        s, n = self.stats, self.stats["dsp_samples"]
        return (s["adc_store"]["sum"] + s["adc_dsp"]["sum"]) / n if n else float("nan")

    def overruns(self) -> int:
        """Samples of the window that never reached the DSP: two per pair interrupt minus those
        it ran on (= interrupts that kept a sample - interrupts that ran a pair, when every run
        takes both). Told from the firmware's DSP tick, independently of its overrun counter
        (:meth:`firmware_overruns`); the two differ only by live audio paused for PROCESS and
        the one sample dropped to realign the pairs after a PROCESS block of odd length."""
        return int(self.stats["lost"])

    def firmware_overruns(self) -> int | None:
        """The firmware's own overrun counter over the window (None: not found in the ELF)."""
        fw = self.stats.get("firmware_overruns")
        return None if fw is None else int(fw["window"])

    def first_on(self, pin: int, after_cycle: int, before_cycle: int | None = None) -> int | None:
        """Cycle at which ``pin`` first turns on (level leaves 0) at or after ``after_cycle``."""
        cycles, levels = self.events.get(pin, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        prev = self.level_at(pin, after_cycle - 1)
        for c, v in zip(cycles, levels, strict=True):
            if c < after_cycle:
                continue
            if before_cycle is not None and c >= before_cycle:
                return None
            if v and not prev:
                return int(c)
            prev = v
        return None

    def level_at(self, pin: int, cycle: int) -> int:
        """The pin's level at ``cycle``."""
        cycles, levels = self.events.get(pin, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        i = int(np.searchsorted(cycles, cycle, side="right")) - 1
        return int(levels[i]) if i >= 0 else 0

    def lit_cycles(self, pin: int, start: int, end: int) -> int:
        """Cycles in [start, end) during which ``pin`` was lit."""
        cycles, levels = self.events.get(pin, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        edges = np.concatenate([[start], cycles[(cycles > start) & (cycles < end)], [end]])
        return int(sum(b - a for a, b in zip(edges[:-1], edges[1:], strict=True)
                       if self.level_at(pin, int(a)) > 0))


def profile_symbols(elf: Path) -> str:
    """"hexaddr hexsize name" of every function in ``elf`` (the harness's --profile input)."""
    out = subprocess.run(["avr-nm", "--defined-only", "-S", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tTwW" and int(p[1], 16) > 0:
            rows.append(f"{p[0]} {p[1]} {p[3]}")
    return "\n".join(rows) + "\n"


def run_offline(
    target: Design | Path,
    audio: np.ndarray | None,
    seconds: float,
    *,
    fs: float | None = None,
    marks: Sequence[int] = (),
    warmup_s: float = 0.0,
    profile: bool = False,
    noise: int = 0,
    timeout: float = 300.0,
) -> OfflineRun:
    """Run a design (built here) or an ELF for ``seconds`` of simulated time with ``audio`` (int16,
    one sample per conversion, not looped; silence after it) in ADC0; statistics count from
    ``warmup_s``. ``marks``: sample indices whose conversion cycle is wanted. For an ELF give
    ``fs``; the ADC channel is then 0 and the LED pins 9, 10, 11, 3, and without its project the
    harness tells a pair that ran the DSP by its cycles (:class:`PairMap`)."""
    if isinstance(target, Path):
        elf, channel, pins = target, 0, [9, 10, 11, 3]
        if fs is None:
            raise ValueError("fs is needed to run an ELF")
        pmap = firmware_map(elf)
    else:
        image, pmap = prepare_firmware(target)
        elf = image.elf
        channel, pins = design_io(target)
        fs = target.sample_rate_hz
    exe = build_harness()
    with tempfile.TemporaryDirectory(prefix="organ-simavr-run-") as tmp:
        work = Path(tmp)
        cmd = [str(exe), str(elf), "--seconds", repr(float(seconds)), "--adc-channel",
               str(channel), "--led-pins", ",".join(map(str, pins)), "--log",
               str(work / "log.txt"), "--stats", str(work / "stats.json"), "--processed",
               str(work / "processed.raw"), "--warmup", repr(float(warmup_s)), "--no-loop",
               "--noise", str(noise)]
        if audio is not None:
            (work / "in.raw").write_bytes(np.asarray(audio, dtype="<i2").tobytes())
            cmd += ["--audio", str(work / "in.raw")]
        if marks:
            cmd += ["--marks", ",".join(str(int(m)) for m in marks)]
        if pmap is not None:
            cmd += ["--pair-map", pmap.arg()]
        if profile:
            (work / "syms.txt").write_text(profile_symbols(elf))
            cmd += ["--profile", str(work / "syms.txt")]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise SimavrError(f"the simavr run failed ({r.returncode}): {r.stderr[-2000:]}")
        stats = json.loads((work / "stats.json").read_text())
        events, got_marks = _parse_log((work / "log.txt").read_text())
        processed = np.fromfile(work / "processed.raw", dtype="<i2")
    return OfflineRun(stats, events, got_marks, processed, fs, r.stderr, pins, pmap)


def _parse_log(text: str) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], dict[int, int]]:
    rows: dict[int, list[tuple[int, int]]] = {}
    marks: dict[int, int] = {}
    for line in text.splitlines():
        p = line.split()
        if p and p[0] == "P":
            rows.setdefault(int(p[2]), []).append((int(p[1]), int(p[3])))
        elif p and p[0] == "S":
            marks[int(p[2])] = int(p[1])
    events = {pin: (np.array([c for c, _ in r], np.int64), np.array([v for _, v in r], np.int64))
              for pin, r in rows.items()}
    return events, marks
