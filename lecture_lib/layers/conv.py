"""Convolution as a gate, twice: a naive version to read, and a fast one to use.

Deep learning's "convolution" is a cross-correlation (the kernel is not flipped). Shapes follow
CS231n's layers:

- x: (N, C, H, W) inputs; w: (F, C, HH, WW) filters; b: (F,) biases;
- ``conv_param = {"stride": s, "pad": p}`` and optionally ``"dilation": d`` (default 1): the taps
  of a filter sit d pixels apart, so it spans ``d * (HH - 1) + 1`` input pixels;
- out: (N, F, H', W') with ``H' = (H + 2p - d (HH - 1) - 1) / s + 1`` (and likewise W').

The stride and pad must *tile* the input: when the division above leaves a remainder larger than the
pad, the last rows or columns of the input would silently never be read (torch floors it; here it
is an error that says which pad would tile it). A remainder of padding only is harmless.

``conv_forward_fast`` gathers every receptive field into one matrix (im2col), so that the layer is
one matrix product. The gather goes kernel tap by kernel tap: for tap (i, j), the input shifted by
(i, j) and sampled with the stride is a strided *view* (no copy), and copying it fills one row
block of the column matrix. It works a few images at a time, so the column matrix (``HH * WW``
times the size of the input) stays small enough for the cache. ``conv_forward_shifted`` is the
other classic way: one matrix product per kernel tap on the shifted views themselves, which needs
no column matrix. The backward passes are the same products transposed, and a scatter-add
(col2im) for dx.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_int

__all__ = [
    "conv_backward_fast",
    "conv_backward_naive",
    "conv_forward_fast",
    "conv_forward_naive",
    "conv_forward_shifted",
    "conv_output_size",
    "receptive_field",
]

CONV_KEYS = ("stride", "pad", "dilation")
# Images per block of the fast path: the column matrix of one block stays within a few MB.
BLOCK_ELEMENTS = 1 << 19


# --------------------------------------------------------------------------- geometry
def conv_output_size(size, kernel, stride=1, pad=0, dilation=1, *, exact: bool = True,
                     name: str = "input") -> int:
    """Output length of a convolution or pooling window along one axis:
    ``(size + 2 pad - dilation (kernel - 1) - 1) // stride + 1``.

    With ``exact`` (the gates' rule), a stride and pad that leave real input pixels unread (a
    remainder larger than the pad) are a ValueError that names the sizes and suggests a pad that
    would tile the input; a remainder made of padding only is dropped (3x3 stride-2 pad-1 layers on
    even sizes, ResNet's 7x7/2 stem). Without ``exact`` the remainder is floored away, as torch
    does."""
    size = check_int(size, f"{name} size", min=1)
    kernel = check_int(kernel, "kernel", min=1)
    stride = check_int(stride, "stride", min=1)
    pad = check_int(pad, "pad", min=0)
    dilation = check_int(dilation, "dilation", min=1)
    span = dilation * (kernel - 1) + 1
    padded = size + 2 * pad
    if span > padded:
        raise ValueError(f"kernel={kernel} (spanning {span} pixels with dilation={dilation}) is larger than "
                         f"the padded {name} ({size} + 2*{pad} = {padded}); expected a kernel span <= {padded}")
    rest = (padded - span) % stride   # padded rows after the last window, never read
    if exact and rest > pad:
        fits = [p for p in range(pad + 1, pad + stride + 1) if (size + 2 * p - span) % stride <= p][:1]
        hint = f" (pad={fits[0]} would)" if fits else ""
        raise ValueError(f"stride={stride} and pad={pad} do not tile the {name}: ({size} + 2*{pad} - {span}) "
                         f"leaves a remainder of {rest} after the last step of {stride}, so the last "
                         f"{rest - pad} row(s)/column(s) of the {name} would never be read; expected sizes "
                         f"that tile it{hint}")
    return (padded - span) // stride + 1


def receptive_field(layers) -> list[tuple[int, int]]:
    """Receptive field of a stack of layers, each ``(kernel, stride)`` or ``(kernel, stride,
    dilation)``: a list of ``(field, jump)`` after each layer, where ``field`` is how many input
    pixels (along one axis) one output unit sees and ``jump`` the input distance between two
    neighbouring units. Recurrence: ``field += dilation * (kernel - 1) * jump; jump *= stride``."""
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers={layers!r} is not valid; expected a list of (kernel, stride[, dilation])")
    field, jump, result = 1, 1, []
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise ValueError(f"layers[{i}]={layer!r} is not valid; expected (kernel, stride[, dilation])")
        kernel = check_int(layer[0], f"layers[{i}] kernel", min=1)
        stride = check_int(layer[1], f"layers[{i}] stride", min=1)
        dilation = check_int(layer[2], f"layers[{i}] dilation", min=1) if len(layer) == 3 else 1
        field += dilation * (kernel - 1) * jump
        jump *= stride
        result.append((field, jump))
    return result


def _conv_param(conv_param) -> tuple[int, int, int]:
    if not isinstance(conv_param, dict):
        raise TypeError(f"conv_param={conv_param!r} is not valid; expected a dict with 'stride' and 'pad'")
    unknown = sorted(set(conv_param) - set(CONV_KEYS))
    if unknown:
        raise ValueError(f"conv_param has unknown key(s) {unknown}; expected keys among {list(CONV_KEYS)}")
    missing = [k for k in ("stride", "pad") if k not in conv_param]
    if missing:
        raise ValueError(f"conv_param={conv_param!r} lacks {missing}; expected {{'stride': s, 'pad': p}}")
    stride = check_int(conv_param["stride"], "stride", min=1)
    pad = check_int(conv_param["pad"], "pad", min=0)
    dilation = check_int(conv_param.get("dilation", 1), "dilation", min=1)
    return stride, pad, dilation


def conv_geometry(x, w, b, conv_param):
    """Validate a convolution's arguments; returns ``(x, w, b, stride, pad, dilation, H', W')``."""
    x = check_array(x, "x", ndim=4)
    w = check_array(w, "w", ndim=4)
    b = check_array(b, "b", ndim=1)
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"x has shape {x.shape} ({x.shape[1]} channels) but w has shape {w.shape} "
                         f"({w.shape[1]} channels); expected w of shape (F, {x.shape[1]}, HH, WW)")
    if b.shape != (w.shape[0],):
        raise ValueError(f"w has shape {w.shape} but b has shape {b.shape}; expected b of shape ({w.shape[0]},)")
    stride, pad, dilation = _conv_param(conv_param)
    out_h = conv_output_size(x.shape[2], w.shape[2], stride, pad, dilation, name="input height")
    out_w = conv_output_size(x.shape[3], w.shape[3], stride, pad, dilation, name="input width")
    return x, w, b, stride, pad, dilation, out_h, out_w


