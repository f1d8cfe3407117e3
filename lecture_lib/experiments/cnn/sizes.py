"""The experiments of 07_cnn_architectures about convolution and the architectures' sizes: the
cost of the NumPy convolutions, a small CNN on the digits, parameters, FLOPs and layers counted
from the modules, small filters, and Deep Compression. Each ``measure_<what>`` returns a frozen
result; each threshold a verdict asserts is a named constant with a named predicate. The
experiments about depth (degradation, residual and dense gradients, width) are in :mod:`.depth`.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np

from ..._checks import as_rng, check_int, check_positive_int, torch_seed_from
from ...config import single_thread
from . import training as T

# Published ImageNet top-1 accuracy (%, single 224x224 crop) of the models as torchvision ships them:
# the "acc@1" of each model's IMAGENET1K_V1 weights in torchvision's model metadata.
PUBLISHED_TOP1 = {
    "alexnet": 56.522, "vgg11": 69.020, "vgg13": 69.928, "vgg16": 71.592, "vgg19": 72.376,
    "vgg16_bn": 73.360, "vgg19_bn": 74.218, "googlenet": 69.778,
    "resnet18": 69.758, "resnet34": 73.314, "resnet50": 76.130, "resnet101": 77.374, "resnet152": 78.312,
    "wide_resnet50_2": 78.468, "wide_resnet101_2": 78.848, "resnext50_32x4d": 77.618,
    "resnext101_32x8d": 79.312, "densenet121": 74.434, "densenet169": 75.600, "densenet201": 76.896,
    "densenet161": 77.138, "squeezenet1_0": 58.092, "squeezenet1_1": 58.178,
}
TOP1_SOURCE = "torchvision model metadata, acc@1 of the IMAGENET1K_V1 weights"
# The depth in each model's name: the papers count weight layers on the longest path (AlexNet's
# "eight learned layers", GoogLeNet's "22 layers deep when counting only layers with parameters").
NAMED_DEPTH = {"alexnet": 8, "vgg16": 16, "vgg19": 19, "googlenet": 22, "resnet18": 18, "resnet34": 34,
               "resnet50": 50, "resnet101": 101, "resnet152": 152, "densenet121": 121, "densenet201": 201}


def _median_cpu_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return float(np.median(times))


def _peak_bytes(fn) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- the fast convolution
@dataclass(frozen=True)
class ConvCost:
    shape: tuple                 # (N, C, H, W, F, K) of the timing, stride 1, pad K // 2, float32
    naive_seconds: float         # forward, CPU time, one thread
    fast_seconds: float
    shifted_seconds: float
    torch_seconds: float
    memory_shape: tuple          # (N, C, H, W, F, K) of the memory measurement
    input_bytes: int
    full_im2col_bytes: int       # the column matrix of the whole batch, had it been built at once
    fast_peak_bytes: int         # measured (tracemalloc) peak of conv_forward_fast: blocked im2col
    shifted_peak_bytes: int      # measured peak of conv_forward_shifted
    output_bytes: int


def measure_conv_cost(rng, shape=(4, 4, 12, 12, 8, 3), memory_shape=(64, 16, 32, 32, 32, 3),
                      repeats: int = 3) -> ConvCost:
    """Time (forward, one thread, CPU time, median of ``repeats``) of the three NumPy
    convolutions and torch's conv2d on a float32 batch of ``shape`` (N, C, H, W, F, K), and the
    peak memory (tracemalloc) of the two fast NumPy ones on a batch of ``memory_shape``."""
    import torch
    import torch.nn.functional as F

    from ... import layers

    rng = as_rng(rng)

    def problem(sizes, name):
        if len(tuple(sizes)) != 6:
            raise ValueError(f"{name}={sizes!r} is not valid; expected (N, C, H, W, F, K)")
        n, c, h, w, f, k = (check_positive_int(v, name) for v in sizes)
        x = rng.standard_normal((n, c, h, w), dtype=np.float32)
        weights = rng.standard_normal((f, c, k, k), dtype=np.float32)
        return x, weights, np.zeros(f, np.float32), {"stride": 1, "pad": k // 2}

    x, w, b, param = problem(shape, "shape")
    xt, wt, bt = (torch.from_numpy(a) for a in (x, w, b))
    with single_thread(), torch.no_grad():
        seconds = [_median_cpu_seconds(fn, repeats) for fn in (
            lambda: layers.conv_forward_naive(x, w, b, param), lambda: layers.conv_forward_fast(x, w, b, param),
            lambda: layers.conv_forward_shifted(x, w, b, param),
            lambda: F.conv2d(xt, wt, bt, padding=param["pad"]))]
    x, w, b, param = problem(memory_shape, "memory_shape")
    n, c, h, _, f, k = memory_shape
    out_size = layers.conv_output_size(h, k, 1, k // 2)
    full = n * out_size * out_size * k * k * c * x.itemsize
    with single_thread():
        fast_peak = _peak_bytes(lambda: layers.conv_forward_fast(x, w, b, param))
        shifted_peak = _peak_bytes(lambda: layers.conv_forward_shifted(x, w, b, param))
    return ConvCost(tuple(shape), *seconds, tuple(memory_shape), x.nbytes, full, fast_peak, shifted_peak,
                    n * f * out_size * out_size * x.itemsize)


# --------------------------------------------------------------------------- a CNN on the digits
DIGITS_TARGET = 0.98


@dataclass(frozen=True)
class DigitsCNN:
    model: object          # the trained lecture_lib.models.digits_cnn, in eval mode
    width: int
    epochs: int
    accuracy: float        # on the 360 test images
    cpu_seconds: float     # training, one thread
    train_loss: tuple      # per epoch


def measure_digits_cnn(rng, width: int = 16, epochs: int = 5, lr: float = 1e-2) -> DigitsCNN:
    """Train the course's small CNN (``lecture_lib.models.digits_cnn``) on the digits' 1437
    training images with AdamW, on one CPU thread; test on the other 360."""
    import torch

    from ...models import digits_cnn

    rng = as_rng(rng)
    data = T.standardized_digits()
    seed = torch_seed_from(rng)
    torch.manual_seed(seed)
    run = T.train(digits_cnn(width=width), data.X_train, data.y_train, epochs=epochs, lr=lr, seed=seed,
                  weight_decay=5e-4)
    return DigitsCNN(run.model, width, epochs, T.accuracy(run.model, data.X_test, data.y_test), run.cpu_seconds,
                     run.train_loss)


def reaches_target(result: DigitsCNN) -> bool:
    return result.accuracy >= DIGITS_TARGET


# --------------------------------------------------------------------------- the comparison
@dataclass(frozen=True)
class Comparison:
    archs: tuple
    params: tuple        # counted from the modules
    flops: tuple         # one 224x224 image, FlopCounterMode (multiply-add = 2)
    depth: tuple
    top1: tuple          # published, PUBLISHED_TOP1
    source: str = TOP1_SOURCE


# The fast profile's comparison: one model per idea of the notes (DenseNet's FLOPs, slow to count on
# the meta device, join in the full profile's FIGURE_MODELS of lecture_lib.plots.cnn)
CLASSIC = ("alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "resnet152", "wide_resnet50_2", "squeezenet1_0")


def measure_comparison(archs=CLASSIC) -> Comparison:
    """Parameters, FLOPs and depth of each architecture counted from our modules, beside its
    published top-1 accuracy (deterministic)."""
    from ...models.anatomy import describe, flops_of

    archs = tuple(archs)
    unknown = [a for a in archs if a not in PUBLISHED_TOP1]
    if unknown:
        raise ValueError(f"archs has {unknown}; expected names with a published accuracy: {sorted(PUBLISHED_TOP1)}")
    kwargs = [{"aux_logits": False} if a == "googlenet" else {} for a in archs]
    summaries = [describe(a, **k) for a, k in zip(archs, kwargs, strict=True)]
    return Comparison(archs, tuple(s.parameters for s in summaries),
                      tuple(flops_of(a, **k) for a, k in zip(archs, kwargs, strict=True)),
                      tuple(s.depth for s in summaries), tuple(PUBLISHED_TOP1[a] for a in archs))


# --------------------------------------------------------------------------- VGG: small filters
@dataclass(frozen=True)
class SmallFilters:
    channels: int
    field_stack: int             # by the receptive-field recurrence
    field_single: int
    measured_field_stack: int    # width of the input region the centre output depends on (gradient support)
    measured_field_single: int
    params_stack: int
    params_single: int
    flops_stack: int             # FlopCounterMode, one image of size x size
    flops_single: int
    nonlinearities_stack: int
    nonlinearities_single: int
    central_share_stack: float   # share of |d centre / d input| inside the central 3x3: the field's weight
    central_share_single: float
    map_stack: np.ndarray        # mean |d centre / d input| over the input plane
    map_single: np.ndarray


def _stack(channels: int, kernel: int, layers: int):
    import torch.nn as nn

    modules = []
    for _ in range(layers):
        modules += [nn.Conv2d(channels, channels, kernel, padding=kernel // 2), nn.ReLU()]
    return nn.Sequential(*modules)


def _field_of_centre(model, channels: int, size: int, rng) -> np.ndarray:
    """Mean |gradient| of the centre output (summed over channels) with respect to the input,
    over a few random inputs: where the centre unit looks, and how much."""
    import torch

    x = torch.from_numpy(rng.standard_normal((4, channels, size, size)).astype(np.float32)).requires_grad_()
    out = model(x)
    out[:, :, size // 2, size // 2].sum().backward()
    return x.grad.abs().sum(dim=(0, 1)).numpy()


def measure_small_filters(rng, channels: int = 64, size: int = 15, small: int = 3, layers: int = 3,
                          large: int = 7) -> SmallFilters:
    """``layers`` stacked ``small`` x ``small`` conv layers (VGG: three 3x3) against one ``large``
    x ``large`` layer, all ``channels`` -> ``channels`` with ReLUs: receptive field (computed and
    measured), parameters, FLOPs, nonlinearities."""
    import torch

    from ...layers import receptive_field
    from ...models.anatomy import flops, parameter_count

    rng = as_rng(rng)
    channels, layers = check_positive_int(channels, "channels"), check_positive_int(layers, "layers")
    small, large = check_positive_int(small, "small"), check_positive_int(large, "large")
    for name, k in (("small", small), ("large", large)):
        if k % 2 == 0:
            raise ValueError(f"{name}={k} is not valid; expected an odd kernel size (centred)")
    size = check_int(size, "size", min=max(layers * (small - 1), large - 1) + 3)
    torch.manual_seed(torch_seed_from(rng))
    stack, single = _stack(channels, small, layers), _stack(channels, large, 1)
    with single_thread():
        maps = [_field_of_centre(m, channels, size, rng) for m in (stack, single)]
    measured = [int(np.count_nonzero(m[size // 2] > 0)) for m in maps]
    c = size // 2
    shares = [float(m[c - 1:c + 2, c - 1:c + 2].sum() / m.sum()) for m in maps]
    shape = (1, channels, size, size)
    return SmallFilters(channels, receptive_field([(small, 1)] * layers)[-1][0], receptive_field([(large, 1)])[-1][0],
                        *measured, parameter_count(stack), parameter_count(single),
                        flops(stack, shape), flops(single, shape), layers, 1, *shares, *maps)


def same_field_fewer_costs(result: SmallFilters) -> bool:
    """The stack sees as far as the big filter, with fewer parameters and FLOPs, and more
    nonlinearities."""
    return (result.field_stack == result.field_single == result.measured_field_stack == result.measured_field_single
            and result.params_stack < result.params_single and result.flops_stack < result.flops_single
            and result.nonlinearities_stack > result.nonlinearities_single)


# --------------------------------------------------------------------------- parameter counts
@dataclass(frozen=True)
class ParameterRatio:
    large: str
    small: str
    large_params: int
    small_params: int
    ratio: float


def measure_parameter_ratio(large: str = "alexnet", small: str = "googlenet", **small_kwargs) -> ParameterRatio:
    """How many times more parameters ``large`` has than ``small``, both at torchvision's
    ImageNet configuration (counted from the modules, built on the meta device). Deterministic:
    no randomness to seed."""
    from ...models.anatomy import describe

    big, little = describe(large).parameters, describe(small, **small_kwargs).parameters
    return ParameterRatio(large, small, big, little, big / little)


def near(value: float, claimed: float, tolerance: float = 0.1) -> bool:
    """``value`` within ``tolerance`` (relative) of ``claimed``: "about 12x" means 10.8x to 13.2x."""
    return abs(value / claimed - 1) <= tolerance


# --------------------------------------------------------------------------- SqueezeNet: size
COMPRESSED_LIMIT_MB = 0.5    # the SqueezeNet paper's title: "<0.5MB model size"
COMPRESSION_ACCURACY_DROP = 0.015   # 1.5 points: 5 of the 360 test digits


@dataclass(frozen=True)
class Compression:
    squeezenet_params: int
    alexnet_params: int
    squeezenet_megabytes: float     # float32
    dense_bytes: int                # the small trained model, float32
    compressed_bytes: int           # pruned + shared + sparse-coded
    prune_fraction: float
    bits: int
    index_bits: int
    accuracy_dense: float
    accuracy_pruned: float
    accuracy_compressed: float

    @property
    def factor(self) -> float:
        return self.dense_bytes / self.compressed_bytes

    @property
    def squeezenet_compressed_megabytes(self) -> float:
        """SqueezeNet's float32 size divided by the factor measured here."""
        return self.squeezenet_megabytes / self.factor


