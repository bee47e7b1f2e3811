"""Human-readable tables of a design for the terminal (rich), written to a given console."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .units import fmt_farad, fmt_hz_list, fmt_ohm

if TYPE_CHECKING:
    from .filters import FilterSet


def filters_table(fset: FilterSet) -> Table:
    """Band, type, filter, cutoffs and −3 dB edges, R exact → E-series part → real cutoff."""
    table = Table(title=f"Filters at fs = {fset.sample_rate_hz:,.2f} Hz", show_lines=True)
    for col in ("band", "type", "filter", "cutoffs Hz", "−3 dB edges Hz", "R exact → part → Hz"):
        table.add_column(col)
    for b in fset.bands:
        parts = []
        for r, p, f in zip(
            b.resistors_ohm, b.resistors_e_series_ohm, b.e_series_cutoffs_hz, strict=True
        ):
            parts.append(f"{fmt_ohm(r)} → {fmt_ohm(p)} → {f:,.1f}")
        if b.capacitor_f is not None and parts:
            parts.append(f"C = {fmt_farad(b.capacitor_f)}")
        table.add_row(
            b.name,
            b.type,
            b.filter,
            fmt_hz_list(b.cutoffs_hz),
            fmt_hz_list(b.edges_hz),
            "\n".join(parts) or "-",
        )
    return table


def sos_table(fset: FilterSet) -> Table:
    """Every band's second-order sections, scipy convention."""
    table = Table(title=escape("Second-order sections [b0 b1 b2 | a1 a2], a0 = 1"))
    table.add_column("band")
    table.add_column("section")
    table.add_column("b0 b1 b2")
    table.add_column("a1 a2")
    for b in fset.bands:
        for i, row in enumerate(b.sos):
            table.add_row(
                b.name if i == 0 else "",
                str(i),
                f"{row[0]:+.8f} {row[1]:+.8f} {row[2]:+.8f}",
                f"{row[4]:+.8f} {row[5]:+.8f}",
            )
    return table


def training_lines(fset: FilterSet) -> list[str]:
    """One line per trained band (see :func:`training_summary`)."""
    return [training_summary(b.name, b.training) for b in fset.bands if b.training]


def training_summary(name: str, t: dict[str, Any], seconds: bool = True) -> str:
    """What training did for one band: steps, time (left out where output must not change from
    run to run, as in REPORT.md), loss, and for binary data where each learned edge sits in its
    label bracket. Shared by ``designer train`` and REPORT.md so the two read the same."""
    text = f"{name}: learned in {t.get('steps', 0)} steps"
    if seconds:
        text += f" ({t.get('seconds', 0.0):.2f} s)"
    if "final_loss" in t:
        text += f", final loss {t['final_loss']:.3g}"
    if "max_error_db" in t:
        text += f", max error {t['max_error_db']:.3f} dB"
    return text + _bracket_text(t.get("bracket_positions") or [])


def _bracket_text(positions: list[float]) -> str:
    """Binary training only: 0 % and 100 % are the bracket's ends, 50 % its middle on a log
    axis (the max-margin answer); other data kinds have no brackets and get nothing."""
    shown = [f"{100 * p:.0f} %" for p in positions]
    if not shown:
        return ""
    if len(shown) == 1:
        return f", edge at {shown[0]} of its label bracket (50 % = max margin)"
    return f", edges at {' and '.join(shown)} of their label brackets (50 % = max margin)"


def print_filters(fset: FilterSet, console: Console) -> None:
    """The whole ``designer train`` report."""
    console.print(filters_table(fset))
    console.print(sos_table(fset))
    for line in training_lines(fset):
        console.print(line)
