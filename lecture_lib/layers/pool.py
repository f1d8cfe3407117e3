"""Max pooling as a gate: a naive version to read and a fast one on strided views.

Shapes follow CS231n's layers: x (N, C, H, W); ``pool_param = {"pool_height": ph, "pool_width":
pw, "stride": s}``; out (N, C, H', W') with ``H' = (H - ph) / s + 1`` (the windows must tile the
input exactly, as for the convolution gates).

The backward pass routes each output's gradient to the one input that was the maximum of its
window; when several inputs tie (common after a ReLU, where many are 0), the first one in
row-major order gets it, as in torch, so the gradient is never counted twice.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import check_array, check_int
from .conv import conv_output_size

POOL_KEYS = ("pool_height", "pool_width", "stride")


def pool_geometry(x, pool_param):
    """Validate a pooling's arguments; returns ``(x, ph, pw, stride, H', W')``."""
    x = check_array(x, "x", ndim=4)
    if not isinstance(pool_param, dict):
        raise TypeError(f"pool_param={pool_param!r} is not valid; expected a dict with keys {list(POOL_KEYS)}")
    if set(pool_param) != set(POOL_KEYS):
        raise ValueError(f"pool_param has keys {sorted(pool_param)}; expected exactly {list(POOL_KEYS)}")
    ph = check_int(pool_param["pool_height"], "pool_height", min=1)
    pw = check_int(pool_param["pool_width"], "pool_width", min=1)
    stride = check_int(pool_param["stride"], "stride", min=1)
    out_h = conv_output_size(x.shape[2], ph, stride, 0, name="input height")
    out_w = conv_output_size(x.shape[3], pw, stride, 0, name="input width")
    return x, ph, pw, stride, out_h, out_w


def _check_dout(dout, shape):
    dout = check_array(dout, "dout", ndim=4)
    if dout.shape != tuple(shape):
        raise ValueError(f"dout has shape {dout.shape} but the forward output had shape {tuple(shape)}; "
                         "expected equal shapes")
    return dout


# --------------------------------------------------------------------------- naive
def max_pool_forward_naive(x, pool_param):
    """Max pooling, one window at a time.

    Inputs: x (N, C, H, W); pool_param {"pool_height", "pool_width", "stride"}.
    Returns (out, cache): out (N, C, H', W'); cache = (x, pool_param).
    """
    x, ph, pw, s, out_h, out_w = pool_geometry(x, pool_param)
    out = np.zeros((*x.shape[:2], out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, dict(pool_param))


def max_pool_backward_naive(dout, cache):
    """Backward of max pooling: each window's gradient goes to its (first) maximum. Returns dx."""
    x, pool_param = cache
    x, ph, pw, s, out_h, out_w = pool_geometry(x, pool_param)
    dout = _check_dout(dout, (*x.shape[:2], out_h, out_w))
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(out_h):
                for j in range(out_w):
                    window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    k, l = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + k, j * s + l] += dout[n, c, i, j]
    return dx


# --------------------------------------------------------------------------- fast
def max_pool_forward_fast(x, pool_param):
    """The same max pooling (same arguments, same result) on a strided view of all windows at
    once; non-overlapping windows (stride = pool size, the common 2x2/2 case) are a plain
    reshape. Keeps the index of each window's maximum for the backward pass.

    Returns (out, cache): cache = (x's shape, argmax index within each window, pool_param).
    """
    x, ph, pw, s, out_h, out_w = pool_geometry(x, pool_param)
    n, c = x.shape[:2]
    if s == ph == pw:  # windows tile the input: (N, C, H', ph, W', pw) is a view
        windows = x.reshape(n, c, out_h, ph, out_w, pw).transpose(0, 1, 2, 4, 3, 5)
    else:
        windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]
    flat = windows.reshape(n, c, out_h, out_w, ph * pw)        # copies the windows once
    index = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, index[..., None], axis=-1)[..., 0]
    return out, (x.shape, index.astype(np.intp), dict(pool_param))


def max_pool_backward_fast(dout, cache):
    """Backward of max_pool_forward_fast: for each of the ph * pw positions in a window, the
    outputs whose maximum sat there send their gradient to it (ph * pw vectorized adds).
    Returns dx."""
    shape, index, pool_param = cache
    ph, pw, s = (pool_param[k] for k in POOL_KEYS)
    n, c, height, width = shape
    out_h, out_w = index.shape[2:]
    dout = _check_dout(dout, (n, c, out_h, out_w))
    if s == ph == pw:
        onehot = index[..., None] == np.arange(ph * pw)           # (N, C, H', W', ph pw)
        spread = np.where(onehot, dout[..., None], 0).astype(dout.dtype, copy=False)
        return np.ascontiguousarray(
            spread.reshape(n, c, out_h, out_w, ph, pw).transpose(0, 1, 2, 4, 3, 5).reshape(shape))
    dx = np.zeros(shape, dtype=dout.dtype)
    for k in range(ph * pw):
        i, j = divmod(k, pw)
        dx[:, :, i:i + s * out_h:s, j:j + s * out_w:s] += np.where(index == k, dout, 0)
    return dx
