"""``designer verify``: does the board compute exactly what the design says?

Stages, on an open :class:`host.board.Board`:

1. handshake: INFO; the board's design hash must be the design's (else
   :class:`host.board.DesignMismatchError`), and its bands and arithmetic must match;
2. parameters: the board's current values are read, the design's defaults SET for the test,
   and the user's values SET back at the end, whatever happens (RAM only: nothing is saved);
3. bit-exact: impulses, steps, chirps, band-edge tones, white noise and full-scale signals
   (>= 10,000 samples) through PROCESS, every band's y, env and led against the Python oracle
   (``designer.model``); a mismatch names the band and the first differing sample;
4. response: per band, >= 12 log-spaced tones from half its lower -3 dB edge (20 Hz for a
   low-pass) to twice its upper edge (0.45 fs for a high-pass), played together; the gain from
   the board's filter output y against the quantized design's response
   (``QuantizedDesign.response``, DC blocker included); pass <= 0.5 dB, points where the design
   is below -40 dB not scored;
5. LED table (the RC notebook's): tones 300..1500 Hz in 200 Hz steps; "desired" by the -3 dB
   rule on the designed response, "predicted" the board's LED once the tone has settled; a
   mismatch fails unless the tone lies within 5 % of one of the band's -3 dB edges;
6. LED per band: the table never lights some bands of most designs (classic: treble), so
   each band gets a steady tone where it is clearly on (``verify_signals.led_band_tone``: a
   table tone that already lights it clearly, reused, else the log middle of its passband;
   never within 5 % of any band's edge), at the table's level and settling, every band's LED
   scored by the same rule. JSON ``led_bands``: rows as the table's plus ``tone_for``, the
   band the tone is for.

:func:`verify` returns the report as a dict: the ``verify --json`` document of DESIGN.md, plus
``<stage>_ok`` verdicts and ``stage_seconds`` (the wall time of each stage).
Levels are in dB relative to the designed response (the raw output divided by the band's
compiled-in level normalisation), so a passband reads about 0 dB.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from designer import params as params_mod
from designer.design import Design
from designer.filters import BandFilter
from designer.units import ARITHMETIC_NAMES

from . import protocol as P
from . import verify_signals as S
from .board import Board
from .verify_runner import BlockRunner, LinkUnreliableError, same

TOLERANCE_DB = 0.5
FLOOR_DB = -40.0
BIT_EXACT_SAMPLES = 12000   # the stage compares at least 10,000
MIN_COMPARED = 10000
LED_TONES_HZ = tuple(range(300, 1501, 200))
LED_PEAK = 16384            # -6 dBFS
LED_MIN_S = 0.3


class BoardMismatchError(P.ProtocolError):
    """The board's bands or arithmetic do not match the design (despite the hash)."""


@dataclass(frozen=True)
class VerifyOptions:
    bit_exact_samples: int = BIT_EXACT_SAMPLES
    n_tones: int = S.N_TONES
    led_tones_hz: tuple[int, ...] = LED_TONES_HZ
    tolerance_db: float = TOLERANCE_DB
    floor_db: float = FLOOR_DB
    seed: int = 0


Log = Callable[[str], None]


def verify(
    board: Board,
    design: Design,
    *,
    connect: Callable[[], Board] | None = None,
    options: VerifyOptions = VerifyOptions(),
    log: Log = lambda _m: None,
) -> dict[str, Any]:
    """Run every stage; the report (``report["ok"]`` is the verdict). Link trouble raises
    (``protocol.ProtocolError`` subclasses), a wrong design raises DesignMismatchError."""
    t0 = time.monotonic()
    info = board.check_design(design.hash)
    _check_shape(info, design)
    log(f"board {info.board} (firmware {info.fw_version}) runs design {design.hash[:12]}")
    qd = design.quantized
    wanted = qd.params()
    test_values = {p.id: wanted[p.name] for p in params_mod.PARAMS}
    user = _read_params(board, test_values)
    changed = {pid: v for pid, v in test_values.items() if pid in user and user[pid] != v}
    runner = BlockRunner(board, expected_hash=design.hash, connect=connect, params=changed,
                         oracle=lambda: _model(design, wanted))
    report: dict[str, Any] = {"ok": False, "design_hash": design.hash, "board": _board_doc(info)}
    restored = False
    seconds: dict[str, float] = {}
    try:
        runner.apply_params()
        report["bit_exact"] = _timed(seconds, "bit_exact", lambda: stage_bit_exact(
            runner, design, wanted, options, log))
        report["bands"] = _timed(seconds, "response", lambda: stage_response(
            runner, design, options, log))
        report["led_table"] = _timed(seconds, "led_table", lambda: stage_led_table(
            runner, design, wanted, options, log))
        report["led_bands"], report["led_bands_untested"] = _timed(
            seconds, "led_bands",
            lambda: stage_led_bands(runner, design, wanted, report["led_table"], log))
    finally:
        restored = _restore(runner, user, changed, log)
    report["parameters"] = {
        "set_for_test": {params_mod.by_id(i).name: v for i, v in changed.items()},
        "restored": restored,
    }
    report["link"] = {"faults": dict(runner.faults), "reconnects": runner.reconnects,
                      "lost_samples": runner.lost_samples}
    report["bit_exact_ok"] = report["bit_exact"]["ok"]
    report["response_ok"] = all(b["ok"] for b in report["bands"])
    report["led_table_ok"] = all(r["ok"] for r in report["led_table"])
    report["led_bands_ok"] = all(r["ok"] for r in report["led_bands"])
    report["ok"] = (report["bit_exact_ok"] and report["response_ok"] and report["led_table_ok"]
                    and report["led_bands_ok"])
    report["seconds"] = round(time.monotonic() - t0, 3)
    report["stage_seconds"] = seconds
    return report


