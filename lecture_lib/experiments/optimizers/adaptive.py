"""The experiments of 04's sections on AdaGrad, RMSProp and Adam: per-axis steps, the decay of
AdaGrad's step, the notes' faulty code against the fix, Adam's first steps and bias correction, and
what a rotation of the valley does to Adam."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import landscapes as L
from ... import optim
from ...notes_code import optimizers as notes
from .gradient_descent import copies, loglog_slope, rotation, slope_in, tuned_heavy_ball

__all__ = ["PER_AXIS_GAIN", "ADAGRAD_SLOPE", "PLATEAU", "NOTES_BROKEN", "ADAM_TYPO_FACTOR",
           "TYPO_TOL", "FIRST_STEP_LARGE", "PREDICTION_TOL", "ROTATION_PENALTY", "PerAxis",
           "measure_per_axis", "per_axis_holds", "effective_steps", "StepDecay",
           "measure_step_decay", "decays_like_inverse_sqrt", "step_plateaus", "NotesAgainstFix",
           "measure_notes_rmsprop", "notes_code_broken", "adam_without_correction", "NotesAdam",
           "measure_notes_adam", "typo_factor", "notes_adam_broken", "FirstSteps",
           "measure_first_steps", "first_steps_large", "matches_prediction", "measure_bias_t0",
           "finite", "best_steps", "Rotation", "measure_rotation", "rotation_hurts_adam"]

PER_AXIS_GAIN = 1 / 3           # AdaGrad equalises the axes: speed ratio at least kappa/3 times SGD's
ADAGRAD_SLOPE = (-0.65, -0.35)  # effective step ~ t^-1/2 under noisy gradients
PLATEAU = (0.5, 2.0)            # RMSProp: late effective step within 2x of the earlier one
NOTES_BROKEN = 100.0            # the notes' code ends at least 100x further from the minimum than the fix
ADAM_TYPO_FACTOR = 2.0          # the notes' Adam wanders at least 2x further from the minimum
TYPO_TOL = 1e-6                 # the typo's step factor is (1 + beta1)/(1 - beta1), to rounding
FIRST_STEP_LARGE = 2.0          # uncorrected first step at least 2x the corrected one
PREDICTION_TOL = 1e-3           # a measured ratio matches its formula to this
ROTATION_PENALTY = 2.0          # Adam at 45 degrees needs at least 2x its steps at 0 degrees


# --------------------------------------------------------------------------- AdaGrad
@dataclass(frozen=True)
class PerAxis:
    """Distance moved along the weak (y) axis over the strong (x) axis in the first steps on the
    axis-aligned taco, for SGD and AdaGrad; AdaGrad's effective lr per axis at its first step."""

    kappa: float
    sgd_ratio: float
    adagrad_ratio: float
    adagrad_eff_lr: tuple


def measure_per_axis(kappa: float = 100.0, steps: int = 10, lr: float = 0.1) -> PerAxis:
    land = L.taco(kappa)
    ratios = []
    for opt in (optim.SGD(lr=lr), optim.Adagrad(lr=lr)):
        path = L.trajectory(opt, land, (1.0, 1.0), steps)
        move = np.abs(path[-1] - path[0])
        ratios.append(float(move[1] / move[0]))
    g = land.exact_grad(np.array([1.0, 1.0]))
    return PerAxis(kappa, *ratios, tuple(float(v) for v in lr / np.abs(g)))  # first step: lr / sqrt(g^2)


def per_axis_holds(r: PerAxis) -> bool:
    return r.adagrad_ratio >= PER_AXIS_GAIN * r.kappa * r.sgd_ratio


def effective_steps(name: str, steps: int, *, sigma: float = 1.0, lr: float = 0.01, rng) -> np.ndarray:
    """lr / (sqrt(accumulator) + eps) of the x coordinate over the steps, on the noisy taco."""
    land = L.taco(10.0).noisy(sigma, rng=rng)
    opt = optim.Adagrad(lr=lr) if name == "adagrad" else optim.RMSprop(lr=lr, alpha=0.99)
    key = "sum" if name == "adagrad" else "square_avg"
    p = np.array([1.0, 1.0])
    eff = np.empty(steps)
    for t in range(steps):
        opt.step([p], [land.grad(p)])
        eff[t] = lr / (math.sqrt(opt.state[0][key][0]) + opt.eps)
    return eff


@dataclass(frozen=True)
class StepDecay:
    """AdaGrad's and RMSProp's effective step over time under the same gradient noise: the log-log
    slope after the first tenth of the run, and the late step over an earlier one."""

    adagrad: np.ndarray
    rmsprop: np.ndarray
    adagrad_slope: float
    rmsprop_slope: float
    adagrad_ratio: float
    rmsprop_ratio: float


