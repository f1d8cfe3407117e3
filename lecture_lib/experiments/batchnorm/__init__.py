"""Experiments of 05_batchnorm, one module per idea:

- ``layer`` (bn.unit-gaussian, bn.gamma-beta-identity, bn.conv-per-channel, bn.gradient-flow): what
  the layer does to one batch and one deep network: the statistics it produces, the identity gamma
  and beta can recover, the conv version's per-channel statistics, gradient flow, torch's
  conventions, the two backward passes; and :func:`measure_deep_training`, the trained networks the
  other modules look into;
- ``batch`` (bn.regularizes, bn.test-time): how one example's output depends on the rest of its
  batch: the noise of train mode against the train/validation gap, test mode and its bugs;
- ``training`` (bn.higher-lr, bn.init-robust, bn.batch-size, bn.fewer-steps, norm.everywhere): the
  training sweeps (learning rate x weight scale, batch norm against layer norm as the batch
  shrinks, steps to a target accuracy) and the loss's sensitivity to the weights, cached on disk.

Every name is re-exported here, so ``from lecture_lib.experiments import batchnorm as B`` gives
``B.measure_lr_scale_grid`` and the ledger names ``batchnorm.measure_lr_scale_grid``. Each
``measure_<what>(..., rng)`` returns a frozen dataclass; each threshold a notebook asserts is a
named constant with a named predicate, and tests/test_batchnorm_experiments.py runs the opposite
experiment.
"""

from .batch import (  # noqa: F401
    BATCH_INDEPENDENT_TOL,
    CHANCE_ACC,
    LAG_COST,
    NOISE_SHRINK,
    NOISY_SPREAD,
    RECALIBRATION_SLACK,
    SIMILAR_GAP,
    BatchDependence,
    TestTimeResult,
    batch_independent,
    lags,
    measure_batch_dependence,
    measure_test_time,
    noise_shrinks,
    noisy,
    recalibration_recovers,
    similar_gaps,
    single_example_bug,
)
from .layer import (  # noqa: F401
    BINS,
    EXPLODE_FACTOR,
    FLAT_BAND,
    GAUSSIAN_SKEW_Z,
    GROWS_FACTOR,
    NON_GAUSSIAN_SHARE,
    NORM_NAMES,
    POSITION_SPREAD,
    RECOVERS_TOL,
    SCALE_FREE_BAND,
    STANDARDIZED_TOL,
    VANISH_FACTOR,
    BackwardComparison,
    ConvStatistics,
    DeepTraining,
    GammaBeta,
    GradientFlow,
    IdentityResult,
    LayerStatistics,
    TorchConventions,
    UnitGaussianResult,
    explodes,
    flat,
    grows_toward_input,
    image_patches,
    layer_statistics,
    learned_gamma_beta,
    measure_backward_comparison,
    measure_conv_statistics,
    measure_deep_training,
    measure_gradient_flow,
    measure_identity,
    measure_torch_conventions,
    measure_unit_gaussian,
    not_gaussian,
    one_scalar_standardizes,
    per_channel_standardized,
    positions_differ,
    recovers_identity,
    scale_free,
    standardized,
    vanishes,
)
from .training import (  # noqa: F401
    BREAKS_DROP,
    FAR_BELOW_PAPER,
    HIGHER_LR_FACTOR,
    LAYER_FACTOR,
    PAPER_SPEEDUP,
    ROBUST_SHARE,
    SENSITIVITY_FACTOR,
    SMALL_EFFECT,
    TRAINS_ACC,
    BatchSizeSweep,
    Boundaries,
    LayerSensitivity,
    LrScaleGrid,
    StepsToTarget,
    WeightSensitivity,
    allows_higher_lr,
    breaks_at_small_batch,
    far_below_paper,
    faster_with_bn,
    fit_softmax,
    grows_with_offset,
    less_sensitive,
    measure_batch_size,
    measure_boundaries,
    measure_layer_sensitivity,
    measure_lr_scale_grid,
    measure_steps_to_target,
    measure_weight_sensitivity,
    normalized_layers_less_sensitive,
    raw_pixels_ratio,
    relative_change,
    robust_to_scale,
    small_effect,
    steps_to_accuracy,
    unit_normal,
)
