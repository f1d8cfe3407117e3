"""The basic gates: forward/backward pairs on NumPy arrays, in the shape of CS231n's layers.py.

Every gate ``<name>`` has

- ``<name>_forward(...) -> (out, cache)``: computes the output and keeps, in a plain tuple, what
  the backward pass needs;
- ``<name>_backward(dout, cache) -> grads``: given the upstream gradient ``dout`` (same shape as
  ``out``), returns the gradient with respect to each array argument of the forward, as a tuple in
  the forward's argument order, or a single array where there is one argument.

Losses return ``(loss, dscores)`` at once: the loss is the mean over the batch, and ``dscores``
is its gradient with respect to the scores.

Shape mismatches raise ``ValueError`` naming both shapes; a non-float input (integer pixels,
complex numbers) raises ``TypeError``. Every gate keeps its input's floating dtype.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_same_shape

__all__ = [
    "affine_backward",
    "affine_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax",
    "softmax_loss",
    "svm_loss",
    "tanh_backward",
    "tanh_forward",
]


# --------------------------------------------------------------------------- checks
def _floats(x, name: str, ndim: int | None = None) -> np.ndarray:
    """``x`` checked by :func:`check_array` (a real floating array), with a cheap path for the usual
    case, since a gate runs at every step of training."""
    if type(x) is np.ndarray and x.dtype.kind == "f" and (ndim is None or x.ndim == ndim):
        return x
    return check_array(x, name, ndim=ndim)


def _labels(scores, y) -> tuple[np.ndarray, np.ndarray]:
    scores = _floats(scores, "scores", ndim=2)
    y = check_array(y, "y", kind="int")
    if y.shape != (scores.shape[0],):
        raise ValueError(f"scores has shape {scores.shape} but y has shape {y.shape}; expected y of "
                         f"shape ({scores.shape[0]},)")
    if y.size and (y.min() < 0 or y.max() >= scores.shape[1]):
        raise ValueError(f"y has labels in [{y.min()}, {y.max()}]; expected labels in "
                         f"[0, {scores.shape[1] - 1}] for scores of shape {scores.shape}")
    return scores, y


# --------------------------------------------------------------------------- affine
def check_affine_inputs(x, w, b):
    """x (N, D), w (D, M) and b (M,) as float arrays, or a ValueError naming the shapes that differ."""
    x, w, b = _floats(x, "x", ndim=2), _floats(w, "w", ndim=2), _floats(b, "b", ndim=1)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"x has shape {x.shape} but w has shape {w.shape}; expected "
                         f"w of shape ({x.shape[1]}, M)")
    if b.shape != (w.shape[1],):
        raise ValueError(f"w has shape {w.shape} but b has shape {b.shape}; expected "
                         f"b of shape ({w.shape[1]},)")
    return x, w, b


def affine_forward(x, w, b):
    """Fully connected layer: ``out = x @ w + b``.

    Inputs:
    - x: (N, D) inputs
    - w: (D, M) weights
    - b: (M,) biases

    Returns (out, cache): out (N, M); cache = (x, w).
    """
    x, w, b = check_affine_inputs(x, w, b)
    out = x @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    """Backward pass of the affine gate.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: (x, w) from affine_forward, x (N, D), w (D, M)

    Returns (dx, dw, db): dx (N, D) = dout @ w.T; dw (D, M) = x.T @ dout; db (M,) = sum of
    dout over the batch.
    """
    x, w = cache
    dout = _floats(dout, "dout", ndim=2)
    if dout.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dout has shape {dout.shape} but the forward output had shape "
                         f"{(x.shape[0], w.shape[1])}; expected equal shapes")
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


# --------------------------------------------------------------------------- elementwise gates
def relu_forward(x):
    """ReLU: ``out = max(0, x)``, elementwise.

    Input: x of any shape. Returns (out, cache): out same shape as x; cache = (x,).
    """
    x = _floats(x, "x")
    return np.maximum(x, 0), (x,)


def relu_backward(dout, cache):
    """Backward of ReLU: the gradient passes where x > 0 and is zero elsewhere (at x == 0 too).

    Inputs: dout (same shape as x), cache = (x,). Returns dx, same shape as x.
    """
    (x,) = cache
    check_same_shape(_floats(dout, "dout"), x, "dout", "x")
    return dout * (x > 0)


def sigmoid_forward(x):
    """Logistic sigmoid ``out = 1 / (1 + exp(-x))``, elementwise and overflow-free.

    Input: x of any shape. Returns (out, cache): out same shape as x; cache = (out,).
    """
    x = _floats(x, "x")
    z = np.exp(-np.abs(x))                              # never overflows
    out = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return out, (out,)


def sigmoid_backward(dout, cache):
    """Backward of sigmoid as ONE gate: local gradient ``out * (1 - out)``.

    Inputs: dout (same shape as x), cache = (out,). Returns dx, same shape as x.
    """
    (out,) = cache
    check_same_shape(_floats(dout, "dout"), out, "dout", "out")
    return dout * out * (1 - out)


def tanh_forward(x):
    """Hyperbolic tangent, elementwise.

    Input: x of any shape. Returns (out, cache): out same shape as x; cache = (out,).
    """
    x = _floats(x, "x")
    out = np.tanh(x)
    return out, (out,)


def tanh_backward(dout, cache):
    """Backward of tanh: local gradient ``1 - out**2``.

    Inputs: dout (same shape as x), cache = (out,). Returns dx, same shape as x.
    """
    (out,) = cache
    check_same_shape(_floats(dout, "dout"), out, "dout", "out")
    return dout * (1 - out * out)


# --------------------------------------------------------------------------- losses
def softmax(scores) -> np.ndarray:
    """Probabilities from scores along the last axis, ``exp(s) / sum(exp(s))``, computed with the
    largest score subtracted first, so that exp never overflows (any leading axes: a batch, masks...)."""
    scores = check_array(scores, "scores", kind="real", nonempty=True)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_loss(scores, y):
    """Softmax (cross-entropy) loss, averaged over the batch.

    Inputs:
    - scores: (N, C) class scores
    - y: (N,) integer labels in [0, C)

    Returns (loss, dscores): loss a float; dscores (N, C) = (softmax(scores) - onehot(y)) / N.
    """
    scores, y = _labels(scores, y)
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)   # exp never overflows
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return float(loss), dscores / n


def svm_loss(scores, y):
    """Multiclass hinge (SVM) loss with margin 1, averaged over the batch:
    ``mean_i sum_{j != y_i} max(0, s_ij - s_iy_i + 1)``.

    Inputs:
    - scores: (N, C) class scores
    - y: (N,) integer labels in [0, C)

    Returns (loss, dscores): loss a float; dscores (N, C).
    """
    scores, y = _labels(scores, y)
    n = scores.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1.0)
    margins[rows, y] = 0
    loss = margins.sum() / n
    positive = (margins > 0).astype(scores.dtype)
    positive[rows, y] = -positive.sum(axis=1)
    return float(loss), positive / n
