"""Experiments of 07_cnn_architectures, one module per idea:

- ``sizes`` (cnn.vgg-small-filters, cnn.googlenet-params, cnn.squeezenet-params, cnn.layer-count):
  what convolution and the architectures cost: the NumPy convolutions' time and memory, parameters,
  FLOPs and layers counted from the modules, small filters against one large one, a small CNN on the
  digits and its Deep Compression;
- ``depth`` (cnn.resnet-identity, cnn.additive-gradient, cnn.wide-resnet, cnn.densenet-gradient):
  degradation of plain nets, the gradient at a residual gate, dense connections, width against
  depth;
- ``training``: the torch plumbing both use (the digits as images, short training runs, gradient
  norms per layer, pruning and weight sharing).

Every name is re-exported here, so ``from lecture_lib.experiments import cnn`` gives
``cnn.measure_degradation`` and the ledger names ``cnn.measure_degradation``. Each
``measure_<what>`` returns a frozen dataclass; each threshold a verdict asserts is a named constant
with a named predicate, and tests/test_cnn_experiments.py runs the opposite experiment. torch is
imported inside the functions only.
"""

from .depth import (  # noqa: F401
    ACCURACY_SLACK,
    ADDITIVE_TOL,
    DEGRADATION_GAP,
    PARAM_TOLERANCE,
    SPREAD_FACTOR,
    WIDE_SPEEDUP,
    AdditiveGradient,
    Degradation,
    DenseGradient,
    WidthDepth,
    dense_evens_out_gradients,
    gradient_is_the_sum,
    measure_additive_gradient,
    measure_degradation,
    measure_dense_gradient,
    measure_width_vs_depth,
    plain_degrades,
    residual_does_not_degrade,
    shortcuts_even_out_gradients,
    spread,
    wide_is_more_efficient,
)
from .sizes import (  # noqa: F401
    CLASSIC,
    COMPRESSED_LIMIT_MB,
    COMPRESSION_ACCURACY_DROP,
    DIGITS_TARGET,
    NAMED_DEPTH,
    PUBLISHED_TOP1,
    TOP1_SOURCE,
    Comparison,
    Compression,
    ConvCost,
    DigitsCNN,
    LayerCount,
    ParameterRatio,
    SmallFilters,
    compression_reaches_the_title,
    measure_comparison,
    measure_conv_cost,
    measure_deep_compression,
    measure_digits_cnn,
    measure_layer_count,
    measure_parameter_ratio,
    measure_small_filters,
    modules_overcount,
    names_count_the_longest_chain,
    near,
    reaches_target,
    same_field_fewer_costs,
)
from .training import (  # noqa: F401
    DigitImages,
    Run,
    accuracy,
    compressed_bytes,
    conv_gradient_norms,
    dense_bytes,
    kmeans_1d,
    make_pruning_permanent,
    prune,
    recalibrate_batch_norm,
    share_weights,
    standardized_digits,
    train,
    weight_tensors,
)
