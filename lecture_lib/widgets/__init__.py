"""Live explorers, one module each, on the shared base in ``base.py``.

Module ``<name>.py`` defines ``<name>_explorer(**initial_values)``, which returns an
:class:`~lecture_lib.widgets.base.Explorer`; ``from lecture_lib.widgets import <name>_explorer``
finds it without a registry to keep up to date.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Explorer

__all__ = ["Explorer", "all_explorers"]

_SUFFIX = "_explorer"


def _modules():
    return [m.name for m in pkgutil.iter_modules(__path__) if m.name != "base" and not m.name.startswith("_")]


def all_explorers() -> dict:
    """Every explorer factory of the package, by name (e.g. 'gradient_descent_1d_explorer')."""
    found = {}
    for module_name in _modules():
        module = importlib.import_module(f"{__name__}.{module_name}")
        factory = getattr(module, module_name + _SUFFIX, None)
        if factory is not None:
            found[module_name + _SUFFIX] = factory
    return found


def __getattr__(name: str):
    if name.endswith(_SUFFIX) and name[: -len(_SUFFIX)] in _modules():
        module = importlib.import_module(f"{__name__}.{name[: -len(_SUFFIX)]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
