"""The experiments of 07_cnn_architectures about depth: degradation of plain nets, the gradient
at a residual (additive) gate, dense connections, and width against depth. Each ``measure_<what>``
returns a frozen result; each threshold a verdict asserts is a named constant with a predicate.

They train on the CPU at small width on scikit-learn's digits (8x8 images), so that the
notebook's fast profile takes seconds; the CIFAR-10 versions are the recipe's job
(``lecture_lib.recipes.comparisons``: ``degradation``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..._checks import as_rng, check_int, torch_seed_from
from . import training as T

# --------------------------------------------------------------------------- ResNet: degradation
DEGRADATION_GAP = 0.05   # training error 5 points higher for the deeper net counts as degradation


@dataclass(frozen=True)
class Degradation:
    depths: tuple            # (shallow, deep)
    width: int
    n_train: int
    epochs: int
    plain_error: tuple       # final training error (eval mode, on the training images), per depth
    residual_error: tuple
    plain_curves: tuple      # training error during each epoch, per depth
    residual_curves: tuple
    cpu_seconds: float
    data: str = "digits"


def measure_degradation(rng, depths=(20, 56), width: int = 8, n_train: int | None = None, epochs: int = 20,
                        batch_size: int = 128, lr: float = 1e-2) -> Degradation:
    """Train the plain nets and the ResNets of the ResNet paper's section 4.2 at two depths,
    ``width`` channels in the first stage, on the digits (the first ``n_train`` training images),
    with the same seed, optimizer and epochs; record their training error."""
    import torch

    from ...models.cifar_resnet import cifar_resnet

    rng = as_rng(rng)
    depths = tuple(check_int(d, "depth", min=8) for d in depths)
    if len(depths) != 2 or depths[0] >= depths[1]:
        raise ValueError(f"depths={depths!r} is not valid; expected (shallow, deep) with shallow < deep")
    data = T.standardized_digits()
    n_train = len(data.y_train) if n_train is None else check_int(n_train, "n_train", min=10,
                                                                   max=len(data.y_train))
    X, y = data.X_train[:n_train], data.y_train[:n_train]
    seed = torch_seed_from(rng)
    errors, curves, seconds = {}, {}, 0.0
    for kind in ("plain", "resnet"):
        for depth in depths:
            torch.manual_seed(seed)
            run = T.train(cifar_resnet(depth, kind, width=width, in_channels=1), X, y, epochs=epochs, lr=lr,
                          batch_size=batch_size, seed=seed)
            errors[kind, depth] = 1 - T.accuracy(run.model, X, y)
            curves[kind, depth] = tuple(1 - a for a in run.train_acc)
            seconds += run.cpu_seconds
    return Degradation(depths, width, n_train, epochs, tuple(errors["plain", d] for d in depths),
                       tuple(errors["resnet", d] for d in depths), tuple(curves["plain", d] for d in depths),
                       tuple(curves["resnet", d] for d in depths), seconds)


def plain_degrades(result: Degradation) -> bool:
    """The deeper plain net ends with a training error DEGRADATION_GAP above the shallower one's."""
    return result.plain_error[1] - result.plain_error[0] > DEGRADATION_GAP


def residual_does_not_degrade(result: Degradation) -> bool:
    """The deeper ResNet stays within DEGRADATION_GAP of the shallower one."""
    return result.residual_error[1] - result.residual_error[0] <= DEGRADATION_GAP


# --------------------------------------------------------------------------- ResNet: additive gate
ADDITIVE_TOL = 1e-7


def spread(norms) -> float:
    """How far apart the layers' gradient norms are: the largest over the smallest."""
    return max(norms) / min(norms)


@dataclass(frozen=True)
class AdditiveGradient:
    rel_error_sum: float          # (upstream + branch gradient) against the numerical gradient
    rel_error_branch_only: float  # the branch's gradient alone against it (must be far off)
    depth: int
    plain_norms: tuple            # RMS gradient of each conv layer's weights, input side first
    residual_norms: tuple

    @property
    def plain_spread(self) -> float:
        return spread(self.plain_norms)

    @property
    def residual_spread(self) -> float:
        return spread(self.residual_norms)


def measure_additive_gradient(rng, depth: int = 56, width: int = 8, n: int = 256) -> AdditiveGradient:
    """(1) A residual unit ``y = x + conv(relu(conv(x)))`` built from the NumPy gates, float64:
    its input gradient, taken as the sum of the identity's and the branch's, against centred
    differences. (2) Per-layer gradient norms of a plain net and a ResNet of ``depth`` layers at
    initialization, on a batch of ``n`` digits."""
    import torch

    from ... import layers
    from ...gradcheck import numerical_gradient_array, rel_error
    from ...models.cifar_resnet import cifar_resnet

    rng = as_rng(rng)
    x = rng.standard_normal((2, 3, 5, 5))
    w1, w2 = 0.5 * rng.standard_normal((3, 3, 3, 3)), 0.5 * rng.standard_normal((3, 3, 3, 3))
    b1, b2 = rng.standard_normal(3), rng.standard_normal(3)
    param = {"stride": 1, "pad": 1}

    def branch(v):
        hidden, c1 = layers.conv_forward_fast(v, w1, b1, param)
        relu, c2 = layers.relu_forward(hidden)
        out, c3 = layers.conv_forward_fast(relu, w2, b2, param)
        return out, (c1, c2, c3)

    dout = rng.standard_normal(x.shape)
    _, (c1, c2, c3) = branch(x)
    d_branch = layers.conv_backward_fast(layers.relu_backward(layers.conv_backward_fast(dout, c3)[0], c2), c1)[0]
    numeric = numerical_gradient_array(lambda v: v + branch(v)[0], x.copy(), dout)
    data = T.standardized_digits()
    X, y = data.X_train[:n], data.y_train[:n]
    norms = {}
    seed = torch_seed_from(rng)
    for kind in ("plain", "resnet"):
        torch.manual_seed(seed)
        norms[kind] = tuple(T.conv_gradient_norms(cifar_resnet(depth, kind, width=width, in_channels=1), X, y))
    return AdditiveGradient(rel_error(dout + d_branch, numeric), rel_error(d_branch, numeric), depth,
                            norms["plain"], norms["resnet"])


