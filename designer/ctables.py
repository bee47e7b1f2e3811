"""The one place that formats Python values as C literals, and the C text of a design's tables.

``c_int``, ``c_float``, ``c_string``, ``c_comment`` and ``c_ident`` are for every module that
writes C; ``design_tables_c`` emits the ``organ_design_t`` instance (layout: ``organ_dsp.h``)
and, for a fixed-point design, its per-sample step (``organ_dsp.h``, THE STEP): the sections
unrolled into calls of the inline kernels of ``organ_dsp_kernels.h`` with the coefficients as
constants. The firmware's generated header and every host build compile that same text.
"""

from __future__ import annotations

import math
import re

import numpy as np

from designer import params as params_mod
from designer.qdesign import KIND_CODES, QSection, QuantizedDesign

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


#: AVR: state bytes are ldd/std displacements (<= 63) from a base; bases every 48 bytes
_PAGE = 48
#: struct organ_state: the DC blocker's M and the window sums (organ_dsp.h)
_OFS_DC = 4
_OFS_FS = 8


class _Step:
    """Builds the body of a step over ``n`` samples (1: the step, 2: the two-sample step;
    ``compact``: biquads as calls of the core's out-of-line biquad): allocates state bytes after
    the window sums, names the page base of each, and collects the local variables the
    statements use. A signal is a list of ``n`` C names, one per sample."""

    def __init__(self, qd: QuantizedDesign, n: int, compact: bool = False):
        self.qd = qd
        self.n = n
        self.compact = compact
        self.next = _OFS_FS + 3 * (qd.n_bands + 1)
        self.pages = {0}
        self.vars: dict[str, str] = {}
        self.body: list[str] = []

    def alloc(self, size: int) -> str:
        """Bytes for one state object: its base and displacement as C arguments."""
        o = self.next
        self.next += size
        return self.at(o)

    def at(self, o: int) -> str:
        page = o // _PAGE
        self.pages.add(page)
        return f"b{page}, {o - page * _PAGE}"

    def var(self, name: str, ctype: str = "int16_t") -> str:
        self.vars.setdefault(name, ctype)
        return name

    def signal(self, base: str) -> list[str]:
        return [self.var(base if self.n == 1 else f"{base}_{k}") for k in range(self.n)]

    def emit(self, line: str) -> None:
        self.body.append("    " + line)

    def rect(self, o: int, sig: list[str]) -> None:
        w = self.var("w", "organ_u24")
        self.emit(f"{w} = organ_ld24({self.at(o)});")
        for v in sig:
            self.emit(f"organ_k_rect(&{w}, {v});")
        self.emit(f"organ_st24({self.at(o)}, {w});")

    def pair(self, sig: list[str], out: list[str]) -> None:
        """out[k] = sig[k] + the previous sample of sig (kept in 2 state bytes)."""
        at = self.alloc(2)
        q = self.var("q")
        self.emit(f"{q} = organ_ld16({at});")
        self.emit(f"organ_st16({at}, {sig[-1]});")
        for k, v in enumerate(sig):
            self.emit(f"{out[k]} = organ_k_add({v}, {q if k == 0 else sig[k - 1]});")


def _terms(coefs: list[int], names: list[str]) -> list[tuple[int, str]]:
    return [(c, n) for c, n in zip(coefs, names, strict=True) if c != 0]


