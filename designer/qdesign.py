"""The quantized design: what the DSP core runs, as compiled in (see ``designer/quantize.py``).

``QuantizedDesign`` holds integer (fixed point) or float32 (float variant) tables in the layout of
``organ_design_t`` (``firmware_templates/lib/organ_dsp/organ_dsp.h``), the float design it came
from, the runtime parameter defaults and the quantization report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from designer import params as params_mod

Arithmetic = Literal["fixed", "float"]
SectionKind = Literal["lp1", "hp1", "bq_gain", "bq"]

#: C section kind constants (ORGAN_SEC_*)
KIND_CODES: dict[str, int] = {"lp1": 1, "hp1": 2, "bq_gain": 3, "bq": 4}

#: DC blocker corner frequency, Hz: low enough to pass an 82 Hz resonator (-0.02 dB), high
#: enough to settle the microphone bias in ~30 ms.
DC_CORNER_HZ = 5.0


@dataclass(frozen=True)
class QSection:
    """One section as compiled in. Fixed point: ``c`` are ints. LP1/HP1: ``c[0]`` is the unsigned
    Q16 coefficient of the low-pass recursion. BQ: numerator mantissas ``c[0..2]`` (signed, at
    most 24 bits) with exponent ``sh_num + 16``, ``c[3] = m_beta`` and ``c[4] = m_gamma``
    (unsigned, at most 24 bits) with exponents ``sh_beta + 16`` and ``sh_gamma + 16``
    (organ_dsp.h, BQ). Float: ``c`` are float32 values (``sh_*`` = 0)."""

    kind: SectionKind
    c: tuple[float, ...]
    sh_num: int = 0
    sh_beta: int = 0
    sh_gamma: int = 0

    def coeffs(self, arithmetic: Arithmetic) -> tuple[np.ndarray, np.ndarray]:
        """Realised transfer function (b, a) of this section as real numbers (a[0] = 1)."""
        if arithmetic == "fixed":
            if self.kind in ("lp1", "hp1"):
                lp = int(self.c[0]) / 65536.0
            else:
                sb = 2.0 ** -(self.sh_num + 16)
                num = [self.c[0] * sb, self.c[1] * sb, self.c[2] * sb]
                beta = self.c[3] * 2.0 ** -(self.sh_beta + 16)
                gamma = self.c[4] * 2.0 ** -(self.sh_gamma + 16)
        else:
            if self.kind in ("lp1", "hp1"):
                lp = float(self.c[0])
            else:
                num = [float(v) for v in self.c[:3]]
                beta, gamma = float(self.c[3]), float(self.c[4])
        if self.kind == "lp1":
            return np.array([lp, lp, 0.0]), np.array([1.0, 2 * lp - 1, 0.0])
        if self.kind == "hp1":
            return np.array([1 - lp, lp - 1, 0.0]), np.array([1.0, 2 * lp - 1, 0.0])
        if self.kind == "bq_gain":
            num = [num[0], 0.0, 0.0]
        return np.array(num), np.array([1.0, beta + gamma - 2.0, 1.0 - beta])


@dataclass(frozen=True)
class QBand:
    """One band: ``in_shift`` (fixed: the band input is the DC-blocked sample >> in_shift),
    ``norm`` (fixed: Q8.8 int; float: factor) that turns the band's level back into the designed
    response's level, its sections, and the float SOS / passband it was made from."""

    name: str
    in_shift: int
    norm: float
    sections: tuple[QSection, ...]
    sos: tuple[tuple[float, ...], ...]
    passband_hz: tuple[float, float]


