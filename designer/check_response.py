"""The build's measurement of each fixed-point band as ``designer verify`` will measure the board.

The quantizer's proof (designer/quantize.py) bounds overflow and compares the quantized
coefficients' response with the float design, but the firmware's arithmetic also rounds: a
biquad multiplies its damping term by the integer part of its state only, and poles close to
z = 1 amplify that loss by up to beta / gamma (464 for a 30 Hz, order-12 low-pass at 44.1 kHz).
So the build plays verify's own response stage (host/verify_signals.py: tones, settling, record,
fit, the -40 dB floor) through the bit-exact filter output (designer.model.band_output) and
refuses a band more than MAX_ERROR_DB off, naming what to change; a float design is not measured
(it measures 0.000 dB). docs/dsp.md, "The arithmetic, measured".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from host import verify_signals as S  # the response stage's tones, record and fit

from .boards import BOARDS
from .design import Design
from .model import band_output
from .quantize import MAX_ERROR_DB

#: ``designer verify`` does not score a tone where the design is below this (host/verify.py)
RESPONSE_FLOOR_DB = -40.0


@dataclass(frozen=True)
class BandResponse:
    """One band's largest error (dB) over verify's scored tones on the whole record (what verify
    reports) and on the whole record or either half, where that is and the design's level."""

    name: str
    whole_record_db: float
    max_error_db: float
    freq_hz: float
    design_db: float
    record: str  # "whole record", "first half" or "second half"
    tones_hz: tuple[float, ...]


def measure_response(design: Design, i: int) -> BandResponse:
    """Band ``i`` of a fixed-point design measured as ``designer verify`` measures a board
    (host/verify.py, stage_response: the same multitone from reset, settling, record and
    least-squares fit, the gain times ``norm`` against ``QuantizedDesign.response``), with the
    filter output of ``designer.model.band_output``, bit-exact with the board. Scored on the
    whole record, which a board whose samples all come through gives verify exactly, and on
    each half of it, since verify scores a record that lost up to half its samples: round-off
    that only averages out over the whole record is not close to the design."""
    qd, fs = design.quantized, design.sample_rate_hz
    freqs = S.band_tones(design.filters.bands[i], fs)
    settle = S.settle_samples(qd, i)
    n = settle + S.measure_length(freqs, fs)
    x = S.multitone(freqs, fs, n)
    y = band_output(qd, i, x).astype(float)
    design_db = _db(qd.response(freqs, raw=False)[i])
    idx, h = np.arange(settle, n), (n - settle) // 2
    scores = []
    for record, sub in (("whole record", idx), ("first half", idx[:h]), ("second half", idx[h:])):
        gain = S.fit_tones(y[sub], freqs, fs, sub) / S.fit_tones(x[sub].astype(float), freqs,
                                                                fs, sub)
        err = np.abs(_db(gain * qd.norm_factor(i)) - design_db)
        err = np.where(design_db >= RESPONSE_FLOOR_DB, err, 0.0)
        k = int(np.argmax(err))
        scores.append((float(err[k]), record, k))
    worst, record, k = max(scores)
    return BandResponse(qd.bands[i].name, scores[0][0], worst, float(freqs[k]),
                        float(design_db[k]), record, tuple(map(float, freqs)))


def _db(h: np.ndarray) -> np.ndarray:
    return 20 * np.log10(np.maximum(np.abs(h), 1e-12))


def _amplification(design: Design, i: int) -> float:
    """The largest beta / gamma of band ``i``'s biquads: how many LSBs at the section's output
    one LSB of the rounded damping term beta hi(D) can become (its DC gain 1 / gamma)."""
    out = 0.0
    for sec in design.quantized.bands[i].sections:
        if sec.kind in ("bq", "bq_gain"):
            _, a = sec.coeffs("fixed")
            out = max(out, (1.0 - a[2]) / (1.0 + a[1] + a[2]))
    return out


def _response_remedies(design: Design, i: int) -> list[str]:
    """What moves band ``i``'s poles away from z = 1 (or leaves the fixed-point core), by key."""
    band, cfg = design.filters.bands[i], design.config["bands"][i]
    out = []
    if isinstance(cfg.get("order"), int) and cfg["order"] > 2:
        out.append(f"a lower bands[{i}].order (now {cfg['order']})")
    keys = {"lowpass": "cutoff_hz", "highpass": "cutoff_hz", "bandpass": "low_hz"}
    if band.type in keys:
        out.append(f"a higher bands[{i}].{keys[band.type]}")
    board, fs = design.board, design.sample_rate_hz
    if board.rate_range_hz is not None and board.rate_range_hz[0] < fs:
        out.append(f"a lower sample_rate_hz (down to {board.rate_range_hz[0]})")
    lower = [r for r in board.exact_rates_hz if r < 0.999 * fs]
    if board.rate_range_hz is None and lower:
        out.append(f"sample_rate_hz = {max(lower):.2f}")
    floats = [b.name for b in BOARDS.values() if b.arithmetic == "float"]
    if floats:
        out.append(f'board = "{floats[0]}" (float arithmetic)')
    return out


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + ", or " + options[-1]


def response_problems(design: Design) -> tuple[dict[str, float], list[str]]:
    """Every band's measured error (fixed point; a float32 design's round-off is ~1e-7 of the
    signal and is not measured) and a message per band more than MAX_ERROR_DB off."""
    if design.quantized.arithmetic != "fixed":
        return {}, []
    errors, problems = {}, []
    for i in range(design.quantized.n_bands):
        r = measure_response(design, i)
        errors[r.name] = r.whole_record_db
        if r.max_error_db <= MAX_ERROR_DB:
            continue
        amp = _amplification(design, i)
        why = (f"the core rounds each biquad's damping term to whole LSBs of its state, and "
               f"poles this close to z = 1 amplify that up to {amp:.0f} times. " if amp > 1
               else "")
        problems.append(
            f"band {r.name!r} (bands[{i}]): its fixed-point filters, run bit-exactly on the "
            f"{len(r.tones_hz)} tones {r.tones_hz[0]:.0f}..{r.tones_hz[-1]:.0f} Hz that "
            f"`designer verify` plays, are {r.max_error_db:.2f} dB off the quantized design at "
            f"{r.freq_hz:.1f} Hz (design {r.design_db:.1f} dB; {r.record}; limit "
            f"{MAX_ERROR_DB} dB): {why}Use {_either(_response_remedies(design, i))}")
    return errors, problems
