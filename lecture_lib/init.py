"""Weight initialization and the activation-statistics experiment (math only: no plotting).

Initializers draw ``W`` of shape ``(fan_in, fan_out)`` (so that ``out = X @ W + b``) from a
zero-mean normal distribution whose standard deviation each scheme sets:

============  ===============================  ==========================================
name          std of W                         origin
============  ===============================  ==========================================
``zeros``     0                                (the symmetry trap)
``small``     0.01                             ``0.01 * randn``
``large``     1                                ``randn``
``lecun``     sqrt(1 / fan_in)                 LeCun et al., "Efficient BackProp" (1998);
                                               the code the notes call "Xavier"
``xavier``    sqrt(2 / (fan_in + fan_out))     Glorot & Bengio (2010), as
                                               ``torch.nn.init.xavier_normal_``
``he``        sqrt(2 / fan_in)                 He et al. (2015), ``kaiming_normal_``
============  ===============================  ==========================================

Every scheme takes a free ``scale`` (a gain) that multiplies its std.

The experiment (:func:`activation_statistics`) pushes a batch through ``depth`` fully connected
layers of ``width`` units, records per-layer statistics of the activations on the way forward,
then sends a random upstream gradient back and records the size of the gradient at every layer.
:func:`train_mlp` trains a small fully connected net in NumPy from any initializer, so that the
consequences of a bad init can be seen on a loss curve.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import layers
from .config import single_thread

INITS = ("zeros", "small", "large", "lecun", "xavier", "he")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")

# |tanh(z)| above this (or sigmoid below 1 - this / above this) counts as saturated: the local
# gradient 1 - tanh^2 is then below 0.02.
SATURATION_LEVEL = 0.99


# --------------------------------------------------------------------------- argument checks
def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name}={value!r} is not valid; expected a positive integer")
    return int(value)


def _scale(value, name: str = "scale") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{name}={value!r} is not valid; expected a non-negative finite number")
    return float(value)


def _check_name(value, options, name: str) -> str:
    if value not in options:
        raise ValueError(f"{name}={value!r} is not known; expected one of {list(options)}")
    return value


# --------------------------------------------------------------------------- initializers
def init_std(init: str, fan_in: int, fan_out: int, scale: float = 1.0) -> float:
    """The standard deviation of the weights ``init`` draws for a (fan_in, fan_out) layer."""
    _check_name(init, INITS, "init")
    fan_in = _positive_int(fan_in, "fan_in")
    fan_out = _positive_int(fan_out, "fan_out")
    scale = _scale(scale)
    base = {
        "zeros": 0.0,
        "small": 0.01,
        "large": 1.0,
        "lecun": math.sqrt(1.0 / fan_in),
        "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
        "he": math.sqrt(2.0 / fan_in),
    }[init]
    return scale * base


def init_weights(init: str, fan_in: int, fan_out: int, rng: np.random.Generator | None = None,
                 scale: float = 1.0, dtype=np.float64) -> np.ndarray:
    """A weight matrix of shape ``(fan_in, fan_out)`` drawn by the scheme ``init``."""
    std = init_std(init, fan_in, fan_out, scale)
    if std == 0.0:
        return np.zeros((fan_in, fan_out), dtype=dtype)
    rng = rng if rng is not None else np.random.default_rng()
    return (std * rng.standard_normal((fan_in, fan_out))).astype(dtype, copy=False)


def lecun(fan_in, fan_out, rng=None, scale=1.0):
    """LeCun normal: std sqrt(1/fan_in). The notes' "Xavier" code, randn(fan_in, fan_out)/sqrt(fan_in)."""
    return init_weights("lecun", fan_in, fan_out, rng, scale)


def xavier(fan_in, fan_out, rng=None, scale=1.0):
    """Glorot (Xavier) normal: std sqrt(2/(fan_in+fan_out)), as torch.nn.init.xavier_normal_."""
    return init_weights("xavier", fan_in, fan_out, rng, scale)


def he(fan_in, fan_out, rng=None, scale=1.0):
    """He (Kaiming) normal: std sqrt(2/fan_in), for ReLU layers."""
    return init_weights("he", fan_in, fan_out, rng, scale)


