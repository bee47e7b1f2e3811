"""Small full-batch optimizers in torch (float64) for the learning modules.

The problems learned here have 1 to ~20 parameters and at most a few thousand samples, so
second-order methods win by orders of magnitude over first-order loops (BACKGROUND.md: the
notebook's gradient descent needed ~10^5 steps). Two methods:

- :func:`levenberg_marquardt` for least squares (magnitude, dB, impulse-response residuals);
- :func:`newton` for a general smooth scalar loss (the binary max-margin loss).

Jacobians and Hessians come from plain reverse-mode autograd (double backward, one pass per
parameter). ``torch.func`` would vectorise that, but its first call in a process costs ~1 s of
lazy imports, more than a whole fit; so does ``autograd.grad`` on a non-scalar output (~0.3 s),
hence the scalar ``(r·u).sum()`` trick below.

Both record every accepted iterate so callers can draw training curves and optimizer paths.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch

DTYPE = torch.float64

# Small problems run fastest on one thread: with 2 cores the thread hand-off costs more than the
# arithmetic (measured in benchmarks/train_bench.py).
FIT_THREADS = 1


@contextlib.contextmanager
def torch_threads(n: int | None = None) -> Iterator[None]:
    """Run a block with ``n`` (default :data:`FIT_THREADS`) intra-op torch threads, restoring
    the previous setting after."""
    n = FIT_THREADS if n is None else n
    old = torch.get_num_threads()
    if old != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


def jacobian(
    fn: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``fn(theta)`` (a vector) and its Jacobian, shape (len(fn(theta)), len(theta)).

    Forward-mode through reverse mode: g(u) = J^T u is linear in u, so dg_i/du = row i of J^T.
    """
    th = theta.detach().clone().requires_grad_(True)
    r = fn(th)
    u = torch.zeros_like(r, requires_grad=True)
    (g,) = torch.autograd.grad((r * u).sum(), th, create_graph=True)
    cols = []
    for i in range(th.numel()):
        if g[i].requires_grad:
            (c,) = torch.autograd.grad(g[i], u, retain_graph=True, allow_unused=True)
        else:
            c = None
        cols.append(torch.zeros_like(r) if c is None else c)
    return r.detach(), torch.stack(cols, dim=1).detach()


