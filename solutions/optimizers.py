"""Reference solution (and canned mistakes) for the exercise of 04_optimizers."""

import numpy as np


def adam_step(x, dx, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * dx
    v = beta2 * v + (1 - beta2) * dx * dx
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _variant(b1=-1, shift=0, correct=True, plus_equals=False, sign=-1, root=True, corrected_state=False):
    def step(x, dx, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 + b1 * beta1) * dx
        v = (v + beta2 * v if plus_equals else beta2 * v) + (1 - beta2) * dx * dx
        if correct:
            m_hat, v_hat = m / (1 - beta1 ** (t + shift)), v / (1 - beta2 ** (t + shift))
        else:
            m_hat, v_hat = m, v
        x_new = x + sign * lr * m_hat / ((np.sqrt(v_hat) if root else v_hat) + eps)
        return (x_new, m_hat, v_hat) if corrected_state else (x_new, m, v)
    return step


SOLUTIONS = {"adam_step": adam_step}

# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "adam_step": {
        "one-plus-beta1": _variant(b1=+1),
        "t-from-zero": _variant(shift=-1),
        "no-bias-correction": _variant(correct=False),
        "plus-equals": _variant(plus_equals=True),
        "step-sign": _variant(sign=+1),
        "missing-sqrt": _variant(root=False),
        "corrected-state": _variant(corrected_state=True),
        "none": lambda x, dx, m, v, t, lr, beta1, beta2, eps: None,
        "type": lambda x, dx, m, v, t, lr, beta1, beta2, eps: np.stack(adam_step(x, dx, m, v, t, lr, beta1,
                                                                                 beta2, eps)),
        "exception": lambda x, dx, m, v, t, lr, beta1, beta2, eps: x @ np.ones((2, 2)),
    },
}
