"""The training experiments of 05_batchnorm, all on :class:`lecture_lib.nets.MLP` and
:func:`lecture_lib.nets.train` on the digits: a learning-rate x weight-scale grid with and without
batch norm, batch norm against layer norm as the batch shrinks, steps to a target accuracy, and how
much the loss moves for a small change of the weights with normalized and offset inputs.

The sweeps are cached on disk (:mod:`lecture_lib.cache`, keyed by their configuration and the
generator's state), so a classroom re-run does not retrain; the cache never changes a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import cache, layers, nets, optim
from ..._checks import as_rng, check_array, check_positive, check_positive_int
from ...config import single_thread
from ...data import Splits
from .layer import DeepTraining

TRAINS_ACC = 0.5            # validation accuracy that counts as "trains" (chance: 0.1)
HIGHER_LR_FACTOR = 3.0      # batch norm's largest training lr at least this many times plain's (half a decade)
ROBUST_SHARE = 0.8          # batch norm trains at this share of the weight scales or more
BREAKS_DROP = 0.2           # accuracy lost against the best batch size: "breaks"
SENSITIVITY_FACTOR = 3.0    # offset inputs' loss change at least this many times the centred one's
LAYER_FACTOR = 2.0          # median over layers of plain / batch-norm sensitivity
PAPER_SPEEDUP = 14.0        # Ioffe and Szegedy: the same accuracy in 14 times fewer steps (Inception, ImageNet)
FAR_BELOW_PAPER = 5.0       # a measured speed-up below this is far from the paper's
SMALL_EFFECT = 2.0          # a sensitivity ratio below this: a small effect


def unit_normal(fan_in: int, fan_out: int, rng) -> np.ndarray:
    """Weights drawn from N(0, 1); ``nets.MLP(..., scale=std)`` then gives them the std ``std``."""
    return rng.standard_normal((fan_in, fan_out))


def _arrays(data: Splits):
    f = np.float64
    return data.X_train.astype(f), data.y_train, data.X_val.astype(f), data.y_val


# --------------------------------------------------------------------------- lr x weight scale
@dataclass(frozen=True)
class LrScaleGrid:
    """Validation accuracy (test mode) after ``epochs`` of SGD + momentum 0.9, for each learning rate
    (rows) and weight std (columns), without (``plain``) and with batch norm (``batchnorm``); NaN
    where the run diverged."""

    lrs: np.ndarray
    weight_stds: np.ndarray
    plain: np.ndarray
    batchnorm: np.ndarray
    epochs: int
    depth: int
    width: int

    def accuracy(self, norm: str) -> np.ndarray:
        return {"none": self.plain, "batchnorm": self.batchnorm}[norm]

    def largest_lr(self, norm: str, threshold: float = TRAINS_ACC) -> float:
        """The largest learning rate that trains at some weight scale (0 if none does)."""
        good = np.nan_to_num(self.accuracy(norm), nan=0.0) >= threshold
        rows = np.flatnonzero(good.any(axis=1))
        return float(self.lrs[rows.max()]) if rows.size else 0.0

    def scale_share(self, norm: str, threshold: float = TRAINS_ACC) -> float:
        """The share of weight scales at which some learning rate trains."""
        good = np.nan_to_num(self.accuracy(norm), nan=0.0) >= threshold
        return float(good.any(axis=0).mean())


def measure_lr_scale_grid(data: Splits, *, lrs, weight_stds, depth: int, width: int, epochs: int,
                          batch_size: int = 64, examples: int | None = None, rng) -> LrScaleGrid:
    """Every run starts from the same N(0, 1) draw scaled to the weight std and sees the same batches
    of the first ``examples`` training examples (all by default)."""
    rng = as_rng(rng)
    lrs = check_array(np.asarray(lrs, dtype=float), "lrs", ndim=1, nonempty=True)
    weight_stds = check_array(np.asarray(weight_stds, dtype=float), "weight_stds", ndim=1, nonempty=True)
    config = {"lrs": lrs.tolist(), "stds": weight_stds.tolist(), "depth": depth, "width": width,
              "epochs": epochs, "batch_size": batch_size, "examples": examples}

    def compute():
        X, y, Xv, yv = _arrays(data)
        if examples is not None:
            X, y = X[:check_positive_int(examples, "examples")], y[:examples]
        seed = int(rng.integers(2**31))
        acc = {}
        with single_thread():
            for norm in (None, "batchnorm"):
                table = np.full((len(lrs), len(weight_stds)), np.nan)
                for i, lr in enumerate(lrs):
                    for j, std in enumerate(weight_stds):
                        run = np.random.default_rng(seed)
                        net = nets.MLP([X.shape[1], *[width] * depth, data.n_classes], init=unit_normal,
                                       scale=float(std), norm=norm, rng=run)
                        result = nets.train(net, X, y, optimizer=optim.SGD(lr=float(lr), momentum=0.9),
                                            epochs=epochs, batch_size=batch_size, rng=run, X_val=Xv, y_val=yv)
                        if not result.diverged:
                            table[i, j] = result.val_acc[-1]
                acc[norm] = table
        return LrScaleGrid(lrs, weight_stds, acc[None], acc["batchnorm"], epochs, depth, width)

    return cache.cached_result("bn-lr-scale-grid", config, rng, LrScaleGrid, compute)


def allows_higher_lr(grid: LrScaleGrid, factor: float = HIGHER_LR_FACTOR) -> bool:
    return grid.largest_lr("batchnorm") >= factor * grid.largest_lr("none")


def robust_to_scale(grid: LrScaleGrid, norm: str = "batchnorm", share: float = ROBUST_SHARE) -> bool:
    return grid.scale_share(norm) >= share


# --------------------------------------------------------------------------- batch size
@dataclass(frozen=True)
class BatchSizeSweep:
    """Validation accuracy after ``epochs`` (the same number of examples seen at every batch size,
    lr = base_lr * sqrt(B / 64)) with batch norm and with layer norm: in test mode, and for batch
    norm also in train mode with validation batches of the training size."""

    batch_sizes: np.ndarray
    batchnorm: np.ndarray
    layernorm: np.ndarray
    batchnorm_train_mode: np.ndarray
    epochs: int

    def drop(self, norm: str) -> float:
        """Accuracy at the smallest batch below the best over all batch sizes."""
        acc = {"batchnorm": self.batchnorm, "layernorm": self.layernorm}[norm]
        return float(np.nanmax(acc) - acc[0])


def measure_batch_size(data: Splits, *, batch_sizes=(2, 4, 8, 16, 32, 64, 128, 256), epochs: int,
                       depth: int = 4, width: int = 64, base_lr: float = 0.1, examples: int | None = None,
                       rng) -> BatchSizeSweep:
    """Each run trains on the first ``examples`` training examples (all by default)."""
    rng = as_rng(rng)
    sizes = np.array([check_positive_int(int(b), "batch size") for b in batch_sizes])
    base_lr = check_positive(base_lr, "base_lr")
    config = {"sizes": sizes.tolist(), "epochs": epochs, "depth": depth, "width": width, "lr": base_lr,
              "examples": examples}

    def compute():
        X, y, Xv, yv = _arrays(data)
        if examples is not None:
            X, y = X[:check_positive_int(examples, "examples")], y[:examples]
        seed = int(rng.integers(2**31))
        acc = {"batchnorm": [], "layernorm": [], "train_mode": []}
        with single_thread():
            for norm in ("batchnorm", "layernorm"):
                for b in sizes:
                    run = np.random.default_rng(seed)
                    net = nets.MLP([X.shape[1], *[width] * depth, data.n_classes], norm=norm, rng=run)
                    result = nets.train(net, X, y, optimizer=optim.SGD(lr=base_lr * np.sqrt(b / 64), momentum=0.9),
                                        epochs=epochs, batch_size=int(b), rng=run, X_val=Xv, y_val=yv)
                    acc[norm].append(np.nan if result.diverged else result.val_acc[-1])
                    if norm == "batchnorm":
                        saved = [dict(p) for p in net.norm_params]
                        pred = np.concatenate([np.argmax(net.forward(Xv[i:i + b], mode="train")[0], axis=1)
                                               for i in range(0, len(Xv), b)])
                        net.norm_params = saved
                        acc["train_mode"].append(float(np.mean(pred == yv)))
        return BatchSizeSweep(sizes, np.array(acc["batchnorm"]), np.array(acc["layernorm"]),
                              np.array(acc["train_mode"]), epochs)

    return cache.cached_result("bn-batch-size", config, rng, BatchSizeSweep, compute)


def breaks_at_small_batch(sweep: BatchSizeSweep, norm: str, drop: float = BREAKS_DROP) -> bool:
    return sweep.drop(norm) > drop


# --------------------------------------------------------------------------- steps to a target
@dataclass(frozen=True)
class StepsToTarget:
    """Optimizer steps until the validation accuracy (test mode, checked every ``eval_every`` steps)
    first reaches ``target``, per learning rate, without and with batch norm (NaN: not within
    ``max_steps``, or diverged); the median over seeds."""

    lrs: np.ndarray
    plain: np.ndarray
    batchnorm: np.ndarray
    target: float
    max_steps: int
    eval_every: int

    def best(self, norm: str) -> float:
        steps = {"none": self.plain, "batchnorm": self.batchnorm}[norm]
        return float(np.nanmin(steps)) if np.any(np.isfinite(steps)) else float("nan")

    @property
    def speedup(self) -> float:
        """Best plain steps over best batch-norm steps (each at its own best learning rate)."""
        return self.best("none") / self.best("batchnorm")


def steps_to_accuracy(net: nets.MLP, optimizer, data: Splits, *, target: float, batch_size: int,
                      eval_every: int, max_steps: int, rng) -> int | None:
    """Train ``net`` in chunks of ``eval_every`` steps (each chunk a fresh slice of a shuffled
    epoch) until its validation accuracy reaches ``target``; the steps taken, or None."""
    X, y, Xv, yv = _arrays(data)
    chunk = batch_size * eval_every
    order, start, steps = rng.permutation(len(X)), 0, 0
    while steps < max_steps:
        if start + chunk > len(X):
            order, start = rng.permutation(len(X)), 0
        idx = order[start:start + chunk]
        start += chunk
        if nets.train(net, X[idx], y[idx], optimizer=optimizer, epochs=1, batch_size=batch_size, rng=rng).diverged:
            return None
        steps += eval_every
        if net.accuracy(Xv, yv) >= target:
            return steps
    return None


def measure_steps_to_target(data: Splits, *, lrs, target: float, depth: int, width: int = 64,
                            batch_size: int = 32, eval_every: int = 5, max_steps: int = 300,
                            seeds: int = 1, rng) -> StepsToTarget:
    rng = as_rng(rng)
    lrs = check_array(np.asarray(lrs, dtype=float), "lrs", ndim=1, nonempty=True)
    config = {"lrs": lrs.tolist(), "target": target, "depth": depth, "width": width, "batch": batch_size,
              "every": eval_every, "max": max_steps, "seeds": seeds}

    def compute():
        sizes = [data.X_train.shape[1], *[width] * depth, data.n_classes]
        seed_list = rng.integers(2**31, size=check_positive_int(seeds, "seeds"))
        steps = {}
        with single_thread():
            for norm in (None, "batchnorm"):
                table = np.full((len(seed_list), len(lrs)), np.nan)
                for s, seed in enumerate(seed_list):
                    for i, lr in enumerate(lrs):
                        run = np.random.default_rng(int(seed))
                        net = nets.MLP(sizes, norm=norm, rng=run)
                        found = steps_to_accuracy(net, optim.SGD(lr=float(lr), momentum=0.9), data, target=target,
                                                  batch_size=batch_size, eval_every=eval_every,
                                                  max_steps=max_steps, rng=run)
                        table[s, i] = np.nan if found is None else found
                steps[norm] = np.array([np.nan if np.all(np.isnan(c)) else np.nanmedian(c) for c in table.T])
        return StepsToTarget(lrs, steps[None], steps["batchnorm"], float(target), max_steps, eval_every)

    return cache.cached_result("bn-steps-to-target", config, rng, StepsToTarget, compute)


def faster_with_bn(result: StepsToTarget) -> bool:
    return result.speedup > 1.0


def far_below_paper(result: StepsToTarget, factor: float = FAR_BELOW_PAPER) -> bool:
    return result.speedup < factor


# --------------------------------------------------------------------------- sensitivity of the loss
@dataclass(frozen=True)
class WeightSensitivity:
    """A softmax classifier fitted on the standardized digits, then the *same* classifier on inputs
    moved away from the origin by ``offset`` (in units of each pixel's std; the bias absorbs the
    shift, so the loss is unchanged): the median |change of the loss| over random weight changes of
    relative size ``rel_size``, divided by ``rel_size``."""

    offsets: np.ndarray
    sensitivity: np.ndarray
    loss: float
    loss_mismatch: float    # largest |loss at an offset - loss at 0| (0 to rounding)
    rel_size: float
    raw_offset: float       # the raw [0, 1] pixels' mean / std, averaged over pixels that vary

    @property
    def ratio(self) -> float:
        return float(self.sensitivity[-1] / self.sensitivity[0])


def fit_softmax(X, y, *, steps: int = 200, lr: float = 0.5):
    """Softmax regression by full-batch gradient descent from zero: (W, b)."""
    W, b = np.zeros((X.shape[1], int(y.max()) + 1)), np.zeros(int(y.max()) + 1)
    for _ in range(check_positive_int(steps, "steps")):
        _, dW, db = nets.softmax_regression_loss(W, b, X, y)
        W -= lr * dW
        b -= lr * db
    return W, b


def relative_change(W, rel_size: float, rng) -> np.ndarray:
    """A random direction scaled to ``rel_size`` times the Frobenius norm of ``W``."""
    U = rng.standard_normal(W.shape)
    return U * (rel_size * np.linalg.norm(W) / np.linalg.norm(U))


def measure_weight_sensitivity(data: Splits, *, offsets=(0.0, 2.0, 5.0, 10.0), rel_size: float = 0.01,
                               draws: int = 50, rng) -> WeightSensitivity:
    rng = as_rng(rng)
    with single_thread():
        return _weight_sensitivity(data, offsets, rel_size, draws, rng)


def _weight_sensitivity(data, offsets, rel_size, draws, rng):
    standardized = data.standardized()
    X, y = standardized.X_train.astype(np.float64), standardized.y_train
    W, b = fit_softmax(X, y)
    loss0 = nets.softmax_regression_loss(W, b, X, y)[0]
    deltas = [relative_change(W, check_positive(rel_size, "rel_size"), rng) for _ in range(draws)]
    sens, mismatch = [], 0.0
    for c in offsets:
        Xc, bc = X + c, b - c * W.sum(axis=0)       # the same scores: (X + c) W + b - c 1^T W
        loss = nets.softmax_regression_loss(W, bc, Xc, y)[0]
        mismatch = max(mismatch, abs(loss - loss0))
        changes = [abs(nets.softmax_regression_loss(W + d, bc, Xc, y)[0] - loss) for d in deltas]
        sens.append(np.median(changes) / rel_size)
    raw = data.X_train.astype(np.float64)
    varying = raw.std(axis=0) > 0
    return WeightSensitivity(np.asarray(offsets, float), np.array(sens), float(loss0), float(mismatch),
                             float(rel_size), float(np.mean(raw.mean(axis=0)[varying] / raw.std(axis=0)[varying])))


def less_sensitive(result: WeightSensitivity, factor: float = SENSITIVITY_FACTOR) -> bool:
    """Centred inputs: the loss moves at least ``factor`` times less than with the largest offset."""
    return result.ratio >= factor


def grows_with_offset(result: WeightSensitivity) -> bool:
    """The farther the inputs sit from the origin, the more the loss moves."""
    return bool(np.all(np.diff(result.sensitivity) > 0))


def raw_pixels_ratio(result: WeightSensitivity) -> float:
    """How much more sensitive the loss is at the raw pixels' own offset than for centred inputs."""
    return float(np.interp(result.raw_offset, result.offsets, result.sensitivity) / result.sensitivity[0])


