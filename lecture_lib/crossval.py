"""k-fold cross-validation, the NumPy core of scikit-learn's ``KFold``.

The n examples (in their given order, or in the order ``order`` when shuffled first) are cut into k
contiguous folds; the first ``n % k`` folds hold one example more than the others. Fold i is the
validation set of round i, the other k - 1 folds its training set, so every example is validated
exactly once::

    for train_idx, val_idx in k_fold_indices(n=10, k=5):
        ...                                    # val_idx: [0, 1], then [2, 3], ...

``k_fold_indices(n, k)`` equals ``KFold(n_splits=k).split`` and, with
``order=np.random.RandomState(s).permutation(n)``, ``KFold(k, shuffle=True, random_state=s)``
(tests/test_practice.py checks both).

Math only: no plotting, widgets or torch here.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_array, check_int, check_positive_int


def check_folds(k, n: int) -> int:
    """k folds of n examples: an integer with 2 <= k <= n."""
    n = check_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n={n} is not valid; expected at least 2 examples to cross-validate")
    return check_int(k, "k", min=2, max=n)


def fold_sizes(n: int, k: int) -> np.ndarray:
    """Sizes of the k folds: n // k each, plus one for the first n % k folds."""
    k = check_folds(k, n)
    sizes = np.full(k, n // k, dtype=int)
    sizes[: n % k] += 1
    return sizes


def fold_ids(n: int, k: int) -> np.ndarray:
    """The fold (0 .. k-1) of each position 0 .. n-1 in the splitting order."""
    return np.repeat(np.arange(check_folds(k, n)), fold_sizes(n, k))


def k_fold_indices(n: int, k: int, order=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(train_idx, val_idx), ...]`` for the k rounds; ``order`` (a permutation of 0 .. n-1) is
    the order in which the examples are cut into folds (shuffling), the identity by default.
    Indices within each set are sorted, as scikit-learn returns them."""
    k = check_folds(k, n)
    if order is None:
        order = np.arange(n)
    else:
        order = check_array(order, "order", kind="int", shape=(n,))
        if not np.array_equal(np.sort(order), np.arange(n)):
            raise ValueError(f"order is not a permutation of 0..{n - 1}; expected each index exactly once")
    ids = fold_ids(n, k)
    rounds = []
    for i in range(k):
        val = np.sort(order[ids == i])
        train = np.sort(order[ids != i])
        rounds.append((train, val))
    return rounds


def cross_val_scores(fit_score, n: int, k: int, order=None) -> np.ndarray:
    """The k validation scores of ``fit_score(train_idx, val_idx) -> float``."""
    return np.array([float(fit_score(tr, va)) for tr, va in k_fold_indices(n, k, order)])
