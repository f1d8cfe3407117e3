"""How one example's output depends on the rest of its batch, in the trained batch-norm net of
:func:`lecture_lib.experiments.batchnorm.measure_deep_training`: the noise of train mode (the
regularization the notes credit it with) against the train/validation gap, and test mode, the
classic bug of evaluating in train mode, and running averages that lag behind the weights.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ... import nets, optim
from ..._checks import as_rng, check_positive_int, check_scalar
from ...config import single_thread
from ...data import Splits
from .layer import DeepTraining

BATCH_INDEPENDENT_TOL = 1e-12  # test mode: an example's output alone vs inside a batch
NOISE_SHRINK = 3.0            # batch noise at small batches vs the largest (sqrt(256/8) = 5.7)
NOISY_SPREAD = 0.1            # an example's score spread over batch draws that counts as noise
SIMILAR_GAP = 0.03            # train/validation gaps within 3 points of accuracy: no clear effect
CHANCE_ACC = 0.2              # accuracy at or below this: chance level (10 classes)
LAG_COST = 0.2                # accuracy lost to lagging running averages
RECALIBRATION_SLACK = 0.1     # recalibrated test mode within this of train mode on the whole split


def _float(X):
    return np.asarray(X, dtype=np.float64)


# --------------------------------------------------------------------------- regularization
@dataclass(frozen=True)
class BatchDependence:
    """One fixed validation example, put in ``draws`` random training batches of each size and run
    through the trained batch-norm net in train mode: the spread of its class scores over the draws
    (RMS over classes of the std), of its probability for the true class, and the share of draws
    whose prediction differs from the most common one. Plus the final train/validation accuracy gap
    of the deep nets without and with batch norm."""

    batch_sizes: tuple
    score_spread: np.ndarray
    prob_spread: np.ndarray
    flip_share: np.ndarray
    gap: dict           # norm name -> final train accuracy - validation accuracy
    train_acc: dict
    val_acc: dict


def measure_batch_dependence(training: DeepTraining, data: Splits, *, batch_sizes=(2, 4, 8, 16, 32, 64, 128, 256),
                             draws: int = 30, example: int = 0, rng) -> BatchDependence:
    rng = as_rng(rng)
    net = training.network("batchnorm", "trained")
    X, Xv, yv = _float(data.X_train), _float(data.X_val), data.y_val
    x, label = Xv[example:example + 1], int(yv[example])
    spreads, probs, flips = [], [], []
    saved = copy.deepcopy(net.norm_params)
    with single_thread():
        for b in batch_sizes:
            b = check_positive_int(b, "batch size")
            scores = np.array([net.forward(np.vstack([x, X[rng.choice(len(X), b - 1, replace=False)]]),
                                           mode="train")[0][0] for _ in range(check_positive_int(draws, "draws"))])
            p = np.exp(scores - scores.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            pred = np.argmax(scores, axis=1)
            spreads.append(np.sqrt(np.mean(scores.std(axis=0) ** 2)))
            probs.append(p[:, label].std())
            flips.append(1 - np.bincount(pred).max() / len(pred))
    net.norm_params = saved
    hist = training.history
    return BatchDependence(tuple(batch_sizes), np.array(spreads), np.array(probs), np.array(flips),
                           {k: h.train_acc[-1] - h.val_acc[-1] for k, h in hist.items()},
                           {k: h.train_acc[-1] for k, h in hist.items()}, {k: h.val_acc[-1] for k, h in hist.items()})


def noisy(result: BatchDependence, batch_size: int = 8, spread: float = NOISY_SPREAD) -> bool:
    """At ``batch_size`` the example's scores spread by more than ``spread`` over batch draws."""
    return bool(result.score_spread[list(result.batch_sizes).index(batch_size)] > spread)


def noise_shrinks(result: BatchDependence, factor: float = NOISE_SHRINK) -> bool:
    """The spread at the largest batch is at least ``factor`` times smaller than the largest spread
    at the three smallest batches (at B = 2 every normalized value is +-1, which caps the spread)."""
    return bool(result.score_spread[-1] * factor < np.max(result.score_spread[:3]))


