"""The experiments of 05_batchnorm that look inside one gate or one deep network: the statistics
batch norm produces, the identity gamma and beta can recover, the conv version's per-channel
statistics, gradient flow, the differences from torch, and the two backward passes.

How an example's output depends on its batch (the noise, test mode) is in :mod:`.batch`; the
training sweeps (learning rate x weight scale, batch size, steps to a target, sensitivity of the
loss) in :mod:`.training`. Every MLP here is :class:`lecture_lib.nets.MLP`. Each threshold the
notebook asserts is a named constant with a named predicate, and the unit tests run the opposite
experiment.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ... import layers, nets, optim
from ..._checks import as_rng, check_array, check_positive_int, check_scalar
from ...config import single_thread
from ...data import Splits

# --------------------------------------------------------------------------- thresholds
RECOVERS_TOL = 1e-10          # max |out - x| when gamma, beta undo the normalization
STANDARDIZED_TOL = 1e-3       # |mean| and |std - 1| of xhat per feature (eps lowers the std by eps/2var)
GAUSSIAN_SKEW_Z = 2.58        # a feature's skewness outside +-2.58 sqrt(6/N): not Gaussian at 99 %
NON_GAUSSIAN_SHARE = 0.2      # ... and more than this share of the features (Gaussian data: 1 %)
VANISH_FACTOR = 1e-3          # layer-1 gradient below this fraction of the same net's at He's scale
EXPLODE_FACTOR = 1e3          # ... or above this multiple of it
FLAT_BAND = (0.2, 5.0)        # first / last hidden layer's gradient within this band: no trend
GROWS_FACTOR = 5.0            # above this: the gradient grows toward the input
SCALE_FREE_BAND = (0.5, 2.0)  # gradients at two weight scales within this band of each other
POSITION_SPREAD = 0.01        # per-position means after per-channel BN: not normalized one by one


def _float(X):
    return check_array(X, "X", ndim=2).astype(np.float64)


def _hidden_params(net: nets.MLP) -> dict:
    return {k: v.copy() for k, v in net.params.items()}


# --------------------------------------------------------------------------- identity
@dataclass(frozen=True)
class IdentityResult:
    """Batch norm with gamma = sqrt(var + eps), beta = mean, on a real layer's pre-activations:
    the largest |out - x|, and the same with eps forgotten in gamma (gamma = std)."""

    max_error: float
    max_error_without_eps: float
    x_std_range: tuple


def measure_identity(X, *, width: int = 32, rng) -> IdentityResult:
    """Pre-activations x = X W of a random He layer on real inputs ``X``; then batch norm with
    gamma and beta set to the batch's std and mean."""
    rng = as_rng(rng)
    X = _float(X)
    W = rng.standard_normal((X.shape[1], check_positive_int(width, "width"))) * np.sqrt(2 / X.shape[1])
    x = X @ W
    eps = layers.norm.DEFAULT_EPS
    mean, var = x.mean(axis=0), x.var(axis=0)
    out, _ = layers.batchnorm_forward(x, np.sqrt(var + eps), mean, {"mode": "train"})
    off, _ = layers.batchnorm_forward(x, np.sqrt(var), mean, {"mode": "train"})
    std = np.sqrt(var)
    return IdentityResult(float(np.abs(out - x).max()), float(np.abs(off - x).max()),
                          (float(std.min()), float(std.max())))


def recovers_identity(max_error: float, tol: float = RECOVERS_TOL) -> bool:
    return max_error < tol


# --------------------------------------------------------------------------- a deep net, trained
@dataclass(frozen=True)
class DeepTraining:
    """The same deep ReLU MLP (same seed, init and learning rate) trained on the digits without and
    with batch norm: the initial parameters, the trained networks and their histories."""

    depth: int
    width: int
    lr: float
    initial: dict        # norm name -> params at init
    trained: dict        # norm name -> trained nets.MLP
    history: dict        # norm name -> nets.TrainResult

    def network(self, norm: str, state: str) -> nets.MLP:
        """A copy of the ``"initial"`` or ``"trained"`` network of ``norm`` ("none"/"batchnorm")."""
        net = copy.deepcopy(self.trained[norm])
        if state == "initial":
            net.params = {k: v.copy() for k, v in self.initial[norm].items()}
            net.norm_params = [{"mode": "train"} for _ in net.norm_params]
        elif state != "trained":
            raise ValueError(f"state={state!r} is not known; expected 'initial' or 'trained'")
        return net