def small_effect(ratio: float, factor: float = SMALL_EFFECT) -> bool:
    return ratio < factor


@dataclass(frozen=True)
class LayerSensitivity:
    """The deep nets without and with batch norm (``state``: at init, the same weights; or
    trained): median |change of the training loss| (train mode, one batch) over random changes of
    one layer's weights of relative size ``rel_size``, per layer."""

    plain: np.ndarray
    batchnorm: np.ndarray
    rel_size: float
    state: str

    @property
    def ratio(self) -> float:
        """Median over layers of the plain net's sensitivity over the batch-norm net's."""
        return float(np.median(self.plain / self.batchnorm))


def normalized_layers_less_sensitive(result: LayerSensitivity, factor: float = LAYER_FACTOR) -> bool:
    return result.ratio >= factor


def measure_layer_sensitivity(training: DeepTraining, X, y, *, state: str = "initial", rel_size: float = 0.01,
                              draws: int = 10, batch_size: int = 256, rng) -> LayerSensitivity:
    rng = as_rng(rng)
    X = check_array(X, "X", ndim=2).astype(np.float64)
    idx = rng.choice(len(X), size=min(batch_size, len(X)), replace=False)
    Xb, yb = X[idx], y[idx]
    result = {}
    with single_thread():
        for norm in ("none", "batchnorm"):
            net = training.network(norm, state)
            saved = [dict(p) for p in net.norm_params]

            def loss(net=net):      # train mode, as in training; forward only
                return layers.softmax_loss(net.forward(Xb)[0], yb)[0]

            base = loss()
            per_layer = []
            for name in net.weight_names:
                W = net.params[name].copy()
                changes = []
                for _ in range(draws):
                    net.params[name] = W + relative_change(W, rel_size, rng)
                    changes.append(abs(loss() - base))
                net.params[name] = W
                per_layer.append(np.median(changes) / rel_size)
            net.norm_params = saved
            result[norm] = np.array(per_layer)
    return LayerSensitivity(result["none"], result["batchnorm"], float(rel_size), state)


