"""Babysitting a run: the initial loss, overfitting a tiny subset, the update-to-weight ratio, the
loss curves of a sweep of learning rates and init scales (the notes' lr and bad_init pictures),
and the train/validation gap (the gap picture)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import babysitting, nets
from ..._checks import as_rng, check_positive_int
from ...cache import cached
from .runs import HIDDEN, N_CLASSES, digits64, seed_from, train_digits


# --------------------------------------------------------------------------- babysitting
@dataclass(frozen=True)
class InitialLoss:
    inits: tuple
    losses: np.ndarray
    expected: float


INITIAL_LOSS_TOL = 0.01  # within 1% of log C


def measure_initial_loss(rng, *, inits=("small", "he", "large")) -> InitialLoss:
    """The loss on the training split before any step, for each initialization."""
    rng = as_rng(rng)
    d = digits64()
    losses = [nets.MLP([64, *HIDDEN, N_CLASSES], init=i, rng=rng).loss(d.X_train, d.y_train)[0] for i in inits]
    return InitialLoss(tuple(inits), np.array(losses), babysitting.expected_initial_loss(N_CLASSES))


def starts_at_log_c(r: InitialLoss, init: str) -> bool:
    return abs(r.losses[r.inits.index(init)] / r.expected - 1) < INITIAL_LOSS_TOL


@dataclass(frozen=True)
class TinySubset:
    n: int
    reg: float
    train_loss: np.ndarray
    train_acc: np.ndarray


OVERFIT_LOSS = 0.01  # a net that can learn drives the loss on a tiny subset below 0.01


def measure_overfit_tiny(rng, *, n: int = 20, epochs: int = 200, reg: float = 0.0) -> TinySubset:
    """Full-batch Adam on the first ``n`` training images, no regularization by default."""
    n = check_positive_int(n, "n")
    _, result, _ = train_digits(seed_from(rng), lr=1e-2, epochs=epochs, optimizer="adam", reg=reg,
                                batch_size=n, n_train=n)
    return TinySubset(n, reg, np.array(result.train_loss), np.array(result.train_acc))


def overfits(r: TinySubset) -> bool:
    return bool(r.train_acc[-1] == 1.0 and r.train_loss[-1] < OVERFIT_LOSS)


@dataclass(frozen=True)
class UpdateRatios:
    lrs: np.ndarray
    ratios: np.ndarray    # (len(lrs), layers): median over the steps of ||dW|| / ||W||
    val_acc: np.ndarray   # after the run
    layers: tuple


def measure_update_ratio(rng, *, lrs=(1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0), epochs: int = 5) -> UpdateRatios:
    """The update-to-weight ratio per layer (median over every step of SGD+momentum) for several
    learning rates, beside the validation accuracy each reaches."""
    seed = seed_from(rng)
    runs = [train_digits(seed, lr=float(lr), epochs=epochs, watch=lambda net, opt: babysitting.UpdateRatioMeter(net))
            for lr in lrs]
    d = digits64()
    return UpdateRatios(np.array(lrs, float), np.array([np.median(m.ratios, axis=0) for _, _, m in runs]),
                        np.array([net.accuracy(d.X_val, d.y_val) for net, _, _ in runs]), tuple(runs[0][2].names))


RULE_OF_THUMB = 1e-3


def best_ratio(r: UpdateRatios) -> float:
    """The update-to-weight ratio (median over layers) of the learning rate with the best accuracy."""
    return float(np.median(r.ratios[int(np.argmax(r.val_acc))]))


RATIO_ABOVE_RULE = 3.0   # the best lr's ratio exceeds the rule of thumb by over 3x
RULE_COSTS = 0.10        # the lr whose ratio meets the rule learns 10 points less in the budget


def lr_nearest_rule(r: UpdateRatios) -> int:
    """The index of the learning rate whose ratio (median over layers) is nearest RULE_OF_THUMB."""
    return int(np.argmin(np.abs(np.log(np.median(r.ratios, axis=1) / RULE_OF_THUMB))))


def best_ratio_above_rule(r: UpdateRatios) -> bool:
    return best_ratio(r) > RATIO_ABOVE_RULE * RULE_OF_THUMB


def rule_costs_accuracy(r: UpdateRatios) -> bool:
    return bool(r.val_acc[lr_nearest_rule(r)] < r.val_acc.max() - RULE_COSTS)


def ratio_tracks_lr(r: UpdateRatios) -> bool:
    """The ratio grows with the learning rate, close to proportionally below 0.1 (log-log slope 0.6-1.2)."""
    keep = r.lrs <= 0.1
    slope = np.polyfit(np.log(r.lrs[keep]), np.log(np.median(r.ratios[keep], axis=1)), 1)[0]
    return bool(0.6 <= slope <= 1.2)


# --------------------------------------------------------------------------- loss curves
CURVE_HIDDEN = (64, 64)   # two hidden layers: deep enough for a small init to stall


@dataclass(frozen=True)
class LossCurves:
    """SGD+momentum runs over a grid of learning rates and init scales (x He's), on the first
    ``n_train`` training images: per-epoch curves (NaN after a divergence) and step losses."""

    lrs: np.ndarray
    scales: np.ndarray
    train_loss: np.ndarray   # (scales, lrs, epochs)
    train_acc: np.ndarray
    val_acc: np.ndarray
    step_loss: np.ndarray    # (scales, lrs, steps)
    diverged: np.ndarray     # (scales, lrs) bool

    def run(self, lr, scale) -> dict:
        i, j = int(np.argmin(np.abs(self.scales - scale))), int(np.argmin(np.abs(np.log(self.lrs / lr))))
        return {k: getattr(self, k)[i, j] for k in ("train_loss", "train_acc", "val_acc", "step_loss", "diverged")}

    def diagnosis(self, lr, scale) -> babysitting.Diagnosis:
        r = self.run(lr, scale)
        done = np.isfinite(r["train_loss"])
        return babysitting.diagnose(r["train_loss"][done], r["train_acc"][done], r["val_acc"][done],
                                    n_classes=N_CLASSES, initial_loss=float(r["step_loss"][0]),
                                    diverged=bool(r["diverged"]))


def measure_loss_curves(rng, *, lrs=(1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0), scales=(0.1, 0.3, 1.0),
                        epochs: int = 15, n_train: int = 400, batch_size: int = 40) -> LossCurves:
    """The sweep behind the notes' loss-curve pictures and the loss-curve reader; cached on disk."""
    seed = seed_from(rng)
    steps = epochs * -(-n_train // batch_size)

    def compute():
        shape = (len(scales), len(lrs))
        out = {k: np.full((*shape, epochs), np.nan) for k in ("train_loss", "train_acc", "val_acc")}
        out["step_loss"] = np.full((*shape, steps), np.nan)
        out["diverged"] = np.zeros(shape)
        for i, scale in enumerate(scales):
            for j, lr in enumerate(lrs):
                _, r, _ = train_digits(seed, lr=float(lr), scale=float(scale), epochs=epochs, hidden=CURVE_HIDDEN,
                                       n_train=n_train, batch_size=batch_size, validate=True)
                for k in ("train_loss", "train_acc", "val_acc"):
                    out[k][i, j, :len(getattr(r, k))] = getattr(r, k)
                sl = np.array(r.step_loss, float)
                out["step_loss"][i, j, :len(sl)] = np.where(np.isfinite(sl), sl, np.nan)
                out["diverged"][i, j] = r.diverged
        return out

    config = {"lrs": list(lrs), "scales": list(scales), "epochs": epochs, "n_train": n_train,
              "batch_size": batch_size, "seed": seed, "hidden": CURVE_HIDDEN}
    out = cached("practice-loss-curves", config, compute)
    return LossCurves(np.array(lrs, float), np.array(scales, float), *(np.asarray(out[k]) for k in
                      ("train_loss", "train_acc", "val_acc", "step_loss")), np.asarray(out["diverged"]) > 0)


@dataclass(frozen=True)
class Gap:
    """Training against validation accuracy per epoch for a few (data, capacity) settings."""

    labels: tuple
    train_acc: np.ndarray   # (settings, epochs)
    val_acc: np.ndarray

    @property
    def final_gap(self) -> np.ndarray:
        return self.train_acc[:, -1] - self.val_acc[:, -1]


GAP_SETTINGS = (("100 images, 256 hidden units", 100, (256,)), ("1077 images, 256 hidden units", None, (256,)),
                ("1077 images, 4 hidden units", None, (4,)))
BIG_GAP = 0.06   # few images, many units: the gap exceeds 6 points
NO_GAP = 0.03    # few units: the gap stays under 3 points
UNDERFIT_ACC = 0.8   # ... and the training accuracy stays under 80%


def measure_gap(rng, *, settings=GAP_SETTINGS, epochs: int = 15) -> Gap:
    """Adam on the first n training images with a hidden layer of the given width, the same seed
    for each setting: few images and many units memorize; few units cannot fit even the training set."""
    seed = seed_from(rng)
    runs = [train_digits(seed, lr=1e-2, epochs=epochs, optimizer="adam", hidden=hidden, n_train=n,
                         batch_size=50, validate=True)[1] for _, n, hidden in settings]
    return Gap(tuple(label for label, _, _ in settings), np.array([r.train_acc for r in runs]),
               np.array([r.val_acc for r in runs]))


def big_gap(r: Gap) -> bool:
    """The first setting (few images, many units) ends with a gap above BIG_GAP."""
    return bool(r.final_gap[0] > BIG_GAP)


def more_data_halves_gap(r: Gap) -> bool:
    """The second setting (all the images) ends with under half the first setting's gap."""
    return bool(r.final_gap[1] < r.final_gap[0] / 2)


def underfits_without_gap(r: Gap) -> bool:
    """The third setting (few units) ends with no gap (under NO_GAP) at a low training accuracy."""
    return bool(abs(r.final_gap[2]) < NO_GAP and r.train_acc[2, -1] < UNDERFIT_ACC)