NORM_NAMES = {"none": None, "batchnorm": "batchnorm"}


def measure_deep_training(data: Splits, *, depth: int, width: int, epochs: int, lr: float,
                          batch_size: int = 64, rng) -> DeepTraining:
    """Train ``depth`` hidden ReLU layers of ``width`` units (He init) with SGD + momentum 0.9,
    once without and once with batch norm, from the same weights and with the same batch order."""
    rng = as_rng(rng)
    seed = int(rng.integers(2**31))
    X, y, Xv, yv = _float(data.X_train), data.y_train, _float(data.X_val), data.y_val
    initial, trained, history = {}, {}, {}
    with single_thread():
        for name, norm in NORM_NAMES.items():
            run_rng = np.random.default_rng(seed)
            net = nets.MLP([X.shape[1], *[width] * depth, data.n_classes], norm=norm, rng=run_rng)
            initial[name] = _hidden_params(net)
            history[name] = nets.train(net, X, y, optimizer=optim.SGD(lr=lr, momentum=0.9), epochs=epochs,
                                       batch_size=batch_size, rng=run_rng, X_val=Xv, y_val=yv)
            trained[name] = net
    return DeepTraining(depth, width, lr, initial, trained, history)


# --------------------------------------------------------------------------- unit Gaussian?
BINS = np.linspace(-4, 4, 41)


@dataclass(frozen=True)
class LayerStatistics:
    """Per hidden layer of one network on one batch: the histogram (fraction per bin of
    :data:`BINS`, the outer bins catching everything beyond) of the activation's input z, its mean
    and std over everything, and per feature: the largest |mean| and |std - 1| of the normalized
    affine output, and the share of features whose skewness is not Gaussian at 99 %."""

    hist: np.ndarray            # (layers, bins)
    mean: np.ndarray            # (layers,)
    std: np.ndarray             # (layers,)
    max_abs_mean: np.ndarray    # (layers,) of the per-feature means of xhat (batch norm) or of z
    max_std_error: np.ndarray   # (layers,) of |per-feature std - 1|
    non_gaussian_share: np.ndarray  # (layers,)


def layer_statistics(net: nets.MLP, X, y) -> LayerStatistics:
    """One train-mode pass of ``net`` over the batch ``X`` (running statistics left as they were)."""
    saved = copy.deepcopy(net.norm_params)
    _, _, trace = net.loss(X, y, trace=True)
    net.norm_params = saved
    hist, mean, std, max_mean, max_std, non_gauss = [], [], [], [], [], []
    n = len(X)
    band = GAUSSIAN_SKEW_Z * np.sqrt(6 / n)
    for pre, z in zip(trace.pre, trace.z, strict=True):
        counts, _ = np.histogram(np.clip(z, BINS[0], BINS[-1]), BINS)
        hist.append(counts / z.size)
        mean.append(z.mean())
        std.append(z.std())
        feature = z if net.norm is None else (pre - pre.mean(axis=0)) / np.sqrt(pre.var(axis=0) + 1e-5)
        max_mean.append(np.abs(feature.mean(axis=0)).max())
        max_std.append(np.abs(feature.std(axis=0) - 1).max())
        centred = (pre - pre.mean(axis=0)) / np.maximum(pre.std(axis=0), 1e-12)
        non_gauss.append(np.mean(np.abs((centred**3).mean(axis=0)) > band))
    return LayerStatistics(*(np.array(v) for v in (hist, mean, std, max_mean, max_std, non_gauss)))


@dataclass(frozen=True)
class UnitGaussianResult:
    """:class:`LayerStatistics` of the deep net without ("none") and with batch norm, at init and
    trained (keys ``(norm, state)`` flattened as ``"none/initial"`` ...), on one training batch."""

    stats: dict
    batch_size: int


