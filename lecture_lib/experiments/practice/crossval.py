"""cv.k-fold: the k of a nearest-neighbour classifier chosen by one split or by k folds, over many
shuffles of a small development set of digits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import crossval, knn
from ..._checks import as_rng, check_int
from .runs import N_CLASSES, digits64


# --------------------------------------------------------------------------- cv.k-fold
@dataclass(frozen=True)
class KFoldChoice:
    """k of a nearest-neighbour classifier chosen on a small development set, over data shuffles."""

    ks: tuple
    folds: int
    n_dev: int
    truth: np.ndarray        # held-out accuracy of each k (trained on a training fold's size)
    fold_scores: np.ndarray  # (shuffles, len(ks), folds): each fold's validation accuracy

    @property
    def single(self) -> np.ndarray:
        """Single-split estimates: each fold of each shuffle is one split of the development set
        (shuffles * folds, len(ks))."""
        return self.fold_scores.transpose(0, 2, 1).reshape(-1, len(self.ks))

    @property
    def k_fold(self) -> np.ndarray:
        return self.fold_scores.mean(axis=2)

    @property
    def best(self) -> int:
        return int(np.argmax(self.truth))

    def picks_best(self, estimates) -> float:
        return float(np.mean(np.argmax(estimates, axis=1) == self.best))

    def regret(self, estimates) -> float:
        """Mean held-out accuracy lost by choosing k from ``estimates`` instead of the best k."""
        return float(np.mean(self.truth.max() - self.truth[np.argmax(estimates, axis=1)]))


SPREAD_RATIO = 0.6  # k-fold's spread of the estimate at most 0.6x a single split's


def measure_k_fold(rng, *, n_dev: int = 200, folds: int = 5, ks=(1, 3, 5, 7, 9, 15), shuffles: int = 60,
                   truth_shuffles: int = 10) -> KFoldChoice:
    """Each shuffle of the 1077 training images makes a development set (its first ``n_dev``
    images) cut into ``folds`` folds; every fold scores every k. The truth is the accuracy on the
    720 held-out images (validation + test splits) of the fold models of the first
    ``truth_shuffles`` shuffles: what a model trained on a fold's worth of images really achieves."""
    rng = as_rng(rng)
    d = digits64()
    n_dev = check_int(n_dev, "n_dev", min=2, max=len(d.X_train))
    folds = crossval.check_folds(folds, n_dev)
    X_held, y_held = np.concatenate([d.X_val, d.X_test]), np.concatenate([d.y_val, d.y_test])
    D, D_held = knn.squared_distances(d.X_train, d.X_train), knn.squared_distances(X_held, d.X_train)
    scores = np.zeros((shuffles, len(ks), folds))
    truth = np.zeros(len(ks))
    for r in range(shuffles):
        dev = rng.permutation(len(d.X_train))[:n_dev]
        for i, (tr, va) in enumerate(crossval.k_fold_indices(n_dev, folds)):
            train, val = dev[tr], dev[va]
            scores[r, :, i] = (knn.knn_votes(D[np.ix_(val, train)], d.y_train[train], ks, N_CLASSES)
                               == d.y_train[val]).mean(axis=1)
            if r < truth_shuffles:
                truth += (knn.knn_votes(D_held[:, train], d.y_train[train], ks, N_CLASSES) == y_held).mean(axis=1)
    return KFoldChoice(tuple(ks), folds, n_dev, truth / (min(shuffles, truth_shuffles) * folds), scores)


def k_fold_steadier(r: KFoldChoice) -> bool:
    """k-fold's estimate of the best k varies at most :data:`SPREAD_RATIO` times a single split's."""
    return float(r.k_fold[:, r.best].std() / r.single[:, r.best].std()) <= SPREAD_RATIO
