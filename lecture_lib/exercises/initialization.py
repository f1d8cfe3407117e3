"""Exercises of 02_initialization: the three scaling rules, and the per-layer statistics."""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, register


def _scales(fan_in, fan_out):
    return np.array([np.sqrt(1.0 / fan_in), np.sqrt(2.0 / (fan_in + fan_out)), np.sqrt(2.0 / fan_in)])


def _scale_cases():
    cases = []
    for fan_in, fan_out in ((1000, 500), (64, 256), (300, 10)):
        lecun, xavier, he = _scales(fan_in, fan_out)
        mistakes = {
            "variance": ("these are variances: the std is their square root (randn * std)",
                         _scales(fan_in, fan_out) ** 2),
            "notes' xavier": ("your 'xavier' is 1/sqrt(fan_in): that is LeCun's rule (the notes' "
                              "code); Glorot's uses 2 / (fan_in + fan_out)",
                              np.array([lecun, lecun, he])),
            "fan_out": ("LeCun and He divide by fan_in (the inputs each unit sums), not fan_out",
                        np.array([np.sqrt(1.0 / fan_out), xavier, np.sqrt(2.0 / fan_out)])),
            "missing 2": ("He's rule has a 2 on top: E[relu(z)^2] = Var(z) / 2, so the weights "
                          "need twice LeCun's variance", np.array([lecun, xavier, lecun])),
        }
        cases.append(Case((fan_in, fan_out), np.array([lecun, xavier, he]), mistakes,
                          f"fan_in={fan_in}, fan_out={fan_out}"))
    return cases


register(Exercise(
    name="init_scales",
    task="Return np.array([lecun_std, xavier_std, he_std]) for a layer with fan_in inputs and "
         "fan_out outputs (standard deviations, not variances).",
    make_cases=_scale_cases,
))


def _reference_stats(X, weights):
    h, out = X, []
    for W in weights:
        h = np.tanh(h @ W)
        out.append(h.std())
    return np.array(out)


def _stats_cases():
    rng = np.random.default_rng(2)
    cases = []
    for n, width, depth, std, label in ((50, 20, 4, 0.3, "4 tanh layers, std(W) 0.3"),
                                        (40, 30, 6, 0.05, "6 tanh layers, std(W) 0.05")):
        X = rng.standard_normal((n, width))
        weights = [std * rng.standard_normal((width, width)) for _ in range(depth)]
        h, pre, transposed = X, [], []
        for W in weights:
            z = h @ W
            pre.append(z.std())
            h = np.tanh(z)
        h = X
        for W in weights:
            h = np.tanh(h @ W.T)
            transposed.append(h.std())
        per_unit = []
        h = X
        for W in weights:
            h = np.tanh(h @ W)
            per_unit.append(h.std(axis=0).mean())
        mistakes = {
            "pre-activation": ("these are the stds of z = h @ W, before tanh: measure h = tanh(z)",
                               np.array(pre)),
            "W transposed": ("h @ W.T: W has shape (fan_in, fan_out), so a layer is h @ W",
                             np.array(transposed)),
            "per unit": ("you averaged each unit's std over the examples; take the std of all "
                         "of a layer's activations together (h.std())", np.array(per_unit)),
        }
        cases.append(Case((X, weights), _reference_stats(X, weights), mistakes, label))
    return cases


register(Exercise(
    name="tanh_layer_stds",
    task="Forward X through the tanh layers h = tanh(h @ W) for W in weights and return the std of "
         "each layer's activations h, as an array of length len(weights).",
    make_cases=_stats_cases,
))
