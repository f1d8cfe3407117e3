"""Reference solution (and canned mistakes) for the exercise of 07_cnn_architectures."""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, height, width = x_pad.shape
    filters, _, hh, ww = w.shape
    out_h, out_w = (height - hh) // stride + 1, (width - ww) // stride + 1
    out = np.zeros((n, filters, out_h, out_w))
    for k in range(n):
        for f in range(filters):
            for i in range(out_h):
                for j in range(out_w):
                    field = x_pad[k, :, i * stride:i * stride + hh, j * stride:j * stride + ww]
                    out[k, f, i, j] = np.sum(field * w[f]) + b[f]
    return out


def _variant(pad_input=True, flip=False, plus_one=True, stride_on_kernel=False, bias_on_columns=False):
    def conv(x, w, b, conv_param):
        stride, pad = conv_param["stride"], conv_param["pad"] if pad_input else 0
        if flip:
            w = w[:, :, ::-1, ::-1]
        x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        n, _, height, width = x_pad.shape
        filters, _, hh, ww = w.shape
        out_h = (height - hh) // stride + int(plus_one)
        out_w = (width - ww) // stride + int(plus_one)
        out = np.zeros((n, filters, out_h, out_w))
        for k in range(n):
            for f in range(filters):
                for i in range(out_h):
                    for j in range(out_w):
                        if stride_on_kernel:
                            field = x_pad[k, :, i:i + stride * (hh - 1) + 1:stride, j:j + stride * (ww - 1) + 1:stride]
                        else:
                            field = x_pad[k, :, i * stride:i * stride + hh, j * stride:j * stride + ww]
                        out[k, f, i, j] = np.sum(field * w[f]) + (0 if bias_on_columns else b[f])
        return out + b if bias_on_columns else out
    return conv


SOLUTIONS = {"conv_forward_naive": conv_forward_naive}

# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "conv_forward_naive": {
        "no-padding": _variant(pad_input=False),
        "flipped-kernel": _variant(flip=True),
        "output-size": _variant(plus_one=False),
        "stride-on-kernel": _variant(stride_on_kernel=True),
        "bias-per-pixel": _variant(bias_on_columns=True),
        "tuple": lambda x, w, b, conv_param: (conv_forward_naive(x, w, b, conv_param), (x, w, b, conv_param)),
        "sign": lambda x, w, b, conv_param: -conv_forward_naive(x, w, b, conv_param),
        "none": lambda x, w, b, conv_param: None,
    },
}
