"""The weight-decay experiments of 06_regularization (re-exported by the package): L2 in
the loss against the optimizers' weight decay on the course's NumPy MLP (SGD, Adam, AdamW), a weight
that only the decay moves, and what decay does to the residual blocks of a small torch network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ... import cache, nets, optim
from ..._checks import as_rng, check_choice, check_positive_int, torch_seed_from
from ...config import choose_device, single_thread
from ...train import evaluate, fit
from .augmentation import _digit_arrays, seeded
from .dropout import digits_task


# --------------------------------------------------------------------------- L2 in the loss vs weight decay
class WeightsOnly:
    """Two optimizers as torch's parameter groups: ``decayed`` updates the weight matrices (the
    positions in ``weights``), ``plain`` the rest (biases), so weight decay leaves biases alone, as
    the MLP's L2 term does."""

    def __init__(self, decayed, plain, weights):
        self.decayed, self.plain, self.weights = decayed, plain, frozenset(weights)

    def step(self, params, grads) -> None:
        params, grads = list(params), list(grads)
        w = [i for i in range(len(params)) if i in self.weights]
        b = [i for i in range(len(params)) if i not in self.weights]
        self.decayed.step([params[i] for i in w], [grads[i] for i in w])
        self.plain.step([params[i] for i in b], [grads[i] for i in b])


@dataclass(frozen=True)
class DecayComparison:
    """The largest difference between the weights of two trainings from the same start on the same
    batches, relative to the weights' size, for each pair: ``sgd`` (L2 in the loss vs weight decay),
    ``adam`` (L2 vs Adam's weight_decay), ``adamw`` (L2 in Adam's loss vs AdamW); and the final
    weight norms ``norm_adam_l2`` / ``norm_adamw`` against ``norm_plain`` (no decay)."""

    reg: float
    sgd: float
    adam: float
    adamw: float
    norm_plain: float
    norm_adam_l2: float
    norm_adamw: float


def measure_l2_vs_weight_decay(*, reg: float = 1e-2, n_train: int = 200, epochs: int = 15,
                               lr_sgd: float = 0.05, lr_adam: float = 2e-3, rng) -> DecayComparison:
    """Train the same MLP from the same start on the same batches with L2 in the loss (``reg / 2
    * sum W^2``) and with each optimizer's weight decay (``weight_decay = reg``, weights only)."""
    rng = as_rng(rng)
    data_seed, init_seed, batch_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=3))
    task = digits_task(n_train, data_seed)

    def run(optimizer_for, l2: bool) -> np.ndarray:
        net = nets.MLP([64, 64, 10], rng=np.random.default_rng(init_seed))
        weights = [i for i, name in enumerate(net.params) if name.startswith("W")]
        nets.train(net, task.X_train, task.y_train, optimizer=optimizer_for(weights), epochs=epochs,
                   batch_size=50, rng=np.random.default_rng(batch_seed), reg=reg if l2 else 0.0)
        return np.concatenate([net.params[n].ravel() for n in net.weight_names])

    def decaying(kind, **kwargs):
        return lambda weights: WeightsOnly(kind(**kwargs, weight_decay=reg), kind(**kwargs, weight_decay=0.0), weights)

    with single_thread():
        sgd_l2 = run(lambda _: optim.SGD(lr=lr_sgd, momentum=0.9), l2=True)
        sgd_wd = run(decaying(optim.SGD, lr=lr_sgd, momentum=0.9), l2=False)
        adam_l2 = run(lambda _: optim.Adam(lr=lr_adam), l2=True)
        adam_wd = run(decaying(optim.Adam, lr=lr_adam), l2=False)
        adamw = run(decaying(optim.AdamW, lr=lr_adam), l2=False)
        plain = run(lambda _: optim.Adam(lr=lr_adam), l2=False)

    def relative(a, b):
        return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))

    return DecayComparison(reg, relative(sgd_wd, sgd_l2), relative(adam_wd, adam_l2), relative(adamw, adam_l2),
                           float(np.linalg.norm(plain)), float(np.linalg.norm(adam_l2)),
                           float(np.linalg.norm(adamw)))


@dataclass(frozen=True)
class UnusedWeight:
    """The path of a weight of 1 whose loss has no term but the decay, under Adam with L2 in the
    loss (``adam_l2``) and under AdamW (``adamw``), one row per decay strength."""

    lr: float
    decays: tuple
    adam_l2: np.ndarray
    adamw: np.ndarray


def measure_unused_weight(*, lr: float = 0.01, decays=(0.1, 1.0, 10.0), steps: int = 60) -> UnusedWeight:
    """Deterministic: with only the decay acting, Adam's gradient is ``decay * w``, AdamW's is 0."""
    steps = check_positive_int(steps, "steps", max=100_000)
    paths = {"l2": [], "w": []}
    for decay in decays:
        for kind, opt in (("l2", optim.Adam(lr=lr)), ("w", optim.AdamW(lr=lr, weight_decay=decay))):
            w, path = np.array([1.0]), [1.0]
            for _ in range(steps):
                opt.step([w], [decay * w if kind == "l2" else np.zeros(1)])
                path.append(float(w[0]))
            paths[kind].append(path)
    return UnusedWeight(lr, tuple(decays), np.array(paths["l2"]), np.array(paths["w"]))


# The same update up to rounding (float64, a few hundred steps), and clearly different trajectories.
SAME_TOL = 1e-10
DIFFERENT = 0.05


def same_training(difference: float) -> bool:
    return difference <= SAME_TOL


