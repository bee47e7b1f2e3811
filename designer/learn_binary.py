"""Learning RC bands from LED on/off labels: an unbiased max-margin loss on a log-frequency axis.

With binary labels the best any learner can do is put each −3 dB edge between its two
neighbouring samples of opposite label (the *label bracket*); the max-margin answer is the middle
of that bracket on a log axis (BACKGROUND.md §1). The notebook's losses are biased (MSE against
0/1) or stop anywhere inside the bracket (hinge), because they measure errors in |H|, whose slope
differs on the two sides of an edge.

Here the parameters are the band's ln −3 dB edges E (section cutoffs follow in closed form), and
each sample i that constrains an edge has a signed margin m_i = s_i·(ln f_i − E) in ln-frequency
units (positive on the correct side). Per edge the loss is

    τ·Σ_i softplus(−m_i/τ)  +  τ·logsumexp_i(−m_i/τ)
    (soft hinge: total violation)  (soft −min margin)

Both terms are convex in E. As τ → 0 the first is the hinge Σ max(0, −m_i) and the second is
−min_i m_i, whose minimiser is exactly the middle of the bracket; the hinge keeps a single
contradictory label from dragging the edge far away. τ is annealed from 0.25 (a factor 1.3 in
frequency) down to 1/1000 of the narrowest bracket, with damped Newton steps at each τ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .learn_opt import DTYPE, Trace, newton
from .learn_rc import (
    N_CUTOFFS,
    BandDataError,
    EdgeBracket,
    RcBandFit,
    RcBandTarget,
    cutoffs_from_edges,
    edges_from_cutoffs,
)

TAU_START = 0.25  # ln-frequency units
TAU_FACTOR = 0.1
TAU_FINAL_OF_BRACKET = 1e-3
# Refuse labels that no band of this type can explain this badly (fraction of samples).
MAX_INCONSISTENT = 0.1
_PAD = 1e6  # padding sample far on its correct side: contributes exactly nothing


@dataclass(frozen=True)
class _Edge:
    """The samples that pin one edge: margin = sign·(z − E); bracket ends in ln Hz."""

    z: np.ndarray
    sign: np.ndarray
    below: float
    above: float


def best_band(band_type: str, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels (0/1, original order) of the band of ``band_type`` that gets the fewest wrong.

    Equal to ``labels`` when they are consistent. Low/high-pass: the best single split of the
    sorted samples (ties: the middle one); band-pass: the best interval (Kadane).
    """
    order = np.argsort(z, kind="stable")
    y = labels[order].astype(int)
    n = y.size
    pred = np.zeros(n, dtype=int)
    if band_type in ("lowpass", "highpass"):
        ones_before = np.r_[0, np.cumsum(y)]
        zeros_before = np.arange(n + 1) - ones_before
        if band_type == "lowpass":  # on for the first k samples
            wrong = zeros_before + (ones_before[-1] - ones_before)
        else:  # on after the first k samples
            wrong = ones_before + (zeros_before[-1] - zeros_before)
        ties = np.nonzero(wrong == wrong.min())[0]
        k = int(ties[ties.size // 2])
        if band_type == "lowpass":
            pred[:k] = 1
        else:
            pred[k:] = 1
    else:  # interval [i, j) maximising (#1 − #0) inside
        best, run, start, span = 0, 0, 0, (0, 0)
        for j, v in enumerate(2 * y - 1):
            if run <= 0:
                run, start = 0, j
            run += v
            if run > best:
                best, span = run, (start, j + 1)
        pred[span[0] : span[1]] = 1
    out = np.empty(n, dtype=int)
    out[order] = pred
    return out


def _band_edges(b: RcBandTarget, z: np.ndarray, labels: np.ndarray) -> list[_Edge]:
    """The samples pinning each edge of band ``b``.

    Labels that contradict the best band of this type (see :func:`best_band`) are left out, so
    every bracket is a real one; more than :data:`MAX_INCONSISTENT` of them is refused.
    """
    on = labels == 1
    if on.all():
        raise BandDataError(b.name, "no bracket: every label is 1 (the LED is never off)")
    if not on.any():
        raise BandDataError(b.name, "no bracket: every label is 0 (the LED is never on)")
    best = best_band(b.type, z, labels)
    keep = best == labels
    wrong = int(z.size - keep.sum())
    if wrong > MAX_INCONSISTENT * z.size:
        raise BandDataError(
            b.name,
            f"the labels do not look like a {b.type}: the best {b.type} still "
            f"disagrees with {wrong} of {z.size} labels",
        )
    z_on, z_off = z[keep & on], z[keep & ~on]
    if z_on.size == 0 or z_off.size == 0:
        left = 1 if z_on.size else 0
        raise BandDataError(
            b.name,
            f"no bracket: the best {b.type} gets {wrong} of the {z.size} labels wrong; "
            f"leaving those out, every label is {left} (the LED is never "
            f"{'off' if left else 'on'})",
        )
    ones_on, ones_off = np.ones(z_on.size), np.ones(z_off.size)
    if b.type == "lowpass":
        return [_Edge(np.r_[z_on, z_off], np.r_[-ones_on, ones_off], z_on.max(), z_off.min())]
    if b.type == "highpass":
        return [_Edge(np.r_[z_on, z_off], np.r_[ones_on, -ones_off], z_off.max(), z_on.min())]
    off_lo, off_hi = z_off[z_off < z_on.min()], z_off[z_off > z_on.max()]
    for side, off, ref in (("below", off_lo, z_on.min()), ("above", off_hi, z_on.max())):
        if off.size == 0:
            raise BandDataError(
                b.name,
                f"no bracket: no label 0 {side} the label-1 samples (they reach "
                f"{math.exp(ref):.6g} Hz), so the data do not pin that edge",
            )
    return [
        _Edge(np.r_[z_on, off_lo], np.r_[ones_on, -np.ones(off_lo.size)], off_lo.max(), z_on.min()),
        _Edge(np.r_[z_on, off_hi], np.r_[-ones_on, np.ones(off_hi.size)], z_on.max(), off_hi.min()),
    ]


def _predicted_on(band_type: str, z: np.ndarray, log_edges: np.ndarray) -> np.ndarray:
    if band_type == "lowpass":
        return z < log_edges[0]
    if band_type == "highpass":
        return z > log_edges[0]
    lo, hi = sorted(log_edges)
    return (z > lo) & (z < hi)


@dataclass(eq=False)
class BinaryResult:
    """What :func:`fit_binary` hands back to :func:`designer.learn_rc.fit_rc`."""

    log_cutoffs: np.ndarray
    log_cutoff_history: np.ndarray
    trace: Trace
    loss_of: Callable[[np.ndarray], float]
    edges: list[list[_Edge]]
    z: np.ndarray
    labels: list[np.ndarray]

    def band_fit(
        self, i: int, b: RcBandTarget, cutoffs: tuple[float, ...], edges_hz: tuple[float, ...]
    ) -> RcBandFit:
        """The band's result with its label brackets and the count of disagreeing labels."""
        log_edges = np.log(np.array(edges_hz)) if edges_hz else np.array([])
        brackets = []
        for e, edge in zip(sorted(log_edges), self.edges[i], strict=True):
            width = edge.above - edge.below
            pos = (e - edge.below) / width if width != 0 else 0.5
            brackets.append(
                EdgeBracket(
                    float(math.exp(e)),
                    float(math.exp(edge.below)),
                    float(math.exp(edge.above)),
                    float(pos),
                )
            )
        wrong = int(np.sum(_predicted_on(b.type, self.z, log_edges) != (self.labels[i] == 1)))
        return RcBandFit(b.name, b.type, cutoffs, edges_hz, tuple(brackets), wrong)


def fit_binary(
    z: np.ndarray, bands: Sequence[RcBandTarget], labels: list[np.ndarray]
) -> BinaryResult:
    """Learn every band's ln −3 dB edges from labels; see the module docstring for the loss.

    ``z``: ln f of the samples; ``labels``: one 0/1 array per band (already validated).
    """
    edges: list[list[_Edge]] = []
    for b, y in zip(bands, labels, strict=True):
        edges.append(_band_edges(b, z, y))
    flat = [e for band in edges for e in band]
    width = max(len(e.z) for e in flat)
    Z = np.full((len(flat), width), _PAD)
    S = np.ones((len(flat), width))
    for k, e in enumerate(flat):
        Z[k, : e.z.size], S[k, : e.z.size] = e.z, e.sign
    Zt, St = torch.tensor(Z, dtype=DTYPE), torch.tensor(S, dtype=DTYPE)

    def loss(log_edges: torch.Tensor, tau: float) -> torch.Tensor:
        m = St * (Zt - log_edges[:, None])
        hinge = torch.nn.functional.softplus(-m / tau).sum()
        softmin = torch.logsumexp(-m / tau, dim=1).sum()
        return tau * (hinge + softmin)

    # Brackets of the kept labels are never empty, but two samples may share a frequency.
    tau_final = max(TAU_FINAL_OF_BRACKET * min(e.above - e.below for e in flat), 1e-9)

    start = []
    for b, band_edges in zip(bands, edges, strict=True):
        if b.init_cutoffs_hz is not None:
            start.extend(edges_from_cutoffs(b.type, np.log(b.init_cutoffs_hz)).tolist())
        else:  # from the data alone: the middle of each label bracket
            start.extend(0.5 * (e.below + e.above) for e in band_edges)
    theta = torch.tensor(start, dtype=DTYPE)
    trace = Trace()
    tau, max_step = TAU_START, 1.0
    while True:
        theta, trace = newton(
            lambda e, t=tau: loss(e, t),
            theta,
            max_steps=60,
            xtol=1e-4 * tau,
            max_step=max_step,
            trace=trace,
        )
        if tau <= tau_final:
            break
        max_step = 5.0 * tau
        tau = max(tau * TAU_FACTOR, tau_final)
    # One loss for the whole history (and for loss surfaces): the final temperature.
    trace.losses = [float(loss(p, tau_final)) for p in trace.params]

    def to_cutoffs(log_edges: np.ndarray) -> np.ndarray:
        out, pos = [], 0
        for b in bands:
            n = N_CUTOFFS[b.type]
            out.extend(cutoffs_from_edges(b.type, log_edges[pos : pos + n]).tolist())
            pos += n
        return np.array(out)

    def loss_of(log_cutoffs: np.ndarray) -> float:
        e, pos = [], 0
        for b in bands:
            n = N_CUTOFFS[b.type]
            e.extend(edges_from_cutoffs(b.type, log_cutoffs[pos : pos + n]).tolist())
            pos += n
        return float(loss(torch.tensor(e, dtype=DTYPE), tau_final))

    history = np.array([to_cutoffs(p.numpy()) for p in trace.params])
    # Row 0 is the start as given: a band-pass too narrow to reach −3 dB has the same (centre)
    # edges, hence the same loss, as the reaching band its edges map back to.
    pos = 0
    for b in bands:
        n = N_CUTOFFS[b.type]
        if b.init_cutoffs_hz is not None:
            history[0, pos : pos + n] = np.log(b.init_cutoffs_hz)
        pos += n
    return BinaryResult(to_cutoffs(theta.numpy()), history, trace, loss_of, edges, z, list(labels))
