"""``designer build`` and ``designer upload``.

build: config -> learn + quantize (``design.make_design``) -> check (``check.check_design``) ->
render (``render.render_project``) -> write (``outfiles.write_plan``: atomic, change-only, refuses
hand-edited files without --force). Every refusal (an --out that cannot be a directory, bad
config, QuantizationError, BudgetError, HandEditError) happens before anything is written, and
exits with 2 through the CLI. ``outfiles.check_out_dir`` / ``check_out_file`` serve the other
commands that write (plot --out, simulate --plot, monitor --png) the same way.

upload: ``pio run -d DIR -e ENV -t upload [--upload-port PORT]`` with its output streamed. The two
failures a user meets first get one clear line and exit 2: PlatformIO cannot reach its registry
(the first build downloads the platform and toolchain), and no board on the port.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .errors import DesignerError
from .units import ARITHMETIC_NAMES

#: pio output that means the registry (or the internet) is out of reach
OFFLINE_PATTERNS = (
    r"could not resolve host",
    r"name or service not known",
    r"temporary failure in name resolution",
    r"failed to establish a new connection",
    r"max retries exceeded",
    r"network is unreachable",
    r"connection refused",
    r"read timed out",
    r"internetisoffline",
    r"httpclienterror",
    r"registry\.platformio\.org",
    r"could not find the package with",
)
#: pio/avrdude/esptool output that means no board answered
NO_BOARD_PATTERNS = (
    r"please specify .?upload_port",
    r"looking for upload port.*\n?.*error",
    r"ser_open\(\): can'?t open device",
    r"could not open port",
    r"no such file or directory: '?/dev/",
    r"stk500_recv\(\): programmer is not responding",
    r"stk500_getsync\(\).*not in sync",
    r"failed to connect to esp32",
    r"no serial data received",
    r"serial port .* not found",
)
TAIL_LINES = 200


def _next_command(out: Path, env: str) -> str:
    return f"pio run -d {out} -e {env} -t upload"


def run_build(args: Any) -> int:
    """``designer build [CONFIG] [--out DIR] [--json] [--force]``; returns the exit code."""
    from .check import check_design
    from .commands import Progress, default_config_path, load_config_checked, print_json
    from .design import make_design
    from .outfiles import check_out_dir, write_plan
    from .render import pio_env, render_project
    from .report import add_report

    out = Path(args.out)
    check_out_dir(out)  # before minutes of learning, and so that a refused build writes nothing
    console = Console(stderr=True, highlight=False) if args.json else _stdout_console()
    log = Console(stderr=True, highlight=False)
    cfg = load_config_checked(default_config_path(args.config), log)
    progress = Progress(log, quiet=not log.is_terminal)
    try:
        design = make_design(cfg, progress)
        progress("checking the budget")
        budget = check_design(design)
        progress("rendering")
        plan = render_project(design)
        progress("drawing the report")
        add_report(design, plan)
    finally:
        progress.close()
    try:
        result = write_plan(plan, out, force=args.force)
    except OSError as e:  # what the check above cannot foresee (a full disk, a race)
        raise DesignerError(f"--out {out}: cannot write {e.filename or 'the project'} "
                            f"({str(e.strerror or e).lower()})") from None
    env = pio_env(design.board)
    doc = design.summary()
    doc.update(
        budget=budget.to_dict(),
        out_dir=str(out),
        pio_env=env,
        files={"written": list(result.written), "unchanged": list(result.unchanged),
               "removed": list(result.removed)},
        next_command=_next_command(out, env),
    )
    if args.json:
        print_json(doc)
    else:
        _print_summary(console, design, budget, result, out, env)
    return 0


def _stdout_console() -> Console:
    from .commands import stdout_console

    return stdout_console()


def _print_summary(console: Console, design, budget, result, out: Path, env: str) -> None:
    board = design.board
    t = Table(title=f"{design.config_name} on {board.name}, fs = {design.sample_rate_hz:.2f} Hz "
                    f"({ARITHMETIC_NAMES[design.quantized.arithmetic]})")
    # quantized: the quantized coefficients' response against the float design; arithmetic:
    # the band measured as verify will measure the board (fixed point, designer/check_response.py)
    measured = budget.response_error_db
    cols = ["band", "type", "filter", "cutoffs Hz", "-3 dB edges Hz", "LED pin",
            "quantized error dB"] + (["arithmetic error dB"] if measured else [])
    for col in cols:
        t.add_column(col)
    report = design.quantized.report.get("bands", [])
    for i, (f, w) in enumerate(zip(design.filters.bands, design.wiring, strict=True)):
        err = report[i].get("max_error_db") if i < len(report) else None
        extra = [f"{measured[f.name]:.3f}" if f.name in measured else "-"] if measured else []
        t.add_row(
            f.name,
            f.type,
            f.filter,
            ", ".join(f"{c:.1f}" for c in f.cutoffs_hz),
            ", ".join(f"{e:.1f}" for e in f.edges_hz),
            board.pin_name(w.led_pin),
            f"{err:.3f}" if isinstance(err, int | float) else "-",
            *extra,
        )
    console.print(t)
    console.print(
        f"CPU: about {budget.cycles_per_sample:.0f} cycles per sample, {budget.cpu_load:.0%} of "
        f"the {budget.cycles_available:.0f}-cycle sample period (the budget is "
        f"{budget.cycles_budget:.0f}); "
        f"static RAM: about {budget.ram_bytes} of {budget.ram_budget_bytes} bytes"
    )
    if budget.cycles_measured is not None:
        load = budget.cycles_measured / budget.cycles_available
        style = "[yellow]" if load > 1 else ""
        console.print(
            f"{style}CPU as measured in simavr with the current DSP core: about "
            f"{budget.cycles_measured:.0f} cycles per sample ({load:.0%})"
            + ("; above 100 % the board drops samples (INFO reports them as overruns)"
               if load > 1 else "")
        )
    console.print(f"design sha256 {design.hash}")
    console.print(
        f"{out}: {len(result.written)} file(s) written, {len(result.unchanged)} unchanged"
        + (f", {len(result.removed)} no longer generated removed" if result.removed else "")
    )
    console.print(f"next: {_next_command(out, env)}")


def project_envs(project: Path) -> tuple[list[str], str | None]:
    """The ``[env:NAME]`` sections of ``project/platformio.ini`` and its default env."""
    ini = project / "platformio.ini"
    if not ini.is_file():
        raise DesignerError(f"{project}: no platformio.ini here; run designer build first")
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
    try:
        parser.read_string(ini.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error) as e:
        raise DesignerError(f"{ini}: not a readable platformio.ini ({e})") from None
    envs = [s.split(":", 1)[1] for s in parser.sections() if s.startswith("env:")]
    default = None
    if parser.has_option("platformio", "default_envs"):
        default = parser.get("platformio", "default_envs").split(",")[0].strip() or None
    return envs, default


def classify_failure(output: str) -> str | None:
    """'offline', 'no_board' or None for a failed pio run's output."""
    text = output.lower()
    if any(re.search(p, text) for p in OFFLINE_PATTERNS):
        return "offline"
    if any(re.search(p, text) for p in NO_BOARD_PATTERNS):
        return "no_board"
    return None


