"""Experiments of 08_rnns, one module per idea:

- ``vanilla`` (rnn.recurrence, rnn.gradient-vanish-explode, rnn.clipping): the recurrence and its
  shared weights, the gates checked against numerical gradients and torch, gradients through time,
  clipping;
- ``lstm`` (rnn.lstm-cell-gradient, rnn.lstm-long-range): how much of a gradient the cell state
  carries back, and a long-range memory task;
- ``language_model`` (rnn.char-lm): a character-level RNN in NumPy and an LSTM in torch against
  n-gram baselines, in bits per character.

Every name is re-exported here, so ``from lecture_lib.experiments import rnn as E`` gives
``E.measure_long_range`` and the ledger names ``rnn.measure_long_range``. Each
``measure_<what>(..., rng)`` returns a frozen dataclass; each threshold the notebook asserts is a
named constant with its predicate, and tests/test_rnn_experiments.py runs the opposite experiment.
"""

from .language_model import (  # noqa: F401
    BEATS_UNIGRAM_BY,
    CLIP_AT,
    TEMPERATURES,
    CharLM,
    beats,
    measure_char_lm,
)
from .lstm import (  # noqa: F401
    FAILED,
    LEARNED,
    OUTLASTS_FACTOR,
    CellGradient,
    LongRange,
    cell_path_outlasts,
    failed,
    learned,
    measure_cell_gradient,
    measure_long_range,
    model_name,
)
from .vanilla import (  # noqa: F401
    ARGUMENTS,
    BACKWARD_TOL,
    DIRECTION_TOL,
    EXPLODE_ABOVE,
    FORWARD_TOL,
    GRADCHECK_TOL,
    MAX_STEPS_KEPT,
    POWER_TOL,
    SUM_TOL,
    TRAINS_FACTOR,
    VANISH_BELOW,
    WEIGHT_NAMES,
    Clipping,
    GateChecks,
    GradientCurve,
    GradientThroughTime,
    ParameterSharing,
    diverges,
    explodes,
    follows_power_law,
    gates_correct,
    keeps_direction,
    measure_clipping,
    measure_gate_checks,
    measure_gradient_through_time,
    measure_parameter_sharing,
    rate_per_step,
    scalar_rnn_graph,
    trains,
    unroll_steps,
    vanishes,
    weights_shared,
)
