"""Babysitting a training run: what the loss should be at the start, the size of each update
relative to the weights, and a one-line diagnosis read off the curves of a run.

- With small weights every class gets the same score, so the softmax loss starts at ``log C``
  (C classes): 2.303 for ten.
- The update-to-weight ratio ``||W_after - W_before|| / ||W_before||`` per layer and per step
  (:class:`UpdateRatioMeter`, an ``on_step`` callback of :func:`lecture_lib.nets.train`) says how
  fast the weights move; about 1e-3 is the usual rule of thumb.
- :func:`diagnose` names the first problem a run shows, in this order: the learning rate is too
  high (the loss blew up, rose above its start, keeps bouncing back up, or fell to chance and stayed
  there because the units died), a plateau (the loss started at chance, log C, and sat there: too
  small an initialization), the learning rate is too low (the loss still falls steadily but is far
  from done), overfitting (training accuracy well above validation), or nothing: a good run.

Math only: no plotting, widgets or torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._checks import check_array, check_bool, check_positive_int, check_scalar

LABELS = ("too high", "plateau", "too low", "overfitting", "good")

# Thresholds of the diagnosis (the notebook and the tests use these same numbers).
FLAT = 0.03           # "at chance": within 3% of log C
FLAT_EPOCHS = 0.25    # plateau: at chance from the start for at least a quarter of the epochs
ROUGH = 0.25          # too high: the epoch loss climbed back more than a quarter of its total descent
SLOW = 0.4            # too low: still above 40% of log C at the end
GAP = 0.04            # overfitting: training accuracy more than 4 points above validation


def expected_initial_loss(n_classes: int) -> float:
    """The softmax loss of a classifier that gives every class the same score: log C."""
    return math.log(check_positive_int(n_classes, "n_classes"))


def epochs_at_chance(train_loss, n_classes: int) -> int:
    """How many epochs, from the first, the loss stayed within :data:`FLAT` of log C."""
    loss = check_array(train_loss, "train_loss", ndim=1)
    chance = expected_initial_loss(n_classes)
    at_chance = np.abs(loss - chance) <= FLAT * chance
    return int(loss.size if at_chance.all() else np.argmin(at_chance))


class UpdateRatioMeter:
    """Records, after every optimizer step, ``||W_t - W_(t-1)|| / ||W_(t-1)||`` for each weight
    matrix of ``net`` (biases left out, as in the rule of thumb). Pass it as
    ``nets.train(..., on_step=meter)``; ``meter.ratios`` is (steps, layers)."""

    def __init__(self, net):
        self.net = net
        self.names = list(net.weight_names)
        self._previous = {n: net.params[n].copy() for n in self.names}
        self._rows: list[list[float]] = []

    def __call__(self, step: int) -> None:
        row = []
        for n in self.names:
            w, before = self.net.params[n], self._previous[n]
            row.append(float(np.linalg.norm(w - before) / max(np.linalg.norm(before), 1e-300)))
            before[...] = w
        self._rows.append(row)

    @property
    def ratios(self) -> np.ndarray:
        return np.array(self._rows, dtype=float).reshape(len(self._rows), len(self.names))


@dataclass(frozen=True)
class Diagnosis:
    label: str     # one of LABELS
    reason: str    # one line with the numbers that decided it

    def __str__(self) -> str:
        return f"{self.label}: {self.reason}"


def diagnose(train_loss, train_acc, val_acc, *, n_classes: int, initial_loss: float,
             diverged: bool = False) -> Diagnosis:
    """Read one run: per-epoch mean training loss, training and validation accuracy (equal lengths;
    a diverged run may stop early) and the loss before the first step. Returns the first problem
    found (see the module's docstring for the order)."""
    check_bool(diverged, "diverged")
    chance = expected_initial_loss(n_classes)
    first = check_scalar(initial_loss, "initial_loss", min=0.0, allow_inf=True)
    loss = check_array(train_loss, "train_loss", ndim=1)
    if diverged or loss.size == 0 or not np.all(np.isfinite(loss)) or not math.isfinite(first):
        return Diagnosis("too high", f"the loss blew up after {loss.size} epoch(s): lower the learning rate")
    train_acc = check_array(train_acc, "train_acc", shape=(loss.size,))
    val_acc = check_array(val_acc, "val_acc", shape=(loss.size,))
    lowest, last = float(loss.min()), float(loss[-1])
    at_chance = np.abs(loss - chance) <= FLAT * chance
    if loss.max() > first * (1 + 2 * FLAT):
        return Diagnosis("too high", f"the loss rose from {first:.2f} to {loss.max():.2f}: lower the learning rate")
    started_at_chance = abs(first - chance) <= FLAT * chance
    if at_chance[-1] and not started_at_chance:
        return Diagnosis("too high", f"the loss fell from {first:.2f} to chance, log {n_classes} = {chance:.2f}, "
                                     "and stayed there: the units died; lower the learning rate")
    climbed = float(np.sum(np.maximum(np.diff(np.r_[first, loss]), 0.0)))
    if climbed > ROUGH * max(first - lowest, FLAT * chance):
        return Diagnosis("too high", f"the loss keeps bouncing: it climbed back {climbed:.2f} while falling "
                                     f"{first - lowest:.2f} in all: lower the learning rate")
    flat_epochs = epochs_at_chance(loss, n_classes)
    if started_at_chance and flat_epochs >= max(1, math.ceil(FLAT_EPOCHS * loss.size)):
        then = "and never left it" if flat_epochs == loss.size else f"then fell to {last:.2f}"
        return Diagnosis("plateau", f"the loss sat at log {n_classes} = {chance:.2f} for {flat_epochs} of "
                                    f"{loss.size} epochs {then}: the initialization is too small")
    if last > SLOW * chance:
        return Diagnosis("too low", f"the loss falls slowly: {last:.2f} after {loss.size} epochs "
                                    f"({last / chance:.0%} of log {n_classes}): raise the learning rate")
    gap = float(train_acc[-1] - val_acc[-1])
    if gap > GAP:
        return Diagnosis("overfitting", f"training accuracy {train_acc[-1]:.1%} against validation "
                                        f"{val_acc[-1]:.1%}, a gap of {gap:.1%}: regularize or add data")
    return Diagnosis("good", f"loss {last:.2f}; training {train_acc[-1]:.1%}, validation {val_acc[-1]:.1%}, "
                             f"a gap of {gap:.1%}")
