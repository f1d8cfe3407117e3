"""The experiments of 04's sections on gradient descent with mini-batches and on the problems of SGD:
duplicated data, mini-batch noise, batch-size timing, the taco shell, condition numbers of random
Hessians, saddles. Also the pieces the other sections share: the digits problem, running an update
written as a function (:func:`iterate`), steps to a target, tuned rates for a quadratic."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np

from ... import landscapes as L
from ... import nets, optim
from ..._checks import as_rng, check_array, check_choice, check_int, check_positive_int, check_scalar
from ...config import single_thread
from ...timing import TIMING_MARGIN

__all__ = ["DUPLICATES_TOL", "NOISE_SLOPE", "JITTER_FLIPS", "CRAWL_RATIO", "GD_SLOPE", "HB_SLOPE",
           "GROWTH", "MINIMA_RARE", "SADDLES_DOMINATE", "SADDLE_SLOWDOWN", "MOMENTUM_ESCAPE",
           "copies", "softmax_digits", "iterate", "steps_to", "rotation", "loglog_slope",
           "tuned_gd", "tuned_heavy_ball", "slope_in", "Duplicates", "measure_duplicates",
           "duplicates_hold", "MinibatchNoise", "measure_minibatch_noise", "minibatch_noise_holds",
           "BatchTiming", "powers_of_two_summary", "measure_batch_timing",
           "powers_of_two_within_margin", "KAPPA_TOL", "NO_EFFECT", "powers_of_two_unremarkable",
           "condition_number_is", "Jitter", "measure_jitter", "jitter_holds",
           "ConditionScaling", "measure_condition_scaling", "gd_steps_grow_like_kappa",
           "momentum_steps_grow_like_sqrt_kappa", "HESSIAN_KINDS", "random_hessian",
           "ConditionGrowth", "measure_condition_vs_dimension", "condition_grows", "CriticalPoints",
           "measure_critical_points", "minima_rare_holds", "saddles_dominate", "escape_steps",
           "SaddleEscape", "measure_saddle", "saddle_slows", "momentum_escapes_faster"]

DUPLICATES_TOL = 1e-9         # float64 rounding over ~1000 rows; uneven copies give ~1
NOISE_SLOPE = (-1.3, -0.7)    # gradient-noise variance against batch size, on log-log axes
JITTER_FLIPS = 0.9            # the steep coordinate reverses on at least 90% of the steps
CRAWL_RATIO = 5.0             # the shallow axis takes 5x more steps to halve than the steep one
GD_SLOPE = (0.8, 1.2)         # steps-to-converge against kappa: gradient descent ~ kappa
HB_SLOPE = (0.3, 0.7)         # tuned heavy ball ~ sqrt(kappa)
GROWTH = 10.0                 # "grows with dimension": the median condition number rises 10x
MINIMA_RARE = 0.01            # at the largest dimension fewer than 1% of critical points are minima
SADDLES_DOMINATE = 0.9        # from dimension 3 on, more than 90% of critical points are saddles
SADDLE_SLOWDOWN = 3.0         # starting near the saddle costs 3x more steps to escape
KAPPA_TOL = 1e-9              # the Hessian's singular values give back the taco's kappa to rounding
NO_EFFECT = 0.1               # powers of two within 10% of their neighbours: "no special effect"
MOMENTUM_ESCAPE = 2.0         # momentum leaves the saddle at least twice as fast


# --------------------------------------------------------------------------- shared pieces
def copies(rng, n: int) -> list:
    """``n`` generators in the same state as ``rng``: paired runs draw the same numbers."""
    rng = as_rng(rng)
    return [copy.deepcopy(rng) for _ in range(check_positive_int(n, "n"))]


def softmax_digits():
    """The digits for softmax regression, with a column of ones appended (so that W's last row is
    the bias): ``(X_train, y_train, X_val, y_val)``, float64."""
    from ...data import digits

    s = digits(seed=0)
    X = np.c_[s.X_train.astype(np.float64), np.ones(len(s.X_train))]
    X_val = np.c_[s.X_val.astype(np.float64), np.ones(len(s.X_val))]
    return X, s.y_train, X_val, s.y_val


def iterate(step, grad, x0, steps: int, state, lr, **hyper) -> np.ndarray:
    """The path of an update written as a function ``step(x, grad, state, lr, **hyper) -> (x, state)``
    from ``x0``: ``steps + 1`` points. ``grad`` is the gradient function, ``state`` the update's
    starting state (0 for a velocity, (0, 0, 0) for Adam's moments and step), and ``lr`` a number or
    one learning rate per step."""
    if not callable(step) or not callable(grad):
        raise TypeError("step and grad are not valid; expected functions")
    steps = check_int(steps, "steps", min=0, max=10_000_000)
    lrs = np.broadcast_to(np.asarray(lr, dtype=float), (steps,)) if np.ndim(lr) == 0 else \
        check_array(np.asarray(lr, dtype=float), "lr", shape=(steps,))
    x = check_array(np.array(x0, dtype=np.float64), "x0", finite=True)
    path = [x]
    for t in range(steps):
        x, state = step(x, grad, state, lr=float(lrs[t]), **hyper)
        path.append(np.asarray(x, dtype=np.float64))
    return np.array(path)


def steps_to(path: np.ndarray, target, tol: float) -> int | None:
    """First step at which the distance to ``target`` falls below ``tol`` times the initial one;
    None when it never does."""
    d = np.linalg.norm(path - np.asarray(target), axis=-1)
    hit = np.nonzero(d <= check_scalar(tol, "tol", min=0.0) * d[0])[0]
    return int(hit[0]) if len(hit) else None


def rotation(angle: float) -> np.ndarray:
    a = math.radians(check_scalar(angle, "angle"))
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    x, y = check_array(np.asarray(x, float), "x", ndim=1), check_array(np.asarray(y, float), "y", ndim=1)
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def tuned_gd(kappa: float) -> dict:
    """The best constant lr of gradient descent on a quadratic with curvatures 1 and 1/kappa."""
    return {"lr": 2 / (1 + 1 / check_scalar(kappa, "kappa", min=1.0))}


def tuned_heavy_ball(kappa: float) -> dict:
    """Polyak's tuning of heavy-ball momentum for curvatures in [1/kappa, 1]."""
    r = math.sqrt(check_scalar(kappa, "kappa", min=1.0))
    return {"lr": 4 / (1 + 1 / r) ** 2, "momentum": ((r - 1) / (r + 1)) ** 2}


def slope_in(slope: float, window) -> bool:
    return window[0] <= slope <= window[1]


# --------------------------------------------------------------------------- mini-batches
@dataclass(frozen=True)
class Duplicates:
    n_total: int
    n_unique: int
    rel_error: float


@single_thread()
def measure_duplicates(copies_each: int = 120, n_unique: int = 10, counts=None, *, rng) -> Duplicates:
    """The softmax-regression gradient on ``n_unique`` digits against the gradient on a dataset of
    their copies (``copies_each`` of each, or ``counts[i]`` of example i)."""
    X, y, _, _ = softmax_digits()
    rng, n_unique = as_rng(rng), check_positive_int(n_unique, "n_unique", max=10)
    idx = np.array([rng.choice(np.nonzero(y == k)[0]) for k in range(n_unique)])
    counts = np.full(n_unique, check_positive_int(copies_each, "copies_each")) if counts is None else \
        check_array(counts, "counts", kind="int", shape=(n_unique,))
    W = rng.normal(0, 0.1, (X.shape[1], 10))
    g_unique = nets.softmax_regression_loss(W, None, X[idx], y[idx])[1]
    big = np.repeat(idx, counts)
    g_big = nets.softmax_regression_loss(W, None, X[big], y[big])[1]
    rel = float(np.max(np.abs(g_big - g_unique) / np.maximum(1e-8, np.abs(g_big) + np.abs(g_unique))))
    return Duplicates(int(counts.sum()), n_unique, rel)


def duplicates_hold(r: Duplicates) -> bool:
    return r.rel_error < DUPLICATES_TOL


@dataclass(frozen=True)
class MinibatchNoise:
    """Mean squared distance between a mini-batch gradient and the full one, per batch size."""

    batch_sizes: tuple
    noise: tuple
    slope: float
    full_norm2: float


@single_thread()
def measure_minibatch_noise(batch_sizes=(1, 4, 16, 64, 256), draws: int = 200, *, rng,
                            one_example: bool = False) -> MinibatchNoise:
    """``one_example=True`` is the opposite experiment: each batch is B copies of one example."""
    X, y, _, _ = softmax_digits()
    rng, draws = as_rng(rng), check_positive_int(draws, "draws", max=1_000_000)
    batch_sizes = tuple(check_positive_int(b, "batch_sizes item", max=len(y)) for b in batch_sizes)
    W = rng.normal(0, 0.1, (X.shape[1], 10))
    g_full = nets.softmax_regression_loss(W, None, X, y)[1]
    noise = []
    for b in batch_sizes:
        errs = []
        for _ in range(draws):
            idx = np.repeat(rng.integers(len(y)), b) if one_example else rng.choice(len(y), size=b, replace=False)
            errs.append(np.sum((nets.softmax_regression_loss(W, None, X[idx], y[idx])[1] - g_full) ** 2))
        noise.append(float(np.mean(errs)))
    return MinibatchNoise(batch_sizes, tuple(noise), loglog_slope(batch_sizes, noise), float(np.sum(g_full ** 2)))


def minibatch_noise_holds(r: MinibatchNoise) -> bool:
    return slope_in(r.slope, NOISE_SLOPE)


@dataclass(frozen=True)
class BatchTiming:
    """Time per example by batch size, and for each power of two among the sizes its time over the
    mean of its two neighbours' (below 1: the power of two is faster)."""

    sizes: tuple
    per_sample: tuple
    ratios: dict


def powers_of_two_summary(sizes, per_sample) -> BatchTiming:
    sizes, per_sample = tuple(int(s) for s in sizes), tuple(float(t) for t in per_sample)
    ratios = {b: per_sample[i] / ((per_sample[i - 1] + per_sample[i + 1]) / 2)
              for i, b in enumerate(sizes) if b & (b - 1) == 0 and 0 < i < len(sizes) - 1}
    return BatchTiming(sizes, per_sample, ratios)


def measure_batch_timing(sizes=(31, 32, 33, 63, 64, 65, 127, 128, 129), width: int = 256, repeats: int = 7,
                         *, rng) -> BatchTiming:
    """Time per example of a forward + backward pass of a two-layer ReLU MLP (:class:`nets.MLP`, one
    BLAS thread) by batch size: the best of ``repeats`` passes each."""
    rng, repeats = as_rng(rng), check_positive_int(repeats, "repeats", max=10_000)
    net = nets.MLP([width, width, 10], rng=rng)
    per_sample = []
    with single_thread():
        for b in sizes:
            b = check_positive_int(b, "sizes item", max=100_000)
            X, y = rng.standard_normal((b, width)), rng.integers(0, 10, b)
            best = math.inf
            for _ in range(repeats):
                start = time.perf_counter()
                net.loss(X, y)
                best = min(best, time.perf_counter() - start)
            per_sample.append(best / b)
    return powers_of_two_summary(sizes, per_sample)


def powers_of_two_within_margin(r: BatchTiming) -> bool:
    """No power of two is more than the timing margin faster or slower per example than its
    neighbours (the measured effect, if any, is within the margin)."""
    return bool(r.ratios) and all(1 / TIMING_MARGIN <= q <= TIMING_MARGIN for q in r.ratios.values())


def powers_of_two_unremarkable(r: BatchTiming) -> bool:
    """Every power of two runs within NO_EFFECT of its neighbours' time per example."""
    return bool(r.ratios) and all(abs(q - 1) < NO_EFFECT for q in r.ratios.values())


def condition_number_is(measured: float, kappa: float) -> bool:
    """A condition number computed from singular values equals ``kappa`` to KAPPA_TOL (relative)."""
    return abs(measured - kappa) < KAPPA_TOL * kappa


# --------------------------------------------------------------------------- problems with SGD
@dataclass(frozen=True)
class Jitter:
    """Gradient descent on the axis-aligned taco shell (steep x, shallow y): its path, the share of
    steps that reverse x, and the steps each coordinate takes to halve (None: never)."""

    kappa: float
    lr: float
    path: np.ndarray
    flips: float
    half_steep: int | None
    half_shallow: int | None


def measure_jitter(kappa: float = 50.0, lr: float = 1.5, steps: int = 60) -> Jitter:
    path = L.trajectory(optim.SGD(lr=lr), L.taco(kappa), (1.0, 1.0), steps)
    dx = np.diff(path[:, 0])

    def half_life(v):
        hit = np.nonzero(np.abs(v) <= 0.5 * abs(v[0]))[0]
        return int(hit[0]) if len(hit) else None

    return Jitter(kappa, lr, path, float(np.mean(np.sign(dx[1:]) != np.sign(dx[:-1]))),
                  half_life(path[:, 0]), half_life(path[:, 1]))


def jitter_holds(r: Jitter) -> bool:
    """The steep coordinate flips on most steps and halves fast; the shallow one crawls."""
    if r.flips < JITTER_FLIPS or r.half_steep is None:
        return False
    return r.half_shallow is None or r.half_shallow >= CRAWL_RATIO * r.half_steep


@dataclass(frozen=True)
class ConditionScaling:
    kappas: tuple
    gd: tuple
    hb: tuple
    gd_slope: float
    hb_slope: float


def measure_condition_scaling(kappas=(10, 30, 100, 300), tol: float = 1e-6) -> ConditionScaling:
    """Steps to shrink the distance to the minimum by ``tol``: tuned GD and tuned heavy ball."""
    gd, hb = [], []
    for k in kappas:
        land = L.taco(k)
        n = int(3 * k * math.log(1 / tol)) + 10
        gd.append(steps_to(L.trajectory(optim.SGD(**tuned_gd(k)), land, (1.0, 1.0), n), (0, 0), tol))
        n = int(3 * math.sqrt(k) * math.log(1 / tol)) + 50
        hb.append(steps_to(L.trajectory(optim.SGD(**tuned_heavy_ball(k)), land, (1.0, 1.0), n), (0, 0), tol))
    return ConditionScaling(tuple(kappas), tuple(gd), tuple(hb), loglog_slope(kappas, gd), loglog_slope(kappas, hb))


def gd_steps_grow_like_kappa(r: ConditionScaling) -> bool:
    return slope_in(r.gd_slope, GD_SLOPE)


def momentum_steps_grow_like_sqrt_kappa(r: ConditionScaling) -> bool:
    return slope_in(r.hb_slope, HB_SLOPE)


HESSIAN_KINDS = ("goe", "wishart", "lsq4")


def random_hessian(kind: str, n: int, rng) -> np.ndarray:
    """``goe``: a random symmetric matrix (the Hessian at a random point, up to scale);
    ``wishart``: ``A A^T / n`` with A square (a Gauss-Newton Hessian with as many samples as
    parameters); ``lsq4``: ``A A^T`` with 4n samples (a well-sampled least-squares problem)."""
    check_choice(kind, "kind", HESSIAN_KINDS)
    n, rng = check_positive_int(n, "n", max=10_000), as_rng(rng)
    if kind == "goe":
        A = rng.standard_normal((n, n))
        return (A + A.T) / math.sqrt(2 * n)
    if kind == "wishart":
        A = rng.standard_normal((n, n))
        return A @ A.T / n
    A = rng.standard_normal((n, 4 * n))
    return A @ A.T / (4 * n)


@dataclass(frozen=True)
class ConditionGrowth:
    kind: str
    dims: tuple
    median_kappa: tuple


@single_thread()
def measure_condition_vs_dimension(dims=(2, 8, 32, 128), trials: int = 20, kind: str = "goe", *,
                                   rng) -> ConditionGrowth:
    """The median condition number of random Hessians of a family, by dimension."""
    rng, med = as_rng(rng), []
    for n in dims:
        ks = []
        for _ in range(check_positive_int(trials, "trials")):
            s = np.linalg.svd(random_hessian(kind, n, rng), compute_uv=False)
            ks.append(s[0] / s[-1])
        med.append(float(np.median(ks)))
    return ConditionGrowth(kind, tuple(dims), tuple(med))


def condition_grows(r: ConditionGrowth) -> bool:
    k = r.median_kappa
    return k[-1] >= GROWTH * k[0] and all(b >= a for a, b in zip(k, k[1:], strict=False))


@dataclass(frozen=True)
class CriticalPoints:
    """The share of random critical points (random Hessians) that are minima (all eigenvalues > 0),
    maxima (all < 0) and saddles (mixed signs), by dimension."""

    dims: tuple
    minima: tuple
    maxima: tuple
    saddles: tuple


@single_thread()
def measure_critical_points(dims=(1, 2, 3, 4, 6, 8), samples: int = 4000, kind: str = "goe", *,
                            rng) -> CriticalPoints:
    rng, minima, maxima = as_rng(rng), [], []
    for n in dims:
        ev = np.linalg.eigvalsh(np.stack([random_hessian(kind, n, rng)
                                          for _ in range(check_positive_int(samples, "samples"))]))
        minima.append(float(np.mean(np.all(ev > 0, axis=1))))
        maxima.append(float(np.mean(np.all(ev < 0, axis=1))))
    return CriticalPoints(tuple(dims), tuple(minima), tuple(maxima),
                          tuple(1 - a - b for a, b in zip(minima, maxima, strict=True)))


def minima_rare_holds(r: CriticalPoints) -> bool:
    m = r.minima
    return m[-1] < MINIMA_RARE and all(b <= a for a, b in zip(m, m[1:], strict=False))


def saddles_dominate(r: CriticalPoints, from_dim: int = 3) -> bool:
    return min(s for n, s in zip(r.dims, r.saddles, strict=True) if n >= from_dim) > SADDLES_DOMINATE


def escape_steps(opt, start, steps: int = 400, threshold: float = 0.5) -> int | None:
    """Steps until |y| exceeds ``threshold`` on the saddle landscape (the run has left it)."""
    path = L.trajectory(opt, L.saddle(), start, steps)
    hit = np.nonzero(np.abs(path[:, 1]) > threshold)[0]
    return int(hit[0]) if len(hit) else None


@dataclass(frozen=True)
class SaddleEscape:
    """Steps to leave the saddle (None: not within the budget) from a start near it and one away
    from it, for GD, heavy ball and Nesterov at the same lr."""

    lr: float
    near: float
    far: float
    sgd_near: int | None
    sgd_far: int | None
    momentum_near: int | None
    momentum_far: int | None
    nesterov_near: int | None
    nesterov_far: int | None


def measure_saddle(lr: float = 0.1, momentum: float = 0.9, near: float = 1e-3, far: float = 0.3) -> SaddleEscape:
    found = []
    for kw in ({}, {"momentum": momentum}, {"momentum": momentum, "nesterov": True}):
        found += [escape_steps(optim.SGD(lr=lr, **kw), (1.0, y0)) for y0 in (near, far)]
    return SaddleEscape(lr, near, far, *found)


def saddle_slows(r: SaddleEscape) -> bool:
    return r.sgd_far is not None and (r.sgd_near is None or r.sgd_near >= SADDLE_SLOWDOWN * r.sgd_far)


def momentum_escapes_faster(r: SaddleEscape) -> bool:
    return r.momentum_near is not None and (r.sgd_near is None or r.sgd_near >= MOMENTUM_ESCAPE * r.momentum_near)
