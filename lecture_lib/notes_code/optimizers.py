"""The lecture notes' optimizer code (section *AdaGrad* to *Adam*), transcribed as written, typos
kept, for the errata of 04_optimizers.

Two changes only, so that it runs: ``while True:`` becomes ``for _ in range(num_iterations)``
(bounded), and ``compute_gradient`` and the starting point are arguments. Every other line is the
notes' line, including its mistakes:

- RMSProp: ``grad_squared += decay_rate * grad_squared + ...`` (should be ``=``);
- Adam (both versions): ``(1+beta1) * dx`` (should be ``(1-beta1)``);
- full Adam: ``for t in range(num_iterations)`` starts at t = 0, where ``1 - beta1 ** t`` is 0.

Each function returns the iterates (``num_iterations + 1`` rows) so the notebook can plot them.
The correct versions are :mod:`lecture_lib.optim` (and the updates written out in 04).
"""

from __future__ import annotations

import numpy as np

__all__ = ["adagrad", "rmsprop", "adam_reduced", "adam_full"]


def adagrad(compute_gradient, x, lr, num_iterations):
    x = np.array(x, dtype=np.float64)
    path = [x.copy()]
    grad_squared = 0
    for _ in range(num_iterations):  # notes: while True:
        dx = compute_gradient(x)
        grad_squared += dx*dx
        x -= lr * dx / (np.sqrt(grad_squared) + 1e-7)
        path.append(x.copy())
    return np.array(path)


def rmsprop(compute_gradient, x, lr, num_iterations, decay_rate=0.99):
    x = np.array(x, dtype=np.float64)
    path = [x.copy()]
    grad_squared = 0
    for _ in range(num_iterations):  # notes: while True:
        dx = compute_gradient(x)
        grad_squared += decay_rate * grad_squared + (1-decay_rate)*dx*dx  # notes' typo: +=
        x -= lr * dx / (np.sqrt(grad_squared) + 1e-7)
        path.append(x.copy())
    return np.array(path)


def adam_reduced(compute_gradient, x, lr, num_iterations, beta1=0.9, beta2=0.999):
    x = np.array(x, dtype=np.float64)
    path = [x.copy()]
    first_moment = 0
    second_moment = 0
    for _ in range(num_iterations):  # notes: while True:
        dx = compute_gradient(x)
        first_moment = beta1 * first_moment + (1+beta1) * dx # Momentum  (notes' typo: 1+beta1)
        second_moment = beta2 * second_moment + (1-beta2) * dx*dx
        x -= lr * first_moment / (np.sqrt(second_moment) + 1e-7)
        path.append(x.copy())
    return np.array(path)


def adam_full(compute_gradient, x, lr, num_iterations, beta1=0.9, beta2=0.999):
    x = np.array(x, dtype=np.float64)
    path = [x.copy()]
    first_moment = 0
    second_moment = 0
    with np.errstate(divide="ignore", invalid="ignore"):  # t = 0 divides by zero, as written
        for t in range(num_iterations):
            dx = compute_gradient(x)
            first_moment = beta1 * first_moment + (1+beta1) * dx # Momentum  (notes' typo)
            second_moment = beta2 * second_moment + (1-beta2) * dx*dx # AdaGrad/RMSProp
            first_unbias = first_moment / (1-beta1 ** t)
            second_unbias = second_moment / (1-beta2 ** t)
            x -= lr * first_unbias / (np.sqrt(second_unbias) + 1e-7)
            path.append(x.copy())
    return np.array(path)
