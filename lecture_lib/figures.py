"""The notes' pictures, each redrawn by the course's own code and measurements (``make figures``
writes them to ``assets/<name>.png``); nothing there is hand-drawn.

    python -m lecture_lib.figures assets            # every figure
    python -m lecture_lib.figures assets dropout    # some of them

A figure is a function that returns a matplotlib Figure, registered under the notes' file name
(without extension) and the notebook that teaches its section, in the topic's module of
:mod:`lecture_lib.plots`::

    @figure("dropout", notebook="06_regularization")
    def dropout_network(rng=None): ...

In its notebook a figure is drawn with ``figures.show("dropout")`` (or from the notebook's own
results, by calling the function with them).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._checks import check_choice

# The pictures the notes show, by their file names.
NOTES_FIGURES = (
    "random-search", "lr", "bad_init", "gap", "crossvalidation", "K-fold_cross_validation_EN", "ensembles",
    "dropout", "fracmaxpool", "stochdepth",
    "normalize",
    "comparison", "vgg", "resnet", "resnext", "fractalnet", "densenet",
    "rnn",
)


@dataclass(frozen=True)
class RegisteredFigure:
    name: str
    notebook: str
    make: Callable


FIGURES: dict[str, RegisteredFigure] = {}


def figure(name: str, *, notebook: str):
    """Register ``make() -> Figure`` under ``name`` (the notes' file name), taught in ``notebook``."""
    def register(make):
        if name in FIGURES and FIGURES[name].make is not make:
            raise ValueError(f"figure {name!r} is registered twice")
        FIGURES[name] = RegisteredFigure(name, notebook, make)
        return make
    return register


def registered() -> dict[str, RegisteredFigure]:
    """Every registered figure (imports each module of :mod:`lecture_lib.plots`)."""
    from . import plots

    for info in pkgutil.iter_modules(plots.__path__):
        importlib.import_module(f"{plots.__name__}.{info.name}")
    return dict(FIGURES)


def show(name: str, **kwargs):
    """Draw the figure ``name`` and return it (a notebook cell's value is shown as a PNG)."""
    catalogue = registered()
    check_choice(name, "name", sorted(catalogue))
    return catalogue[name].make(**kwargs)


def render_all(folder, names=None) -> list[Path]:
    """Write ``<folder>/<name>.png`` for each figure (all by default); returns the paths."""
    from .style import apply_style

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    apply_style()
    catalogue = registered()
    names = sorted(catalogue) if names is None else [check_choice(n, "name", sorted(catalogue)) for n in names]
    written = []
    for name in names:
        path = folder / f"{name}.png"
        catalogue[name].make().savefig(path, dpi=110)
        written.append(path)
    return written


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    folder = argv[0] if argv else "assets"
    for path in render_all(folder, argv[1:] or None):
        print(f"wrote {path}")


if __name__ == "__main__":
    # Run as a script this file is ``__main__``; the plots modules register into lecture_lib.figures.
    from lecture_lib.figures import main as _main

    _main()