def _timed(seconds: dict[str, float], name: str, stage: Callable[[], Any]) -> Any:
    """Run one stage, noting its wall time in ``seconds[name]`` (the cost of each stage)."""
    t = time.monotonic()
    try:
        return stage()
    finally:
        seconds[name] = round(time.monotonic() - t, 3)


def _check_shape(info: P.Info, design: Design) -> None:
    fmt = P.ValueFormat.FLOAT32 if design.quantized.arithmetic == "float" else P.ValueFormat.INT16
    if tuple(info.band_names) != tuple(design.band_names):
        raise BoardMismatchError(f"the board's bands are {list(info.band_names)}, "
                                 f"the design's {list(design.band_names)}")
    if info.value_format != fmt:
        raise BoardMismatchError(f"the board reports value format {info.value_format}, the "
                                 f"design is {ARITHMETIC_NAMES[design.quantized.arithmetic]}")


def _board_doc(info: P.Info) -> dict[str, Any]:
    return {"name": info.board, "firmware": info.fw_version, "fs_hz": info.fs_hz,
            "params_status": P.ParamsStatus(info.params_status).name.lower()
            if info.params_status in P.ParamsStatus._value2member_map_ else info.params_status,
            "bad_frames": info.bad_frames, "oversized_frames": info.oversized_frames,
            "overruns": info.overruns}


def _read_params(board: Board, wanted: dict[int, int]) -> dict[int, int]:
    values = {}
    for pid in wanted:
        try:
            values[pid] = board.get(pid)
        except P.DeviceError as e:
            if e.code != P.ErrorCode.UNKNOWN_PARAM:
                raise
    return values


def _restore(runner: BlockRunner, user: dict[int, int], changed: dict[int, int], log: Log) -> bool:
    try:
        for pid in changed:
            runner.board.set(pid, user[pid])
    except P.ProtocolError as e:
        log(f"warning: could not restore the board's parameters ({e})")
        return False
    return True


# ---- stage 3: bit-exact -----------------------------------------------------------------------


def _model(design: Design, wanted: dict[str, int]) -> Any:
    """A fresh stateful oracle (``process(x, reset)``) of the design."""
    if design.quantized.arithmetic == "float":
        from designer.model_float import FloatModel

        return FloatModel(design.quantized, wanted)
    from designer.model import Model

    return Model(design.quantized, wanted)


def _oracle(design: Design, x: np.ndarray, wanted: dict[str, int]) -> Any:
    return _model(design, wanted).process(x, reset=True)


def stage_bit_exact(runner: BlockRunner, design: Design, wanted: dict[str, int],
                    options: VerifyOptions, log: Log) -> dict[str, Any]:
    edges = sorted({e for b in design.filters.bands for e in b.edges_hz})
    segments = S.bit_exact_segments(design.sample_rate_hz, edges, options.bit_exact_samples,
                                    options.seed)
    names = design.band_names
    docs, first = [], {}
    compared = mismatches = 0
    k = 0
    while segments:
        seg = segments.pop(0)
        got = runner.run(seg.samples)
        want = _oracle(design, got.x, wanted)  # what the board ran (a block may be missing)
        m = got.mask
        bad = np.zeros((len(got.x), len(names)), bool)
        for field in ("y", "env", "led"):
            bad |= ~same(getattr(got, field), getattr(want, field))
        bad &= m[:, None]
        n_bad = int(bad.sum())
        seg_first = None
        for b in np.flatnonzero(bad.any(axis=0)):
            i = int(np.flatnonzero(bad[:, b])[0])
            field = next(f for f in ("y", "env", "led")
                         if not same(getattr(got, f)[i, b:b + 1], getattr(want, f)[i, b:b + 1])[0])
            entry = {"band": names[b], "segment": seg.name, "sample": i,
                     "global_sample": compared + i, "field": field,
                     "board": _num(getattr(got, field)[i, b]),
                     "oracle": _num(getattr(want, field)[i, b])}
            first.setdefault(names[b], entry)
            seg_first = seg_first or entry
        docs.append({"name": seg.name, "samples": len(seg.samples), "compared": int(m.sum()),
                     "mismatches": n_bad, "first_mismatch": seg_first})
        compared += int(m.sum())
        mismatches += n_bad
        if not segments and compared < MIN_COMPARED and k < 20:
            k += 1  # link faults cost comparisons: make them up with more noise
            segments.append(S.extra_noise_segment(max(MIN_COMPARED - compared, 1000), k))
    ok = mismatches == 0 and compared >= MIN_COMPARED
    log(f"bit-exact: {compared} samples compared, {mismatches} mismatching band records"
        + ("" if not first else f"; first: {next(iter(first.values()))}"))
    return {"ok": ok, "samples": compared, "mismatches": mismatches,
            "first_mismatch": list(first.values()), "segments": docs}


