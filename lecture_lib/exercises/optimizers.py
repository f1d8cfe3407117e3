"""Exercise of 04_optimizers: one step of Adam, with bias correction."""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, register


def _adam(x, dx, m, v, t, lr, beta1, beta2, eps, *, b1_sign=-1, t_shift=0, correct=True,
          plus_equals=False):
    m = beta1 * m + (1 + b1_sign * beta1) * dx
    v = (v + beta2 * v if plus_equals else beta2 * v) + (1 - beta2) * dx * dx
    with np.errstate(divide="ignore", invalid="ignore"):  # t - 1 = 0 divides by zero
        if correct:
            m_hat = m / (1 - beta1 ** (t + t_shift))
            v_hat = v / (1 - beta2 ** (t + t_shift))
        else:
            m_hat, v_hat = m, v
        return np.stack([x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v])


def _cases():
    rng = np.random.default_rng(4)
    cases = []
    for n, t, label in ((5, 3, "step t = 3"), (4, 1, "the first step, t = 1"),
                        (6, 10, "step t = 10")):
        x, dx = rng.normal(size=n), rng.normal(size=n)
        m = 0.1 * rng.normal(size=n) if t > 1 else np.zeros(n)
        v = 0.01 * rng.uniform(0.5, 2.0, size=n) if t > 1 else np.zeros(n)
        args = (x, dx, m, v, t, 0.01, 0.9, 0.999, 1e-8)
        mistakes = {
            "one-plus-beta1": ("the first moment uses (1 + beta1) * dx, the notes' typo: it "
                               "must be (1 - beta1) * dx, a weighted average",
                               _adam(*args, b1_sign=+1)),
            "t-from-zero": ("the bias correction uses t - 1 (the notes' loop starts at t = 0, "
                            "where 1 - beta ** 0 = 0): count steps from 1",
                            _adam(*args, t_shift=-1)),
            "no-bias-correction": ("no bias correction: divide m by (1 - beta1 ** t) and v by "
                                   "(1 - beta2 ** t) before the step",
                                   _adam(*args, correct=False)),
            "plus-equals": ("the second moment is updated with += (the notes' RMSProp typo): "
                            "v = beta2 * v + (1 - beta2) * dx**2, not v += ...",
                            _adam(*args, plus_equals=True)),
        }
        cases.append(Case(args, _adam(*args), mistakes, label))
    return cases


register(Exercise(
    name="adam_step",
    task=("adam_step(x, dx, m, v, t, lr, beta1, beta2, eps) -> (x_new, m_new, v_new): one Adam "
          "step at step t (counted from 1), with bias correction; inputs are not modified."),
    make_cases=_cases,
))
