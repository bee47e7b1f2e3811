"""Tests for designer/learn_opt.py: autodiff helpers and the two optimizers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from designer.learn_opt import (
    DTYPE,
    grad_hessian,
    jacobian,
    levenberg_marquardt,
    newton,
    torch_threads,
)


def t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=DTYPE)


class TestJacobian:
    def test_matches_analytic(self):
        x = np.linspace(0.0, 2.0, 7)
        xt = torch.tensor(x, dtype=DTYPE)

        def fn(th: torch.Tensor) -> torch.Tensor:
            return th[0] * torch.exp(-th[1] * xt)

        r, J = jacobian(fn, t([2.0, 0.5]))
        assert_allclose(r.numpy(), 2.0 * np.exp(-0.5 * x))
        assert_allclose(J[:, 0].numpy(), np.exp(-0.5 * x))
        assert_allclose(J[:, 1].numpy(), -2.0 * x * np.exp(-0.5 * x))

    def test_unused_parameter_gives_zero_column(self):
        r, J = jacobian(lambda th: th[0] * t([1.0, 2.0, 3.0]), t([1.5, 9.0]))
        assert_allclose(J.numpy(), [[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])


class TestGradHessian:
    def test_matches_analytic(self):
        def fn(th: torch.Tensor) -> torch.Tensor:
            return th[0] ** 3 * th[1] + torch.sin(th[1])

        value, g, H = grad_hessian(fn, t([2.0, 0.3]))
        a, b = 2.0, 0.3
        assert float(value) == pytest.approx(a**3 * b + math.sin(b))
        assert_allclose(g.numpy(), [3 * a**2 * b, a**3 + math.cos(b)])
        assert_allclose(H.numpy(), [[6 * a * b, 3 * a**2], [3 * a**2, -math.sin(b)]])


class TestLevenbergMarquardt:
    def test_recovers_exponential_decay(self):
        x = torch.linspace(0.0, 3.0, 50, dtype=DTYPE)
        y = 1.7 * torch.exp(-1.3 * x) + 0.2

        def res(th: torch.Tensor) -> torch.Tensor:
            return th[0] * torch.exp(-th[1] * x) + th[2] - y

        th, trace = levenberg_marquardt(res, t([1.0, 0.1, 0.0]))
        assert_allclose(th.numpy(), [1.7, 1.3, 0.2], rtol=1e-9)
        assert trace.steps == len(trace.losses) - 1 == len(trace.params) - 1
        assert all(b <= a for a, b in zip(trace.losses, trace.losses[1:], strict=False))
        assert trace.losses[-1] < 1e-20

    def test_atol_stops_early(self):
        x = torch.linspace(0.0, 3.0, 50, dtype=DTYPE)
        y = torch.exp(-x)

        def res(th: torch.Tensor) -> torch.Tensor:
            return torch.exp(-th[0] * x) - y

        _, exact = levenberg_marquardt(res, t([3.0]))
        _, loose = levenberg_marquardt(res, t([3.0]), atol=1e-3)
        assert loose.steps < exact.steps
        assert loose.losses[-1] <= 1e-3


class TestDampedNewton:
    def test_minimises_convex_function(self):
        # f(x) = logsumexp(x - 1, 3 - x) + 0.1 x^2 has a unique minimum; check the gradient is 0
        def f(th: torch.Tensor) -> torch.Tensor:
            return torch.logsumexp(torch.stack([th[0] - 1.0, 3.0 - th[0]]), 0) + 0.1 * th[0] ** 2

        th, trace = newton(f, t([-20.0]), max_step=2.0)
        _, g, _ = grad_hessian(f, th)
        assert abs(float(g[0])) < 1e-10
        steps = np.diff([float(p[0]) for p in trace.params])
        assert np.all(np.abs(steps) <= 2.0 + 1e-12)  # the step cap holds
        assert all(b <= a for a, b in zip(trace.losses, trace.losses[1:], strict=False))


def test_torch_threads_restores_setting():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
