"""Input preprocessing (math only): zero-centring, normalizing, PCA and whitening, plus the
measurements that show what each step does to gradients and to training speed.

Statistics are always taken on the *training* split and then applied unchanged to every split.
Shapes: ``X`` is ``(N, D)``, one example per row, one feature (pixel) per column.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import layers
from .config import single_thread

STD_FLOOR = 1e-2   # the smallest std a feature is divided by (a blank pixel has std 0)
WHITEN_EPS = 1e-5  # added to each PCA variance before dividing by its square root


def _matrix(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} has shape {X.shape}; expected a non-empty (N, D) matrix")
    return X


def _nonneg(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{name}={value!r} is not valid; expected a non-negative finite number")
    return float(value)


# --------------------------------------------------------------------------- the transforms
def fit_standardizer(X_train, std_floor: float = STD_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std of the training split; the std is floored at ``std_floor`` so a
    constant feature is divided by the floor, not by zero."""
    X_train = _matrix(X_train, "X_train")
    std_floor = _nonneg(std_floor, "std_floor")
    if std_floor == 0:
        raise ValueError("std_floor=0 is not valid; expected a positive floor (constant pixels have std 0)")
    return X_train.mean(axis=0), np.maximum(X_train.std(axis=0), std_floor)


def zero_center(X, mean) -> np.ndarray:
    """``X - mean`` (mean from the training split)."""
    X = _matrix(X)
    mean = np.asarray(mean, dtype=np.float64)
    if mean.shape != (X.shape[1],):
        raise ValueError(f"mean has shape {mean.shape}; expected ({X.shape[1]},)")
    return X - mean


def normalize(X, mean, std) -> np.ndarray:
    """``(X - mean) / std`` (statistics from the training split)."""
    std = np.asarray(std, dtype=np.float64)
    if std.shape != (np.shape(X)[-1],) or np.any(std <= 0):
        raise ValueError(f"std must be positive with shape ({np.shape(X)[-1]},); got shape {std.shape}")
    return zero_center(X, mean) / std


@dataclass
class PCA:
    """``mean`` (D,), ``components`` (D, D) with one unit eigenvector per column, sorted by
    ``variances`` (D,), largest first."""

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray

    def explained(self, k: int) -> float:
        """Fraction of the total variance in the first ``k`` components."""
        return float(self.variances[:k].sum() / self.variances.sum())


def pca_fit(X_train) -> PCA:
    """Eigen-decomposition of the training split's covariance matrix."""
    X_train = _matrix(X_train, "X_train")
    mean = X_train.mean(axis=0)
    Xc = X_train - mean
    cov = Xc.T @ Xc / len(Xc)
    variances, vectors = np.linalg.eigh(cov)
    order = np.argsort(variances)[::-1]
    return PCA(mean, vectors[:, order], np.maximum(variances[order], 0.0))


def _k(pca: PCA, k) -> int:
    D = len(pca.variances)
    if k is None:
        return D
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= D:
        raise ValueError(f"k={k!r} is not valid; expected an integer in [1, {D}] (or None for all)")
    return int(k)


def pca_project(X, pca: PCA, k: int | None = None) -> np.ndarray:
    """Coordinates of ``X`` on the first ``k`` principal axes (decorrelated features): (N, k)."""
    k = _k(pca, k)
    return zero_center(X, pca.mean) @ pca.components[:, :k]


def whiten(X, pca: PCA, k: int | None = None, eps: float = WHITEN_EPS) -> np.ndarray:
    """PCA whitening: project on the first ``k`` axes and divide each by sqrt(variance + eps), so
    the training split's covariance becomes (nearly) the identity."""
    eps = _nonneg(eps, "eps")
    k = _k(pca, k)
    return pca_project(X, pca, k) / np.sqrt(pca.variances[:k] + eps)


# --------------------------------------------------------------------------- measurements
def sign_locked_fraction(X, delta) -> float:
    """For a neuron with input rows ``X`` (N, D) and upstream gradients ``delta`` (N,), the
    per-example weight gradient is ``delta[n] * X[n]``. Returns the fraction of examples whose
    gradient has all its non-zero components of ONE sign. With all-positive inputs it is 1: every
    single-example update moves all weights of the neuron up together, or down together."""
    X = _matrix(X)
    delta = np.asarray(delta, dtype=np.float64)
    if delta.shape != (len(X),):
        raise ValueError(f"delta has shape {delta.shape}; expected ({len(X)},)")
    g = np.sign(X * delta[:, None])
    has_pos = np.any(g > 0, axis=1)
    has_neg = np.any(g < 0, axis=1)
    return float(np.mean(~(has_pos & has_neg)))