def _check_dout(dout, shape):
    dout = check_array(dout, "dout", ndim=4)
    if dout.shape != tuple(shape):
        raise ValueError(f"dout has shape {dout.shape} but the forward output had shape {tuple(shape)}; "
                         "expected equal shapes")
    return dout


# --------------------------------------------------------------------------- naive
def conv_forward_naive(x, w, b, conv_param):
    """Convolution, one output value at a time: the lesson, not the tool (see conv_forward_fast).

    Inputs: x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {"stride", "pad"[, "dilation"]}.
    Returns (out, cache): out (N, F, H', W'); cache = (x, w, b, conv_param).
    """
    x, w, b, s, p, d, out_h, out_w = conv_geometry(x, w, b, conv_param)
    n_images, n_filters = x.shape[0], w.shape[0]
    span_h, span_w = d * (w.shape[2] - 1) + 1, d * (w.shape[3] - 1) + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((n_images, n_filters, out_h, out_w), dtype=x.dtype)
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(out_h):
                for j in range(out_w):
                    field = x_pad[n, :, i * s:i * s + span_h:d, j * s:j * s + span_w:d]  # (C, HH, WW)
                    out[n, f, i, j] = np.sum(field * w[f]) + b[f]
    return out, (x, w, b, dict(conv_param))


