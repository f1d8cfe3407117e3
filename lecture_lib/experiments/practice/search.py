"""hp.*: learning rates in log space, random against grid search, coarse to fine, on a synthetic
objective and on a surrogate fitted to real runs of the MLP on the digits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import search as S
from ..._checks import as_rng, check_int, check_positive_int
from ...cache import cached
from .runs import HIDDEN, digits64, seed_from, train_digits

# --------------------------------------------------------------------------- the search objective
SEARCH_SPACE = S.SearchSpace([S.Dimension("lr", 1e-4, 1.0, log=True),
                              S.Dimension("reg", 1e-6, 1e-2, log=True)])


@dataclass(frozen=True)
class DigitsSweep:
    """Validation accuracy of Adam-trained MLPs on a grid of learning rates and weight decays."""

    lrs: np.ndarray
    regs: np.ndarray
    val_acc: np.ndarray  # (len(lrs), len(regs))
    epochs: int

    def surrogate(self) -> S.Surrogate:
        """The objective in unit coordinates of :data:`SEARCH_SPACE`, interpolated between runs."""
        lr_dim, reg_dim = SEARCH_SPACE.dimensions
        return S.Surrogate([lr_dim.to_unit(self.lrs), reg_dim.to_unit(self.regs)], self.val_acc)

    def accuracy_at(self, lrs) -> np.ndarray:
        """Interpolated validation accuracy at the learning rates ``lrs`` (weight decay at its smallest)."""
        unit = SEARCH_SPACE.dimensions[0].to_unit(np.asarray(lrs, float))
        return self.surrogate()(np.c_[unit.ravel(), np.zeros(unit.size)]).reshape(unit.shape)


def measure_digits_sweep(rng, *, lrs_per_decade: int = 2, n_regs: int = 3, epochs: int = 3) -> DigitsSweep:
    """Real runs over :data:`SEARCH_SPACE` (every run starts from the same initial weights, so the
    surface is smooth); cached on disk."""
    lr_dim, reg_dim = SEARCH_SPACE.dimensions
    lrs = lr_dim.from_unit(np.linspace(0, 1, 4 * check_positive_int(lrs_per_decade, "lrs_per_decade") + 1))
    regs = reg_dim.from_unit(np.linspace(0, 1, check_int(n_regs, "n_regs", min=2)))
    seed = seed_from(rng)

    def compute():
        acc = np.zeros((len(lrs), len(regs)))
        for i, lr in enumerate(lrs):
            for j, reg in enumerate(regs):
                net, _, _ = train_digits(seed, lr=float(lr), reg=float(reg), epochs=epochs, optimizer="adam")
                acc[i, j] = net.accuracy(digits64().X_val, digits64().y_val)
        return {"val_acc": acc}

    config = {"lrs": lrs.tolist(), "regs": regs.tolist(), "epochs": epochs, "seed": seed, "hidden": HIDDEN}
    out = cached("practice-digits-sweep", config, compute)
    return DigitsSweep(lrs, regs, np.asarray(out["val_acc"]), epochs)


# --------------------------------------------------------------------------- hp.log-space
@dataclass(frozen=True)
class LogSpace:
    decades: np.ndarray        # lower edges of the decades of the lr range
    uniform_counts: np.ndarray
    log_counts: np.ndarray
    uniform_best: np.ndarray   # best validation accuracy of each repeated search (surrogate)
    log_best: np.ndarray
    real_uniform: tuple        # (lrs, validation accuracies) of one real search each
    real_log: tuple
    trials: int


LOG_BETTER_BY = 0.005  # log sampling's median best must beat uniform's by half a point of accuracy


def measure_log_space(sweep: DigitsSweep, rng, *, trials: int = 8, repeats: int = 400,
                      draws: int = 10_000, real_trials: int | None = None) -> LogSpace:
    """Learning rates drawn uniformly and log-uniformly over the same range: the share of each
    decade; the best validation accuracy of ``trials``-trial searches repeated on the sweep's
    surrogate (weight decay at its smallest); and one real search of each kind with
    ``real_trials`` (default ``trials``) runs of the sweep's length."""
    rng = as_rng(rng)
    trials = check_positive_int(trials, "trials")
    real_trials = trials if real_trials is None else check_positive_int(real_trials, "real_trials")
    lr_dim = SEARCH_SPACE.dimensions[0]
    low, high = lr_dim.low, lr_dim.high
    seed = seed_from(rng)   # the real searches first: the same in every profile
    real = []
    for lrs in (rng.uniform(low, high, real_trials), S.log_uniform(low, high, real_trials, rng=rng)):
        accs = [train_digits(seed, lr=float(lr), epochs=sweep.epochs, optimizer="adam",
                             reg=float(sweep.regs[0]))[0].accuracy(digits64().X_val, digits64().y_val)
                for lr in lrs]
        real.append((lrs, np.array(accs)))
    uniform = rng.uniform(low, high, draws)
    logu = S.log_uniform(low, high, draws, rng=rng)
    u_best = sweep.accuracy_at(rng.uniform(low, high, (repeats, trials))).max(axis=1)
    l_best = sweep.accuracy_at(S.log_uniform(low, high, (repeats, trials), rng=rng)).max(axis=1)
    return LogSpace(10.0 ** np.arange(np.log10(low), np.log10(high)), S.decade_counts(uniform, low, high),
                    S.decade_counts(logu, low, high), u_best, l_best, real[0], real[1], trials)


