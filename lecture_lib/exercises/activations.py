"""Exercises of 01_activations: write the local gradient of an activation function."""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, register


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _sigmoid_cases():
    rng = np.random.default_rng(1)
    cases = []
    for x, label in ((np.linspace(-6.0, 6.0, 13), "a grid from -6 to 6"),
                     (rng.normal(0.0, 3.0, size=(4, 5)), "a 4x5 batch")):
        s = _sigmoid(x)
        mistakes = {
            "formula on x": ("you applied s(1 - s) to x itself; compute s = sigmoid(x) first, "
                             "then s * (1 - s)", x * (1.0 - x)),
            "missing (1 - s)": ("you returned sigmoid(x) itself; its derivative is s * (1 - s)", s),
            "tanh's gradient": ("1 - s**2 is the pattern of tanh's gradient (1 - tanh²); "
                                "sigmoid's is s * (1 - s)", 1.0 - s * s),
        }
        cases.append(Case((x,), s * (1.0 - s), mistakes, label))
    return cases


register(Exercise(
    name="sigmoid_local_gradient",
    task="Return the local gradient of the sigmoid at every element of x: s * (1 - s), s = sigmoid(x).",
    make_cases=_sigmoid_cases,
))


def _elu_cases():
    rng = np.random.default_rng(2)
    cases = []
    for alpha, label in ((1.0, "alpha = 1"), (2.0, "alpha = 2")):
        x = rng.normal(0.0, 2.0, size=12)
        x[np.abs(x) < 0.05] = 0.5  # keep away from the kink at 0, where both sides are a convention
        neg = x <= 0
        expected = np.where(neg, alpha * np.exp(np.minimum(x, 0)), 1.0)
        elu = np.where(neg, alpha * np.expm1(np.minimum(x, 0)), x)
        mistakes = {
            "exp everywhere": ("alpha * exp(x) is the slope of the negative piece only; for x > 0 "
                               "the slope is 1", alpha * np.exp(x)),
            "output, not gradient": ("you returned ELU(x) itself, not its slope", elu),
            "missing +alpha": ("on the negative side the slope is alpha * exp(x) = ELU(x) + alpha; "
                               "you returned alpha * (exp(x) - 1) = ELU(x)", np.where(neg, elu, 1.0)),
        }
        if alpha != 1.0:
            mistakes["missing alpha"] = ("the negative piece's slope is alpha * exp(x): the factor "
                                         "alpha is missing", np.where(neg, np.exp(np.minimum(x, 0)), 1.0))
        cases.append(Case((x, alpha), expected, mistakes, label))
    return cases


register(Exercise(
    name="elu_local_gradient",
    task="Return ELU's local gradient: 1 where x > 0, alpha * exp(x) where x <= 0.",
    make_cases=_elu_cases,
))
