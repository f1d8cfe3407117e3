"""Input preprocessing (math only): zero-centring, normalizing, PCA and whitening.

Statistics are always taken on the *training* split and then applied unchanged to every split.
Shapes: ``X`` is ``(N, D)``, one example per row, one feature (pixel) per column. Integer inputs
(pixels stored as uint8) are read as float64, never wrapped around.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_array, check_int, check_positive, check_scalar

STD_FLOOR = 1e-2   # the smallest std a feature is divided by (a blank pixel has std 0)
WHITEN_EPS = 1e-5  # added to each PCA variance before dividing by its square root


def as_matrix(X, name: str = "X") -> np.ndarray:
    """``X`` as a non-empty (N, D) float64 matrix of finite numbers (integers are converted)."""
    X = check_array(X, name, ndim=2, kind="real", nonempty=True, finite=True)
    if X.shape[1] == 0:
        raise ValueError(f"{name} has shape {X.shape}; expected at least one feature")
    return X.astype(np.float64, copy=False)


def _vector(v, name: str, size: int) -> np.ndarray:
    return check_array(v, name, shape=(size,), kind="real", finite=True).astype(np.float64, copy=False)


# --------------------------------------------------------------------------- the transforms
def fit_standardizer(X_train, std_floor: float = STD_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std of the training split; the std is floored at ``std_floor`` so a
    constant feature is divided by the floor, not by zero."""
    X_train = as_matrix(X_train, "X_train")
    std_floor = check_positive(std_floor, "std_floor")
    return X_train.mean(axis=0), np.maximum(X_train.std(axis=0), std_floor)


def zero_center(X, mean) -> np.ndarray:
    """``X - mean`` (mean from the training split)."""
    X = as_matrix(X)
    return X - _vector(mean, "mean", X.shape[1])


def normalize(X, mean, std) -> np.ndarray:
    """``(X - mean) / std`` (statistics from the training split)."""
    X = as_matrix(X)
    std = _vector(std, "std", X.shape[1])
    if np.any(std <= 0):
        raise ValueError(f"std holds {std.min():g}; expected positive stds (floor them with fit_standardizer)")
    return zero_center(X, mean) / std


@dataclass(frozen=True)
class PCA:
    """``mean`` (D,), ``components`` (D, D) with one unit eigenvector per column, sorted by
    ``variances`` (D,), largest first."""

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray

    def explained(self, k: int) -> float:
        """Fraction of the total variance in the first ``k`` components."""
        k = _k(self, k)
        return float(self.variances[:k].sum() / self.variances.sum())

    def components_for(self, share: float) -> int:
        """The fewest components that hold at least ``share`` of the variance."""
        share = check_scalar(share, "share", min=0.0, max=1.0, min_inclusive=False)
        cumulative = np.cumsum(self.variances) / self.variances.sum()
        return int(min(np.searchsorted(cumulative, share) + 1, len(cumulative)))


def pca_fit(X_train) -> PCA:
    """Eigen-decomposition of the training split's covariance matrix."""
    X_train = as_matrix(X_train, "X_train")
    mean = X_train.mean(axis=0)
    Xc = X_train - mean
    cov = Xc.T @ Xc / len(Xc)
    variances, vectors = np.linalg.eigh(cov)
    order = np.argsort(variances)[::-1]
    return PCA(mean, vectors[:, order], np.maximum(variances[order], 0.0))


def _k(pca: PCA, k) -> int:
    if not isinstance(pca, PCA):
        raise TypeError(f"pca of type {type(pca).__name__} is not valid; expected a PCA from pca_fit")
    D = len(pca.variances)
    return D if k is None else check_int(k, "k", min=1, max=D)


def pca_project(X, pca: PCA, k: int | None = None) -> np.ndarray:
    """Coordinates of ``X`` on the first ``k`` principal axes (decorrelated features): (N, k)."""
    k = _k(pca, k)
    return zero_center(X, pca.mean) @ pca.components[:, :k]


def whiten(X, pca: PCA, k: int | None = None, eps: float = WHITEN_EPS) -> np.ndarray:
    """PCA whitening: project on the first ``k`` axes and divide each by sqrt(variance + eps), so
    the training split's covariance becomes (nearly) the identity."""
    eps = check_scalar(eps, "eps", min=0.0)
    k = _k(pca, k)
    return pca_project(X, pca, k) / np.sqrt(pca.variances[:k] + eps)
