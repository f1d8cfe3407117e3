"""The dropout experiments of 06_regularization, on the course's NumPy MLP: dropout and
DropConnect, the Monte Carlo view of test-time scaling, the ensemble of subnetworks, unit deletion;
and the spiral fits of the regularization explorer. The torch experiments are in
:mod:`.augmentation`, the weight-decay ones in :mod:`.decay`.

Every ``measure_<what>(..., rng)`` returns a frozen dataclass; each threshold a notebook asserts is
a named constant next to a named predicate, and tests/test_regularization_experiments.py runs the
opposite experiment for each predicate.

The data: scikit-learn's digits, standardized with the training split's statistics; a small
training subset (a few hundred images) so that a wide MLP memorizes it, as in CS231n's dropout
experiment, and the 719 held-out images (validation and test splits together) for every accuracy.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ... import layers, nets, optim
from ..._checks import as_rng, check_int, check_positive_int, check_probability
from ...config import single_thread

METHODS = ("none", "dropout", "dropconnect")


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class DigitsTask:
    """A training subset of the digits and the held-out images."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_held: np.ndarray
    y_held: np.ndarray


@lru_cache(maxsize=1)
def _standardized_digits():
    from ...data import digits

    s = digits(seed=0).standardized()
    return (s.X_train.astype(np.float64), s.y_train,
            np.concatenate([s.X_val, s.X_test]).astype(np.float64), np.concatenate([s.y_val, s.y_test]))


def digits_task(n_train: int, rng) -> DigitsTask:
    """``n_train`` training digits drawn from the training split by ``rng``, and the 719 held-out ones
    (arrays are copies: callers may change them)."""
    X, y, X_held, y_held = _standardized_digits()
    n_train = check_int(n_train, "n_train", min=10, max=len(X))
    idx = as_rng(rng).permutation(len(X))[:n_train]
    return DigitsTask(X[idx], y[idx], X_held.copy(), y_held.copy())


def held_out_loss(net: nets.MLP, X, y) -> float:
    """The mean cross-entropy of the test-mode network."""
    return layers.softmax_loss(net.scores(X), y)[0]


# --------------------------------------------------------------------------- no reg / dropout / DropConnect
@dataclass(frozen=True)
class RegularizedRuns:
    """For each seed, the same MLP (same initial weights, same training subset, same batches) trained
    with each method: ``nets[method][seed]`` and its per-epoch ``histories[method][seed]``;
    ``held_acc`` / ``held_loss`` / ``train_loss`` (test mode, after training) are arrays (seeds,);
    ``seconds``: the training time of each method, summed over seeds."""

    sizes: tuple
    keep: float
    n_train: int
    epochs: int
    tasks: tuple
    nets: dict
    histories: dict
    held_acc: dict
    held_loss: dict
    train_loss: dict
    seconds: dict

    def mean(self, table: str, method: str) -> float:
        return float(np.mean(getattr(self, table)[method]))

    def gap(self, method: str) -> float:
        """Held-out loss minus training loss, averaged over seeds: the overfitting in the loss."""
        return self.mean("held_loss", method) - self.mean("train_loss", method)


