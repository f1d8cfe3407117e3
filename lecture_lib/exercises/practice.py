"""Exercises of 09_training_practice: a k-fold split, and choosing a hyperparameter by
cross-validation.

The second checker hands the student's function a ``fit_predict`` that records what it is given
(the examples of X carry their id in column 0, which the model ignores), so the diagnosis can
name the mistake from what was trained and scored: folds that overlap or miss examples, a score
computed on the training fold, or shuffling that splits the image/copy pairs of the data and so
leaks each validation image's copy into training."""

from __future__ import annotations

import numpy as np

from .. import crossval, knn
from . import Case, Exercise, diagnose_array, register

# --------------------------------------------------------------------------- k_fold_split


def _as_rounds(got, n):
    """The answer as a list of (train, val) integer arrays, or a message saying why it is not."""
    if not isinstance(got, (list, tuple)):
        return None, f"expected a list of (train_idx, val_idx) pairs, got {type(got).__name__}"
    rounds = []
    for r, pair in enumerate(got):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return None, f"round {r + 1} is not a (train_idx, val_idx) pair"
        try:
            train, val = (np.asarray(a).astype(int).ravel() for a in pair)
        except (TypeError, ValueError):
            return None, f"round {r + 1} does not hold arrays of indices"
        if np.any((train < 0) | (train >= n)) or np.any((val < 0) | (val >= n)):
            return None, f"round {r + 1} holds indices outside 0..{n - 1}"
        rounds.append((train, val))
    return rounds, ""


def split_problems(rounds, n: int, k: int):
    """The first structural fault of k rounds of (train, val) index arrays over n examples, as
    (tag, message), or None when they form a partition into k validation folds."""
    if len(rounds) != k:
        return "count", f"{len(rounds)} rounds; expected k = {k}, one per fold"
    seen = np.zeros(n, int)
    for _, val in rounds:
        np.add.at(seen, val, 1)
    if np.any(seen > 1):
        i = int(np.argmax(seen > 1))
        return "overlap", (f"validation folds overlap: example {i} is validated {seen[i]} times; the folds "
                           "must be disjoint (fold sizes n // k, plus one for the first n % k folds)")
    if np.any(seen == 0):
        missing = np.flatnonzero(seen == 0)
        return "missing", (f"the validation folds miss {missing.size} example(s) (first: {missing[0]}), which "
                           "are never validated: give the first n % k folds one example more")
    for r, (train, val) in enumerate(rounds, start=1):
        if np.intersect1d(train, val).size:
            return "val-in-train", (f"round {r} trains on its own validation examples "
                                    f"({np.intersect1d(train, val).size} of them): train on the other folds only")
        if np.union1d(train, val).size != n:
            return "train-incomplete", (f"round {r} leaves {n - np.union1d(train, val).size} example(s) out of "
                                        "training: train on every example outside the validation fold")
    return None


NO_RETURN = ("none", "your function returned None; did you forget `return`?")