def measure_step_decay(steps: int = 2000, *, rng) -> StepDecay:
    ada_rng, rms_rng = copies(rng, 2)                       # the same noise for both
    ada, rms = effective_steps("adagrad", steps, rng=ada_rng), effective_steps("rmsprop", steps, rng=rms_rng)
    t = np.arange(1, steps + 1)
    late = t >= steps // 10
    return StepDecay(ada, rms, loglog_slope(t[late], ada[late]), loglog_slope(t[late], rms[late]),
                     float(ada[-1] / ada[steps // 10]),
                     float(np.mean(rms[-steps // 10:]) / np.mean(rms[steps // 10: steps // 5])))


def decays_like_inverse_sqrt(r: StepDecay, name: str = "adagrad") -> bool:
    return slope_in(getattr(r, f"{name}_slope"), ADAGRAD_SLOPE)


def step_plateaus(r: StepDecay, name: str = "rmsprop") -> bool:
    return PLATEAU[0] <= getattr(r, f"{name}_ratio") <= PLATEAU[1]


# --------------------------------------------------------------------------- the notes' code
@dataclass(frozen=True)
class NotesAgainstFix:
    """The notes' code and the fixed update on the same problem: both paths, and how far from the
    minimum each ends (on average over the second half of the run for a noisy problem)."""

    notes_path: np.ndarray
    fixed_path: np.ndarray
    notes_dist: float
    fixed_dist: float
    notes_accumulator: float | None = None  # the notes' RMSProp: its grad_squared at the end


def measure_notes_rmsprop(lr: float = 0.01, steps: int = 300, kappa: float = 10.0) -> NotesAgainstFix:
    """The notes' RMSProp (``grad_squared += ...``) against ``optim.RMSprop`` (the same decay rate
    and eps) on the taco shell."""
    land = L.taco(kappa)
    ns = notes.rmsprop(land.exact_grad, np.array([1.0, 1.0]), lr, steps)
    fx = L.trajectory(optim.RMSprop(lr=lr, alpha=0.99, eps=1e-7), land, (1.0, 1.0), steps)
    grad_squared = 0.0                      # the notes' accumulator, replayed on the notes' own iterates
    for x in ns[:-1]:
        dx = land.exact_grad(x)
        grad_squared += 0.99 * grad_squared + 0.01 * dx * dx
    return NotesAgainstFix(ns, fx, float(np.linalg.norm(ns[-1])), float(np.linalg.norm(fx[-1])),
                           float(np.max(grad_squared)))


def notes_code_broken(r: NotesAgainstFix, factor: float = NOTES_BROKEN) -> bool:
    return r.notes_dist >= factor * r.fixed_dist


def adam_without_correction(grad, x0, lr: float, steps: int, beta1: float = 0.9, beta2: float = 0.999,
                            eps: float = 1e-7) -> np.ndarray:
    """Adam with the moments right, (1 - beta) weights, but without bias correction: the notes'
    reduced version with its typo fixed. Returns the path."""
    x = np.array(x0, dtype=float)
    m = v = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(steps):
        g = grad(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - lr * m / (np.sqrt(v) + eps)
        path.append(x.copy())
    return np.array(path)


@dataclass(frozen=True)
class NotesAdam:
    """The notes' (1 + beta1) Adam against the fixed one: the ratio of their steps under a constant
    gradient, and both on the noisy taco shell."""

    step_ratio: float
    beta1: float
    noisy: NotesAgainstFix


def measure_notes_adam(lr: float = 0.01, steps: int = 600, kappa: float = 10.0, sigma: float = 0.5, *,
                       rng) -> NotesAdam:
    """With a constant gradient the notes' first moment settles at (1 + beta1) / (1 - beta1) = 19
    gradients instead of 1; on the noisy taco shell the 19x larger steps keep the iterate further
    from the minimum: by about sqrt(19) = 4.4, as the spread of a noisy iterate grows like the
    square root of its step (3.4x to 7x measured over 600 to 2000 steps, hence the threshold of 2)."""
    ones = notes.adam_reduced(np.ones_like, np.zeros(1), 1.0, 200)
    fixed_ones = adam_without_correction(np.ones_like, np.zeros(1), 1.0, 200)
    land = L.taco(kappa)
    notes_rng, fixed_rng = copies(rng, 2)                  # the same gradient noise for both
    ns = notes.adam_reduced(land.noisy(sigma, rng=notes_rng).grad, np.array([1.0, 1.0]), lr, steps)
    fx = adam_without_correction(land.noisy(sigma, rng=fixed_rng).grad, np.array([1.0, 1.0]), lr, steps)
    tail = slice(steps // 2, None)
    return NotesAdam(float(np.diff(ones[:, 0])[-1] / np.diff(fixed_ones[:, 0])[-1]), 0.9,
                     NotesAgainstFix(ns, fx, float(np.mean(np.linalg.norm(ns[tail], axis=1))),
                                     float(np.mean(np.linalg.norm(fx[tail], axis=1)))))


def typo_factor(r: NotesAdam) -> bool:
    """The notes' step is (1 + beta1) / (1 - beta1) times the right one."""
    return abs(r.step_ratio - (1 + r.beta1) / (1 - r.beta1)) < TYPO_TOL


def notes_adam_broken(r: NotesAdam) -> bool:
    return notes_code_broken(r.noisy, ADAM_TYPO_FACTOR)


@dataclass(frozen=True)
class FirstSteps:
    """The largest coordinate step of Adam without and with bias correction, step by step, and the
    first-step ratio against its prediction (1 - beta1) / sqrt(1 - beta2)."""

    betas: tuple
    lr: float
    uncorrected: np.ndarray
    corrected: np.ndarray

    @property
    def first_ratio(self) -> float:
        return float(self.uncorrected[0] / self.corrected[0])

    @property
    def predicted(self) -> float:
        return (1 - self.betas[0]) / math.sqrt(1 - self.betas[1])


def measure_first_steps(betas=(0.9, 0.999), lr: float = 0.01, steps: int = 20) -> FirstSteps:
    land = L.taco(10.0)
    raw = adam_without_correction(land.exact_grad, (1.0, 1.0), lr, steps, *betas, eps=1e-8)
    fixed = L.trajectory(optim.Adam(lr=lr, betas=tuple(betas)), land, (1.0, 1.0), steps)
    return FirstSteps(tuple(betas), lr, np.abs(np.diff(raw, axis=0)).max(axis=1),
                      np.abs(np.diff(fixed, axis=0)).max(axis=1))


def first_steps_large(r: FirstSteps) -> bool:
    return r.first_ratio >= FIRST_STEP_LARGE


def matches_prediction(r: FirstSteps) -> bool:
    return abs(r.first_ratio - r.predicted) < PREDICTION_TOL


def measure_bias_t0(lr: float = 0.01, steps: int = 5) -> NotesAgainstFix:
    """The notes' full Adam (its step counter starts at 0) against ``optim.Adam`` (from 1)."""
    land = L.taco(10.0)
    ns = notes.adam_full(land.exact_grad, np.array([1.0, 1.0]), lr, steps)
    fx = L.trajectory(optim.Adam(lr=lr, eps=1e-7), land, (1.0, 1.0), steps)
    with np.errstate(invalid="ignore"):
        return NotesAgainstFix(ns, fx, float(np.linalg.norm(ns[-1])), float(np.linalg.norm(fx[-1])))


def finite(path) -> bool:
    return bool(np.all(np.isfinite(path)))


# --------------------------------------------------------------------------- rotation
def best_steps(make_opt, lrs, land, start, steps, tol) -> int | None:
    """Fewest steps to shrink the loss by ``tol`` over a grid of lrs (each run stops early); None
    when no rate gets there."""
    best = None
    f0 = land.loss(start)
    for lr in lrs:
        opt = make_opt(lr)
        p = np.array(start, float)
        for t in range(1, steps + 1):
            opt.step([p], [land.exact_grad(p)])
            if land.loss(p) <= tol * f0:
                best = t if best is None else min(best, t)
                break
            if best is not None and t >= best:
                break
    return best


@dataclass(frozen=True)
class Rotation:
    """Steps to converge on the taco turned by each angle: Adam (best lr of a grid) and tuned
    heavy ball (None: not within the budget)."""

    kappa: float
    angles: tuple
    adam: tuple
    momentum: tuple


def measure_rotation(kappa: float = 100.0, angles=(0, 15, 30, 45), lrs=(0.03, 0.1, 0.3), steps: int = 1500,
                     tol: float = 1e-6) -> Rotation:
    """The start turns with the valley, so only the alignment with the coordinate axes changes."""
    hb = tuned_heavy_ball(kappa)
    adam, mom = [], []
    for a in angles:
        land = L.taco(kappa, a)
        start = rotation(a) @ np.array([1.0, 1.0])
        adam.append(best_steps(lambda lr: optim.Adam(lr=lr), lrs, land, start, steps, tol))
        mom.append(best_steps(lambda lr: optim.SGD(lr=lr, momentum=hb["momentum"]), [hb["lr"]], land, start,
                              steps, tol))
    return Rotation(kappa, tuple(angles), tuple(adam), tuple(mom))


def rotation_hurts_adam(r: Rotation) -> bool:
    """Adam needs :data:`ROTATION_PENALTY` times more steps at 45° than aligned; momentum's steps do
    not depend on the angle (within one step). Both angles must have been run: False otherwise."""
    adam = dict(zip(r.angles, r.adam, strict=True))
    if 0 not in adam or 45 not in adam or adam[0] is None or None in r.momentum:
        return False
    return (adam[45] is None or adam[45] >= ROTATION_PENALTY * adam[0]) and max(r.momentum) - min(r.momentum) <= 1