def measure_unit_gaussian(training: DeepTraining, X, y, *, batch_size: int = 256, rng) -> UnitGaussianResult:
    rng = as_rng(rng)
    X = _float(X)
    idx = rng.choice(len(X), size=min(check_positive_int(batch_size, "batch_size"), len(X)), replace=False)
    with single_thread():
        stats = {f"{norm}/{state}": layer_statistics(training.network(norm, state), X[idx], y[idx])
                 for norm in NORM_NAMES for state in ("initial", "trained")}
    return UnitGaussianResult(stats, len(idx))


def standardized(stats: LayerStatistics, tol: float = STANDARDIZED_TOL) -> bool:
    """Every feature of every layer has batch mean 0 and std 1 (to ``tol``)."""
    return bool(np.all(stats.max_abs_mean < tol) and np.all(stats.max_std_error < tol))


def not_gaussian(stats: LayerStatistics, share: float = NON_GAUSSIAN_SHARE) -> bool:
    """In some layer more than ``share`` of the features are skewed beyond a Gaussian's 99 % band."""
    return bool(np.max(stats.non_gaussian_share) > share)


@dataclass(frozen=True)
class GammaBeta:
    """The learned gamma and beta of each hidden layer of the trained batch-norm net, and the values
    that would undo its normalization on one batch (each feature's batch std and mean)."""

    gamma: tuple    # one (width,) array per layer
    beta: tuple
    identity_gamma: tuple
    identity_beta: tuple

    @property
    def gamma_range(self) -> tuple:
        return float(min(g.min() for g in self.gamma)), float(max(g.max() for g in self.gamma))

    @property
    def beta_range(self) -> tuple:
        return float(min(b.min() for b in self.beta)), float(max(b.max() for b in self.beta))

    @property
    def identity_gamma_range(self) -> tuple:
        return float(min(g.min() for g in self.identity_gamma)), float(max(g.max() for g in self.identity_gamma))

    @property
    def share_toward_identity(self) -> float:
        """Median over the units of the share of the way from gamma's start (1) to the identity value
        that training covered (0: did not move toward it; 1: reached it; negative: moved away)."""
        start = np.concatenate([np.abs(1 - s) for s in self.identity_gamma])
        now = np.concatenate([np.abs(g - s) for g, s in zip(self.gamma, self.identity_gamma, strict=True)])
        return float(np.median(1 - now / np.maximum(start, 1e-12)))


def learned_gamma_beta(training: DeepTraining, X, *, batch_size: int = 256) -> GammaBeta:
    net = training.network("batchnorm", "trained")
    X = _float(X)[:check_positive_int(batch_size, "batch_size")]
    with single_thread():
        _, _, trace = net.loss(X, np.zeros(len(X), dtype=int), trace=True)
    n = training.depth
    return GammaBeta(tuple(net.params[f"gamma{i}"].copy() for i in range(1, n + 1)),
                     tuple(net.params[f"beta{i}"].copy() for i in range(1, n + 1)),
                     tuple(np.sqrt(p.var(axis=0) + layers.norm.DEFAULT_EPS) for p in trace.pre),
                     tuple(p.mean(axis=0) for p in trace.pre))


# --------------------------------------------------------------------------- conv: per channel
@dataclass(frozen=True)
class ConvStatistics:
    """A batch of real RGB patches (N, 3, H, W) before and after spatial batch norm, and after the
    notes' literal reading (one scalar mean and variance for the whole tensor)."""

    shape: tuple
    channel_mean_before: np.ndarray
    channel_std_before: np.ndarray
    channel_mean_after: np.ndarray
    channel_std_after: np.ndarray
    channel_mean_one_scalar: np.ndarray
    channel_std_one_scalar: np.ndarray
    position_mean_spread: float    # after: std over (H, W) positions of the per-position mean
    n_statistics: int              # means (= variances) per-channel BN keeps: C
    n_statistics_per_unit: int     # ... a fully connected BN on the flattened tensor would keep: C*H*W


def image_patches(n: int, size: int, rng) -> np.ndarray:
    """``n`` random ``size`` x ``size`` crops of scikit-learn's flower photograph, (n, 3, size, size)
    float64 in [0, 255]."""
    from sklearn.datasets import load_sample_image

    image = load_sample_image("flower.jpg").astype(np.float64)
    rng = as_rng(rng)
    rows = rng.integers(0, image.shape[0] - size, n)
    cols = rng.integers(0, image.shape[1] - size, n)
    return np.stack([image[r:r + size, c:c + size].transpose(2, 0, 1) for r, c in zip(rows, cols, strict=True)])


