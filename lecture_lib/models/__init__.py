"""torch models, one module per family (``lenet``, ``alexnet``, ``vgg``, ``resnet`` ...).

Every architecture is a function ``<arch>(num_classes=..., ...) -> torch.nn.Module`` under
torchvision's name where torchvision has one (at the classic ImageNet configuration the parameter
count equals torchvision's exactly). A family module lists its architectures in ``__all__``; this
package re-exports them all, so ``lecture_lib.models.resnet18`` and ``models.build("resnet18")`` work
without a registry to keep up to date.
"""

from __future__ import annotations

import importlib
import pkgutil

from .._checks import check_choice


def architectures() -> dict:
    """Every architecture of every family module, by name."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(module, "__all__", ()):
            if name in found:
                raise ValueError(f"architecture {name!r} is defined by two families")
            found[name] = getattr(module, name)
    return found


def build(arch: str, **kwargs):
    """The model ``arch`` (a name of :func:`architectures`) built with ``kwargs``."""
    catalogue = architectures()
    check_choice(arch, "arch", sorted(catalogue))
    return catalogue[arch](**kwargs)


def __getattr__(name: str):
    catalogue = architectures()
    if name in catalogue:
        return catalogue[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
