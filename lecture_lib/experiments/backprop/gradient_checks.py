"""The experiments of 03_backprop_gates on gradient checking: what a relative error means, the
choice of the step h (centred against one-sided differences, float64 against float32), and kinks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import layers, nets
from ..._checks import as_rng, check_array, check_positive, check_positive_int, check_scalar
from ...gradcheck import numerical_gradient, one_sided_gradient, rel_error

__all__ = ["GRAD_AGREE", "GRAD_SUSPECT", "gradients_agree", "gradient_check_band",
           "ONE_SIDED_PENALTY", "SECOND_ORDER_GAIN", "FLOAT32_PENALTY", "BEST_H",
           "softmax_regression_problem", "StepSweep", "measure_step_sweep", "centred_agrees",
           "one_sided_worse", "second_order_wins", "float32_cannot_agree", "best_h_in_range",
           "ReluKink", "measure_relu_kink", "kink_fails_the_check"]

# --------------------------------------------------------------------------- gradient-check bands
GRAD_AGREE = 1e-7          # relative error below this: the gradients agree (float64)
GRAD_SUSPECT = 1e-4        # between the two: look for kinks or a bad h; above: a bug, almost surely


def gradients_agree(err: float) -> bool:
    return check_scalar(err, "err", min=0.0, allow_inf=True) < GRAD_AGREE


def gradient_check_band(err: float) -> str:
    """'agree' (< 1e-7), 'suspect' (< 1e-4: kinks, h, float32) or 'wrong'."""
    err = check_scalar(err, "err", min=0.0, allow_inf=True)
    return "agree" if err < GRAD_AGREE else ("suspect" if err < GRAD_SUSPECT else "wrong")


# --------------------------------------------------------------------------- gradient checking
ONE_SIDED_PENALTY = 100.0   # one-sided differences at best stay 100x worse than centred ones
SECOND_ORDER_GAIN = 1e3     # at h = 1e-5, O(h^2) beats O(h) by 1000x
FLOAT32_PENALTY = 1e3       # float32 at best stays 1000x worse than float64
BEST_H = (1e-8, 1e-3)       # where the best centred step lies in float64


def softmax_regression_problem(rng, *, n: int = 20, d: int = 5, c: int = 3):
    """A small smooth problem, softmax regression without biases: the data ``(X, y)`` and a point
    ``W`` (float64), drawn from ``rng``."""
    rng = as_rng(rng)
    n, d, c = (check_positive_int(v, name, max=10_000) for v, name in ((n, "n"), (d, "d"), (c, "c")))
    X = rng.standard_normal((n, d))
    y = rng.integers(0, c, n)
    return X, y, 0.5 * rng.standard_normal((d, c))


@dataclass(frozen=True)
class StepSweep:
    """Relative error of the numerical gradient against the analytic one (in float64), for each
    step ``h``: centred differences in float64, one-sided in float64, centred in float32."""

    hs: np.ndarray
    centred: np.ndarray
    one_sided: np.ndarray
    float32: np.ndarray

    @property
    def best_h(self) -> float:
        return float(self.hs[np.argmin(self.centred)])

    def at(self, h: float) -> int:
        """The index of the step nearest to ``h`` (in log scale)."""
        return int(np.argmin(np.abs(np.log10(self.hs) - np.log10(check_positive(h, "h")))))


def measure_step_sweep(hs, *, rng) -> StepSweep:
    hs = check_array(np.asarray(hs, dtype=float), "hs", ndim=1, nonempty=True, finite=True)
    if np.any(hs <= 0):
        raise ValueError(f"hs holds {hs.min():g}; expected positive steps")
    X, y, W = softmax_regression_problem(rng)
    exact = nets.softmax_regression_loss(W, None, X, y)[1]

    def errors(numeric, dtype):              # float32 on purpose: to show how the check fails there
        Xd, Wd = X.astype(dtype), W.astype(dtype)

        def f(w):
            return nets.softmax_regression_loss(w, None, Xd, y)[0]

        return np.array([rel_error(numeric(f, Wd.copy(), h=float(h), allow_low_precision=True), exact) for h in hs])

    return StepSweep(hs, errors(numerical_gradient, np.float64), errors(one_sided_gradient, np.float64),
                     errors(numerical_gradient, np.float32))


def centred_agrees(s: StepSweep) -> bool:
    return bool(s.centred.min() < GRAD_AGREE)


def one_sided_worse(s: StepSweep) -> bool:
    return bool(s.one_sided.min() > ONE_SIDED_PENALTY * s.centred.min())


def second_order_wins(s: StepSweep, h: float = 1e-5) -> bool:
    i = s.at(h)
    return bool(s.centred[i] * SECOND_ORDER_GAIN < s.one_sided[i])


def float32_cannot_agree(s: StepSweep) -> bool:
    return bool(s.float32.min() > FLOAT32_PENALTY * s.centred.min() and s.float32.min() > GRAD_AGREE)


def best_h_in_range(s: StepSweep) -> bool:
    return BEST_H[0] <= s.best_h <= BEST_H[1]


@dataclass(frozen=True)
class ReluKink:
    """Relative error of ReLU's gradient check at inputs far from 0 and at inputs within h of 0."""

    away: float
    kink: float


def measure_relu_kink(h: float = 1e-5, n: int = 8, *, rng) -> ReluKink:
    h, n, rng = check_positive(h, "h"), check_positive_int(n, "n", max=1_000_000), as_rng(rng)
    dout = rng.standard_normal(n)
    errors = []
    for x in (rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 2.0, n), rng.uniform(-0.5 * h, 0.5 * h, n)):
        analytic = layers.relu_backward(dout, (x,))
        numeric = numerical_gradient(lambda v: float(np.sum(layers.relu_forward(v)[0] * dout)), x.copy(), h=h)
        errors.append(rel_error(analytic, numeric))
    return ReluKink(*errors)


def kink_fails_the_check(result: ReluKink) -> bool:
    """Away from 0 the check passes; within h of the kink it reports a gradient that is wrong."""
    return gradients_agree(result.away) and gradient_check_band(result.kink) == "wrong"
