"""Weight initialization, and the activation-statistics pass through a deep stack of layers (math
only: no plotting, no thresholds; the experiments of 02 live in :mod:`lecture_lib.experiments.initialization`).

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

:func:`activation_statistics` pushes a batch through a stack of fully connected layers (no
biases), records per-layer statistics of the activations on the way forward, then sends a random
upstream gradient back and records the size of the gradient at every layer.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import activations as A
from ._checks import (
    as_rng,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_positive_int,
    check_scalar,
    check_size,
)
from .config import single_thread

INITS = ("zeros", "small", "large", "lecun", "xavier", "he")
LABELS = {"zeros": "zeros", "small": "small", "large": "large", "lecun": "LeCun", "xavier": "Xavier",
          "he": "He"}  # the names to print
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")

# |tanh(z)| above this (or sigmoid below 1 - this / above this) counts as saturated: the local
# gradient 1 - tanh^2 is then below 0.02.
SATURATION_LEVEL = 0.99


def _float_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype={dtype!r} is not valid; expected a floating dtype such as np.float32") from None
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"dtype={dtype!r} is not valid; expected a floating dtype such as np.float32 "
                        "(integer weights would round every weight to 0)")
    return dt


# --------------------------------------------------------------------------- initializers
def init_std(init: str, fan_in: int, fan_out: int, scale: float = 1.0) -> float:
    """The standard deviation of the weights ``init`` draws for a (fan_in, fan_out) layer."""
    check_choice(init, "init", INITS)
    fan_in = check_positive_int(fan_in, "fan_in")
    fan_out = check_positive_int(fan_out, "fan_out")
    scale = check_scalar(scale, "scale", min=0.0)
    base = {
        "zeros": 0.0,
        "small": 0.01,
        "large": 1.0,
        "lecun": math.sqrt(1.0 / fan_in),
        "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
        "he": math.sqrt(2.0 / fan_in),
    }[init]
    return scale * base


def init_weights(init: str, fan_in: int, fan_out: int, rng, scale: float = 1.0,
                 dtype=np.float64) -> np.ndarray:
    """A weight matrix of shape ``(fan_in, fan_out)`` drawn by the scheme ``init`` from ``rng``."""
    std = init_std(init, fan_in, fan_out, scale)
    dtype = _float_dtype(dtype)
    check_size(fan_in * fan_out, "init_weights(fan_in, fan_out)")
    rng = as_rng(rng)
    if std == 0.0:
        return np.zeros((fan_in, fan_out), dtype=dtype)
    return (std * rng.standard_normal((fan_in, fan_out))).astype(dtype, copy=False)


def lecun(fan_in, fan_out, rng, scale=1.0):
    """LeCun normal: std sqrt(1/fan_in). The notes' "Xavier" code, randn(fan_in, fan_out)/sqrt(fan_in)."""
    return init_weights("lecun", fan_in, fan_out, rng, scale)


def xavier(fan_in, fan_out, rng, scale=1.0):
    """Glorot (Xavier) normal: std sqrt(2/(fan_in+fan_out)), as torch.nn.init.xavier_normal_."""
    return init_weights("xavier", fan_in, fan_out, rng, scale)


def he(fan_in, fan_out, rng, scale=1.0):
    """He (Kaiming) normal: std sqrt(2/fan_in), for ReLU layers."""
    return init_weights("he", fan_in, fan_out, rng, scale)


# --------------------------------------------------------------------------- per-layer measures
def saturated_fraction(h, activation: str, level: float = SATURATION_LEVEL) -> float:
    """Fraction of outputs in the flat part of the curve: |tanh| > level, or sigmoid below
    1 - level or above level. ReLU and linear do not saturate (0 returned)."""
    check_choice(activation, "activation", ACTIVATIONS)
    h = check_array(h, "h", kind="real")
    level = check_scalar(level, "level", min=0.5, max=1.0)
    if activation == "tanh":
        return float(np.mean(np.abs(h) > level))
    if activation == "sigmoid":
        return float(np.mean((h > level) | (h < 1.0 - level)))
    return 0.0


def dead_unit_fraction(h) -> float:
    """Fraction of units (columns) that output exactly zero on every example (rows): dead units."""
    h = check_array(h, "h", ndim=2, kind="real")
    return float(np.mean(np.all(h == 0, axis=0)))


def relu_second_moment_ratio(z) -> float:
    """E[relu(z)^2] / Var(z). For z symmetric about zero it is exactly 1/2: the reason for He's 2."""
    z = check_array(z, "z", kind="real", nonempty=True).astype(np.float64, copy=False)
    return float(np.mean(np.maximum(z, 0) ** 2) / np.var(z))