def _num(v: Any) -> float | int:
    return float(v) if isinstance(v, np.floating) else int(v)


def _settled(mask: np.ndarray, start: int, splices: list[int], settle: int | None = None
             ) -> np.ndarray:
    """Rows from ``start`` on whose outputs came through and that lie ``settle`` (default
    ``start``) rows or more after every jump of the signal (a block the board skipped)."""
    ok = mask.copy()
    ok[:start] = False
    for row in splices:
        ok[row : row + (start if settle is None else settle)] = False
    return ok


# ---- stage 4: response ------------------------------------------------------------------------


def _db(v: float) -> float:
    return 20 * math.log10(max(abs(v), 1e-12))


def stage_response(runner: BlockRunner, design: Design, options: VerifyOptions,
                   log: Log) -> list[dict[str, Any]]:
    qd, fs = design.quantized, design.sample_rate_hz
    info = runner.board.last_info
    if info.value_format == P.ValueFormat.INT16:
        y_scale = 32768.0 / 2.0 ** info.y_frac_bits  # y in the input's units
    else:
        y_scale = 32768.0  # float y has full scale 1.0
    out = []
    for i, band in enumerate(design.filters.bands):
        freqs = S.band_tones(band, fs, options.n_tones)
        settle = S.settle_samples(qd, i)
        n = settle + S.measure_length(freqs, fs)
        x = S.multitone(freqs, fs, n)
        for _ in range(3):  # link faults: enough of the record must have come through
            got = runner.run(x)
            idx = np.flatnonzero(_settled(got.mask, settle, got.splices))
            if len(idx) >= (n - settle) // 2:
                break
        else:
            raise LinkUnreliableError(f"too little of band {band.name}'s tones came through "
                                      f"the link ({len(idx)} of {n - settle} samples)")
        gy = S.fit_tones(got.y[idx, i].astype(float) * y_scale, freqs, fs, idx)
        gx = S.fit_tones(got.x[idx].astype(float), freqs, fs, idx)
        norm = qd.norm_factor(i)
        measured = [_db(v * norm) for v in gy / gx]
        design_db = [_db(v) for v in qd.response(freqs, raw=False)[i]]
        scored = [d >= options.floor_db for d in design_db]
        errors = [m - d for m, d in zip(measured, design_db, strict=True)]
        max_err = max((abs(e) for e, s in zip(errors, scored, strict=True) if s), default=0.0)
        ok = max_err <= options.tolerance_db and any(scored)
        log(f"response {band.name}: {len(freqs)} tones {freqs[0]:.0f}..{freqs[-1]:.0f} Hz, "
            f"max error {max_err:.3f} dB ({'ok' if ok else 'FAIL'})")
        out.append({"name": band.name, "freqs_hz": [round(float(f), 3) for f in freqs],
                    "measured_db": [round(v, 4) for v in measured],
                    "design_db": [round(v, 4) for v in design_db],
                    "error_db": [round(v, 4) for v in errors], "scored": scored,
                    "max_error_db": round(max_err, 4), "samples": n, "ok": ok})
    return out


# ---- stages 5 and 6: LED table, LED per band ------------------------------------------------


def led_settle_samples(wanted: dict[str, int], fs: float) -> int:
    """Samples until a steady tone's LEDs follow the -3 dB rule alone, for the parameters: the
    transient rule holds while the smoothed level exceeds onset times the slow average, which
    rises as 1 - exp(-t / slow_ms) from a reset; then the smoother, the attack and the hold."""
    r = max(wanted["onset"] / 256.0, 1.05)
    transient_ms = wanted["slow_ms"] * math.log(r / (r - 1.0))
    s = (1.3 * transient_ms + 5 * wanted["smoothing_ms"] + 5 * wanted["attack_ms"]
         + wanted["hold_ms"]) / 1000.0
    return int(max(s, LED_MIN_S) * fs)