def different_training(difference: float) -> bool:
    return difference >= DIFFERENT


# --------------------------------------------------------------------------- weight decay, residual blocks
class ResidualMLP(nn.Module):
    """``stem`` (a linear map to ``width``), ``n_blocks`` residual blocks ``x + W2 relu(W1 x)``, and a
    linear ``head``: a residual network whose blocks a simple task may not need."""

    def __init__(self, in_features: int, width: int, n_blocks: int, num_classes: int):
        super().__init__()
        self.stem = nn.Linear(in_features, width)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
                                    for _ in range(n_blocks))
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        x = self.stem(x)
        for branch in self.blocks:
            x = x + branch(x)
        return self.head(x)

    def branch_ratios(self, x) -> np.ndarray:
        """For each block, the size of its residual branch's output relative to its input,
        ``||F(x)|| / ||x||`` over the batch ``x``: 0 means the block is the identity."""
        ratios = []
        with torch.no_grad():
            x = self.stem(x)
            for branch in self.blocks:
                f = branch(x)
                ratios.append(float(f.norm() / x.norm()))
                x = x + f
        return np.array(ratios)


@dataclass(frozen=True)
class ResidualDecay:
    """For each task and weight decay: each block's branch ratio (``ratios[task][decay]``, see
    :meth:`ResidualMLP.branch_ratios`) after training, at initialization (``initial[task]``), and
    held-out accuracy (``acc[task][decay]``)."""

    tasks: tuple
    decays: tuple
    ratios: dict
    initial: dict
    acc: dict

    def median(self, task: str, decay: float) -> float:
        return float(np.median(self.ratios[task][decay]))


def _task_tensors(task: str, n: int, rng):
    from ...data import spiral

    if task == "digits (linear suffices)":
        X, y, X_held, y_held = _digit_arrays()
        idx = as_rng(rng).permutation(len(X))[:n]
        mean, std = X.mean(0), np.maximum(X.std(0), 1e-2)
        return ((X[idx] - mean) / std, y[idx], (X_held - mean) / std, y_held, 10)
    seed = int(as_rng(rng).integers(0, 2**31 - 1))
    X, y = spiral(3, n // 3, 0.2, seed=seed)
    X_held, y_held = spiral(3, 200, 0.2, seed=seed + 1)
    return X, y, X_held, y_held, 3


RESIDUAL_TASKS = ("digits (linear suffices)", "spiral (needs nonlinearity)")


def measure_residual_decay(*, tasks=RESIDUAL_TASKS, decays=(0.0, 0.03), n_blocks: int = 4, width: int = 32,
                           n_train: int = 300, steps: int = 200, lr: float = 0.04, rng) -> ResidualDecay:
    """Train a :class:`ResidualMLP` full-batch (SGD, momentum 0.9, ``steps`` steps) on each task with
    each weight decay, from the same initial weights, and measure every block's branch ratio."""
    rng = as_rng(rng)
    tasks = tuple(check_choice(t, "tasks item", RESIDUAL_TASKS) for t in tasks)

    def compute():
        ratios, initial, accs = {}, {}, {}
        device = choose_device()
        for task in tasks:
            X, y, X_held, y_held, classes = _task_tensors(task, n_train, rng)
            X, X_held = (torch.as_tensor(a, dtype=torch.float32, device=device) for a in (X, X_held))
            y, y_held = (torch.as_tensor(a, device=device) for a in (y, y_held))
            seed = torch_seed_from(rng)
            ratios[task], accs[task] = {}, {}
            for decay in decays:
                with seeded(seed), single_thread():
                    model = ResidualMLP(X.shape[1], width, n_blocks, classes).to(device)
                    initial[task] = model.branch_ratios(X)
                    fit(model, X, y, epochs=steps, lr=lr, batch_size=len(X), optimizer="sgd", seed=seed,
                        optimizer_kwargs={"momentum": 0.9, "weight_decay": decay}, progress=False, device=device)
                    ratios[task][decay] = model.branch_ratios(X)
                    accs[task][decay] = evaluate(model, X_held, y_held)[1]
        return ResidualDecay(tasks, tuple(decays), ratios, initial, accs)

    config = dict(tasks=list(tasks), decays=list(decays), n_blocks=n_blocks, width=width, n_train=n_train,
                  steps=steps, lr=lr, device=choose_device().type)
    return cache.cached_result("reg-residual-decay", config, rng, ResidualDecay, compute)


# With decay, a block the task does not need is near the identity when its branch is below
# IDENTITY_RATIO of its input and decay shrank it by SHRINK_FACTOR or more (medians over blocks); a
# needed block stays NEEDED_FACTOR times larger than the unneeded ones under the same decay.
IDENTITY_RATIO = 0.15
SHRINK_FACTOR = 3.0
NEEDED_FACTOR = 2.0


def unneeded_blocks_become_identity(result: ResidualDecay, task: str = RESIDUAL_TASKS[0]) -> bool:
    none, decay = result.decays[0], result.decays[-1]
    return bool(np.all(result.ratios[task][decay] < IDENTITY_RATIO)
                and result.median(task, none) >= SHRINK_FACTOR * result.median(task, decay))


def needed_blocks_stay(result: ResidualDecay, task: str = RESIDUAL_TASKS[1],
                       unneeded: str = RESIDUAL_TASKS[0]) -> bool:
    decay = result.decays[-1]
    return bool(result.median(task, decay) >= NEEDED_FACTOR * result.median(unneeded, decay))
