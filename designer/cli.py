"""The ``designer`` command line: argument parsing and exit codes, nothing else.

Exit codes: 0 ok, 1 verification failed, 2 bad input (config, data file, port, design).
With ``--json`` one JSON document goes to stdout and logs go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import DesignerError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DESIGN_HELP = ("a config (.toml), a build's design.json, or a build folder "
               "(its design.json is read)")


def design_arg(text: str) -> str:
    """DESIGN as given, except that a folder stands for the design.json a build wrote in it
    (``designer plot firmware``); a folder without one then gets the loader's clear "no such
    design file" rather than "Is a directory"."""
    return os.path.join(text, "design.json") if Path(text).is_dir() else text


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="designer",
        description="Color Organ Designer: a light organ description in, tested firmware out.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="learn, quantize, check and render the firmware project")
    b.add_argument("config", nargs="?", help="organ TOML (default: ./organ.toml, else classic)")
    b.add_argument("--out", default="firmware", help="project directory (default: firmware/)")
    b.add_argument("--json", action="store_true", help="print the design as JSON on stdout")
    b.add_argument("--force", action="store_true", help="overwrite hand-edited generated files")

    t = sub.add_parser("train", help="learn the filters and report, without rendering")
    t.add_argument("config", help="organ TOML")
    t.add_argument("--json", action="store_true", help="print the design as JSON on stdout")

    u = sub.add_parser("upload", help="PlatformIO upload of a built project")
    u.add_argument("dir", nargs="?", default="firmware", help="project directory")
    u.add_argument("--env", help="PlatformIO environment (default: the project's only one)")
    u.add_argument("--port", help="upload port")

    s = sub.add_parser("simulate", help="run a WAV file through the bit-exact firmware model")
    s.add_argument("design", type=design_arg, help=DESIGN_HELP)
    s.add_argument("audio", help="WAV file")
    s.add_argument("--json", action="store_true", help="print LED intervals as JSON")
    s.add_argument("--plot", metavar="PNG", help="draw waveform, envelopes and LED timeline")

    pl = sub.add_parser("plot", help="Bode, pole-zero, training and LED-table pictures")
    pl.add_argument("design", type=design_arg, help=DESIGN_HELP)
    pl.add_argument("--out", default="plots", help="output directory (default: plots/)")

    v = sub.add_parser("verify", help="check a board computes exactly what the design says")
    where = v.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or pyserial URL (socket://, loop://, a pty)")
    where.add_argument("--sim", choices=("native", "simavr"), help="start a simulated board")
    v.add_argument(
        "design",
        nargs="?",
        default="firmware/design.json",
        type=design_arg,
        help=DESIGN_HELP + " (default: firmware/design.json)",
    )
    v.add_argument("--json", action="store_true", help="print the report as JSON")

    m = sub.add_parser("monitor", help="live per-band levels from a board")
    m.add_argument(
        "design",
        nargs="?",
        type=design_arg,
        help="the board's design: " + DESIGN_HELP + " (optional: default firmware/design.json)",
    )
    m.add_argument("--port", required=True, help="serial port or pyserial URL")
    m.add_argument("--seconds", type=float, help="stop after N seconds")
    m.add_argument("--png", metavar="FILE", help="save a picture of the levels at the end")

    c = sub.add_parser("calibrate", help="measure the noise floor, set squelch and gain, save")
    c.add_argument(
        "design",
        nargs="?",
        type=design_arg,
        help="the board's design: " + DESIGN_HELP + " (optional: default firmware/design.json)",
    )
    c.add_argument("--port", required=True, help="serial port or pyserial URL")
    c.add_argument("--seconds", type=float, default=3.0, help="silence to measure (default 3 s)")
    c.add_argument("--json", action="store_true", help="print before/after as JSON")

    sb = sub.add_parser("sim-board", help="serve a simulated board on a pty")
    sb.add_argument("design", type=design_arg, help=DESIGN_HELP)
    sb.add_argument("--engine", choices=("native", "simavr"), default="native")
    sb.add_argument("--link", help="symlink the pty here (in an existing folder)")
    sb.add_argument("--input", metavar="AUDIO.wav", help="audio standing in for the microphone")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``designer`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    from . import commands

    handler = getattr(commands, "cmd_" + args.command.replace("-", "_"))
    try:
        return int(handler(args) or EXIT_OK)
    except DesignerError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except OSError as e:
        # a file-system mistake no command foresaw: one line and "bad input", never a traceback
        # (whose exit code 1 would read as "verification failed")
        print(f"error: {os_error_text(e)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def os_error_text(e: OSError) -> str:
    """``path: no such file or directory`` from an OSError, without ``[Errno 2]`` noise."""
    reason = (e.strerror or str(e) or type(e).__name__).lower()
    names = [str(n) for n in (e.filename, e.filename2) if n is not None]
    return f"{' -> '.join(names)}: {reason}" if names else reason


if __name__ == "__main__":
    sys.exit(main())