def conv_backward_naive(dout, cache):
    """Backward of conv_forward_naive: every output value spreads its gradient back over the
    receptive field it read (dx) and the filter it used (dw). Returns (dx, dw, db)."""
    x, w, b, conv_param = cache
    s, p, d = _conv_param(conv_param)
    n_images, n_filters = x.shape[0], w.shape[0]
    out_h = conv_output_size(x.shape[2], w.shape[2], s, p, d)
    out_w = conv_output_size(x.shape[3], w.shape[3], s, p, d)
    dout = _check_dout(dout, (n_images, n_filters, out_h, out_w))
    span_h, span_w = d * (w.shape[2] - 1) + 1, d * (w.shape[3] - 1) + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(n_images):
        for f in range(n_filters):
            for i in range(out_h):
                for j in range(out_w):
                    rows = slice(i * s, i * s + span_h, d)
                    cols = slice(j * s, j * s + span_w, d)
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    db = dout.sum(axis=(0, 2, 3)).astype(b.dtype)
    return dx_pad[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, db


# --------------------------------------------------------------------------- fast (im2col)
def _pad_channels_first(x, pad):
    """x (N, C, H, W) -> (C, N, H + 2 pad, W + 2 pad), zero-padded: each channel's images are
    contiguous, so a receptive field's taps are long contiguous runs."""
    n_images, channels, height, width = x.shape
    x_pad = np.zeros((channels, n_images, height + 2 * pad, width + 2 * pad), dtype=x.dtype)
    x_pad[:, :, pad:pad + height, pad:pad + width] = x.transpose(1, 0, 2, 3)
    return x_pad


def _tap(i, j, stride, dilation, out_h, out_w):
    """The (rows, columns) slices of the padded input that kernel tap (i, j) reads, over all
    output positions: a strided view, no copy."""
    return (slice(i * dilation, i * dilation + stride * (out_h - 1) + 1, stride),
            slice(j * dilation, j * dilation + stride * (out_w - 1) + 1, stride))


def _im2col(x_pad, block, kernel_h, kernel_w, stride, dilation, out_h, out_w):
    """The column matrix of the images in ``block``: (HH WW C, n H' W'), one column per output
    position, one row per (tap, channel). Built tap by tap: row block (i, j) is the input shifted
    by the tap, sampled with the stride (a strided view), copied once."""
    channels, n = x_pad.shape[0], len(range(*block.indices(x_pad.shape[1])))
    cols = np.empty((kernel_h, kernel_w, channels, n, out_h, out_w), dtype=x_pad.dtype)
    for i in range(kernel_h):
        for j in range(kernel_w):
            rows, columns = _tap(i, j, stride, dilation, out_h, out_w)
            cols[i, j] = x_pad[:, block, rows, columns]
    return cols.reshape(kernel_h * kernel_w * channels, n * out_h * out_w)


def _blocks(n_images: int, per_image: int):
    step = max(1, BLOCK_ELEMENTS // max(per_image, 1))
    return [slice(start, min(start + step, n_images)) for start in range(0, n_images, step)]


def conv_forward_fast(x, w, b, conv_param):
    """The same convolution as conv_forward_naive (same arguments, same result), as one matrix
    product per block of images: ``out = w_rows (F, HH WW C) @ cols (HH WW C, n H' W')``.

    Returns (out, cache): out (N, F, H', W'); cache = (x_pad as (C, N, H+2p, W+2p), w, b,
    conv_param, x's shape).
    """
    x, w, b, s, p, d, out_h, out_w = conv_geometry(x, w, b, conv_param)
    n_images = x.shape[0]
    n_filters, channels, kernel_h, kernel_w = w.shape
    x_pad = _pad_channels_first(x, p)
    w_rows = w.transpose(0, 2, 3, 1).reshape(n_filters, -1).astype(x.dtype)        # (F, HH WW C)
    out = np.empty((n_images, n_filters, out_h * out_w), dtype=x.dtype)
    for block in _blocks(n_images, out_h * out_w * kernel_h * kernel_w * channels):
        cols = _im2col(x_pad, block, kernel_h, kernel_w, s, d, out_h, out_w)
        out[block] = (w_rows @ cols).reshape(n_filters, -1, out_h * out_w).transpose(1, 0, 2)
    out += b.astype(x.dtype)[:, None]
    return out.reshape(n_images, n_filters, out_h, out_w), (x_pad, w, b, dict(conv_param), x.shape)


def conv_backward_fast(dout, cache):
    """Backward of conv_forward_fast, block by block: ``dw = dout_rows @ cols.T``, and the
    columns' gradient ``w_rows.T @ dout_rows`` added back onto the padded input tap by tap
    (col2im: the reverse of the tap-by-tap copy). Returns (dx, dw, db)."""
    x_pad, w, b, conv_param, x_shape = cache
    s, p, d = _conv_param(conv_param)
    n_images, channels, height, width = x_shape
    n_filters, _, kernel_h, kernel_w = w.shape
    out_h = conv_output_size(height, kernel_h, s, p, d)
    out_w = conv_output_size(width, kernel_w, s, p, d)
    dout = _check_dout(dout, (n_images, n_filters, out_h, out_w)).astype(x_pad.dtype, copy=False)
    w_rows = w.transpose(0, 2, 3, 1).reshape(n_filters, -1).astype(x_pad.dtype)
    dw_rows = np.zeros_like(w_rows)
    dx_pad = np.zeros_like(x_pad)
    for block in _blocks(n_images, out_h * out_w * kernel_h * kernel_w * channels):
        cols = _im2col(x_pad, block, kernel_h, kernel_w, s, d, out_h, out_w)
        dout_rows = dout[block].reshape(-1, n_filters, out_h * out_w).transpose(1, 0, 2).reshape(n_filters, -1)
        dw_rows += (cols @ dout_rows.T).T
        dcols = (w_rows.T @ dout_rows).reshape(kernel_h, kernel_w, channels, -1, out_h, out_w)
        for i in range(kernel_h):
            for j in range(kernel_w):
                rows, columns = _tap(i, j, s, d, out_h, out_w)
                dx_pad[:, block, rows, columns] += dcols[i, j]
    dx = dx_pad[:, :, p:p + height, p:p + width].transpose(1, 0, 2, 3)
    dw = dw_rows.reshape(n_filters, kernel_h, kernel_w, channels).transpose(0, 3, 1, 2)
    db = dout.sum(axis=(0, 2, 3))
    return np.ascontiguousarray(dx), dw.astype(w.dtype), db.astype(b.dtype)


# --------------------------------------------------------------------------- shifted products
def conv_forward_shifted(x, w, b, conv_param):
    """The same convolution with no column matrix: for each kernel tap (i, j), multiply the
    filters' (F, C) slice with the input shifted by (i, j), and add. HH * WW small products
    instead of one big one; the largest temporary is one shifted copy of the input.

    Returns out (N, F, H', W') only: it is here to compare speed and memory with im2col."""
    x, w, b, s, p, d, out_h, out_w = conv_geometry(x, w, b, conv_param)
    n_images, channels, height, width = x.shape
    n_filters, _, kernel_h, kernel_w = w.shape
    x_pad = np.zeros((n_images, height + 2 * p, width + 2 * p, channels), dtype=x.dtype)
    x_pad[:, p:p + height, p:p + width] = x.transpose(0, 2, 3, 1)
    out = np.zeros((n_images * out_h * out_w, n_filters), dtype=x.dtype)
    for i in range(kernel_h):
        for j in range(kernel_w):
            shifted = x_pad[:, i * d:i * d + s * out_h:s, j * d:j * d + s * out_w:s]   # (N, H', W', C) view
            out += shifted.reshape(-1, channels) @ w[:, :, i, j].T.astype(x.dtype)  # reshape copies
    out += b.astype(x.dtype)
    return np.ascontiguousarray(out.reshape(n_images, out_h, out_w, n_filters).transpose(0, 3, 1, 2))
