"""Reference solution (and canned mistakes) for the exercise of 00_start_here."""

import numpy as np


def standardize(X):
    return (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-2)


SOLUTIONS = {"standardize": standardize}

# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "standardize": {
        "rows": lambda X: (X - X.mean(axis=1, keepdims=True)) / np.maximum(X.std(axis=1, keepdims=True), 1e-2),
        "not centred": lambda X: X / np.maximum(X.std(axis=0), 1e-2),
        "variance": lambda X: (X - X.mean(axis=0)) / np.maximum(X.var(axis=0), 1e-2),
        "nan": lambda X: (X - X.mean(axis=0)) / X.std(axis=0),
        "sign": lambda X: (X.mean(axis=0) - X) / np.maximum(X.std(axis=0), 1e-2),
        "none": lambda X: None,
        "exception": lambda X: X.mean(axis=2),
    },
}