def _numerator(sec: QSection, x: str, x1: str, x2: str) -> str:
    """C expression of a biquad's numerator sum (mod 2^32), before its shift."""
    c = [int(v) for v in sec.c[:3]]
    if sec.kind == "bq_gain":
        return f"organ_k_mul16({c_int(c[0])}, {x})"
    names = [x, x1, x2]
    if c[0] != 0 and all(v % c[0] == 0 and abs(v // c[0]) <= 2 for v in c[1:]):
        # one mantissa times a small integer combination of the inputs (zeros at z = +-1)
        parts = []
        for r, n in _terms([1, c[1] // c[0], c[2] // c[0]], names):
            term = f"(organ_s24){n}" if abs(r) == 1 else f"{abs(r)} * (organ_s24){n}"
            parts.append(term if not parts and r > 0 else f"{'-' if r < 0 else '+'} {term}")
        return f"organ_k_mul({c_int(c[0])}, {' '.join(parts)})"
    terms = _terms(c, names)
    if not terms:
        return "0"
    expr = f"organ_k_mul16({c_int(terms[0][0])}, {terms[0][1]})"
    for coef, n in terms[1:]:
        expr = f"organ_k_mac({expr}, {c_int(coef)}, {n})"
    return expr


def _first_order(st: _Step, sec: QSection, x: list[str], pair: list[str] | None,
                 y: list[str]) -> None:
    """LP1/HP1: input x, output y. ``pair`` is the shared x + x1 of a first section fed by the
    band input (None: the section keeps its own x1)."""
    if pair is None:
        pair = st.signal("p")
        st.pair(x, pair)
    c = int(sec.c[0])
    h = y if sec.kind == "lp1" else st.signal("h")
    if c % 256 == 0 and 1 <= c // 256 <= 255:  # a byte coefficient: Y's upper three bytes
        r, at, load = st.var("r", "organ_u24"), st.alloc(3), "24"
        call = f"organ_k_fo8(&r, {c // 256}"
    else:
        r, at, load = st.var("r32", "uint32_t"), st.alloc(4), "32"
        call = f"organ_k_fo16(&r32, {c}u"
    st.emit(f"{r} = organ_ld{load}({at});")
    for k in range(st.n):
        st.emit(f"{h[k]} = {call}, {pair[k]});")
    st.emit(f"organ_st{load}({at}, {r});")
    if sec.kind == "hp1":
        for k in range(st.n):
            st.emit(f"{y[k]} = organ_k_hp(b0, {x[k]}, {h[k]});")


def _biquad(st: _Step, sec: QSection, x: list[str], y: list[str]) -> None:
    """BQ / BQ_GAIN: input x, output y (the input history x1, x2 in 4 state bytes for BQ): the
    inline kernels, or (``st.compact``) the core's out-of-line biquad."""
    o = st.next
    st.alloc(12 if sec.kind == "bq" else 8)
    c = [c_int(int(v)) for v in sec.c]
    if st.compact:
        page, disp = divmod(o, _PAGE)
        st.pages.add(page)
        if sec.kind == "bq":
            st.emit(f"{y[0]} = organ_bq_any(b{page} + {disp}, {x[0]}, {c[0]}, {c[1]}, {c[2]}, "
                    f"{c[3]}, {c[4]}, {sec.sh_num}, {sec.sh_pole});")
        else:
            st.emit(f"{y[0]} = organ_bq_gain_any(b{page} + {disp}, {x[0]}, {c[0]}, {c[3]}, "
                    f"{c[4]}, {sec.sh_num}, {sec.sh_pole});")
        return
    seq = ["0", "0", *x]
    if sec.kind == "bq":
        seq[:2] = [st.var("q2"), st.var("q1")]
        st.emit(f"q1 = organ_ld16({st.at(o + 8)});")
        st.emit(f"q2 = organ_ld16({st.at(o + 10)});")
    # the numerator before the state is loaded (the multiplications need registers the state
    # would hold); the state stays in registers for both samples, the second numerator formed
    # between the updates (two numerators at once do not fit)
    n, ry, rd = st.var("n", "int32_t"), st.var("ry", "uint32_t"), st.var("rd", "uint32_t")
    for k in range(st.n):
        st.emit(f"{n} = organ_k_sar({_numerator(sec, seq[k + 2], seq[k + 1], seq[k])}, "
                f"{sec.sh_num});")
        if k == 0:
            st.emit(f"{ry} = organ_ld32({st.at(o)});")
            st.emit(f"{rd} = organ_ld32({st.at(o + 4)});")
        st.emit(f"{y[k]} = organ_k_bq(&ry, &rd, n, {c[3]}, {c[4]}, {sec.sh_pole});")
    st.emit(f"organ_st32({st.at(o)}, ry);")
    st.emit(f"organ_st32({st.at(o + 4)}, rd);")
    if sec.kind == "bq":
        st.emit(f"organ_st16({st.at(o + 8)}, {seq[st.n + 1]});")
        st.emit(f"organ_st16({st.at(o + 10)}, {seq[st.n]});")


def _filters(st: _Step, x: list[str]) -> None:
    """DC blocker, window sums and every band's sections for the samples x."""
    qd = st.qd
    xd = st.signal("xd")
    m = st.var("m", "uint32_t")
    st.emit(f"{m} = organ_ld32({st.at(_OFS_DC)});")
    for k in range(st.n):
        st.emit(f"{xd[k]} = organ_k_dc(b0, &m, {x[k]}, {qd.dc_coef});")
    st.emit(f"organ_st32({st.at(_OFS_DC)}, {m});")
    st.rect(_OFS_FS, xd)
    shifted: dict[int, list[str]] = {0: xd}
    pairs: dict[int, list[str]] = {}
    # the band with the longest chain last: the shared inputs die at its first section, so the
    # rest of its chain runs with fewer live registers
    order = sorted(range(qd.n_bands), key=lambda i: len(qd.bands[i].sections))
    for i in order:
        band = qd.bands[i]
        st.emit(c_comment(f"band {i} {band.name}: input >> {band.in_shift}"))
        if band.in_shift not in shifted:
            shifted[band.in_shift] = st.signal(f"v{band.in_shift}")
            for a, b in zip(shifted[band.in_shift], xd, strict=True):
                st.emit(f"{a} = organ_k_shr({b}, {band.in_shift});")
        sig = shifted[band.in_shift]
        for k, (sec, row) in enumerate(zip(band.sections, band.sos, strict=True)):
            st.emit(c_comment(
                f"{band.name}[{k}] {sec.kind}: float b = [{row[0]!r}, {row[1]!r}, {row[2]!r}], "
                f"a = [1, {row[4]!r}, {row[5]!r}]"))
            y = st.signal(f"y{i}" if k == len(band.sections) - 1 else f"z{i}{k}")
            if sec.kind in ("lp1", "hp1"):
                pair = None
                if k == 0:
                    # every first-order section fed by the same input shares x + x1
                    if band.in_shift not in pairs:
                        pairs[band.in_shift] = st.signal(f"p{band.in_shift}")
                        st.pair(sig, pairs[band.in_shift])
                    pair = pairs[band.in_shift]
                _first_order(st, sec, sig, pair, y)
            else:
                _biquad(st, sec, sig, y)
            sig = y
        st.emit(f"out[{i}].y = {sig[-1]};")
        st.rect(_OFS_FS + 3 * (i + 1), sig)


def _function(st: _Step, signature: str, prologue: list[str], epilogue: list[str]) -> list[str]:
    head = [signature, "{", "    uint8_t *const b0 = (uint8_t *)s;"]
    head += [f"    uint8_t *const b{p} = b0 + {p * _PAGE};" for p in sorted(st.pages) if p]
    for ctype in ("int16_t", "organ_u24", "int32_t", "uint32_t"):
        names = [v for v, t in st.vars.items() if t == ctype]
        if names:
            head.append(f"    {ctype} {', '.join(names)};")
    head.append("    uint8_t t;")
    return head + prologue + st.body + epilogue + ["}"]


def design_step_c(qd: QuantizedDesign, name: str = "organ_design") -> list[str]:
    """C lines of a fixed design's steps (organ_dsp.h, THE STEP): ``<name>_step`` (one sample,
    ORGAN_STEP_INLINE); ``<name>_process`` (one sample out of line, the design's ``step`` and
    the PROCESS path: the step itself, or for a design with biquads the same with calls of the
    core's out-of-line biquad, which keeps the flash small); ``<name>_step2`` (two samples,
    ORGAN_STEP_INLINE, the AVR interrupt's: each state object loaded and stored once for both,
    and from an odd tick ``<name>_process2``, two calls of ``<name>_process``; for general
    biquads, whose numerators need too many AVR registers for that, the step twice)."""
    tasks, period = 2 * qd.ctl_tasks, qd.ctl_period
    kinds = {sec.kind for band in qd.bands for sec in band.sections}
    one = _Step(qd, 1)
    _filters(one, ["x"])
    used = one.next - _OFS_FS
    lines = [
        c_comment(f"the steps of this design (organ_dsp.h, THE STEP): {used} of ORGAN_FS_BYTES "
                  "state bytes"),
        f"#if ORGAN_FS_BYTES < {used}",
        f'#error "this design\'s step needs ORGAN_FS_BYTES >= {used}"',
        "#endif",
    ]
    tick1 = ["    t = s->tick;",
             f"    if ((t & 1u) && t < {tasks}u) {{",
             "        organ_k_control(s, out);",
             "    }",
             f"    s->tick = (uint8_t)(t == {period - 1}u ? 0u : t + 1u);"]
    lines += _function(one, f"ORGAN_STEP_INLINE void {name}_step(organ_state_t *s, int16_t x, "
                       "organ_band_out_t *out)", [], tick1)
    sig = f"static void {name}_process(organ_state_t *s, int16_t x, organ_band_out_t *out)"
    if kinds & {"bq", "bq_gain"}:
        compact = _Step(qd, 1, compact=True)
        _filters(compact, ["x"])
        lines += _function(compact, sig, [], tick1)
    else:
        lines += [sig, "{", f"    {name}_step(s, x, out);", "}"]
    sig2 = (f"ORGAN_STEP_INLINE void {name}_step2(organ_state_t *s, int16_t x0, int16_t x1, "
            "organ_band_out_t *out)")
    odd = ["    if (s->tick & 1u) {",
           f"        {name}_process2(s, x0, x1, out);",
           "        return;",
           "    }"]
    if "bq" in kinds:
        return lines + [
            c_comment("general biquads: their numerators need too many AVR registers for two "
                      "samples at once"),
            sig2, "{", f"    {name}_step(s, x0, out);", f"    {name}_step(s, x1, out);", "}"]
    two = _Step(qd, 2)
    _filters(two, ["x0", "x1"])
    lines += [
        c_comment("two samples from an odd tick, out of line: the inlined two-sample step keeps "
                  "its registers"),
        f"ORGAN_NOINLINE void {name}_process2(organ_state_t *s, int16_t x0, int16_t x1, "
        "organ_band_out_t *out)",
        "{",
        f"    {name}_process(s, x0, out);",
        f"    {name}_process(s, x1, out);",
        "}",
    ]
    lines += _function(
        two, sig2, odd,
        ["    t = s->tick;",
         f"    if (t < {tasks}u) {{",
         "        organ_k_control(s, out);",
         "    }",
         f"    s->tick = (uint8_t)(t == {period - 2}u ? 0u : t + 2u);"])
    return lines


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
        lines += ['#include "organ_dsp_kernels.h"', *design_step_c(qd, name)]
    else:
        lines.append(f"static const organ_section_t {name}_sections[{ns}] = {{")
        for band in qd.bands:
            for k, (sec, row) in enumerate(zip(band.sections, band.sos, strict=True)):
                lines.append("    " + c_comment(
                    f"{band.name}[{k}] {sec.kind}: float b = [{row[0]!r}, {row[1]!r}, "
                    f"{row[2]!r}], a = [1, {row[4]!r}, {row[5]!r}]"))
                coefs = ", ".join(_coef(qd, v) for v in sec.c)
                lines.append(f"    {{{KIND_CODES[sec.kind]}, {c_int(sec.sh_num)}, "
                             f"{c_int(sec.sh_pole)}, {{{coefs}}}}},")
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