def log_beats_uniform(r: LogSpace) -> bool:
    return float(np.median(r.log_best) - np.median(r.uniform_best)) >= LOG_BETTER_BY


# --------------------------------------------------------------------------- hp.random-beats-grid
@dataclass(frozen=True)
class RandomVsGrid:
    objective: str
    budgets: np.ndarray
    grid_regret: np.ndarray     # (repeats, budgets): best possible minus best found
    random_regret: np.ndarray
    grid_distinct: np.ndarray   # distinct values of the important hyperparameter tried, per budget
    random_distinct: np.ndarray


RANDOM_WINS_FROM = 4   # random search's median regret must be below the grid's from 4 trials on


def search_problems(objective: str, repeats: int, rng, sweep: DigitsSweep | None = None) -> list:
    """``repeats`` objectives on the unit square (important hyperparameter first) with their best
    values: the synthetic bump at a random place, or the digits surrogate seen through a
    three-decade window of learning rates at a random offset (so the grid's luck averages out)."""
    rng = as_rng(rng)
    if objective == "synthetic":
        return [(S.PeakObjective(centre=tuple(c)), 1.0) for c in rng.uniform(0.1, 0.9, (repeats, 2))]
    if objective != "digits" or sweep is None:
        raise ValueError(f"objective={objective!r} is not valid; expected 'synthetic', or 'digits' with a sweep")
    fine = np.stack(np.meshgrid(np.linspace(0, 1, 201), np.linspace(0, 1, 11), indexing="ij"), -1).reshape(-1, 2)
    f = sweep.surrogate()
    seen = [S.window(f, a, 0.75) for a in rng.uniform(0.0, 0.25, repeats)]
    return [(g, float(g(fine).max())) for g in seen]


def measure_random_vs_grid(objective: str, rng, *, budgets=(1, 4, 9, 16, 25), repeats: int = 200,
                           sweep: DigitsSweep | None = None) -> RandomVsGrid:
    """Grid against random search at each budget, on ``repeats`` problems of :func:`search_problems`."""
    rng = as_rng(rng)
    problems = search_problems(objective, repeats, rng, sweep)
    grid, random, distinct = S.compare_grid_and_random(problems, budgets, rng)
    grid_distinct = np.array([S.distinct_values(S.grid_points(S.UNIT_SQUARE, b)[:, 0]) for b in budgets])
    return RandomVsGrid(objective, np.array(budgets), grid, random, grid_distinct, distinct)


def random_beats_grid(r: RandomVsGrid) -> bool:
    """From :data:`RANDOM_WINS_FROM` trials on, random search's median regret is the lower."""
    keep = r.budgets >= RANDOM_WINS_FROM
    return bool(np.all(np.median(r.random_regret[:, keep], 0) < np.median(r.grid_regret[:, keep], 0)))


# --------------------------------------------------------------------------- hp.coarse-to-fine
@dataclass(frozen=True)
class CoarseToFine:
    objective: str
    budget: int
    one_stage: np.ndarray    # regret of each repeated search
    two_stage: np.ndarray


def measure_coarse_to_fine(objective: str, rng, *, budget: int = 16, repeats: int = 200, shrink: float = 0.3,
                           sweep: DigitsSweep | None = None) -> CoarseToFine:
    """Random search with ``budget`` trials in one stage, against half of them over the whole box
    and half in a box of side ``shrink`` around the best of the first half."""
    rng = as_rng(rng)
    one, two = S.compare_coarse_to_fine(search_problems(objective, repeats, rng, sweep), budget, rng, shrink=shrink)
    return CoarseToFine(objective, budget, one, two)


def narrowing_helps(r: CoarseToFine) -> bool:
    return float(np.median(r.two_stage)) < float(np.median(r.one_stage))
