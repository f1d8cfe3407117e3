"""Exercises of 02_initialization: the three scaling rules, and the per-layer statistics."""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, compare_parts, register


def _scales(fan_in, fan_out):
    return np.array([np.sqrt(1.0 / fan_in), np.sqrt(2.0 / (fan_in + fan_out)), np.sqrt(2.0 / fan_in)])


SCALE_PARTS = ("lecun", "xavier", "he")
_compare_scale_parts = compare_parts(SCALE_PARTS)


def _scale_cases():
    cases = []
    for fan_in, fan_out in ((1000, 500), (64, 256), (300, 10)):
        lecun, xavier, he = _scales(fan_in, fan_out)
        mistakes = {
            "variance": ("lecun, xavier and he are variances: each std is the square root of its "
                         "variance (weights = randn * std)",
                         dict(zip(SCALE_PARTS, _scales(fan_in, fan_out) ** 2, strict=True))),
            "fan_out": ("lecun and he divide by fan_out; they divide by fan_in, the number of inputs "
                        "each unit sums", {"lecun": np.sqrt(1.0 / fan_out), "he": np.sqrt(2.0 / fan_out)}),
            "notes' xavier": ("it is 1/sqrt(fan_in): that is LeCun's rule (the notes' code); "
                              "Glorot's uses 2 / (fan_in + fan_out)", {"xavier": lecun}),
            "xavier missing 2": ("it is sqrt(1 / (fan_in + fan_out)): Glorot's rule averages the two "
                                 "fans, variance 2 / (fan_in + fan_out)",
                                 {"xavier": np.sqrt(1.0 / (fan_in + fan_out))}),
            "missing 2": ("it equals lecun: He's rule has a 2 on top, because E[relu(z)^2] = Var(z) / 2, "
                          "so ReLU weights need twice LeCun's variance", {"he": lecun}),
        }
        cases.append(Case((fan_in, fan_out), (lecun, xavier, he), mistakes,
                          f"fan_in={fan_in}, fan_out={fan_out}"))
    return cases


def _compare_scales(got, case):
    """Part by part (lecun, xavier, he); an array of three is read as the three parts, and three
    parts all off by one factor are named as such."""
    if isinstance(got, np.ndarray) and got.ndim == 1 and got.dtype.kind in "biuf":
        if got.shape != (3,):
            return "shape", f"shape {got.shape}; expected three stds (lecun, xavier, he)"
        got = tuple(got)
    if isinstance(got, (tuple, list)) and len(got) == 3:
        try:
            ratios = np.array(got, dtype=np.float64) / np.array(case.expected)
        except (TypeError, ValueError):
            ratios = None
        if ratios is not None and ratios.shape == (3,) and np.all(np.isfinite(ratios)) \
                and not np.allclose(ratios, 1.0) and np.allclose(ratios, ratios[0], rtol=1e-9):
            named = _compare_scale_parts(got, case)  # a named mistake first (variances are not a factor)
            if named[0] in case.mistakes:
                return named
            return "factor", (f"all three stds are {ratios[0]:.6g} x the answer: the same factor "
                              "in every rule (an extra 2, or sqrt of the wrong thing?)")
    return _compare_scale_parts(got, case)


register(Exercise(
    name="init_scales",
    task="Return (lecun_std, xavier_std, he_std) for a layer with fan_in inputs and fan_out outputs "
         "(standard deviations, not variances), as a tuple or an array of three.",
    make_cases=_scale_cases,
    compare=_compare_scales,
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
