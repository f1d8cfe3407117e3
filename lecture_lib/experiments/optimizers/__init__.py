"""The experiments of 04_optimizers, each next to the threshold that decides its claim.

Every ``measure_*`` function returns a frozen dataclass; every predicate (with its constants named
in capitals) turns one into the truth value a ``decide(...)`` check asserts. The unit tests run the
*opposite* experiment for each predicate and show that it comes out False there, so no threshold is
a formality. "Not reached" is None.

One module per idea, in the order of the notebook, all re-exported here
(``experiments.optimizers.<name>``): :mod:`.gradient_descent` (mini-batches, the problems of SGD,
and the pieces the others share), :mod:`.momentum`, :mod:`.adaptive` (AdaGrad, RMSProp, Adam and the
notes' code), :mod:`.decay` and :mod:`.second_order`.
"""

from .adaptive import *  # noqa: F401,F403
from .adaptive import __all__ as _adaptive
from .decay import *  # noqa: F401,F403
from .decay import __all__ as _decay
from .gradient_descent import *  # noqa: F401,F403
from .gradient_descent import __all__ as _gradient_descent
from .momentum import *  # noqa: F401,F403
from .momentum import __all__ as _momentum
from .second_order import *  # noqa: F401,F403
from .second_order import __all__ as _second_order

__all__ = [*_gradient_descent, *_momentum, *_adaptive, *_decay, *_second_order]