# --------------------------------------------------------------------------- activations
def activate(z: np.ndarray, activation: str) -> np.ndarray:
    """``activation`` applied elementwise (tanh, relu, sigmoid or linear)."""
    _check_name(activation, ACTIVATIONS, "activation")
    if activation == "tanh":
        return np.tanh(z)
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1/(1+exp(-z)), without overflow
    return z


def local_gradient(z: np.ndarray, h: np.ndarray, activation: str) -> np.ndarray:
    """d activation / dz at the pre-activation ``z`` whose output is ``h``."""
    _check_name(activation, ACTIVATIONS, "activation")
    if activation == "tanh":
        return 1.0 - h * h
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "sigmoid":
        return h * (1.0 - h)
    return np.ones_like(z)


def saturated_fraction(h: np.ndarray, activation: str, level: float = SATURATION_LEVEL) -> float:
    """Fraction of outputs in the flat part of the curve: |tanh| > level, or sigmoid below
    1 - level or above level. ReLU and linear do not saturate (0 returned)."""
    _check_name(activation, ACTIVATIONS, "activation")
    if activation == "tanh":
        return float(np.mean(np.abs(h) > level))
    if activation == "sigmoid":
        return float(np.mean((h > level) | (h < 1.0 - level)))
    return 0.0


def dead_unit_fraction(h: np.ndarray) -> float:
    """Fraction of units (columns) that output exactly zero on every example (rows): dead units."""
    h = np.asarray(h)
    if h.ndim != 2:
        raise ValueError(f"h has shape {h.shape}; expected (examples, units)")
    return float(np.mean(np.all(h == 0, axis=0)))


def relu_second_moment_ratio(z: np.ndarray) -> float:
    """E[relu(z)^2] / Var(z). For z symmetric about zero it is exactly 1/2: the reason for He's 2."""
    z = np.asarray(z, dtype=np.float64)
    return float(np.mean(np.maximum(z, 0) ** 2) / np.var(z))


# --------------------------------------------------------------------------- the experiment
@dataclass
class ActivationStats:
    """Per-layer statistics of one forward/backward pass (index 0 is hidden layer 1).

    - ``means``, ``stds``: of the activations h_l over all examples and units;
    - ``saturated``: fraction of saturated outputs; ``zero_fraction``: fraction exactly zero;
    - ``dead_units``: fraction of units that output zero on every example;
    - ``unit_zero_share``: (depth, width) share of the examples on which each unit outputs zero;
    - ``pre_second_moment``: E[z^2] of the pre-activations z_l = h_(l-1) @ W_l;
    - ``hist``: (depth, bins) fraction of the activations in each bin of ``bin_edges``
      (values outside the edges are counted in the first or last bin);
    - ``grad_rms``: root-mean-square of dL/dh_l for a unit-variance random upstream gradient
      at the last layer (so ``grad_rms[-1]`` is about 1);
    - ``weight_grad_rms``: root-mean-square of dL/dW_l (only when asked for; else empty).
    """

    init: str
    activation: str
    scale: float
    means: np.ndarray
    stds: np.ndarray
    saturated: np.ndarray
    zero_fraction: np.ndarray
    hist: np.ndarray
    bin_edges: np.ndarray
    dead_units: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unit_zero_share: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    pre_second_moment: np.ndarray = field(default_factory=lambda: np.zeros(0))
    grad_rms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weight_grad_rms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last: np.ndarray | None = None  # the last layer's activations, when kept

    @property
    def depth(self) -> int:
        return len(self.stds)

    @property
    def second_moment_ratio(self) -> np.ndarray:
        """E[h^2] / E[z^2] per layer: what the activation keeps of its input's second moment."""
        return (self.stds ** 2 + self.means ** 2) / self.pre_second_moment


def default_bins(activation: str, bins: int = 40) -> np.ndarray:
    """Histogram edges that cover each activation's range of outputs."""
    _check_name(activation, ACTIVATIONS, "activation")
    lo, hi = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, 3.0),
              "linear": (-3.0, 3.0)}[activation]
    return np.linspace(lo, hi, _positive_int(bins, "bins") + 1)


