"""AVR assembly of one biquad section (BQ, BQ_GAIN) for one or two samples: the generated step's
``#if ORGAN_AVR_ASM`` branch (designer/cstep.py writes the portable C next to it).

The section's constants are known here, so the assembly is written for them: every coefficient
is an unsigned mantissa byte string and every exponent a multiple of 8 (organ_dsp.h, BQ), so
``D + num 2^-sh_num - m_beta hi(D) 2^-sh_beta - m_gamma hi(Y) 2^-sh_gamma`` is D plus a sum of
8 x 8 partial products, each added or subtracted at a whole byte of D itself, extended below
2^-16 LSB by the bytes ``e`` (zero at the start), which only carry exactly into D: dropping them
is the floor of the increment (D is an integer). hi(D) is copied first (``hd``). A partial of
an unsigned constant byte and a signed register byte is a MULSU through the copy ``t`` (MULSU
takes r16..r23 only); its sign extension is one SBC/ADC chain started from the carry MULSU
leaves. Bytes of ``e`` not yet written are known zero and cost nothing until a carry reaches
them. State (Y, D, and the input history of a BQ) is loaded and stored once per call, so the
two-sample version pays for it once per pair; both samples' numerator sums s = x + r1 x1 + r2 x2
are formed first, in place of their inputs, while D's registers hold the history; a general
numerator's partials read the history from memory instead (a pair hands its first input to the
second sample through x2's slot). Operands are bytes and byte pairs, never quads, so the
compiler can place them around whatever else is live.
"""

from __future__ import annotations

import re

from designer.qdesign import QSection

_BYTE = "ABCD"


def _bytes(m: int) -> list[int]:
    """Little-endian bytes of a nonnegative constant."""
    out = []
    while m:
        out.append(m & 255)
        m >>= 8
    return out


