"""Exercises of 03_backprop_gates: the backward pass of three gates.

- ``sigmoid_backward(dout, out)`` -> dx
- ``affine_backward(dout, x, w)`` -> (dx, dw, db)
- ``softmax_loss(scores, y)`` -> (loss, dscores)

For the gates with several outputs the checker names the wrong one (``dw: transposed ...``).
"""

from __future__ import annotations

import numpy as np

from .. import layers
from . import Case, Exercise, compare_parts, register


def _sigmoid(x):
    return layers.sigmoid_forward(x)[0]


# --------------------------------------------------------------------------- sigmoid
def _sigmoid_cases():
    rng = np.random.default_rng(3)
    cases = []
    for shape, label in (((4, 5), "a batch of pre-activations"), ((7,), "a vector")):
        out = _sigmoid(rng.normal(0, 2, shape))
        dout = rng.standard_normal(shape)
        mistakes = {
            "missing term": ("the local gradient is σ(x)(1 − σ(x)) = out * (1 - out); the (1 - out) factor is missing",
                             dout * out),
            "upstream": ("the local gradient out * (1 - out) is right, but it is not multiplied by the "
                         "upstream gradient dout (the chain rule)", out * (1 - out)),
            "input": ("σ was applied again: `out` already is σ(x), so the local gradient is "
                      "out * (1 - out), not σ(out)(1 − σ(out))",
                      dout * _sigmoid(out) * (1 - _sigmoid(out))),
        }
        cases.append(Case((dout, out), dout * out * (1 - out), mistakes, label))
    return cases


register(Exercise(
    name="sigmoid_backward",
    task="Given the upstream gradient dout and the forward output out = σ(x), return dx.",
    make_cases=_sigmoid_cases,
))


# --------------------------------------------------------------------------- several gradients
def _affine_cases():
    rng = np.random.default_rng(4)
    cases = []
    for n, d, m, label in ((5, 4, 3, "N=5, D=4, M=3"), (8, 6, 2, "N=8, D=6, M=2")):
        x, w = rng.standard_normal((n, d)), rng.standard_normal((d, m))
        dout = rng.standard_normal((n, m))
        dx, dw, db = layers.affine_backward(dout, (x, w))
        mistakes = {
            "batch mean": (f"db is the mean of dout over the batch; the loss already averaged, so "
                           f"sum over the N={n} examples instead", {"db": dout.mean(axis=0)}),
        }
        cases.append(Case((dout, x, w), (dx, dw, db), mistakes, label))
    return cases


register(Exercise(
    name="affine_backward",
    task="Given dout (N, M), x (N, D) and w (D, M) of out = x @ w + b, return (dx, dw, db).",
    make_cases=_affine_cases,
    compare=compare_parts(("dx", "dw", "db")),
))


def _softmax_cases():
    rng = np.random.default_rng(5)
    cases = []
    for n, c, scale, label in ((6, 4, 1.0, "small scores"), (5, 3, 800.0, "scores in the hundreds")):
        scores = rng.standard_normal((n, c)) * scale
        y = rng.integers(0, c, n)
        loss, dscores = layers.softmax_loss(scores, y)
        probs = dscores.copy() * n
        probs[np.arange(n), y] += 1
        with np.errstate(divide="ignore"):
            every_label = -np.log(probs[:, y]).mean()   # an (N, N) block: each row at every label
        mistakes = {
            "missing term": ("dscores is softmax / N: the −1 at each example's correct class is "
                             "missing", {"dscores": probs / n}),
            "factor": (f"dscores is N={n} times too large: the loss is a mean over the batch, "
                       f"so divide the gradient by N too", {"dscores": dscores * n}),
            "loss sum": (f"the loss is summed over the batch; the contract is the mean over the "
                         f"N={n} examples", {"loss": np.float64(loss * n)}),
        }
        if np.isfinite(every_label):
            mistakes["indexing"] = (f"it averages −log p over an N×N = {n}×{n} block: p[:, y] takes, "
                                    "for every example, the columns of all the batch's labels; take each "
                                    "row's own label, p[np.arange(N), y]", {"loss": np.float64(every_label)})
        cases.append(Case((scores, y), (loss, dscores), mistakes, label))
    return cases


_compare_softmax_parts = compare_parts(("loss", "dscores"))


def _compare_softmax(got, case):
    """Part by part; an infinite loss next to a finite gradient is named for what it is: the log
    of a probability that underflowed to 0 (exp of unshifted scores overflows instead, and its NaN
    gradient gets the generic NaN diagnosis)."""
    if isinstance(got, (tuple, list)) and len(got) == 2:
        loss = np.asarray(got[0]) if isinstance(got[0], (float, int, np.generic, np.ndarray)) else None
        try:
            dscores_finite = bool(np.all(np.isfinite(np.asarray(got[1], dtype=np.float64))))
        except (TypeError, ValueError):
            dscores_finite = False
        if loss is not None and loss.dtype.kind == "f" and loss.size == 1 and np.isposinf(loss) and dscores_finite:
            return "underflow", ("loss is +inf: subtracting the row's maximum keeps exp from overflowing, "
                                 "but a class far below the maximum still has exp(shifted) = 0, and "
                                 "log(0) = −inf. Take the log before the exp can underflow: log_probs = "
                                 "shifted − log(Σ exp(shifted)) (log-softmax), loss = −mean of "
                                 "log_probs[np.arange(N), y]")
    return _compare_softmax_parts(got, case)


register(Exercise(
    name="softmax_loss",
    task="Given scores (N, C) and labels y (N,), return (loss, dscores): the mean cross-entropy "
         "of softmax(scores) and its gradient; scores may be in the hundreds (work with log-probabilities).",
    make_cases=_softmax_cases,
    compare=_compare_softmax,
))
