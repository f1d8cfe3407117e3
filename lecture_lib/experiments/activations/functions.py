"""The measurements of 01_activations on the functions themselves, in NumPy: vanishing gradients,
zero-centring, saturation, the cost of exp, sparsity and mean outputs, maxout. The deep networks are
:class:`lecture_lib.nets.MLP`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import activations as A
from ... import nets
from ..._checks import as_rng, check_array, check_choice, check_names, check_positive_int, check_scalar
from ...config import single_thread
from ...gradcheck import numerical_gradient, rel_error
from ...init import init_weights, per_layer_factor
from ...timing import TIMING_MARGIN, best_seconds, not_slower

__all__ = ["VANISH_FACTOR", "PASS_BAND", "SAME_SIGN", "CENTRING_SPEEDUP", "CENTRED_MEAN",
           "SATURATED_SHARE", "FLAT_TAIL", "CHEAP_MARGIN", "MAX_SECONDS", "SPARSE_SHARE",
           "CLOSER_BY", "EXACT_TOL", "DIFFERENT", "GRADIENT_MATCH", "GradientNorms",
           "measure_gradient_norms", "vanishes", "passes_through", "decays",
           "local_gradient_capped", "slope_one_when_positive", "hidden_features", "sign_agreement",
           "ZeroCentring", "measure_zero_centring", "all_share_sign", "centring_speeds_up",
           "zero_centred", "SignExplanation", "measure_sigmoid_weight_gradient",
           "chain_rule_matches", "one_shared_sign", "Saturation", "measure_saturation", "saturates",
           "tail_is_flat", "numpy_kernels", "torch_kernels", "ActivationCost",
           "measure_activation_cost", "timings_valid", "relu_not_slower", "relu_cheap",
           "slowest_exp_ratio", "LayerOutputs", "measure_layer_outputs", "sparse",
           "closer_to_zero_mean", "MaxoutEquivalence", "measure_maxout", "maxout_reproduces",
           "passes_full_gradient"]


# ------------------------------------------------------------------ thresholds (named, tested)
VANISH_FACTOR = 0.25          # per-layer backward factor at most this: "vanishing" (sigmoid)
PASS_BAND = (0.8, 1.25)       # per-layer factor in this band: the gradient "passes" (ReLU + He)
SAME_SIGN = 0.999             # per-example sign agreement at least this: "all share one sign"
CENTRING_SPEEDUP = 1.5        # zero-centring the inputs cuts the steps to the target by this factor
CENTRED_MEAN = 0.05           # a mean output within this of 0: "zero-centred"
SATURATED_SHARE = 0.5         # at least this share of (unit, example) pairs saturated: "saturates"
FLAT_TAIL = 0.01              # f(-5) - f(-10) below this: the negative side has flattened out
CHEAP_MARGIN = 10.0           # "cheap": at most 10x the time of adding a constant (measured ~3x)
MAX_SECONDS = 10.0            # a timing of one call beyond this is a broken measurement
SPARSE_SHARE = 0.3            # at least this share of exact zeros: a "sparse" layer
CLOSER_BY = 0.67              # |mean| below this times the other's: "closer to zero mean" by a third
EXACT_TOL = 1e-12             # two functions agree "exactly" (float64 rounding)
DIFFERENT = 0.1               # two functions differ by at least this somewhere
GRADIENT_MATCH = 1e-7         # a chain-rule gradient agrees with centred differences (float64)


# ------------------------------------------------------------------ vanishing gradients
@dataclass(frozen=True)
class GradientNorms:
    """One forward and backward pass of a deep MLP on (X, y), per hidden layer (index 0 next to the
    input): the norm of the weight gradient ``dW_norm`` and of the pre-activation gradient
    ``dz_norm``; ``factor``, the geometric-mean ratio ||dz_(l-1)|| / ||dz_l|| going backwards; the
    loss; and the largest local gradient f'(z) met in any layer."""

    activation: str
    init: str
    dW_norm: np.ndarray
    dz_norm: np.ndarray
    factor: float
    loss: float
    local_grad_max: float