def per_layer_factor(values, first: int = 0) -> float:
    """The factor by which a positive per-layer quantity changes from one layer to the next, on
    average (geometric mean of values[l+1] / values[l]) from index ``first`` to the end: 0.5 means
    it halves at every layer. 0 when the quantity reached exactly 0 (it vanished entirely). Pass
    the values reversed for a quantity that flows backwards (a gradient)."""
    v = check_array(values, "values", ndim=1, kind="real").astype(np.float64)
    first = check_int(first, "first", min=0)
    v = v[first:]
    if len(v) < 2:
        raise ValueError(f"values has {len(v) + first} entries (from first={first}); expected at least "
                         f"{first + 2} for a factor between layers")
    if np.any(v < 0) or not np.all(np.isfinite(v)):
        raise ValueError("values holds negative or non-finite entries; expected sizes (>= 0)")
    if np.any(v == 0):
        return 0.0
    return float(np.exp(np.mean(np.diff(np.log(v)))))


def depth_ratio(values) -> float:
    """values[last] / values[0]: how much a statistic changed from layer 1 to the last layer
    (NaN when the first value is 0)."""
    v = check_array(values, "values", ndim=1, kind="real", nonempty=True).astype(np.float64)
    return float(v[-1] / v[0]) if v[0] != 0 else float("nan")


# --------------------------------------------------------------------------- the statistics pass
@dataclass(frozen=True)
class ActivationStats:
    """Per-layer statistics of one forward/backward pass (index 0 is hidden layer 1).

    - ``means``, ``stds``: of the activations h_l over all examples and units;
    - ``saturated``: fraction of saturated outputs;
    - ``dead_units``: fraction of units that output zero on every example;
    - ``unit_zero_share``: (depth, width) share of the examples on which each unit outputs zero;
    - ``pre_second_moment``: E[z^2] of the pre-activations z_l = h_(l-1) @ W_l;
    - ``hist``: (depth, bins) fraction of the activations in each bin of ``bin_edges``
      (values outside the edges are counted in the first or last bin);
    - ``grad_rms``: root-mean-square of dL/dh_l for a unit-variance random upstream gradient
      at the last layer (so ``grad_rms[-1]`` is about 1); empty without a backward pass;
    - ``weight_grad_rms``: root-mean-square of dL/dW_l (only when asked for; else empty).
    """

    init: str
    activation: str
    scale: float
    means: np.ndarray
    stds: np.ndarray
    saturated: np.ndarray
    dead_units: np.ndarray
    unit_zero_share: np.ndarray
    pre_second_moment: np.ndarray
    hist: np.ndarray
    bin_edges: np.ndarray
    grad_rms: np.ndarray
    weight_grad_rms: np.ndarray

    @property
    def depth(self) -> int:
        return len(self.stds)

    @property
    def second_moment_ratio(self) -> np.ndarray:
        """E[h^2] / E[z^2] per layer: what the activation keeps of its input's second moment."""
        return (self.stds ** 2 + self.means ** 2) / self.pre_second_moment

    def relabel(self, init: str) -> ActivationStats:
        """The same statistics under another init's name (two schemes that draw identical weights)."""
        return dataclasses.replace(self, init=check_choice(init, "init", INITS))


def default_bins(activation: str, bins: int = 40) -> np.ndarray:
    """Histogram edges that cover each activation's range of outputs."""
    check_choice(activation, "activation", ACTIVATIONS)
    lo, hi = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, 3.0),
              "linear": (-3.0, 3.0)}[activation]
    return np.linspace(lo, hi, check_positive_int(bins, "bins") + 1)


