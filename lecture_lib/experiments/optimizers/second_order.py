"""The experiments of 04's section on second-order optimization: Newton's one step, the cost of a
Hessian, and BFGS / L-BFGS (:mod:`lecture_lib.optim`) against first-order methods, full batch and on
mini-batches."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ... import nets, optim
from ..._checks import as_rng, check_positive_int, check_scalar
from ...config import single_thread
from ...timing import TIMING_MARGIN
from .gradient_descent import loglog_slope, softmax_digits

__all__ = ["NEWTON_TOL", "OPTIMUM_ITERS", "LBFGS_GAIN", "LBFGS_LOSS", "FULL_BATCH", "MINI_BATCH",
           "Newton", "measure_newton", "newton_exact", "HessianCost", "measure_hessian_cost",
           "memory_quadratic", "time_cubic_within_margin", "QuasiNewtonComparison", "measure_lbfgs",
           "lbfgs_full_batch_wins", "lbfgs_minibatch_degrades"]

NEWTON_TOL = 1e-8    # one Newton step lands on a quadratic's minimum to this distance
OPTIMUM_ITERS = 100  # L-BFGS iterations that polish the reference optimum
LBFGS_GAIN = 10.0    # full batch: L-BFGS's excess loss 10x below the first-order methods'
LBFGS_LOSS = 2.0     # mini-batch: L-BFGS's excess loss 2x above the best first-order method's

# First-order settings (each the best of a small lr grid): full batch, and mini-batches of 32.
FULL_BATCH = {"momentum": (optim.SGD, {"lr": 1.0, "momentum": 0.9}), "adam": (optim.Adam, {"lr": 0.05})}
MINI_BATCH = {"momentum": (optim.SGD, {"lr": 0.03, "momentum": 0.9}), "adam": (optim.Adam, {"lr": 0.01})}


@dataclass(frozen=True)
class Newton:
    """Distance to the minimum of a random quadratic: at the start, after one Newton step, and after
    100 steps of tuned gradient descent."""

    n: int
    kappa: float
    start_error: float
    newton_error: float
    gd100_error: float


@single_thread()
def measure_newton(n: int = 20, kappa: float = 1e3, *, rng) -> Newton:
    """One Newton step on ``1/2 x^T A x - b^T x`` with condition number kappa."""
    rng, n, kappa = as_rng(rng), check_positive_int(n, "n", max=5000), check_scalar(kappa, "kappa", min=1.0)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.geomspace(1, 1 / kappa, n)) @ Q.T
    b = rng.standard_normal(n)
    x_star = np.linalg.solve(A, b)
    x0 = rng.standard_normal(n)
    x1 = x0 - np.linalg.solve(A, A @ x0 - b)          # Newton: x - H^-1 g, no learning rate
    x = x0.copy()
    for _ in range(100):
        x -= 2 / (1 + 1 / kappa) * (A @ x - b)
    return Newton(n, kappa, float(np.linalg.norm(x0 - x_star)), float(np.linalg.norm(x1 - x_star)),
                  float(np.linalg.norm(x - x_star)))


def newton_exact(r: Newton) -> bool:
    return r.newton_error < NEWTON_TOL


@dataclass(frozen=True)
class HessianCost:
    """Bytes of an n x n float64 Hessian and the best time to invert it, by n; the time ratio of the
    last two sizes against O(n^3)'s prediction."""

    sizes: tuple
    bytes: tuple
    seconds: tuple

    @property
    def time_ratio(self) -> float:
        return self.seconds[-1] / self.seconds[-2]

    @property
    def predicted_ratio(self) -> float:
        return (self.sizes[-1] / self.sizes[-2]) ** 3

    @property
    def time_slope(self) -> float:
        return loglog_slope(self.sizes[-2:], self.seconds[-2:])


def measure_hessian_cost(sizes=(200, 400, 800), repeats: int = 3, *, rng) -> HessianCost:
    """On one BLAS thread (several threads on a shared machine make small sizes noisy; one thread
    shows the scaling)."""
    rng, nbytes, secs = as_rng(rng), [], []
    with single_thread():
        for n in sizes:
            A = rng.standard_normal((check_positive_int(n, "sizes item", max=5000), n))
            H = A @ A.T / n + np.eye(n)
            nbytes.append(H.nbytes)
            best = math.inf
            for _ in range(check_positive_int(repeats, "repeats")):
                start = time.perf_counter()
                np.linalg.inv(H)
                best = min(best, time.perf_counter() - start)
            secs.append(best)
    return HessianCost(tuple(sizes), tuple(nbytes), tuple(secs))