def _compare_split(got, case):
    n, k = case.args
    if got is None:
        return NO_RETURN
    rounds, why = _as_rounds(got, n)
    if rounds is None:
        return "type", why
    problem = split_problems(rounds, n, k)
    if problem is not None:
        return problem
    sizes = [v.size for _, v in rounds]
    if n % k and sizes == [n // k] * (k - 1) + [n // k + n % k]:
        return "remainder-last", (f"fold sizes {sizes}: the remainder all went to the last fold; KFold gives "
                                  f"the first n % k = {n % k} folds one example more")
    for r, ((train, val), (exp_train, exp_val)) in enumerate(zip(rounds, case.expected, strict=True), start=1):
        if not (np.array_equal(np.sort(val), exp_val) and np.array_equal(np.sort(train), exp_train)):
            return "order", (f"a valid partition, but not KFold's: round {r} should validate examples "
                             f"{exp_val[0]}..{exp_val[-1]} (contiguous folds, in order)")
    return None, "matches KFold"


def _split_cases():
    return [Case((n, k), crossval.k_fold_indices(n, k), {}, f"n={n}, k={k}")
            for n, k in ((10, 5), (10, 3), (23, 5), (7, 2), (12, 4))]


register(Exercise(
    name="k_fold_split",
    task=("k_fold_split(n, k) -> [(train_idx, val_idx), ...]: k rounds over examples 0..n-1 in order, "
          "fold i validating the i-th contiguous block; the first n % k folds hold one example more "
          "(scikit-learn's KFold without shuffling)."),
    make_cases=_split_cases,
    compare=_compare_split,
))


# --------------------------------------------------------------------------- choose_by_cross_validation
PAIRS, FOLDS, KS = 30, 5, (1, 3, 5, 9)


class RecordingModel:
    """``fit_predict(X_train, y_train, X_query, value)``: a ``value``-nearest-neighbour classifier
    on the pixels (columns 1..), that records the ids (column 0) it trains on and predicts."""

    def __init__(self):
        self.calls: list[tuple[np.ndarray, np.ndarray, object]] = []

    def __call__(self, X_train, y_train, X_query, value):
        X_train, X_query = np.asarray(X_train, float), np.asarray(X_query, float)
        self.calls.append((X_train[:, 0].astype(int), X_query[:, 0].astype(int), value))
        return knn.knn_predict(X_train[:, 1:], np.asarray(y_train), X_query[:, 1:], int(value), n_classes=10)


def paired_digits(pairs: int = PAIRS, seed: int = 9):
    """``2 * pairs`` rows: each digit image followed by its augmented copy (a little noise added);
    column 0 is the row's id."""
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(seed)
    bunch = load_digits()
    pick = rng.choice(len(bunch.target), pairs, replace=False)
    images = bunch.data[pick] / 16.0
    rows = np.empty((2 * pairs, images.shape[1]))
    rows[0::2], rows[1::2] = images, images + rng.normal(0, 0.03, images.shape)
    return np.c_[np.arange(2 * pairs), rows], np.repeat(bunch.target[pick], 2)


def reference_choice(X, y, values, k, fit_predict):
    scores = []
    for value in values:
        accs = [np.mean(fit_predict(X[tr], y[tr], X[va], value) == y[va])
                for tr, va in crossval.k_fold_indices(len(X), k)]
        scores.append(np.mean(accs))
    scores = np.array(scores)
    return scores, values[int(np.argmax(scores))]


def _call_problems(calls, n, k, values):
    """Name the mistake visible in what the model was given, or None."""
    for value in values:
        rounds = [(tr, q) for tr, q, v in calls if v == value]
        if any(np.isin(q, tr).all() and q.size == tr.size for tr, q in rounds):
            return "train-fold-score", (f"for value {value} the model predicted its own training fold: score each "
                                        "round on its validation fold, which the model never saw")
        problem = split_problems(rounds, n, k)
        if problem is not None:
            return problem
        for r, (tr, q) in enumerate(rounds, start=1):
            partners = q ^ 1  # ids 2i and 2i + 1 are an image and its copy
            leaked = np.isin(partners, tr).sum()
            if leaked:
                return "shuffle-leak", (f"round {r} validates {leaked} image(s) whose copy it trained on: shuffling "
                                        "split the image/copy pairs, so validation sees near-duplicates of the "
                                        "training set and the score is inflated; split in order to keep pairs "
                                        "together (or split by group)")
    return None


def _compare_choice(got, case):
    X, y, values, k, model = case.args
    if not model.calls:
        return "not-called", "fit_predict was never called: train and score one model per fold and value"
    problem = _call_problems(model.calls, len(X), k, values)
    if problem is not None:
        tag, message = problem
        try:
            scores = np.asarray(got[0], float)
            message += (f" (your score for value {values[0]}: {scores[0]:.2f}; without the leak: "
                        f"{case.expected[0][0]:.2f})") if tag == "shuffle-leak" else ""
        except (TypeError, IndexError, ValueError):
            pass
        return tag, message
    if got is None:
        return NO_RETURN
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "type", f"expected (scores, best_value), got {type(got).__name__}"
    scores, best = got
    exp_scores, exp_best = case.expected
    tag, message = diagnose_array(scores, exp_scores)
    if tag is not None:
        return tag, f"scores are wrong: {message}"
    if best != exp_best:
        if best == values[int(np.argmin(exp_scores))]:
            return "argmin", f"best_value {best} has the lowest score; choose the value with the highest mean score"
        return "best", f"best_value {best}; expected {exp_best}, the value with the highest mean score"
    return None, "matches the reference"


def _choice_cases():
    X, y = paired_digits()
    reference = reference_choice(X, y, list(KS), FOLDS, RecordingModel())
    return [Case((X, y, list(KS), FOLDS, RecordingModel()), reference, {},
                 f"{len(X)} rows in image/copy pairs, k = {FOLDS}")]


register(Exercise(
    name="choose_by_cross_validation",
    task=("choose_by_cross_validation(X, y, values, k, fit_predict) -> (scores, best_value): for each value, "
          "the mean validation accuracy over the k folds of your k_fold_split (rows in order, no shuffling), "
          "with fit_predict(X_train, y_train, X_val, value) returning predicted labels; best_value has the "
          "highest score. The rows come in image/copy pairs."),
    make_cases=_choice_cases,
    compare=_compare_choice,
))
