"""Exercise of 07_cnn_architectures: the convolution forward pass, with loops."""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, diagnose_array, register


def _conv(x, w, b, stride, pad, *, pad_input=True, flip=False, plus_one=True, stride_on_kernel=False,
          bias_on_columns=False):
    """The reference and its known mistakes, one switch each."""
    if flip:
        w = w[:, :, ::-1, ::-1]
    p = pad if pad_input else 0
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    n, _, height, width = x_pad.shape
    f, _, hh, ww = w.shape
    out_h = (height - hh) // stride + (1 if plus_one else 0)
    out_w = (width - ww) // stride + (1 if plus_one else 0)
    out = np.zeros((n, f, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            if stride_on_kernel:   # windows start at i, j; the taps are `stride` apart
                field = x_pad[:, :, i:i + stride * (hh - 1) + 1:stride, j:j + stride * (ww - 1) + 1:stride]
            else:
                field = x_pad[:, :, i * stride:i * stride + hh, j * stride:j * stride + ww]
            out[:, :, i, j] = np.tensordot(field, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + (b if bias_on_columns else b[None, :, None, None])


def _cases():
    rng = np.random.default_rng(7)
    cases = []
    # (x shape, F, kernel, stride, pad): the first has F == W' so that a bias added along the
    # columns broadcasts silently; the second has stride 2, where the stride's place matters
    for shape, filters, kernel, stride, pad, label in (((2, 3, 5, 5), 5, 3, 1, 1, "stride 1, pad 1"),
                                                       ((1, 2, 7, 7), 3, 3, 2, 1, "stride 2, pad 1")):
        x = rng.standard_normal(shape)
        w = rng.standard_normal((filters, shape[1], kernel, kernel))
        b = rng.standard_normal(filters)
        args = (x, w, b, {"stride": stride, "pad": pad})
        mistakes = {
            "no-padding": ("the output is too small by 2·pad: padding forgotten; pad x with zeros on H and W "
                           "only: np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
                           _conv(x, w, b, stride, pad, pad_input=False)),
            "flipped-kernel": ("the kernel is flipped: that is the convolution of signal processing; deep "
                               "learning's conv layer is a cross-correlation: sum(field * w[f]) as it is",
                               _conv(x, w, b, stride, pad, flip=True)),
            "output-size": ("one row and one column short: H' = (H + 2 pad - HH) // stride + 1, the + 1 "
                            "counts the first position", _conv(x, w, b, stride, pad, plus_one=False)),
            "stride-on-kernel": ("the stride moves the window, it does not spread the kernel: the window of "
                                 "output (i, j) starts at row i * stride, column j * stride, and its taps "
                                 "are next to each other", _conv(x, w, b, stride, pad, stride_on_kernel=True)),
            "bias-per-pixel": ("the bias was added along the output columns: there is one bias per filter, "
                               "b[f] for every pixel of map f: out[:, f] += b[f]",
                               _conv(x, w, b, stride, pad, bias_on_columns=True)
                               if filters == _conv(x, w, b, stride, pad).shape[3] else None),
        }
        expected = _conv(x, w, b, stride, pad)
        mistakes = {tag: m for tag, m in mistakes.items()   # a mistake this case cannot reveal is left out
                    if m[1] is not None and not (m[1].shape == expected.shape and np.allclose(m[1], expected))}
        cases.append(Case(args, expected, mistakes, label))
    return cases


def _compare(got, case):
    """Known mistakes first, whatever their shape (a forgotten pad changes it), then the generic
    diagnosis; an (out, cache) pair gets told to return out alone."""
    if got is None:
        return diagnose_array(got, case.expected)
    if isinstance(got, tuple) and len(got) == 2 and np.shape(got[0]) == case.expected.shape:
        if diagnose_array(got[0], case.expected)[0] is None:
            return "tuple", "return out alone (the exercise's function has no cache)"
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return diagnose_array(got, case.expected)
    for tag, (message, wrong) in case.mistakes.items():
        if array.shape == wrong.shape and np.allclose(array, wrong, rtol=1e-6, atol=1e-9):
            return tag, message
    return diagnose_array(array, case.expected)


register(Exercise(
    name="conv_forward_naive",
    task=("conv_forward_naive(x, w, b, conv_param) -> out: x (N, C, H, W), w (F, C, HH, WW), b (F,), "
          "conv_param {'stride', 'pad'}; out (N, F, H', W') with H' = (H + 2 pad - HH) / stride + 1. "
          "Loops are fine; return out only."),
    make_cases=_cases,
    compare=_compare,
))