def measure_deep_compression(model, rng, prune_fraction: float = 0.75, bits: int = 4, index_bits: int = 3,
                             finetune_epochs: int = 3, lr: float = 1e-3) -> Compression:
    """Deep Compression (Han, Mao and Dally, 2016) on a copy of a trained digits CNN: prune the
    ``prune_fraction`` smallest weights and fine-tune with the mask, then share each layer's
    weights among 2**bits values (k-means), and count the bytes of the sparse, coded model."""
    import torch

    from ...models.anatomy import describe

    rng = as_rng(rng)
    data = T.standardized_digits()
    model = copy.deepcopy(model)
    before = T.accuracy(model, data.X_test, data.y_test)
    dense = T.dense_bytes(model)
    T.prune(model, prune_fraction)
    seed = torch_seed_from(rng)
    torch.manual_seed(seed)
    T.train(model, data.X_train, data.y_train, epochs=finetune_epochs, lr=lr, seed=seed)
    T.make_pruning_permanent(model)
    pruned = T.accuracy(model, data.X_test, data.y_test)
    T.share_weights(model, bits)
    squeeze = describe("squeezenet1_0")
    return Compression(squeeze.parameters, describe("alexnet").parameters, squeeze.float32_megabytes, dense,
                       T.compressed_bytes(model, bits, index_bits), prune_fraction, bits, index_bits, before,
                       pruned, T.accuracy(model, data.X_test, data.y_test))


