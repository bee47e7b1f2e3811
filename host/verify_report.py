"""Human-readable output of ``designer verify`` (rich tables); the JSON is the report itself."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _mark(ok: bool) -> str:
    return "[green]pass[/]" if ok else "[bold red]FAIL[/]"


def print_report(report: dict[str, Any], console: Console) -> None:
    """Board, bit-exact summary, response per band, the LED table, the LED per band, the
    verdict."""
    b = report["board"]
    console.print(f"board [bold]{b['name']}[/] firmware {b['firmware']} at {b['fs_hz']:.3f} Hz, "
                  f"design {report['design_hash'][:12]}, parameters {b['params_status']}, "
                  f"overruns {b['overruns']}, bad frames {b['bad_frames']}")
    be = report["bit_exact"]
    console.print(f"bit-exact: {be['samples']} samples, {be['mismatches']} mismatching band "
                  f"records {_mark(be['ok'])}")
    for m in be["first_mismatch"]:
        console.print(f"  band {m['band']}: first difference at sample {m['sample']} of "
                      f"{m['segment']} ({m['field']}: board {m['board']}, oracle {m['oracle']})")

    t = Table(title="response (dB, relative to the designed passband)", title_justify="left")
    for col in ("band", "tones", "from Hz", "to Hz", "max error dB", ""):
        t.add_column(col, justify="right" if col not in ("band", "") else "left")
    for band in report["bands"]:
        f = band["freqs_hz"]
        t.add_row(band["name"], str(len(f)), f"{f[0]:.0f}", f"{f[-1]:.0f}",
                  f"{band['max_error_db']:.3f}", _mark(band["ok"]))
    console.print(t)

    rows = report["led_table"]
    tones = sorted({r["freq_hz"] for r in rows})
    console.print(_led_grid("LED table (on = ●, off = ○; * within 5 % of a -3 dB edge)", rows,
                            [(f"{f} Hz", f, None) for f in tones]))
    _print_led_bands(report, console)

    link = report.get("link", {})
    if link.get("faults"):
        kinds = ", ".join(f"{k} x{v}" for k, v in link["faults"].items())
        console.print(f"link faults survived: {kinds}; reconnects {link['reconnects']}, "
                      f"samples lost {link['lost_samples']}")
    if not report["parameters"]["restored"]:
        console.print("[yellow]warning:[/] the board's own parameters could not be restored")
    console.print(f"verify: {_mark(report['ok'])} ({report['seconds']:.1f} s)")


def _print_led_bands(report: dict[str, Any], console: Console) -> None:
    """The "LED per band" stage: one column per band's tone, headed by the band it is for."""
    rows = report.get("led_bands", [])
    tones = list(dict.fromkeys((r["tone_for"], r["freq_hz"]) for r in rows))
    if tones:
        console.print(_led_grid("LED per band (one tone where each band is on)", rows,
                                [(f"{b}\n{f:g} Hz", f, b) for b, f in tones]))
    for name in report.get("led_bands_untested", []):
        console.print(f"[yellow]warning:[/] no tone lights band {name} clearly: its LED was "
                      "not seen switching on")


def _led_grid(title: str, rows: list[dict[str, Any]],
              columns: list[tuple[str, float, str | None]]) -> Table:
    """Bands down, tones across (header, freq_hz, tone_for or None); desired and predicted."""
    t = Table(title=title, title_justify="left")
    t.add_column("band")
    t.add_column("")
    for header, _, _ in columns:
        t.add_column(header, justify="center")
    for band in dict.fromkeys(r["band"] for r in rows):
        mine = {(r["freq_hz"], r.get("tone_for")): r for r in rows if r["band"] == band}
        cells = [mine[(f, b)] for _, f, b in columns]
        t.add_row(band, "desired", *(_dot(r["desired"]) for r in cells))
        t.add_row("", "predicted", *(_cell(r) for r in cells))
    return t


def _dot(on: bool | None) -> str:
    return "?" if on is None else ("●" if on else "○")


def _cell(row: dict[str, Any]) -> str:
    text = _dot(row["predicted"]) + ("*" if row["near_edge"] else "")
    return text if row["ok"] else f"[bold red]{text}[/]"