@dataclass(frozen=True)
class Boundaries:
    """Two digit classes in two features (their leading principal components, standardized), a
    softmax classifier fitted on them, and the decision boundaries ``w . x + b = 0`` of that
    classifier and of ``draws`` random changes of its weights of relative size ``rel_size``, with
    the inputs moved by ``offset`` (the bias absorbs the shift: the same classifier)."""

    points: np.ndarray       # (N, 2), already offset
    labels: np.ndarray       # 0 for classes[0], 1 for classes[1]
    classes: tuple
    offset: float
    boundary: np.ndarray     # (3,): w1, w2, b
    perturbed: np.ndarray    # (draws, 3)
    loss_changes: np.ndarray  # (draws,) |change of the loss|


def measure_boundaries(data: Splits, *, offset: float, classes=(1, 7), rel_size: float = 0.1,
                       draws: int = 20, rng) -> Boundaries:
    rng = as_rng(rng)
    with single_thread():
        return _boundaries(data, offset, classes, rel_size, draws, rng)


def _boundaries(data, offset, classes, rel_size, draws, rng):
    X = data.X_train.astype(np.float64)
    keep = np.isin(data.y_train, classes)
    X, y = X[keep], (data.y_train[keep] == classes[1]).astype(np.int64)
    centred = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    Z = centred @ Vt[:2].T
    Z /= Z.std(axis=0)
    W, b = fit_softmax(Z, y)
    Zc, bc = Z + offset, b - offset * W.sum(axis=0)
    loss = nets.softmax_regression_loss(W, bc, Zc, y)[0]

    def line(W_, b_):
        return np.array([W_[0, 1] - W_[0, 0], W_[1, 1] - W_[1, 0], b_[1] - b_[0]])

    perturbed, changes = [], []
    for _ in range(check_positive_int(draws, "draws")):
        Wp = W + relative_change(W, check_positive(rel_size, "rel_size"), rng)
        perturbed.append(line(Wp, bc))
        changes.append(abs(nets.softmax_regression_loss(Wp, bc, Zc, y)[0] - loss))
    return Boundaries(Zc, y, tuple(classes), float(offset), line(W, bc), np.array(perturbed), np.array(changes))
