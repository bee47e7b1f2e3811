"""One function per CLI command. Each returns an exit code; bad input raises DesignerError."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from .errors import DesignerError
from .resources import EXAMPLES

BUNDLED_CONFIG = EXAMPLES / "classic.toml"


def stderr_console() -> Console:
    """Logs, tables for humans and progress go to stderr when stdout carries JSON."""
    return Console(stderr=True, highlight=False)


def stdout_console() -> Console:
    """Tables for humans; wide enough for the design tables even when piped."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=120)
    return console


def print_json(doc: Any) -> None:
    """The one JSON document of a ``--json`` run."""
    sys.stdout.write(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def default_config_path(given: str | None) -> Path:
    """CONFIG as given, else ./organ.toml, else the bundled classic organ."""
    if given:
        return Path(given)
    local = Path("organ.toml")
    if local.exists():
        return local
    if not BUNDLED_CONFIG.exists():
        raise DesignerError(f"no organ.toml here and the bundled {BUNDLED_CONFIG} is missing")
    return BUNDLED_CONFIG


class Progress:
    """A spinner with elapsed time on stderr, shown only when a stage runs over about a second."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console = console
        self.quiet = quiet
        self._status = None
        self._t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        if self._status is None:
            self._status = self.console.status(message)
            self._status.start()
        else:
            self._status.update(message)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def load_config_checked(path: Path, console: Console):
    """Validate the config; its warnings go to the console."""
    from .config import load_config

    cfg = load_config(path)
    for w in cfg.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    return cfg


def cmd_train(args) -> int:
    """``designer train CONFIG [--json]``: learn and report only."""
    from .filters import design_filters
    from .report_text import print_filters

    console = stderr_console()
    cfg = load_config_checked(Path(args.config), console)
    progress = Progress(console, quiet=not console.is_terminal)
    try:
        fset = design_filters(cfg, progress)
    finally:
        progress.close()
    if args.json:
        print_json(
            {
                "sample_rate_hz": fset.sample_rate_hz,
                "board": cfg.board.name,
                "bands": [b.to_dict() for b in fset.bands],
                "training": fset.training,
            }
        )
    else:
        print_filters(fset, stdout_console())
    return 0


def cmd_plot(args) -> int:
    """``designer plot DESIGN [--out DIR]``."""
    from .plot_cmd import run_plot

    return run_plot(args)


def cmd_simulate(args) -> int:
    """``designer simulate DESIGN AUDIO.wav [--json] [--plot PNG]``."""
    from .plot_cmd import run_simulate

    return run_simulate(args)


def cmd_build(args) -> int:
    """``designer build``: see designer/build_cmd.py."""
    from .build_cmd import run_build

    return run_build(args)


def cmd_upload(args) -> int:
    """``designer upload``: see designer/build_cmd.py."""
    from .build_cmd import run_upload

    return run_upload(args)


def cmd_verify(args) -> int:
    """``designer verify``: see host/cli_commands.py."""
    from host.cli_commands import run_verify

    return run_verify(args)


def cmd_monitor(args) -> int:
    """``designer monitor``: see host/cli_commands.py."""
    from host.cli_commands import run_monitor

    return run_monitor(args)


def cmd_calibrate(args) -> int:
    """``designer calibrate``: see host/cli_commands.py."""
    from host.cli_commands import run_calibrate

    return run_calibrate(args)


def cmd_sim_board(args) -> int:
    """``designer sim-board``: see host/cli_commands.py."""
    from host.cli_commands import run_sim_board

    return run_sim_board(args)
