"""Hyperparameter search: the space to search, log-uniform sampling, grid and random search, the
best-so-far curve, coarse-to-fine narrowing, and the objectives the course searches.

A search space is a box of named dimensions, each linear or logarithmic. Every search works in
*unit coordinates* (each dimension mapped to [0, 1], in log10 for a log dimension) and maps back::

    space = SearchSpace([Dimension("lr", 1e-5, 1.0, log=True), Dimension("reg", 1e-6, 1e-2, log=True)])
    values = random_points(space, 20, rng)        # (20, 2) learning rates and weight decays
    values = grid_points(space, 20)               # a 4 x 5 grid: the most square grid of <= 20 trials

:func:`random_points` draws like scikit-learn's ``ParameterSampler`` with ``scipy.stats.loguniform``
(for the same unit numbers, the same values), and :func:`grid_points` gives ``ParameterGrid``'s
product (tests/test_practice.py checks both).

Math only: no plotting, widgets or torch here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._checks import as_rng, check_array, check_bool, check_int, check_positive_int, check_probability, check_scalar


# --------------------------------------------------------------------------- the space
@dataclass(frozen=True)
class Dimension:
    """One hyperparameter searched between ``low`` and ``high``, uniformly in log10 if ``log``."""

    name: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name={self.name!r} is not valid; expected a non-empty string")
        low = check_scalar(self.low, f"{self.name}: low")
        high = check_scalar(self.high, f"{self.name}: high")
        check_bool(self.log, f"{self.name}: log")
        if self.log and min(low, high) <= 0:
            bad, value = ("low", low) if low <= 0 else ("high", high)
            raise ValueError(f"{self.name}: {bad}={value:g} is not valid for a log-uniform range; "
                             "expected both bounds > 0")
        if not low < high:
            raise ValueError(f"{self.name}: low={low:g}, high={high:g} is not a range; expected low < high")

    def from_unit(self, u):
        """Map unit coordinates in [0, 1] to values of this hyperparameter."""
        if self.log:
            lo, hi = math.log10(self.low), math.log10(self.high)
            return 10.0 ** (lo + np.asarray(u, float) * (hi - lo))
        return self.low + np.asarray(u, float) * (self.high - self.low)

    def to_unit(self, values):
        values = np.asarray(values, float)
        if self.log:
            lo, hi = math.log10(self.low), math.log10(self.high)
            return (np.log10(values) - lo) / (hi - lo)
        return (values - self.low) / (self.high - self.low)


class SearchSpace:
    """A box of :class:`Dimension` s (at least one, names distinct)."""

    def __init__(self, dimensions: Sequence[Dimension]):
        if isinstance(dimensions, Dimension):
            dimensions = [dimensions]
        dims = tuple(dimensions) if isinstance(dimensions, (list, tuple)) else None
        if dims is None:
            raise TypeError(f"dimensions={dimensions!r} is not valid; expected a list of Dimension")
        if not dims:
            raise ValueError("dimensions=[] is an empty search space; expected at least one Dimension")
        for d in dims:
            if not isinstance(d, Dimension):
                raise TypeError(f"dimensions holds {d!r}; expected Dimension objects")
        names = [d.name for d in dims]
        if len(set(names)) != len(names):
            raise ValueError(f"dimensions have names {names}; expected distinct names")
        self.dimensions = dims

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    def __len__(self) -> int:
        return len(self.dimensions)

    def from_unit(self, u) -> np.ndarray:
        u = check_array(u, "u", shape=(None, len(self)))
        return np.stack([d.from_unit(u[:, i]) for i, d in enumerate(self.dimensions)], axis=1)

    def to_unit(self, values) -> np.ndarray:
        values = check_array(values, "values", shape=(None, len(self)))
        return np.stack([d.to_unit(values[:, i]) for i, d in enumerate(self.dimensions)], axis=1)

    def as_dicts(self, values) -> list[dict]:
        """Rows of values as dicts name -> value (the form scikit-learn's samplers give)."""
        return [dict(zip(self.names, map(float, row), strict=True)) for row in np.asarray(values)]


def log_uniform(low: float, high: float, size=None, *, rng):
    """Numbers spread evenly over the decades between ``low`` and ``high`` (both > 0):
    ``10 ** rng.uniform(log10(low), log10(high))``, the clear way to write the notes'
    ``10**uniform(-3, -6)``."""
    d = Dimension("value", low, high, log=True)
    return d.from_unit(as_rng(rng).uniform(0.0, 1.0, size))


def decade_counts(values, low: float, high: float) -> np.ndarray:
    """How many of ``values`` fall in each decade [10^k, 10^(k+1)) from ``low`` to ``high`` (powers of
    ten); the last decade includes ``high``."""
    lo, hi = math.log10(check_scalar(low, "low", min=0, min_inclusive=False)), math.log10(
        check_scalar(high, "high", min=0, min_inclusive=False))
    if not (float(lo).is_integer() and float(hi).is_integer() and lo < hi):
        raise ValueError(f"low={low:g}, high={high:g} is not valid; expected powers of ten, low < high")
    edges = 10.0 ** np.arange(lo, hi + 1)
    counts, _ = np.histogram(np.asarray(values, float), bins=edges)
    return counts


# --------------------------------------------------------------------------- grid and random search
def random_points(space: SearchSpace, n: int, rng) -> np.ndarray:
    """``n`` trials drawn uniformly in unit coordinates: values of shape (n, dimensions)."""
    n = check_positive_int(n, "n")
    return space.from_unit(as_rng(rng).random((n, len(space))))


def grid_shape(n: int, n_dims: int) -> tuple[int, ...]:
    """Values per dimension of the most square grid with at most ``n`` points (the first
    dimensions get the fewer values): 9 -> (3, 3), 10 -> (3, 3), 12 -> (3, 4), 20 -> (4, 5)."""
    n = check_positive_int(n, "n")
    n_dims = check_positive_int(n_dims, "n_dims")
    counts = []
    left = n
    for i in range(n_dims):
        rest = n_dims - i
        k = max(1, int(math.floor(left ** (1.0 / rest) + 1e-9)))
        counts.append(k)
        left //= k
    return tuple(counts)


def grid_axes(space: SearchSpace, counts: Sequence[int], *, include_ends: bool = False) -> list[np.ndarray]:
    """The values tried along each dimension: ``counts[i]`` evenly spaced in unit coordinates, at
    the centres of equal cells (the most even cover) or, with ``include_ends``, from end to end
    (the notes' {0.001, 0.01, 0.1, 1})."""
    if len(counts) != len(space):
        raise ValueError(f"counts={tuple(counts)!r} has {len(counts)} entries; expected {len(space)}")
    axes = []
    for d, k in zip(space.dimensions, counts, strict=True):
        k = check_positive_int(k, f"counts[{d.name}]")
        if include_ends and k > 1:
            u = np.linspace(0.0, 1.0, k)
        else:
            u = (np.arange(k) + 0.5) / k
        axes.append(d.from_unit(u))
    return axes


def grid_points(space: SearchSpace, n: int, *, include_ends: bool = False) -> np.ndarray:
    """The grid of :func:`grid_shape` (at most ``n`` trials), as rows of values in product order
    (the first dimension varies slowest, like ``itertools.product`` and ``ParameterGrid``)."""
    axes = grid_axes(space, grid_shape(n, len(space)), include_ends=include_ends)
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def best_so_far(scores) -> np.ndarray:
    """The best score among the first t trials, for t = 1, 2, ... (higher is better)."""
    scores = check_array(scores, "scores", ndim=1, nonempty=True)
    return np.maximum.accumulate(scores)


def distinct_values(values, decimals: int = 9) -> int:
    """How many different values one hyperparameter took in a search."""
    return len(np.unique(np.round(np.asarray(values, float), decimals)))


# --------------------------------------------------------------------------- coarse to fine
def narrowed_box(best_unit, shrink: float) -> np.ndarray:
    """A box of side ``shrink`` (in unit coordinates) centred on the best trial, moved inside
    [0, 1]: rows (low, high) per dimension."""
    best_unit = check_array(best_unit, "best_unit", ndim=1)
    shrink = check_probability(shrink, "shrink", allow_zero=False)
    low = np.clip(best_unit - shrink / 2, 0.0, 1.0 - shrink)
    return np.stack([low, low + shrink], axis=1)


def coarse_to_fine(objective: Callable, n_dims: int, budget: int, rng, *, shrink: float = 0.3,
                   coarse_fraction: float = 0.5) -> np.ndarray:
    """Two-stage random search in unit coordinates: ``coarse_fraction`` of the budget over the
    whole box, the rest in a box of side ``shrink`` around the best coarse trial. ``objective``
    maps unit points (n, n_dims) to scores (n,), higher is better; returns every trial's score in
    the order tried."""
    budget = check_int(budget, "budget", min=2)
    n_dims = check_positive_int(n_dims, "n_dims")
    coarse_fraction = check_probability(coarse_fraction, "coarse_fraction", allow_zero=False, allow_one=False)
    rng = as_rng(rng)
    n_coarse = min(budget - 1, max(1, int(round(coarse_fraction * budget))))
    coarse = rng.random((n_coarse, n_dims))
    coarse_scores = np.asarray(objective(coarse), float)
    box = narrowed_box(coarse[int(np.argmax(coarse_scores))], shrink)
    fine = box[:, 0] + rng.random((budget - n_coarse, n_dims)) * (box[:, 1] - box[:, 0])
    return np.concatenate([coarse_scores, np.asarray(objective(fine), float)])


# --------------------------------------------------------------------------- objectives
@dataclass(frozen=True)
class PeakObjective:
    """A synthetic objective on the unit square: a bump in each coordinate, weighted, so that
    ``weights=(1, 0.1)`` makes the first hyperparameter matter ten times more than the second.
    Scores lie in [0, 1] with the maximum 1 at ``centre``."""

    centre: tuple = (0.62, 0.35)
    weights: tuple = (1.0, 0.1)
    width: float = 0.08

    def __call__(self, unit) -> np.ndarray:
        unit = np.atleast_2d(np.asarray(unit, float))
        c, w = np.asarray(self.centre, float), np.asarray(self.weights, float)
        bumps = np.exp(-0.5 * ((unit - c) / self.width) ** 2)
        return bumps @ w / w.sum()


class Surrogate:
    """A cheap stand-in for an expensive objective: linear interpolation, in unit coordinates, of
    scores measured on a grid of real runs (``scores[i, j]`` at ``axes[0][i], axes[1][j]``)."""

    def __init__(self, axes: Sequence, scores):
        from scipy.interpolate import RegularGridInterpolator

        self.axes = [check_array(a, f"axes[{i}]", ndim=1) for i, a in enumerate(axes)]
        self.scores = check_array(scores, "scores", shape=tuple(len(a) for a in self.axes), finite=True)
        self._interp = RegularGridInterpolator(tuple(self.axes), self.scores, method="linear",
                                               bounds_error=False, fill_value=None)

    def __call__(self, unit) -> np.ndarray:
        unit = np.atleast_2d(np.asarray(unit, float))
        lo = np.array([a[0] for a in self.axes])
        hi = np.array([a[-1] for a in self.axes])
        return self._interp(np.clip(unit, lo, hi))

    @property
    def best(self) -> float:
        return float(self.scores.max())


# --------------------------------------------------------------------------- comparing searches
UNIT_SQUARE = SearchSpace([Dimension("x", 0.0, 1.0), Dimension("y", 0.0, 1.0)])


def window(objective: Callable, offset: float, width: float) -> Callable:
    """``objective`` seen through a window of its first coordinate: unit x maps to
    ``offset + width * x`` (a search range placed differently on the same landscape)."""
    def seen(unit):
        unit = np.atleast_2d(np.asarray(unit, float))
        return objective(np.c_[offset + width * unit[:, 0], unit[:, 1:]])
    return seen


def compare_grid_and_random(problems, budgets, rng):
    """For each ``(objective, best_value)`` of ``problems`` (objectives on the unit square, higher is
    better) and each budget: the regret (best value minus best found) of the grid of
    :func:`grid_points` and of one random search (whose first b trials are its budget-b search),
    and how many distinct values of the first hyperparameter the random search tried.
    Returns arrays (problems, budgets): grid regret, random regret, random distinct values."""
    rng = as_rng(rng)
    budgets = [check_positive_int(b, "budget") for b in budgets]
    grids = [grid_points(UNIT_SQUARE, b) for b in budgets]
    grid_regret = np.zeros((len(problems), len(budgets)))
    random_regret, random_distinct = np.zeros_like(grid_regret), np.zeros_like(grid_regret)
    for r, (f, top) in enumerate(problems):
        points = rng.random((max(budgets), 2))
        running = best_so_far(f(points))
        for j, b in enumerate(budgets):
            grid_regret[r, j] = top - f(grids[j]).max()
            random_regret[r, j] = top - running[b - 1]
            random_distinct[r, j] = distinct_values(points[:b, 0])
    return grid_regret, random_regret, random_distinct


def compare_coarse_to_fine(problems, budget: int, rng, *, shrink: float = 0.3):
    """Regret of one-stage random search and of :func:`coarse_to_fine` with the same budget, per
    problem (see :func:`compare_grid_and_random`)."""
    rng = as_rng(rng)
    one = np.array([top - f(rng.random((budget, 2))).max() for f, top in problems])
    two = np.array([top - coarse_to_fine(f, 2, budget, rng, shrink=shrink).max() for f, top in problems])
    return one, two
