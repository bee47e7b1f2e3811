"""The per-design step of a fixed-point design (organ_dsp.h, THE STEP): C functions with every
section unrolled and the coefficients as constants.

``design_step_c`` emits ``<name>_step`` (one sample, inlined where it is called),
``<name>_process`` (the same out of line: the design's ``step``, run by
``organ_process_sample()``), ``<name>_step2`` (two samples, inlined into the AVR interrupt: every
state object loaded and stored once for both) and ``<name>_process2`` (two samples from an odd
tick, out of line). First-order sections, the DC blocker and the window sums call the inline
kernels of ``organ_dsp_kernels.h`` (AVR assembly in ``organ_dsp_avr.h``, or the same bits in
portable C); a biquad is written for its constants: AVR assembly from ``designer/cstep_avr.py``
under ``ORGAN_AVR_ASM``, else a call of the portable ``organ_k_bq``. C literals come from
``designer/ctables.py``.
"""

from __future__ import annotations

from designer.cstep_avr import bq_asm, structure
from designer.ctables import c_comment, c_int
from designer.qdesign import QSection, QuantizedDesign

#: AVR: state bytes are ldd/std displacements (<= 63) from a base; bases every 48 bytes
PAGE = 48
#: struct organ_state: the DC blocker's M and the window sums (organ_dsp.h)
OFS_DC = 4
OFS_FS = 8


class _Step:
    """Builds the body of a step over ``n`` samples (1 or 2): allocates state bytes after the
    window sums, names the page base of each, and collects the local variables the statements
    use. A signal is a list of ``n`` C names, one per sample."""

    def __init__(self, qd: QuantizedDesign, n: int):
        self.qd = qd
        self.n = n
        self.next = OFS_FS + 3 * (qd.n_bands + 1)
        self.pages = {0}
        self.vars: dict[str, str] = {}
        self.body: list[str] = []

    def alloc(self, size: int) -> int:
        """Offset of the next ``size`` state bytes."""
        o = self.next
        self.next += size
        return o

    def page(self, o: int) -> tuple[str, int]:
        """(base pointer name, displacement) of state byte o."""
        page = o // PAGE
        self.pages.add(page)
        return f"b{page}", o - page * PAGE

    def at(self, o: int) -> str:
        base, disp = self.page(o)
        return f"{base}, {disp}"

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
        at = self.at(self.alloc(2))
        q = self.var("q")
        self.emit(f"{q} = organ_ld16({at});")
        self.emit(f"organ_st16({at}, {sig[-1]});")
        for k, v in enumerate(sig):
            self.emit(f"{out[k]} = organ_k_add({v}, {q if k == 0 else sig[k - 1]});")


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
        r, at, load = st.var("r", "organ_u24"), st.at(st.alloc(3)), "24"
        call = f"organ_k_fo8(&r, {c // 256}"
    else:
        r, at, load = st.var("r32", "uint32_t"), st.at(st.alloc(4)), "32"
        call = f"organ_k_fo16(&r32, {c}u"
    st.emit(f"{r} = organ_ld{load}({at});")
    for k in range(st.n):
        st.emit(f"{h[k]} = {call}, {pair[k]});")
    st.emit(f"organ_st{load}({at}, {r});")
    if sec.kind == "hp1":
        for k in range(st.n):
            st.emit(f"{y[k]} = organ_k_hp(b0, {x[k]}, {h[k]});")


def _numerator_c(sec: QSection, v: list[str]) -> list[tuple[str, int]]:
    """The portable numerator: exact int32 terms (C expression, shift) summing to num 2^-sh_num
    (organ_dsp.h, BQ) for the inputs v = [x, x1, x2]."""
    c = [int(x) for x in sec.c[:3]]
    r = structure(sec)
    if r is not None:
        # one mantissa times an int32 sum of the inputs (|c0| (|r0| + |r1| + |r2|) < 2^16)
        parts = []
        for rj, name in zip(r, v, strict=False):
            if rj:
                term = f"(int32_t){name}" if abs(rj) == 1 else f"{abs(rj)} * (int32_t){name}"
                parts.append(term if not parts and rj > 0 else f"{'-' if rj < 0 else '+'} {term}")
        return [(f"(int32_t){c_int(c[0])} * ({' '.join(parts)})", sec.sh_num)]
    if max(abs(x) for x in c) <= 32767 and sum(abs(x) for x in c) <= 65535:
        return [(" + ".join(f"(int32_t){c_int(cj)} * {name}" for cj, name in zip(c, v, strict=True)
                            if cj), sec.sh_num)]
    # 24-bit mantissas: high parts (signed, sum of magnitudes < 2^16) and low bytes apart
    hi = " + ".join(f"(int32_t){c_int(cj >> 8)} * {n}" for cj, n in zip(c, v, strict=True)
                    if cj >> 8)
    lo = " + ".join(f"(int32_t){cj & 255} * {n}" for cj, n in zip(c, v, strict=True) if cj & 255)
    return [(hi or "0", sec.sh_num - 8), (lo or "0", sec.sh_num)]