@dataclass(frozen=True)
class QuantizedDesign:
    """Everything the core compiles in, plus the report. Build with ``quantize()``."""

    arithmetic: Arithmetic
    fs: float
    dc_coef: int
    ctl_period: int
    rect_shift: int
    ctl_hz: int
    lvl_k: int
    bands: tuple[QBand, ...]
    param_defaults: tuple[tuple[str, int], ...]
    report: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def n_bands(self) -> int:
        return len(self.bands)

    @property
    def ctl_tasks(self) -> int:
        """Control tasks per round (organ_dsp.h): windows, input, one per band and the AGC."""
        return self.n_bands + 3

    @property
    def n_sections(self) -> int:
        return sum(len(b.sections) for b in self.bands)

    @property
    def band_names(self) -> list[str]:
        return [b.name for b in self.bands]

    def band_gain(self, i: int) -> float:
        """Realised gain of band ``i``'s raw output relative to its float design (in_shift times
        numerator scaling, what ``norm`` undoes), measured at the passband's geometric centre."""
        band = self.bands[i]
        lo, hi = band.passband_hz
        f0 = np.sqrt(max(lo, 1e-3) * max(hi, 1e-3))
        w = np.array([2 * np.pi * f0 / self.fs])
        ref = _sos_response(np.array(band.sos), w)
        return float(abs(self._section_response(band, w)[0]) / abs(ref[0]))

    def _section_response(self, band: QBand, w: np.ndarray) -> np.ndarray:
        z1 = np.exp(-1j * w)
        h = np.full(w.shape, 2.0 ** -band.in_shift if self.arithmetic == "fixed" else 1.0,
                    dtype=complex)
        for s in band.sections:
            b, a = s.coeffs(self.arithmetic)
            h *= (b[0] + b[1] * z1 + b[2] * z1 * z1) / (a[0] + a[1] * z1 + a[2] * z1 * z1)
        return h

    def dc_response(self, freqs_hz: np.ndarray) -> np.ndarray:
        """The DC blocker H(z) = (1 - z^-1) / (1 - (1 - c) z^-1), c = dc_coef / 2^16."""
        z1 = np.exp(-2j * np.pi * np.asarray(freqs_hz, float) / self.fs)
        c = self.dc_coef / 65536.0
        return (1 - z1) / (1 - (1 - c) * z1)

    def response(self, freqs_hz: Any, include_dc: bool = True, raw: bool = True) -> np.ndarray:
        """Complex response of every band at ``freqs_hz`` (Hz): shape (n_bands, n_freqs).

        ``raw=True`` is what the firmware's ``y`` output computes from the input sample: the DC
        blocker (unless ``include_dc=False``), the band's in_shift and section scaling, and the
        quantized sections; this is what ``verify`` compares a board with. ``raw=False`` divides
        by the realised band gain (``norm``), giving the quantized version of the designed
        response: what the LED logic compares with -3 dB."""
        f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
        w = 2 * np.pi * f / self.fs
        out = np.empty((self.n_bands, f.size), dtype=complex)
        hdc = self.dc_response(f) if include_dc else np.ones(f.size)
        for i, band in enumerate(self.bands):
            h = self._section_response(band, w) * hdc
            if not raw:
                h = h * self.norm_factor(i)
            out[i] = h
        return out

    def norm_factor(self, i: int) -> float:
        """The compiled-in level normalisation of band ``i`` as a real factor."""
        n = self.bands[i].norm
        return n / 256.0 if self.arithmetic == "fixed" else float(n)

    def params(self) -> dict[str, int]:
        """Default runtime parameter wire values, by name."""
        return dict(self.param_defaults)

    def compiled(self) -> dict[str, Any]:
        """Only what is compiled into the firmware (for the design hash), JSON-able."""
        return {
            "arithmetic": self.arithmetic,
            "fs": self.fs,
            "dc_coef": self.dc_coef,
            "ctl_period": self.ctl_period,
            "rect_shift": self.rect_shift,
            "ctl_hz": self.ctl_hz,
            "lvl_k": self.lvl_k,
            "bands": [
                {
                    "name": b.name,
                    "in_shift": b.in_shift,
                    "norm": _num(b.norm),
                    "sections": [
                        {"kind": s.kind, "c": [_num(v) for v in s.c], "sh_num": s.sh_num,
                         "sh_beta": s.sh_beta, "sh_gamma": s.sh_gamma}
                        for s in b.sections
                    ],
                }
                for b in self.bands
            ],
            "param_defaults": {k: int(v) for k, v in self.param_defaults},
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, deterministic: the compiled tables plus float SOS, passbands, report."""
        d = self.compiled()
        for bd, b in zip(d["bands"], self.bands, strict=True):
            bd["sos"] = [list(map(float, row)) for row in b.sos]
            bd["passband_hz"] = [float(b.passband_hz[0]), float(b.passband_hz[1])]
        d["report"] = self.report
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuantizedDesign:
        """Inverse of :meth:`to_dict` (also accepts :meth:`compiled` output plus sos/passband)."""
        arith = d["arithmetic"]
        conv = int if arith == "fixed" else float
        bands = tuple(
            QBand(
                name=str(b["name"]),
                in_shift=int(b["in_shift"]),
                norm=conv(b["norm"]),
                sections=tuple(
                    QSection(kind=s["kind"], c=tuple(conv(v) for v in s["c"]),
                             sh_num=int(s["sh_num"]), sh_beta=int(s["sh_beta"]),
                             sh_gamma=int(s["sh_gamma"]))
                    for s in b["sections"]
                ),
                sos=tuple(tuple(float(v) for v in row) for row in b.get("sos", [])),
                passband_hz=tuple(float(v) for v in b.get("passband_hz", (0.0, 0.0))),
            )
            for b in d["bands"]
        )
        return cls(
            arithmetic=arith,
            fs=float(d["fs"]),
            dc_coef=int(d["dc_coef"]),
            ctl_period=int(d["ctl_period"]),
            rect_shift=int(d["rect_shift"]),
            ctl_hz=int(d["ctl_hz"]),
            lvl_k=int(d["lvl_k"]),
            bands=bands,
            param_defaults=_param_defaults(d["param_defaults"]),
            report=d.get("report", {}),
        )


def _param_defaults(values: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """In parameter-id order (so a JSON round trip with sorted keys is an identity)."""
    known = {p.name for p in params_mod.PARAMS}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown runtime parameters in design: {', '.join(unknown)}")
    return tuple((p.name, int(values[p.name])) for p in params_mod.PARAMS if p.name in values)


def _num(v: float) -> int | float:
    return int(v) if isinstance(v, int | np.integer) else float(v)


def _sos_response(sos: np.ndarray, w: np.ndarray) -> np.ndarray:
    z1 = np.exp(-1j * w)
    h = np.ones(w.shape, dtype=complex)
    for b0, b1, b2, a0, a1, a2 in sos:
        h *= (b0 + b1 * z1 + b2 * z1 * z1) / (a0 + a1 * z1 + a2 * z1 * z1)
    return h


@dataclass(frozen=True)
class Outputs:
    """Per-sample results of the core, each of shape (n_samples, n_bands): ``y`` (band filter
    output), ``env`` (band level), ``led`` (PWM 0..255). Fixed point: int16/int16/uint8;
    float variant: float32/float32/uint8. ``overflows``: saturation events counted by the core
    (DC blocker and HP1 outputs) since the last reset."""

    y: np.ndarray
    env: np.ndarray
    led: np.ndarray
    overflows: int = 0
