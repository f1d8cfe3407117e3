"""The experiments of 01_activations, each with the threshold that decides its claim.

Every threshold is a named constant used by a named predicate, so a unit test can run the opposite
experiment (sigmoid for the ReLU check, tanh for the not-zero-centred check, a good init for the
dead-unit check...) and show that the predicate is False there. "Not reached" is None.

Two modules, by idea: :mod:`.functions` measures the functions in NumPy networks, :mod:`.training`
builds and trains torch networks. Both are re-exported here: ``experiments.activations.<name>``.
"""

from .functions import *  # noqa: F401,F403
from .functions import __all__ as _functions
from .training import *  # noqa: F401,F403
from .training import __all__ as _training

__all__ = [*_functions, *_training]
