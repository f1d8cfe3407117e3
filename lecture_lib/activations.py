"""The seven activation functions of the notes, each with its local gradient written next to it.

Every elementwise function ``f(x)`` has a partner ``f_grad(x)``, the local gradient df/dx, which
backprop multiplies with the upstream gradient. At a kink (ReLU's 0) we use the left piece's
slope, as the notes' case split ``x <= 0`` does. Maxout takes two pre-activations and returns the
gradient with respect to each. Math only: no plotting here.

Inputs are real arrays (or numbers): a floating array keeps its dtype (float32 in, float32 out), an
integer one is computed in float64 (so that uint8 pixels cannot wrap around), and anything else
(complex numbers, booleans, strings, None) is refused with a TypeError.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_array, check_choice, check_scalar

LEAKY_SLOPE = 0.01  # the notes' max(0.01 x, x)
ELU_ALPHA = 1.0


def _real(x, name: str = "x") -> np.ndarray:
    x = check_array(x, name, kind="real")
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _slope(slope) -> float:
    return check_scalar(slope, "slope", min=0.0, max=1.0)


def _alpha(alpha) -> float:
    return check_scalar(alpha, "alpha", min=0.0)


# ---------------------------------------------------------------- sigmoid
def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    x = _real(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x):
    """sigma(x) (1 - sigma(x)): at most 1/4, reached at x = 0."""
    s = sigmoid(x)
    return s * (1.0 - s)


# ---------------------------------------------------------------- tanh
def tanh(x):
    return np.tanh(_real(x))


def tanh_grad(x):
    """1 - tanh(x)^2: at most 1, reached at x = 0."""
    t = np.tanh(_real(x))
    return 1.0 - t * t


# ---------------------------------------------------------------- ReLU
def relu(x):
    return np.maximum(_real(x), 0.0)


def relu_grad(x):
    """1 where x > 0, else exactly 0: no gradient at all for negative inputs."""
    x = _real(x)
    return (x > 0).astype(x.dtype)


# ---------------------------------------------------------------- Leaky ReLU
def leaky_relu(x, slope: float = LEAKY_SLOPE):
    """max(slope x, x) for 0 <= slope <= 1."""
    slope = _slope(slope)
    x = _real(x)
    return np.where(x > 0, x, slope * x)


def leaky_relu_grad(x, slope: float = LEAKY_SLOPE):
    """1 where x > 0, else ``slope``: never exactly 0 (for a positive slope)."""
    slope = _slope(slope)
    x = _real(x)
    return np.where(x > 0, 1.0, slope).astype(x.dtype)


# ---------------------------------------------------------------- PReLU
def prelu(x, alpha):
    """max(alpha x, x) with a learned alpha (a scalar, or one per channel, broadcast)."""
    x, alpha = _real(x), _real(alpha, "alpha")
    return np.where(x > 0, x, alpha * x)


def prelu_grad(x, alpha):
    """Returns (df/dx, df/dalpha): alpha gets x wherever x <= 0, which is how it is learned."""
    x, alpha = _real(x), _real(alpha, "alpha")
    dx = np.where(x > 0, 1.0, alpha * np.ones_like(x))
    dalpha = np.where(x > 0, 0.0, x)
    return dx, dalpha


# ---------------------------------------------------------------- ELU
def elu(x, alpha: float = ELU_ALPHA):
    """x for x > 0, alpha (e^x - 1) for x <= 0: tends to -alpha for very negative x."""
    alpha = _alpha(alpha)
    x = _real(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_grad(x, alpha: float = ELU_ALPHA):
    """1 for x > 0, alpha e^x (= elu(x) + alpha) for x <= 0: small, but never exactly 0."""
    alpha = _alpha(alpha)
    x = _real(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0))).astype(x.dtype)


# ---------------------------------------------------------------- Maxout (two pieces)
def maxout(z1, z2):
    """max(w1.x + b1, w2.x + b2), given the two pre-activations z1 and z2."""
    return np.maximum(_real(z1, "z1"), _real(z2, "z2"))


def maxout_grad(z1, z2):
    """Returns (df/dz1, df/dz2): the whole gradient goes to the larger piece (z1 on ties)."""
    first = (_real(z1, "z1") >= _real(z2, "z2")).astype(np.float64)
    return first, 1.0 - first


# ---------------------------------------------------------------- linear (no activation)
def linear(x):
    """The identity: a layer without an activation function."""
    return _real(x)


def linear_grad(x):
    return np.ones_like(_real(x))


# ---------------------------------------------------------------- lookup by name
NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout")
# the elementwise ones with fixed parameters (PReLU at its initial alpha 0.25, as in torch)
ELEMENTWISE = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu")
PRELU_INIT = 0.25
LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU", "prelu": "PReLU",
          "elu": "ELU", "maxout": "Maxout", "linear": "linear"}  # the names to print

_TABLE = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "prelu": (lambda x: prelu(x, PRELU_INIT), lambda x: prelu_grad(x, PRELU_INIT)[0]),
    "elu": (elu, elu_grad),
    "linear": (linear, linear_grad),
}

# the largest value of each local gradient (used to call a gradient "saturated")
MAX_GRAD = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0, "prelu": 1.0, "elu": 1.0,
            "linear": 1.0}


def check_name(name: str, allowed=NAMES) -> str:
    """``name`` if it is one of ``allowed``; otherwise a clear error naming the activation."""
    return check_choice(name, "activation", allowed)


def get(name: str):
    """``(f, f_grad)`` of an elementwise activation by name (also ``"linear"``, the identity)."""
    return _TABLE[check_name(name, (*ELEMENTWISE, "linear"))]


def apply(name: str, x):
    """``f(x)`` for the activation ``name``."""
    return get(name)[0](x)


def local_gradient(name: str, x):
    """``f'(x)`` for the activation ``name``, at its input ``x``."""
    return get(name)[1](x)


def saturated(name: str, x, tol: float = 0.05):
    """True where the local gradient is below ``tol`` times its maximum (or exactly zero):
    the upstream gradient is passed back at less than ``tol`` of full strength."""
    tol = check_scalar(tol, "tol", min=0.0)
    return local_gradient(name, x) < tol * MAX_GRAD[name]
