"""Numerical gradients by centred differences, and the relative error used to compare them.

Run gradient checks in float64: with float32 the rounding error of f, divided by h, swamps
the truncation error of the difference quotient.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _as_float_array(x, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must have a floating dtype, got {x.dtype}")
    return x


def _check_h(h: float) -> float:
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"h={h!r} must be a positive finite step")
    return float(h)


def _centred_differences(x: np.ndarray, h: float, evaluate: Callable, reduce: Callable) -> np.ndarray:
    """``reduce(evaluate(x + h e_i) - evaluate(x - h e_i)) / 2h`` for every element i; x is
    restored. Subtracting before reducing keeps the other elements' rounding out of the result."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = evaluate(x)
        x[i] = old - h
        minus = evaluate(x)
        x[i] = old
        grad[i] = reduce(plus - minus) / (2 * h)
    return grad


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of the scalar function ``f`` at ``x`` by centred differences:
    ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every element i. ``x`` is restored afterwards."""
    x = _as_float_array(x, "x")
    return _centred_differences(x, _check_h(h), lambda v: float(f(v)), float)


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray,
                             h: float = 1e-5) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x``: checks a gate whose output is an
    array, given the upstream gradient ``dout``."""
    x = _as_float_array(x, "x")

    def output(v):
        out = np.array(f(v), dtype=np.float64, copy=True)  # f may return a view that x changes
        if out.shape != np.shape(dout):
            raise ValueError(f"f(x) has shape {out.shape} but dout has shape {np.shape(dout)}")
        return out

    return _centred_differences(x, _check_h(h), output, lambda diff: float(np.sum(diff * dout)))


def one_sided_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Forward differences ``(f(x + h e_i) - f(x)) / h``: error O(h) instead of O(h^2)."""
    x = _as_float_array(x, "x")
    h = _check_h(h)
    grad = np.zeros_like(x)
    f0 = float(f(x))
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (float(f(x)) - f0) / h
        x[i] = old
    return grad


def rel_error(a, b) -> float:
    """Max over elements of ``|a - b| / max(1e-8, |a| + |b|)``.

    Rules of thumb in float64: below 1e-7 the gradients agree; 1e-7 to 1e-4 look at kinks
    (ReLU at 0) and at h; above 1e-4 something is wrong."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a has shape {a.shape} but b has shape {b.shape}; expected equal shapes")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