def _histogram(h: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Fraction of ``h`` in each bin of the uniform ``edges``; outliers go to the end bins."""
    bins = len(edges) - 1
    idx = ((h.ravel() - edges[0]) * (bins / (edges[-1] - edges[0]))).astype(np.int64)
    np.clip(idx, 0, bins - 1, out=idx)
    return np.bincount(idx, minlength=bins) / h.size


def standard_weights(depth: int, width: int, n_features: int, seed: int = 0,
                     dtype=np.float32) -> list[np.ndarray]:
    """Unit-variance Gaussian matrices for ``depth`` layers; every scheme is one of these times
    its std, so that experiments with different inits share the same random draws."""
    depth = _positive_int(depth, "depth")
    width = _positive_int(width, "width")
    n_features = _positive_int(n_features, "n_features")
    rng = np.random.default_rng(seed)
    fans = [n_features] + [width] * depth
    return [rng.standard_normal((fans[i], fans[i + 1]), dtype=dtype) for i in range(depth)]


def activation_statistics(init: str = "he", activation: str = "relu", *, depth: int = 10,
                          width: int = 500, n_samples: int = 1000, n_features: int = 500,
                          scale: float = 1.0, seed: int = 0, backward: bool = True,
                          weight_grads: bool = False, bin_edges: np.ndarray | None = None,
                          X: np.ndarray | None = None, weights: Sequence[np.ndarray] | None = None,
                          dtype=np.float32, keep_last: bool = False,
                          hist_rows: int = 250, grad_rows: int = 250) -> ActivationStats:
    """Forward ``n_samples`` unit-Gaussian inputs of ``n_features`` through ``depth`` layers of
    ``width`` units (no biases) initialized by ``init`` (times ``scale``), then backward a
    unit-Gaussian upstream gradient. ``X`` and ``weights`` (unit-variance matrices, see
    :func:`standard_weights`) may be passed in to share random draws between runs. Histograms
    use the first ``hist_rows`` examples (enough for a picture, and 4x cheaper than all 1000);
    the backward pass, likewise, sends gradients back through the first ``grad_rows`` examples.

    The lecture's experiment is the default: 10 layers of 500 units, 1000 inputs of 500 features."""
    _check_name(init, INITS, "init")
    _check_name(activation, ACTIVATIONS, "activation")
    depth = _positive_int(depth, "depth")
    width = _positive_int(width, "width")
    n_samples = _positive_int(n_samples, "n_samples")
    n_features = _positive_int(n_features, "n_features")
    hist_rows = _positive_int(hist_rows, "hist_rows")
    grad_rows = _positive_int(grad_rows, "grad_rows")
    scale = _scale(scale)
    rng = np.random.default_rng(seed)
    if X is None:
        X = rng.standard_normal((n_samples, n_features), dtype=dtype)
    elif X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features; expected n_features={n_features}")
    if weights is None:
        weights = standard_weights(depth, width, n_features, seed + 1, dtype)
    if len(weights) != depth:
        raise ValueError(f"weights has {len(weights)} matrices; expected depth={depth}")
    edges = default_bins(activation) if bin_edges is None else np.asarray(bin_edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or not np.allclose(np.diff(edges), edges[1] - edges[0]) \
            or edges[1] <= edges[0]:
        raise ValueError(f"bin_edges={edges!r} is not valid; expected increasing, evenly spaced edges")

    # One BLAS thread: on a shared 2-core machine, threads waiting for each other cost more
    # than they save (measured: 2-3x slower under load).
    with single_thread(), np.errstate(over="ignore", invalid="ignore"):
        return _forward_backward(init, activation, depth, width, n_features, scale, rng, X,
                                 weights, edges, dtype, keep_last, hist_rows, grad_rows, backward,
                                 weight_grads)


def _forward_backward(init, activation, depth, width, n_features, scale, rng, X, weights, edges,
                      dtype, keep_last, hist_rows, grad_rows, backward, weight_grads):
    h = X
    cache = []
    means, stds, sat, zeros, hist, ws, dead, pre, share = [], [], [], [], [], [], [], [], []
    fans = [n_features] + [width] * depth
    for layer in range(depth):
        expected = (fans[layer], fans[layer + 1])
        if weights[layer].shape != expected:
            raise ValueError(f"weights[{layer}] has shape {weights[layer].shape}; expected {expected}")
        W = weights[layer] * dtype(init_std(init, fans[layer], fans[layer + 1], scale))
        z = h @ W
        h_prev, h = h, activate(z, activation)
        cache.append((h_prev[:grad_rows], z[:grad_rows], h[:grad_rows]))
        ws.append(W)
        means.append(float(np.mean(h)))
        stds.append(float(np.std(h)))
        sat.append(saturated_fraction(h, activation))
        zeros.append(float(np.count_nonzero(h == 0)) / h.size)
        unit_zero = np.mean(h == 0, axis=0)
        share.append(unit_zero)
        dead.append(float(np.mean(unit_zero == 1.0)))
        pre.append(float(np.mean(np.square(z))))
        hist.append(_histogram(h[:hist_rows], edges))
    stats = ActivationStats(init, activation, scale, np.array(means), np.array(stds),
                            np.array(sat), np.array(zeros), np.array(hist), edges,
                            dead_units=np.array(dead), unit_zero_share=np.array(share),
                            pre_second_moment=np.array(pre),
                            last=h if keep_last else None)
    if backward:
        dh = rng.standard_normal(cache[-1][2].shape, dtype=dtype)
        grad_rms = np.zeros(depth)
        wgrad = np.zeros(depth) if weight_grads else np.zeros(0)
        for layer in reversed(range(depth)):
            h_prev, z, out = cache[layer]
            grad_rms[layer] = math.sqrt(float(np.mean(np.square(dh))))
            dz = dh * local_gradient(z, out, activation)
            if weight_grads:
                dW = h_prev.T @ dz
                wgrad[layer] = math.sqrt(float(np.mean(np.square(dW))))
            if layer > 0:
                dh = dz @ ws[layer].T
        stats.grad_rms, stats.weight_grad_rms = grad_rms, wgrad
    return stats


def statistics_grid(inits: Sequence[str] = ("small", "large", "lecun", "xavier", "he"),
                    activations: Sequence[str] = ("tanh", "relu", "sigmoid"), *, depth: int = 10,
                    width: int = 500, n_samples: int = 1000, n_features: int = 500,
                    seed: int = 0, weight_grads: Sequence[tuple[str, str]] = (),
                    dtype=np.float32) -> dict[tuple[str, str], ActivationStats]:
    """:func:`activation_statistics` for every (init, activation) pair, on the same inputs and
    the same unit-variance random matrices. ``weight_grads`` lists the pairs whose weight
    gradients are measured too (they cost one more matrix product per layer)."""
    for init in inits:
        _check_name(init, INITS, "init")
    for activation in activations:
        _check_name(activation, ACTIVATIONS, "activation")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((_positive_int(n_samples, "n_samples"),
                             _positive_int(n_features, "n_features")), dtype=dtype)
    weights = standard_weights(depth, width, n_features, seed + 1, dtype)
    wanted = set(map(tuple, weight_grads))
    fans = [n_features] + [width] * depth
    results: dict[tuple[str, str], ActivationStats] = {}
    done: dict[tuple, ActivationStats] = {}
    for a in activations:
        for i in inits:
            # Schemes that give every layer the same std (lecun and xavier do when all layers
            # are square) give bit-identical runs: compute once, relabel the copy.
            key = (a, (i, a) in wanted, tuple(init_std(i, fans[k], fans[k + 1]) for k in range(depth)))
            if key in done:
                results[(i, a)] = dataclasses.replace(done[key], init=i)
                continue
            results[(i, a)] = done[key] = activation_statistics(
                i, a, depth=depth, width=width, n_samples=n_samples, n_features=n_features,
                seed=seed, X=X, weights=weights, weight_grads=(i, a) in wanted, dtype=dtype)
    return results


# --------------------------------------------------------------------------- verdict predicates
# Each claim of the notebook asserts one of these; tests run each on the opposite experiment.
SHRINK_TOLERANCE = 0.1      # a measured per-layer factor within 10% of the predicted one
DECAY_RATIO = 0.1           # layer-last std below 10% of layer-1 std: "decays"
CONSTANT_BAND = (0.5, 2.0)  # layer-last std within 2x of layer-1 std: "stays near constant"
SATURATED_MAJORITY = 0.8    # more than 80% of the last layer's outputs saturated: "almost all"


HALF_TOLERANCE = 0.15       # E[h^2]/E[z^2] within 0.5 +- 0.15: "keeps half the second moment"


def halves_second_moment(ratios, tolerance: float = HALF_TOLERANCE) -> bool:
    """Every layer keeps about half of its pre-activations' second moment (He's factor 1/2)."""
    return bool(np.all(np.abs(np.asarray(ratios, dtype=np.float64) - 0.5) < tolerance))


def per_layer_factor(values: np.ndarray, first: int = 1) -> float:
    """Geometric mean of values[l+1] / values[l] from layer index ``first`` on (the first layer
    is skipped by default: it sees the raw inputs, not a previous layer's outputs)."""
    v = np.asarray(values, dtype=np.float64)[first:]
    if len(v) < 2 or np.any(v <= 0):
        return float("nan") if np.any(v < 0) or len(v) < 2 else 0.0
    return float(np.exp(np.mean(np.diff(np.log(v)))))


def depth_ratio(values: np.ndarray) -> float:
    """values[last] / values[0]: how much a statistic changed from layer 1 to the last layer."""
    v = np.asarray(values, dtype=np.float64)
    return float(v[-1] / v[0]) if v[0] != 0 else float("nan")


def shrinks_by(stds: np.ndarray, factor: float, tolerance: float = SHRINK_TOLERANCE) -> bool:
    """The std is multiplied by about ``factor`` (< 1) at every layer."""
    measured = per_layer_factor(stds)
    return bool(factor < 1 and abs(measured - factor) <= tolerance * factor)


def decays(stds: np.ndarray, ratio: float = DECAY_RATIO) -> bool:
    """The last layer's std is below ``ratio`` times the first layer's."""
    return bool(depth_ratio(stds) < ratio)


def stays_constant(stds: np.ndarray, band: tuple[float, float] = CONSTANT_BAND) -> bool:
    """The last layer's std is within ``band`` of the first layer's."""
    r = depth_ratio(stds)
    return bool(band[0] < r < band[1])


def mostly_saturated(stats: ActivationStats, level: float = SATURATED_MAJORITY) -> bool:
    """More than ``level`` of the last layer's outputs sit on the flat part of the curve."""
    return bool(stats.saturated[-1] > level)


# --------------------------------------------------------------------------- a small trainable net
def mlp_init(sizes: Sequence[int], init: str | Callable = "he", rng: np.random.Generator | None = None,
             scale: float = 1.0, output_init: str | None = None) -> list[np.ndarray]:
    """Parameters ``[W1, b1, W2, b2, ...]`` of a fully connected net with layer ``sizes``
    (input first, classes last); biases start at zero. ``init`` is a scheme name or a function
    ``(fan_in, fan_out, rng) -> W``; ``output_init`` (default: the same) inits the last layer."""
    if len(sizes) < 2:
        raise ValueError(f"sizes={list(sizes)!r} is not valid; expected at least input and output sizes")
    sizes = [_positive_int(s, "sizes[i]") for s in sizes]
    rng = rng if rng is not None else np.random.default_rng(0)
    params = []
    for i in range(len(sizes) - 1):
        scheme = output_init if (output_init is not None and i == len(sizes) - 2) else init
        if callable(scheme):
            W = np.asarray(scheme(sizes[i], sizes[i + 1], rng), dtype=np.float64)
            if W.shape != (sizes[i], sizes[i + 1]):
                raise ValueError(f"init returned shape {W.shape}; expected {(sizes[i], sizes[i + 1])}")
        else:
            W = init_weights(scheme, sizes[i], sizes[i + 1], rng, scale)
        params += [W, np.zeros(sizes[i + 1])]
    return params


def mlp_loss(params: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray, activation: str = "relu",
             hidden: bool = False):
    """Softmax loss of the net and the gradients of every parameter: ``(loss, grads)``; with
    ``hidden=True`` also the list of hidden activations."""
    _check_name(activation, ACTIVATIONS, "activation")
    h, cache, hs = X, [], []
    n_layers = len(params) // 2
    for i in range(n_layers):
        W, b = params[2 * i], params[2 * i + 1]
        z = h @ W + b
        if i < n_layers - 1:
            out = activate(z, activation)
            cache.append((h, z, out))
            hs.append(out)
            h = out
        else:
            cache.append((h, z, None))
            scores = z
    loss, dout = layers.softmax_loss(scores, y)
    grads = [None] * len(params)
    for i in reversed(range(n_layers)):
        h_prev, z, out = cache[i]
        if i < n_layers - 1:
            dout = dout * local_gradient(z, out, activation)
        grads[2 * i] = h_prev.T @ dout
        grads[2 * i + 1] = dout.sum(axis=0)
        if i > 0:
            dout = dout @ params[2 * i].T
    return (loss, grads, hs) if hidden else (loss, grads)


def mlp_predict(params: Sequence[np.ndarray], X: np.ndarray, activation: str = "relu") -> np.ndarray:
    h = X
    n_layers = len(params) // 2
    for i in range(n_layers):
        z = h @ params[2 * i] + params[2 * i + 1]
        h = activate(z, activation) if i < n_layers - 1 else z
    return h.argmax(axis=1)


@dataclass
class TrainResult:
    train_loss: list   # mean loss over each epoch's mini-batches
    val_acc: list      # after each epoch
    params: list       # the trained parameters
    initial: list      # a copy of the initial parameters
    diverged_at: int | None = None  # the epoch (1-based) whose loss became NaN or infinite


def train_mlp(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, *,
              hidden: Sequence[int] = (64,), init: str | Callable = "he", activation: str = "relu",
              scale: float = 1.0, lr: float = 0.1, epochs: int = 20, batch_size: int = 64,
              seed: int = 0, n_classes: int | None = None, output_init: str | None = None
              ) -> TrainResult:
    """Mini-batch SGD on a fully connected net in float64 NumPy (no momentum, no tricks), so that
    only the initialization differs between runs with the same seed. A run whose loss becomes
    NaN or infinite stops there and records the epoch in ``diverged_at``."""
    epochs = _positive_int(epochs, "epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    if not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} is not valid; expected a positive number")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; expected equal lengths")
    X = np.asarray(X, dtype=np.float64)
    X_val = np.asarray(X_val, dtype=np.float64)
    y = np.asarray(y)
    k = int(n_classes) if n_classes is not None else int(max(y.max(), np.max(y_val))) + 1
    rng = np.random.default_rng(seed)
    params = mlp_init([X.shape[1], *hidden, k], init, rng, scale, output_init)
    initial = [p.copy() for p in params]
    result = TrainResult([], [], params, initial)
    with single_thread(), np.errstate(over="ignore", invalid="ignore"):
        _sgd_epochs(result, X, y, X_val, y_val, activation, lr, epochs, batch_size, rng)
    return result


def _sgd_epochs(result, X, y, X_val, y_val, activation, lr, epochs, batch_size, rng):
    params = result.params
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            loss, grads = mlp_loss(params, X[idx], y[idx], activation)
            if not math.isfinite(loss):
                result.diverged_at = epoch
                return
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
            total += loss * len(idx)
        result.train_loss.append(total / len(X))
        result.val_acc.append(float(np.mean(mlp_predict(params, X_val, activation) == y_val)))


LEARNS_ACCURACY = 0.85     # "works": at least 85% validation accuracy on the digits
CHANCE_MARGIN = 0.99       # "does not learn": final loss above 99% of the chance loss ln(C)


def learns(result: TrainResult, min_accuracy: float = LEARNS_ACCURACY) -> bool:
    """The run ended with at least ``min_accuracy`` validation accuracy."""
    return bool(result.diverged_at is None and result.val_acc and result.val_acc[-1] >= min_accuracy)


def stuck_at_chance(result: TrainResult, n_classes: int = 10, margin: float = CHANCE_MARGIN) -> bool:
    """The run's last training loss is still at the loss of a uniform guess, ln(n_classes)."""
    return bool(result.train_loss and result.train_loss[-1] > margin * math.log(n_classes))


def unit_spread(W: np.ndarray) -> float:
    """Largest difference between any hidden unit's incoming weights (columns) and unit 0's,
    relative to the weights' size: 0 means every unit is a copy of the first."""
    W = np.asarray(W, dtype=np.float64)
    return float(np.max(np.abs(W - W[:, :1])) / max(np.max(np.abs(W)), 1e-300))
