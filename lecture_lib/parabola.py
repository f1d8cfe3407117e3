"""Gradient descent on the parabola f(x) = curvature * x**2 / 2: the smallest optimizer experiment.

Each step multiplies x by (1 - lr * curvature), so the iterates shrink when that factor lies in
(-1, 1), zig-zag when it is negative, and blow up when ``lr > 2 / curvature``.
"""

from __future__ import annotations

import numpy as np


def loss(x, curvature: float = 1.0):
    return 0.5 * curvature * np.asarray(x) ** 2


def descend(lr: float, x0: float, steps: int, curvature: float = 1.0) -> np.ndarray:
    """The iterates x_0 .. x_steps of gradient descent (``steps + 1`` values)."""
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr={lr!r} is not valid; expected a positive number")
    if not np.isfinite(curvature) or curvature <= 0:
        raise ValueError(f"curvature={curvature!r} is not valid; expected a positive number")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps={steps!r} is not valid; expected a non-negative integer")
    xs = np.empty(steps + 1)
    xs[0] = x0
    for t in range(steps):
        xs[t + 1] = xs[t] - lr * curvature * xs[t]  # x <- x - lr * f'(x)
    return xs


def contraction(lr: float, curvature: float = 1.0) -> float:
    """|x_{t+1}| / |x_t|, the same at every step: |1 - lr * curvature|."""
    return abs(1.0 - lr * curvature)
