"""The experiments of 04's section on learning-rate decay: the schedules against torch's, and decay
on a real run (mini-batch softmax regression on the digits), for SGD and for Adam."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import nets, optim, schedules
from ..._checks import as_rng, check_choice, check_positive_int, check_scalar
from ...config import single_thread
from .gradient_descent import copies, softmax_digits

__all__ = ["SCHEDULE_TOL", "BARELY", "ScheduleParity", "measure_schedule_parity", "schedules_match_torch",
           "SoftmaxRun", "train_softmax", "DecayComparison", "measure_lr_decay",
           "lr_followed_schedules", "decay_helps", "measure_adam_decay", "cosine_helps_adam",
           "decay_barely_matters"]

SCHEDULE_TOL = 1e-12   # our schedule's rates equal torch's scheduler's to rounding
BARELY = 0.15          # final losses within 15% of each other: the decay "barely matters"


@dataclass(frozen=True)
class ScheduleParity:
    """For each schedule (by its name), the largest difference between its rates and those of the
    equivalent ``torch.optim.lr_scheduler`` over ``epochs`` epochs."""

    max_difference: dict
    epochs: int


def measure_schedule_parity(schedule_list, epochs: int = 30) -> ScheduleParity:
    """Step each schedule beside its torch scheduler for ``epochs`` epochs and compare the rates."""
    import torch

    epochs = check_positive_int(epochs, "epochs")
    out = {}
    for sched in schedule_list:
        opt_t = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=sched(0))
        ref = schedules.torch_equivalent(sched, opt_t)
        theirs = []
        for _ in range(epochs):
            theirs.append(opt_t.param_groups[0]["lr"])
            opt_t.step()
            ref.step()
        out[sched.name] = max(abs(sched(t) - lr) for t, lr in enumerate(theirs))
    return ScheduleParity(out, epochs)


def schedules_match_torch(parity: ScheduleParity) -> bool:
    return max(parity.max_difference.values()) < SCHEDULE_TOL


@dataclass(frozen=True)
class SoftmaxRun:
    """Per epoch: the learning rate used, then the full training loss and the validation accuracy."""

    lr: tuple
    loss: tuple
    val_acc: tuple


@single_thread()
def train_softmax(schedule, optimizer: str = "sgd", epochs: int = 30, batch_size: int = 32, reg: float = 1e-3,
                  *, rng) -> SoftmaxRun:
    """Mini-batch softmax regression on the digits (weights from N(0, 0.01^2), bias as a column of
    ones) with our NumPy optimizer, its lr set by ``schedule`` once per epoch."""
    check_choice(optimizer, "optimizer", ("sgd", "adam"))
    X, y, X_val, y_val = softmax_digits()
    rng, epochs = as_rng(rng), check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    W = rng.normal(0, 0.01, (X.shape[1], 10))
    opt = {"sgd": optim.SGD, "adam": optim.Adam}[optimizer](lr=schedule(0))
    sched = schedules.Scheduler(opt, schedule)
    losses, accs, lrs = [], [], []
    for _ in range(epochs):
        lrs.append(opt.lr)
        order = rng.permutation(len(y))
        for i in range(0, len(y), batch_size):
            idx = order[i:i + batch_size]
            opt.step([W], [nets.softmax_regression_loss(W, None, X[idx], y[idx], reg=reg)[1]])
        sched.step()
        losses.append(nets.softmax_regression_loss(W, None, X, y, reg=reg)[0])
        accs.append(float(np.mean((X_val @ W).argmax(1) == y_val)))
    return SoftmaxRun(tuple(lrs), tuple(losses), tuple(accs))


@dataclass(frozen=True)
class DecayComparison:
    """One run per schedule (each a :class:`SoftmaxRun`, all from the same initial weights and
    batches), and each run's final loss (the mean of its last three epochs)."""

    schedules: dict
    runs: dict

    @property
    def final(self) -> dict:
        return {name: float(np.mean(r.loss[-3:])) for name, r in self.runs.items()}


def _compare(scheds: dict, optimizer: str, epochs: int, rng) -> DecayComparison:
    paired = copies(rng, len(scheds))
    return DecayComparison(scheds, {name: train_softmax(s, optimizer, epochs, rng=g)
                                    for (name, s), g in zip(scheds.items(), paired, strict=True)})


def measure_lr_decay(epochs: int = 20, lr0: float = 4.0, *, rng) -> DecayComparison:
    """SGD with constant, step, exponential and 1/t schedules, each decay lowering the rate by one to two
    orders of magnitude over the run."""
    epochs, lr0 = check_positive_int(epochs, "epochs"), check_scalar(lr0, "lr0", min=0.0, min_inclusive=False)
    return _compare({"constant": schedules.constant(lr0),
                     "step": schedules.step_decay(lr0, step_size=max(1, epochs // 3), gamma=0.3),
                     "exponential": schedules.exponential(lr0, k=math.log(10) / epochs),
                     "1/t": schedules.inverse_time(lr0, k=9 / epochs)}, "sgd", epochs, rng)


def lr_followed_schedules(r: DecayComparison) -> bool:
    """Every run's learning rate was its schedule's formula at every epoch."""
    return all(abs(lr - r.schedules[name](t)) < SCHEDULE_TOL for name, run in r.runs.items()
               for t, lr in enumerate(run.lr))


def decay_helps(r: DecayComparison) -> bool:
    f = r.final
    return all(f[k] < f["constant"] for k in f if k != "constant")


def measure_adam_decay(epochs: int = 20, lr0: float = 0.1, *, rng) -> DecayComparison:
    """Adam at a constant lr against linear warm-up + cosine decay."""
    epochs, lr0 = check_positive_int(epochs, "epochs"), check_scalar(lr0, "lr0", min=0.0, min_inclusive=False)
    return _compare({"constant": schedules.constant(lr0),
                     "warm-up + cosine": schedules.warmup_cosine(lr0, warmup=max(1, epochs // 10), total=epochs)},
                    "adam", epochs, rng)


def cosine_helps_adam(r: DecayComparison) -> bool:
    return r.final["warm-up + cosine"] < r.final["constant"]


def decay_barely_matters(r: DecayComparison) -> bool:
    return abs(r.final["constant"] / r.final["warm-up + cosine"] - 1) < BARELY
