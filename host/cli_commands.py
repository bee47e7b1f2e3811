"""The host tool's CLI commands: ``verify``, ``monitor``, ``calibrate``, ``sim-board``.

Each ``run_*(args)`` returns the exit code: 0 pass, 1 verification failed (including "the board
runs another design"), 2 cannot talk to the board (no such port, no reply, a link too broken to
finish) or bad input. Bad designs raise ``DesignerError`` (the CLI prints it, exit 2). With
``--json`` one JSON document goes to stdout, logs to stderr.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from . import protocol as P
from .board import Board, DesignMismatchError, PortError, reset_style_for
from .board_errors import describe

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_TALK = 0, 1, 2


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _stdout() -> Console:
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=120)


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    sys.stdout.flush()


def _connector(port: str, baud: int, reset: str) -> Callable[[], Board]:
    return lambda: Board.open(port, baud=baud, reset=reset)  # type: ignore[arg-type]


def run_verify(args) -> int:
    """``designer verify (--port PORT | --sim ENGINE) [DESIGN] [--json]``."""
    from designer.design import load_design
    from designer.errors import DesignerError

    from .verify import BoardMismatchError, verify
    from .verify_report import print_report

    log = _stderr()
    try:
        design = load_design(args.design)
    except DesignerError as e:
        if args.json:  # the CLI prints the message; stdout still gets its one document
            _print_json(_failure_doc(None, str(e), EXIT_CANNOT_TALK))
        raise
    with ExitStack() as stack:
        if getattr(args, "sim", None):
            from .simboard import start_simulated_board

            log.print(f"starting a {args.sim} simulated board of design {design.hash[:12]}")
            sim = stack.enter_context(start_simulated_board(args.sim, design))
            connect = _connector(sim.port, design.board.baud, "none")
        else:
            connect = _connector(args.port, design.board.baud,
                                 reset_style_for(design.board.name))
        try:
            board = stack.enter_context(connect())
            report = verify(board, design, connect=connect, log=lambda m: log.print(m))
        except (DesignMismatchError, BoardMismatchError) as e:
            return _fail(args, design.hash, str(e), EXIT_FAILED, log)
        except P.ProtocolError as e:
            return _fail(args, design.hash, describe(e), EXIT_CANNOT_TALK, log)
    if args.json:
        _print_json(report)
    else:
        print_report(report, _stdout())
    return EXIT_OK if report["ok"] else EXIT_FAILED


def _failure_doc(design_hash: str | None, message: str, code: int) -> dict[str, Any]:
    """verify --json when no stage ran: every field DESIGN.md promises, empty, plus why."""
    return {"ok": False, "design_hash": design_hash,
            "bit_exact": {"samples": 0, "mismatches": 0}, "bands": [], "led_table": [],
            "led_bands": [],
            "error": message, "exit_code": code}


def _error(log: Console, message: str) -> None:
    """``error: message`` on one line: rich would wrap it at 80 columns when stderr is not a
    terminal, and read ``[...]`` in a port name or an OS message as markup."""
    log.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)


def _fail(args, design_hash: str, message: str, code: int, log: Console) -> int:
    _error(log, message)
    if getattr(args, "json", False):
        _print_json(_failure_doc(design_hash, message, code))
    return code


def _open_any(port: str, design_path: str | None) -> Board:
    """Open a board whose baud rate may not be known: the design's, else each board
    profile's in turn (500000 on AVR, the ESP32 profiles' own)."""
    from designer.boards import BOARDS

    if design_path:
        from designer.design import load_design

        d = load_design(design_path)
        return Board.open(port, baud=d.board.baud, reset=reset_style_for(d.board.name))
    bauds = sorted({b.baud for b in BOARDS.values()})
    for i, baud in enumerate(bauds):
        try:
            return Board.open(port, baud=baud)
        except PortError:
            raise
        except P.ProtocolError:
            if i == len(bauds) - 1:
                raise
    raise AssertionError("unreachable")


def run_monitor(args) -> int:
    """``designer monitor --port PORT [--seconds N] [--png FILE]``."""
    from .monitor import monitor

    log = _stderr()
    if args.png:  # refused now, not after the user watched the levels for minutes
        from designer.outfiles import check_out_file

        check_out_file(Path(args.png), "--png")
    try:
        with _open_any(args.port, getattr(args, "design", None)) as board:
            monitor(board, seconds=args.seconds, png=args.png, console=_stdout(),
                    design_path=getattr(args, "design", None))
    except P.ProtocolError as e:
        _error(log, describe(e))
        return EXIT_CANNOT_TALK
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def run_calibrate(args) -> int:
    """``designer calibrate --port PORT [--seconds N]``."""
    from .calibrate import calibrate, print_calibration

    log = _stderr()
    try:
        with _open_any(args.port, getattr(args, "design", None)) as board:
            result = calibrate(board, seconds=getattr(args, "seconds", None) or 3.0,
                               design_path=getattr(args, "design", None),
                               log=lambda m: log.print(m))
    except P.ProtocolError as e:
        _error(log, describe(e))
        return EXIT_CANNOT_TALK
    if getattr(args, "json", False):
        _print_json(result)
    else:
        print_calibration(result, _stdout())
    return EXIT_OK


def run_sim_board(args) -> int:
    """``designer sim-board DESIGN [--engine E] [--link PATH] [--input AUDIO.wav]``: serve a
    simulated board until interrupted. Its parameter image persists per design in the cache."""
    from designer.design import load_design

    from .levels import remember_design
    from .simboard import cache_dir, start_simulated_board

    log = _stderr()
    # the cheap checks first: a config DESIGN is designed afresh, which may take minutes
    if args.link:
        check_link(Path(args.link))
    if args.input:
        from designer.datafiles import check_wav

        check_wav(args.input)
    design = load_design(args.design)
    remember_design(design)  # so monitor and calibrate find its level scale by its hash
    storage = cache_dir() / f"eeprom-{design.hash[:16]}.bin"
    storage.parent.mkdir(parents=True, exist_ok=True)
    sim = start_simulated_board(args.engine, design, link=args.link, input_wav=args.input,
                                storage=storage)
    previous = signal.signal(signal.SIGTERM, _terminate)  # clean up the link on SIGTERM too
    try:
        print(sim.port, flush=True)
        mic = f"microphone {Path(args.input).name}" if args.input else "a silent microphone"
        log.print(f"simulated board ({args.engine}) of design {design.hash[:12]} on {sim.port}, "
                  f"{mic}; Ctrl-C stops it", soft_wrap=True)
        while sim.running:
            time.sleep(0.2)
        log.print(f"[bold red]the simulated board stopped:[/] {sim.log().strip()}")
        return EXIT_CANNOT_TALK
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)
        sim.close()


def check_link(link: Path) -> None:
    """Refuse (DesignerError naming --link) a link that cannot be made: its folder is missing
    or not writable, or the path is taken by something that is not a symlink (never replaced).
    A symlink already there is replaced: it is most likely an earlier sim-board's."""
    from designer.errors import DesignerError

    folder = link.parent
    try:
        if link.exists() and not link.is_symlink():
            raise DesignerError(f"--link {link}: exists and is not a symlink; not replaced")
        if not folder.is_dir():
            what = "is not a directory" if folder.exists() else "does not exist"
            raise DesignerError(f"--link {link}: its folder {folder} {what}")
    except OSError as e:
        reason = str(e.strerror or e).lower()
        raise DesignerError(f"--link {link}: cannot be used ({reason})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DesignerError(f"--link {link}: its folder {folder} is not writable")


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt
