"""Live explorers, one module each, on the shared base in ``base.py``.

Each ``<name>_explorer(**initial_values)`` returns an :class:`~lecture_lib.widgets.base.Explorer`.
"""

from .base import Explorer
from .gradient_descent_1d import gradient_descent_1d_explorer

__all__ = ["Explorer", "gradient_descent_1d_explorer"]
