"""Figures of 09_training_practice: hyperparameter search, cross-validation, ensembles."""

from __future__ import annotations

import numpy as np

from ..figures import figure
from ..style import COLORS, MARKERS, new_figure


@figure("random-search", notebook="09_training_practice")
def plot_grid_vs_random_search(seed: int = 0):
    """Nine trials on a function of two hyperparameters, only one of which matters (Bergstra and
    Bengio, 2012): a 3x3 grid tries 3 values of the important one, random search tries 9."""
    rng = np.random.default_rng(seed)

    def important(x):
        return np.exp(-((x - 0.62) ** 2) / 0.01)

    def unimportant(y):
        return 0.15 * np.sin(2 * np.pi * y)

    grid = np.array([(x, y) for x in (1 / 6, 1 / 2, 5 / 6) for y in (1 / 6, 1 / 2, 5 / 6)])
    rand = rng.uniform(0, 1, size=(9, 2))
    fig = new_figure(10, 4.6)
    axes = fig.subplots(1, 2, sharey=True)
    t = np.linspace(0, 1, 300)
    for ax, points, title in ((axes[0], grid, "grid search"), (axes[1], rand, "random search")):
        ax.scatter(points[:, 0], points[:, 1], s=60, color=COLORS[0], marker=MARKERS[0], zorder=3,
                   label="trial")
        ax.plot(t, 0.05 + 0.2 * important(t), color=COLORS[1], label="effect of the important one")
        ax.plot(0.05 + 0.2 * (0.5 + unimportant(t)), t, color=COLORS[2], linestyle="--",
                label="effect of the unimportant one")
        best = points[np.argmax(important(points[:, 0]) + unimportant(points[:, 1]))]
        ax.scatter(*best, s=220, facecolors="none", edgecolors=COLORS[3], linewidths=2, zorder=4,
                   label="best trial")
        distinct = len(np.unique(np.round(points[:, 0], 6)))
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="important hyperparameter (scaled to [0, 1])",
               title=f"{title}: {distinct} distinct values of the important one")
    axes[0].set_ylabel("unimportant hyperparameter (scaled)")
    axes[1].legend(loc="center right", fontsize=9, framealpha=0.95)
    fig.suptitle("Same budget of 9 trials: random search explores the important axis 3x more finely")
    return fig
