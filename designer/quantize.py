"""Float SOS bands -> ``QuantizedDesign``: Q formats, scaling, overflow proof, report.

Arithmetic (docs/dsp.md has the derivations; ``organ_dsp.h`` is the C contract):

- A bilinear first-order low-pass (b0 = b1) or high-pass (b0 = -b1) with unity passband gain,
  the RC twin, becomes an LP1/HP1 section: one unsigned Q16 coefficient ``c = round(b_lp 2^16)``
  (b_lp = (1 + a1) / 2) and a Q16.16 state. The pole stays at ``2c/2^16 - 1``; DC (LP) and
  Nyquist (HP) gains stay exactly 1. Where the section's response moves by at most
  ``BYTE_COEF_MAX_DB`` the coefficient is rounded to a multiple of 256 instead (``coef_bits`` 8:
  the AVR keeps three state bytes and multiplies by one), and ``in_shift`` is chosen so that the
  recursion's ``u = x + x1 - 2 hi(Y)`` is proven to fit int16.
- Every other section becomes a BQ in "delta" form: ``beta = 1 - a2`` and
  ``gamma = 1 + a1 + a2`` share one exponent, chosen as large as the int16 mantissas allow. For
  poles near z = 1 (low frequencies, narrow resonators) beta and gamma are small, so the
  exponent grows automatically: the 82 Hz / r = 0.995 resonator that is ~1 dB off in plain Q14
  gets 24 fractional bits ("wide" in the report, with the plain Q14 error for comparison). The
  states are Q16.16, but the pole terms multiply their integer parts: the damping term's
  rounding reaches up to beta / gamma output LSBs (hundreds for a low cutoff at a high rate).
  That is the arithmetic's error, not the coefficients' scored here: ``designer/check.py``
  measures it (docs/dsp.md, section 4).
- Scaling: per band an input shift (for sections whose gain cannot be scaled: LP1/HP1), and a
  numerator scale per BQ so each BQ's output uses ~97 % of the int16 range for the worst input.
- Overflow proof: for every node (section outputs, LP1 state and increment, BQ Y and D states)
  ``L1(impulse response from the band input) * input bound + worst rounding error < 2^15``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from designer import params as params_mod
from designer import quantize_bq as qbq
from designer import quantize_math as qm
from designer.errors import QuantizationError
from designer.qdesign import (
    DC_CORNER_HZ,
    Arithmetic,
    QBand,
    QSection,
    QuantizedDesign,
    SectionKind,
)

__all__ = ["BandSpec", "QuantizedDesign", "quantize", "MAX_ERROR_DB", "TARGET_ERROR_DB"]

#: a design whose quantized response deviates more than this over a passband is refused
MAX_ERROR_DB = 0.5
#: what the quantizer aims for (reported; tests hold the examples to it)
TARGET_ERROR_DB = 0.25
#: fraction of the int16 range a BQ output may use for the worst-case input
HEADROOM = 0.97
_FULL = 32768.0
#: the control rate the schedule aims for (Hz): the tasks of a round run on its first samples,
#: so an onset reaches the LEDs within a round and its tasks (~3.5 ms at 19.2 kHz)
CONTROL_TARGET_HZ = 400.0
#: the shortest control round, samples (240 Hz at the Uno's slower 9615 Hz)
CONTROL_MIN_PERIOD = 40
#: a first-order section takes a coefficient rounded to a multiple of 256 (one AVR multiply
#: instead of four, three state bytes instead of four) when its own response moves by at most
#: this over the band's passband (well inside TARGET_ERROR_DB; an RC band's -3 dB edge moves by
#: about 1 %)
BYTE_COEF_MAX_DB = 0.1
#: a biquad's mantissas are as narrow (as few AVR multiplies) as keeps its response, gain aside,
#: within this of its float design (designer/quantize_bq.py)
BYTE_MANTISSA_MAX_DB = qbq.MANTISSA_MAX_DB


@dataclass(frozen=True, eq=False)
class BandSpec:
    """One band's float design: ``sos`` (n, 6) rows ``[b0 b1 b2 1 a1 a2]`` (scipy convention,
    y = b.x - a1 y1 - a2 y2) and the passband (Hz) where the response error is scored."""

    name: str
    sos: np.ndarray
    passband_hz: tuple[float, float]


def quantize(
    bands: Sequence[BandSpec],
    fs: float,
    arithmetic: Arithmetic,
    params: dict[str, int] | None = None,
) -> QuantizedDesign:
    """Quantize ``bands`` (sample rate ``fs`` Hz) for the fixed-point or float32 core.

    ``params`` overrides runtime parameter defaults (wire values, see ``designer.params``).
    Raises ``QuantizationError`` naming the band for a design that is unstable, cannot be
    proven overflow-free, or deviates more than ``MAX_ERROR_DB`` over its passband."""
    if arithmetic not in ("fixed", "float"):
        raise QuantizationError(f"arithmetic must be 'fixed' or 'float', got {arithmetic!r}")
    if not (math.isfinite(fs) and fs > 0):
        raise QuantizationError(f"fs must be a positive number of Hz, got {fs}")
    if not bands:
        raise QuantizationError("a design needs at least one band")
    period = control_schedule(len(bands), fs)
    rshift = max(1, math.ceil(math.log2(period)))
    dc_coef = int(round(65536 * (1 - math.exp(-2 * math.pi * DC_CORNER_HZ / fs))))
    dc_coef = min(max(dc_coef, 1), 255)  # one byte: the AVR kernel (corner >= 4.96 Hz at 8 kHz)
    qbands, reports = [], []
    for spec in bands:
        sos = _check_spec(spec, fs)
        if arithmetic == "fixed":
            qb, rep = _quantize_fixed(spec, sos, fs)
        else:
            qb, rep = _quantize_float(spec, sos, fs)
        qbands.append(qb)
        reports.append(rep)
    report = {
        "dc_corner_hz": DC_CORNER_HZ,
        "worst_error_db": max(r["max_error_db"] for r in reports),
        "target_error_db": TARGET_ERROR_DB,
        "bands": reports,
    }
    return QuantizedDesign(
        arithmetic=arithmetic,
        fs=float(fs),
        dc_coef=dc_coef,
        ctl_period=period,
        rect_shift=rshift,
        ctl_hz=int(round(fs / period)),
        lvl_k=int(round(65536 * (2 / math.pi) * period / 2**rshift)),
        bands=tuple(qbands),
        param_defaults=tuple(params_mod.defaults(params).items()),
        report=report,
    )


def control_schedule(n_bands: int, fs: float) -> int:
    """Samples per control round for ``n_bands`` bands at ``fs`` Hz: about fs /
    ``CONTROL_TARGET_HZ``, at least ``CONTROL_MIN_PERIOD`` (below ~13 kHz the tasks' share of a
    sample would grow while the sound's own rise time, not the round, sets the latency), at
    least two per task of the round's ``n_bands + 3`` (organ_dsp.h: one task every other
    sample), at most 256 (the window sums are scaled by a shift of at most 8), and even, so that
    a pair of samples from an even tick holds at most one task (the AVR interrupt's two-sample
    step)."""
    tasks = n_bands + 3
    if 2 * tasks > 256:
        raise QuantizationError(f"at most 125 bands fit the control schedule, got {n_bands}")
    return min(max(2 * round(fs / (2 * CONTROL_TARGET_HZ)), CONTROL_MIN_PERIOD, 2 * tasks), 256)


def _check_spec(spec: BandSpec, fs: float) -> np.ndarray:
    sos = np.asarray(spec.sos, dtype=float)
    if sos.ndim != 2 or sos.shape[1] != 6 or sos.shape[0] == 0:
        raise QuantizationError(f"band {spec.name!r}: sos must have shape (n, 6), got {sos.shape}")
    if not np.all(np.isfinite(sos)):
        raise QuantizationError(f"band {spec.name!r}: sos contains non-finite values")
    if not np.allclose(sos[:, 3], 1.0):
        raise QuantizationError(f"band {spec.name!r}: sos rows must have a0 = 1, got {sos[:, 3]}")
    for k, row in enumerate(sos):
        r = qm.pole_radius(row[4], row[5])
        if r >= 1.0:
            raise QuantizationError(
                f"band {spec.name!r}: section {k} is unstable (pole radius {r:.6f} >= 1)"
            )
    lo, hi = spec.passband_hz
    if not (0 <= lo < hi):
        raise QuantizationError(f"band {spec.name!r}: passband_hz must be 0 <= lo < hi, got "
                                f"{spec.passband_hz}")
    return sos


def _classify(row: np.ndarray) -> SectionKind:
    b0, b1, b2, _, a1, a2 = row
    if b2 == 0.0 and a2 == 0.0 and b0 != 0.0:
        tol = 1e-9 * abs(b0)
        if abs(b0 - b1) <= tol and abs(b0 - (1 + a1) / 2) <= 1e-9:
            return "lp1"
        if abs(b0 + b1) <= tol and abs(b0 - (1 - a1) / 2) <= 1e-9:
            return "hp1"
    if b1 == 0.0 and b2 == 0.0:
        return "bq_gain"
    return "bq"


# ------------------------------------------------------------------------------ fixed point

def _quantize_fixed(spec: BandSpec, sos: np.ndarray, fs: float) -> tuple[QBand, dict[str, Any]]:
    kinds = [_classify(row) for row in sos]
    last_problem = ""
    # the cheapest biquad mantissas first; the most precise ones if the band is then off by
    # more than the target (each section is within MANTISSA_MAX_DB, but they add up)
    retry = bool({"bq", "bq_gain"} & set(kinds))
    for strict in (False, True) if retry else (False,):
        for in_shift in range(0, 9):
            try:
                sections, srep = _fixed_sections(spec, sos, kinds, in_shift, fs, strict)
            except qbq.NoFit as e:
                last_problem = str(e)
                continue
            try:
                band, rep = _finish(spec, sos, fs, "fixed", in_shift, sections, srep)
            except QuantizationError:
                if strict or not retry:
                    raise
                break
            if rep["max_error_db"] <= TARGET_ERROR_DB or strict or not retry:
                return band, rep
            break
    raise QuantizationError(f"band {spec.name!r}: no overflow-free scaling found "
                            f"(even with the input shifted by 8): {last_problem}")


def _fo_coefficient(row: np.ndarray, kind: SectionKind, passband_hz: tuple[float, float],
                    fs: float) -> tuple[int, int]:
    """(c, coef_bits) of an LP1/HP1 row: the Q16 coefficient of its low-pass recursion, rounded
    to a multiple of 256 when that moves the section's response by at most BYTE_COEF_MAX_DB."""
    b_lp = (1 + row[4]) / 2
    c = int(round(b_lp * 65536))
    m = int(round(b_lp * 256))
    if 1 <= m <= 255 and m * 256 != c:
        f = qm.passband_grid(passband_hz, fs)
        h_f = qm.response([(row[:3], row[3:])], f, fs)
        h_8 = qm.response([QSection(kind=kind, c=(m * 256, 0, 0, 0, 0)).coeffs("fixed")], f, fs)
        if qm.error_db(h_8, h_f) <= BYTE_COEF_MAX_DB:
            return m * 256, 8
    return c, 8 if c % 256 == 0 and c // 256 <= 255 else 16


