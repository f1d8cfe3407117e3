"""Gradient descent on the parabola f(x) = curvature * x**2 / 2: the smallest optimizer experiment.

Each step multiplies x by (1 - lr * curvature), so the iterates shrink when that factor lies in
(-1, 1), zig-zag when it is negative, and blow up when ``lr > 2 / curvature``.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_array, check_int, check_positive, check_scalar


def loss(x, curvature: float = 1.0):
    """curvature * x**2 / 2, elementwise."""
    return 0.5 * check_positive(curvature, "curvature") * check_array(x, "x", kind="real") ** 2


def descend(lr: float, x0: float, steps: int, curvature: float = 1.0) -> np.ndarray:
    """The iterates x_0 .. x_steps of gradient descent (``steps + 1`` values)."""
    lr, curvature = check_positive(lr, "lr"), check_positive(curvature, "curvature")
    x0, steps = check_scalar(x0, "x0"), check_int(steps, "steps", min=0, max=10_000_000)
    xs = np.empty(steps + 1)
    xs[0] = x0
    for t in range(steps):
        xs[t + 1] = xs[t] - lr * curvature * xs[t]  # x <- x - lr * f'(x)
    return xs


def contraction(lr: float, curvature: float = 1.0) -> float:
    """|x_{t+1}| / |x_t|, the same at every step: |1 - lr * curvature|."""
    return abs(1.0 - check_positive(lr, "lr") * check_positive(curvature, "curvature"))
