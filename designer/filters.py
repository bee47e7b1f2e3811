"""Stage "learn": from a validated config to one float filter per band.

Each band becomes a :class:`BandFilter`: its section cutoffs (``cutoffs_hz``), the float SOS the
firmware will run, its −3 dB edges, and for RC bands the resistors of the analog twin. Bands with
training data are learned (torch, imported only when needed: it takes a second to load).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import analog, biquad
from .config import OrganConfig
from .config_bands import MAX_FREQ_FRACTION, BandConfig
from .errors import ConfigError, DesignerError


@dataclass(frozen=True, eq=False)
class BandFilter:
    """One band's float design. Frequencies in Hz, resistances in ohms."""

    name: str
    type: str
    filter: str  # rc | butterworth | iir | resonator
    cutoffs_hz: tuple[float, ...]  # [f] LP/HP, [low, high] BP sections, [center] resonator
    edges_hz: tuple[float, ...]  # where the digital design crosses −3 dB
    sos: np.ndarray  # (n, 6), scipy convention
    resistors_ohm: tuple[float, ...] = ()
    resistors_e_series_ohm: tuple[float, ...] = ()
    e_series_cutoffs_hz: tuple[float, ...] = ()
    analog_edges_hz: tuple[float, ...] = ()  # RC bands: edges of the analog circuit
    capacitor_f: float | None = None
    pole_radius: float | None = None
    training: dict[str, Any] | None = None

    def passband_hz(self, fs: float) -> tuple[float, float]:
        """Where the band is meant to pass (between its −3 dB edges), for error scoring."""
        if self.type == "lowpass":
            return (min(20.0, 0.5 * self.edges_hz[0]), self.edges_hz[0])
        if self.type == "highpass":
            return (self.edges_hz[-1], 0.45 * fs)
        if len(self.edges_hz) >= 2:
            return (self.edges_hz[0], self.edges_hz[-1])
        center = self.cutoffs_hz[0]
        return (0.99 * center, 1.01 * center)

    def to_dict(self) -> dict[str, Any]:
        """The JSON fields of DESIGN.md (``train --json``), plus the analog extras."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "filter": self.filter,
            "cutoffs_hz": list(self.cutoffs_hz),
            "edges_hz": list(self.edges_hz),
            "resistors_ohm": list(self.resistors_ohm),
            "resistors_e_series_ohm": list(self.resistors_e_series_ohm),
            "capacitor_f": self.capacitor_f,
            "sos": np.asarray(self.sos, dtype=float).tolist(),
        }
        if self.e_series_cutoffs_hz:
            out["e_series_cutoffs_hz"] = list(self.e_series_cutoffs_hz)
        if self.analog_edges_hz:
            out["analog_edges_hz"] = list(self.analog_edges_hz)
        if self.pole_radius is not None:
            out["pole_radius"] = self.pole_radius
        if self.training is not None:
            out["training"] = self.training
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BandFilter:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=d["name"],
            type=d["type"],
            filter=d["filter"],
            cutoffs_hz=tuple(d["cutoffs_hz"]),
            edges_hz=tuple(d["edges_hz"]),
            sos=np.array(d["sos"], dtype=float).reshape(-1, 6),
            resistors_ohm=tuple(d.get("resistors_ohm", ())),
            resistors_e_series_ohm=tuple(d.get("resistors_e_series_ohm", ())),
            e_series_cutoffs_hz=tuple(d.get("e_series_cutoffs_hz", ())),
            analog_edges_hz=tuple(d.get("analog_edges_hz", ())),
            capacitor_f=d.get("capacitor_f"),
            pole_radius=d.get("pole_radius"),
            training=d.get("training"),
        )


@dataclass(frozen=True, eq=False)
class FilterSet:
    """Every band's float filter, and what training took."""

    sample_rate_hz: float
    bands: tuple[BandFilter, ...]
    training: dict[str, Any] = field(default_factory=dict)
    # The learner's fit objects (histories, loss functions) for the plots, never serialised:
    # "rc" for the joint fit of every RC band with data, a band's name for a single-band fit.
    fits: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[str], None]

# Where biquad.edges_hz starts looking for −3 dB crossings (its default f_min).
EDGE_SEARCH_FROM_HZ = 1.0


def design_filters(cfg: OrganConfig, progress: Progress | None = None) -> FilterSet:
    """Learn what has data, design the rest; every band's SOS at the config's sample rate."""
    fs = cfg.sample_rate_hz
    t0 = time.perf_counter()
    fits: dict[str, Any] = {}
    learned = _learn(cfg, progress, fits) if cfg.training is not None else {}
    bands = []
    for band in cfg.bands:
        if band.name in learned:
            bands.append(learned[band.name])
        else:
            bands.append(_designed(band, cfg))
    for i, b in enumerate(bands):
        _check_learned_band(b, i, cfg)
    training = {"seconds": time.perf_counter() - t0 if learned else 0.0}
    if cfg.training is not None:
        training.update(cfg.training.to_dict())
        training["data"] = cfg.training.data.name
    return FilterSet(fs, tuple(bands), training, fits)


