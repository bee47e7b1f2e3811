"""The one place that formats Python values as C literals, and the C text of a design's tables.

``c_int``, ``c_float``, ``c_string``, ``c_comment`` and ``c_ident`` are for every module that
writes C; ``design_tables_c`` emits the ``organ_design_t`` instance (layout: ``organ_dsp.h``)
and, for a fixed-point design, its per-sample step (``organ_dsp.h``, THE STEP), which
``designer/cstep.py`` writes. The firmware's generated header and every host build compile that
same text.
"""

from __future__ import annotations

import math
import re

import numpy as np

from designer import params as params_mod
from designer.qdesign import KIND_CODES, QuantizedDesign

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto "
    "if inline int long register restrict return short signed sizeof static struct switch "
    "typedef union unsigned void volatile while _Bool _Complex _Imaginary".split()
)


def c_int(value: int) -> str:
    """A C integer literal for any value in the int32/uint32 range (INT32_MIN spelled so that
    it is not the negation of an out-of-range constant)."""
    v = int(value)
    if v != value:
        raise ValueError(f"not an integer: {value!r}")
    if not -(2**31) <= v < 2**32:
        raise ValueError(f"{v} is outside the int32/uint32 range")
    if v == -(2**31):
        return "(-2147483647 - 1)"
    if v >= 2**31:
        return f"{v}u"
    return str(v)


def c_float(value: float, single: bool = True) -> str:
    """A C floating literal that reads back bit-exactly: float32 with 9 significant digits and
    an ``f`` suffix (``single``), else double with 17. Non-finite values are refused."""
    v = float(np.float32(value)) if single else float(value)
    if not math.isfinite(v):
        raise ValueError(f"cannot write a non-finite float to C: {value!r}")
    text = f"{v:.9g}" if single else f"{v:.17g}"
    if not any(ch in text for ch in ".en"):
        text += ".0"
    return text + ("f" if single else "")


def c_string(text: str) -> str:
    """A C string literal: printable ASCII as is, everything else (and ``"``, ``\\``, ``?``) as
    3-digit octal escapes of its UTF-8 bytes, so no config string can break out of it."""
    out = ['"']
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if 0x20 <= byte < 0x7F and ch not in '"\\?':
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    out.append('"')
    return "".join(out)


def c_comment(text: str) -> str:
    """A one-line ``/* ... */`` comment; ``*/``, ``/*`` and control characters are defused."""
    clean = "".join(ch if ch.isprintable() else " " for ch in str(text))
    clean = clean.replace("*/", "* /").replace("/*", "/ *")
    return f"/* {clean} */"


def c_ident(name: str) -> str:
    """``name`` if it is a valid, non-keyword C identifier; ValueError otherwise."""
    if not _IDENT.match(name) or name in _C_KEYWORDS:
        raise ValueError(f"not a valid C identifier: {name!r}")
    return name


def design_macros(qd: QuantizedDesign) -> dict[str, int]:
    """The array-size macros every translation unit must agree on (build flags)."""
    return {"ORGAN_MAX_BANDS": qd.n_bands, "ORGAN_MAX_SECTIONS": qd.n_sections}


def _coef(qd: QuantizedDesign, v: float) -> str:
    if qd.arithmetic == "float":
        return c_float(v)
    iv = int(v)
    # int16 slots can hold uint16 bit patterns (LP1/HP1 coefficient, norm): C reads them back
    # through uint16_t, so write the signed value with the same bits
    return c_int(iv - 65536 if iv > 32767 else iv)