def _histogram(h: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Fraction of ``h`` in each bin of the uniform ``edges``; outliers go to the end bins."""
    bins = len(edges) - 1
    idx = ((h.ravel() - edges[0]) * (bins / (edges[-1] - edges[0]))).astype(np.int64)
    np.clip(idx, 0, bins - 1, out=idx)
    return np.bincount(idx, minlength=bins) / h.size


def standard_weights(depth: int, width: int, n_features: int, rng, dtype=np.float32) -> list[np.ndarray]:
    """Unit-variance Gaussian matrices for ``depth`` layers (the first ``(n_features, width)``, the
    others ``(width, width)``); every scheme is one of these times its std, so that experiments with
    different inits share the same random draws."""
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    n_features = check_positive_int(n_features, "n_features")
    check_size(n_features * width + (depth - 1) * width * width, "standard_weights(depth, width, n_features)")
    dtype, rng = _float_dtype(dtype), as_rng(rng)
    fans = [n_features] + [width] * depth
    return [rng.standard_normal((fans[i], fans[i + 1]), dtype=dtype) for i in range(depth)]


def activation_statistics(init: str, activation: str, X, weights: Sequence, *, rng, scale: float = 1.0,
                          backward: bool = True, weight_grads: bool = False, bin_edges=None,
                          hist_rows: int = 250, grad_rows: int = 250) -> ActivationStats:
    """Forward ``X`` (N, D) through the layers ``weights`` (unit-variance matrices, see
    :func:`standard_weights`, each scaled here by the std that ``init`` gives its shape, times
    ``scale``; no biases), then backward a unit-Gaussian upstream gradient drawn from ``rng``.

    Histograms use the first ``hist_rows`` examples (enough for a picture, and 4x cheaper than all
    1000); the backward pass, likewise, sends gradients back through the first ``grad_rows``."""
    check_choice(init, "init", INITS)
    check_choice(activation, "activation", ACTIVATIONS)
    X = check_array(X, "X", ndim=2, nonempty=True)
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or not weights:
        raise TypeError(f"weights of type {type(weights).__name__} is not valid; expected a non-empty "
                        "list of (fan_in, fan_out) matrices")
    fan_in = X.shape[1]
    for i, W in enumerate(weights):
        check_array(W, f"weights[{i}]", ndim=2)
        if W.shape[0] != fan_in:
            raise ValueError(f"weights[{i}] has shape {W.shape}; expected ({fan_in}, ?) to follow "
                             f"{'X' if i == 0 else f'weights[{i - 1}]'}")
        fan_in = W.shape[1]
    scale = check_scalar(scale, "scale", min=0.0)
    backward, weight_grads = check_bool(backward, "backward"), check_bool(weight_grads, "weight_grads")
    hist_rows = check_positive_int(hist_rows, "hist_rows")
    grad_rows = check_positive_int(grad_rows, "grad_rows")
    rng = as_rng(rng)
    edges = default_bins(activation) if bin_edges is None else \
        check_array(bin_edges, "bin_edges", ndim=1, kind="real").astype(np.float64)
    if len(edges) < 2 or edges[1] <= edges[0] or not np.allclose(np.diff(edges), edges[1] - edges[0]):
        raise ValueError(f"bin_edges={edges!r} is not valid; expected increasing, evenly spaced edges")
    # One BLAS thread: on a shared 2-core machine, threads waiting for each other cost more
    # than they save (measured: 2-3x slower under load).
    with single_thread(), np.errstate(over="ignore", invalid="ignore"):
        return _forward_backward(init, activation, X, list(weights), scale, rng, edges, hist_rows,
                                 grad_rows, backward, weight_grads)


def _forward_backward(init, activation, X, weights, scale, rng, edges, hist_rows, grad_rows, backward,
                      weight_grads) -> ActivationStats:
    """The notes' experiment, layer by layer: h = f(h @ W) with no bias (so that the statistics are
    the init's alone), the statistics of every layer collected on the way; then a random upstream
    gradient sent back (dz = dh * f'(z), dh = dz @ W.T). Not the gates of ``layers``: those keep
    a cache per layer and add a bias, and this pass runs on grids of inits and activations with
    thousands of rows, where it keeps only what the statistics need. 02 shows this loop and checks
    its own copy equal to it."""
    f, f_grad = A.get(activation)
    h, layers_seen = X, []
    stats = {k: [] for k in ("means", "stds", "saturated", "dead_units", "unit_zero_share",
                             "pre_second_moment", "hist")}
    for W0 in weights:
        W = W0 * W0.dtype.type(init_std(init, W0.shape[0], W0.shape[1], scale))
        z = h @ W
        h_prev, h = h, f(z)
        layers_seen.append((h_prev[:grad_rows], z[:grad_rows], W))
        unit_zero = np.mean(h == 0, axis=0)
        stats["means"].append(float(np.mean(h)))
        stats["stds"].append(float(np.std(h)))
        stats["saturated"].append(saturated_fraction(h, activation))
        stats["unit_zero_share"].append(unit_zero)
        stats["dead_units"].append(float(np.mean(unit_zero == 1.0)))
        stats["pre_second_moment"].append(float(np.mean(np.square(z))))
        stats["hist"].append(_histogram(h[:hist_rows], edges))
    grad_rms, weight_grad_rms = np.zeros(0), np.zeros(0)
    if backward:
        depth = len(weights)
        dh = rng.standard_normal(layers_seen[-1][1].shape, dtype=X.dtype)
        grad_rms = np.zeros(depth)
        weight_grad_rms = np.zeros(depth) if weight_grads else np.zeros(0)
        for layer in reversed(range(depth)):
            h_prev, z, W = layers_seen[layer]
            grad_rms[layer] = math.sqrt(float(np.mean(np.square(dh))))
            dz = dh * f_grad(z)
            if weight_grads:
                weight_grad_rms[layer] = math.sqrt(float(np.mean(np.square(h_prev.T @ dz))))
            if layer > 0:
                dh = dz @ W.T
    return ActivationStats(init, activation, scale, **{k: np.array(v) for k, v in stats.items()},
                           bin_edges=edges, grad_rms=grad_rms, weight_grad_rms=weight_grad_rms)