def _designed(band: BandConfig, cfg: OrganConfig) -> BandFilter:
    """A band whose numbers are final in the config."""
    fs = cfg.sample_rate_hz
    if band.type == "resonator":
        radius = band.pole_radius
        if radius is None:
            radius = biquad.resonator_radius_for_bandwidth(band.center_hz, band.bandwidth_hz, fs)
        return _resonator(band.name, band.center_hz, radius, fs)
    cutoffs = band.given_cutoffs
    assert cutoffs is not None
    if band.filter == "rc":
        return rc_band(band.name, band.type, cutoffs, cfg)
    sos = biquad.butterworth_sos(band.type, cutoffs, band.order, fs)
    return BandFilter(band.name, band.type, "butterworth", cutoffs, biquad.edges_hz(sos, fs), sos)


def rc_band(name: str, kind: str, cutoffs: tuple[float, ...], cfg: OrganConfig) -> BandFilter:
    """An RC band's digital twin and its analog parts."""
    fs = cfg.sample_rate_hz
    sos = biquad.rc_band_sos(kind, cutoffs, fs)
    c = cfg.analog.capacitor_f
    if cfg.analog.choose_capacitor:
        c = analog.choose_capacitor(cutoffs, cfg.analog.e_series)
    parts = analog.rc_parts(cutoffs, c, cfg.analog.e_series)
    return BandFilter(
        name,
        kind,
        "rc",
        tuple(float(f) for f in cutoffs),
        biquad.edges_hz(sos, fs),
        sos,
        resistors_ohm=tuple(p.resistor_ohm for p in parts),
        resistors_e_series_ohm=tuple(p.part_ohm for p in parts),
        e_series_cutoffs_hz=tuple(p.part_cutoff_hz for p in parts),
        analog_edges_hz=analog.band_edges(kind, cutoffs),
        capacitor_f=c,
    )


def _resonator(name: str, center: float, radius: float, fs: float, training=None) -> BandFilter:
    sos = biquad.resonator_sos_from_radius(center, radius, fs)
    return BandFilter(
        name,
        "resonator",
        "resonator",
        (float(center),),
        biquad.edges_hz(sos, fs),
        sos,
        pole_radius=float(radius),
        training=training,
    )


def _check_learned_band(b: BandFilter, index: int, cfg: OrganConfig) -> None:
    """The band must run at the board's rate, be stable and cross −3 dB somewhere, else its LED
    would be stuck (DESIGN.md's rule: lit where the magnitude is above −3 dB)."""
    fs = cfg.sample_rate_hz
    fmax = MAX_FREQ_FRACTION * fs
    key = _band_key(cfg, index)
    for f in b.cutoffs_hz:
        if not 0 < f < fmax:
            raise _config_error(
                cfg,
                f"bands[{index}]",
                f"band {b.name!r}: the learned cutoff {f:.1f} Hz is outside (0, 0.45·fs = "
                f"{fmax:.1f} Hz); the data put this band where the board cannot sample it",
            )
    if not biquad.is_stable(b.sos):
        raise _config_error(cfg, key, f"band {b.name!r}: the designed filter is unstable")
    if not b.edges_hz:
        raise _config_error(cfg, key, f"band {b.name!r}: {_stuck_led_text(b, fs)}")


def _stuck_led_text(b: BandFilter, fs: float) -> str:
    """Why a band that never crosses −3 dB is refused: always above it (LED always lit) or
    always below it (never lit), judged on one frequency since the response never crosses."""
    probe = math.sqrt(EDGE_SEARCH_FROM_HZ * 0.5 * fs)
    above = abs(biquad.sos_response(b.sos, probe, fs)[0]) > biquad.INV_SQRT2
    if above:
        return (
            f"the filter is above −3 dB at every frequency from {EDGE_SEARCH_FROM_HZ:g} Hz to "
            "fs/2, so its LED would always be lit by the −3 dB rule"
        )
    return "the filter never reaches −3 dB, so its LED would never light by the −3 dB rule"


def _band_key(cfg: OrganConfig, index: int) -> str:
    """The key path a designed band's frequencies come from (``bands[0].cutoff_hz``); a learned
    band's come from the data, so the band itself (``bands[0]``)."""
    band = cfg.bands[index]
    learned = cfg.training is not None and band.name in cfg.training.columns
    if learned:
        return f"bands[{index}]"
    keys = {"lowpass": "cutoff_hz", "highpass": "cutoff_hz", "bandpass": "low_hz"}
    return f"bands[{index}].{keys.get(band.type, 'center_hz')}"


def _config_error(cfg: OrganConfig, key: str, message: str) -> ConfigError:
    """A problem found while designing, reported like validation's: ``<file>: <key>: ...``."""
    return ConfigError([f"{key}: {message}"], str(cfg.source) if cfg.source else None)


