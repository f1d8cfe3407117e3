"""Reference solutions (and canned mistakes) for the exercises of 08_rnns."""

import numpy as np


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return np.tanh(x @ Wx + prev_h @ Wh + b)


def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    da = dnext_h * (1 - next_h ** 2)               # tanh' on the output
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def _gates(x, prev_h, Wx, Wh, b, order="ifog"):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    blocks = dict(zip(order, (a[:, k * H:(k + 1) * H] for k in range(4)), strict=True))
    return _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), _sigmoid(blocks["o"]), np.tanh(blocks["g"])


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    i, f, o, g = _gates(x, prev_h, Wx, Wh, b)
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c


def _lstm_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b, add_next=True, through_h=True):
    i, f, o, g = _gates(x, prev_h, Wx, Wh, b)
    tanh_c = np.tanh(f * prev_c + i * g)
    dc = (dnext_c if add_next else 0) + (dnext_h * o * (1 - tanh_c ** 2) if through_h else 0)
    da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tanh_c * o * (1 - o),
                         dc * i * (1 - g * g)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b):
    return _lstm_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b)


SOLUTIONS = {"rnn_step_forward": rnn_step_forward, "rnn_step_backward": rnn_step_backward,
             "lstm_step_forward": lstm_step_forward, "lstm_step_backward": lstm_step_backward}


def _rnn_backward_local(dnext_h, x, prev_h, Wx, Wh, b, local):
    da = dnext_h * local
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def _rnn_backward_on_preactivation(dnext_h, x, prev_h, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    return _rnn_backward_local(dnext_h, x, prev_h, Wx, Wh, b, 1 - a ** 2)


def _rnn_backward_dWh_transposed(dnext_h, x, prev_h, Wx, Wh, b):
    dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b)
    return dx, dprev_h, dWx, dWh.T, db


def _lstm_forward_torch_order(x, prev_h, prev_c, Wx, Wh, b):
    i, f, o, g = _gates(x, prev_h, Wx, Wh, b, order="ifgo")
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c


def _lstm_forward_no_tanh(x, prev_h, prev_c, Wx, Wh, b):
    i, f, o, g = _gates(x, prev_h, Wx, Wh, b)
    next_c = f * prev_c + i * g
    return o * next_c, next_c


def _lstm_forward_sigmoid_g(x, prev_h, prev_c, Wx, Wh, b):
    i, f, o, g = _gates(x, prev_h, Wx, Wh, b)
    g = _sigmoid(np.arctanh(g))
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c


def _lstm_backward_no_forget(*args):
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(*args)
    i, f, o, g = _gates(*args[2:4], *args[5:])
    return dx, dprev_h, dprev_c / f, dWx, dWh, db


# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "rnn_step_forward": {
        "no tanh": lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b,
        "no bias": lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh),
        "Wh transposed": lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh.T + b),
        "shape": lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b)[0],
        "sign": lambda x, h, Wx, Wh, b: -np.tanh(x @ Wx + h @ Wh + b),
        "none": lambda x, h, Wx, Wh, b: None,
    },
    "rnn_step_backward": {
        "tanh on pre-activation": _rnn_backward_on_preactivation,
        "no local gradient": lambda dn, x, h, Wx, Wh, b: _rnn_backward_local(dn, x, h, Wx, Wh, b, 1.0),
        "dWh transposed": _rnn_backward_dWh_transposed,
        "type": lambda dn, x, h, Wx, Wh, b: rnn_step_backward(dn, x, h, Wx, Wh, b)[:4],
        "exception": lambda dn, x, h, Wx, Wh, b: (dn @ Wx, dn, dn, dn, dn),
    },
    "lstm_step_forward": {
        "gate order": _lstm_forward_torch_order,
        "no tanh of c": _lstm_forward_no_tanh,
        "sigmoid on g": _lstm_forward_sigmoid_g,
    },
    "lstm_step_backward": {
        "next-step gradient not added": lambda *a: _lstm_backward(*a, add_next=False),
        "cell-state gradient missing": lambda *a: _lstm_backward(*a, through_h=False),
        "forget gate missing in dprev_c": _lstm_backward_no_forget,
    },
}