def gradient_is_the_sum(result: AdditiveGradient) -> bool:
    """The add gate passes the upstream gradient to both branches: their sum matches the
    numerical gradient, the branch alone does not."""
    return result.rel_error_sum < ADDITIVE_TOL and result.rel_error_branch_only > 1e-2


SPREAD_FACTOR = 10.0   # "evens out": the plain net's layer gradients spread over a 10x wider range


def shortcuts_even_out_gradients(result: AdditiveGradient) -> bool:
    """With shortcuts the layers' gradient norms spread over a range SPREAD_FACTOR times narrower
    than without."""
    return result.plain_spread > SPREAD_FACTOR * result.residual_spread


# --------------------------------------------------------------------------- wide against deep
WIDE_SPEEDUP = 1.5     # the wide net trains at least 1.5x faster per epoch at equal parameters
ACCURACY_SLACK = 0.03  # ... and ends no more than 3 points less accurate
PARAM_TOLERANCE = 0.15


@dataclass(frozen=True)
class WidthDepth:
    deep: tuple            # (depth, first-stage width)
    wide: tuple
    deep_params: int
    wide_params: int
    deep_flops: int        # one 8x8 image
    wide_flops: int
    deep_seconds: float    # CPU seconds per epoch, one thread
    wide_seconds: float
    deep_accuracy: float   # test accuracy
    wide_accuracy: float
    epochs: int


def measure_width_vs_depth(rng, deep=(40, 8), wide=(10, 22), epochs: int = 4, n_train: int | None = None,
                           batch_size: int = 64, lr: float = 1e-2) -> WidthDepth:
    """A deep, thin wide-ResNet (WRN-``deep[0]`` with ``deep[1]`` channels in the first stage) and
    a shallow, wide one with about as many parameters, trained alike on the digits."""
    import torch

    from ...models import wrn
    from ...models.anatomy import flops, parameter_count

    rng = as_rng(rng)
    data = T.standardized_digits()
    n_train = len(data.y_train) if n_train is None else check_int(n_train, "n_train", min=10,
                                                                   max=len(data.y_train))
    seed = torch_seed_from(rng)
    out = {}
    for name, (depth, width) in (("deep", deep), ("wide", wide)):
        torch.manual_seed(seed)
        model = wrn(depth=depth, widen_factor=1, width=width, in_channels=1)
        params, count = parameter_count(model), flops(model, (1, 1, 8, 8))
        run = T.train(model, data.X_train[:n_train], data.y_train[:n_train], epochs=epochs, lr=lr,
                      batch_size=batch_size, seed=seed)
        out[name] = (params, count, run.cpu_seconds / epochs, T.accuracy(run.model, data.X_test, data.y_test))
    (dp, df, ds, da), (wp, wf, ws, wa) = out["deep"], out["wide"]
    return WidthDepth(tuple(deep), tuple(wide), dp, wp, df, wf, ds, ws, da, wa, epochs)


def wide_is_more_efficient(result: WidthDepth) -> bool:
    return (abs(result.wide_params / result.deep_params - 1) <= PARAM_TOLERANCE
            and result.deep_seconds >= WIDE_SPEEDUP * result.wide_seconds
            and result.wide_accuracy >= result.deep_accuracy - ACCURACY_SLACK)


# --------------------------------------------------------------------------- DenseNet: gradients
@dataclass(frozen=True)
class DenseGradient:
    depth: int
    growth_rate: int
    dense_norms: tuple    # RMS gradient of each conv layer's weights, input side first
    plain_norms: tuple

    @property
    def dense_spread(self) -> float:
        return spread(self.dense_norms)

    @property
    def plain_spread(self) -> float:
        return spread(self.plain_norms)

    @property
    def plain_first_over_last(self) -> float:
        """Above 1: the plain twin's gradient grows towards the input (explodes), below 1 it vanishes."""
        return self.plain_norms[0] / self.plain_norms[-1]


def measure_dense_gradient(rng, depth: int = 40, growth_rate: int = 12, n: int = 64) -> DenseGradient:
    """Per-layer gradient norms at initialization of a DenseNet (L=``depth``, k=``growth_rate``,
    without bottlenecks) and of its plain twin (the same layers, each fed only its predecessor),
    on a batch of ``n`` digits."""
    import torch

    from ...models import densenet_cifar

    rng = as_rng(rng)
    data = T.standardized_digits()
    X, y = data.X_train[:n], data.y_train[:n]
    seed = torch_seed_from(rng)
    norms = {}
    for dense in (True, False):
        torch.manual_seed(seed)
        model = densenet_cifar(depth=depth, growth_rate=growth_rate, bottleneck=False, in_channels=1, dense=dense)
        norms[dense] = tuple(T.conv_gradient_norms(model, X, y))
    return DenseGradient(depth, growth_rate, norms[True], norms[False])


def dense_evens_out_gradients(result: DenseGradient) -> bool:
    """With dense connections the layers' gradient norms spread over a range SPREAD_FACTOR times
    narrower than in the plain twin."""
    return result.plain_spread > SPREAD_FACTOR * result.dense_spread
