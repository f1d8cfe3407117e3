"""The k-nearest-neighbour classifier, the cheapest model whose hyperparameter (k) is chosen by
cross-validation, the NumPy core of scikit-learn's ``KNeighborsClassifier`` (uniform weights,
Euclidean distance; a tied vote goes to the smallest label, as there).

Training is storing the examples; predicting sorts each query's distances to them and takes a vote
among the k nearest. One sort serves every k at once (:func:`knn_votes`), which is what makes a
cross-validation over many values of k and many shuffles cost a fraction of a second.

Math only: no plotting, widgets or torch here.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_array, check_int, check_positive_int


def squared_distances(A, B) -> np.ndarray:
    """``D[i, j] = ||A[i] - B[j]||^2`` for A (N, D) and B (M, D), clipped at 0 against rounding."""
    A = check_array(A, "A", ndim=2)
    B = check_array(B, "B", shape=(None, A.shape[1]))
    D = np.sum(A * A, axis=1)[:, None] - 2.0 * A @ B.T + np.sum(B * B, axis=1)[None, :]
    return np.maximum(D, 0.0)


def knn_votes(distances, y_train, ks, n_classes: int) -> np.ndarray:
    """Predicted labels (len(ks), M) for M queries with ``distances`` (M, N) to N training
    examples labelled ``y_train``, for each k in ``ks``."""
    distances = check_array(distances, "distances", ndim=2)
    y_train = check_array(y_train, "y_train", kind="int", shape=(distances.shape[1],))
    n_classes = check_positive_int(n_classes, "n_classes")
    ks = [check_int(k, "k", min=1, max=distances.shape[1]) for k in np.atleast_1d(ks).tolist()]
    order = np.argsort(distances, axis=1, kind="stable")[:, : max(ks)]
    onehot = np.eye(n_classes, dtype=np.int32)[y_train[order]]       # (M, K, C)
    counts = np.cumsum(onehot, axis=1)                                # votes among the first k
    return np.stack([np.argmax(counts[:, k - 1], axis=1) for k in ks])  # argmax: smallest label on ties


def knn_predict(X_train, y_train, X_query, k: int, n_classes: int | None = None) -> np.ndarray:
    """Labels of ``X_query`` by a vote of their k nearest training examples."""
    X_train = check_array(X_train, "X_train", ndim=2)
    y_train = check_array(y_train, "y_train", kind="int", shape=(len(X_train),))
    k = check_int(k, "k", min=1, max=len(X_train))
    n_classes = int(y_train.max()) + 1 if n_classes is None else n_classes
    return knn_votes(squared_distances(X_query, X_train), y_train, [k], n_classes)[0]
