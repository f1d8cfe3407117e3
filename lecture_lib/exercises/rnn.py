"""Exercises of 08_rnns: one step of a vanilla RNN and of an LSTM, forward and backward.

- ``rnn_step_forward(x, prev_h, Wx, Wh, b)`` -> next_h
- ``rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b)`` -> (dx, dprev_h, dWx, dWh, db)
- ``lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)`` -> (next_h, next_c), gates i, f, o, g
- ``lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b)``
  -> (dx, dprev_h, dprev_c, dWx, dWh, db)

The checkers name the classic mistakes: tanh's derivative taken on the pre-activation instead of
the output, the gates read in torch's order, the gradient arriving from the next step along the
cell state not added, the gradient reaching the cell state through h missing.
"""

from __future__ import annotations

import numpy as np

from .. import layers
from . import Case, Exercise, compare_parts, register

RNN_PARTS = ("dx", "dprev_h", "dWx", "dWh", "db")
LSTM_PARTS = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _rnn_inputs(rng, n, d, h):
    return (rng.standard_normal((n, d)), rng.standard_normal((n, h)),
            rng.standard_normal((d, h)) / np.sqrt(d), rng.standard_normal((h, h)) / np.sqrt(h),
            rng.standard_normal(h) * 0.5)


# --------------------------------------------------------------------------- vanilla RNN
def _rnn_forward_cases():
    rng = np.random.default_rng(8)
    cases = []
    for n, d, h, label in ((3, 4, 5, "N=3, D=4, H=5"), (2, 6, 3, "N=2, D=6, H=3")):
        x, prev_h, Wx, Wh, b = _rnn_inputs(rng, n, d, h)
        a = x @ Wx + prev_h @ Wh + b
        mistakes = {
            "no tanh": ("the pre-activation is right, but tanh is missing: next_h = tanh(x @ Wx + prev_h @ Wh + b)",
                        a),
            "no bias": ("the bias b is missing inside the tanh", np.tanh(a - b)),
            "Wh transposed": ("prev_h is multiplied by Wh.T: in the row convention the notes' W_hh h is "
                              "prev_h @ Wh", np.tanh(x @ Wx + prev_h @ Wh.T + b)),
        }
        cases.append(Case((x, prev_h, Wx, Wh, b), np.tanh(a), mistakes, label))
    return cases


register(Exercise(
    name="rnn_step_forward",
    task="Given x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,), return next_h = tanh(x Wx + prev_h Wh + b).",
    make_cases=_rnn_forward_cases,
))


def _rnn_backward_wrong(dnext_h, x, prev_h, Wx, Wh, b, local):
    da = dnext_h * local
    return (da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0))


def _rnn_backward_cases():
    rng = np.random.default_rng(9)
    cases = []
    for n, d, h, label in ((3, 4, 5, "N=3, D=4, H=5"), (4, 2, 3, "N=4, D=2, H=3")):
        x, prev_h, Wx, Wh, b = _rnn_inputs(rng, n, d, h)
        next_h, cache = layers.rnn_step_forward(x, prev_h, Wx, Wh, b)
        dnext_h = rng.standard_normal((n, h))
        expected = layers.rnn_step_backward(dnext_h, cache)
        a = x @ Wx + prev_h @ Wh + b
        args = (dnext_h, x, prev_h, Wx, Wh, b)
        pre = _rnn_backward_wrong(*args, 1 - a * a)
        none = _rnn_backward_wrong(*args, 1.0)
        mistakes = {
            "tanh on pre-activation": (
                "tanh's derivative is 1 - tanh(a)^2 = 1 - next_h^2, taken on the OUTPUT; you used 1 - a^2 on the "
                "pre-activation a", dict(zip(RNN_PARTS, pre, strict=True))),
            "no local gradient": ("dnext_h went through without tanh's local gradient (1 - next_h^2)",
                                  dict(zip(RNN_PARTS, none, strict=True))),
            "dWh transposed": ("dWh is transposed: it is prev_h.T @ da (H, H), not da.T @ prev_h",
                               {"dWh": expected[3].T}),
        }
        cases.append(Case(args, expected, mistakes, label))
    return cases


register(Exercise(
    name="rnn_step_backward",
    task=("Given dnext_h (N, H) and the forward's inputs x, prev_h, Wx, Wh, b, return (dx, dprev_h, dWx, dWh, db) "
          "of next_h = tanh(x Wx + prev_h Wh + b)."),
    make_cases=_rnn_backward_cases,
    compare=compare_parts(RNN_PARTS),
))


# --------------------------------------------------------------------------- LSTM
def _lstm_inputs(rng, n, d, h):
    return (rng.standard_normal((n, d)), rng.standard_normal((n, h)), rng.standard_normal((n, h)),
            rng.standard_normal((d, 4 * h)) / np.sqrt(d), rng.standard_normal((h, 4 * h)) / np.sqrt(h),
            rng.standard_normal(4 * h) * 0.5)


