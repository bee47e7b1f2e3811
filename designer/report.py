"""The build report: ``report/REPORT.md`` and its pictures, added to a build's file plan.

What a person sees before uploading: the bands as designed, the quantization report, the plots
(:mod:`designer.plots`), the LED decision table as the firmware computes it, and the analog side
needed to wire the board (:mod:`designer.report_analog`). Everything is deterministic for a
given config on a given machine: no times, no absolute paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import params as params_mod
from . import report_analog as ra
from .outfiles import FilePlan, with_banner
from .report_text import training_summary
from .simulate import design_mapping
from .units import fmt_farad, fmt_hz_list, fmt_ohm

if TYPE_CHECKING:
    from .design import Design

REPORT_NAME = "REPORT.md"





def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def design_section(design: Design) -> list[str]:
    """The design table: what each band is and where its LED goes."""
    rows = []
    series = design.config.get("analog", {}).get("e_series", "E24")
    for b, w in zip(design.filters.bands, design.wiring, strict=True):
        parts = [f"{fmt_ohm(r)} → {fmt_ohm(p)} ({f:,.1f} Hz)" for r, p, f in
                 zip(b.resistors_ohm, b.resistors_e_series_ohm, b.e_series_cutoffs_hz,
                     strict=True)]
        rows.append([b.name, b.type, b.filter, fmt_hz_list(b.cutoffs_hz), fmt_hz_list(b.edges_hz),
                     design.board.pin_name(w.led_pin), f"`{w.color}`",
                     "<br>".join(parts) or "–"])
    lines = ["## Bands", ""]
    lines += _table(["band", "type", "filter", "cutoffs Hz", "−3 dB edges Hz", "LED pin", "colour",
                     f"R exact → {series} part (cutoff)"], rows)
    caps = sorted({b.capacitor_f for b in design.filters.bands if b.capacitor_f})
    if caps:
        lines += [f"RC sections use C = {', '.join(fmt_farad(c) for c in caps)} (the analog twin; "
                  "the firmware runs the digital sections below).", ""]
    trained = [b for b in design.filters.bands if b.training]
    for b in trained:
        # No time: REPORT.md must not change from one build of the same config to the next.
        lines.append("- " + training_summary(b.name, b.training or {}, seconds=False))
    if trained:
        lines.append("")
    return lines


def quantization_section(design: Design) -> list[str]:
    """Per band: input shift, response error, pole displacement, overflow proof, sections."""
    qd = design.quantized
    rep = qd.report or {}
    lines = ["## Quantization", "",
             f"Arithmetic: **{qd.arithmetic}** ({design.board.mcu}). DC blocker corner "
             f"{rep.get('dc_corner_hz', 0):g} Hz. Worst response error over a passband: "
             f"{rep.get('worst_error_db', float('nan')):.4f} dB (target "
             f"{rep.get('target_error_db', float('nan')):g} dB).", ""]
    rows = []
    for b in rep.get("bands", []):
        secs = ", ".join(
            s["kind"] + (f" {s['coef_bits']}-bit" if s.get("coef_bits") else "")
            + (" (wide)" if s.get("wide") else "")
            for s in b.get("sections", [])
        )
        rows.append([b["name"], str(b.get("in_shift", 0)), f"{b.get('max_error_db', 0):.4f}",
                     f"{b.get('pole_displacement', 0):.2e}",
                     "yes" if b.get("overflow_proof") else "float", secs])
    lines += _table(["band", "in_shift", "max error dB", "pole shift", "overflow proof",
                     "sections"], rows)
    q14 = [(b["name"], s["index"], s["q14_error_db"]) for b in rep.get("bands", [])
           for s in b.get("sections", []) if s.get("q14_error_db") is not None and s.get("wide")]
    for name, idx, err in q14:
        lines.append(f"- {name} section {idx}: plain Q14 would be {err:.3f} dB off; "
                     "it uses wider coefficients.")
    if q14:
        lines.append("")
    return lines


def params_section(design: Design) -> list[str]:
    """The runtime defaults compiled in (changeable over serial with SET)."""
    rows = []
    for name, wire in design.quantized.param_defaults:
        p = params_mod.by_name(name)
        value = params_mod.from_wire(name, wire)
        shown = f"{value:g}" if p.encoding in ("bool", "ms") else f"{value:.2f}"
        rows.append([name, f"{shown} {p.unit}", str(wire), p.doc])
    return ["## Runtime parameters (defaults)", ""] + _table(
        ["parameter", "value", "wire", "meaning"], rows)


def _input_lines(design: Design, series: str) -> list[str]:
    family = design.board.family
    inp = design.config.get("input", {})
    fs = design.sample_rate_hz
    mapping = design_mapping(design)
    if inp.get("kind") == "i2s":
        mic = inp.get("mic", "an I2S MEMS microphone")
        return [
            "### Microphone",
            "",
            f"Digital microphone ({mic}) on I2S: SCK → GPIO{inp.get('sck')}, WS → "
            f"GPIO{inp.get('ws')}, SD → GPIO{inp.get('sd')}, VDD → 3.3 V, GND, L/R → GND "
            "(left channel). No bias and no analog anti-alias filter: the microphone's own "
            "decimation filter removes what lies above fs/2.",
            "Full scale in `designer simulate` = the microphone's full scale "
            f"({mapping.describe()}).",
            "",
        ]
    el = ra.ELECTRICAL[family]
    bias = ra.mic_bias(family, series)
    aa = ra.anti_alias(fs, series)
    pin = inp.get("pin_name") or design.board.pin_name(inp.get("pin", 14))
    lo, hi = el.adc_full_scale_v or (0.0, el.logic_v)
    top = max(e for b in design.filters.bands for e in (*b.edges_hz, *b.cutoffs_hz))
    return [
        "### Microphone and ADC input",
        "",
        f"Use a microphone module with an amplified output biased at the middle of the ADC "
        f"range ({lo:g}–{hi:g} V, so {0.5 * (lo + hi):.2f} V), e.g. a MAX4466 board "
        f"(biased at VCC/2) on {el.logic_v:g} V. Output → R_aa → {pin}; C_aa from {pin} to GND.",
        "",
        f"If the module's output is AC-coupled or biased elsewhere (a MAX9814 sits at 1.25 V), "
        f"re-bias it: module out → C_c = {fmt_farad(bias.c_couple_f)} → a divider "
        f"{fmt_ohm(bias.r_top_ohm)} to {el.logic_v:g} V / {fmt_ohm(bias.r_bottom_ohm)} to GND "
        f"(DC {bias.bias_v:.2f} V, high-pass corner {bias.highpass_hz:.1f} Hz) → R_aa → {pin}.",
        "",
        f"Anti-alias RC at the ADC pin (first order, corner near fs/4 = {aa.target_hz:,.0f} Hz, "
        f"well below fs/2 = {fs / 2:,.0f} Hz):",
        "",
        *_table(["part", "value"], [
            ["R_aa", f"{fmt_ohm(aa.r_ohm)} ({series})"],
            ["C_aa", f"{fmt_farad(aa.c_f)} (≫ the ADC's {ra.SH_CAPACITANCE_F * 1e12:g} pF "
                     "sample-and-hold)"],
            ["corner", f"{aa.corner_hz:,.0f} Hz"],
            ["at fs/2", f"{aa.attenuation_db(fs / 2):.1f} dB"],
            [f"at {top:,.0f} Hz (highest band feature)", f"{aa.attenuation_db(top):.1f} dB"],
        ]),
        "The LED logic compares each band with the whole input, and both pass the same RC, so "
        "the RC lowers the level of high bands (brightness, squelch) without changing which "
        "LEDs a tone lights.",
        f"Full scale in `designer simulate` = the ADC's full scale ({mapping.describe()}).",
        "",
    ]


def _led_lines(design: Design, series: str) -> list[str]:
    family = design.board.family
    el = ra.ELECTRICAL[family]
    pins = [(w.name, design.board.pin_name(w.led_pin), w.color) for w in design.wiring]
    drives = ra.led_drives(family, pins, series)
    rows = [[d.band, d.pin, f"{d.color_name}, V_f ≈ {d.vf:g} V",
             f"{d.supply_v:g} V" + (" through the MOSFET switch below" if d.needs_mosfet else
                                    " from the pin"),
             f"{fmt_ohm(d.r_ohm)} ({series})", f"{d.current_a * 1e3:.1f} mA",
             f"{d.resistor_w * 1e3:.0f} mW"] for d in drives]
    total = sum(d.current_a for d in drives)
    if any(d.needs_mosfet for d in drives):
        rows_note = (f"{el.logic_v:g} V leaves too little headroom for some LEDs' V_f: switch "
                     f"them with the MOSFET below from {ra.MOSFET_SUPPLY_V:g} V.")
    else:
        rows_note = ""
    limit = (f", {el.total_a * 1e3:.0f} mA for all pins together" if el.total_a else "")
    mos = ra.mosfet_drive(family, series)
    lines = [
        "### LEDs",
        "",
        f"Pin limits ({design.board.mcu}): {el.pin_recommended_a * 1e3:.0f} mA recommended, "
        f"{el.pin_absolute_a * 1e3:.0f} mA absolute maximum per pin{limit}. "
        f"One LED per pin, anode to the pin through R, cathode to GND "
        f"(R = ({el.logic_v:g} V − V_f) / I, snapped up to {series}; check V_f in your LED's "
        "datasheet):",
        "",
        *_table(["band", "pin", "LED", "supply", "series R", "current", "R dissipation"], rows),
        f"All LEDs on: {total * 1e3:.0f} mA. {rows_note}".rstrip(),
        "",
        "### Strips and high-current LEDs",
        "",
        f"Above {el.pin_recommended_a * 1e3:.0f} mA, or for a 12 V LED strip, switch the low "
        f"side with a logic-level N-MOSFET per band: {mos.parts}. Pin → {fmt_ohm(mos.gate_ohm)} "
        f"gate resistor (peak gate current {mos.gate_peak_a * 1e3:.0f} mA) → gate; "
        f"{fmt_ohm(mos.pulldown_ohm)} gate to source (keeps the strip off while the pin floats at "
        "reset); source to GND; drain to the strip's − wire; strip + to its own supply; join "
        "the supply's GND to the board's GND. Dissipation in the MOSFET is I²·R_DS(on) (1 A "
        "through 50 mΩ: 50 mW, no heat sink).",
        "",
    ]
    strip = design.config.get("leds", {}).get("strip_pin")
    if strip is not None:
        lines += [
            f"Addressable strip (WS2812) on {design.board.pin_name(strip)}: 330 Ω in the data "
            "line, 1000 µF across the strip's 5 V supply, up to 60 mA per LED at full white"
            + (", and a 74AHCT125 level shifter (3.3 V data is out of spec at 5 V)"
               if family == "esp32" else "") + ".",
            "",
        ]
    return lines


def wiring_section(design: Design) -> list[str]:
    """The analog side: microphone, anti-alias RC, LED drive."""
    series = design.config.get("analog", {}).get("e_series", "E24")
    return ["## Wiring", ""] + _input_lines(design, series) + _led_lines(design, series)


def report_markdown(design: Design, pictures: list[str]) -> str:
    """REPORT.md's body (without the banner)."""
    qd = design.quantized
    lines = [
        f"# Colour organ: {design.config_name}",
        "",
        f"Board **{design.board.name}** ({design.board.mcu}), sample rate "
        f"**{design.sample_rate_hz:,.2f} Hz**, {qd.n_bands} bands, {qd.arithmetic} arithmetic, "
        f"design hash `{design.hash[:16]}`.",
        "",
    ]
    lines += design_section(design)
    lines += quantization_section(design)
    lines += ["## Plots", ""]
    captions = {
        "bode_all.png": "All bands, quantized (thin: float design)",
        "polezero.png": "Poles and zeros, float and quantized",
        "led_table.png": "LED decisions, 300–1500 Hz tones (the notebook's table)",
        "led_table_bands.png": "LED decisions at each band's centre and between bands",
        "training.png": "Training: loss and cutoffs per step",
    }
    for name in pictures:
        if name.startswith("bode_") and name != "bode_all.png":
            caption = f"Band {name[5:-4]}: analog, float and quantized magnitude"
        elif name.startswith("loss_"):
            caption = f"Band {name[5:-4]}: loss surface and the optimizer's path"
        else:
            caption = captions.get(name, name)
        lines += [f"### {caption}", "", f"![{caption}]({name})", ""]
    lines += wiring_section(design)
    lines += params_section(design)
    return "\n".join(lines).rstrip("\n") + "\n"


def add_report(
    design: Design,
    plan: FilePlan,
    prefix: str = "report/",
    fits: dict[str, Any] | None = None,
) -> list[str]:
    """Add REPORT.md and every plot (PNG bytes) under ``prefix`` to ``plan``; returns the paths
    added. ``fits`` (see :func:`designer.plots_training.training_fits`) adds training pictures;
    without it they are drawn only if the design's FilterSet carries ``fits``."""
    from . import plots

    if fits is None:
        fits = getattr(design.filters, "fits", None)
    pictures = plots.design_plots(design, fits)
    added = []
    for name, data in pictures.items():
        plan.add(prefix + name, data)
        added.append(prefix + name)
    from .design import GENERATOR

    body = report_markdown(design, list(pictures))
    plan.add(prefix + REPORT_NAME,
             with_banner(REPORT_NAME, body, GENERATOR, design.config_name, design.hash))
    added.append(prefix + REPORT_NAME)
    return added
