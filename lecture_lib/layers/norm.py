"""Normalization gates: batch norm (for (N, D) and (N, C, H, W) inputs), layer norm, group norm.

Each normalizes with a mean and a variance taken over some axes, then scales and shifts with the
learned ``gamma`` and ``beta``::

    xhat = (x - mean) / sqrt(var + eps)          out = gamma * xhat + beta

- ``batchnorm``: per feature, over the batch (axis 0). ``bn_param`` is a dict with ``mode``
  (``"train"``: the batch's statistics; ``"test"``: the running ones), optional ``eps`` (1e-5) and
  ``momentum`` (0.9), and ``running_mean`` / ``running_var``, created (as zeros) by the first
  training call and updated by every later one, CS231n's way::

      running = momentum * running + (1 - momentum) * batch_statistic

  torch's ``momentum=0.1`` is the same rule with the weights swapped (``running = (1 - 0.1) *
  running + 0.1 * batch``), and torch stores the *unbiased* batch variance (times N / (N - 1)) in
  its running estimate, while the normalization itself uses the biased one, as here.
- ``spatial_batchnorm``: per channel, over the batch and every position (axes 0, 2, 3).
- ``layernorm``: per example, over its features (axis 1); the same in train and test mode.
- ``spatial_groupnorm``: per example and group of ``C / G`` channels, over those channels and
  every position.

Two backward passes of batch norm give the same numbers: :func:`batchnorm_backward_staged` walks
back through the forward one elementary gate at a time; :func:`batchnorm_backward` uses the closed
form that the stages simplify to,

    dxhat = dout * gamma
    dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sqrt(var + eps)

(means over the normalized axes), which the networks use. Naming differs from CS231n's, where the
staged pass is ``batchnorm_backward`` and the closed form ``batchnorm_backward_alt``.

Every gate keeps its input's floating dtype; bad arguments get a ValueError or TypeError that
names them.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_choice, check_int, check_positive, check_probability

__all__ = [
    "batchnorm_backward",
    "batchnorm_backward_staged",
    "batchnorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
]

MODES = ("train", "test")
DEFAULT_EPS = 1e-5
DEFAULT_MOMENTUM = 0.9  # CS231n's convention; torch's momentum=0.1 means the same


# --------------------------------------------------------------------------- checks
def _param_dict(param, name: str) -> dict:
    if not isinstance(param, dict):
        raise TypeError(f"{name}={param!r} is not valid; expected a dict such as {{'mode': 'train'}}")
    return param


def _mode(param: dict, name: str) -> str:
    if "mode" not in param:
        raise ValueError(f"{name} has no 'mode'; expected {name}['mode'] = 'train' or 'test'")
    return check_choice(param["mode"], f"{name}['mode']", MODES)


def _eps(param: dict, name: str) -> float:
    return check_positive(param.get("eps", DEFAULT_EPS), f"{name}['eps']")


def _gamma_beta(gamma, beta, size: int, what: str):
    """gamma and beta: float arrays of shape (size,), one per ``what``."""
    checked = []
    for name, value in (("gamma", gamma), ("beta", beta)):
        value = check_array(value, name)
        if value.shape != (size,):
            raise ValueError(f"{name} has shape {value.shape}; expected ({size},): one per {what}")
        checked.append(value)
    return checked


# --------------------------------------------------------------------------- shared core
def _normalize(x, axis, eps):
    """``(xhat, std)`` with the mean and biased variance over ``axis`` (kept as size-1 axes)."""
    centred = x - x.mean(axis=axis, keepdims=True)
    std = np.sqrt((centred * centred).mean(axis=axis, keepdims=True) + eps)
    return centred / std, std


def _normalize_backward(dxhat, xhat, std, axis):
    """The closed-form backward of ``xhat = (x - mean) / std`` with statistics over ``axis``."""
    n = xhat.shape[axis]
    return (dxhat - dxhat.sum(axis=axis, keepdims=True) / n
            - xhat * ((dxhat * xhat).sum(axis=axis, keepdims=True) / n)) / std


# --------------------------------------------------------------------------- batch norm
def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of a fully connected layer's output.

    Inputs:
    - x: (N, D) data
    - gamma, beta: (D,) scale and shift
    - bn_param: dict with 'mode' ('train' or 'test'), optional 'eps' (1e-5, > 0) and 'momentum'
      (0.9, in [0, 1]); 'running_mean' and 'running_var' (D,) are created by the first training
      call and updated by each one; test mode needs them.

    Returns (out, cache): out (N, D); cache = (mode, xc, std, xhat, gamma) with xc (N, D) the
    centred input (train mode; None in test mode), std (1, D) and xhat (N, D).

    In train mode the statistics are the batch's (biased variance); a batch of one example has
    variance 0, so every output is beta: evaluating in train mode with single examples is a bug.
    """
    x = check_array(x, "x", ndim=2)
    n, d = x.shape
    gamma, beta = _gamma_beta(gamma, beta, d, "feature (column of x)")
    bn_param = _param_dict(bn_param, "bn_param")
    mode = _mode(bn_param, "bn_param")
    eps = _eps(bn_param, "bn_param")
    momentum = check_probability(bn_param.get("momentum", DEFAULT_MOMENTUM), "bn_param['momentum']")
    for key in ("running_mean", "running_var"):
        if key in bn_param and np.shape(bn_param[key]) != (d,):
            raise ValueError(f"bn_param['{key}'] has shape {np.shape(bn_param[key])}; expected ({d},) "
                             "(a bn_param dict belongs to one layer)")
    if mode == "train":
        if n == 0:
            raise ValueError(f"x has shape {x.shape}; expected at least one example in train mode")
        # one gate per line; the staged backward walks these lines in reverse
        mu = x.sum(axis=0, keepdims=True) / n
        xc = x - mu
        var = (xc * xc).sum(axis=0, keepdims=True) / n
        std = np.sqrt(var + eps)
        xhat = xc / std
        running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
        running_var = bn_param.get("running_var", np.zeros(d, dtype=x.dtype))
        bn_param["running_mean"] = (momentum * running_mean + (1 - momentum) * mu[0]).astype(x.dtype, copy=False)
        bn_param["running_var"] = (momentum * running_var + (1 - momentum) * var[0]).astype(x.dtype, copy=False)
    else:
        if "running_mean" not in bn_param or "running_var" not in bn_param:
            raise ValueError("bn_param has no 'running_mean'/'running_var' yet: test mode needs the "
                             "running statistics of at least one training call (mode='train') first")
        xc = None
        std = np.sqrt(bn_param["running_var"] + eps)[None, :]
        xhat = (x - bn_param["running_mean"]) / std
    out = (gamma * xhat + beta).astype(x.dtype, copy=False)
    return out, (mode, xc, std, xhat, gamma)


