"""The measurements of 01_activations that train or build torch networks
(:func:`lecture_lib.models.perceptron.mlp`, seeded from the experiment's ``rng``): dead units after a bad
init or a too-high learning rate, PReLU's learned slope, Maxout's parameter count, and the race to a
target accuracy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import activations as A
from ..._checks import as_rng, check_array, check_names, check_positive_int, check_scalar
from ...config import single_thread

__all__ = ["MANY_DEAD", "FEW_DEAD", "LEARNED_MOVE", "FASTER_BY", "unit_local_gradients",
           "dead_fraction", "DeadUnits", "measure_dead_at_init", "measure_dead_after_training",
           "many_dead", "few_dead", "none_dead", "bias_lowers_dead", "PReluLearning",
           "measure_prelu_learning", "alpha_learned", "frozen_alpha_stays",
           "ParameterCounts", "measure_parameter_counts", "doubles_parameters", "RaceEntry", "ConvergenceRace",
           "measure_convergence_race", "converges_faster"]



MANY_DEAD = 0.10              # at least this fraction of dead units: "units die"
FEW_DEAD = 0.02               # at most this: "essentially no dead units"
LEARNED_MOVE = 0.01           # PReLU's slope moved by at least this on average: "learned"
FASTER_BY = 1.25              # median steps-to-target lower by this factor: "converges faster"


# ------------------------------------------------------------------ torch networks: dead units
def unit_local_gradients(activation: str, z: np.ndarray, model=None, layer: int = 0) -> np.ndarray:
    """Local gradient of each hidden unit on each example, shape (N, units). For maxout the
    gradient that reaches the unit's pre-activations (one piece gets all of it); for PReLU at the
    model's current slopes (one per unit, as in He et al.'s channel-wise PReLU)."""
    if activation == "maxout":
        pairs = z.reshape(z.shape[0], -1, 2)
        g1, g2 = A.maxout_grad(pairs[..., 0], pairs[..., 1])
        return g1 + g2
    if activation == "prelu":
        alpha = model.prelu[layer].weight.detach().cpu().numpy().astype(np.float64) \
            if model is not None else A.PRELU_INIT
        return A.prelu_grad(z, alpha)[0]
    return A.local_gradient(activation, z)


def dead_fraction(model, X, activation: str) -> float:
    """Share of hidden units that are dead: local gradient exactly zero on every example of X
    (for ReLU: output zero on every example), over all hidden layers."""
    import torch

    keep = []
    with torch.no_grad(), single_thread():
        model(torch.as_tensor(check_array(X, "X", ndim=2), dtype=torch.float32), keep)
    dead, total = 0, 0
    for i, z in enumerate(keep):
        g = unit_local_gradients(activation, z.cpu().numpy().astype(np.float64), model, i)
        dead += int(np.sum(np.all(g == 0, axis=0)))
        total += g.shape[1]
    return dead / total


def _torch_seeds(rng, n_seeds: int) -> list[int]:
    return [int(s) for s in as_rng(rng).integers(0, 10_000, size=check_positive_int(n_seeds, "n_seeds"))]


@dataclass(frozen=True)
class DeadUnits:
    """The share of dead hidden units per seed (NaN where a training run diverged), and, after
    training, the validation accuracy per seed."""

    fractions: np.ndarray
    val_acc: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.nanmean(self.fractions))


def measure_dead_at_init(X, *, activation: str = "relu", widths=(64, 64, 64, 64), bias: float = 0.0,
                         gain: float | None = None, n_seeds: int = 5, rng) -> DeadUnits:
    """Dead units of freshly initialized torch MLPs on the inputs X (one network per seed)."""
    from ...models.perceptron import mlp

    X = check_array(X, "X", ndim=2, nonempty=True)
    fractions = [dead_fraction(mlp(10, n_in=X.shape[1], widths=widths, activation=activation, gain=gain,
                                   bias=bias, seed=s), X, activation) for s in _torch_seeds(rng, n_seeds)]
    return DeadUnits(np.array(fractions), np.full(len(fractions), np.nan))


def measure_dead_after_training(data, activation: str = "relu", *, lr: float, epochs: int = 1,
                                widths=(64, 64), bias: float = 0.0, batch_size: int = 64, n_seeds: int,
                                rng) -> DeadUnits:
    """Train one torch MLP per seed with plain SGD on ``data`` (a :class:`lecture_lib.data.Splits`),
    then count its dead units on the training set (NaN for a run whose loss became non-finite; a
    loss that explodes and comes back is what this experiment studies, so it does not stop a run)."""
    from ...models.perceptron import mlp
    from ...train import TrainingDiverged, evaluate, fit

    fractions, accs = [], []
    for seed in _torch_seeds(rng, n_seeds):
        model = mlp(data.n_classes, n_in=data.X_train.shape[1], widths=widths, activation=activation, bias=bias,
                    seed=seed)
        try:
            with single_thread():
                fit(model, data.X_train, data.y_train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                    progress=False, device="cpu", divergence_factor=None)
        except TrainingDiverged:
            fractions.append(np.nan)
            accs.append(np.nan)
            continue
        fractions.append(dead_fraction(model, data.X_train, activation))
        accs.append(evaluate(model, data.X_val, data.y_val)[1])
    return DeadUnits(np.array(fractions), np.array(accs))


def many_dead(r: DeadUnits) -> bool:
    return r.mean >= MANY_DEAD


def few_dead(r: DeadUnits) -> bool:
    return r.mean <= FEW_DEAD


def none_dead(r: DeadUnits) -> bool:
    return bool(np.nanmax(r.fractions) == 0)


def bias_lowers_dead(zero_bias: DeadUnits, positive_bias: DeadUnits) -> bool:
    """Paired over seeds (those where both runs finished): the positive bias lowers the dead fraction
    by more than twice the standard error of the paired difference, and by at least a quarter."""
    a, b = zero_bias.fractions, positive_bias.fractions
    if a.shape != b.shape:
        raise ValueError(f"zero_bias has {a.size} seeds but positive_bias has {b.size}; expected paired runs")
    both = ~np.isnan(a) & ~np.isnan(b)
    if both.sum() < 2:
        raise ValueError(f"only {both.sum()} seeds where both runs finished; expected at least 2 seeds")
    diff = a[both] - b[both]
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    return bool(diff.mean() > 2 * se and diff.mean() >= 0.25 * a[both].mean() and diff.mean() > 0)


# ------------------------------------------------------------------ PReLU, parameter counts
@dataclass(frozen=True)
class PReluLearning:
    """PReLU's per-unit slopes before and after training a one-hidden-layer MLP, and those of the
    same network trained with the slopes frozen."""

    alpha_start: np.ndarray
    alpha_end: np.ndarray
    alpha_frozen: np.ndarray
    val_acc: float

    @property
    def moved(self) -> float:
        return float(np.abs(self.alpha_end - self.alpha_start).mean())


def measure_prelu_learning(data, *, width: int = 64, epochs: int, lr: float = 0.1, batch_size: int = 32,
                           rng) -> PReluLearning:
    from ...models.perceptron import mlp
    from ...train import fit

    (seed,) = _torch_seeds(rng, 1)
    model, frozen = (mlp(data.n_classes, n_in=data.X_train.shape[1], widths=[width], activation="prelu", seed=seed)
                     for _ in range(2))
    start = model.prelu[0].weight.detach().numpy().copy()
    frozen.prelu[0].weight.requires_grad_(False)
    with single_thread():
        hist = fit(model, data.X_train, data.y_train, data.X_val, data.y_val, epochs=epochs, lr=lr,
                   batch_size=batch_size, seed=seed, progress=False, device="cpu", divergence_factor=None)
        fit(frozen, data.X_train, data.y_train, epochs=1, lr=lr, batch_size=batch_size, seed=seed,
            progress=False, device="cpu", divergence_factor=None)
    return PReluLearning(start, model.prelu[0].weight.detach().numpy().copy(),
                         frozen.prelu[0].weight.detach().numpy().copy(), hist.val_acc[-1])


def alpha_learned(r: PReluLearning) -> bool:
    return r.moved > LEARNED_MOVE


def frozen_alpha_stays(r: PReluLearning) -> bool:
    return bool(np.array_equal(r.alpha_frozen, r.alpha_start))


@dataclass(frozen=True)
class ParameterCounts:
    """The number of weights and biases in the hidden layers of each activation's torch MLP."""

    by_activation: dict

    def ratio(self, activation: str, reference: str = "relu") -> float:
        return self.by_activation[activation] / self.by_activation[reference]