def measure_regularized_runs(*, n_train: int = 200, hidden: int = 128, depth: int = 2, keep: float = 0.5,
                             epochs: int = 40, n_seeds: int = 1, lr: float = 0.03, batch_size: int = 50,
                             methods=METHODS, dtype=np.float32, rng) -> RegularizedRuns:
    """Train an MLP (``depth`` hidden ReLU layers of ``hidden`` units, He init, SGD with momentum
    0.9, in ``dtype``: float32 halves DropConnect's cost) on ``n_train`` digits without
    regularization, with dropout and with DropConnect (both keeping ``keep``), ``n_seeds`` times
    (each seed: a new subset, initial weights and batch order, shared by the methods)."""
    rng = as_rng(rng)
    keep = check_probability(keep, "keep", allow_zero=False, allow_one=False)
    n_seeds = check_positive_int(n_seeds, "n_seeds", max=100)
    sizes = (64, *([check_positive_int(hidden, "hidden", max=4096)] * check_positive_int(depth, "depth", max=10)), 10)
    methods = tuple(methods)
    seeds = [rng.integers(0, 2**31 - 1, size=3) for _ in range(n_seeds)]
    tasks = tuple(digits_task(n_train, int(s[0])) for s in seeds)
    out = {k: {m: [] for m in methods} for k in ("nets", "histories", "held_acc", "held_loss", "train_loss")}
    seconds = dict.fromkeys(methods, 0.0)
    with single_thread():
        for task, (_, init_seed, batch_seed) in zip(tasks, seeds, strict=True):
            for method in methods:
                option = {"dropout": {"dropout_keep": keep}, "dropconnect": {"dropconnect_keep": keep}}.get(method, {})
                net = nets.MLP(sizes, rng=np.random.default_rng(init_seed), dtype=dtype, **option)
                start = time.perf_counter()
                history = nets.train(net, task.X_train, task.y_train,
                                     optimizer=optim.SGD(lr=lr, momentum=0.9), epochs=epochs,
                                     batch_size=batch_size, rng=np.random.default_rng(batch_seed),
                                     X_val=task.X_held, y_val=task.y_held)
                seconds[method] += time.perf_counter() - start
                if history.diverged:
                    raise RuntimeError(f"training with {method} diverged in epoch {history.diverged_at} "
                                       f"(lr={lr}); lower the learning rate")
                out["nets"][method].append(net)
                out["histories"][method].append(history)
                out["held_acc"][method].append(net.accuracy(task.X_held, task.y_held))
                out["held_loss"][method].append(held_out_loss(net, task.X_held, task.y_held))
                out["train_loss"][method].append(held_out_loss(net, task.X_train, task.y_train))
    as_arrays = {k: {m: np.array(v) for m, v in out[k].items()} for k in ("held_acc", "held_loss", "train_loss")}
    return RegularizedRuns(sizes, keep, n_train, epochs, tasks,
                           {m: tuple(v) for m, v in out["nets"].items()},
                           {m: tuple(v) for m, v in out["histories"].items()}, **as_arrays, seconds=seconds)


# Two regularizers have a similar effect when their mean held-out accuracies over the seeds are
# within SIMILAR_EFFECT; an effect is small when it stays within SMALL_EFFECT of no regularization;
# one costs more when its training takes COSTS_MORE times as long.
SIMILAR_EFFECT = 0.02
SMALL_EFFECT = 0.03
COSTS_MORE = 3.0


def gain(runs: RegularizedRuns, method: str) -> float:
    """Mean held-out accuracy gained over no regularization (same seeds)."""
    return float(np.mean(runs.held_acc[method] - runs.held_acc["none"]))


def similar_effect(runs: RegularizedRuns, a: str = "dropconnect", b: str = "dropout") -> bool:
    return abs(runs.mean("held_acc", a) - runs.mean("held_acc", b)) <= SIMILAR_EFFECT


def small_effect(runs: RegularizedRuns, method: str) -> bool:
    return abs(gain(runs, method)) <= SMALL_EFFECT


def costs_more(runs: RegularizedRuns, method: str = "dropconnect", reference: str = "dropout") -> bool:
    return runs.seconds[method] >= COSTS_MORE * runs.seconds[reference]


# --------------------------------------------------------------------------- test-time scaling
@dataclass(frozen=True)
class MaskSamples:
    """``n`` train-mode passes of a dropout net over the same inputs (fresh masks each, the weights
    unchanged): the last hidden layer's pre-activations ``pre`` and ReLU outputs ``out`` (n, N, H)
    and the class ``scores`` (n, N, C); and the deterministic test-mode values of the same."""

    pre: np.ndarray
    out: np.ndarray
    scores: np.ndarray
    pre_test: np.ndarray
    out_test: np.ndarray
    scores_test: np.ndarray


def sample_masks(net: nets.MLP, X, n_masks: int = 128, *, rng) -> MaskSamples:
    """Run ``net`` ``n_masks`` times in train mode over ``X`` with masks drawn from ``rng`` (the
    net's own generator is left untouched)."""
    if net.dropout_keep is None or net.dropout_keep >= 1:
        raise ValueError("net has no dropout (dropout_keep is None or 1); expected a dropout-trained MLP")
    n_masks = check_positive_int(n_masks, "n_masks", max=10_000)
    saved, net.rng = net.rng, as_rng(rng)
    pre, out, scores = [], [], []
    try:
        with single_thread():
            for _ in range(n_masks):
                s, (caches, _) = net.forward(X, mode="train")
                pre.append(caches[-1][4])
                out.append(caches[-1][6])
                scores.append(s)
            s_test, (caches, _) = net.forward(X, mode="test")
    finally:
        net.rng = saved
    return MaskSamples(np.stack(pre), np.stack(out), np.stack(scores), caches[-1][4], caches[-1][6], s_test)


def scaled_weights(net: nets.MLP, factor: float) -> nets.MLP:
    """A copy of ``net`` whose layers after the first take their input multiplied by ``factor``
    (W2 ... WL scaled): ``1/p`` is the net of the notes' scheme used without its test-time scaling."""
    twin = copy.copy(net)
    twin.params = dict(net.params)
    for name in net.weight_names[1:]:
        twin.params[name] = net.params[name] * factor
    return twin


def _gap_and_bias(samples: np.ndarray, test: np.ndarray, counts) -> tuple[np.ndarray, float, float]:
    """Relative distance of the k-sample mean from ``test`` for each k; the relative standard error
    of the full mean; and the bias of ``test`` (the distance with the Monte Carlo noise removed:
    E|mean - test|^2 = bias^2 + noise^2)."""
    norm = np.linalg.norm(test)
    gaps = np.array([np.linalg.norm(samples[:k].mean(0) - test) / norm for k in counts])
    noise = float(np.sqrt(samples.var(0).sum() / len(samples)) / norm)
    return gaps, noise, float(np.sqrt(max(gaps[-1] ** 2 - noise ** 2, 0.0)))


@dataclass(frozen=True)
class TestScaling:
    """How well one deterministic test-time pass stands for the average over dropout masks.

    - ``n_masks``: the numbers of masks averaged; ``gap_linear`` / ``gap_relu``: the relative
      distance between their mean and the test-mode value, before and after the last hidden
      layer's ReLU; ``noise_linear`` / ``noise_relu``: the relative standard error of the mean over
      all the masks; ``bias_linear`` / ``bias_relu``: the relative error of the test-mode value
      itself (the distance with the Monte Carlo noise taken out);
    - on held-out digits: ``acc_scaled`` / ``loss_scaled`` (test mode: weight scaling),
      ``acc_mc`` / ``loss_mc`` (the softmax averaged over all the masks), ``acc_forgot`` /
      ``loss_forgot`` (the notes' scheme with its test-time scaling forgotten: W2 ... WL / p).
    """

    keep: float
    n_masks: np.ndarray
    gap_linear: np.ndarray
    gap_relu: np.ndarray
    noise_linear: float
    noise_relu: float
    bias_linear: float
    bias_relu: float
    acc_scaled: float
    loss_scaled: float
    acc_mc: float
    loss_mc: float
    acc_forgot: float
    loss_forgot: float


def measure_test_scaling(net: nets.MLP, X, y, *, samples: MaskSamples | None = None, n_masks: int = 128,
                         rng) -> TestScaling:
    """Compare the deterministic test pass of a dropout-trained ``net`` with Monte Carlo averages
    over masks (``samples`` from :func:`sample_masks`, or ``n_masks`` new ones) on (X, y)."""
    samples = samples if samples is not None else sample_masks(net, X, n_masks, rng=rng)
    p, n = net.dropout_keep, len(samples.scores)
    counts = np.unique(np.r_[4 ** np.arange(int(np.log(n) / np.log(4)) + 1), n])
    gap_linear, noise_linear, bias_linear = _gap_and_bias(samples.pre, samples.pre_test, counts)
    gap_relu, noise_relu, bias_relu = _gap_and_bias(samples.out, samples.out_test, counts)
    probs = layers.softmax(samples.scores).mean(0)
    forgot = scaled_weights(net, 1 / p)
    with single_thread():
        return TestScaling(
            p, counts, gap_linear, gap_relu, noise_linear, noise_relu, bias_linear, bias_relu,
            net.accuracy(X, y), held_out_loss(net, X, y),
            float(np.mean(probs.argmax(1) == y)), float(-np.mean(np.log(probs[np.arange(len(y)), y]))),
            forgot.accuracy(X, y), held_out_loss(forgot, X, y))


