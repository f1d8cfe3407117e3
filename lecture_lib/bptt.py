"""Gradients through time: what happens to a gradient carried back through the steps of a vanilla
RNN, and the two ways of clipping one.

In the row convention of the gates, ``h_t = f(h_{t-1} @ Wh + u_t)`` (``u_t = x_t @ Wx + b``), so
one step's Jacobian is ``dh_t/dh_{t-1} = diag(f'(a_t)) Wh^T``, and the gradient that reaches
``h_{T-k}`` from ``h_T`` has gone through the product of k of them. Without a nonlinearity the
product is ``(Wh^T)^k``: its size is set by Wh's spectrum; tanh multiplies in factors ``1 - h^2``
of at most 1.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_rng, check_array, check_choice, check_positive, check_positive_int

NONLINEARITIES = ("tanh", "linear")
MATRIX_KINDS = ("orthogonal", "gaussian")


def recurrent_matrix(hidden: int, radius: float, kind: str = "orthogonal", rng=0) -> np.ndarray:
    """An (H, H) recurrent matrix with spectral radius (largest |eigenvalue|) ``radius``.

    - ``"orthogonal"``: radius times a random orthogonal matrix: every singular value equals the
      radius too, so ``||W^k|| = radius^k`` exactly;
    - ``"gaussian"``: a Gaussian matrix rescaled to that spectral radius; its largest singular
      value is then larger, about twice the radius for large H (the circle law against the
      quarter-circle law)."""
    hidden = check_positive_int(hidden, "hidden", max=4096)
    radius = check_positive(radius, "radius")
    check_choice(kind, "kind", MATRIX_KINDS)
    rng = as_rng(rng)
    G = rng.standard_normal((hidden, hidden))
    if kind == "orthogonal":
        Q, R = np.linalg.qr(G)
        return radius * Q * np.sign(np.diag(R))
    return G * (radius / np.max(np.abs(np.linalg.eigvals(G))))


def unroll(Wh: np.ndarray, inputs: np.ndarray, h0: np.ndarray, nonlinearity: str = "tanh") -> np.ndarray:
    """The hidden states ``h_t = f(h_{t-1} @ Wh + inputs[t])``: inputs (T, N, H) (the projected
    inputs, x_t @ Wx + b), h0 (N, H). Returns hs (T + 1, N, H) with hs[0] = h0. ``f`` is tanh or
    the identity (``"linear"``)."""
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    inputs = check_array(inputs, "inputs", ndim=3)
    T, N, H = inputs.shape
    Wh = check_array(Wh, "Wh", shape=(H, H))
    h0 = check_array(h0, "h0", shape=(N, H))
    hs = np.empty((T + 1, N, H))
    hs[0] = h0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T):
            a = hs[t] @ Wh + inputs[t]
            hs[t + 1] = np.tanh(a) if nonlinearity == "tanh" else a
    return hs


def local_derivatives(hs: np.ndarray, nonlinearity: str) -> np.ndarray:
    """f'(a_t) of every step, (T, N, H), from the outputs: tanh' = 1 - h^2; the identity's is 1."""
    check_choice(nonlinearity, "nonlinearity", NONLINEARITIES)
    return 1 - hs[1:] ** 2 if nonlinearity == "tanh" else np.ones_like(hs[1:])


def jacobian_product_norms(hs: np.ndarray, Wh: np.ndarray, nonlinearity: str) -> np.ndarray:
    """The spectral norm of ``dh_T/dh_{T-k}`` for k = 0..T, for one sequence (hs of shape
    (T + 1, 1, H)): the product of the last k step Jacobians ``diag(f'(a_t)) Wh^T``."""
    hs = check_array(hs, "hs", ndim=3)
    if hs.shape[1] != 1:
        raise ValueError(f"hs has shape {hs.shape}; expected (T + 1, 1, H), one sequence")
    deriv = local_derivatives(hs, nonlinearity)[:, 0]
    T = deriv.shape[0]
    product = np.eye(Wh.shape[0])
    norms = np.empty(T + 1)
    norms[0] = 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, T + 1):
            product = product @ (deriv[T - k][:, None] * Wh.T)       # ... J_{T-k+1}, on the right
            norms[k] = np.linalg.norm(product, 2) if np.all(np.isfinite(product)) else np.inf
    return norms


def backprop_through_time(hs: np.ndarray, Wh: np.ndarray, nonlinearity: str, dh_last: np.ndarray):
    """Backpropagate ``dh_last`` (N, H), the gradient at the last state, through every step.
    Returns (norms, dWh): the mean over the N sequences of ``||dL/dh_{T-k}||`` for k = 0..T, and
    the gradient of W_hh, the sum over the steps of ``h_{t-1}^T da_t``."""
    deriv = local_derivatives(hs, nonlinearity)
    T = deriv.shape[0]
    g = np.array(dh_last, dtype=np.float64)
    norms = np.empty(T + 1)
    norms[0] = float(np.mean(np.linalg.norm(g, axis=1)))
    dWh = np.zeros_like(Wh, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, T + 1):
            da = g * deriv[T - k]                              # through f at step T - k + 1
            dWh += hs[T - k].T @ da
            g = da @ Wh.T
            norms[k] = float(np.mean(np.linalg.norm(g, axis=1)))
    return norms, dWh


def gradient_norms(hs: np.ndarray, Wh: np.ndarray, nonlinearity: str, dh_last: np.ndarray) -> np.ndarray:
    """The norms of :func:`backprop_through_time`: what BPTT carries back, step by step."""
    return backprop_through_time(hs, Wh, nonlinearity, dh_last)[0]


# --------------------------------------------------------------------------- clipping
def global_norm(grads) -> float:
    """The Euclidean norm of all the gradient arrays together, as one vector."""
    return math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))


def clip_by_norm(grads, max_norm: float):
    """Rescale the whole gradient so that its global norm is at most ``max_norm`` (torch's
    ``clip_grad_norm_``): every entry is multiplied by the same factor, so the direction is kept.
    Returns (clipped arrays, the norm before clipping)."""
    max_norm = check_positive(max_norm, "max_norm")
    grads = list(grads)
    norm = global_norm(grads)
    scale = min(1.0, max_norm / (norm + 1e-6))
    return [g * scale for g in grads], norm


def clip_by_value(grads, clip_value: float):
    """Clip every entry into [-clip_value, clip_value] on its own (min-char-rnn's ``np.clip``):
    large entries are cut and small ones kept, so the direction changes."""
    clip_value = check_positive(clip_value, "clip_value")
    return [np.clip(g, -clip_value, clip_value) for g in grads]


def cosine(a, b) -> float:
    """The cosine of the angle between two gradients given as lists of arrays."""
    va = np.concatenate([np.ravel(x) for x in a])
    vb = np.concatenate([np.ravel(x) for x in b])
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))
