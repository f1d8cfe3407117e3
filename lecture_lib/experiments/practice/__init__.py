"""Experiments of 09_training_practice, one module per idea:

- ``runs``: the digits in float64 and one :class:`lecture_lib.nets.MLP` trained by
  :func:`lecture_lib.nets.train` from a seed, the run every other module builds on;
- ``search`` (hp.log-space, hp.random-beats-grid, hp.coarse-to-fine): sampling in log space, grid
  against random search, coarse to fine, on a synthetic objective and on real runs;
- ``crossval`` (cv.k-fold): choosing a hyperparameter by one split or by k folds;
- ``babysitting`` (hp.initial-loss, hp.overfit-tiny, hp.update-ratio, hp.loss-curves, hp.gap);
- ``ensembles`` (ens.independent-models, ens.snapshots, ens.polyak).

Every name is re-exported here, so ``from lecture_lib.experiments import practice as E`` gives
``E.measure_k_fold`` and the ledger names ``practice.measure_k_fold``. Each
``measure_<what>(..., rng)`` returns a frozen dataclass; each threshold a notebook asserts is a
named constant with a named predicate. The sweeps that the explorers also read
(:func:`measure_digits_sweep`, :func:`measure_loss_curves`) are cached on disk by configuration.
"""

from .babysitting import (  # noqa: F401
    BIG_GAP,
    CURVE_HIDDEN,
    GAP_SETTINGS,
    INITIAL_LOSS_TOL,
    NO_GAP,
    OVERFIT_LOSS,
    RATIO_ABOVE_RULE,
    RULE_COSTS,
    RULE_OF_THUMB,
    UNDERFIT_ACC,
    Gap,
    InitialLoss,
    LossCurves,
    TinySubset,
    UpdateRatios,
    best_ratio,
    best_ratio_above_rule,
    big_gap,
    lr_nearest_rule,
    measure_gap,
    measure_initial_loss,
    measure_loss_curves,
    measure_overfit_tiny,
    measure_update_ratio,
    more_data_halves_gap,
    overfits,
    ratio_tracks_lr,
    rule_costs_accuracy,
    starts_at_log_c,
    underfits_without_gap,
)
from .crossval import (  # noqa: F401
    SPREAD_RATIO,
    KFoldChoice,
    k_fold_steadier,
    measure_k_fold,
)
from .ensembles import (  # noqa: F401
    A_FEW_PERCENT,
    AVERAGE_NAMES,
    AVERAGING_HELPS,
    LOSS_DROP,
    SETTLED,
    Ensemble,
    Polyak,
    Snapshots,
    averaging_gain,
    averaging_helps,
    averaging_settled,
    ensemble_gain,
    ensemble_lowers_loss,
    gain_under_a_few_percent,
    measure_independent_models,
    measure_polyak,
    measure_snapshots,
    snapshot_gain,
    snapshots_beat_split_budget,
    weights_of,
)
from .runs import (  # noqa: F401
    HIDDEN,
    N_CLASSES,
    digits64,
    predict_test,
    score_test,
    seed_from,
    train_digits,
)
from .search import (  # noqa: F401
    LOG_BETTER_BY,
    RANDOM_WINS_FROM,
    SEARCH_SPACE,
    CoarseToFine,
    DigitsSweep,
    LogSpace,
    RandomVsGrid,
    log_beats_uniform,
    measure_coarse_to_fine,
    measure_digits_sweep,
    measure_log_space,
    measure_random_vs_grid,
    narrowing_helps,
    random_beats_grid,
    search_problems,
)
