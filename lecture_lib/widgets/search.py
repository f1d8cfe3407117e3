"""Grid against random search, live: the trials of either over the objective's map, and the regret
(the best possible score minus the best found) against the number of trials for both (random
search: this draw, and the median and quartiles over 200 draws).

The objectives are :class:`lecture_lib.search.PeakObjective` with the first, the second or both
hyperparameters mattering, and the MLP on the digits (learning rate and weight decay), read from a
sweep of real runs (:func:`lecture_lib.experiments.practice.measure_digits_sweep`, cached on disk).
Everything a control needs is precomputed per objective; what depends on the objective only (the
map, the grid's and the median's curves) is a layer over the static axes, drawn again when the
objective changes, and the trials, this draw's curve and the titles are the dynamic artists.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import PowerNorm
from matplotlib.patches import Polygon

from .. import search as S
from ..style import COLORS, MARKERS
from ._limits import decades
from .base import Explorer, dropdown, int_slider

MAX_TRIALS = 50
DRAWS = 20          # the random draws a student can step through
REPEATS = 200       # draws behind the median and quartiles
IMAGE = 120         # the objective's map, IMAGE x IMAGE
FLOOR = 1e-4        # regrets below this are drawn at it (a grid can hit a sweep's best run exactly)
CENTRE = (0.62, 0.35)
OBJECTIVES = {
    "the first matters": (1.0, 0.1),
    "the second matters": (0.1, 1.0),
    "both matter": (1.0, 1.0),
    "digits: lr and weight decay": None,
}


class Problem:
    """One objective with everything the explorer draws from it, computed once."""

    def __init__(self, name: str):
        weights = OBJECTIVES[name]
        if weights is None:
            from ..experiments.practice import SEARCH_SPACE, measure_digits_sweep

            self.f = measure_digits_sweep(np.random.default_rng(0)).surrogate()
            lr, reg = SEARCH_SPACE.dimensions
            self.meaning = (f"1: learning rate, {lr.low:g} to {lr.high:g} (log)\n"
                            f"2: weight decay, {reg.low:g} to {reg.high:g} (log)")
        else:
            self.f = S.PeakObjective(centre=CENTRE, weights=weights)
            self.meaning = ""
        t = (np.arange(IMAGE) + 0.5) / IMAGE
        self.image = self.f(np.stack(np.meshgrid(t, t, indexing="xy"), -1).reshape(-1, 2)).reshape(IMAGE, IMAGE)
        self.top = float(self.image.max())
        shade = PowerNorm(3.0, vmin=float(self.image.min()), vmax=self.top)  # shades the top finely
        self.rgba = colormaps["Blues"](shade(self.image), bytes=True)           # coloured once, drawn as is
        n = np.arange(1, MAX_TRIALS + 1)
        self.grid_best = np.array([self.f(S.grid_points(S.UNIT_SQUARE, int(k))).max() for k in n])
        points = np.random.default_rng(12345).random((REPEATS, MAX_TRIALS, 2))
        running = np.maximum.accumulate(self.f(points.reshape(-1, 2)).reshape(REPEATS, MAX_TRIALS), axis=1)
        self.grid_regret = self.regret(self.grid_best)
        self.random_q = self.regret(np.percentile(running, [75, 50, 25], axis=0))

    def regret(self, best):
        return np.clip(self.top - np.asarray(best, float), FLOOR, 1.0)


class SearchExplorer(Explorer):
    title = "Grid against random search: which values of the important hyperparameter get tried?"

    def __init__(self, **initial_values):
        controls = {
            "trials": int_slider(9, 1, MAX_TRIALS, "trials"),
            "method": W.ToggleButtons(options=["grid", "random"], value="random", description="search",
                                      style={"description_width": "initial", "button_width": "70px"}),
            "objective": dropdown("the first matters", list(OBJECTIVES), "objective"),
            "draw": int_slider(0, 0, DRAWS - 1, "random draw"),
        }
        self._problems = {name: Problem(name) for name in OBJECTIVES}  # every change then only redraws
        self._draws = {d: np.random.default_rng(1000 + d).random((MAX_TRIALS, 2)) for d in range(DRAWS)}
        super().__init__(controls, initial_values, figsize=(11.0, 4.8))

    def build(self, figure):
        self.ax_map, self.ax_best = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
        ax = self.ax_map
        self.map = ax.imshow(np.zeros((IMAGE, IMAGE, 4), np.uint8), origin="lower", extent=(0, 1, 0, 1),
                             aspect="auto", interpolation="nearest")
        # the axes read in unit coordinates for every objective; what they mean for the digits is a
        # dynamic text, so that changing the objective needs no full redraw
        ax.set(xlabel="hyperparameter 1 (unit range)", ylabel="hyperparameter 2 (unit range)")
        self.meaning = ax.text(0.02, 0.98, "", transform=ax.transAxes, ha="left", va="top",
                               bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
        self.points = ax.plot([], [], linestyle="none", marker=MARKERS[0], markersize=7, color=COLORS[1],
                              markeredgecolor="black", label="trial")[0]
        self.best_ring = ax.plot([], [], linestyle="none", marker="o", markersize=17, markerfacecolor="none",
                                 markeredgecolor=COLORS[3], markeredgewidth=2.2, label="best trial")[0]
        self.map_legend = ax.legend(loc="lower left", framealpha=0.95)
        n = np.arange(1, MAX_TRIALS + 1)
        self.band = self.ax_best.add_patch(Polygon(np.zeros((2, 2)), closed=True, facecolor=COLORS[1], alpha=0.2,
                                                   edgecolor="none"))
        self.grid_line = self.ax_best.plot(n, np.ones(MAX_TRIALS), color=COLORS[0], marker=MARKERS[1], markersize=3,
                                           label="grid of at most n trials")[0]
        self.median_line = self.ax_best.plot(n, np.ones(MAX_TRIALS), color=COLORS[1], linestyle="--",
                                             label=f"random: median of {REPEATS} draws (band: quartiles)")[0]
        self.draw_line = self.ax_best.plot([], [], color=COLORS[3], linestyle="-.", linewidth=2.2,
                                           label="random: this draw")[0]
        self.now = self.ax_best.axvline(1, color="gray", linestyle=":", linewidth=1.5)
        self._limits = None
        self.ax_best.set(xlim=(1, MAX_TRIALS), yscale="log", xlabel="number of trials n",
                         ylabel="regret: best possible − best found\n(score or accuracy, log scale)")
        self.ax_best.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
        # What depends on the objective only (the map, what its axes mean, the grid's and the
        # median's curves) is a layer, drawn again when the objective changes; the trials and
        # the titles are drawn at every change.
        self.layered(self.map, self.meaning, self.map_legend, self.band, self.grid_line, self.median_line)
        self.dynamic(self.points, self.best_ring, self.draw_line, self.now, ax.title, self.ax_best.title)

    def draw(self, trials, method, objective, draw):
        p = self._problems[objective]
        self.invalidate(key="axes", layer=objective)
        self.map.set_data(p.rgba)
        self.meaning.set_text(p.meaning)
        self.meaning.set_visible(bool(p.meaning))
        n = np.arange(1, MAX_TRIALS + 1)
        self.band.set_xy(np.r_[np.c_[n, p.random_q[0]], np.c_[n[::-1], p.random_q[2][::-1]]])
        self.grid_line.set_ydata(p.grid_regret)
        self.median_line.set_ydata(p.random_q[1])
        random = self._draws[draw]
        points = S.grid_points(S.UNIT_SQUARE, trials) if method == "grid" else random[:trials]
        best = points[int(np.argmax(p.f(points)))]
        self.points.set_data(points[:, 0], points[:, 1])
        self.best_ring.set_data([best[0]], [best[1]])
        running = S.best_so_far(p.f(random))
        self.draw_line.set_data(n, p.regret(running))
        self.now.set_xdata([trials, trials])
        d1, d2 = (S.distinct_values(points[:, i]) for i in range(2))
        self.ax_map.set_title(f"{method}: {d1} × {d2} distinct values")
        # The regret axis spans the decades of this objective's curves (kept per limits).
        limits = decades(np.concatenate([p.grid_regret, np.ravel(p.random_q), p.regret(running)]), (FLOOR, 10.0))
        if limits != self._limits:
            self._limits = limits
            self.ax_best.set_ylim(10.0 ** limits[0] / 1.5, 10.0 ** limits[1] * 1.5)
            self.invalidate(key=limits)
        self.ax_best.set_title(f"best of {trials}: grid {p.grid_best[trials - 1]:.3f}, "
                               f"random {running[trials - 1]:.3f} (top {p.top:.3f})")


def search_explorer(**initial_values) -> SearchExplorer:
    """Controls: ``trials`` (1..50), ``method`` (grid or random: whose trials the map shows),
    ``objective`` (the first, the second or both hyperparameters matter, or the MLP on the digits)
    and ``draw`` (which of 20 random searches).

    Interactive problem size: a 120 x 120 map of the objective and 50 grids per objective, with
    200 random searches of 50 trials behind the median, all computed when the explorer is made (the
    digits' sweep of 27 real runs is read from the disk cache, or run once, about a second); a
    change then evaluates at most 100 points and redraws the dynamic artists only; the regret axis
    spans the decades of the objective's curves (regrets below 1e-4 are drawn at 1e-4)."""
    return SearchExplorer(**initial_values)