def _fixed_sections(spec: BandSpec, sos: np.ndarray, kinds: list[str], in_shift: int,
                    fs: float, strict: bool) -> tuple[list[QSection], list[dict[str, Any]]]:
    full = _FULL * 2.0**-in_shift   # bound on |band input|
    lo_in, hi_in = -(32768 >> in_shift), 32767 >> in_shift  # exact range of the band input
    rows: list[tuple[np.ndarray, np.ndarray]] = []   # realised (b, a) so far, with scaling
    err = 0.0                                        # worst rounding error at the node, LSB
    sections, reps = [], []
    for k, (row, kind) in enumerate(zip(sos, kinds, strict=True)):
        rep: dict[str, Any] = {"index": k, "kind": kind}
        if kind in ("lp1", "hp1"):
            c, bits = _fo_coefficient(row, kind, spec.passband_hz, fs)
            if not 1 <= c <= 65535:
                raise QuantizationError(f"band {spec.name!r}: section {k} pole {-row[4]} cannot "
                                        f"be represented in Q16")
            qs = QSection(kind=kind, c=(c, 0, 0, 0, 0))
            bq, aq = qs.coeffs("fixed")
            lpb, lpa = QSection(kind="lp1", c=(c, 0, 0, 0, 0)).coeffs("fixed")
            h_lp = qm.impulse(rows, (lpb, lpa))
            p = abs(2 * c / 65536 - 1)
            # input error through the LP, the floor in u (2b per step through the pole), hi()
            err_lp = qm.l1(qm.impulse([(lpb, lpa)])) * err + (2 * c / 65536) / (1 - p) + 1.0
            if c <= 32768 and (k == 0 or sections[-1].kind == "lp1"):
                # b <= 1/2: y_new = (1 - 2b) y + b (x + x1) + floor error is a convex mix that
                # provably stays inside the int16 range of its inputs (docs/dsp.md)
                y_lp = full if k == 0 else reps[-1]["output_bound"]
                proof = "convex"
            else:
                y_lp = qm.l1(h_lp) * full + err_lp
                proof = "l1"
            rep.update(state_bound=y_lp, state_proof=proof, coef_bits=bits, wide=False)
            if y_lp > 32768:
                raise qbq.NoFit(f"section {k} state bound {y_lp:.0f} > 32768")
            u_b = qm.u_bound(rows, lpb, lpa, full, err, err_lp, proof == "convex" and k == 0,
                           lo_in, hi_in)
            rep["u_bound"] = u_b
            if u_b > 32767:
                raise qbq.NoFit(f"section {k}: x + x1 - 2 hi(Y) bound {u_b:.0f} > 32767")
            if kind == "hp1":
                err = err + err_lp
                h_out = qm.impulse(rows, (bq, aq))
                bound = qm.l1(h_out) * full + err
                if bound > 32767:
                    raise qbq.NoFit(f"section {k} output bound {bound:.0f} > 32767")
            else:
                err, bound = err_lp, y_lp
            rep.update(output_bound=bound, error_bound_lsb=err)
        else:
            qs, bound, err = qbq.fixed_bq(spec.name, k, row, kind, rows, full, err, rep,
                                          qm.passband_grid(spec.passband_hz, fs), fs, strict,
                                          HEADROOM)
            bq, aq = qs.coeffs("fixed")
        rep["pole_displacement"] = qm.pole_shift(row[3:], aq)
        rows.append((bq, aq))
        sections.append(qs)
        reps.append(rep)
    return sections, reps