def _check_dout(dout, xhat):
    dout = check_array(dout, "dout")
    if dout.shape != xhat.shape:
        raise ValueError(f"dout has shape {dout.shape} but the forward output had shape {xhat.shape}; "
                         "expected equal shapes")
    return dout


def batchnorm_backward(dout, cache):
    """Backward pass of batch norm, in closed form (see the module docstring).

    Inputs: dout (N, D) upstream gradient; cache from :func:`batchnorm_forward`.
    Returns (dx, dgamma, dbeta): dx (N, D), dgamma (D,), dbeta (D,).
    In test mode the statistics are constants: dx = dout * gamma / sqrt(running_var + eps)."""
    mode, _, std, xhat, gamma = cache
    dout = _check_dout(dout, xhat)
    dxhat = dout * gamma
    dx = _normalize_backward(dxhat, xhat, std, axis=0) if mode == "train" else dxhat / std
    return dx.astype(dout.dtype, copy=False), (dout * xhat).sum(axis=0), dout.sum(axis=0)


def batchnorm_backward_staged(dout, cache):
    """Backward pass of batch norm, one elementary gate at a time, in reverse order of the forward:
    out = gamma * xhat + beta; xhat = xc * inv; inv = 1 / std; std = sqrt(var + eps);
    var = mean(xc**2); xc = x - mu; mu = mean(x). Same inputs and outputs as
    :func:`batchnorm_backward`, and the same numbers to rounding; train mode only."""
    mode, xc, std, xhat, gamma = cache
    if mode != "train":
        raise ValueError(f"the cache comes from mode={mode!r}; the staged backward follows the "
                         "train-mode graph (use batchnorm_backward)")
    dout = _check_dout(dout, xhat)
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)                       # out = gamma * xhat + beta
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    inv = 1 / std                                  # xhat = xc * inv
    dxc = dxhat * inv
    dinv = (dxhat * xc).sum(axis=0, keepdims=True)
    dstd = -dinv / std**2                          # inv = 1 / std
    dvar = dstd * 0.5 / std                        # std = sqrt(var + eps)
    dxc = dxc + 2 * xc * dvar / n                  # var = mean(xc**2)
    dmu = -dxc.sum(axis=0, keepdims=True)          # xc = x - mu
    dx = dxc + dmu / n                             # mu = mean(x)
    return dx.astype(dout.dtype, copy=False), dgamma, dbeta


