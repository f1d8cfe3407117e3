"""ens.*: independent models averaged, snapshot ensembles with cosine restarts, and Polyak / EMA
averages of the weights (checked against ``torch.optim.swa_utils``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import averaging, schedules
from ..._checks import as_rng, check_positive
from .runs import digits64, predict_test, score_test, seed_from, train_digits


# --------------------------------------------------------------------------- ensembles
@dataclass(frozen=True)
class Ensemble:
    member_acc: np.ndarray   # test accuracy of each independently trained model
    member_loss: np.ndarray  # and its test cross-entropy
    acc_curve: np.ndarray    # test accuracy of the average of k models, k = 1 .. members
    loss_curve: np.ndarray
    epochs: int


def measure_independent_models(rng, *, members: int = 10, epochs: int = 10, orders: int = 50) -> Ensemble:
    """``members`` MLPs from different seeds (initial weights and batch order), SGD+momentum at
    lr 0.1; the average of their predicted probabilities for k = 1 .. members, averaged over
    ``orders`` orders of the members."""
    rng = as_rng(rng)
    probs = [predict_test(train_digits(seed_from(rng), lr=0.1, epochs=epochs)[0]) for _ in range(members)]
    acc, loss = averaging.ensemble_curve(probs, digits64().y_test, orders=orders, rng=rng)
    members_loss, members_acc = np.array([score_test(p) for p in probs]).T
    return Ensemble(members_acc, members_loss, acc, loss, epochs)


def ensemble_gain(r: Ensemble) -> tuple[float, float]:
    """Accuracy gained by the full ensemble over the mean member (as a fraction: 0.01 is one point),
    and the share of the members' errors that it removes."""
    gain = float(r.acc_curve[-1] - r.acc_curve[0])
    return gain, gain / float(1 - r.acc_curve[0])


LOSS_DROP = 0.05      # the ensemble's test loss at least 5% below the mean member's
A_FEW_PERCENT = 0.01  # "a few percent" would be at least one point of accuracy


def ensemble_lowers_loss(r: Ensemble) -> bool:
    return float(1 - r.loss_curve[-1] / r.loss_curve[0]) > LOSS_DROP


def gain_under_a_few_percent(r: Ensemble) -> bool:
    return ensemble_gain(r)[0] < A_FEW_PERCENT


@dataclass(frozen=True)
class Snapshots:
    """One budget of epochs spent three ways; test cross-entropy and accuracy of each."""

    lrs: np.ndarray             # the cyclic run's learning rate at each step
    snapshot_loss: np.ndarray   # each snapshot alone
    snapshot_acc: np.ndarray
    last_m_loss: np.ndarray     # the ensemble of the last m snapshots, m = 1 .. cycles
    last_m_acc: np.ndarray
    independent_loss: float     # ensemble of `cycles` independent runs of one cycle each
    independent_acc: float
    long_loss: float            # one run of one cosine cycle over the whole budget
    long_acc: float
    cycle_epochs: int