def memory_quadratic(r: HessianCost) -> bool:
    return all(b == 8 * n * n for n, b in zip(r.sizes, r.bytes, strict=True))


def time_cubic_within_margin(r: HessianCost) -> bool:
    return r.predicted_ratio / TIMING_MARGIN <= r.time_ratio <= r.predicted_ratio * TIMING_MARGIN


@dataclass(frozen=True)
class QuasiNewtonComparison:
    """Softmax regression on the digits. Full batch: the loss after each iteration of L-BFGS (ours
    and torch's), BFGS, and SGD+momentum and Adam given as many gradient evaluations as our L-BFGS
    used. Mini-batch: each method's final full loss after the same mini-batches. ``optimum``: the
    best loss found by polishing, the reference for the excess losses."""

    evaluations: int
    n_params: int
    full: dict
    minibatch: dict
    optimum: float

    @property
    def excess_full(self) -> dict:
        return {k: float(v[-1] - self.optimum) for k, v in self.full.items()}

    @property
    def excess_minibatch(self) -> dict:
        return {k: float(v - self.optimum) for k, v in self.minibatch.items()}


def measure_lbfgs(iters: int = 40, n_batches: int = 300, batch_size: int = 32, reg: float = 1e-2, *,
                  rng) -> QuasiNewtonComparison:
    """On one thread (see :func:`~lecture_lib.config.single_thread`), torch included."""
    with single_thread():
        return _compare_quasi_newton(check_positive_int(iters, "iters"), check_positive_int(n_batches, "n_batches"),
                                     check_positive_int(batch_size, "batch_size"), reg, as_rng(rng))


def _compare_quasi_newton(iters, n_batches, batch_size, reg, rng) -> QuasiNewtonComparison:
    import torch

    X, y, _, _ = softmax_digits()
    shape = (X.shape[1], 10)

    def f_and_grad(w, idx=None):
        Xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        loss, dW, _ = nets.softmax_regression_loss(w.reshape(shape), None, Xb, yb, reg=reg)
        return loss, dW.ravel()

    x0 = np.zeros(shape[0] * shape[1])
    ours = optim.lbfgs(f_and_grad, x0, iters)
    full = {"numpy_lbfgs": ours.losses, "numpy_bfgs": optim.bfgs(f_and_grad, x0, iters).losses}
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    lb = torch.optim.LBFGS([w], lr=1, max_iter=iters, history_size=10, line_search_fn="strong_wolfe",
                           tolerance_grad=1e-12, tolerance_change=1e-14)
    seen = []

    def closure():
        lb.zero_grad()
        loss = torch.nn.functional.cross_entropy(Xt @ w, yt) + 0.5 * reg * (w * w).sum()
        loss.backward()
        seen.append(loss.item())
        return loss

    lb.step(closure)
    full["torch_lbfgs"] = np.array(seen)
    for name, (cls, kw) in FULL_BATCH.items():
        opt, w_np, losses = cls(**kw), x0.copy(), []
        for _ in range(ours.evaluations):
            loss, g = f_and_grad(w_np)
            losses.append(loss)
            opt.step([w_np], [g])
        full[name + "_full"] = np.array(losses + [f_and_grad(w_np)[0]])
    batches = [rng.choice(len(y), batch_size, replace=False) for _ in range(n_batches)]
    minibatch = {"lbfgs": f_and_grad(optim.lbfgs(f_and_grad, x0, n_batches, batches=batches).x)[0]}
    for name, (cls, kw) in MINI_BATCH.items():
        opt, w_np = cls(**kw), x0.copy()
        for idx in batches:
            opt.step([w_np], [f_and_grad(w_np, idx)[1]])
        minibatch[name] = f_and_grad(w_np)[0]
    # The reference optimum: L-BFGS continued from the end of torch's run (the best start).
    polish = optim.lbfgs(f_and_grad, w.detach().numpy().ravel().copy(), OPTIMUM_ITERS, gtol=1e-9)
    optimum = min(float(polish.losses.min()), *(float(np.min(full[k])) for k in ("numpy_lbfgs", "torch_lbfgs",
                                                                                  "numpy_bfgs")))
    return QuasiNewtonComparison(ours.evaluations, x0.size, full, minibatch, optimum)


def lbfgs_full_batch_wins(r: QuasiNewtonComparison) -> bool:
    e = r.excess_full
    return max(e["numpy_lbfgs"], e["torch_lbfgs"]) * LBFGS_GAIN <= min(e["momentum_full"], e["adam_full"])


def lbfgs_minibatch_degrades(r: QuasiNewtonComparison) -> bool:
    e = r.excess_minibatch
    return e["lbfgs"] >= LBFGS_LOSS * min(e["momentum"], e["adam"])