def _learn(
    cfg: OrganConfig, progress: Progress | None, fits: dict[str, Any]
) -> dict[str, BandFilter]:
    """Train every band that has a data column; returns them by name, the fits into ``fits``."""
    from . import learn  # torch: loaded only when something is trained

    tr = cfg.training
    assert tr is not None
    fs = cfg.sample_rate_hz
    by_name = {b.name: b for b in cfg.bands if b.name in tr.columns}
    out: dict[str, BandFilter] = {}
    rc_bands = [b for b in by_name.values() if b.type != "resonator" and b.filter == "rc"]
    if rc_bands:
        if progress:
            progress(f"learning RC cutoffs of {', '.join(b.name for b in rc_bands)}")
        targets = [
            learn.RcBandTarget(b.name, b.type, tr.columns[b.name], b.given_cutoffs)
            for b in rc_bands
        ]
        with _data_errors(cfg, None):
            fit = learn.fit_rc(tr.freqs_hz, tr.kind, targets, seed=tr.seed)
        fits["rc"] = fit
        for b, res in zip(rc_bands, fit.bands, strict=True):
            band = rc_band(b.name, b.type, tuple(res.cutoffs_hz), cfg)
            out[b.name] = _with_training(band, _summary(fit, res))
    for b in by_name.values():
        if b.name in out:
            continue
        if progress:
            progress(f"learning {b.name} from {tr.kind} data")
        data = np.asarray(tr.columns[b.name])
        # (an impulse WAV at another rate than the board's is refused by config validation)
        if b.type == "resonator":
            # The all-pole two-pole model of the config (centre + pole radius), normalised to
            # 0 dB at the centre like a designed resonator.
            with _data_errors(cfg, b.name):
                fit = learn.fit_resonator(data, tr.kind, fs, freqs_hz=tr.freqs_hz, seed=tr.seed)
            fits[b.name] = fit
            out[b.name] = _resonator(
                b.name, fit.center_hz, fit.pole_radius, fs, _summary(fit, None)
            )
            continue
        with _data_errors(cfg, b.name):
            if tr.kind == "impulse":
                fit = learn.fit_impulse(data, fs, b.order, seed=tr.seed)
            else:
                fit = learn.fit_iir(tr.freqs_hz, data, tr.kind, b.order, fs, seed=tr.seed)
        fits[b.name] = fit
        sos = np.asarray(fit.sos, dtype=float)
        edges = biquad.edges_hz(sos, fs)
        _check_iir_edges(cfg, b, edges)
        out[b.name] = BandFilter(b.name, b.type, "iir", tuple(edges), edges, sos,
                                 training=_summary(fit, None))
    return out


def _check_iir_edges(cfg: OrganConfig, band: BandConfig, edges: tuple[float, ...]) -> None:
    """A trained iir band's cutoffs are its −3 dB edges, so it must have as many as its type
    says (DESIGN.md: ``[f]`` for a low/high-pass, ``[low, high]`` for a band-pass)."""
    kind = band.type
    want = 2 if kind == "bandpass" else 1
    if edges and len(edges) != want:
        index = cfg.bands.index(band)
        where = ", ".join(f"{f:.1f}" for f in edges)
        raise _config_error(
            cfg,
            f"bands[{index}]",
            f"band {band.name!r}: the filter trained from the data crosses −3 dB at {where} Hz, "
            f"but a {kind} crosses it {'twice' if want == 2 else 'once'}; the data do not "
            f"describe a {kind} (check bands[{index}].type, or the data's level: the −3 dB "
            "rule is absolute)",
        )


@contextmanager
def _data_errors(cfg: OrganConfig, band: str | None) -> Iterator[None]:
    """Report what a learner refuses as a problem of the data file (``training.data``), with
    the config file and the band's column, like the data problems validation finds."""
    from .learn_rc import BandDataError

    try:
        yield
    except ConfigError:
        raise
    except DesignerError as e:
        assert cfg.training is not None
        if isinstance(e, BandDataError):
            band, detail = e.band, e.detail
        else:
            detail = str(e)
        column = f"column {band!r}: " if band else ""
        raise _config_error(
            cfg, "training.data", f"{cfg.training.data.name}: {column}{detail}"
        ) from None


def _with_training(band: BandFilter, summary: dict[str, Any]) -> BandFilter:
    from dataclasses import replace

    return replace(band, training=summary)


def _summary(fit: Any, band_result: Any) -> dict[str, Any]:
    """What a training run reports, JSON-able (histories are kept for the plots)."""
    out: dict[str, Any] = {
        "steps": int(getattr(fit, "steps", 0)),
        "seconds": float(getattr(fit, "seconds", 0.0)),
    }
    hist = getattr(fit, "loss_history", None)
    if hist is not None and len(hist):
        out["final_loss"] = float(hist[-1])
    err = getattr(fit, "max_error_db", None)
    if err is not None:
        out["max_error_db"] = float(err)
    # Label brackets exist only for binary data (magnitude and dB fits have none to report).
    if getattr(fit, "kind", None) == "binary" and band_result is not None:
        out["brackets"] = _jsonable(band_result.brackets)
        out["bracket_positions"] = _jsonable(band_result.bracket_positions)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value
