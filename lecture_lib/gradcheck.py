"""Numerical gradients by centred differences, and the relative error used to compare them.

Gradient checks run in float64. With float32 the rounding error of f (about 1e-7 of its value),
divided by h, swamps the truncation error of the difference quotient; with float16, ``x + h``
rounds back to ``x`` and every difference is exactly 0. So a float16 or float32 ``x`` is refused
with a TypeError that says so, rather than checked in float64 behind the student's back: the
usual way to call these functions (``f = lambda _: model.loss(X, y)``, ``x = model.params["W1"]``)
perturbs the student's own array in place, and a float64 copy would leave ``f`` unchanged.
``allow_low_precision=True`` runs the check in the array's own precision anyway, to show how it
fails.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from ._checks import check_array, check_bool, check_positive, check_same_shape

LOW_PRECISION = (np.dtype(np.float16), np.dtype(np.float32))


def _as_float_array(x, name: str, allow_low_precision=False) -> np.ndarray:
    """The array itself (it is perturbed in place and restored), of a real floating dtype."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} of type {type(x).__name__} is not valid; expected a NumPy array "
                        "(it is perturbed in place)")
    check_array(x, name, kind="float")
    allow_low_precision = check_bool(allow_low_precision, "allow_low_precision")
    if x.dtype in LOW_PRECISION and not allow_low_precision:
        raise TypeError(f"{name} has dtype {x.dtype}; expected float64: in {x.dtype} a gradient check "
                        "is wrong (rounding error divided by h"
                        + (", and x + h rounds back to x" if x.dtype == np.float16 else "")
                        + "), so it is refused rather than computed. Convert the array and what f "
                        "uses with .astype(np.float64), or pass allow_low_precision=True to see the "
                        "check fail")
    return x


def _check_f(f, name: str = "f") -> Callable:
    if not callable(f):
        raise TypeError(f"{name}={f!r} is not valid; expected a function of the array")
    return f


def _scalar(value) -> float:
    """f's value as a float; anything but one real number is a clear TypeError."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.size != 1):
        raise TypeError(f"f returned {type(value).__name__}"
                        + (f" of shape {value.shape}" if isinstance(value, np.ndarray) else "")
                        + "; expected one real number (a scalar loss)")
    if isinstance(value, np.ndarray):
        value = value.reshape(()).item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"f returned {value!r} of type {type(value).__name__}; expected one real number "
                        "(a scalar loss)")
    return float(value)


def _check_h(h) -> float:
    return check_positive(h, "h")


def _centred_differences(x: np.ndarray, h: float, evaluate: Callable, reduce: Callable) -> np.ndarray:
    """``reduce(evaluate(x + h e_i) - evaluate(x - h e_i)) / 2h`` for every element i; x is
    restored. Subtracting before reducing keeps the other elements' rounding out of the result."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + h
            plus = evaluate(x)
            x[i] = old - h
            minus = evaluate(x)
        finally:
            x[i] = old
        grad[i] = reduce(plus - minus) / (2 * h)
    return grad


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5, *,
                       allow_low_precision: bool = False) -> np.ndarray:
    """Gradient of the scalar function ``f`` at ``x`` by centred differences:
    ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every element i. ``x`` is restored afterwards."""
    x = _as_float_array(x, "x", allow_low_precision)
    _check_f(f)
    return _centred_differences(x, _check_h(h), lambda v: _scalar(f(v)), float)


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray,
                             h: float = 1e-5, *, allow_low_precision: bool = False) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x``: checks a gate whose output is an
    array, given the upstream gradient ``dout``."""
    x = _as_float_array(x, "x", allow_low_precision)
    _check_f(f)
    dout = check_array(dout, "dout", kind="real")

    def output(v):
        out = np.array(f(v), dtype=np.float64, copy=True)  # f may return a view that x changes
        if out.shape != np.shape(dout):
            raise ValueError(f"f(x) has shape {out.shape} but dout has shape {np.shape(dout)}")
        return out

    return _centred_differences(x, _check_h(h), output, lambda diff: float(np.sum(diff * dout)))


def one_sided_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5, *,
                       allow_low_precision: bool = False) -> np.ndarray:
    """Forward differences ``(f(x + h e_i) - f(x)) / h``: error O(h) instead of O(h^2)."""
    x = _as_float_array(x, "x", allow_low_precision)
    _check_f(f)
    h = _check_h(h)
    grad = np.zeros_like(x)
    f0 = _scalar(f(x))
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        try:
            grad[i] = (_scalar(f(x)) - f0) / h
        finally:
            x[i] = old
    return grad


def rel_error(a, b) -> float:
    """Max over elements of ``|a - b| / max(1e-8, |a| + |b|)``.

    Rules of thumb in float64: below 1e-7 the gradients agree; 1e-7 to 1e-4 look at kinks
    (ReLU at 0) and at h; above 1e-4 something is wrong."""
    a = check_array(a, "a", kind="real").astype(np.float64)
    b = check_array(b, "b", kind="real").astype(np.float64)
    check_same_shape(a, b, "a", "b")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
