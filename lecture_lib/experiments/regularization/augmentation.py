"""The torch experiments of 06_regularization, noise added to the data or to the network (re-exported
by :mod:`lecture_lib.experiments.regularization`): data augmentation and label-preserving flips,
stochastic depth, fractional max pooling.

All train small plain torch modules on scikit-learn's digits (8 x 8 images, pixels in [0, 1]),
on ``lecture_lib.config.choose_device()`` (the CPU here; a GPU when there is one),
seeded from the caller's NumPy generator.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ... import augment, cache, nets, optim
from ..._checks import as_rng, check_choice, check_int, check_positive_int, check_probability, torch_seed_from
from ...config import choose_device, single_thread
from ...train import evaluate, fit


# --------------------------------------------------------------------------- data and seeding
@dataclass(frozen=True)
class DigitImages:
    """Digits as images (N, 1, 8, 8) in [0, 1]: a training subset and the 719 held-out ones."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_held: torch.Tensor
    y_held: torch.Tensor


@lru_cache(maxsize=1)
def _digit_arrays():
    from ...data import digits

    s = digits(seed=0)
    return (s.X_train, s.y_train, np.concatenate([s.X_val, s.X_test]), np.concatenate([s.y_val, s.y_test]))


def digit_images(n_train: int | None, rng, device=None) -> DigitImages:
    """``n_train`` training digits drawn by ``rng`` (None: all 1078), and the held-out ones."""
    X, y, X_held, y_held = _digit_arrays()
    n_train = len(X) if n_train is None else check_int(n_train, "n_train", min=10, max=len(X))
    idx = as_rng(rng).permutation(len(X))[:n_train]
    device = device if device is not None else choose_device()

    def images(a):
        return torch.as_tensor(np.ascontiguousarray(a)).reshape(-1, 1, 8, 8).to(device)

    return DigitImages(images(X[idx]), torch.as_tensor(y[idx]).to(device), images(X_held),
                       torch.as_tensor(y_held).to(device))