def structure(sec: QSection) -> tuple[int, int, int] | None:
    """(1, r1, r2) when the numerator is c[0] (1, r1, r2) with |r| <= 2 and |c[0]| (1 + |r1| +
    |r2|) < 2^16 (the portable C forms c[0] s in int32), else None."""
    c = [int(v) for v in sec.c[:3]]
    if sec.kind == "bq_gain":
        return 1, 0, 0
    if c[0] != 0 and all(v % c[0] == 0 and abs(v // c[0]) <= 2 for v in c[1:]):
        r = (1, c[1] // c[0], c[2] // c[0])
        if abs(c[0]) * sum(abs(v) for v in r) <= 65535:
            return r
    return None


#: registers a block may ask for, the base pointer included (the compiler must find them
#: around whatever else is live in an interrupt; 22 already failed in a test program)
MAX_REGISTERS = 20

_YH = ("%A[yh]", "%B[yh]")
_D = ("%A[dl]", "%B[dl]", "%A[dh]", "%B[dh]")


class _Asm:
    """Instruction list; the accumulator is D (bytes 0..3, always holding their value) and the
    extension (bytes lo..-1 in ``ext``: 'zero' until written, register garbage until then)."""

    def __init__(self, lo: int, ext: list[str]):
        self.lines: list[str] = []
        self.lo = lo
        self.ext = ext  # register of byte -1, -2, ...
        self.state: dict[int, str] = {}
        self.t_holds = self.c_holds = ""

    def op(self, text: str) -> None:
        self.lines.append(text)

    def reg(self, p: int) -> str:
        return _D[p] if p >= 0 else self.ext[-p - 1]

    def pair_ok(self, p: int) -> bool:
        """movw to bytes p, p + 1: both in the extension pair, p = -2."""
        return p == -2 and len(self.ext) == 2

    def reset(self) -> None:
        self.state = {p: "zero" if p < 0 else "val" for p in range(self.lo, 4)}
        self.t_holds = self.c_holds = ""

    def _val(self, p: int) -> None:
        """Materialise a known-zero byte (CLR leaves the carry alone)."""
        if self.state[p] == "zero":
            self.op(f"clr   {self.reg(p)}")
            self.state[p] = "val"

    def partial(self, p: int, reg: str, signed: bool, neg: bool) -> None:
        """acc +-= k reg at byte p (k the constant in %[k]); reg signed: a MULSU through t; reg
        in memory ('%a[b]+o'): loaded into c (or t) first."""
        if signed:
            if self.t_holds != reg:
                self.op(f"{'ldd' if reg.startswith('%a') else 'mov'}   %[t], {reg}")
                self.t_holds = reg
            self.op("mulsu %[t], %[k]")
        elif reg.startswith("%a"):
            if self.c_holds != reg:
                self.op(f"ldd   %[c], {reg}")
                self.c_holds = reg
            self.op("mul   %[c], %[k]")
        else:
            self.op(f"mul   {reg}, %[k]")
        top = [q for q in range(p + 2, 4)]
        if signed and top:
            # a negative partial's sign bytes: -1 (+1 when subtracting) from byte p + 2 up,
            # from the carry MULSU leaves (CLR keeps it)
            for q in top:
                self._val(q)
            for q in top:
                self.op(f"{'adc' if neg else 'sbc'}   {self.reg(q)}, %[z]")
        chain = [(p, "r0"), (p + 1, "r1")] + [(q, "%[z]") for q in top]
        started = False
        for q, src in chain:
            if q > 3:
                break
            if not started and not neg and self.state[q] == "zero" and src != "%[z]":
                if src == "r0" and self.state[p + 1] == "zero" and self.pair_ok(p):
                    self.op(f"movw  {self.reg(p)}, r0")
                    self.state[p] = self.state[p + 1] = "val"
                    break  # both bytes were zero: nothing to carry
                self.op(f"mov   {self.reg(q)}, {src}")
                self.state[q] = "val"
                continue
            if not started and src == "%[z]":
                break  # no carry pending
            self._val(q)
            ins = ("sub" if neg else "add") if not started else ("sbc" if neg else "adc")
            self.op(f"{ins}   {self.reg(q)}, {src}")
            started = True


def _term_partials(const: int, pos: int, regs: list[tuple[str, bool]]
                   ) -> list[tuple[int, int, str, bool]]:
    """(constant byte, position, register, signed) of const x value (value bytes regs, little
    endian) at byte pos; positions above 3 vanish mod 2^32."""
    out = []
    for a, kb in enumerate(_bytes(const)):
        if kb == 0:
            continue
        for b, (reg, signed) in enumerate(regs):
            if pos + a + b <= 3:
                out.append((kb, pos + a + b, reg, signed))
    return out


def _sum(asm: _Asm, dst: tuple[str, str, str], terms: list[tuple[int, tuple[str, str]]]
         ) -> None:
    """dst (3 bytes) = sum of r v over terms (r in +-1, +-2; the first r is 1; v int16 register
    pairs, sign-extended); dst's low bytes are the first term's registers. 2 v is formed once in
    (yh, k), free until the partials: LSL/ROL leave its sign in the carry."""
    (r, (v0, v1)), rest = terms[0], terms[1:]
    assert r == 1 and (dst[0], dst[1]) == (v0, v1)
    asm.op(f"mov   {dst[2]}, %[z]")
    asm.op(f"sbrc  {v1}, 7")
    asm.op(f"com   {dst[2]}")
    for r, (v0, v1) in rest:
        add = r > 0
        if abs(r) == 2:
            asm.op(f"movw  {_YH[0]}, {v0}")
            asm.op(f"lsl   {_YH[0]}")
            asm.op(f"rol   {_YH[1]}")
            asm.op("sbc   %[k], %[k]")
            asm.op(f"{'add' if add else 'sub'}   {dst[0]}, {_YH[0]}")
            asm.op(f"{'adc' if add else 'sbc'}   {dst[1]}, {_YH[1]}")
            asm.op(f"{'adc' if add else 'sbc'}   {dst[2]}, %[k]")
            continue
        asm.op(f"{'add' if add else 'sub'}   {dst[0]}, {v0}")
        asm.op(f"{'adc' if add else 'sbc'}   {dst[1]}, {v1}")
        asm.op(f"{'adc' if add else 'sbc'}   {dst[2]}, %[z]")
        asm.op(f"sbrc  {v1}, 7")
        asm.op(f"{'dec' if add else 'inc'}   {dst[2]}")


def _pos(sh: int) -> int:
    if sh % 8:
        raise ValueError(f"the AVR step needs exponents that are multiples of 8, got {sh}")
    return -sh // 8


def _x(k: int) -> tuple[str, str]:
    return f"%A[x{k}]", f"%B[x{k}]"


def bq_asm(sec: QSection, xs: list[str], ys: list[str], base: str, o: int) -> list[str]:
    """C lines: a block that runs ``sec`` on the samples ``xs`` (int16 C names, 1 or 2) and sets
    ``ys``; its state at ``base`` + o (Y, D, and for a BQ the input history x1, x2)."""
    n = len(xs)
    r = structure(sec)
    c = [int(v) for v in sec.c]
    pn, pb, pg = _pos(sec.sh_num), _pos(sec.sh_beta), _pos(sec.sh_gamma)
    hist = sec.kind == "bq"
    general = r is None
    at = [f"%a[b]+{o + i}" for i in range(12)]
    need2 = hist and (general or r[2] != 0)
    if general:
        # the history stays in memory, read by each partial (no registers held for it); in a
        # pair the first sample's input goes to x2's slot once the first sample has read it:
        # the second sample's x1 there, its x2 the old x1, the history right at the end
        m1, m2 = (at[8], at[9]), (at[10], at[11])
        mid = m2
        hists = [(m1, m2), (mid, m1)][:n]
    else:
        # the history in D's registers while they are free (a structured sum)
        h1, h2 = _D[:2], _D[2:]
    # each sample's numerator: (signed constant, [value bytes]) terms
    terms: list[list[tuple[int, list[tuple[str, bool]]]]] = []
    for k in range(n):
        if general:
            # x1 last: a single sample's history move then stores the bytes its partials left
            # in c and t
            order = [0, 2, 1] if n == 1 else [0, 1, 2]
            vals = [_x(k), *hists[k]]
            terms.append([(c[j], [(vals[j][0], False), (vals[j][1], True)])
                          for j in order if c[j]])
        elif hist:
            terms.append([(c[0], [(_x(k)[0], False), (_x(k)[1], False), (f"%[s{k}]", True)])])
        else:
            terms.append([(c[0], [(_x(k)[0], False), (_x(k)[1], True)])])
    # hi(D)'s partials first, before the numerator's signed partial needs t: its sign byte is
    # copied to t, its low byte read in place when one mantissa byte reads it once, before any
    # carry changes it, else copied to c
    hd_low = _D[2] if c[3] < 256 else "%[c]"
    plans = []
    for k in range(n):
        beta = [(pt, True) for pt in _term_partials(c[3], pb, [(hd_low, False), ("%[t]", True)])]
        num = [(pt, cj < 0) for cj, regs in terms[k] for pt in _term_partials(abs(cj), pn, regs)]
        gamma = [(pt, True) for pt in _term_partials(c[4], pg, [(_YH[0], False),
                                                                (_YH[1], True)])]
        # a general numerator's history last (see above), hi(Y)'s partials before it
        plans.append(beta + gamma + num if general else beta + num + gamma)
    lo = min([0] + [pt[1] for plan in plans for pt, _ in plan])
    if lo < -2:
        raise ValueError(f"the AVR step carries at most two bytes below D, got {-lo}")
    # one sample, or two bytes below D, or more registers than MAX_REGISTERS otherwise: Y's low
    # half is loaded after each sample's partials, into the extension's registers (a register
    # or two fewer, four cycles more per sample); otherwise Y stays in registers for both
    # samples. The count: base, inputs, yh, D, t, k, z, the sums' third bytes, c, yl, e
    uses_c = general or hd_low == "%[c]"
    held = 2 + 2 * n + 2 + 4 + 3 + (n if hist and not general else 0) + uses_c + 2 + (lo < 0)
    late = n == 1 or lo == -2 or held > MAX_REGISTERS
    yl = ("%A[w]", "%B[w]") if late else ("%A[yl]", "%B[yl]")
    ext = ["%B[w]", "%A[w]"] if late else ["%[e]"]
    asm = _Asm(lo, ext)
    asm.op("clr   %[z]")
    if hist and not general:
        asm.op(f"ldd   {h1[0]}, {at[8]}")
        asm.op(f"ldd   {h1[1]}, {at[9]}")
        if need2:
            asm.op(f"ldd   {h2[0]}, {at[10]}")
            asm.op(f"ldd   {h2[1]}, {at[11]}")
            prev = _x(n - 2) if n == 2 else h1
            asm.op(f"std   {at[10]}, {prev[0]}")
            asm.op(f"std   {at[11]}, {prev[1]}")
        asm.op(f"std   {at[8]}, {_x(n - 1)[0]}")
        asm.op(f"std   {at[9]}, {_x(n - 1)[1]}")
        # both samples' s = x + r1 x1 + r2 x2, the later one first (it reads x of the earlier
        # one), each in place of its x with a third byte s<k>
        for k in reversed(range(n)):
            seq = [_x(k), _x(k - 1) if k >= 1 else h1, h1 if k == 1 else h2]
            _sum(asm, (*_x(k), f"%[s{k}]"), [(rj, v) for rj, v in zip(r, seq, strict=True) if rj])
    if not late:
        asm.op(f"ldd   {yl[0]}, {at[0]}")
        asm.op(f"ldd   {yl[1]}, {at[1]}")
    asm.op(f"ldd   {_YH[0]}, {at[2]}")
    asm.op(f"ldd   {_YH[1]}, {at[3]}")
    for i in range(4):
        asm.op(f"ldd   {_D[i]}, {at[4 + i]}")
    outs = []
    for k in range(n):
        asm.reset()
        if hd_low == "%[c]":
            asm.op(f"mov   %[c], {_D[2]}")
        asm.op(f"mov   %[t], {_D[3]}")
        asm.t_holds = "%[t]"
        kb_now = None
        for (kb, p, reg, sg), neg in plans[k]:
            if kb != kb_now:
                asm.op(f"ldi   %[k], {kb}")
                kb_now = kb
            asm.partial(p, reg, sg, neg)
        if late:
            asm.op(f"ldd   {yl[0]}, {at[0]}")
            asm.op(f"ldd   {yl[1]}, {at[1]}")
        asm.op(f"add   {yl[0]}, {_D[0]}")
        asm.op(f"adc   {yl[1]}, {_D[1]}")
        asm.op(f"adc   {_YH[0]}, {_D[2]}")
        asm.op(f"adc   {_YH[1]}, {_D[3]}")
        if late and k < n - 1:
            asm.op(f"std   {at[0]}, {yl[0]}")
            asm.op(f"std   {at[1]}, {yl[1]}")
        if k < n - 1:
            if general:
                asm.op(f"std   {mid[0]}, {_x(0)[0]}")
                asm.op(f"std   {mid[1]}, {_x(0)[1]}")
            # the first sample's output where its input no longer is needed
            asm.op("movw  %A[x0], %A[yh]")
            outs.append("v0")
    outs.append("(int16_t)ryh")
    if general and hist:
        # the history moves on after the partials have read it
        if n == 1 and need2:
            for i, reg, holds in ((0, "%[c]", asm.c_holds), (1, "%[t]", asm.t_holds)):
                if holds != at[8 + i]:
                    asm.op(f"ldd   {reg}, {at[8 + i]}")
                asm.op(f"std   {at[10 + i]}, {reg}")
        asm.op(f"std   {at[8]}, {_x(n - 1)[0]}")
        asm.op(f"std   {at[9]}, {_x(n - 1)[1]}")
    asm.op(f"std   {at[0]}, {yl[0]}")
    asm.op(f"std   {at[1]}, {yl[1]}")
    asm.op(f"std   {at[2]}, {_YH[0]}")
    asm.op(f"std   {at[3]}, {_YH[1]}")
    for i in range(4):
        asm.op(f"std   {at[4 + i]}, {_D[i]}")
    asm.op("clr   __zero_reg__")
    return _block(asm, n, xs, ys, outs, base, late, lo)


def _block(asm: _Asm, n: int, xs: list[str], ys: list[str], outs: list[str], base: str,
           late: bool, lo: int) -> list[str]:
    """The C block around the assembly: its scratch variables and operands."""
    text = "\n".join(asm.lines)
    decl = ["uint16_t ryh, rdl, rdh;", "uint8_t rt, rk, rz;"]
    outputs = [f'[x{k}] "+r"(v{k})' for k in range(n)]
    outputs += ['[yh] "=&r"(ryh)', '[dl] "=&r"(rdl)', '[dh] "=&r"(rdh)', '[t] "=&a"(rt)',
                '[k] "=&a"(rk)', '[z] "=&r"(rz)']
    if "%[c]" in text:
        decl.append("uint8_t rc;")
        outputs.append('[c] "=&r"(rc)')
    if late:
        decl.append("uint16_t rw;")
        outputs.append('[w] "=&r"(rw)')
    else:
        decl.append("uint16_t ryl;")
        outputs.append('[yl] "=&r"(ryl)')
        if lo:
            decl.append("uint8_t re;")
            outputs.append('[e] "=&r"(re)')
    for k in range(n):
        if f"%[s{k}]" in text:
            decl.append(f"uint8_t rs{k};")
            outputs.append(f'[s{k}] "=&r"(rs{k})')
    decl.append(" ".join(f"int16_t v{k} = {x};" for k, x in enumerate(xs)))
    body = ["{"] + ["    " + d for d in decl]
    body.append("    __asm__ __volatile__(")
    body += [f'        "{line:<28}\\n\\t"' for line in asm.lines]
    body.append("        : " + ", ".join(outputs))
    body.append(f'        : [b] "b"({base})')
    body.append('        : "r0", "memory");')
    body += [f"    {y} = {out};" for y, out in zip(ys, outs, strict=True)]
    body.append("}")
    return body


#: cycles of the instructions the blocks use (ATmega328P); SBRC skips a one-word instruction,
#: 1 + 1 or 2 + 0 cycles: counted as 1 with the instruction it guards
_CYCLES = {"ldd": 2, "std": 2, "mul": 2, "mulsu": 2, "muls": 2}


def bq_cycles(sec: QSection, n: int) -> int:
    """Cycles of the block that runs ``sec`` on n samples (1 or 2): the block has no
    branches, so this is exact for its instructions (the compiler's moves around it aside)."""
    total = 0
    for line in bq_asm(sec, [f"x{i}" for i in range(n)], [f"y{i}" for i in range(n)], "b0", 0):
        m = re.match(r'\s*"(\w+)', line)
        if m:
            total += _CYCLES.get(m.group(1), 1)
    return total