def grad_hessian(
    fn: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A scalar ``fn(theta)``, its gradient and its Hessian (exact, double backward)."""
    th = theta.detach().clone().requires_grad_(True)
    value = fn(th)
    (g,) = torch.autograd.grad(value, th, create_graph=True)
    rows = []
    for i in range(th.numel()):
        if g[i].requires_grad:
            (h,) = torch.autograd.grad(g[i], th, retain_graph=True, allow_unused=True)
        else:
            h = None
        rows.append(torch.zeros_like(th) if h is None else h)
    return value.detach(), g.detach(), torch.stack(rows).detach()


@dataclass
class Trace:
    """Accepted iterates of one optimization run (parameters and loss, one row per step)."""

    params: list[torch.Tensor] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    attempts: int = 0  # trial steps evaluated, accepted or not

    def record(self, theta: torch.Tensor, loss: float) -> None:
        self.params.append(theta.detach().clone())
        self.losses.append(float(loss))

    @property
    def steps(self) -> int:
        """Accepted steps (the first recorded row is the starting point)."""
        return max(len(self.losses) - 1, 0)


def levenberg_marquardt(
    residuals: Callable[[torch.Tensor], torch.Tensor],
    theta0: torch.Tensor,
    *,
    max_steps: int = 200,
    rtol: float = 1e-12,
    xtol: float = 1e-12,
    atol: float = 0.0,
    stall: float = 0.0,
    trace: Trace | None = None,
) -> tuple[torch.Tensor, Trace]:
    """Minimise ``0.5·sum(residuals(theta)**2)`` by Levenberg–Marquardt with Marquardt scaling.

    Stops when an accepted step lowers the cost by less than ``rtol`` relatively, when the step
    is below ``xtol`` (relative to 1 + |theta|), when the cost is at most ``atol``, when the last
    10 accepted steps together lowered it by at most ``stall`` relatively, or after ``max_steps``
    trial steps.
    """
    trace = trace if trace is not None else Trace()
    theta = theta0.detach().clone().to(DTYPE)
    r, J = jacobian(residuals, theta)
    cost = 0.5 * float(r @ r)
    if not trace.losses:
        trace.record(theta, cost)
    mu = 1e-3
    eye = torch.eye(theta.numel(), dtype=DTYPE)
    for _ in range(max_steps):
        trace.attempts += 1
        g = J.T @ r
        A = J.T @ J
        scale = torch.clamp(torch.diagonal(A), min=1e-12 * float(torch.diagonal(A).max()) + 1e-300)
        try:
            delta = torch.linalg.solve(A + mu * torch.diag(scale) + 1e-15 * eye, -g)
        except RuntimeError:
            mu *= 10.0
            continue
        if not bool(torch.isfinite(delta).all()):
            mu *= 10.0
            continue
        cand = theta + delta
        with torch.no_grad():
            r_new = residuals(cand)
        cost_new = 0.5 * float(r_new @ r_new)
        if cost_new == cost_new and cost_new <= cost:  # NaN never accepted
            small_step = float(delta.abs().max()) <= xtol * (1.0 + float(theta.abs().max()))
            small_gain = cost - cost_new <= rtol * cost
            stalled = len(trace.losses) > 10 and trace.losses[-10] - cost_new <= stall * cost_new
            theta, r, cost = cand, r_new, cost_new
            trace.record(theta, cost)
            mu = max(mu / 3.0, 1e-12)
            if small_step or small_gain or stalled or cost <= atol:
                break
            _, J = jacobian(residuals, theta)
        else:
            mu *= 4.0
            if mu > 1e12:
                break
    return theta, trace


def newton(
    loss: Callable[[torch.Tensor], torch.Tensor],
    theta0: torch.Tensor,
    *,
    max_steps: int = 50,
    xtol: float = 1e-12,
    max_step: float = 1.0,
    trace: Trace | None = None,
) -> tuple[torch.Tensor, Trace]:
    """Minimise a smooth scalar ``loss`` by Newton steps with a step cap and a line search.

    ``max_step`` bounds each coordinate's move (in parameter units: log-frequency here): where
    the loss is nearly linear the Newton step is huge, and the cap plus backtracking (Armijo)
    keeps it sane. Stops when the Newton step is at most ``xtol`` (converged), when no step
    lowers the loss (the floating-point floor), or after ``max_steps`` steps.
    """
    trace = trace if trace is not None else Trace()
    theta = theta0.detach().clone().to(DTYPE)
    n = theta.numel()
    value, g, H = grad_hessian(loss, theta)
    f = float(value)
    if not trace.losses:
        trace.record(theta, f)
    for _ in range(max_steps):
        trace.attempts += 1
        # A tiny ridge keeps the solve defined where the loss is flat (H ~ 0).
        ridge = 1e-12 * (float(torch.diagonal(H).abs().max()) + 1e-300)
        try:
            delta = torch.linalg.solve(H + ridge * torch.eye(n, dtype=DTYPE), -g)
        except RuntimeError:
            delta = -g
        if not bool(torch.isfinite(delta).all()) or float(g @ delta) >= 0.0:
            delta = -g  # not a descent direction (H not positive definite): gradient step
        full_newton = float(delta.abs().max())
        if full_newton <= xtol:  # converged: take the last (tiny) step if it does not hurt
            with torch.no_grad():
                f_new = float(loss(theta + delta))
            if f_new <= f:
                theta, f = theta + delta, f_new
                trace.record(theta, f)
            break
        if full_newton > max_step:
            delta = delta * (max_step / full_newton)
        slope, t = float(g @ delta), 1.0
        with torch.no_grad():
            while True:
                f_new = float(loss(theta + t * delta))
                if f_new == f_new and f_new <= f + 1e-4 * t * slope:
                    break
                t *= 0.5
                if t < 1e-12:
                    return theta, trace  # nothing lowers the loss: converged to precision
        theta, f = theta + t * delta, f_new
        trace.record(theta, f)
        _, g, H = grad_hessian(loss, theta)
    return theta, trace