@contextlib.contextmanager
def seeded(seed: int):
    """Run with torch's global generators seeded (the initial weights, FractionalMaxPool2d's draws),
    then restore them, so a cell's experiment leaves the notebook's other randomness alone."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _quiet_fit(model, data: DigitImages, **kwargs):
    return fit(model, data.X_train, data.y_train, progress=False, **kwargs)


# --------------------------------------------------------------------------- augmentation
def digit_mlp(hidden: int = 256, steps=(), seed: int = 0) -> nn.Module:
    """A one-hidden-layer MLP on 8 x 8 digits, with the augmentation ``steps`` in front (active in
    training mode only, drawing from a generator seeded with ``seed``)."""
    return nn.Sequential(augment.Augment(list(steps), seed=seed), nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(),
                         nn.Linear(hidden, 10))


# Recipes for 8 x 8 digits: small rotations, slants and stretches (variation that handwriting
# has), shifts by one pixel (the digits are centred: a shift is a change they never show), flips.
DIGIT_RECIPES = {
    "none": (),
    "rotate/shear/stretch": (("affine", 0.3),),
    "shift by 1 pixel": (("crop", 0.5),),
    "flip": (("flip", 0.5),),
}


@dataclass(frozen=True)
class AugmentationRuns:
    """Held-out accuracy (seeds,) of the same MLP trained on ``n_train`` digits with each recipe of
    :data:`DIGIT_RECIPES` (``acc[recipe]``), and its training accuracy at the end."""

    n_train: int
    epochs: int
    acc: dict
    train_acc: dict

    def gain(self, recipe: str) -> float:
        return float(np.mean(self.acc[recipe] - self.acc["none"]))


def measure_augmentation(*, recipes=tuple(DIGIT_RECIPES), n_train: int = 60, epochs: int = 60,
                         n_seeds: int = 1, lr: float = 0.05, rng) -> AugmentationRuns:
    """Train a digit MLP (SGD, momentum 0.9, batches of 50) with each augmentation recipe, on the
    same ``n_train`` images from the same initial weights, ``n_seeds`` times."""
    rng = as_rng(rng)
    recipes = tuple(check_choice(r, "recipes item", DIGIT_RECIPES) for r in recipes)
    n_seeds = check_positive_int(n_seeds, "n_seeds", max=100)

    def compute():
        acc = {r: [] for r in recipes}
        train_acc = {r: [] for r in recipes}
        for _ in range(n_seeds):
            data = digit_images(n_train, rng)
            seed = torch_seed_from(rng)
            for recipe in recipes:
                with seeded(seed), single_thread():
                    model = digit_mlp(steps=DIGIT_RECIPES[recipe], seed=seed)
                    history = _quiet_fit(model, data, epochs=epochs, lr=lr, batch_size=50, seed=seed,
                                         optimizer="sgd", optimizer_kwargs={"momentum": 0.9})
                    acc[recipe].append(evaluate(model, data.X_held, data.y_held)[1])
                    train_acc[recipe].append(history.train_acc[-1])
        return AugmentationRuns(n_train, epochs, {r: np.array(v) for r, v in acc.items()},
                                {r: np.array(v) for r, v in train_acc.items()})

    config = dict(recipes=list(recipes), n_train=n_train, epochs=epochs, n_seeds=n_seeds, lr=lr,
                  device=choose_device().type)
    return cache.cached_result("reg-augmentation", config, rng, AugmentationRuns, compute)


# A recipe hurts when it loses at least HURTS_BY on every seed; it brings no clear change when its
# mean gain over the seeds stays within NO_CLEAR_CHANGE either way.
HURTS_BY = 0.01
NO_CLEAR_CHANGE = 0.02


def augmentation_hurts(result: AugmentationRuns, recipe: str = "flip") -> bool:
    return bool(np.all(result.acc[recipe] - result.acc["none"] <= -HURTS_BY))


def no_clear_change(result: AugmentationRuns, recipe: str = "rotate/shear/stretch") -> bool:
    return bool(abs(result.gain(recipe)) < NO_CLEAR_CHANGE)


@dataclass(frozen=True)
class FlipTest:
    """Per-class held-out accuracy of a digit classifier trained on unflipped digits, on the
    held-out digits as they are (``acc``) and mirrored left-right (``acc_flipped``)."""

    acc: np.ndarray
    acc_flipped: np.ndarray

    def preserved(self, threshold: float) -> np.ndarray:
        """The classes whose mirrored images are still recognized at ``threshold`` or better."""
        return np.nonzero(self.acc_flipped >= threshold)[0]


def measure_flip_labels(*, epochs: int = 20, rng) -> FlipTest:
    """Train the course's MLP (64-128-10, SGD with momentum) on all training digits, then read
    the held-out digits flipped horizontally, class by class: a flip preserves a label only if
    the classifier still recognizes the mirrored digit."""
    rng = as_rng(rng)
    X, y, X_held, y_held = _digit_arrays()
    flipped = augment.flip(torch.as_tensor(X_held).reshape(-1, 1, 8, 8), 1.0).reshape(len(X_held), 64).numpy()
    mean, std = X.mean(axis=0), np.maximum(X.std(axis=0), 1e-2)

    def norm(a):
        return ((a - mean) / std).astype(np.float64)

    with single_thread():
        net = nets.MLP([64, 128, 10], rng=rng)
        nets.train(net, norm(X), y, optimizer=optim.SGD(lr=0.05, momentum=0.9), epochs=epochs, batch_size=64,
                   rng=rng)
        pred, pred_flipped = net.predict(norm(X_held)), net.predict(norm(flipped))
    per_class = np.array([np.mean(pred[y_held == c] == c) for c in range(10)])
    per_class_flipped = np.array([np.mean(pred_flipped[y_held == c] == c) for c in range(10)])
    return FlipTest(per_class, per_class_flipped)


# A flip preserves a class's label when its mirrored digits are recognized this often; a flip is
# label-preserving for a data set only if it is for every class.
FLIP_PRESERVES = 0.8


def flip_preserves_all_labels(result: FlipTest) -> bool:
    return bool(np.all(result.acc_flipped >= FLIP_PRESERVES))


# --------------------------------------------------------------------------- stochastic depth
@dataclass(frozen=True)
class StochasticDepthRuns:
    """Networks of ``depth`` layers trained in lockstep (the same batches, each step of one followed
    by the same step of the others, so a busy machine slows all alike), one per last-block survival
    ``survival_last``; per network: ``expected_blocks``, the mean seconds per training step
    ``step_seconds``, held-out accuracy and loss with the test-time scaling (``acc``, ``loss``) and
    without it (``acc_unscaled``, ``loss_unscaled``), and training accuracy in test mode (means over
    seeds)."""

    depth: int
    n_blocks: int
    survival_last: np.ndarray
    expected_blocks: np.ndarray
    step_seconds: np.ndarray
    acc: np.ndarray
    acc_unscaled: np.ndarray
    loss: np.ndarray
    loss_unscaled: np.ndarray
    train_acc: np.ndarray
    device: str

    def predicted_time_ratio(self) -> np.ndarray:
        """The paper's prediction: time proportional to the expected number of blocks."""
        return self.expected_blocks / self.n_blocks

    def measured_time_ratio(self) -> np.ndarray:
        return self.step_seconds / self.step_seconds[0]


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_stochastic_depth(*, depth: int = 14, width: int = 8, survival_last=(1.0, 0.5), n_train: int | None = 300,
                             epochs: int = 12, n_seeds: int = 1, lr: float = 0.05, batch_size: int = 64,
                             rng) -> StochasticDepthRuns:
    """Train the :mod:`lecture_lib.models.stochastic_depth` ResNet (``survival_last`` = 1 is the plain
    ResNet, the same initial weights) on digits, in lockstep, with SGD (momentum 0.9, weight decay
    5e-4, the learning rate divided by 10 for the last quarter of the epochs)."""
    from ...models.stochastic_depth import stochastic_depth_resnet

    rng = as_rng(rng)
    survival_last = np.array([check_probability(p, "survival_last item", allow_zero=False) for p in survival_last])
    if survival_last[0] != 1.0:
        raise ValueError(f"survival_last={tuple(survival_last)} is not valid; expected 1.0 (the plain "
                         "ResNet, the reference) first")
    epochs = check_positive_int(epochs, "epochs")
    n_seeds = check_positive_int(n_seeds, "n_seeds", max=20)

    def compute():
        device = choose_device()
        k = len(survival_last)
        seconds, steps = np.zeros(k), 0
        acc, acc_unscaled, loss, loss_unscaled, train_acc = (np.zeros((n_seeds, k)) for _ in range(5))
        for s in range(n_seeds):
            data = digit_images(n_train, rng, device)
            seed = torch_seed_from(rng)
            models = [stochastic_depth_resnet(depth, 10, p, in_channels=1, width=width, seed=seed).to(device)
                      for p in survival_last]
            opts = [torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4) for m in models]
            order = torch.Generator().manual_seed(seed)
            n = len(data.X_train)
            with single_thread() if device.type == "cpu" else contextlib.nullcontext():
                for epoch in range(epochs):
                    if epoch == (3 * epochs) // 4:
                        for opt in opts:
                            opt.param_groups[0]["lr"] = lr / 10
                    perm = torch.randperm(n, generator=order).to(device)
                    for start in range(0, n, batch_size):
                        idx = perm[start:start + batch_size]
                        xb, yb = data.X_train[idx], data.y_train[idx]
                        for i, (model, opt) in enumerate(zip(models, opts, strict=True)):
                            model.train()
                            _synchronize(device)
                            t0 = time.perf_counter()
                            batch_loss = F.cross_entropy(model(xb), yb)
                            opt.zero_grad(set_to_none=True)
                            batch_loss.backward()
                            opt.step()
                            _synchronize(device)
                            seconds[i] += time.perf_counter() - t0
                        steps += 1
                for i, model in enumerate(models):
                    loss[s, i], acc[s, i] = evaluate(model, data.X_held, data.y_held)
                    train_acc[s, i] = evaluate(model, data.X_train, data.y_train)[1]
                    loss_unscaled[s, i], acc_unscaled[s, i] = evaluate(model.scale_at_test(False), data.X_held,
                                                                       data.y_held)
                    model.scale_at_test(True)
        return StochasticDepthRuns(depth, len(models[0].blocks), survival_last,
                                   np.array([m.expected_blocks() for m in models]), seconds / steps,
                                   acc.mean(0), acc_unscaled.mean(0), loss.mean(0), loss_unscaled.mean(0),
                                   train_acc.mean(0), device.type)

    config = dict(depth=depth, width=width, survival_last=survival_last.tolist(), n_train=n_train, epochs=epochs,
                  n_seeds=n_seeds, lr=lr, batch_size=batch_size, device=choose_device().type)
    return cache.cached_result("reg-stochastic-depth", config, rng, StochasticDepthRuns, compute)


