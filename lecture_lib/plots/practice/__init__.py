"""Figures of 09_training_practice, one module per idea (the notes' pictures are registered in them):

- ``search``: ``random-search``, the notes' two grids of learning rates, log against uniform
  sampling, grid against random search, coarse to fine;
- ``crossval``: ``crossvalidation``, ``K-fold_cross_validation_EN``, the spread of the estimates;
- ``curves``: ``lr``, ``bad_init``, ``gap``, the update-to-weight ratio;
- ``ensembles``: ``ensembles`` (independent models, snapshots, Polyak and EMA averages).

Each registered figure draws the notebook's own results when given them, and otherwise computes
them with the notebook's seeds (``python -m lecture_lib.figures assets <name>``).
"""

from .crossval import plot_crossvalidation, plot_k_fold_rounds, plot_k_fold_spread  # noqa: F401
from .curves import plot_bad_init, plot_gap, plot_lr_curves, plot_update_ratio  # noqa: F401
from .ensembles import plot_ensembles  # noqa: F401
from .search import (  # noqa: F401
    plot_coarse_to_fine,
    plot_log_space,
    plot_notes_grids,
    plot_random_search,
    plot_random_vs_grid,
    random_ahead_from,
)