def _biquad(st: _Step, sec: QSection, x: list[str], y: list[str]) -> None:
    """BQ / BQ_GAIN: input x, output y; state Y, D (and for BQ the input history x1, x2) in 8
    (12) bytes."""
    o = st.alloc(12 if sec.kind == "bq" else 8)
    base, disp = st.page(o)
    st.emit("#if ORGAN_AVR_ASM")
    st.body += ["    " + line for line in bq_asm(sec, x, y, base, disp)]
    st.emit("#else")
    seq = ["0", "0", *x]
    c = [int(v) for v in sec.c]
    lines = []
    if sec.kind == "bq":
        seq[:2] = ["q2", "q1"]
        lines += [f"int16_t q1 = organ_ld16({base}, {disp + 8});",
                  f"int16_t q2 = organ_ld16({base}, {disp + 10});",
                  f"organ_st16({base}, {disp + 8}, {x[-1]});",
                  f"organ_st16({base}, {disp + 10}, {seq[st.n]});",
                  # a numerator without an x1 or x2 term (a first-order section of an odd
                  # order, 1 - z^-2) leaves one unread: no unused-variable warning
                  "(void)q1;", "(void)q2;"]
    for k in range(st.n):
        terms = _numerator_c(sec, [seq[k + 2], seq[k + 1], seq[k]])
        if len(terms) == 1:
            terms.append(("0", 0))
        (n1, s1), (n2, s2) = terms
        lines.append(f"{y[k]} = organ_k_bq({base}, {disp}, {n1}, {s1}, {n2}, {s2}, {c[3]}u, "
                     f"{sec.sh_beta}, {c[4]}u, {sec.sh_gamma});")
    st.emit("{")
    st.body += ["        " + line for line in lines]
    st.emit("}")
    st.emit("#endif")


def _filters(st: _Step, x: list[str]) -> None:
    """DC blocker, window sums and every band's sections for the samples x."""
    qd = st.qd
    xd = st.signal("xd")
    m = st.var("m", "uint32_t")
    st.emit(f"{m} = organ_ld32({st.at(OFS_DC)});")
    for k in range(st.n):
        st.emit(f"{xd[k]} = organ_k_dc(b0, &m, {x[k]}, {qd.dc_coef});")
    st.emit(f"organ_st32({st.at(OFS_DC)}, {m});")
    st.rect(OFS_FS, xd)
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
        st.rect(OFS_FS + 3 * (i + 1), sig)


def _function(st: _Step, signature: str, prologue: list[str], epilogue: list[str]) -> list[str]:
    head = [signature, "{", "    uint8_t *const b0 = (uint8_t *)s;"]
    head += [f"    uint8_t *const b{p} = b0 + {p * PAGE};" for p in sorted(st.pages) if p]
    for ctype in ("int16_t", "organ_u24", "int32_t", "uint32_t"):
        names = [v for v, t in st.vars.items() if t == ctype]
        if names:
            head.append(f"    {ctype} {', '.join(names)};")
    head.append("    uint8_t t;")
    return head + prologue + st.body + epilogue + ["}"]


def design_step_c(qd: QuantizedDesign, name: str = "organ_design") -> list[str]:
    """C lines of a fixed design's steps (organ_dsp.h, THE STEP): ``<name>_step`` (one sample,
    ORGAN_STEP_INLINE); ``<name>_process`` (the same out of line: the design's ``step`` and the
    PROCESS path); ``<name>_step2`` (two samples, ORGAN_STEP_INLINE, the AVR interrupt's: each
    state object loaded and stored once for both, and from an odd tick ``<name>_process2``, two
    calls of ``<name>_process``)."""
    tasks, period = 2 * qd.ctl_tasks, qd.ctl_period
    one = _Step(qd, 1)
    _filters(one, ["x"])
    used = one.next - OFS_FS
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
    lines += [f"static void {name}_process(organ_state_t *s, int16_t x, organ_band_out_t *out)",
              "{", f"    {name}_step(s, x, out);", "}"]
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
    sig2 = (f"ORGAN_STEP_INLINE void {name}_step2(organ_state_t *s, int16_t x0, int16_t x1, "
            "organ_band_out_t *out)")
    odd = ["    if (s->tick & 1u) {",
           f"        {name}_process2(s, x0, x1, out);",
           "        return;",
           "    }"]
    lines += _function(
        two, sig2, odd,
        ["    t = s->tick;",
         f"    if (t < {tasks}u) {{",
         "        organ_k_control(s, out);",
         "    }",
         f"    s->tick = (uint8_t)(t == {period - 2}u ? 0u : t + 2u);"])
    return lines