def _tone_leds(runner: BlockRunner, design: Design, f: float, n: int) -> np.ndarray:
    """Every band's LED value once a steady ``f`` Hz tone (LED_PEAK, ``n`` samples from reset)
    has settled: the last sample that came through in the record's last quarter."""
    fs = design.sample_rate_hz
    tail = max(n // 4, 1)
    x = (LED_PEAK * np.sin(2 * np.pi * f * np.arange(n) / fs)).round().astype(np.int16)
    for _ in range(3):  # link faults: the tone must have settled and come through
        got = runner.run(x)
        m = _settled(got.mask, len(got.x) - tail, got.splices, len(got.x) - tail)
        if m.any():
            return got.led[int(np.flatnonzero(m)[-1])]
    raise LinkUnreliableError(f"the settled LEDs of the {f} Hz tone never came through")


def _led_row(band: BandFilter, f: float, fs: float, led: int, strict: bool = False
             ) -> dict[str, Any]:
    """One band's LED at one tone against the -3 dB rule; within 5 % of one of the band's
    edges a mismatch is tolerated, unless ``strict`` (see ``S.led_band_tone``)."""
    desired = S.designed_on(band, f, fs)
    predicted = led > 0
    near = S.near_edge(band, f) and not strict
    return {"freq_hz": f, "band": band.name, "desired": desired, "predicted": predicted,
            "led": led, "near_edge": near, "ok": predicted == desired or near}


def _log_leds(log: Log, stage: str, rows: list[dict[str, Any]]) -> None:
    bad = [r for r in rows if not r["ok"]]
    log(f"{stage}: {len(rows)} entries, {len(bad)} wrong"
        + ("".join(f"; {r['band']} at {r['freq_hz']} Hz" for r in bad[:5])))


def stage_led_table(runner: BlockRunner, design: Design, wanted: dict[str, int],
                    options: VerifyOptions, log: Log) -> list[dict[str, Any]]:
    fs = design.sample_rate_hz
    n = led_settle_samples(wanted, fs)
    rows = []
    for f in options.led_tones_hz:
        if f >= S.TOP_FRACTION * fs:
            continue
        leds = _tone_leds(runner, design, f, n)
        rows += [_led_row(band, f, fs, int(leds[b]))
                 for b, band in enumerate(design.filters.bands)]
    _log_leds(log, "LED table", rows)
    return rows


def stage_led_bands(runner: BlockRunner, design: Design, wanted: dict[str, int],
                    table: list[dict[str, Any]], log: Log
                    ) -> tuple[list[dict[str, Any]], list[str]]:
    """One steady tone per band where that band is clearly on (``S.led_band_tone``: a table
    tone if one lights it clearly, else a new one), every band's LED scored as in the LED
    table; each row names the band the tone is for. The 300..1500 Hz table leaves most bands of
    most designs dark (classic: treble; msgeq7: five of seven), so only this stage shows every
    LED switching on. Returns the rows and the bands no tone lights clearly (not tested)."""
    fs, bands = design.sample_rate_hz, design.filters.bands
    n_table = led_settle_samples(wanted, fs)
    # a band a few Hz wide takes longer to reach its level than the LED rule's own settling
    n = max(n_table, *(S.settle_samples(design.quantized, i, include_dc=False)
                       for i in range(len(bands))))
    # a table tone (same length) that already lights a band clearly is that band's tone: its
    # LEDs are reused, not played again
    played = _table_leds(table, [b.name for b in bands]) if n == n_table else {}
    table_tones = list(played)
    rows, untested = [], []
    for band in bands:
        tone = S.led_band_tone(band, bands, fs, table_tones)
        if tone is None:
            untested.append(band.name)
            continue
        f = tone.freq_hz
        if f not in played:
            played[f] = _tone_leds(runner, design, f, n)
        rows += [{**_led_row(other, f, fs, int(played[f][b]), tone.strict and other is band),
                  "tone_for": band.name} for b, other in enumerate(bands)]
    _log_leds(log, "LED per band", rows)
    if untested:
        log(f"LED per band: no tone lights {', '.join(untested)} clearly (not tested)")
    return rows, untested


def _table_leds(table: list[dict[str, Any]], names: list[str]) -> dict[float, np.ndarray]:
    """The LED table's LED values by tone, in band order."""
    by_tone: dict[float, dict[str, int]] = {}
    for r in table:
        by_tone.setdefault(float(r["freq_hz"]), {})[r["band"]] = r["led"]
    return {f: np.array([leds[name] for name in names]) for f, leds in by_tone.items()}
