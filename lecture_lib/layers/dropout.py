"""Dropout and DropConnect as gates, in the shape of CS231n's layers.

**Dropout** (Srivastava et al., 2014) multiplies each activation by an independent Bernoulli mask.
``dropout_param`` is a dict:

- ``p``: the probability of **keeping** a unit, in (0, 1] (the notes' and CS231n's convention;
  ``torch.nn.Dropout(p)`` takes the probability of *dropping* one, so ours is torch's ``1 - p``);
- ``mode``: ``"train"`` or ``"test"``;
- ``seed`` (optional): a non-negative integer that makes the mask reproducible; without it the
  mask comes from fresh operating-system entropy, like torch's default generator.

This is *inverted* dropout: at train time the kept units are divided by ``p``, so that the
expected output equals the input and test time is the identity. (The notes' version, "drop at
train time, scale at test time", multiplies by ``p`` at test time instead; the two agree in
expectation, see 06_regularization.)

**DropConnect** (Wan et al., 2013) drops *weights* instead of activations: each example gets its
own Bernoulli mask on the weight matrix of an affine layer. Dropout on a layer's input is the
special case where a whole row of the weight matrix is kept or dropped together. Same
``dropconnect_param`` keys; inverted scaling as above (the kept weights are divided by ``p``), so
test time is the plain affine layer. (The paper's own inference approximates the distribution of
each pre-activation by a Gaussian; we use this simpler weight-scaling rule and say so.) The bias
is not masked.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_choice, check_probability, check_same_shape, check_seed, check_size
from .basic import check_affine_inputs

__all__ = [
    "dropconnect_backward",
    "dropconnect_forward",
    "dropout_backward",
    "dropout_forward",
]

MODES = ("train", "test")
PARAM_KEYS = ("p", "mode", "seed")


def read_param(param, name: str = "dropout_param") -> tuple[float, str, int | None]:
    """``(p, mode, seed)`` from a dropout or DropConnect parameter dict, each checked: ``p`` in
    (0, 1], ``mode`` one of ``"train"``/``"test"``, ``seed`` None or a non-negative integer."""
    if not isinstance(param, dict):
        raise TypeError(f"{name}={param!r} is not valid; expected a dict with keys 'p', 'mode' "
                        "and optionally 'seed'")
    unknown = sorted(set(param) - set(PARAM_KEYS))
    if unknown:
        raise ValueError(f"{name} has unknown key(s) {unknown}; expected only {list(PARAM_KEYS)} "
                         "('p' is the probability of keeping a unit)")
    for key in ("p", "mode"):
        if key not in param:
            raise ValueError(f"{name} has no {key!r}; expected keys 'p' (keep probability in (0, 1]) "
                             "and 'mode' ('train' or 'test')")
    p = check_probability(param["p"], f"{name}['p']", allow_zero=False)
    mode = check_choice(param["mode"], f"{name}['mode']", MODES)
    seed = param.get("seed")
    seed = None if seed is None else check_seed(seed, f"{name}['seed']")
    return p, mode, seed


def keep_mask(shape, p: float, seed: int | None, dtype) -> np.ndarray:
    """An inverted-dropout mask: each entry is ``1/p`` with probability ``p`` and 0 otherwise,
    drawn as ``default_rng(seed).random(shape) < p`` (so a seed reproduces it exactly)."""
    check_size(int(np.prod(shape)), "the mask")
    dtype = np.dtype(dtype)
    kept = np.random.default_rng(seed).random(shape) < p
    return kept.astype(dtype) / dtype.type(p)


# --------------------------------------------------------------------------- dropout
def dropout_forward(x, dropout_param):
    """Inverted dropout.

    Inputs:
    - x: array of any shape (floating)
    - dropout_param: dict with ``p`` (keep probability in (0, 1]), ``mode`` (``"train"`` or
      ``"test"``), optional ``seed``.

    Returns (out, cache): out has x's shape and dtype, ``x * mask`` at train time with ``mask`` in
    {0, 1/p}, and ``x`` itself at test time; cache = (mode, mask), mask None at test time.
    """
    x = check_array(x, "x")
    p, mode, seed = read_param(dropout_param)
    if mode == "test":
        return x, (mode, None)
    mask = keep_mask(x.shape, p, seed, x.dtype)
    return x * mask, (mode, mask)


def dropout_backward(dout, cache):
    """Backward of inverted dropout: the gradient flows through the kept units only, scaled by
    ``1/p`` like the forward (the same mask: never a new one).

    Inputs: dout (x's shape), cache = (mode, mask). Returns dx, x's shape.
    """
    mode, mask = cache
    dout = check_array(dout, "dout")
    if mode == "test":
        return dout
    check_same_shape(dout, mask, "dout", "the forward's input")
    return dout * mask


# --------------------------------------------------------------------------- DropConnect
WEIGHT_MASK_LEVELS = 65536


def weight_keep_mask(shape, p: float, seed: int | None, dtype) -> np.ndarray:
    """DropConnect's 0/1 mask, one entry per weight and example: 16-bit random integers below
    ``p * 65536`` (a keep probability exact to 1/65536), drawn twice as fast as floats, which
    matters at N x D x M draws a step."""
    check_size(int(np.prod(shape)), "the mask")
    threshold = int(round(p * WEIGHT_MASK_LEVELS))
    if threshold >= WEIGHT_MASK_LEVELS:
        return np.ones(shape, dtype=dtype)
    draws = np.random.default_rng(seed).integers(0, WEIGHT_MASK_LEVELS, size=shape, dtype=np.uint16)
    return (draws < threshold).astype(dtype)


def dropconnect_forward(x, w, b, dropconnect_param):
    """An affine layer whose weights are masked, a fresh mask for each example.

    Inputs:
    - x: (N, D) inputs; w: (D, M) weights; b: (M,) biases (never masked)
    - dropconnect_param: as ``dropout_param`` (``p`` keeps a weight).

    Returns (out, cache): out (N, M), ``out[n] = x[n] @ (w * keep[n] / p) + b`` at train time with
    ``keep`` (N, D, M) in {0, 1} (see :func:`weight_keep_mask`), ``x @ w + b`` at test time;
    cache = (x, w, p, keep, w * keep / p), the last two None at test time.
    """
    x, w, b = check_affine_inputs(x, w, b)
    p, mode, seed = read_param(dropconnect_param, "dropconnect_param")
    if mode == "test":
        return x @ w + b, (x, w, p, None, None)
    dtype = np.result_type(x, w)
    keep = weight_keep_mask((x.shape[0], *w.shape), p, seed, dtype)
    masked = (w / dtype.type(p)) * keep                         # (N, D, M): one matrix per example
    out = np.einsum("nd,ndm->nm", x, masked) + b
    return out, (x, w, p, keep, masked)


def dropconnect_backward(dout, cache):
    """Backward of DropConnect, with the forward's masks.

    Inputs: dout (N, M), cache = (x, w, p, keep, masked). Returns (dx, dw, db):
    dx[n] = masked[n] @ dout[n]; dw = sum_n outer(x[n], dout[n]) * keep[n] / p; db = sum of dout.
    """
    x, w, p, keep, masked = cache
    dout = check_array(dout, "dout", ndim=2)
    if dout.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dout has shape {dout.shape} but the forward output had shape "
                         f"{(x.shape[0], w.shape[1])}; expected equal shapes")
    if keep is None:
        return dout @ w.T, x.T @ dout, dout.sum(axis=0)
    dx = np.einsum("ndm,nm->nd", masked, dout)
    dw = np.einsum("nd,nm,ndm->dm", x, dout, keep) / dout.dtype.type(p)
    return dx, dw, dout.sum(axis=0)