def measure_gradient_norms(X, y, activation: str, *, init: str, scale: float = 1.0, depth: int = 10,
                           width: int = 64, rng) -> GradientNorms:
    depth, width = check_positive_int(depth, "depth", max=1000), check_positive_int(width, "width")
    if depth < 2:
        raise ValueError(f"depth={depth!r} is not valid; a per-layer factor needs at least 2 layers")
    X = check_array(X, "X", ndim=2, nonempty=True)
    net = nets.MLP([X.shape[1], *[width] * depth, int(np.max(y)) + 1], activation=activation, init=init,
                   scale=scale, rng=rng)
    with single_thread():
        loss, _, trace = net.loss(X, y, trace=True)
    dz_norm = np.array([np.linalg.norm(g) for g in trace.grad_pre])
    dW_norm = np.array([np.linalg.norm(g) for g in trace.grad_W[:depth]])
    local_max = max(float(A.local_gradient(activation, z).max()) for z in trace.z)
    return GradientNorms(activation, init, dW_norm, dz_norm, per_layer_factor(dz_norm[::-1]), loss, local_max)


def vanishes(r: GradientNorms) -> bool:
    """The gradient shrinks by 4x or more per layer."""
    return r.factor <= VANISH_FACTOR


def passes_through(r: GradientNorms) -> bool:
    """The gradient keeps its size from layer to layer (within :data:`PASS_BAND`)."""
    return PASS_BAND[0] <= r.factor <= PASS_BAND[1]


def decays(r: GradientNorms) -> bool:
    """The gradient shrinks with depth, at whatever rate."""
    return r.factor < 1.0


def local_gradient_capped(r: GradientNorms) -> bool:
    """No local gradient exceeded the activation's maximum slope (1/4 for sigmoid)."""
    return r.local_grad_max <= A.MAX_GRAD[r.activation]


def slope_one_when_positive(activation: str, top: float = 50.0) -> bool:
    """f'(z) is exactly 1 for every z in (0, top]: no saturation on the positive side."""
    z = np.linspace(0.01, check_scalar(top, "top", min=0.01), 100)
    return bool(np.all(A.local_gradient(activation, z) == 1))


# ------------------------------------------------------------------ zero-centring
def hidden_features(X, activation: str, *, width: int = 64, rng):
    """One hidden layer with LeCun's init: the inputs that the *next* layer sees."""
    X = check_array(X, "X", ndim=2, nonempty=True)
    return A.apply(activation, X @ init_weights("lecun", X.shape[1], width, rng))


def sign_agreement(G) -> float:
    """For each neuron (column of a weight gradient G of shape (fan_in, n_neurons)), the share of
    its nonzero gradient components that carry the majority sign; averaged over neurons.
    1.0: every weight of a neuron moves the same way; about 0.5-0.6 for random signs."""
    G = check_array(G, "G", ndim=2)
    pos, neg = (G > 0).sum(axis=0), (G < 0).sum(axis=0)
    total = pos + neg
    ok = total > 0
    return float(np.mean(np.maximum(pos, neg)[ok] / total[ok])) if np.any(ok) else 1.0


@dataclass(frozen=True)
class ZeroCentring:
    """Features ``H`` from one hidden layer of ``activation``: their smallest and mean value; the
    sign agreement of a softmax layer's weight gradients on them (one example; mini-batches); and
    the fewest steps of gradient descent to the target loss on H and on H zero-centred (each at its
    best rate; None: not reached)."""

    activation: str
    min_input: float
    mean_input: float
    per_example: float
    batch: float
    raw: int | None
    centred: int | None


def measure_zero_centring(X, y, activation: str, *, width: int = 64, lrs, target: float, max_steps: int,
                          batch: int = 64, rng) -> ZeroCentring:
    rng, batch = as_rng(rng), check_positive_int(batch, "batch")
    H = hidden_features(X, activation, width=width, rng=rng)
    W = init_weights("lecun", H.shape[1], int(np.max(y)) + 1, rng)
    idx = rng.permutation(len(H))
    per_example = [sign_agreement(nets.softmax_regression_loss(W, None, H[i:i + 1], y[i:i + 1])[1])
                   for i in idx[:200]]
    batches = [sign_agreement(nets.softmax_regression_loss(W, None, H[idx[s:s + batch]], y[idx[s:s + batch]])[1])
               for s in range(0, len(idx) - batch + 1, batch)]
    with single_thread():
        raw = nets.tuned_steps_to_loss(H, y, lrs=lrs, target=target, max_steps=max_steps).steps
        centred = nets.tuned_steps_to_loss(H - H.mean(axis=0), y, lrs=lrs, target=target,
                                           max_steps=max_steps).steps
    return ZeroCentring(activation, float(H.min()), float(H.mean()), float(np.mean(per_example)),
                        float(np.mean(batches)), raw, centred)


