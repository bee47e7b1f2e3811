"""``designer plot`` and ``designer simulate``: the command functions (exit codes; bad input
raises DesignerError, which the CLI turns into exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from .commands import Progress as Spinner
from .commands import load_config_checked, print_json, stderr_console, stdout_console
from .errors import DesignerError
from .outfiles import atomic_write, check_out_dir, check_out_file


def _load(path: Path, console: Console, want_fits: bool) -> tuple[Any, dict[str, Any] | None]:
    """DESIGN: a config (designed afresh, plus its training fits when asked) or a design.json."""
    from .design import load_design_json, make_design

    if path.suffix.lower() != ".toml":
        return load_design_json(path), None
    cfg = load_config_checked(path, console)
    spinner = Spinner(console, quiet=not console.is_terminal)
    try:
        design = make_design(cfg, spinner)
        fits = None
        if want_fits and cfg.training is not None:
            from .plots_training import training_fits

            spinner("training histories for the plots")
            fits = training_fits(cfg)
    finally:
        spinner.close()
    return design, fits


def run_plot(args: Any) -> int:
    """``designer plot DESIGN [--out DIR]``: every picture of a design, as PNG files in DIR."""
    from . import plots

    console = stderr_console()
    out = Path(args.out)
    check_out_dir(out)  # before the design is made: a config may take minutes to learn
    design, fits = _load(Path(args.design), console, want_fits=True)
    pictures = plots.design_plots(design, fits)
    for name, data in pictures.items():
        _write_if_changed(out / name, data, "--out")
    console.print(f"{len(pictures)} pictures in {out}/: {', '.join(pictures)}", soft_wrap=True)
    return 0


def _write_if_changed(path: Path, data: bytes, option: str) -> None:
    """Write a picture atomically unless it is already there, byte for byte; a file-system
    failure the up-front check could not foresee still names the option and the file."""
    try:
        if path.is_file() and path.read_bytes() == data:
            return
        atomic_write(path, data)
    except OSError as e:
        reason = str(e.strerror or e).lower()
        raise DesignerError(f"{option}: cannot write {path} ({reason})") from None


def _progress_bar(console: Console, total_s: float):
    """A (callback, context) pair: a rich progress bar on stderr for long audio on a terminal."""
    from .simulate import PROGRESS_MIN_S

    if total_s < PROGRESS_MIN_S or not console.is_terminal:
        return None, None
    bar = Progress(TextColumn("simulating"), BarColumn(), TaskProgressColumn(),
                   TimeRemainingColumn(), console=console, transient=True)
    task = bar.add_task("simulate", total=1.0)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done / total)

    return update, bar


def _summary_table(sim: Any) -> Table:
    table = Table(title=f"LEDs over {sim.duration_s:,.2f} s at {sim.sample_rate_hz:,.2f} Hz")
    for col in ("band", "flashes", "on (s)", "on (%)", "first intervals (s)"):
        table.add_column(col)
    for i, name in enumerate(sim.band_names):
        iv = sim.intervals_s(i)
        first = ", ".join(f"{a:.3f}–{b:.3f}" for a, b in iv[:3]) + (" …" if len(iv) > 3 else "")
        on = sim.on_seconds(i)
        table.add_row(name, str(len(iv)), f"{on:.3f}", f"{100 * on / sim.duration_s:.1f}",
                      first or "–")
    return table


def run_simulate(args: Any) -> int:
    """``designer simulate DESIGN AUDIO.wav [--json] [--plot PNG]``."""
    from . import simulate
    from .datafiles import check_wav, read_wav

    console = stderr_console()
    if args.plot:
        check_out_file(Path(args.plot), "--plot")  # before minutes of simulation, not after
    check_wav(args.audio)  # the header, before a config is designed (that may take minutes)
    design, _ = _load(Path(args.design), console, want_fits=False)
    audio = read_wav(args.audio)
    update, bar = _progress_bar(console, audio.duration_s)
    if bar is not None:
        bar.start()
    try:
        sim = simulate.simulate_audio(design, audio, progress=update)
    finally:
        if bar is not None:
            bar.stop()
    if args.plot:
        from .plots_sim import simulation_png

        _write_if_changed(Path(args.plot), simulation_png(sim), "--plot")
        console.print(f"picture: {args.plot}")
    if args.json:
        print_json(sim.to_json())
    else:
        stdout_console().print(_summary_table(sim))
    return 0
