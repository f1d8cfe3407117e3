"""Learning-rate schedules: the notes' exponential, 1/t and step decay, plus linear warm-up and
cosine decay (the standard recipe with Adam-type optimizers today).

A schedule is a function of the step (or epoch) counter ``t = 0, 1, 2, ...`` that returns the
learning rate. :class:`Scheduler` applies one to an optimizer of :mod:`lecture_lib.optim` by setting
``opt.lr``::

    sched = Scheduler(opt, exponential(lr0=0.1, k=0.05))
    for epoch in range(epochs):
        train_one_epoch(opt)
        sched.step()                      # opt.lr = 0.1 * exp(-0.05 * (epoch + 1))

Where torch has the same schedule, :func:`torch_equivalent` builds it, and the values agree
(tests/test_optim.py): exponential = ``ExponentialLR(gamma=exp(-k))``, step =
``StepLR(step_size, gamma)``, cosine = ``CosineAnnealingLR(T_max, eta_min)``; 1/t and warm-up +
cosine have no class of their own and map to ``LambdaLR``.
"""

from __future__ import annotations

import math

from ._checks import check_int, check_positive, check_scalar

__all__ = ["exponential", "inverse_time", "step_decay", "cosine", "warmup_cosine", "constant",
           "Scheduler", "torch_equivalent", "SCHEDULES"]


def _positive(value, name, *, allow_zero=False):
    return check_scalar(value, name, min=0.0) if allow_zero else check_positive(value, name)


def _count(value, name, *, allow_zero=False):
    return check_int(value, name, min=0 if allow_zero else 1)


class Schedule:
    """A named function ``t -> lr``, with the parameters that define it."""

    def __init__(self, name: str, fn, **params):
        self.name, self._fn, self.params = name, fn, params

    def __call__(self, t: int) -> float:
        return float(self._fn(check_int(t, "t", min=0)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def constant(lr0: float) -> Schedule:
    lr0 = _positive(lr0, "lr0")
    return Schedule("constant", lambda t: lr0, lr0=lr0)


def exponential(lr0: float, k: float) -> Schedule:
    """The notes' exponential decay, ``lr = lr0 * exp(-k t)``."""
    lr0, k = _positive(lr0, "lr0"), _positive(k, "k", allow_zero=True)
    return Schedule("exponential", lambda t: lr0 * math.exp(-k * t), lr0=lr0, k=k)


def inverse_time(lr0: float, k: float) -> Schedule:
    """The notes' 1/t decay, ``lr = lr0 / (1 + k t)``."""
    lr0, k = _positive(lr0, "lr0"), _positive(k, "k", allow_zero=True)
    return Schedule("1/t", lambda t: lr0 / (1 + k * t), lr0=lr0, k=k)


def step_decay(lr0: float, step_size: int, gamma: float = 0.5) -> Schedule:
    """The notes' step decay: multiply by ``gamma`` (a half by default) every ``step_size``
    steps, ``lr = lr0 * gamma ** (t // step_size)``."""
    lr0, step_size = _positive(lr0, "lr0"), _count(step_size, "step_size")
    gamma = _positive(gamma, "gamma")
    return Schedule("step", lambda t: lr0 * gamma ** (t // step_size), lr0=lr0,
                    step_size=step_size, gamma=gamma)


def cosine(lr0: float, total: int, lr_min: float = 0.0) -> Schedule:
    """Cosine decay from ``lr0`` at t = 0 to ``lr_min`` at t = ``total`` (then held)."""
    lr0, total = _positive(lr0, "lr0"), _count(total, "total")
    lr_min = _positive(lr_min, "lr_min", allow_zero=True)

    def fn(t):
        t = min(t, total)
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total)) / 2

    return Schedule("cosine", fn, lr0=lr0, total=total, lr_min=lr_min)


def warmup_cosine(lr0: float, warmup: int, total: int, lr_min: float = 0.0) -> Schedule:
    """Linear warm-up from ``lr0 / warmup`` to ``lr0`` over ``warmup`` steps, then cosine decay
    to ``lr_min`` at ``total`` (Loshchilov & Hutter's recipe with AdamW; Goyal et al. 2017)."""
    lr0, total = _positive(lr0, "lr0"), _count(total, "total")
    warmup = _count(warmup, "warmup", allow_zero=True)
    if warmup >= total:
        raise ValueError(f"warmup={warmup!r} is not valid; expected fewer steps than total={total}")
    lr_min = _positive(lr_min, "lr_min", allow_zero=True)

    def fn(t):
        if t < warmup:
            return lr0 * (t + 1) / warmup
        t = min(t - warmup, total - warmup)
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / (total - warmup))) / 2

    return Schedule("warm-up + cosine", fn, lr0=lr0, warmup=warmup, total=total, lr_min=lr_min)


SCHEDULES = {"constant": constant, "exponential": exponential, "1/t": inverse_time,
             "step": step_decay, "cosine": cosine, "warm-up + cosine": warmup_cosine}


class Scheduler:
    """Drives ``optimizer.lr`` with a schedule: ``lr = schedule(t)``, t counting calls to
    :meth:`step` (like torch's schedulers, the constructor sets the lr for t = 0)."""

    def __init__(self, optimizer, schedule):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"optimizer={optimizer!r} is not valid; expected an optimizer with .lr")
        if not callable(schedule):
            raise TypeError(f"schedule={schedule!r} is not valid; expected a function t -> lr")
        self.optimizer, self.schedule, self.t = optimizer, schedule, 0
        self.optimizer.lr = schedule(0)

    def step(self) -> float:
        self.t += 1
        self.optimizer.lr = self.schedule(self.t)
        return self.optimizer.lr

    @property
    def lr(self) -> float:
        return self.optimizer.lr


def torch_equivalent(schedule: Schedule, torch_optimizer):
    """The torch.optim.lr_scheduler object that produces the same learning rates."""
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule={schedule!r} is not valid; expected a Schedule of this module")
    from torch.optim import lr_scheduler as S

    p = schedule.params
    if schedule.name == "exponential":
        return S.ExponentialLR(torch_optimizer, gamma=math.exp(-p["k"]))
    if schedule.name == "step":
        return S.StepLR(torch_optimizer, step_size=p["step_size"], gamma=p["gamma"])
    if schedule.name == "cosine":
        return S.CosineAnnealingLR(torch_optimizer, T_max=p["total"], eta_min=p["lr_min"])
    if schedule.name in ("1/t", "warm-up + cosine", "constant"):
        return S.LambdaLR(torch_optimizer, lambda t: schedule(t) / p["lr0"])
    raise ValueError(f"schedule={schedule!r} has no torch equivalent")