def run_upload(args: Any) -> int:
    """``designer upload [DIR] [--env ENV] [--port PORT]``; returns the exit code."""
    project = Path(args.dir)
    envs, default = project_envs(project)
    env = args.env or default or (envs[0] if len(envs) == 1 else None)
    if env is None:
        raise DesignerError(f"{project}/platformio.ini has several environments {envs}: "
                            "choose one with --env")
    if env not in envs:
        raise DesignerError(f"{project}/platformio.ini has no environment {env!r} "
                            f"(it has: {', '.join(envs) or 'none'})")
    pio = shutil.which("pio") or shutil.which("platformio")
    if pio is None:
        raise DesignerError("PlatformIO is not installed (pip install platformio)")
    cmd = [pio, "run", "-d", str(project), "-e", env, "-t", "upload"]
    if args.port:
        cmd += ["--upload-port", args.port]
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", bufsize=1)
    except OSError as e:
        raise DesignerError(f"cannot run {pio}: {e}") from None
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            tail.append(line)
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        raise
    if code == 0:
        return 0
    kind = classify_failure("".join(tail))
    if kind == "offline":
        raise DesignerError(
            "upload failed: PlatformIO cannot reach its registry (it downloads the "
            f"{env} platform and toolchain on first use); connect to the internet and retry"
        )
    if kind == "no_board":
        where = f"on {args.port}" if args.port else "on any serial port"
        raise DesignerError(f"upload failed: no board answered {where}; connect the board "
                            "(and give --port if there are several)")
    # exit 2, not 1: 1 means a board that failed verification (DESIGN.md's exit codes)
    print(f"error: upload failed (pio exited with {code}); see its output above",
          file=sys.stderr)
    return 2
