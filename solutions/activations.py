"""Reference solutions (and canned mistakes) for the exercises of 01_activations."""

import numpy as np


def sigmoid_local_gradient(x):
    s = 1.0 / (1.0 + np.exp(-x))
    return s * (1.0 - s)


def elu_local_gradient(x, alpha):
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


SOLUTIONS = {"sigmoid_local_gradient": sigmoid_local_gradient, "elu_local_gradient": elu_local_gradient}


def _s(x):
    return 1.0 / (1.0 + np.exp(-x))


# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "sigmoid_local_gradient": {
        "formula on x": lambda x: x * (1 - x),
        "missing (1 - s)": lambda x: _s(x),
        "tanh's gradient": lambda x: 1 - _s(x) ** 2,
        "factor": lambda x: 2 * _s(x) * (1 - _s(x)),
        "sign": lambda x: _s(x) * (_s(x) - 1),
        "shape": lambda x: (_s(x) * (1 - _s(x))).ravel()[:-1],
        "none": lambda x: None,
        "exception": lambda x: x.sigmoid(),
    },
    "elu_local_gradient": {
        "exp everywhere": lambda x, alpha: alpha * np.exp(x),
        "output, not gradient": lambda x, alpha: np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1)),
        "missing +alpha": lambda x, alpha: np.where(x > 0, 1.0, alpha * (np.exp(np.minimum(x, 0)) - 1)),
        "missing alpha": lambda x, alpha: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))),
        "values": lambda x, alpha: np.where(x > 1, 1.0, alpha * np.exp(np.minimum(x, 0))),
        "none": lambda x, alpha: None,
    },
}
