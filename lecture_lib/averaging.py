"""Model ensembles: averaging the predictions of several models, averaging the weights of one model
along its training (Polyak's uniform average and the exponential moving average, EMA), and the
cyclic cosine schedule (warm restarts) whose cycle ends give the snapshots of a snapshot ensemble.

The two weight averages are the update rules of ``torch.optim.swa_utils.AveragedModel``: the first
update copies the weights, then

- uniform (Polyak): ``avg <- avg + (w - avg) / (n + 1)`` after n averaged models;
- EMA: ``avg <- decay * avg + (1 - decay) * w``.

:func:`cosine_restarts` is Loshchilov and Hutter's SGDR schedule (torch's
``CosineAnnealingWarmRestarts`` with a constant cycle length); it is a
:class:`lecture_lib.schedules.Schedule`, so a ``schedules.Scheduler`` drives an optimizer with it.

Math only: no plotting, widgets or torch at import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from . import schedules
from ._checks import (
    as_rng,
    check_array,
    check_choice,
    check_int,
    check_positive,
    check_positive_int,
    check_probability,
    check_scalar,
)
from .layers import softmax  # noqa: F401  (averaging.softmax: the probabilities to average)
from .schedules import Schedule

AVERAGES = ("uniform", "ema")


# --------------------------------------------------------------------------- prediction ensembles
def average_predictions(members: Sequence) -> np.ndarray:
    """The ensemble's class probabilities: the mean of its members' probabilities, each (N, C).
    Members whose outputs differ in shape (another test set, another number of classes) are
    refused with the shapes named."""
    if isinstance(members, np.ndarray) and members.ndim == 3:
        members = list(members)
    if not isinstance(members, (list, tuple)) or not members:
        raise ValueError(f"members={type(members).__name__} is not valid; expected a non-empty list of "
                         "(N, C) probability arrays, one per model")
    arrays = [check_array(m, f"members[{i}]", ndim=2) for i, m in enumerate(members)]
    shape = arrays[0].shape
    for i, a in enumerate(arrays[1:], start=1):
        if a.shape != shape:
            raise ValueError(f"members[{i}] has shape {a.shape} but members[0] has shape {shape}; "
                             "expected every model's output on the same examples and classes")
    return np.mean(np.stack(arrays), axis=0)


def accuracy(probs, y) -> float:
    probs = check_array(probs, "probs", ndim=2)
    y = check_array(y, "y", kind="int", shape=(len(probs),))
    return float(np.mean(np.argmax(probs, axis=1) == y))


def cross_entropy(probs, y) -> float:
    """Mean negative log-probability of the true class."""
    probs = check_array(probs, "probs", ndim=2)
    y = check_array(y, "y", kind="int", shape=(len(probs),))
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(y)), y], 1e-300))))


# --------------------------------------------------------------------------- weight averages
class WeightAverage:
    """A running average of a model's parameters (a dict name -> array), uniform or EMA."""

    def __init__(self, kind: str = "uniform", *, decay: float = 0.999):
        self.kind = check_choice(kind, "kind", AVERAGES)
        self.decay = check_probability(decay, "decay")
        self.n = 0
        self.average: dict[str, np.ndarray] = {}

    def update(self, params: Mapping[str, np.ndarray]) -> None:
        if not isinstance(params, Mapping) or not params:
            raise TypeError(f"params={type(params).__name__} is not valid; expected a dict name -> array")
        if self.n == 0:
            self.average = {k: np.array(v, dtype=float, copy=True) for k, v in params.items()}
        else:
            if set(params) != set(self.average):
                raise ValueError(f"params has names {sorted(params)}; expected {sorted(self.average)}")
            for k, avg in self.average.items():
                w = check_array(params[k], k, shape=avg.shape)
                if self.kind == "uniform":
                    avg += (w - avg) / (self.n + 1)
                else:
                    avg *= self.decay
                    avg += (1 - self.decay) * w
        self.n += 1


# --------------------------------------------------------------------------- cyclic schedule
def cosine_restarts(lr0: float, cycle: int, lr_min: float = 0.0) -> Schedule:
    """Cosine decay from ``lr0`` to ``lr_min`` over ``cycle`` steps, then a restart at ``lr0``:
    ``lr = lr_min + (lr0 - lr_min) (1 + cos(pi (t mod cycle) / cycle)) / 2``."""
    lr0, cycle = check_positive(lr0, "lr0"), check_positive_int(cycle, "cycle")
    lr_min = check_scalar(lr_min, "lr_min", min=0.0)
    if lr_min >= lr0:
        raise ValueError(f"lr_min={lr_min:g} is not valid; expected a number below lr0={lr0:g}")

    def fn(t):
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * (t % cycle) / cycle)) / 2

    return Schedule("cosine restarts", fn, lr0=lr0, cycle=cycle, lr_min=lr_min)


