"""Stage "learn": from a validated config to one float filter per band.

Each band becomes a :class:`BandFilter`: its section cutoffs (``cutoffs_hz``), the float SOS the
firmware will run, its −3 dB edges, and for RC bands the resistors of the analog twin. Bands with
training data are learned (torch, imported only when needed: it takes a second to load).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import analog, biquad
from .config import OrganConfig
from .config_bands import MAX_FREQ_FRACTION, BandConfig
from .errors import DesignerError


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
    for b in bands:
        _check_learned_band(b, fs)
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


def _check_learned_band(b: BandFilter, fs: float) -> None:
    fmax = MAX_FREQ_FRACTION * fs
    for f in b.cutoffs_hz:
        if not 0 < f < fmax:
            raise DesignerError(
                f"bands.{b.name}: the learned cutoff {f:.1f} Hz is outside (0, 0.45·fs = "
                f"{fmax:.0f} Hz); the data puts this band where the board cannot sample it"
            )
    if not biquad.is_stable(b.sos):
        raise DesignerError(f"bands.{b.name}: the designed filter is unstable")
    if not b.edges_hz:
        raise DesignerError(
            f"bands.{b.name}: the filter never crosses −3 dB, so its LED would never light "
            "by the −3 dB rule"
        )


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
        if tr.kind == "impulse" and tr.sample_rate_hz is not None:
            if abs(tr.sample_rate_hz - fs) > 1e-6 * fs:
                raise DesignerError(
                    f"training.data: the impulse response is sampled at {tr.sample_rate_hz:g} "
                    f"Hz, the board at {fs:g} Hz: record it at the board's rate"
                )
        if b.type == "resonator":
            # The all-pole two-pole model of the config (centre + pole radius), normalised to
            # 0 dB at the centre like a designed resonator.
            fit = learn.fit_resonator(data, tr.kind, fs, freqs_hz=tr.freqs_hz, seed=tr.seed)
            fits[b.name] = fit
            out[b.name] = _resonator(
                b.name, fit.center_hz, fit.pole_radius, fs, _summary(fit, None)
            )
            continue
        if tr.kind == "impulse":
            fit = learn.fit_impulse(data, fs, b.order, seed=tr.seed)
        else:
            fit = learn.fit_iir(tr.freqs_hz, data, tr.kind, b.order, fs, seed=tr.seed)
        fits[b.name] = fit
        sos = np.asarray(fit.sos, dtype=float)
        edges = biquad.edges_hz(sos, fs)
        _check_iir_edges(b.name, b.type, edges)
        out[b.name] = BandFilter(b.name, b.type, "iir", tuple(edges), edges, sos,
                                 training=_summary(fit, None))
    return out


def _check_iir_edges(name: str, kind: str, edges: tuple[float, ...]) -> None:
    """A trained iir band's cutoffs are its −3 dB edges, so it must have as many as its type
    says (DESIGN.md: ``[f]`` for a low/high-pass, ``[low, high]`` for a band-pass)."""
    want = 2 if kind == "bandpass" else 1
    if edges and len(edges) != want:
        where = ", ".join(f"{f:.1f}" for f in edges)
        raise DesignerError(
            f"bands.{name}: the filter trained from the data crosses −3 dB at {where} Hz, but a "
            f"{kind} crosses it {'twice' if want == 2 else 'once'}; the data do not describe a "
            f"{kind} (check bands.{name}.type, or the data's level: the −3 dB rule is absolute)"
        )


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
    for key in ("brackets", "bracket_positions"):
        value = getattr(band_result, key, None) if band_result is not None else None
        if value is not None:
            out[key] = _jsonable(value)
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