# Skipping blocks saves time when the measured saving reaches at least this fraction of the
# predicted one; the test-time scaling matters when leaving it out raises the held-out loss of every
# stochastic net; "no gain at this scale" when stochastic depth is no better than the plain net by
# more than NO_GAIN.
SAVING_REALIZED = 0.5
NO_GAIN = 0.01


def saves_time(result: StochasticDepthRuns) -> bool:
    predicted = 1 - result.predicted_time_ratio()[1:]
    measured = 1 - result.measured_time_ratio()[1:]
    return bool(np.all(measured >= SAVING_REALIZED * predicted))


def test_scaling_matters(result: StochasticDepthRuns) -> bool:
    return bool(np.all(result.loss_unscaled[1:] > result.loss[1:]))


def no_gain_at_this_scale(result: StochasticDepthRuns) -> bool:
    return bool(np.all(result.acc[1:] <= result.acc[0] + NO_GAIN))


# --------------------------------------------------------------------------- fractional max pooling
POOLINGS = ("max 2x2", "fixed fractional regions", "fractional max pooling")


class SmallCNN(nn.Module):
    """Three 3x3 convolutions (16, 32, 32 channels), each followed by ReLU and a pooling layer, then
    one linear layer. ``pooling``: ``"max 2x2"`` (8 -> 4 -> 2 -> 1), or two fractional versions with
    sizes 8 -> 6 -> 4 -> 3 (ratio about 1/sqrt(2), as Graham's): ``"fixed fractional regions"``
    (AdaptiveMaxPool2d: the same regions every time) and ``"fractional max pooling"``
    (FractionalMaxPool2d with 2x2 regions at pseudo-random places, new ones every pass)."""

    SIZES = (6, 4, 3)

    def __init__(self, pooling: str):
        super().__init__()
        self.pooling = check_choice(pooling, "pooling", POOLINGS)
        channels = (1, 16, 32, 32)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(channels, channels[1:], strict=False))
        if pooling == "max 2x2":
            self.pools = nn.ModuleList(nn.MaxPool2d(2) for _ in self.SIZES)
            side = 1
        elif pooling == "fixed fractional regions":
            self.pools = nn.ModuleList(nn.AdaptiveMaxPool2d(s) for s in self.SIZES)
            side = self.SIZES[-1]
        else:
            self.pools = nn.ModuleList(nn.FractionalMaxPool2d(2, output_size=s) for s in self.SIZES)
            side = self.SIZES[-1]
        self.fc = nn.Linear(32 * side * side, 10)

    def forward(self, x):
        for conv, pool in zip(self.convs, self.pools, strict=True):
            x = pool(F.relu(conv(x)))
        return self.fc(x.flatten(1))