def coupling(X, tol: float = 1e-10) -> float:
    """Mean |cosine| between pairs of features over the examples: the off-diagonal of the
    normalized second-moment matrix E[x x^T]. For a linear layer that matrix is the curvature
    that couples the weights' gradients; 0 means the gradient components are uncorrelated.
    Features that are zero on every example are left out."""
    X = _matrix(X)
    M = X.T @ X / len(X)
    d = np.sqrt(np.diag(M))
    keep = d > tol
    if keep.sum() < 2:
        return 0.0
    R = M[np.ix_(keep, keep)] / np.outer(d[keep], d[keep])
    off = ~np.eye(int(keep.sum()), dtype=bool)
    return float(np.mean(np.abs(R[off])))


def curvature_extremes(X, rel_tol: float = 1e-6) -> tuple[float, float]:
    """Largest and smallest non-negligible eigenvalue of E[x x^T] (the Hessian of a linear
    least-squares model, up to a constant). The largest caps the stable learning rate; the
    ratio is the condition number."""
    X = _matrix(X)
    e = np.linalg.eigvalsh(X.T @ X / len(X))
    e = e[e > rel_tol * e.max()]
    return float(e.max()), float(e.min())


def softmax_loss_grad(W, b, X, y):
    """Mean softmax cross-entropy of the linear classifier ``X @ W + b`` and its gradients
    ``(loss, dW, db)``."""
    loss, d = layers.softmax_loss(X @ W + b, y)
    return loss, X.T @ d, d.sum(axis=0)


def steps_to_loss(X, y, lr: float, target: float, max_steps: int = 500,
                  n_classes: int | None = None) -> int | None:
    """Full-batch gradient descent on a softmax classifier from zero weights: the number of
    steps until the training loss is at most ``target`` (None if not within ``max_steps`` or
    if the loss diverges)."""
    X = _matrix(X)
    y = np.asarray(y)
    if not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} is not valid; expected a positive number")
    k = int(n_classes) if n_classes is not None else int(y.max()) + 1
    W = np.zeros((X.shape[1], k))
    b = np.zeros(k)
    first = None
    with single_thread():
        for step in range(int(max_steps) + 1):
            loss, dW, db = softmax_loss_grad(W, b, X, y)
            first = loss if first is None else first
            if not math.isfinite(loss) or loss > 10 * first:
                return None
            if loss <= target:
                return step
            W -= lr * dW
            b -= lr * db
    return None


@dataclass
class SpeedResult:
    steps: int | None        # fewest steps to the target over the learning rates tried
    lr: float | None         # the learning rate that achieved it
    tried: dict              # lr -> steps (None: not reached or diverged; skipped lrs absent)


def tuned_steps_to_loss(X, y, lrs: Sequence[float], target: float, max_steps: int = 500) -> SpeedResult:
    """:func:`steps_to_loss` with the learning rate tuned over ``lrs``: the fairest comparison
    between preprocessings, since each gets its own best rate. Rates are tried from the largest
    down, and a run stops as soon as it needs more steps than the best so far."""
    if len(lrs) == 0:
        raise ValueError("lrs is empty; expected at least one learning rate")
    best, best_lr, tried = None, None, {}
    for lr in sorted(lrs, reverse=True):
        budget = max_steps if best is None else best - 1
        if budget < 0:
            break
        s = steps_to_loss(X, y, lr, target, budget)
        tried[lr] = s
        if s is not None:
            best, best_lr = s, lr
    return SpeedResult(best, best_lr, tried)


# Verdict predicates of the notebook, each tested on the opposite experiment.
SPEEDUP_FACTOR = 3.0  # "speeds up training": at least 3x fewer steps with each its best rate


def speeds_up(before: SpeedResult, after: SpeedResult, factor: float = SPEEDUP_FACTOR) -> bool:
    """``after`` reaches the target at least ``factor`` times sooner than ``before``."""
    if after.steps is None:
        return False
    if before.steps is None:
        return True
    return bool(before.steps >= factor * max(after.steps, 1))


def still_coupled(X, threshold: float = 0.05) -> bool:
    """The features (hence a linear layer's gradient components) remain correlated."""
    return coupling(X) > threshold