# --------------------------------------------------------------------------- spatial batch norm
def _check_spatial(x, name="x"):
    x = check_array(x, name)
    if x.ndim != 4:
        raise ValueError(f"{name} has shape {x.shape}; expected 4 dimensions (N, C, H, W) "
                         "(for an (N, D) input use batchnorm_forward)")
    return x


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch norm of a convolutional layer's output: one mean and variance per channel, over the
    batch and every spatial position.

    Inputs: x (N, C, H, W); gamma, beta (C,); bn_param as in :func:`batchnorm_forward` (its running
    statistics have shape (C,)).
    Returns (out, cache): out (N, C, H, W)."""
    x = _check_spatial(x)
    n, c, h, w = x.shape
    _gamma_beta(gamma, beta, c, "channel (axis 1 of x)")
    flat = x.transpose(0, 2, 3, 1).reshape(-1, c)   # every (example, position) is a row
    out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), (x.shape, cache)


def spatial_batchnorm_backward(dout, cache):
    """Backward of :func:`spatial_batchnorm_forward`. Returns (dx (N, C, H, W), dgamma (C,),
    dbeta (C,))."""
    shape, inner = cache
    dout = check_array(dout, "dout")
    if dout.shape != shape:
        raise ValueError(f"dout has shape {dout.shape} but the forward input had shape {shape}; "
                         "expected equal shapes")
    n, c, h, w = shape
    dx, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, c), inner)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta


# --------------------------------------------------------------------------- layer norm
def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalization: each example normalized over its own features (no batch statistics,
    so train and test mode compute the same thing).

    Inputs: x (N, D); gamma, beta (D,); ln_param: dict with optional 'eps' (1e-5) and 'mode'
    (accepted, as networks pass it to every normalization, and ignored).
    Returns (out, cache): out (N, D); cache = (xhat, std, gamma)."""
    x = check_array(x, "x", ndim=2)
    d = x.shape[1]
    gamma, beta = _gamma_beta(gamma, beta, d, "feature (column of x)")
    ln_param = _param_dict(ln_param, "ln_param")
    if "mode" in ln_param:
        _mode(ln_param, "ln_param")
    xhat, std = _normalize(x, axis=1, eps=_eps(ln_param, "ln_param"))
    return (gamma * xhat + beta).astype(x.dtype, copy=False), (xhat, std, gamma)


def layernorm_backward(dout, cache):
    """Backward of layer norm: batch norm's closed form on the other axis.
    Returns (dx (N, D), dgamma (D,), dbeta (D,))."""
    xhat, std, gamma = cache
    dout = _check_dout(dout, xhat)
    dx = _normalize_backward(dout * gamma, xhat, std, axis=1)
    return dx.astype(dout.dtype, copy=False), (dout * xhat).sum(axis=0), dout.sum(axis=0)


# --------------------------------------------------------------------------- group norm
def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Group normalization (Wu and He, 2018): each example's C channels split into G groups, each
    group normalized over its channels and every position. G = 1 is layer norm over (C, H, W);
    G = C is instance norm.

    Inputs: x (N, C, H, W); gamma, beta (C,); G a divisor of C; gn_param: dict with optional
    'eps' (1e-5). Returns (out, cache): out (N, C, H, W)."""
    x = _check_spatial(x)
    n, c, h, w = x.shape
    gamma, beta = _gamma_beta(gamma, beta, c, "channel (axis 1 of x)")
    G = check_int(G, "G", min=1)
    if c % G:
        raise ValueError(f"G={G} is not valid; expected a divisor of the {c} channels")
    gn_param = _param_dict(gn_param, "gn_param")
    groups = x.reshape(n, G, -1)
    xhat, std = _normalize(groups, axis=2, eps=_eps(gn_param, "gn_param"))
    xhat = xhat.reshape(x.shape)
    out = gamma[None, :, None, None] * xhat + beta[None, :, None, None]
    return out.astype(x.dtype, copy=False), (xhat, std, gamma, G)


def spatial_groupnorm_backward(dout, cache):
    """Backward of :func:`spatial_groupnorm_forward`. Returns (dx, dgamma (C,), dbeta (C,))."""
    xhat, std, gamma, G = cache
    dout = _check_dout(dout, xhat)
    n = dout.shape[0]
    dxhat = (dout * gamma[None, :, None, None]).reshape(n, G, -1)
    dx = _normalize_backward(dxhat, xhat.reshape(n, G, -1), std, axis=2).reshape(dout.shape)
    return (dx.astype(dout.dtype, copy=False), (dout * xhat).sum(axis=(0, 2, 3)),
            dout.sum(axis=(0, 2, 3)))
