"""Recovering an IIR filter from its impulse response, and fitting two-pole resonators.

This is the "RNN as IIR" problem of BACKGROUND.md §2 done with the structure of the problem:

1. **Prony / linear prediction.** Past the numerator's length an impulse response obeys the
   recursion exactly, h[n] = k1·h[n−1] + … + kN·h[n−N], so the feedback coefficients are one
   linear least-squares solve; the numerator follows as the first taps of a·h.
2. **Refinement in torch** on the output error Σ(ĥ[n] − h[n])², through the linear recursion
   itself: its impulse response is e1ᵀ·Wⁿ·e1 for the companion ("shift") matrix W, i.e. the
   notebook's linear RNN, computed for all n at once by doubling (S[m:2m] = S[:m]·(W^m)ᵀ,
   log2(L) matrix products). Poles stay inside the unit circle by construction (the stability
   triangle of :mod:`designer.learn_iir`); Levenberg–Marquardt.

**Input scale.** The samples fix only the product of the impulse height and the filter's gain.
``input_scale`` is the impulse height x[0] the data were recorded with (default 1: a unit
impulse); the numerator returned is for that height. The notebook's data (x[0] = 0.1 into
y[n] = x[n] + k1·y[n−1] + k2·y[n−2]) give b0 = 0.1 with the default, b0 = 1 with
``input_scale=0.1``; the feedback k1, k2 are the same either way.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from scipy import signal

from .errors import DesignerError
from .learn_iir import (
    MAX_ORDER,
    R_MAX,
    IirFit,
    den1,
    den2,
    den2_inverse,
    max_error_db,
    pair_roots,
)
from .learn_opt import DTYPE, levenberg_marquardt, torch_threads


def prony(h: np.ndarray, order: int, n_zeros: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear-prediction solve: denominator a = [1, a1..aN] and numerator b (n_zeros + 1 taps).

    Rows n > n_zeros of h[n] + a1·h[n−1] + … + aN·h[n−N] = 0 (covariance method).
    """
    rows = np.arange(max(n_zeros + 1, order), h.size)
    X = np.stack([h[rows - k] for k in range(1, order + 1)], axis=1)
    a_tail = np.linalg.lstsq(X, -h[rows], rcond=None)[0]
    a = np.r_[1.0, a_tail]
    b = np.convolve(a, h)[: n_zeros + 1]
    return a, b


def _stabilise(a: np.ndarray) -> np.ndarray:
    """Reflect poles outside the circle inside (|H| unchanged up to gain); returns the poles."""
    p = np.roots(a)
    return np.where(np.abs(p) >= R_MAX, 1.0 / np.conj(p), p)


class _Recursion:
    """Stable denominator parameters + free numerator taps; impulse response by doubling."""

    def __init__(self, order: int, n_zeros: int, length: int):
        self.n2, self.n1 = divmod(order, 2)
        self.order, self.n_zeros, self.length = order, n_zeros, length

    def denominator(self, th: torch.Tensor) -> torch.Tensor:
        a = torch.ones(1, dtype=DTYPE)
        for k in range(self.n2):
            a1, a2 = den2(th[2 * k], th[2 * k + 1])
            a = _polymul(a, torch.stack([torch.ones((), dtype=DTYPE), a1, a2]))
        for k in range(self.n1):
            a = _polymul(a, torch.stack([torch.ones((), dtype=DTYPE), den1(th[2 * self.n2 + k])]))
        return a

    def numerator(self, th: torch.Tensor) -> torch.Tensor:
        return th[self.order :]

    def impulse(self, th: torch.Tensor) -> torch.Tensor:
        a, b = self.denominator(th), self.numerator(th)
        n = self.order
        W = torch.zeros((n, n), dtype=DTYPE)
        W = W + torch.diag(torch.ones(n - 1, dtype=DTYPE), -1)
        W = torch.cat([-a[1:][None, :], W[1:]], dim=0)  # companion: the RNN's hidden-to-hidden
        S = torch.zeros((1, n), dtype=DTYPE)
        S[0, 0] = 1.0
        P = W
        while S.shape[0] < self.length:
            S = torch.cat([S, S @ P.T], dim=0)
            P = P @ P
        g = S[: self.length, 0]  # all-pole impulse response 1/A
        out = b[0] * g
        for j in range(1, self.n_zeros + 1):
            out = out + b[j] * torch.cat([torch.zeros(j, dtype=DTYPE), g[:-j]])
        return out

    def pack(self, poles: np.ndarray, b: np.ndarray) -> np.ndarray:
        mag = np.abs(poles)
        poles = np.where(mag > 0.999 * R_MAX, poles / mag * 0.999 * R_MAX, poles)
        quads, lin = pair_roots(poles, self.n2, self.n1)
        th = [x for a1, a2 in quads for x in den2_inverse(a1, a2)]
        th += [math.atanh(float(np.clip(-c / R_MAX, -0.999999, 0.999999))) for c in lin]
        return np.r_[th, b]