def all_share_sign(r: ZeroCentring) -> bool:
    """One example's weight gradients of a neuron all carry one sign."""
    return r.per_example >= SAME_SIGN


def centring_speeds_up(r: ZeroCentring) -> bool:
    """Zero-centring the same features reaches the target :data:`CENTRING_SPEEDUP` times sooner."""
    if r.centred is None:
        return False
    return r.raw is None or r.raw >= CENTRING_SPEEDUP * max(r.centred, 1)


def zero_centred(r: ZeroCentring) -> bool:
    return abs(r.mean_input) < CENTRED_MEAN


@dataclass(frozen=True)
class SignExplanation:
    """dL/dw of one sigmoid neuron on positive inputs x, by the chain rule (upstream * s'(z) * x)
    against centred differences, and the distinct signs of its components."""

    rel_error: float
    signs: tuple
    upstream: float


def measure_sigmoid_weight_gradient(n_inputs: int = 20, *, upstream: float = -1.7, bias: float = 0.1,
                                    rng) -> SignExplanation:
    rng, upstream = as_rng(rng), check_scalar(upstream, "upstream")
    x = A.sigmoid(rng.normal(size=check_positive_int(n_inputs, "n_inputs")))  # from a sigmoid layer
    w = rng.normal(size=len(x))

    def loss_of_w(wv):
        return upstream * A.sigmoid(wv @ x + bias)

    chain_rule = upstream * A.sigmoid_grad(w @ x + bias) * x
    err = rel_error(numerical_gradient(loss_of_w, w.copy()), chain_rule)
    return SignExplanation(err, tuple(int(s) for s in np.unique(np.sign(chain_rule))), upstream)


def chain_rule_matches(r: SignExplanation) -> bool:
    return r.rel_error < GRADIENT_MATCH


def one_shared_sign(r: SignExplanation) -> bool:
    """Every component has the sign of the upstream gradient (s' > 0, x > 0)."""
    return r.signs == (int(np.sign(r.upstream)),)


# ------------------------------------------------------------------ saturation
@dataclass(frozen=True)
class Saturation:
    """For pre-activations with std ``std``: the share of each activation's local gradients below 5%
    of its maximum; and how much each output still changes between z = -10 and z = -5."""

    std: float
    shares: dict
    tail_change: dict


def measure_saturation(activations, std: float, *, n: int = 10_000, rng) -> Saturation:
    activations = check_names(activations, "activations", (*A.ELEMENTWISE, "linear"))
    std = check_scalar(std, "std", min=0.0)
    z = as_rng(rng).normal(0, std, size=check_positive_int(n, "n", max=100_000_000))
    return Saturation(std, {a: float(np.mean(A.saturated(a, z))) for a in activations},
                      {a: float(A.apply(a, -5.0) - A.apply(a, -10.0)) for a in activations})


def saturates(r: Saturation, activation: str) -> bool:
    return r.shares[activation] >= SATURATED_SHARE


def tail_is_flat(r: Saturation, activation: str) -> bool:
    return r.tail_change[activation] < FLAT_TAIL


# ------------------------------------------------------------------ timing
def numpy_kernels():
    """The plain NumPy forward of each function, as a student would write it."""
    return {
        "relu": lambda x: np.maximum(x, 0),
        "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "tanh": np.tanh,
        "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    }


def torch_kernels():
    import torch

    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "elu": torch.nn.functional.elu}


@dataclass(frozen=True)
class ActivationCost:
    """Best time of one forward pass over ``n`` float32 values, per function, in NumPy and torch
    (one thread), and of adding a constant (the cheapest elementwise operation)."""

    n: int
    repeats: int
    numpy: dict
    torch: dict
    add: float


def measure_activation_cost(n: int, *, repeats: int = 7, rng) -> ActivationCost:
    import torch

    x = as_rng(rng).normal(size=check_positive_int(n, "n", max=100_000_000)).astype(np.float32)
    t = torch.from_numpy(x)
    return ActivationCost(n, repeats, {k: best_seconds(f, x, repeats=repeats) for k, f in numpy_kernels().items()},
                          {k: best_seconds(f, t, repeats=repeats) for k, f in torch_kernels().items()},
                          best_seconds(lambda v: v + 1.0, x, repeats=repeats))