# Before a nonlinearity the test pass is the mean (its bias under EXACT_BIAS of the activations'
# size); after the ReLU it is off by at least NONLINEAR_BIAS; yet the accuracies of the test pass
# and of the average over masks agree within SCALED_TOLERANCE.
EXACT_BIAS = 0.03
NONLINEAR_BIAS = 0.1
SCALED_TOLERANCE = 0.01


def exact_before_nonlinearity(result: TestScaling) -> bool:
    return result.bias_linear <= EXACT_BIAS


def biased_after_nonlinearity(result: TestScaling) -> bool:
    return result.bias_relu >= NONLINEAR_BIAS


def scaled_matches_average(result: TestScaling) -> bool:
    return abs(result.acc_mc - result.acc_scaled) <= SCALED_TOLERANCE


@dataclass(frozen=True)
class ScaleChoice:
    """A net trained with dropout keeping ``keep``, read at test time with the right scale, with the
    scale forgotten, and with the drop probability in place of the keep probability (the notes'
    "multiply by the dropout probability" read as the probability of dropping): held-out accuracy and
    loss of each, by name."""

    keep: float
    acc: dict
    loss: dict


SCALE_READINGS = ("keep probability (right)", "forgotten", "drop probability")


def measure_scale_choice(task: DigitsTask, *, keep: float = 0.8, hidden: int = 128, epochs: int = 40,
                         lr: float = 0.03, rng) -> ScaleChoice:
    """Train the dropout MLP of :func:`measure_regularized_runs` keeping ``keep`` on ``task`` and read
    it with each scale of :data:`SCALE_READINGS` (as factors on the notes' scheme: p, 1, 1 - p)."""
    rng = as_rng(rng)
    keep = check_probability(keep, "keep", allow_zero=False, allow_one=False)
    with single_thread():
        net = nets.MLP([64, hidden, hidden, 10], rng=rng, dropout_keep=keep, dtype=np.float32)
        nets.train(net, task.X_train, task.y_train, optimizer=optim.SGD(lr=lr, momentum=0.9), epochs=epochs,
                   batch_size=50, rng=rng)
        # the inverted net equals the notes' net with weights W/p read at test time with the factor p
        readings = dict(zip(SCALE_READINGS, (1.0, 1 / keep, (1 - keep) / keep), strict=True))
        twins = {name: scaled_weights(net, f) for name, f in readings.items()}
        return ScaleChoice(keep, {n: t.accuracy(task.X_held, task.y_held) for n, t in twins.items()},
                           {n: held_out_loss(t, task.X_held, task.y_held) for n, t in twins.items()})


# --------------------------------------------------------------------------- the ensemble view
@dataclass(frozen=True)
class DropoutEnsemble:
    """Held-out accuracy of the average of ``n_masks`` random sub-networks (softmax averaged; mean
    and std over ``repeats`` disjoint groups of masks) against the scaled network;
    ``n_droppable`` units give 2 ** n_droppable possible sub-networks."""

    n_masks: np.ndarray
    acc_mean: np.ndarray
    acc_std: np.ndarray
    acc_scaled: float
    n_droppable: int


def measure_dropout_ensemble(net: nets.MLP, X, y, *, samples: MaskSamples | None = None, repeats: int = 4,
                             n_masks: int = 128, rng) -> DropoutEnsemble:
    """Average the softmax of k random sub-networks of a dropout-trained ``net`` (k = 1, 2, 4, ...),
    ``repeats`` times with disjoint masks (``samples`` from :func:`sample_masks`, or new ones)."""
    samples = samples if samples is not None else sample_masks(net, X, n_masks, rng=rng)
    repeats = check_positive_int(repeats, "repeats", max=len(samples.scores))
    group = len(samples.scores) // repeats
    counts = 2 ** np.arange(int(np.log2(group)) + 1)
    probs = layers.softmax(samples.scores[:group * repeats]).reshape(repeats, group, *samples.scores.shape[1:])
    acc = np.array([[np.mean(np.cumsum(p, axis=0)[k - 1].argmax(1) == y) for k in counts] for p in probs])
    with single_thread():
        return DropoutEnsemble(counts, acc.mean(0), acc.std(0), net.accuracy(X, y), sum(net.sizes[1:-1]))