def compression_reaches_the_title(result: Compression) -> bool:
    """Compressed as measured here, SqueezeNet would fit in COMPRESSED_LIMIT_MB, and the small
    model loses at most COMPRESSION_ACCURACY_DROP of accuracy."""
    return (result.squeezenet_compressed_megabytes < COMPRESSED_LIMIT_MB
            and result.accuracy_compressed >= result.accuracy_dense - COMPRESSION_ACCURACY_DROP)


# --------------------------------------------------------------------------- counting layers
@dataclass(frozen=True)
class LayerCount:
    archs: tuple
    named: tuple          # the depth the model's name or paper gives
    weight_layers: tuple  # conv + fc modules
    depth: tuple          # weight layers on the longest path


def measure_layer_count(archs=("alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "resnet152",
                               "densenet121")) -> LayerCount:
    """Weight layers of each model, counted two ways from its modules (deterministic)."""
    from ...models.anatomy import describe

    archs = tuple(archs)
    unknown = [a for a in archs if a not in NAMED_DEPTH]
    if unknown:
        raise ValueError(f"archs has {unknown}; expected names among {sorted(NAMED_DEPTH)}")
    summaries = [describe(a, **({"aux_logits": False} if a == "googlenet" else {})) for a in archs]
    return LayerCount(archs, tuple(NAMED_DEPTH[a] for a in archs), tuple(s.weight_layers for s in summaries),
                      tuple(s.depth for s in summaries))


def names_count_the_longest_chain(result: LayerCount) -> bool:
    return result.depth == result.named


def modules_overcount(result: LayerCount) -> bool:
    return any(w > n for w, n in zip(result.weight_layers, result.named, strict=True))
