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
block of the column matrix. The padding is never built: each tap copies only the pixels it reads,
and the places where it would read padding stay zero. A last row of ones in the column matrix
carries the bias (the bias trick of linear classifiers), so the product adds it, and in the
backward pass the same row sums dout into db. It works a few images at a time, so the column
matrix (``HH * WW`` times the size of the input) stays small enough for the cache.
``conv_forward_shifted`` is the other classic way: one matrix product per kernel tap on the
shifted views themselves, which needs no column matrix. The backward passes are the same products
transposed, and a scatter-add (col2im) for dx.
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
# Images per block of the fast path: the column matrices of one block stay within about 1 MB
# (float32), so they and their gradient stay in the cache between the copy and the products.
BLOCK_ELEMENTS = 1 << 18


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


def check_dout(dout, shape):
    """The upstream gradient of a forward whose output had ``shape`` (4-D), or a ValueError naming both."""
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
    dout = check_dout(dout, (n_images, n_filters, out_h, out_w))
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
def _tap_span(k: int, dilation: int, stride: int, pad: int, size: int, out_size: int):
    """Along one axis, the outputs of kernel tap ``k`` whose input ``stride * o + k * dilation -
    pad`` falls inside the input (the others read padding, a zero): ``(outputs, inputs)`` slices."""
    first = k * dilation - pad                       # the input index that output 0 reads
    lo = max(0, -(first // stride))                  # the first output that reads a real pixel
    hi = min(out_size, (size - 1 - first) // stride + 1)
    if hi <= lo:                                     # a tap that only ever reads padding
        return slice(0, 0), slice(0, 0)
    return slice(lo, hi), slice(first + stride * lo, first + stride * (hi - 1) + 1, stride)


def _taps(kernel_h, kernel_w, stride, pad, dilation, height, width, out_h, out_w):
    """For every kernel tap (i, j): ``(i, j, output rows, input rows, output columns, input
    columns)``, the part of the output grid whose receptive field puts tap (i, j) on a real pixel."""
    rows = [_tap_span(i, dilation, stride, pad, height, out_h) for i in range(kernel_h)]
    cols = [_tap_span(j, dilation, stride, pad, width, out_w) for j in range(kernel_w)]
    return [(i, j, *rows[i], *cols[j]) for i in range(kernel_h) for j in range(kernel_w)]


def _blocks(n_images: int, per_image: int):
    step = max(1, BLOCK_ELEMENTS // max(per_image, 1))
    return [slice(start, min(start + step, n_images)) for start in range(0, n_images, step)]


def _column_buffer(n_images, taps, channels, out_h, out_w, dtype):
    """The column matrices of ``n_images`` images, (n, HH WW C + 1, H' W'): one row per (tap,
    channel), one column per output position, and a last row of ones that carries the bias. Zeros
    elsewhere: the copies of _im2col write only where a tap reads real pixels, so the padding is
    never built. Returns the buffer and its (n, HH, WW, C, H', W') view of the tap rows."""
    kernel_h, kernel_w = taps[-1][0] + 1, taps[-1][1] + 1
    rows = kernel_h * kernel_w * channels
    cols = np.zeros((n_images, rows + 1, out_h * out_w), dtype=dtype)
    cols[:, rows] = 1
    return cols, cols[:, :rows].reshape(n_images, kernel_h, kernel_w, channels, out_h, out_w)


def _im2col(tap_rows, x_block, taps):
    """Fill the column matrices of the images in ``x_block`` (N, C, H, W) tap by tap: row block
    (i, j) is the input shifted by the tap and sampled with the stride, a strided view, copied once."""
    for i, j, out_rows, in_rows, out_cols, in_cols in taps:
        tap_rows[:, i, j, :, out_rows, out_cols] = x_block[:, :, in_rows, in_cols]


def conv_forward_fast(x, w, b, conv_param):
    """The same convolution as conv_forward_naive (same arguments, same result), as one matrix
    product per image: ``out = [w_rows | b] (F, HH WW C + 1) @ [cols; 1] (HH WW C + 1, H' W')``,
    a few images at a time so that their column matrices stay in the cache.

    Returns (out, cache): out (N, F, H', W'); cache = (x, w, b, conv_param).
    """
    x, w, b, s, p, d, out_h, out_w = conv_geometry(x, w, b, conv_param)
    n_images, channels, height, width = x.shape
    n_filters, _, kernel_h, kernel_w = w.shape
    rows = kernel_h * kernel_w * channels
    w_rows = np.empty((n_filters, rows + 1), dtype=x.dtype)                       # [w_rows | b]
    w_rows[:, :rows] = w.transpose(0, 2, 3, 1).reshape(n_filters, rows)
    w_rows[:, rows] = b
    taps = _taps(kernel_h, kernel_w, s, p, d, height, width, out_h, out_w)
    blocks = _blocks(n_images, rows * out_h * out_w)
    cols, tap_rows = _column_buffer(blocks[0].stop, taps, channels, out_h, out_w, x.dtype)
    out = np.empty((n_images, n_filters, out_h * out_w), dtype=x.dtype)
    for block in blocks:
        n = block.stop - block.start
        _im2col(tap_rows[:n], x[block], taps)
        np.matmul(w_rows, cols[:n], out=out[block])
    return out.reshape(n_images, n_filters, out_h, out_w), (x, w, b, dict(conv_param))


def conv_backward_fast(dout, cache):
    """Backward of conv_forward_fast, a few images at a time: ``[dw_rows; db] = [cols; 1] @
    dout_rows.T`` (the row of ones sums dout into db), and the columns' gradient ``w_rows.T @
    dout_rows`` added back onto the input tap by tap (col2im: the reverse of the tap-by-tap copy).
    Returns (dx, dw, db)."""
    x, w, b, conv_param = cache
    s, p, d = _conv_param(conv_param)
    n_images, channels, height, width = x.shape
    n_filters, _, kernel_h, kernel_w = w.shape
    out_h = conv_output_size(height, kernel_h, s, p, d)
    out_w = conv_output_size(width, kernel_w, s, p, d)
    dout = check_dout(dout, (n_images, n_filters, out_h, out_w)).astype(x.dtype, copy=False)
    dout_rows = dout.reshape(n_images, n_filters, out_h * out_w)
    rows = kernel_h * kernel_w * channels
    w_cols = w.transpose(2, 3, 1, 0).reshape(rows, n_filters).astype(x.dtype)     # w_rows.T
    taps = _taps(kernel_h, kernel_w, s, p, d, height, width, out_h, out_w)
    blocks = _blocks(n_images, rows * out_h * out_w)
    step = blocks[0].stop
    cols, tap_rows = _column_buffer(step, taps, channels, out_h, out_w, x.dtype)
    grads = np.empty((step, rows + 1, n_filters), dtype=x.dtype)                  # per image [dw_rows.T; db]
    grad_sum = np.zeros((rows + 1, n_filters), dtype=x.dtype)
    dcols = np.empty((step, rows, out_h * out_w), dtype=x.dtype)
    dtap_rows = dcols.reshape(step, kernel_h, kernel_w, channels, out_h, out_w)
    dx = np.zeros_like(x)
    for block in blocks:
        n = block.stop - block.start
        _im2col(tap_rows[:n], x[block], taps)
        np.matmul(cols[:n], dout_rows[block].transpose(0, 2, 1), out=grads[:n])
        grad_sum += grads[:n].sum(axis=0)
        np.matmul(w_cols, dout_rows[block], out=dcols[:n])
        dx_block = dx[block]
        for i, j, out_rows, in_rows, out_cols, in_cols in taps:
            dx_block[:, :, in_rows, in_cols] += dtap_rows[:n, i, j, :, out_rows, out_cols]
    dw = grad_sum[:rows].reshape(kernel_h, kernel_w, channels, n_filters).transpose(3, 2, 0, 1)
    return dx, np.ascontiguousarray(dw, dtype=w.dtype), grad_sum[rows].astype(b.dtype)


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