def measure_parameter_counts(activations, *, n_in: int = 64, widths=(100, 100)) -> ParameterCounts:
    """Count the hidden layers' parameters of each activation's MLP (64 inputs, ``widths``)."""
    from ...models.perceptron import mlp

    def count(activation):
        return sum(p.numel() for p in mlp(10, n_in=n_in, widths=widths, activation=activation).hidden.parameters())

    return ParameterCounts({a: count(a) for a in check_names(activations, "activations", A.NAMES)})


def doubles_parameters(counts: ParameterCounts) -> bool:
    return counts.by_activation["maxout"] == 2 * counts.by_activation["relu"]


# ------------------------------------------------------------------ convergence race
@dataclass(frozen=True)
class RaceEntry:
    """One activation's runs: the learning rate tuned on the first seed, then per seed the SGD steps
    to the target (None: not reached within the budget), the best validation accuracy reached and
    the validation accuracy after every step (a run stops at the target); and the steps to the
    target of each rate tried in the tuning."""

    lr: float
    steps_to: tuple
    best_acc: tuple
    curves: tuple
    tuning: dict


@dataclass(frozen=True)
class ConvergenceRace:
    """SGD steps (mini-batches of ``batch_size``) to ``target`` validation accuracy, by activation
    (a dict of :class:`RaceEntry`), within a budget of ``max_steps`` steps (``epochs`` passes over
    the training split)."""

    epochs: int
    max_steps: int
    batch_size: int
    target: float
    runs: dict

    def median_steps(self, activation: str) -> float:
        """The median over seeds of the steps to the target; infinity when most never got there."""
        return float(np.median([np.inf if s is None else s for s in self.runs[activation].steps_to]))