def _polymul(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(p.numel() + q.numel() - 1, dtype=DTYPE)
    for i in range(q.numel()):
        out = out + torch.cat(
            [torch.zeros(i, dtype=DTYPE), p * q[i], torch.zeros(q.numel() - 1 - i, dtype=DTYPE)]
        )
    return out


def _to_sos(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    n = a.size - 1
    if n <= 2:
        row = np.zeros(6)
        row[: b.size], row[3 : 3 + a.size] = b, a
        return row[None, :]
    bb = np.r_[b, np.zeros(n + 1 - b.size)]
    return signal.tf2sos(bb, a, pairing="nearest")


def _check_impulse(h: np.ndarray, fs: float, order: int, n_zeros: int, scale: float) -> np.ndarray:
    if not (isinstance(order, int) and 1 <= order <= MAX_ORDER):
        raise DesignerError(f"order must be an integer from 1 to {MAX_ORDER}, got {order!r}")
    if not (isinstance(n_zeros, int) and 0 <= n_zeros <= order):
        raise DesignerError(
            f"numerator_order must be an integer from 0 to {order}, got {n_zeros!r}"
        )
    if not (math.isfinite(fs) and fs > 0):
        raise DesignerError(f"fs must be a positive sample rate in Hz, got {fs!r}")
    if not (math.isfinite(scale) and scale != 0):
        raise DesignerError(f"input_scale must be finite and non-zero, got {scale!r}")
    x = np.asarray(h, dtype=float)
    if x.ndim != 1:
        raise DesignerError(f"impulse response must be 1-D, got shape {x.shape}")
    if x.size < 2 * order + n_zeros + 2:
        raise DesignerError(
            f"an order-{order} fit needs at least {2 * order + n_zeros + 2} samples, got {x.size}"
        )
    if not np.all(np.isfinite(x)):
        raise DesignerError("impulse response: samples must be finite (found NaN or inf)")
    if not np.any(x):
        raise DesignerError("impulse response: every sample is zero")
    return x / scale


def fit_impulse(
    h: np.ndarray,
    fs: float,
    order: int,
    seed: int = 0,
    *,
    numerator_order: int | None = None,
    input_scale: float = 1.0,
) -> IirFit:
    """Recover a stable IIR filter of ``order`` poles from its impulse response ``h`` (at ``fs``).

    ``numerator_order``: number of zeros (default ``order``; 0 for an all-pole filter such as the
    notebook's resonator). ``input_scale``: the height of the impulse that produced ``h`` (see the
    module docstring). Returns :class:`IirFit` with ``feedforward``/``feedback`` set.
    ``seed`` is unused (the start comes from the data), kept for a uniform interface.
    """
    del seed
    t0 = time.perf_counter()
    n_zeros = order if numerator_order is None else numerator_order
    x = _check_impulse(h, fs, order, n_zeros, input_scale)
    a0, b0 = prony(x, order, n_zeros)
    model = _Recursion(order, n_zeros, x.size)
    target = torch.tensor(x, dtype=DTYPE)
    energy = float(target @ target)

    def residuals(th: torch.Tensor) -> torch.Tensor:
        return model.impulse(th) - target

    with torch_threads():
        th0 = model.pack(_stabilise(a0), b0)
        th, trace = levenberg_marquardt(
            residuals, torch.tensor(th0, dtype=DTYPE), max_steps=100, atol=1e-30 * energy
        )
        a = model.denominator(th).detach().numpy()
        b = model.numerator(th).detach().numpy().copy()
        fitted = model.impulse(th).detach().numpy()
    n_fft = 1 << int(math.ceil(math.log2(max(x.size, 16))))
    data_db = 20.0 * np.log10(np.maximum(np.abs(np.fft.rfft(x, n_fft)), 1e-300))
    model_db = 20.0 * np.log10(np.maximum(np.abs(np.fft.rfft(fitted, n_fft)), 1e-300))
    return IirFit(
        sos=_to_sos(b, a),
        steps=trace.steps,
        seconds=time.perf_counter() - t0,
        loss_history=np.array(trace.losses) * 2.0 / x.size,
        max_error_db=max_error_db(model_db, data_db, None),
        feedforward=b,
        feedback=-a[1:],
        input_scale=float(input_scale),
        rms_error=float(np.sqrt(np.mean((fitted - x) ** 2) / np.mean(x * x))),
    )


@dataclass(frozen=True, eq=False)
class ResonatorFit:
    """A two-pole all-pole resonator: poles at r·e^{±jΩ}, Ω = 2π·center_hz/fs.

    ``center_hz`` is the pole angle in Hz (as in BACKGROUND.md §2), ``pole_radius`` r < 1,
    ``gain`` the numerator b0; ``sos`` is [[gain, 0, 0, 1, −2r·cos Ω, r²]] (not normalised: the
    designer normalises resonators to 0 dB at the centre).
    """

    center_hz: float
    pole_radius: float
    gain: float
    sos: np.ndarray
    steps: int
    seconds: float
    loss_history: np.ndarray
    max_error_db: float


def fit_resonator(
    values: np.ndarray,
    kind: Literal["magnitude", "db", "impulse"],
    fs: float,
    freqs_hz: np.ndarray | None = None,
    seed: int = 0,
    *,
    input_scale: float = 1.0,
) -> ResonatorFit:
    """Centre and pole radius of an all-pole two-pole resonator from its response.

    ``impulse``: ``values`` are samples at ``fs`` (``freqs_hz`` unused). ``magnitude``/``db``:
    one value per frequency in ``freqs_hz`` (Hz, within [0, fs/2]).
    """
    from .learn_resonator import fit_resonator_spectrum

    t0 = time.perf_counter()
    if kind == "impulse":
        fit = fit_impulse(values, fs, 2, seed, numerator_order=0, input_scale=input_scale)
        p = np.roots(np.r_[1.0, -fit.feedback])
        if abs(p[0].imag) == 0.0:
            raise DesignerError("impulse response: the two poles are real, not a resonance")
        gain, sos = float(fit.feedforward[0]), fit.sos
        steps, hist, err = fit.steps, fit.loss_history, fit.max_error_db
        radius, center = float(abs(p[0])), float(abs(np.angle(p[0])) * fs / (2 * math.pi))
    elif kind in ("magnitude", "db"):
        if freqs_hz is None:
            raise DesignerError(f"a {kind} resonator fit needs freqs_hz")
        center, radius, gain, steps, hist, err = fit_resonator_spectrum(freqs_hz, values, kind, fs)
        a1, a2 = -2.0 * radius * math.cos(2 * math.pi * center / fs), radius * radius
        sos = np.array([[gain, 0.0, 0.0, 1.0, a1, a2]])
    else:
        raise DesignerError(f"kind must be magnitude, db or impulse, got {kind!r}")
    return ResonatorFit(
        center, radius, gain, sos, steps, time.perf_counter() - t0, np.asarray(hist), err
    )