# ------------------------------------------------------------------------------ float32

def _quantize_float(spec: BandSpec, sos: np.ndarray, fs: float) -> tuple[QBand, dict[str, Any]]:
    f32 = np.float32
    sections, reps = [], []
    for k, row in enumerate(sos):
        kind = _classify(row)
        if kind in ("lp1", "hp1"):
            c = (float(f32((1 + row[4]) / 2)), 0.0, 0.0, 0.0, 0.0)
        else:
            b = row[:3] if kind == "bq" else np.array([row[0], 0.0, 0.0])
            c = tuple(float(f32(v)) for v in (b[0], b[1], b[2], 1.0 - row[5],
                                              1.0 + row[4] + row[5]))
        qs = QSection(kind=kind, c=c)
        _, aq = qs.coeffs("float")
        if qm.pole_radius(aq[1], aq[2]) >= 1.0:
            raise QuantizationError(f"band {spec.name!r}: section {k} becomes unstable in float32")
        reps.append({"index": k, "kind": kind, "coef_bits": 24, "wide": False,
                     "pole_displacement": qm.pole_shift(row[3:], aq)})
        sections.append(qs)
    return _finish(spec, sos, fs, "float", 0, sections, reps)


# ------------------------------------------------------------------------------ report

def _finish(spec: BandSpec, sos: np.ndarray, fs: float, arithmetic: Arithmetic, in_shift: int,
            sections: list[QSection], reps: list[dict[str, Any]]) -> tuple[QBand, dict[str, Any]]:
    f = qm.passband_grid(spec.passband_hz, fs)
    rows_q = [s.coeffs(arithmetic) for s in sections]
    rows_f = [(r[:3], r[3:]) for r in sos]
    h_f = qm.response(rows_f, f, fs)
    h_q = qm.response(rows_q, f, fs)
    if arithmetic == "fixed":
        h_q = h_q * 2.0**-in_shift
        # realised gain: the scaling is exact in the numerators' mantissas; fit it in the
        # least-squares sense over the passband (it is a real constant up to quantization)
        gain = float(np.exp(np.mean(np.log(np.abs(h_q) / np.abs(h_f)))))
        norm_q = int(round(256 / gain))
        if not 1 <= norm_q <= 65535:
            raise QuantizationError(f"band {spec.name!r}: level normalisation {256 / gain:.0f} "
                                    f"does not fit Q8.8 (band gain {gain:.3g})")
        norm: float = norm_q
        h_eff = h_q * norm_q / 256
    else:
        gain, norm = 1.0, 1.0
        h_eff = h_q
    err_db = qm.error_db(h_eff, h_f)
    for rep, row in zip(reps, sos, strict=True):
        if rep["kind"] in ("bq", "bq_gain") and arithmetic == "fixed":
            rep["q14_error_db"] = qm.q14_error(rows_f, rep["index"], row, f, fs, h_f)
    if not math.isfinite(err_db) or err_db > MAX_ERROR_DB:
        raise QuantizationError(
            f"band {spec.name!r}: quantized response deviates {err_db:.3f} dB from the float "
            f"design over its passband {spec.passband_hz[0]:g}..{spec.passband_hz[1]:g} Hz "
            f"(limit {MAX_ERROR_DB} dB)")
    band = QBand(name=spec.name, in_shift=in_shift, norm=norm, sections=tuple(sections),
                 sos=tuple(tuple(float(v) for v in r) for r in sos),
                 passband_hz=(float(spec.passband_hz[0]), float(spec.passband_hz[1])))
    rep = {
        "name": spec.name,
        "in_shift": in_shift,
        "band_gain": gain,
        "norm": norm,
        "max_error_db": err_db,
        "pole_displacement": max((r["pole_displacement"] for r in reps), default=0.0),
        "overflow_proof": arithmetic == "fixed",
        "wide_sections": [r["index"] for r in reps if r.get("wide")],
        "sections": reps,
    }
    return band, rep