def measure_convergence_race(data, activations, *, lrs, n_seeds: int, epochs: int, target: float,
                             widths=(64, 64, 64), batch_size: int = 32, rng, cache: bool = False) -> ConvergenceRace:
    """The same MLP on ``data`` with each activation, trained by plain SGD on mini-batches of
    ``batch_size`` for at most ``epochs`` passes; the validation accuracy is measured after every
    step, and a run stops at ``target``. The learning rate is tuned per activation on the first
    seed (fewest steps to the target, ties broken by the best accuracy), then every seed runs at
    that rate. With ``cache``, the result is kept on disk keyed by the whole configuration (the
    seeds and a fingerprint of the data included)."""
    import hashlib

    from ...cache import cached

    activations = check_names(activations, "activations", A.NAMES)
    lrs = [check_scalar(lr, "lrs item", min=0.0, min_inclusive=False) for lr in lrs]
    epochs, target = check_positive_int(epochs, "epochs"), check_scalar(target, "target", min=0.0, max=1.0)
    batch_size = check_positive_int(batch_size, "batch_size")
    seeds = _torch_seeds(rng, n_seeds)
    widths = [check_positive_int(w, "width") for w in widths]
    config = {"activations": list(activations), "lrs": lrs, "seeds": seeds, "epochs": epochs, "target": target,
              "widths": widths, "batch_size": batch_size, "unit": "steps",
              "data": hashlib.sha256(np.ascontiguousarray(data.X_train).tobytes()).hexdigest()[:16]}
    if cache:
        stored = cached("act-race", config, lambda: {"json": _race(data, config)})["json"]
    else:
        stored = _race(data, config)
    n = len(data.X_train)
    return ConvergenceRace(epochs, epochs * -(-n // batch_size), batch_size, target, {
        a: RaceEntry(r["lr"], tuple(r["steps_to"]), tuple(r["best_acc"]), tuple(map(tuple, r["curves"])),
                     {lr: s for lr, s in r["tuning"]}) for a, r in stored.items()})


def _sgd_to_target(model, data, *, lr: float, batch_size: int, epochs: int, target: float, seed: int):
    """Plain SGD, the validation accuracy measured after every step (``train.fit`` measures once an
    epoch, too coarse for a race that some activations win within the first epoch). Returns (steps
    to the target or None, best accuracy, accuracy after each step); a non-finite loss ends the run."""
    import torch

    X, y = torch.as_tensor(data.X_train, dtype=torch.float32), torch.as_tensor(data.y_train)
    X_val, y_val = torch.as_tensor(data.X_val, dtype=torch.float32), torch.as_tensor(data.y_val)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    order_generator = torch.Generator().manual_seed(seed)
    curve = []
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=order_generator)
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            if not torch.isfinite(loss):
                return None, max(curve, default=0.0), curve
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                curve.append(float((model(X_val).argmax(1) == y_val).float().mean()))
            if curve[-1] >= target:
                return len(curve), max(curve), curve
    return None, max(curve, default=0.0), curve


def _race(data, config) -> dict:
    from ...models.perceptron import mlp

    def run(act, lr, seed):
        model = mlp(data.n_classes, n_in=data.X_train.shape[1], widths=config["widths"], activation=act, seed=seed)
        with single_thread():
            return _sgd_to_target(model, data, lr=lr, batch_size=config["batch_size"], epochs=config["epochs"],
                                  target=config["target"], seed=seed)

    out = {}
    never = config["epochs"] * len(data.X_train) + 1
    for act in config["activations"]:
        seeds = config["seeds"]
        tuning = {lr: run(act, lr, seeds[0]) for lr in config["lrs"]}
        best = min(config["lrs"], key=lambda lr: (tuning[lr][0] or never, -tuning[lr][1]))
        runs = [tuning[best]] + [run(act, best, s) for s in seeds[1:]]
        out[act] = {"lr": best, "steps_to": [r[0] for r in runs], "best_acc": [r[1] for r in runs],
                    "curves": [r[2] for r in runs], "tuning": [[lr, t[0]] for lr, t in tuning.items()]}
    return out


def converges_faster(race: ConvergenceRace, a: str, b: str) -> bool:
    """``a`` reaches the target in at most 1/:data:`FASTER_BY` of ``b``'s steps (medians over seeds)."""
    ma, mb = race.median_steps(a), race.median_steps(b)
    return bool(np.isfinite(ma) and ma * FASTER_BY <= mb)
