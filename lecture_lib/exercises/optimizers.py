"""Exercise of 04_optimizers: one step of Adam, with bias correction.

The answer is compared part by part, ``(x_new, m_new, v_new)``, so the message names the wrong part
and the mistake: the notes' typos (``one-plus-beta1``, ``t-from-zero``, ``plus-equals``), a missing
bias correction, a step up the gradient, a missing square root, or the bias-corrected moments
returned as the state.
"""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, compare_parts, register

PARTS = ("x_new", "m_new", "v_new")


def _adam(x, dx, m, v, t, lr, beta1, beta2, eps, *, b1_sign=-1, t_shift=0, correct=True,
          plus_equals=False, step_sign=-1, root=True, corrected_state=False):
    """One Adam step and, through the keywords, each known way of getting it wrong."""
    m = beta1 * m + (1 + b1_sign * beta1) * dx
    v = (v + beta2 * v if plus_equals else beta2 * v) + (1 - beta2) * dx * dx
    with np.errstate(divide="ignore", invalid="ignore"):  # t - 1 = 0 divides by zero
        if correct:
            m_hat = m / (1 - beta1 ** (t + t_shift))
            v_hat = v / (1 - beta2 ** (t + t_shift))
        else:
            m_hat, v_hat = m, v
        scale = np.sqrt(v_hat) if root else v_hat
        x_new = x + step_sign * lr * m_hat / (scale + eps)
    if corrected_state:
        return x_new, m_hat, v_hat
    return x_new, m, v


def _mistake(args, message, parts, **how):
    wrong = _adam(*args, **how)
    return message, {name: wrong[PARTS.index(name)] for name in parts}


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
            "one-plus-beta1": _mistake(
                args, "m_new uses (1 + beta1) * dx, the notes' typo: it must be (1 - beta1) * dx, so "
                      "that m is a weighted average of the gradients", ("x_new", "m_new"), b1_sign=+1),
            "plus-equals": _mistake(
                args, "v_new is updated with += (the notes' RMSProp typo): v = beta2 * v + "
                      "(1 - beta2) * dx**2, not v += ...", ("x_new", "v_new"), plus_equals=True),
            "corrected-state": _mistake(
                args, "m_new and v_new are the bias-corrected moments m / (1 - beta1**t) and "
                      "v / (1 - beta2**t): those serve only this step's update; return the raw "
                      "running averages m and v, which the next step keeps averaging",
                ("m_new", "v_new"), corrected_state=True),
            "t-from-zero": _mistake(
                args, "the bias correction uses t - 1 (the notes' loop starts at t = 0, where "
                      "1 - beta ** 0 = 0): count steps from 1", ("x_new",), t_shift=-1),
            "no-bias-correction": _mistake(
                args, "no bias correction: divide m by (1 - beta1 ** t) and v by "
                      "(1 - beta2 ** t) before the step", ("x_new",), correct=False),
            "step-sign": _mistake(
                args, "it moves up the gradient: the step is subtracted, "
                      "x_new = x - lr * m_hat / (sqrt(v_hat) + eps)", ("x_new",), step_sign=+1),
            "missing-sqrt": _mistake(
                args, "it divides by v_hat, not by its square root: v averages squared gradients, "
                      "so sqrt(v_hat) is on the gradients' scale", ("x_new",), root=False),
        }
        cases.append(Case(args, _adam(*args), mistakes, label))
    return cases


register(Exercise(
    name="adam_step",
    task=("adam_step(x, dx, m, v, t, lr, beta1, beta2, eps) -> (x_new, m_new, v_new): one Adam "
          "step at step t (counted from 1), with bias correction; inputs are not modified."),
    make_cases=_cases,
    compare=compare_parts(PARTS),
))