def measure_conv_statistics(*, n: int = 32, size: int = 16, rng) -> ConvStatistics:
    x = image_patches(check_positive_int(n, "n"), check_positive_int(size, "size"), rng)
    c = x.shape[1]
    out, _ = layers.spatial_batchnorm_forward(x, np.ones(c), np.zeros(c), {"mode": "train"})
    one_scalar = (x - x.mean()) / np.sqrt(x.var() + layers.norm.DEFAULT_EPS)
    axes = (0, 2, 3)
    return ConvStatistics(
        x.shape, x.mean(axis=axes), x.std(axis=axes), out.mean(axis=axes), out.std(axis=axes),
        one_scalar.mean(axis=axes), one_scalar.std(axis=axes), float(out.mean(axis=(0, 1)).std()),
        c, int(np.prod(x.shape[1:])))


def per_channel_standardized(result: ConvStatistics, tol: float = STANDARDIZED_TOL) -> bool:
    return bool(np.all(np.abs(result.channel_mean_after) < tol)
                and np.all(np.abs(result.channel_std_after - 1) < tol))


def one_scalar_standardizes(result: ConvStatistics, tol: float = STANDARDIZED_TOL) -> bool:
    """Would one mean and variance for the whole tensor also give every channel mean 0, std 1?"""
    return bool(np.all(np.abs(result.channel_mean_one_scalar) < tol)
                and np.all(np.abs(result.channel_std_one_scalar - 1) < tol))


def positions_differ(result: ConvStatistics, spread: float = POSITION_SPREAD) -> bool:
    """Positions are not normalized one by one: their means still differ after per-channel BN."""
    return result.position_mean_spread > spread


# --------------------------------------------------------------------------- gradient flow
@dataclass(frozen=True)
class GradientFlow:
    """Frobenius norm of dL/dW for each layer (input side first, output layer last), at init, on
    one batch, for each weight scale (a multiple of He's std) without and with batch norm."""

    scales: tuple
    depth: int
    norms: dict   # (norm name, scale) flattened as f"{norm}@{scale:g}" -> (depth + 1,) array

    def get(self, norm: str, scale: float) -> np.ndarray:
        return self.norms[f"{norm}@{scale:g}"]

    def ratio(self, norm: str, scale: float) -> float:
        """The first hidden layer's gradient norm over the last hidden layer's (the output layer,
        with its own shape, is left out)."""
        g = self.get(norm, scale)
        return float(g[0] / g[-2]) if g[-2] > 0 else float("nan")


def measure_gradient_flow(X, y, *, depth: int, width: int = 64, scales=(0.5, 1.0, 2.0),
                          batch_size: int = 256, rng) -> GradientFlow:
    rng = as_rng(rng)
    X = _float(X)
    depth = check_positive_int(depth, "depth")
    idx = rng.choice(len(X), size=min(batch_size, len(X)), replace=False)
    seed = int(rng.integers(2**31))
    norms = {}
    with np.errstate(over="ignore", invalid="ignore"), single_thread():
        for scale in scales:
            check_scalar(scale, "scale", min=0.0, min_inclusive=False)
            for name, norm in NORM_NAMES.items():
                net = nets.MLP([X.shape[1], *[width] * depth, int(y.max()) + 1], scale=scale, norm=norm,
                               rng=np.random.default_rng(seed))
                _, _, trace = net.loss(X[idx], y[idx], trace=True)
                norms[f"{name}@{scale:g}"] = np.array([np.linalg.norm(g) for g in trace.grad_W])
    return GradientFlow(tuple(scales), depth, norms)


def vanishes(grads: np.ndarray, reference: np.ndarray, factor: float = VANISH_FACTOR) -> bool:
    """Layer 1's gradient is below ``factor`` times the reference run's (He's scale)."""
    return bool(grads[0] < factor * reference[0])


def explodes(grads: np.ndarray, reference: np.ndarray, factor: float = EXPLODE_FACTOR) -> bool:
    """Layer 1's gradient is above ``factor`` times the reference run's (or not finite)."""
    return not grads[0] <= factor * reference[0]


def flat(ratio: float, band=FLAT_BAND) -> bool:
    return bool(band[0] < ratio < band[1])


