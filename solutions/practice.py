"""Reference solutions (and canned mistakes) for the exercises of 09_training_practice."""

import numpy as np


def k_fold_split(n, k):
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1                      # the first n % k folds hold one example more
    bounds = np.r_[0, np.cumsum(sizes)]
    rounds = []
    for i in range(k):
        val = np.arange(bounds[i], bounds[i + 1])
        train = np.r_[np.arange(0, bounds[i]), np.arange(bounds[i + 1], n)]
        rounds.append((train, val))
    return rounds


def choose_by_cross_validation(X, y, values, k, fit_predict):
    scores = []
    for value in values:
        accuracies = [np.mean(fit_predict(X[tr], y[tr], X[va], value) == y[va]) for tr, va in k_fold_split(len(X), k)]
        scores.append(np.mean(accuracies))
    scores = np.array(scores)
    return scores, values[int(np.argmax(scores))]


# --------------------------------------------------------------------------- canned mistakes
def _blocks(n, k, size, step):
    return [(np.setdiff1d(np.arange(n), np.arange(i * step, min(n, i * step + size))),
             np.arange(i * step, min(n, i * step + size))) for i in range(k)]


def _remainder_last(n, k):
    sizes = [n // k] * (k - 1) + [n // k + n % k]
    bounds = np.r_[0, np.cumsum(sizes)]
    return [(np.setdiff1d(np.arange(n), np.arange(bounds[i], bounds[i + 1])), np.arange(bounds[i], bounds[i + 1]))
            for i in range(k)]


def _choose(X, y, values, k, fit_predict, *, rounds=None, score_on_train=False, total=False, pick=np.argmax):
    rounds = rounds if rounds is not None else k_fold_split(len(X), k)
    scores = []
    for value in values:
        accs = []
        for tr, va in rounds:
            query, truth = (X[tr], y[tr]) if score_on_train else (X[va], y[va])
            accs.append(np.mean(fit_predict(X[tr], y[tr], query, value) == truth))
        scores.append(np.sum(accs) if total else np.mean(accs))
    scores = np.array(scores)
    return scores, values[int(pick(scores))]


def _shuffled_rounds(n, k):
    order = np.random.default_rng(0).permutation(n)
    return [(order[tr], order[va]) for tr, va in k_fold_split(n, k)]


def _no_return(X, y, values, k, fit_predict):
    _choose(X, y, values, k, fit_predict)


SOLUTIONS = {"k_fold_split": k_fold_split, "choose_by_cross_validation": choose_by_cross_validation}

# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "k_fold_split": {
        "overlap": lambda n, k: _blocks(n, k, -(-n // k), n // k),
        "missing": lambda n, k: _blocks(n, k, n // k, n // k),
        "val-in-train": lambda n, k: [(np.arange(n), va) for _, va in k_fold_split(n, k)],
        "train-incomplete": lambda n, k: [(np.arange(va[0]), va) for _, va in k_fold_split(n, k)],
        "remainder-last": _remainder_last,
        "order": lambda n, k: k_fold_split(n, k)[::-1],
        "count": lambda n, k: k_fold_split(n, k)[:-1],
        "type": lambda n, k: {"folds": k},
        "none": lambda n, k: None,
        "exception": lambda n, k: [(np.arange(n), np.arange(n).reshape(k, 3))],
    },
    "choose_by_cross_validation": {
        "train-fold-score": lambda X, y, values, k, f: _choose(X, y, values, k, f, score_on_train=True),
        "shuffle-leak": lambda X, y, values, k, f: _choose(X, y, values, k, f, rounds=_shuffled_rounds(len(X), k)),
        "val-in-train": lambda X, y, values, k, f: _choose(
            X, y, values, k, f, rounds=[(np.arange(len(X)), va) for _, va in k_fold_split(len(X), k)]),
        "factor": lambda X, y, values, k, f: _choose(X, y, values, k, f, total=True),
        "argmin": lambda X, y, values, k, f: _choose(X, y, values, k, f, pick=np.argmin),
        "not-called": lambda X, y, values, k, f: (np.zeros(len(values)), values[0]),
        "none": _no_return,
        "exception": lambda X, y, values, k, f: f(X, y, X, values),
    },
}