def timings_valid(r: ActivationCost) -> bool:
    return all(0 < t < MAX_SECONDS for t in [*r.numpy.values(), *r.torch.values(), r.add])


def relu_not_slower(r: ActivationCost, than: str, library: str = "numpy") -> bool:
    """ReLU takes at most :data:`~lecture_lib.timing.TIMING_MARGIN` times the time of ``than``."""
    times = getattr(r, check_choice(library, "library", ("numpy", "torch")))
    return not_slower(times["relu"], times[than], TIMING_MARGIN)


def relu_cheap(r: ActivationCost) -> bool:
    """ReLU costs at most :data:`CHEAP_MARGIN` times adding a constant to the same array."""
    return not_slower(r.numpy["relu"], r.add, CHEAP_MARGIN)


def slowest_exp_ratio(r: ActivationCost, library: str = "numpy") -> float:
    """The time of the slowest exp-based function over ReLU's."""
    times = getattr(r, check_choice(library, "library", ("numpy", "torch")))
    return max(times[k] / times["relu"] for k in ("sigmoid", "tanh", "elu"))


# ------------------------------------------------------------------ sparsity, mean output, maxout
@dataclass(frozen=True)
class LayerOutputs:
    """One hidden layer (the same weights for every activation): each activation's share of exact
    zeros and its mean output."""

    zeros: dict
    means: dict


def measure_layer_outputs(X, activations, *, init: str = "lecun", width: int = 64, rng) -> LayerOutputs:
    activations = check_names(activations, "activations", (*A.ELEMENTWISE, "linear"))
    X = check_array(X, "X", ndim=2, nonempty=True)
    Z = X.astype(np.float64) @ init_weights(init, X.shape[1], check_positive_int(width, "width"), rng)
    H = {a: A.apply(a, Z) for a in activations}
    return LayerOutputs({a: float(np.mean(h == 0)) for a, h in H.items()},
                        {a: float(np.mean(h)) for a, h in H.items()})


def sparse(r: LayerOutputs, activation: str) -> bool:
    return r.zeros[activation] > SPARSE_SHARE


def closer_to_zero_mean(r: LayerOutputs, a: str, b: str) -> bool:
    """``a``'s mean output is closer to 0 than ``b``'s, by at least a third."""
    return abs(r.means[a]) < CLOSER_BY * abs(r.means[b])


@dataclass(frozen=True)
class MaxoutEquivalence:
    """Largest difference between a two-piece maxout unit and ReLU (pieces (w, b) and 0), Leaky
    ReLU (pieces (w, b) and 0.01 (w, b)), and ReLU again with another second piece (0.5 w, 0); and
    the smallest and largest share of the upstream gradient a unit passes to its two pieces."""

    vs_relu: float
    vs_leaky: float
    vs_other: float
    passed_min: float
    passed_max: float


def measure_maxout(n: int = 500, d: int = 20, *, std: float = 4.0, n_pairs: int = 20_000, rng) -> MaxoutEquivalence:
    rng = as_rng(rng)
    Xm, w, b = rng.normal(size=(check_positive_int(n, "n"), check_positive_int(d, "d"))), rng.normal(size=d), 0.3
    z = Xm @ w + b
    vs = [float(np.max(np.abs(A.maxout(z, second) - reference)))
          for second, reference in ((np.zeros_like(z), A.relu(z)), (0.01 * z, A.leaky_relu(z)),
                                    (Xm @ (0.5 * w), A.relu(z)))]
    z1, z2 = rng.normal(0, check_scalar(std, "std", min=0.0), size=(2, check_positive_int(n_pairs, "n_pairs")))
    d1, d2 = A.maxout_grad(z1, z2)
    return MaxoutEquivalence(*vs, float((d1 + d2).min()), float((d1 + d2).max()))


def maxout_reproduces(r: MaxoutEquivalence) -> bool:
    """Maxout is ReLU and Leaky ReLU exactly, and other second pieces give other functions."""
    return r.vs_relu < EXACT_TOL and r.vs_leaky < EXACT_TOL and r.vs_other > DIFFERENT


def passes_full_gradient(r: MaxoutEquivalence) -> bool:
    return r.passed_min == 1.0 == r.passed_max
