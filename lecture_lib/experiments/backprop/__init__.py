"""The experiments of 03_backprop_gates, each with the threshold it is judged by.

Every threshold the notebook asserts is a named constant used by a named predicate, and the unit
tests run the opposite experiment to show the predicate is False there.

Two modules, by idea: :mod:`.gates` (the chain rule, gates, the scale of the data, staged
computation) and :mod:`.gradient_checks`, both re-exported here: ``experiments.backprop.<name>``.
"""

from .gates import *  # noqa: F401,F403
from .gates import __all__ as _gates
from .gradient_checks import *  # noqa: F401,F403
from .gradient_checks import __all__ as _gradient_checks

__all__ = [*_gates, *_gradient_checks]