def measure_snapshots(rng, *, cycles: int = 5, cycle_epochs: int = 4, lr0: float = 0.2) -> Snapshots:
    """SGD+momentum on the digits for ``cycles * cycle_epochs`` epochs: one run with cosine restarts
    (a snapshot at the end of each cycle), ``cycles`` independent one-cycle runs, one long cycle."""
    rng = as_rng(rng)
    lr0 = check_positive(lr0, "lr0")
    cycle = cycle_epochs * -(-len(digits64().X_train) // 64)

    def run(n_cycles, schedule):
        return train_digits(seed_from(rng), lr=lr0, epochs=n_cycles * cycle_epochs,
                            watch=lambda net, opt: averaging.SnapshotTaker(net, opt, schedule, cycle))

    net, _, taker = run(cycles, averaging.cosine_restarts(lr0, cycle))
    snaps = [predict_test(net, s) for s in taker.snapshots]
    last_m = [averaging.average_predictions(snaps[-m:]) for m in range(1, cycles + 1)]
    indep = averaging.average_predictions([predict_test(run(1, averaging.cosine_restarts(lr0, cycle))[0])
                                           for _ in range(cycles)])
    long = predict_test(run(cycles, schedules.cosine(lr0, cycles * cycle))[0])
    (snap_loss, snap_acc), (m_loss, m_acc) = (np.array([score_test(p) for p in ps]).T for ps in (snaps, last_m))
    return Snapshots(np.array(taker.lrs), snap_loss, snap_acc, m_loss, m_acc, *score_test(indep),
                     *score_test(long), cycle_epochs)


def snapshot_gain(r: Snapshots, m: int = 3) -> float:
    """Relative drop of the test loss from the last snapshot to the ensemble of the last ``m``."""
    return float(1 - r.last_m_loss[m - 1] / r.last_m_loss[0])


def snapshots_beat_split_budget(r: Snapshots, m: int = 3) -> bool:
    """The last-m snapshot ensemble beats the same budget split into independent one-cycle runs."""
    return bool(r.last_m_loss[m - 1] < r.independent_loss)


@dataclass(frozen=True)
class Polyak:
    """Constant-rate SGD+momentum runs at each learning rate and seed; the final test loss and
    accuracy of the last iterate and of three averages of its weights, and the test loss per epoch
    of the first seed's runs."""

    lrs: tuple
    names: tuple
    final_loss: np.ndarray   # (lrs, seeds, names)
    final_acc: np.ndarray
    curves: np.ndarray       # (lrs, names, epochs): test loss of the first seed
    decay: float
    torch_difference: float  # largest |NumPy - torch.optim.swa_utils.AveragedModel| over both rules


AVERAGE_NAMES = ("last iterate", "uniform (Polyak)", "uniform, second half", "EMA")


def measure_polyak(rng, *, lrs=(0.1, 0.3), seeds: int = 3, epochs: int = 10, decay: float = 0.99) -> Polyak:
    """The averages are fed the weights after every step: uniform from the first step, uniform from
    the first step of the second half, and the EMA with ``decay``. The uniform and EMA rules are
    also run by torch's ``AveragedModel`` on the first 50 steps' weights, for comparison."""
    rng = as_rng(rng)
    steps_per_epoch = -(-len(digits64().X_train) // 64)
    final = np.full((2, len(lrs), seeds, len(AVERAGE_NAMES)), np.nan)
    curves = np.full((len(lrs), len(AVERAGE_NAMES), epochs), np.nan)
    sequence = []

    def watch(net, opt, i, s):
        keeper = averaging.AverageKeeper(
            net, dict(zip(AVERAGE_NAMES[1:], (averaging.WeightAverage("uniform"), averaging.WeightAverage("uniform"),
                                              averaging.WeightAverage("ema", decay=decay)), strict=True)),
            starts={AVERAGE_NAMES[2]: (epochs // 2) * steps_per_epoch + 1})

        def on_step(step):
            keeper(step)
            if i == 0 and s == 0 and step <= 50:
                sequence.append({k: v.copy() for k, v in net.params.items()})
            if s == 0 and step % steps_per_epoch == 0:
                for j, params in enumerate(weights_of(net, keeper)):
                    if params is not None:
                        curves[i, j, step // steps_per_epoch - 1] = score_test(predict_test(net, params))[0]
        on_step.keeper = keeper
        return on_step

    for i, lr in enumerate(lrs):
        for s in range(seeds):
            net, _, on_step = train_digits(seed_from(rng), lr=float(lr), epochs=epochs,
                                           watch=lambda net, opt, i=i, s=s: watch(net, opt, i, s))
            for j, params in enumerate(weights_of(net, on_step.keeper)):
                final[:, i, s, j] = score_test(predict_test(net, params))
    diff = 0.0
    for kind in averaging.AVERAGES:
        ours = averaging.WeightAverage(kind, decay=decay)
        for params in sequence:
            ours.update(params)
        theirs = averaging.torch_average(sequence, kind, decay=decay)
        diff = max(diff, max(float(np.max(np.abs(theirs[k] - ours.average[k]))) for k in theirs))
    return Polyak(tuple(lrs), AVERAGE_NAMES, final[0], final[1], curves, decay, diff)


def weights_of(net, keeper) -> list:
    """The last iterate's weights, then each average's (None while it has not started)."""
    return [net.params] + [a.average if a.n else None for a in keeper.averages.values()]


AVERAGING_HELPS = 0.10   # at a noisy rate every average lowers the test loss by over 10%
SETTLED = 0.05           # at a settled rate no average gains more than 5%


def averaging_gain(r: Polyak, lr) -> np.ndarray:
    """Mean relative drop of the test loss from the last iterate to each average, at ``lr``."""
    final = r.final_loss[r.lrs.index(lr)]
    return np.mean(1 - final[:, 1:] / final[:, :1], axis=0)


def averaging_helps(r: Polyak, lr) -> bool:
    """At ``lr`` every average lowers the mean test loss by more than AVERAGING_HELPS."""
    return bool(np.all(averaging_gain(r, lr) > AVERAGING_HELPS))


def averaging_settled(r: Polyak, lr) -> bool:
    """At ``lr`` no average lowers the mean test loss by SETTLED or more."""
    return bool(np.all(averaging_gain(r, lr) < SETTLED))
