"""Exercise of 00_start_here: standardize a batch of feature vectors."""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, register

STD_FLOOR = 1e-2


def _reference(X):
    return (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), STD_FLOOR)


def _cases():
    rng = np.random.default_rng(0)
    cases = []
    for n, d, label in ((6, 4, "random features"), (5, 5, "square, with a constant feature")):
        X = rng.normal(3.0, 2.0, size=(n, d)) * rng.uniform(0.5, 4, size=d)
        if d == 5:
            X[:, 2] = 7.0  # a constant feature, like a blank pixel
        std = np.maximum(X.std(axis=0), STD_FLOOR)
        with np.errstate(divide="ignore", invalid="ignore"):
            mistakes = {
                "rows": ("statistics taken over each row (axis=1) instead of each feature (axis=0)",
                         (X - X.mean(axis=1, keepdims=True)) / np.maximum(X.std(axis=1, keepdims=True), STD_FLOOR)),
                "not centred": ("the features are scaled but not zero-centred: subtract the mean first",
                                X / std),
                "variance": ("divided by the variance instead of the standard deviation",
                             (X - X.mean(axis=0)) / np.maximum(X.var(axis=0), STD_FLOOR)),
            }
        cases.append(Case((X,), _reference(X), mistakes, label))
    return cases


register(Exercise(
    name="standardize",
    task="Return X zero-centred and scaled per feature (column): (X - mean) / max(std, 0.01).",
    make_cases=_cases,
))
