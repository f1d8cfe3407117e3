"""Regularization, live: the training-set size, dropout's keep probability and the L2 weight decay of
the course's MLP on a noisy spiral, with its training and held-out curves and its decision boundary.

Every setting is one training run (:func:`lecture_lib.experiments.regularization.fit_spiral`, about
0.1 s); each is trained once, kept in memory and in the disk cache (``lecture_lib.cache``), so moving
back to a setting, or reloading the page, costs only the drawing. ``warm()`` trains every setting
of the grid ahead of a class (a few seconds, then cached).
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.colors import ListedColormap

from .. import cache
from ..experiments import regularization as R
from ..style import COLORS, MARKERS
from .base import Explorer, float_slider, int_slider, log_slider

SIZES = (10, 30, 50, 70, 90)            # points per arm
KEEPS = (0.25, 0.5, 0.75, 1.0)
DECAY_EXPONENTS = (-5, -4, -3, -2, -1)   # 1e-5 (practically none) ... 0.1
_FITS: dict[tuple, R.SpiralFit] = {}


def snap(value, grid) -> float:
    """The grid value nearest to ``value`` (sliders may stand between grid points)."""
    grid = np.asarray(grid, dtype=float)
    return grid[int(np.argmin(np.abs(grid - float(value))))].item()


def spiral_fit(n_per_class: int, keep: float, decay_exponent: int) -> R.SpiralFit:
    """One grid setting, trained once per process and once per machine (disk cache)."""
    key = (int(n_per_class), float(keep), int(decay_exponent))
    if key not in _FITS:
        config = {"n_per_class": key[0], "keep": key[1], "decay": 10.0 ** key[2], "noise": R.SPIRAL_NOISE}
        fields = cache.cached("spiral-regularization", config,
                              lambda: _as_dict(R.fit_spiral(key[0], key[1], 10.0 ** key[2])))
        _FITS[key] = R.SpiralFit(**{k: np.asarray(v) for k, v in fields.items()})
    return _FITS[key]


def _as_dict(fit: R.SpiralFit) -> dict:
    return {name: np.asarray(getattr(fit, name)) for name in R.SpiralFit.__dataclass_fields__}


class RegularizationExplorer(Explorer):
    title = "Regularizing an MLP on a noisy spiral: data, dropout, weight decay"

    def __init__(self, **initial_values):
        controls = {
            "n_per_class": int_slider(10, SIZES[0], SIZES[-1], "training points per arm", step=SIZES[1] - SIZES[0]),
            "keep": float_slider(1.0, KEEPS[0], KEEPS[-1], KEEPS[1] - KEEPS[0], "dropout keep p"),
            "decay": log_slider(1e-5, DECAY_EXPONENTS[0], DECAY_EXPONENTS[-1], "weight decay λ", step=1),
        }
        super().__init__(controls, initial_values, figsize=(11.0, 4.4))

    def build(self, figure):
        self.ax, self.ax_curve = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        lo, hi = R.SPIRAL_EXTENT
        light = ListedColormap(["#B3D4EA", "#F7DDA6", "#B2E2D4"])     # the first three colours, pale
        self.image = self.ax.imshow(np.zeros((2, 2)), origin="lower", extent=(lo, hi, lo, hi), cmap=light,
                                    vmin=0, vmax=2, interpolation="nearest")
        self.points = [self.ax.scatter([], [], s=28, color=COLORS[c], marker=MARKERS[c], edgecolor="black",
                                       linewidth=0.6, label=f"class {c}") for c in range(3)]
        self.ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="x₁", ylabel="x₂")
        self.ax.grid(False)
        (self.train_line,) = self.ax_curve.plot([], [], color=COLORS[0], marker="o", markersize=3, label="training")
        (self.val_line,) = self.ax_curve.plot([], [], color=COLORS[1], linestyle="--", marker="s", markersize=3,
                                              label="held-out (300 points)")
        self.ax_curve.set(xlim=(0, 150), ylim=(0.3, 1.02), xlabel="epoch (full batch)", ylabel="accuracy")
        self.ax_curve.axhline(1 / 3, color=COLORS[7], lw=0.8, linestyle=":", label="chance (3 classes)")
        # one legend below both panels: the boundary image fills the left one, and the curves can
        # lie anywhere in the right one
        handles = self.points + self.ax_curve.get_legend_handles_labels()[0]
        figure.legend(handles, [h.get_label() for h in handles], loc="outside lower center", ncols=len(handles))
        # Everything that changes is one setting of the grid: a layer kept per setting, so that
        # going back to a setting (or moving a slider within one) draws nothing.
        self.layered(self.image, *self.points, self.train_line, self.val_line, self.ax.title, self.ax_curve.title)

    def draw(self, n_per_class, keep, decay):
        n = int(snap(n_per_class, SIZES))
        p = snap(keep, KEEPS)
        exponent = int(snap(np.log10(max(decay, 1e-12)), DECAY_EXPONENTS))
        self.invalidate(key="axes", layer=(n, p, exponent))
        fit = spiral_fit(n, p, exponent)
        self.image.set_data(fit.boundary)
        for c, points in enumerate(self.points):
            points.set_offsets(fit.X[fit.y == c])
        self.train_line.set_data(fit.epochs, fit.train_acc)
        self.val_line.set_data(fit.epochs, fit.val_acc)
        dropout = "no dropout" if p == 1 else f"dropout keep {p:g}"
        self.ax.set_title(f"{3 * n} training points, {dropout}, λ = 1e{exponent}", fontsize="medium")
        gap = fit.train_acc[-1] - fit.val_acc[-1]
        self.ax_curve.set_title(f"training {fit.train_acc[-1]:.0%}, held-out {fit.val_acc[-1]:.0%} "
                                f"(gap {gap:+.0%})", fontsize="medium")

    def warm(self) -> None:
        """Train every setting of the grid now (then each change only draws)."""
        for n, p, e in itertools.product(SIZES, KEEPS, DECAY_EXPONENTS):
            spiral_fit(n, p, e)


def regularization_explorer(**initial_values) -> RegularizationExplorer:
    """Controls: ``n_per_class`` (training points per spiral arm, 10 to 90 in steps of 20), ``keep``
    (dropout keep probability, 0.25 to 1 in steps of 0.25; 1 = no dropout), ``decay`` (L2 weight
    decay λ, 1e-5 to 0.1, one decade a step). Values between grid points snap to the nearest.
    Interactive size: the MLP 2-64-64-3 trained for 150 full-batch epochs (SGD with momentum) on at
    most 270 points, 300 held-out points, a 64 x 64 decision lattice. The first visit of a setting
    trains it (about 0.1 s); every later one, in this kernel or from the disk cache, only draws."""
    return RegularizationExplorer(**initial_values)