def similar_gaps(gap_a: float, gap_b: float, tol: float = SIMILAR_GAP) -> bool:
    return abs(gap_a - gap_b) < tol


# --------------------------------------------------------------------------- test mode
@dataclass(frozen=True)
class TestTimeResult:
    """The trained batch-norm net on the validation split: in test mode an example alone and inside
    a batch; accuracy in test mode, in train mode with batches of one (the classic bug) and with
    the whole split as one batch; and a run whose running averages lag (momentum 0.99, few steps),
    before and after recalibrating them on the training split."""

    test_mode_difference: float
    accuracy_test_mode: float
    accuracy_train_mode_single: float
    accuracy_train_mode_full_batch: float
    distinct_predictions_single: int
    lag_momentum: float
    lag_steps: int
    accuracy_lagging: float
    accuracy_recalibrated: float
    accuracy_lagging_train_mode: float


def _train_mode_predictions(net: nets.MLP, X, batch_size: int) -> np.ndarray:
    saved = copy.deepcopy(net.norm_params)
    preds = np.concatenate([np.argmax(net.forward(X[i:i + batch_size], mode="train")[0], axis=1)
                            for i in range(0, len(X), batch_size)])
    net.norm_params = saved
    return preds


def measure_test_time(training: DeepTraining, data: Splits, *, lag_momentum: float = 0.99,
                      lag_epochs: int = 2, rng) -> TestTimeResult:
    rng = as_rng(rng)
    net = training.network("batchnorm", "trained")
    Xv, yv = _float(data.X_val), data.y_val
    with single_thread():
        alone = np.concatenate([net.scores(Xv[i:i + 1]) for i in range(8)])
        inside = net.scores(Xv)[:8]
        single = _train_mode_predictions(net, Xv, 1)
        full = _train_mode_predictions(net, Xv, len(Xv))
        # a run whose running averages lag: the same architecture, a high momentum, few steps
        X, y = _float(data.X_train), data.y_train
        lagging = nets.MLP(net.sizes, norm="batchnorm", rng=rng)
        for param in lagging.norm_params:
            param["momentum"] = check_scalar(lag_momentum, "lag_momentum", min=0.0, max=1.0)
        history = nets.train(lagging, X, y, optimizer=optim.SGD(lr=training.lr, momentum=0.9),
                             epochs=lag_epochs, batch_size=64, rng=rng)
        acc_lag = lagging.accuracy(Xv, yv)
        acc_lag_train = float(np.mean(_train_mode_predictions(lagging, Xv, len(Xv)) == yv))
        lagging.recalibrate(X, batch_size=64, rng=rng)
        acc_recal = lagging.accuracy(Xv, yv)
    return TestTimeResult(
        float(np.abs(alone - inside).max()), net.accuracy(Xv, yv), float(np.mean(single == yv)),
        float(np.mean(full == yv)), len(np.unique(single)), float(lag_momentum), len(history.step_loss),
        acc_lag, acc_recal, acc_lag_train)


def batch_independent(result: TestTimeResult, tol: float = BATCH_INDEPENDENT_TOL) -> bool:
    return result.test_mode_difference < tol


def single_example_bug(result: TestTimeResult, chance: float = CHANCE_ACC) -> bool:
    """Train mode on batches of one predicts one class for everything, at chance level."""
    return result.distinct_predictions_single == 1 and result.accuracy_train_mode_single <= chance


def lags(result: TestTimeResult, cost: float = LAG_COST) -> bool:
    """The lagging running averages lose more than ``cost`` of accuracy against recalibrated ones."""
    return result.accuracy_recalibrated - result.accuracy_lagging > cost


def recalibration_recovers(result: TestTimeResult, slack: float = RECALIBRATION_SLACK) -> bool:
    """Recalibrated, test mode is within ``slack`` of the same net in train mode on the whole split."""
    return result.accuracy_recalibrated > result.accuracy_lagging_train_mode - slack