def grows_toward_input(ratio: float, factor: float = GROWS_FACTOR) -> bool:
    return bool(ratio > factor)


def scale_free(a: np.ndarray, b: np.ndarray, band=SCALE_FREE_BAND) -> bool:
    """Two gradient profiles within ``band`` of each other at every layer."""
    r = np.asarray(a) / np.asarray(b)
    return bool(np.all((r > band[0]) & (r < band[1])))


# --------------------------------------------------------------------------- torch's conventions
@dataclass(frozen=True)
class TorchConventions:
    """``steps`` training calls of our gate (momentum 0.9) and of torch's ``F.batch_norm`` with
    momentum 0.1 and with 0.9 (the trap), on the same batches of size ``batch_size``, from the same
    zero running statistics: the largest differences of the running estimates, and torch's
    running variance over ours after one step (N / (N - 1) if torch stores the unbiased one); and
    whether torch refuses a training batch of one example (ours returns beta for it)."""

    steps: int
    batch_size: int
    mean_difference_momentum_01: float
    mean_difference_momentum_09: float
    var_ratio_one_step: float
    output_difference: float
    refuses_batch_of_one: bool


def measure_torch_conventions(*, steps: int = 20, batch_size: int = 8, features: int = 5, rng) -> TorchConventions:
    import torch
    import torch.nn.functional as F

    rng = as_rng(rng)
    batches = rng.normal(3.0, 2.0, (check_positive_int(steps, "steps"), batch_size, features))
    ours = {"mode": "train", "momentum": 0.9, "running_mean": np.zeros(features), "running_var": np.zeros(features)}
    runs = {m: (torch.zeros(features, dtype=torch.float64), torch.zeros(features, dtype=torch.float64))
            for m in (0.1, 0.9)}
    weight, bias = torch.ones(features, dtype=torch.float64), torch.zeros(features, dtype=torch.float64)
    ratio = out_diff = None
    for k, x in enumerate(batches):
        out, _ = layers.batchnorm_forward(x, np.ones(features), np.zeros(features), ours)
        for m, (rm, rv) in runs.items():
            t_out = F.batch_norm(torch.from_numpy(x), rm, rv, weight, bias, training=True, momentum=m, eps=1e-5)
            if m == 0.1 and k == 0:
                ratio = float((rv / torch.from_numpy(ours["running_var"])).mean())
                out_diff = float(np.abs(t_out.numpy() - out).max())
    diff = {m: float(np.abs(rm.numpy() - ours["running_mean"]).max()) for m, (rm, _) in runs.items()}
    try:
        F.batch_norm(torch.ones(1, features, dtype=torch.float64), None, None, training=True)
        refuses = False
    except ValueError:
        refuses = True
    return TorchConventions(steps, batch_size, diff[0.1], diff[0.9], ratio, out_diff, refuses)


# --------------------------------------------------------------------------- two backward passes
@dataclass(frozen=True)
class BackwardComparison:
    """The staged and the closed-form backward of batch norm on one (N, D) batch: the relative error
    between their dx, and the median time of each (seconds)."""

    shape: tuple
    rel_error: float
    staged_seconds: float
    closed_form_seconds: float

    @property
    def speedup(self) -> float:
        return self.staged_seconds / self.closed_form_seconds


def measure_backward_comparison(*, n: int = 256, d: int = 256, repeats: int = 50, rng) -> BackwardComparison:
    from ...gradcheck import rel_error
    from ...timing import best_seconds

    rng = as_rng(rng)
    x = rng.normal(1.0, 3.0, (check_positive_int(n, "n"), check_positive_int(d, "d")))
    gamma, beta, dout = rng.normal(1, 0.2, d), rng.normal(0, 0.2, d), rng.standard_normal((n, d))
    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    staged = layers.batchnorm_backward_staged(dout, cache)
    closed = layers.batchnorm_backward(dout, cache)
    err = max(rel_error(a, b) for a, b in zip(staged, closed, strict=True))
    t_staged = best_seconds(layers.batchnorm_backward_staged, dout, cache, repeats=repeats)
    t_closed = best_seconds(layers.batchnorm_backward, dout, cache, repeats=repeats)
    return BackwardComparison((n, d), err, t_staged, t_closed)
