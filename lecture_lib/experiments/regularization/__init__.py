"""Experiments of 06_regularization, one module per idea:

- ``dropout`` (reg.dropconnect, reg.dropout-test-scaling, reg.dropout-ensemble,
  reg.dropout-redundancy): the dropout family on the course's NumPy MLP: dropout and DropConnect,
  the Monte Carlo view of test-time scaling, the ensemble of subnetworks, unit deletion; and the
  spiral fits of the regularization explorer;
- ``augmentation`` (reg.data-augmentation, reg.stochastic-depth, reg.fractional-max-pooling): noise
  added to the data or to a torch network: data augmentation and label-preserving flips,
  stochastic depth, fractional max pooling;
- ``decay`` (reg.l2-vs-weight-decay, reg.weight-decay-resnet): L2 in the loss against the
  optimizers' weight decay, and weight decay in residual blocks.

Every name is re-exported here, so ``from lecture_lib.experiments import regularization as R``
gives ``R.measure_stochastic_depth`` and the ledger names
``regularization.measure_stochastic_depth``. ``augmentation`` and ``decay`` import torch at import
time, so their names are imported on first use (the module ``__getattr__`` below): importing this
package, and running the NumPy experiments, does not load torch. Each ``measure_<what>(..., rng)``
returns a frozen dataclass; each threshold a notebook asserts is a named constant with a named
predicate, and tests/test_regularization_experiments.py runs the opposite experiment.
"""

from .dropout import (  # noqa: F401
    COSTS_MORE,
    EXACT_BIAS,
    METHODS,
    NONLINEAR_BIAS,
    REDUNDANCY_RATIO,
    SCALE_READINGS,
    SCALED_TOLERANCE,
    SIMILAR_EFFECT,
    SMALL_EFFECT,
    SPIRAL_EXTENT,
    SPIRAL_NOISE,
    SUBNET_GAP,
    TOP_SHARE,
    DigitsTask,
    DropoutEnsemble,
    MaskSamples,
    RegularizedRuns,
    ScaleChoice,
    SpiralFit,
    TestScaling,
    UnitDeletion,
    averaging_closes_the_gap,
    biased_after_nonlinearity,
    costs_more,
    deletion_scores,
    digits_task,
    exact_before_nonlinearity,
    fit_spiral,
    gain,
    held_out_loss,
    measure_dropout_ensemble,
    measure_regularized_runs,
    measure_scale_choice,
    measure_test_scaling,
    measure_unit_deletion,
    sample_masks,
    scaled_matches_average,
    scaled_weights,
    similar_effect,
    single_subnetwork_is_weaker,
    small_effect,
    spiral_split,
    spreads_representation,
)

# The names of the modules that import torch, each imported from its module on first use.
TORCH_NAMES = {
    "augmentation": (
        "AugmentationRuns", "CLEAR_DIFFERENCE", "DIGIT_RECIPES", "DigitImages", "FLIP_PRESERVES", "FlipTest",
        "HURTS_BY", "NO_CLEAR_CHANGE", "NO_GAIN", "POOLINGS", "PoolingRuns", "SAVING_REALIZED", "SmallCNN",
        "StochasticDepthRuns", "augmentation_hurts", "averaged_accuracy", "averaging_passes_helps",
        "digit_images", "digit_mlp", "flip_preserves_all_labels", "measure_augmentation",
        "measure_flip_labels", "measure_fractional_pooling", "measure_stochastic_depth", "no_clear_change",
        "no_clear_difference", "no_gain_at_this_scale", "pooling_difference", "saves_time", "seeded",
        "test_scaling_matters",
    ),
    "decay": (
        "DIFFERENT", "DecayComparison", "IDENTITY_RATIO", "NEEDED_FACTOR", "RESIDUAL_TASKS", "ResidualDecay",
        "ResidualMLP", "SAME_TOL", "SHRINK_FACTOR", "UnusedWeight", "WeightsOnly", "different_training",
        "measure_l2_vs_weight_decay", "measure_residual_decay", "measure_unused_weight",
        "needed_blocks_stay", "same_training", "unneeded_blocks_become_identity",
    ),
}


def __getattr__(name: str):
    import importlib

    for module, names in TORCH_NAMES.items():
        if name in names:
            return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted({*globals(), *(name for names in TORCH_NAMES.values() for name in names)})
