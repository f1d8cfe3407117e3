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

from .._checks import check_array, check_int
from .conv import check_dout, conv_output_size

__all__ = [
    "max_pool_backward_fast",
    "max_pool_backward_naive",
    "max_pool_forward_fast",
    "max_pool_forward_naive",
]

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
    dout = check_dout(dout, (*x.shape[:2], out_h, out_w))
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
def _offsets(ph: int, pw: int, stride: int, out_h: int, out_w: int):
    """For each position (i, j) in the window, row-major, the strided view of x that holds that
    position of every window: ``x[:, :, i::stride, j::stride]`` cut to (H', W'). No copies."""
    return [(i, j, slice(i, i + stride * (out_h - 1) + 1, stride), slice(j, j + stride * (out_w - 1) + 1, stride))
            for i in range(ph) for j in range(pw)]


def max_pool_forward_fast(x, pool_param):
    """The same max pooling (same arguments, same result) as ph * pw element-wise maxima of
    strided views of x, one per position in the window; then, going backwards through the
    positions, the index of each window's first maximum (row-major, as in torch).

    Returns (out, cache): cache = (x's shape, index of the maximum within each window (uint8 or
    larger), pool_param).
    """
    x, ph, pw, s, out_h, out_w = pool_geometry(x, pool_param)
    views = [x[:, :, rows, cols] for _, _, rows, cols in _offsets(ph, pw, s, out_h, out_w)]
    out = views[0].copy()
    for view in views[1:]:
        np.maximum(out, view, out=out)
    index = np.full(out.shape, len(views) - 1, dtype=np.min_scalar_type(len(views)))
    is_max = np.empty(out.shape, dtype=bool)
    for k in range(len(views) - 2, -1, -1):   # the earliest maximum is written last
        np.equal(views[k], out, out=is_max)
        np.putmask(index, is_max, k)
    return out, (x.shape, index, dict(pool_param))


def max_pool_backward_fast(dout, cache):
    """Backward of max_pool_forward_fast: each output's gradient is added at its window's
    maximum, found from the stored index. When the windows do not overlap (stride at least the
    window, the usual 2 x 2 / 2), each input has at most one window: for each position in the
    window, the outputs whose maximum sits there are written into the strided view of that
    position, no addition needed. When they overlap, several gradients may reach one input, and one
    ``np.bincount`` over the flat positions does all the additions at once. Returns dx."""
    shape, index, pool_param = cache
    ph, pw, s = (pool_param[k] for k in POOL_KEYS)
    n, c, height, width = shape
    out_h, out_w = index.shape[2:]
    dout = check_dout(dout, (n, c, out_h, out_w))
    if s >= ph and s >= pw and np.isfinite(dout).all():      # (0 * inf would be NaN, not 0)
        dx = np.zeros(shape, dtype=dout.dtype)
        chosen = np.empty(index.shape, dtype=bool)
        for k, (_, _, rows, cols) in enumerate(_offsets(ph, pw, s, out_h, out_w)):
            np.equal(index, k, out=chosen)
            np.multiply(dout, chosen, out=dx[:, :, rows, cols])  # dout where the maximum sits, else 0
        return dx
    di, dj = np.divmod(index.astype(np.intp), pw)
    rows = s * np.arange(out_h)[:, None] + di                     # (N, C, H', W') input row of each maximum
    cols = s * np.arange(out_w)[None, :] + dj
    planes = (np.arange(n * c) * (height * width)).reshape(n, c, 1, 1)
    flat = planes + rows * width + cols
    dx = np.bincount(flat.ravel(), weights=dout.ravel(), minlength=n * c * height * width)
    return dx.reshape(shape).astype(dout.dtype, copy=False)