def averaged_accuracy(model: nn.Module, X, y, passes: int) -> float:
    """Accuracy of the softmax averaged over ``passes`` test passes (FractionalMaxPool2d draws new
    regions in eval mode too; Graham averaged a dozen passes at test time)."""
    passes = check_positive_int(passes, "passes", max=1000)
    model.eval()
    with torch.no_grad():
        probs = sum(F.softmax(model(X), dim=1) for _ in range(passes))
    return float((probs.argmax(1) == y).float().mean())


@dataclass(frozen=True)
class PoolingRuns:
    """Per pooling (``POOLINGS``): training accuracy (test mode) and held-out accuracy, averaged over
    ``passes`` test passes (``acc``) and from a single pass (``acc_single``); means over seeds and
    per seed (``acc_seeds``)."""

    poolings: tuple
    train_acc: dict
    acc: dict
    acc_single: dict
    acc_seeds: dict

    def gap(self, pooling: str) -> float:
        """Training minus held-out accuracy: the overfitting."""
        return self.train_acc[pooling] - self.acc[pooling]


def measure_fractional_pooling(*, poolings=("max 2x2", "fractional max pooling"), n_train: int = 200,
                               epochs: int = 20, n_seeds: int = 1, passes: int = 8, lr: float = 3e-3,
                               optimizer: str = "adam", rng) -> PoolingRuns:
    """Train :class:`SmallCNN` with each pooling on the same ``n_train`` digits from the same seed
    (``optimizer`` of ``train.fit``, batches of 50), ``n_seeds`` times."""
    rng = as_rng(rng)
    poolings = tuple(check_choice(p, "poolings item", POOLINGS) for p in poolings)
    n_seeds = check_positive_int(n_seeds, "n_seeds", max=100)

    def compute():
        train_acc, acc, single = ({p: [] for p in poolings} for _ in range(3))
        for _ in range(n_seeds):
            data = digit_images(n_train, rng)
            seed = torch_seed_from(rng)
            for pooling in poolings:
                with seeded(seed), single_thread():
                    model = SmallCNN(pooling).to(data.X_train.device)
                    _quiet_fit(model, data, epochs=epochs, lr=lr, batch_size=50, seed=seed, optimizer=optimizer)
                    random_regions = pooling == "fractional max pooling"
                    train_acc[pooling].append(averaged_accuracy(model, data.X_train, data.y_train,
                                                                passes if random_regions else 1))
                    acc[pooling].append(averaged_accuracy(model, data.X_held, data.y_held,
                                                          passes if random_regions else 1))
                    single[pooling].append(averaged_accuracy(model, data.X_held, data.y_held, 1))
        return PoolingRuns(poolings, {p: float(np.mean(v)) for p, v in train_acc.items()},
                           {p: float(np.mean(v)) for p, v in acc.items()},
                           {p: float(np.mean(v)) for p, v in single.items()},
                           {p: np.array(v) for p, v in acc.items()})

    config = dict(poolings=list(poolings), n_train=n_train, epochs=epochs, n_seeds=n_seeds, passes=passes, lr=lr,
                  optimizer=optimizer, device=choose_device().type)
    return cache.cached_result("reg-fractional-pooling", config, rng, PoolingRuns, compute)


# Two poolings differ clearly when their held-out accuracies (means over seeds) differ by more than
# CLEAR_DIFFERENCE; several test passes averaged should do at least as well as one.
CLEAR_DIFFERENCE = 0.03


def pooling_difference(result: PoolingRuns, pooling: str = "fractional max pooling",
                       reference: str = "max 2x2") -> float:
    return result.acc[pooling] - result.acc[reference]


def no_clear_difference(result: PoolingRuns, pooling: str = "fractional max pooling",
                        reference: str = "max 2x2") -> bool:
    return abs(pooling_difference(result, pooling, reference)) <= CLEAR_DIFFERENCE


def averaging_passes_helps(result: PoolingRuns, pooling: str = "fractional max pooling") -> bool:
    return bool(result.acc[pooling] >= result.acc_single[pooling])