# The ensemble view holds when one sub-network alone is clearly worse than the scaled network (by
# SUBNET_GAP), and averaging more of them closes the gap (the largest average within
# SCALED_TOLERANCE of the scaled network).
SUBNET_GAP = 0.03


def single_subnetwork_is_weaker(result: DropoutEnsemble) -> bool:
    return bool(result.acc_scaled - result.acc_mean[0] >= SUBNET_GAP)


def averaging_closes_the_gap(result: DropoutEnsemble) -> bool:
    return bool(abs(result.acc_mean[-1] - result.acc_scaled) <= SCALED_TOLERANCE)


# --------------------------------------------------------------------------- redundancy
@dataclass(frozen=True)
class UnitDeletion:
    """For each network (by label) and each of its hidden units (``layer_of`` gives the unit's hidden
    layer, 1-based): the held-out accuracy lost and the held-out loss gained when that one unit is
    deleted (its outgoing weights set to zero); ``acc`` / ``loss``: the intact network's."""

    layer_of: np.ndarray
    acc_drop: dict
    loss_rise: dict
    acc: dict
    loss: dict

    def worst(self, label: str, table: str = "loss_rise") -> float:
        return float(getattr(self, table)[label].max())

    def top(self, label: str, share: float | None = None) -> float:
        """The mean held-out loss added by the most important ``share`` of the units (at least one;
        default TOP_SHARE): the cost of losing the units the network leans on most."""
        rise = np.sort(self.loss_rise[label])[::-1]
        return float(rise[:max(1, int(round((TOP_SHARE if share is None else share) * len(rise))))].mean())


def deletion_scores(net: nets.MLP, X) -> list[np.ndarray]:
    """The test-mode class scores of ``net`` with each hidden unit deleted in turn (its output set to
    zero), one array (units, N, C) per hidden layer: the intact pass's activations, and the change a
    deleted unit makes propagated through the layers above it, all units of a layer at once.
    For ReLU MLPs without normalization."""
    if net.activation != "relu" or net.norm is not None:
        raise ValueError(f"net has activation={net.activation!r}, norm={net.norm!r}; expected a ReLU "
                         "MLP without normalization")
    with single_thread():
        scores, (caches, _) = net.forward(X, mode="test")
        result = []
        for layer in range(1, net.n_hidden + 1):
            h = caches[layer - 1][6]                                         # (N, H): this layer's output
            above = caches[layer][4] if layer < net.n_hidden else scores     # the next affine's output
            W = net.params[f"W{layer + 1}"]
            z = above[None] - h.T[:, :, None] * W[:, None, :]               # (H, N, next) without unit j
            for i in range(layer + 1, net.n_hidden + 1):                    # through the layers above
                z = np.maximum(z, 0) @ net.params[f"W{i + 1}"] + net.params[f"b{i + 1}"]
            result.append(z)
        return result