def torch_cosine_restarts(schedule: Schedule, torch_optimizer):
    """torch's ``CosineAnnealingWarmRestarts`` with the same learning rates as ``schedule``."""
    from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

    if schedule.name != "cosine restarts":
        raise ValueError(f"schedule={schedule!r} is not valid; expected a cosine_restarts schedule")
    return CosineAnnealingWarmRestarts(torch_optimizer, T_0=schedule.params["cycle"],
                                       eta_min=schedule.params["lr_min"])


def snapshot_steps(total: int, cycle: int) -> list[int]:
    """The steps at which each cycle ends (where a snapshot ensemble saves the weights)."""
    total, cycle = check_positive_int(total, "total"), check_positive_int(cycle, "cycle")
    if total % cycle:
        raise ValueError(f"total={total} is not a whole number of cycles of {cycle} steps")
    return list(range(cycle, total + 1, cycle))


def ensemble_curve(member_probs: Sequence, y, *, orders: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and cross-entropy of the average of the first k members, k = 1 .. M, each averaged
    over ``orders`` random orders of the members (so that no one lucky model sets the curve)."""
    rng = as_rng(rng)
    orders = check_int(orders, "orders", min=1)
    members = list(member_probs)
    average_predictions(members)  # one shape for all, or a clear error
    acc, loss = np.zeros(len(members)), np.zeros(len(members))
    for _ in range(orders):
        running = np.zeros_like(np.asarray(members[0], float))
        for k, i in enumerate(rng.permutation(len(members)), start=1):
            running += members[i]
            acc[k - 1] += accuracy(running / k, y)
            loss[k - 1] += cross_entropy(running / k, y)
    return acc / orders, loss / orders


# --------------------------------------------------------------------------- on_step callbacks
class SnapshotTaker:
    """An ``on_step`` callback of :func:`lecture_lib.nets.train`: drives ``optimizer.lr`` with a
    per-step ``schedule`` (t counts steps) and copies the weights after every ``every``-th step
    (the end of each cycle of :func:`cosine_restarts`). ``lrs`` records the rate of each step."""

    def __init__(self, net, optimizer, schedule, every: int):
        self.net, self.every = net, check_positive_int(every, "every")
        self.scheduler = schedules.Scheduler(optimizer, schedule)
        self.snapshots: list[dict] = []
        self.lrs: list[float] = []

    def __call__(self, step: int) -> None:
        self.lrs.append(self.scheduler.lr)
        if step % self.every == 0:
            self.snapshots.append({k: v.copy() for k, v in self.net.params.items()})
        self.scheduler.step()


class AverageKeeper:
    """An ``on_step`` callback that feeds the weights after each step to every
    :class:`WeightAverage` of ``averages`` (name -> average), each from its step ``starts[name]``
    on (1-based; 1 when not given)."""

    def __init__(self, net, averages: Mapping[str, WeightAverage], starts: Mapping[str, int] | None = None):
        self.net, self.averages = net, dict(averages)
        self.starts = {n: check_positive_int((starts or {}).get(n, 1), f"starts[{n!r}]") for n in self.averages}

    def __call__(self, step: int) -> None:
        for name, average in self.averages.items():
            if step >= self.starts[name]:
                average.update(self.net.params)


def torch_average(sequence: Sequence[Mapping[str, np.ndarray]], kind: str = "uniform", *,
                  decay: float = 0.999) -> dict[str, np.ndarray]:
    """The same running average computed by ``torch.optim.swa_utils.AveragedModel`` (float64) over
    a sequence of parameter dicts, for comparison with :class:`WeightAverage`."""
    import torch
    from torch.optim import swa_utils

    check_choice(kind, "kind", AVERAGES)
    names = list(sequence[0])
    holder = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(np.asarray(sequence[0][n], float)))
                                     for n in names])
    avg_fn = swa_utils.get_swa_avg_fn() if kind == "uniform" else swa_utils.get_ema_avg_fn(decay)
    model = swa_utils.AveragedModel(holder, avg_fn=avg_fn)
    with torch.no_grad():
        for params in sequence:
            for p, n in zip(holder, names, strict=True):
                p.copy_(torch.as_tensor(np.asarray(params[n], float)))
            model.update_parameters(holder)
    return {n: p.detach().numpy().copy() for n, p in zip(names, model.module, strict=True)}
