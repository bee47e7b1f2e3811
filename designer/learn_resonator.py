"""Fitting an all-pole two-pole resonator g / (1 − 2r·cos Ω·z⁻¹ + r²·z⁻²) to a magnitude response.

Parameters: r = R_MAX·sigmoid(ρ) (pole radius, always < 1), Ω = π·sigmoid(ψ) (pole angle), and
ln g. Log-spectral loss with the soft floor of :mod:`designer.learn_iir`; Levenberg–Marquardt
from a start read off the data (peak frequency, −3 dB width, peak level).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .learn_iir import FLOOR_DB, R_MAX, SCORE_ABOVE_DB, _check_spectrum, max_error_db, power2
from .learn_opt import DTYPE, levenberg_marquardt, torch_threads


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1.0 - 1e-12)
    return math.log(p / (1.0 - p))


def _half_power_width(w: np.ndarray, power: np.ndarray) -> float | None:
    """−3 dB width (rad/sample) around the peak of sampled power, by interpolation."""
    order = np.argsort(w)
    w, p = w[order], power[order]
    k = int(np.argmax(p))
    half = 0.5 * p[k]
    sides = []
    for idx in (range(k, 0, -1), range(k, w.size - 1)):
        for i in idx:
            j = i - 1 if idx.step == -1 else i + 1
            if p[j] < half:
                t = (p[i] - half) / (p[i] - p[j])
                sides.append(abs(w[i] + t * (w[j] - w[i]) - w[k]))
                break
    if not sides:
        return None
    return 2.0 * min(sides) if len(sides) == 1 else sum(sides)


def fit_resonator_spectrum(
    freqs_hz: np.ndarray, values: np.ndarray, kind: str, fs: float
) -> tuple[float, float, float, int, np.ndarray, float]:
    """(center_hz, pole_radius, gain, steps, loss_history, max_error_db) from |H| or dB data."""
    f, target_db = _check_spectrum(freqs_hz, values, kind, 2, fs)
    w = 2.0 * math.pi * f / fs
    power = 10.0 ** (target_db / 10.0)
    floor = float(power.max()) * 10.0 ** (-FLOOR_DB / 10.0)
    k = int(np.argmax(power))
    width = _half_power_width(w, power)
    r0 = 0.9 if width is None else float(np.clip(1.0 - width / 2.0, 0.3, 0.9999))
    omega0 = float(np.clip(w[k], 1e-3, math.pi - 1e-3))
    den0 = abs(
        1.0 - 2.0 * r0 * math.cos(omega0) * np.exp(-1j * omega0) + r0 * r0 * np.exp(-2j * omega0)
    )
    th0 = [_logit(r0 / R_MAX), _logit(omega0 / math.pi), 0.5 * math.log(power[k]) + math.log(den0)]

    cos1, cos2 = (torch.tensor(np.cos(m * w), dtype=DTYPE) for m in (1, 2))
    target = torch.tensor(10.0 * np.log10(power + floor), dtype=DTYPE)

    def unpack(th: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return R_MAX * torch.sigmoid(th[0]), math.pi * torch.sigmoid(th[1]), th[2]

    def residuals(th: torch.Tensor) -> torch.Tensor:
        r, om, log_g = unpack(th)
        p = torch.exp(2.0 * log_g) / power2(-2.0 * r * torch.cos(om), r * r, cos1, cos2)
        return 10.0 / math.log(10.0) * torch.log(p + floor) - target

    with torch_threads():
        th, trace = levenberg_marquardt(
            residuals, torch.tensor(th0, dtype=DTYPE), max_steps=200, atol=1e-12 * f.size
        )
        r, om, log_g = (float(x) for x in unpack(th))
    den = np.abs(1.0 - 2.0 * r * math.cos(om) * np.exp(-1j * w) + r * r * np.exp(-2j * w))
    model_db = 20.0 * (log_g / math.log(10.0)) - 20.0 * np.log10(den)
    center = om * fs / (2.0 * math.pi)
    err = max_error_db(model_db, target_db, SCORE_ABOVE_DB)
    hist = np.array(trace.losses) * 2.0 / f.size
    return center, r, math.exp(log_g), trace.steps, hist, err