def measure_unit_deletion(networks: dict, X, y) -> UnitDeletion:
    """Delete the hidden units of each network one at a time and measure what the held-out digits
    (X, y) lose. ``networks`` maps a label to a trained ReLU MLP or to a list of them (one per seed;
    their units are pooled)."""
    acc_drop, loss_rise, acc, loss = {}, {}, {}, {}
    y = np.asarray(y)
    layer_of = None
    for label, group in networks.items():
        group = list(group) if isinstance(group, (list, tuple)) else [group]
        drops, rises, layers_, accs, losses = [], [], [], [], []
        for net in group:
            with single_thread():
                base_acc, base_loss = net.accuracy(X, y), held_out_loss(net, X, y)
            accs.append(base_acc)
            losses.append(base_loss)
            for layer, z in enumerate(deletion_scores(net, X), start=1):
                logp = z - z.max(-1, keepdims=True)
                logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
                drops.append(base_acc - np.mean(z.argmax(-1) == y, axis=1))
                rises.append(-logp[:, np.arange(len(y)), y].mean(axis=1) - base_loss)
                layers_.append(np.full(len(z), layer))
        units = np.concatenate(layers_)
        if layer_of is not None and len(units) != len(layer_of):
            raise ValueError("networks have different numbers of units; expected groups of the same shapes")
        layer_of = units
        acc_drop[label], loss_rise[label] = np.concatenate(drops), np.concatenate(rises)
        acc[label], loss[label] = float(np.mean(accs)), float(np.mean(losses))
    return UnitDeletion(layer_of, acc_drop, loss_rise, acc, loss)


# Dropout spreads the representation when deleting its most important units (the top TOP_SHARE of
# them, averaged) costs at most REDUNDANCY_RATIO of the held-out loss that the unregularized net's
# most important units cost, and its median unit costs less too.
TOP_SHARE = 0.02
REDUNDANCY_RATIO = 0.75


def spreads_representation(result: UnitDeletion, with_dropout: str = "dropout", without: str = "none") -> bool:
    return bool(result.top(with_dropout) <= REDUNDANCY_RATIO * result.top(without)
                and np.median(result.loss_rise[with_dropout]) < np.median(result.loss_rise[without]))


# --------------------------------------------------------------------------- the explorer's spiral
SPIRAL_NOISE = 0.4
SPIRAL_EXTENT = (-1.25, 1.25)


@dataclass(frozen=True)
class SpiralFit:
    """The course's MLP (2-64-64-3) trained full-batch on ``n_per_class`` points per arm of a noisy
    3-arm spiral: training and held-out accuracy every ``every`` epochs (``epochs``, ``train_acc``,
    ``val_acc``), the predicted class on a ``grid`` x ``grid`` lattice over :data:`SPIRAL_EXTENT`
    (``boundary``), and the training points."""

    epochs: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    boundary: np.ndarray
    X: np.ndarray
    y: np.ndarray


def spiral_split(n_per_class: int, seed: int = 0):
    from ...data import spiral

    X, y = spiral(3, check_positive_int(n_per_class, "n_per_class", max=10_000), SPIRAL_NOISE, seed=seed)
    X_val, y_val = spiral(3, 100, SPIRAL_NOISE, seed=seed + 1)
    return X, y, X_val, y_val


def fit_spiral(n_per_class: int, keep: float, decay: float, *, epochs: int = 150, every: int = 10,
               grid: int = 64, seed: int = 0) -> SpiralFit:
    """Train the MLP (SGD, lr 0.1, momentum 0.9, L2 weight decay ``decay`` on the weights, dropout
    keeping ``keep``; 1 = none) and record its curves and decision boundary."""
    keep = check_probability(keep, "keep", allow_zero=False)
    decay = float(np.clip(decay, 0.0, None))
    X, y, X_val, y_val = spiral_split(n_per_class, seed)
    net = nets.MLP([2, 64, 64, 3], dropout_keep=keep if keep < 1 else None, rng=np.random.default_rng(seed))
    opt, batches = optim.SGD(lr=0.1, momentum=0.9), np.random.default_rng(seed + 2)
    marks, train_acc, val_acc = [0], [net.accuracy(X, y)], [net.accuracy(X_val, y_val)]
    with single_thread():
        for start in range(0, epochs, every):
            nets.train(net, X, y, optimizer=opt, epochs=every, batch_size=len(X), rng=batches, reg=decay)
            marks.append(start + every)
            train_acc.append(net.accuracy(X, y))
            val_acc.append(net.accuracy(X_val, y_val))
        axis = np.linspace(*SPIRAL_EXTENT, grid)
        lattice = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
        boundary = net.predict(lattice).reshape(grid, grid).astype(np.int8)
    return SpiralFit(np.array(marks), np.array(train_acc), np.array(val_acc), boundary, X, y)