def design_tables_c(qd: QuantizedDesign, name: str = "organ_design", storage: str = "static",
                    ) -> str:
    """C definitions of ``const organ_design_t <name>`` and its arrays for ``qd``, and for a
    fixed-point design its step (``design_step_c``).

    Needs ``organ_dsp.h`` included first; the step includes ``organ_dsp_kernels.h``.
    ``storage="static"`` makes every object static (safe to include in one translation unit,
    C or C++); ``"extern"`` gives the design object external linkage (arrays stay static). The
    text checks ``ORGAN_MAX_*`` and ``ORGAN_FLOAT`` against the design with ``#error``."""
    c_ident(name)
    if storage not in ("static", "extern"):
        raise ValueError(f"storage must be 'static' or 'extern', got {storage!r}")
    nb, ns = qd.n_bands, qd.n_sections
    lines = [
        c_comment(f"quantized design: {qd.arithmetic}, fs = {qd.fs!r} Hz, {nb} bands, "
                  f"{ns} sections, control every {qd.ctl_period} samples ({qd.ctl_hz} Hz)"),
        f"#if ORGAN_MAX_BANDS < {nb} || ORGAN_MAX_SECTIONS < {ns}",
        f'#error "this design needs ORGAN_MAX_BANDS >= {nb} and ORGAN_MAX_SECTIONS >= {ns}"',
        "#endif",
        "#ifdef ORGAN_FLOAT" if qd.arithmetic == "fixed" else "#ifndef ORGAN_FLOAT",
        f'#error "this design was quantized for {qd.arithmetic} arithmetic"',
        "#endif",
    ]
    fixed = qd.arithmetic == "fixed"
    if fixed:
        from designer.cstep import design_step_c  # cstep writes its C with this module

        lines += ['#include "organ_dsp_kernels.h"', *design_step_c(qd, name)]
    else:
        lines.append(f"static const organ_section_t {name}_sections[{ns}] = {{")
        for band in qd.bands:
            for k, (sec, row) in enumerate(zip(band.sections, band.sos, strict=True)):
                lines.append("    " + c_comment(
                    f"{band.name}[{k}] {sec.kind}: float b = [{row[0]!r}, {row[1]!r}, "
                    f"{row[2]!r}], a = [1, {row[4]!r}, {row[5]!r}]"))
                coefs = ", ".join(_coef(qd, v) for v in sec.c)
                lines.append(f"    {{{KIND_CODES[sec.kind]}, {{{coefs}}}}},")
        lines.append("};")
    lines.append(f"static const organ_band_t {name}_bands[{nb}] = {{")
    first = 0
    for i, band in enumerate(qd.bands):
        lo, hi = band.passband_hz
        lines.append("    " + c_comment(
            f"{band.name}: passband {lo!r}..{hi!r} Hz, level norm "
            f"{qd.norm_factor(i)!r}"))
        lines.append(f"    {{{first}, {len(band.sections)}, {band.in_shift}, "
                     f"{_coef(qd, band.norm)}}},")
        first += len(band.sections)
    lines.append("};")
    names = ", ".join(c_string(b.name) for b in qd.bands)
    lines.append(f"static const char *const {name}_band_names[{nb}] = {{{names}}};")
    values = qd.params()
    # defaults equal to the core's own fallbacks need no table (on AVR it would sit in RAM)
    own_defaults = values != params_mod.defaults()
    if own_defaults:
        lines.append(f"static const int32_t {name}_param_defaults[ORGAN_N_PARAMS] = {{")
    else:
        lines.append(c_comment("runtime parameter defaults: the core's own (organ_param_info)"))
    for p in params_mod.PARAMS:
        v = values[p.name]
        note = f"{p.id} {p.name} = {params_mod.from_wire(p.name, v):.4g} {p.unit}"
        lines.append(f"    {c_int(v)}, " + c_comment(note) if own_defaults else c_comment(note))
    if own_defaults:
        lines.append("};")
    arith = "ORGAN_ARITH_FIXED" if qd.arithmetic == "fixed" else "ORGAN_ARITH_FLOAT"
    dc = _coef(qd, qd.dc_coef) if qd.arithmetic == "fixed" else c_float(qd.dc_coef / 65536.0)
    prefix = "static const" if storage == "static" else "const"
    lines += [
        f"{prefix} organ_design_t {name} = {{",
        f"    {arith}, ORGAN_MAX_BANDS, ORGAN_MAX_SECTIONS, {nb}, {qd.ctl_period}, "
        f"{qd.rect_shift}, {qd.ctl_hz}, {qd.lvl_k},",
        f"    {dc}, " + c_comment(f"DC blocker coefficient {qd.dc_coef} / 65536"),
        f"    {'0' if fixed else name + '_sections'}, {name}_bands, {name}_band_names, "
        f"{name + '_param_defaults' if own_defaults else '0'},",
        f"    {name + '_process' if fixed else '0'},",
        "};",
        "",
    ]
    return "\n".join(lines)
