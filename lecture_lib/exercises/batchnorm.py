"""Exercises of 05_batchnorm: the batch-norm forward pass (train and test mode, running statistics)
and its simplified backward pass.

- ``batchnorm_forward(x, gamma, beta, bn_param)`` -> out, updating ``bn_param``'s running statistics
  in train mode (CS231n's momentum: running = momentum * running + (1 - momentum) * batch);
- ``batchnorm_backward(dout, x, gamma, eps)`` -> (dx, dgamma, dbeta) of a train-mode forward.

The checker names the usual mistakes: statistics over the wrong axis, eps missing or outside the
square root, the unbiased variance, running averages not updated, updated in test mode or with the
momentum the wrong way round, batch statistics in test mode; for the backward, a missing term,
gamma forgotten, means instead of sums.
"""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, compare_parts, diagnose_array, register

EPS, MOMENTUM = 1e-5, 0.9
_PARTS = ("out", "running_mean", "running_var")


def _normalize(x, mean, var, eps=EPS, outside=False):
    return (x - mean) / (np.sqrt(var) + eps) if outside else (x - mean) / np.sqrt(var + eps)


def _batch(rng, n=8):
    """A batch whose last feature has a small variance, so that eps matters visibly."""
    x = rng.normal(2.0, 1.5, (n, 5))
    x[:, -1] = rng.normal(0.5, 0.03, n)
    return x


# --------------------------------------------------------------------------- forward
def _forward_cases():
    rng = np.random.default_rng(7)
    gamma, beta = rng.normal(1.0, 0.3, 5), rng.normal(0.0, 0.5, 5)
    r_mean, r_var = rng.normal(1.0, 0.5, 5), rng.uniform(0.5, 2.0, 5)
    cases = []
    # train mode
    x = _batch(rng)
    mean, var = x.mean(axis=0), x.var(axis=0)
    out = gamma * _normalize(x, mean, var) + beta
    new_mean, new_var = MOMENTUM * r_mean + (1 - MOMENTUM) * mean, MOMENTUM * r_var + (1 - MOMENTUM) * var
    per_example = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + EPS)
    mistakes = {
        "axis": ("the statistics are over axis 1 (each example's features: that is layer norm); batch norm "
                 "takes each feature's mean and variance over the batch, axis 0", {"out": gamma * per_example + beta}),
        "eps missing": ("eps is missing: divide by sqrt(var + eps), or a feature with a tiny variance blows up",
                        {"out": gamma * (x - mean) / np.sqrt(var) + beta}),
        "eps outside the root": ("eps is outside the square root: the formula is sqrt(var + eps), not sqrt(var) + eps",
                                 {"out": gamma * _normalize(x, mean, var, outside=True) + beta}),
        "unbiased variance": ("the variance is the unbiased one (divided by N - 1); batch norm normalizes with the "
                              "biased batch variance (divided by N), np.var's default",
                              {"out": gamma * _normalize(x, mean, x.var(axis=0, ddof=1)) + beta}),
        "not updated": ("out is right, but the running averages were not updated in train mode: store "
                        "momentum * running + (1 - momentum) * batch statistic back into bn_param",
                        {"running_mean": r_mean, "running_var": r_var}),
        "momentum reversed": (f"the momentum is the wrong way round: with momentum={MOMENTUM} the running value "
                              f"keeps {MOMENTUM:.0%} of itself (torch's momentum=0.1 means the same thing)",
                              {"running_mean": (1 - MOMENTUM) * r_mean + MOMENTUM * mean,
                               "running_var": (1 - MOMENTUM) * r_var + MOMENTUM * var}),
    }
    cases.append(Case((x, gamma, beta, {"mode": "train", "eps": EPS, "momentum": MOMENTUM,
                                         "running_mean": r_mean.copy(), "running_var": r_var.copy()}),
                      (out, new_mean, new_var), mistakes, "train mode"))
    # test mode, with the running statistics of the first case
    x = _batch(rng, n=6)
    mean, var = x.mean(axis=0), x.var(axis=0)
    mistakes = {
        "updated in test mode": ("out is right, but test mode changed the running averages: only training "
                                 "batches may update them",
                                 {"running_mean": MOMENTUM * new_mean + (1 - MOMENTUM) * mean,
                                  "running_var": MOMENTUM * new_var + (1 - MOMENTUM) * var}),
        "batch statistics in test mode": ("test mode normalized with the batch's own mean and variance; it must "
                                          "use the running averages, so that an example's output does not depend "
                                          "on its batch", {"out": gamma * _normalize(x, mean, var) + beta}),
    }
    cases.append(Case((x, gamma, beta, {"mode": "test", "eps": EPS, "momentum": MOMENTUM,
                                         "running_mean": new_mean.copy(), "running_var": new_var.copy()}),
                      (gamma * _normalize(x, new_mean, new_var) + beta, new_mean, new_var), mistakes, "test mode"))
    return cases


_compare_forward_parts = compare_parts(_PARTS)


def _compare_forward(got, case):
    """The answer is ``out``; the running averages are read back from the bn_param it received."""
    if got is None:
        return diagnose_array(got, case.expected[0])
    param = case.args[3]
    return _compare_forward_parts((got, param.get("running_mean"), param.get("running_var")), case)


register(Exercise(
    name="batchnorm_forward",
    task="Given x (N, D), gamma and beta (D,) and bn_param (mode, eps, momentum, running_mean, "
         "running_var), return out (N, D); in train mode also update bn_param's running averages.",
    make_cases=_forward_cases,
    compare=_compare_forward,
))


# --------------------------------------------------------------------------- simplified backward
def _backward_cases():
    rng = np.random.default_rng(8)
    cases = []
    for n, label in ((8, "N=8, D=5"), (13, "N=13, D=5")):
        x, dout = _batch(rng, n), rng.standard_normal((n, 5))
        gamma = rng.normal(1.0, 0.3, 5)
        std = np.sqrt(x.var(axis=0) + EPS)
        xhat = (x - x.mean(axis=0)) / std
        dxhat = dout * gamma
        dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std
        dgamma, dbeta = (dout * xhat).sum(axis=0), dout.sum(axis=0)
        mistakes = {
            "variance term": ("dx misses the term that flows through the variance, "
                              "− xhat · mean(dxhat · xhat): the variance depends on x too",
                              {"dx": (dxhat - dxhat.mean(axis=0)) / std}),
            "mean term": ("dx misses the term that flows through the mean, − mean(dxhat): the mean depends on x too",
                          {"dx": (dxhat - xhat * (dxhat * xhat).mean(axis=0)) / std}),
            "gamma": ("dx forgets gamma: the gradient reaching xhat is dout * gamma",
                      {"dx": (dout - dout.mean(axis=0) - xhat * (dout * xhat).mean(axis=0)) / std}),
            "eps": ("dx divides by sqrt(var) without eps; the forward divided by sqrt(var + eps)",
                    {"dx": dx * std / np.sqrt(x.var(axis=0))}),
            "batch mean": (f"dgamma and dbeta are means over the batch; they are sums over the N={n} examples "
                           "(each example's output depends on gamma and beta)",
                           {"dgamma": dgamma / n, "dbeta": dbeta / n}),
        }
        cases.append(Case((dout, x, gamma, EPS), (dx, dgamma, dbeta), mistakes, label))
    return cases


register(Exercise(
    name="batchnorm_backward",
    task="Given dout (N, D), the train-mode input x (N, D), gamma (D,) and eps, return (dx, dgamma, dbeta) "
         "in the simplified closed form.",
    make_cases=_backward_cases,
    compare=compare_parts(("dx", "dgamma", "dbeta")),
))