def _lstm_forward_variant(x, prev_h, prev_c, Wx, Wh, b, *, order="ifog", cell_tanh=True, g_sigmoid=False):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    blocks = dict(zip(order, (a[:, k * H:(k + 1) * H] for k in range(4)), strict=True))
    i, f, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), _sigmoid(blocks["o"])
    g = _sigmoid(blocks["g"]) if g_sigmoid else np.tanh(blocks["g"])
    next_c = f * prev_c + i * g
    return o * (np.tanh(next_c) if cell_tanh else next_c), next_c


def _lstm_forward_cases():
    rng = np.random.default_rng(10)
    cases = []
    for n, d, h, label in ((3, 4, 5, "N=3, D=4, H=5"), (2, 3, 2, "N=2, D=3, H=2")):
        args = _lstm_inputs(rng, n, d, h)
        expected = layers.lstm_step_forward(*args)[:2]
        order_h, order_c = _lstm_forward_variant(*args, order="ifgo")
        mistakes = {
            "gate order": ("the four blocks were read as i, f, g, o (torch's order); here the 4H axis holds "
                           "i, f, o, g", {"next_h": order_h, "next_c": order_c}),
            "no tanh of c": ("next_h = o * tanh(next_c): the tanh of the cell state is missing",
                             {"next_h": _lstm_forward_variant(*args, cell_tanh=False)[0]}),
            "sigmoid on g": ("g, the candidate written into the cell, is tanh(a_g) (values in [-1, 1]), not a "
                             "sigmoid", dict(zip(("next_h", "next_c"),
                                                 _lstm_forward_variant(*args, g_sigmoid=True), strict=True))),
        }
        cases.append(Case(args, expected, mistakes, label))
    return cases


register(Exercise(
    name="lstm_step_forward",
    task=("Given x (N, D), prev_h and prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,), gates i, f, o, g along "
          "the 4H axis, return (next_h, next_c)."),
    make_cases=_lstm_forward_cases,
    compare=compare_parts(("next_h", "next_c")),
))


def _lstm_backward_variant(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b, *, add_next=True, through_h=True,
                           forget_prev=True):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = (_sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
    g = np.tanh(a[:, 3 * H:])
    tanh_c = np.tanh(f * prev_c + i * g)
    dc = (dnext_c if add_next else 0) + (dnext_h * o * (1 - tanh_c ** 2) if through_h else 0)
    da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tanh_c * o * (1 - o),
                         dc * i * (1 - g * g)], axis=1)
    return (da @ Wx.T, da @ Wh.T, dc * f if forget_prev else dc, x.T @ da, prev_h.T @ da, da.sum(axis=0))


def _lstm_backward_cases():
    rng = np.random.default_rng(11)
    cases = []
    for n, d, h, label in ((3, 4, 5, "N=3, D=4, H=5"), (2, 3, 2, "N=2, D=3, H=2")):
        inputs = _lstm_inputs(rng, n, d, h)
        _, _, cache = layers.lstm_step_forward(*inputs)
        dnext_h, dnext_c = rng.standard_normal((n, h)), rng.standard_normal((n, h))
        expected = layers.lstm_step_backward(dnext_h, dnext_c, cache)
        args = (dnext_h, dnext_c, *inputs)
        mistakes = {
            "next-step gradient not added": (
                "the gradient arriving from the next step along the cell state, dnext_c, is not added: "
                "dc = dnext_c + dnext_h * o * (1 - tanh(c)^2)",
                dict(zip(LSTM_PARTS, _lstm_backward_variant(*args, add_next=False), strict=True))),
            "cell-state gradient missing": (
                "the gradient that reaches the cell state through next_h = o * tanh(next_c) is missing: "
                "dc = dnext_c + dnext_h * o * (1 - tanh(c)^2)",
                dict(zip(LSTM_PARTS, _lstm_backward_variant(*args, through_h=False), strict=True))),
            "forget gate missing in dprev_c": (
                "dprev_c = dc * f: the cell state was multiplied by the forget gate on the way forward",
                {"dprev_c": _lstm_backward_variant(*args, forget_prev=False)[2]}),
        }
        cases.append(Case(args, expected, mistakes, label))
    return cases


register(Exercise(
    name="lstm_step_backward",
    task=("Given dnext_h, dnext_c (N, H) and the forward's inputs x, prev_h, prev_c, Wx, Wh, b (gates i, f, o, g), "
          "return (dx, dprev_h, dprev_c, dWx, dWh, db)."),
    make_cases=_lstm_backward_cases,
    compare=compare_parts(LSTM_PARTS),
))
