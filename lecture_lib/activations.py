"""The seven activation functions of the notes, each with its local gradient written next to it.

Every elementwise function ``f(x)`` has a partner ``f_grad(x)``, the local gradient df/dx, which
backprop multiplies with the upstream gradient. At a kink (ReLU's 0) we use the left piece's
slope, as the notes' case split ``x <= 0`` does. Maxout takes two pre-activations and returns the
gradient with respect to each. Math only: no plotting here.
"""

from __future__ import annotations

import numbers

import numpy as np

LEAKY_SLOPE = 0.01  # the notes' max(0.01 x, x)
ELU_ALPHA = 1.0


def _check_nonneg(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}={value!r} is not valid; expected a non-negative finite number")
    return float(value)


# ---------------------------------------------------------------- sigmoid
def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x):
    """sigma(x) (1 - sigma(x)): at most 1/4, reached at x = 0."""
    s = sigmoid(x)
    return s * (1.0 - s)


# ---------------------------------------------------------------- tanh
def tanh(x):
    return np.tanh(np.asarray(x, dtype=float))


def tanh_grad(x):
    """1 - tanh(x)^2: at most 1, reached at x = 0."""
    t = np.tanh(np.asarray(x, dtype=float))
    return 1.0 - t * t


# ---------------------------------------------------------------- ReLU
def relu(x):
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def relu_grad(x):
    """1 where x > 0, else exactly 0: no gradient at all for negative inputs."""
    return (np.asarray(x, dtype=float) > 0).astype(float)


# ---------------------------------------------------------------- Leaky ReLU
def leaky_relu(x, slope: float = LEAKY_SLOPE):
    """max(slope x, x) for 0 <= slope <= 1."""
    slope = _check_slope(slope)
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, slope * x)


def leaky_relu_grad(x, slope: float = LEAKY_SLOPE):
    slope = _check_slope(slope)
    return np.where(np.asarray(x, dtype=float) > 0, 1.0, slope)


def _check_slope(slope) -> float:
    slope = _check_nonneg(slope, "slope")
    if slope > 1:
        raise ValueError(f"slope={slope!r} is not valid; expected a number in [0, 1]")
    return slope


# ---------------------------------------------------------------- PReLU
def prelu(x, alpha):
    """max(alpha x, x) with a learned alpha (a scalar, or one per channel, broadcast)."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, np.asarray(alpha, dtype=float) * x)


def prelu_grad(x, alpha):
    """Returns (df/dx, df/dalpha): alpha gets x wherever x <= 0, which is how it is learned."""
    x = np.asarray(x, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    dx = np.where(x > 0, 1.0, alpha * np.ones_like(x))
    dalpha = np.where(x > 0, 0.0, x)
    return dx, dalpha


# ---------------------------------------------------------------- ELU
def elu(x, alpha: float = ELU_ALPHA):
    """x for x > 0, alpha (e^x - 1) for x <= 0: tends to -alpha for very negative x."""
    alpha = _check_nonneg(alpha, "alpha")
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_grad(x, alpha: float = ELU_ALPHA):
    """1 for x > 0, alpha e^x (= elu(x) + alpha) for x <= 0: small, but never exactly 0."""
    alpha = _check_nonneg(alpha, "alpha")
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


# ---------------------------------------------------------------- Maxout (two pieces)
def maxout(z1, z2):
    """max(w1.x + b1, w2.x + b2), given the two pre-activations z1 and z2."""
    return np.maximum(np.asarray(z1, dtype=float), np.asarray(z2, dtype=float))


def maxout_grad(z1, z2):
    """Returns (df/dz1, df/dz2): the whole gradient goes to the larger piece (z1 on ties)."""
    first = (np.asarray(z1, dtype=float) >= np.asarray(z2, dtype=float)).astype(float)
    return first, 1.0 - first


# ---------------------------------------------------------------- lookup by name
NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout")
# the elementwise ones with fixed parameters (PReLU at its initial alpha 0.25, as in torch)
ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu")
PRELU_INIT = 0.25

_TABLE = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "prelu": (lambda x: prelu(x, PRELU_INIT), lambda x: prelu_grad(x, PRELU_INIT)[0]),
    "elu": (elu, elu_grad),
}

# the largest value of each local gradient (used to call a gradient "saturated")
MAX_GRAD = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0, "prelu": 1.0, "elu": 1.0}


def check_name(name: str, allowed=NAMES) -> str:
    if name not in allowed:
        raise ValueError(f"activation={name!r} is not known; expected one of {list(allowed)}")
    return name


def get(name: str):
    """``(f, f_grad)`` of an elementwise activation by name."""
    return _TABLE[check_name(name, ELEMENTWISE)]


def apply(name: str, x):
    return get(name)[0](x)


def local_gradient(name: str, x):
    return get(name)[1](x)


def saturated(name: str, x, tol: float = 0.05):
    """True where the local gradient is below ``tol`` times its maximum (or exactly zero):
    the upstream gradient is passed back at less than ``tol`` of full strength."""
    tol = _check_nonneg(tol, "tol")
    return local_gradient(name, x) < tol * MAX_GRAD[check_name(name, ELEMENTWISE)]
