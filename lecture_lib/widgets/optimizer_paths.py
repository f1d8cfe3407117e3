"""Optimizers racing on a 2-D loss landscape: their paths over the loss, and loss against step.

The loss is drawn as a banded image of log10(loss - min) (a cheap stand-in for filled contours,
recomputed on a fixed grid only when the landscape changes, and drawn into a cached layer over
the static axes); paths and curves are dynamic artists. Each optimizer's path is
kept and extended on demand, so moving one optimizer's knob (or the number of steps) recomputes
only the paths it changes.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from matplotlib.layout_engine import ConstrainedLayoutEngine

from .. import landscapes as L
from .. import optim
from ..style import COLORS, LINESTYLES, MARKERS, legend_beside
from ._limits import decades, snap_up
from .base import Explorer, checkbox, dropdown, float_slider, int_slider, log_slider

GRID = 121
MAX_STEPS = 300
RACERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
LABELS = {"sgd": "SGD", "momentum": "SGD+momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
          "rmsprop": "RMSProp", "adam": "Adam"}
RACER_COLORS = (3, 0, 2, 5, 4, 1)  # indices into the palette: vermillion, blue, green, ...
FLOOR, CEIL = 1e-10, 1e4


def racer_optimizer(name: str, lr: float, momentum: float, beta1: float, beta2: float):
    """The NumPy optimizer (lecture_lib.optim) of one racer of the explorer, by its name."""
    if name == "sgd":
        return optim.SGD(lr=lr)
    if name == "momentum":
        return optim.SGD(lr=lr, momentum=momentum)
    if name == "nesterov":
        return optim.SGD(lr=lr, momentum=max(momentum, 1e-6), nesterov=True)
    if name == "adagrad":
        return optim.Adagrad(lr=lr)
    if name == "rmsprop":
        return optim.RMSprop(lr=lr)
    if name == "adam":
        return optim.Adam(lr=lr, betas=(beta1, beta2))
    raise ValueError(f"name={name!r} is not an optimizer; expected one of {RACERS}")


# The hyper-parameters each optimizer reads: a change of any other one leaves its path as it was.
READS = {"sgd": ("lr",), "momentum": ("lr", "momentum"), "nesterov": ("lr", "momentum"),
         "adagrad": ("lr",), "rmsprop": ("lr",), "adam": ("lr", "beta1", "beta2")}
CACHED_RACES = 64


class Race:
    """The path of one optimizer from ``start``, computed as far as asked and extended when more
    steps are asked for; it stops (later steps are NaN) once it leaves a wide window."""

    def __init__(self, landscape, name, start, **hyper):
        self.landscape, self.opt = landscape, racer_optimizer(name, **hyper)
        self.p = np.array(start, dtype=float)
        self.points, self.stopped = [self.p.copy()], False

    def path(self, steps: int) -> np.ndarray:
        grad_xy, x, y = self.landscape.grad_xy, self.p[..., 0], self.p[..., 1]   # views of p
        with np.errstate(all="ignore"):
            while len(self.points) <= steps and not self.stopped:
                self.opt.step([self.p], [np.array(grad_xy(x, y), dtype=float)])
                x_, y_ = self.p.tolist()
                if not (math.isfinite(x_) and math.isfinite(y_)) or max(abs(x_), abs(y_)) > 1e3:
                    self.stopped = True
                else:
                    self.points.append(self.p.copy())
        path = np.full((steps + 1, 2), np.nan)
        known = min(len(self.points), steps + 1)
        path[:known] = self.points[:known]
        return path


def race(landscape, name, start, steps, **hyper) -> np.ndarray:
    """The path of one optimizer; stops (and pads with NaN) once it leaves a wide window."""
    return Race(landscape, name, start, **hyper).path(steps)


def banded_log_loss(landscape, n=GRID):
    X, Y, Z = landscape.grid(n)
    fmin = float(np.min(landscape.loss(landscape.minima)))
    fmin = min(fmin, float(Z.min()))
    return np.floor(2 * np.log10(np.maximum(Z - fmin, 1e-6))) / 2, fmin


BAND_LIMITS = (-5.0, 1.5)   # the shades of log10(loss - min) span this range


def banded_image(bands) -> np.ndarray:
    """The bands as 8-bit RGBA in the landscape's colour map: matplotlib draws such an image
    without normalising and colour-mapping it again at every redraw."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    return colormaps["Blues_r"](Normalize(*BAND_LIMITS)(bands), bytes=True)


class OptimizerPaths(Explorer):
    title = "Optimizers racing on a loss landscape"

    def __init__(self, **initial_values):
        controls = {
            "kappa": log_slider(20.0, 0, 3, "condition number κ (taco)"),
            "angle": float_slider(0.0, 0.0, 90.0, 5.0, "rotation ° (taco)", fmt=".0f"),
            "x0": float_slider(-0.8, -1.0, 1.0, 0.05, "start x (× window)"),
            "y0": float_slider(0.7, -1.0, 1.0, 0.05, "start y (× window)"),
            "momentum": float_slider(0.9, 0.0, 0.99, 0.01, "momentum ρ"),
            "beta1": float_slider(0.9, 0.0, 0.99, 0.01, "β1"),
            "beta2": float_slider(0.999, 0.5, 0.999, 0.001, "β2", fmt=".3f"),
            "steps": int_slider(100, 5, MAX_STEPS, "steps"),
            "lr": log_slider(0.1, -4, 0.5, "learning rate", fmt=".3g"),
        }
        defaults_on = {"sgd", "momentum", "adam"}
        for name in RACERS:
            controls["race_" + name] = checkbox(name in defaults_on, LABELS[name])
        # last, so that moving the taco-only controls first always shows (κ and angle shape
        # only the taco shell)
        controls["landscape"] = dropdown("taco", list(L.LANDSCAPES), "landscape")
        self._key = None
        self._races: OrderedDict = OrderedDict()   # (name, landscape, start, what it reads) -> Race
        super().__init__(controls, initial_values, figsize=(11.5, 4.4))

    def build(self, figure):
        self.ax, self.ax_loss = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        self.image = self.ax.imshow(np.zeros((GRID, GRID, 4), np.uint8), origin="lower", aspect="auto",
                                    interpolation="nearest")
        self.minima = self.ax.plot([], [], "*", color=COLORS[7], markersize=14, label="minimum")[0]
        self.lines, self.curves = {}, {}
        for i, name in enumerate(RACERS):
            style = {"color": COLORS[RACER_COLORS[i]], "linestyle": LINESTYLES[i % len(LINESTYLES)]}
            self.lines[name] = self.ax.plot([], [], marker=MARKERS[i], markersize=3, lw=1.6,
                                            label=LABELS[name], **style)[0]
            self.curves[name] = self.ax_loss.semilogy([], [], lw=1.8, label=LABELS[name],
                                                      **style)[0]
        self.start = self.ax.plot([], [], "o", color=COLORS[3], markersize=9, mfc="white",
                                  mew=2, label="start")[0]
        self.ax.set(xlabel="x (parameter 1)", ylabel="y (parameter 2)")
        self.ax_loss.set(xlabel="step", ylabel="loss − minimum (log scale)", title="loss against step")
        self.shape = self.ax.text(0.02, 0.97, "", transform=self.ax.transAxes, ha="left", va="top",
                                  bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8})
        # Three speeds: the window, title, minima and legend are static (they change with the
        # landscape and the racers listed); the loss image and the taco's κ and angle are a layer
        # over them; only the paths and the loss curves are drawn at every change.
        self.layered(self.image, self.shape)
        self.dynamic(*self.lines.values(), self.start, *self.curves.values())
        self.legend, self._legend_key = None, None   # beside the loss panel: inside, it covered the curves

    def draw(self, landscape, kappa, angle, x0, y0, lr, momentum, beta1, beta2, steps, **on):
        params = {"kappa": kappa, "angle": angle} if landscape == "taco" else {}
        key = (landscape, kappa, angle) if landscape == "taco" else (landscape,)
        if key != self._key:
            self._land = L.make(landscape, **params)
            land = self._land
            bands, self._fmin = banded_log_loss(land)
            self.image.set_data(banded_image(bands))
            self.image.set_extent(land.extent)
            self.ax.set_xlim(land.extent[:2])
            self.ax.set_ylim(land.extent[2:])
            self.minima.set_data(land.minima[:, 0], land.minima[:, 1])
            self.ax.set_title(f"{landscape}: paths over the shades of log₁₀(loss − min)", fontsize="medium")
            self.shape.set_text(f"κ = {kappa:.0f}, {angle:.0f}°" if landscape == "taco" else "")
            self.shape.set_visible(landscape == "taco")
            self._key = key
        land = self._land
        x_lo, x_hi, y_lo, y_hi = land.extent
        start = np.array([(x_lo + x_hi) / 2 + x0 * (x_hi - x_lo) / 2,
                          (y_lo + y_hi) / 2 + y0 * (y_hi - y_lo) / 2])
        self.start.set_data([start[0]], [start[1]])
        hyper = {"lr": lr, "momentum": momentum, "beta1": beta1, "beta2": beta2}
        losses = []
        for name in RACERS:
            if not on["race_" + name]:
                self.lines[name].set_data([], [])
                self.curves[name].set_data([], [])
                continue
            path = self._race(key, land, name, start, hyper).path(steps)
            self.lines[name].set_data(path[:, 0], path[:, 1])
            loss = np.clip(land.loss(path) - self._fmin, FLOOR, CEIL)
            self.curves[name].set_data(np.arange(len(path)), loss)
            losses.append(loss[np.isfinite(loss)])
        racing = tuple(name for name in RACERS if on["race_" + name])
        if racing != self._legend_key:  # the legend lists the racers only; static between changes
            if self.legend is not None:
                self.legend.remove()
            self.legend = legend_beside(self.ax_loss, handles=self._handles(racing))
            self._legend_key = racing
        # The loss axes follow the race: the steps asked for (to the next multiple of 100) and the
        # decades the curves span (rounded out to multiples of 2); the static part is kept per state.
        lo, hi = decades(np.concatenate(losses) if losses else [1.0], (FLOOR, CEIL), 2)
        limits = (snap_up(steps, 100), lo, hi)
        self.ax_loss.set_xlim(0, limits[0])
        self.ax_loss.set_ylim(10.0 ** lo / 2, 10.0 ** hi * 2)
        if isinstance(self.figure.get_layout_engine(), ConstrainedLayoutEngine):
            self._lay_out_once(racing)
        self.invalidate(key=(landscape, racing, limits), layer=key)

    def _handles(self, racing):
        return [self.lines[name] for name in racing] + [self.start, self.minima]

    def _lay_out_once(self, racing):
        """At the first drawing (the axes set, the layout not yet frozen by the base class): lay the
        figure out around the legend of all racers (the longest and widest) and keep that layout, so
        that the legend of the racers shown (``racing``), drawn again when they change, always
        fits in the room made for it."""
        self.legend.remove()
        self.legend = legend_beside(self.ax_loss, handles=self._handles(RACERS))
        self.figure.get_layout_engine().execute(self.figure)
        self.figure.set_layout_engine("none")
        self.legend.remove()
        self.legend = legend_beside(self.ax_loss, handles=self._handles(racing))

    def _race(self, key, land, name, start, hyper) -> Race:
        """The race of ``name`` from ``start``, kept under the hyper-parameters it reads: moving
        another optimizer's knob, or the number of steps, computes nothing again."""
        race_key = (name, key, tuple(start), tuple(hyper[k] for k in READS[name]))
        if race_key not in self._races:
            self._races[race_key] = Race(land, name, start, **hyper)
            while len(self._races) > CACHED_RACES:
                self._races.popitem(last=False)
        self._races.move_to_end(race_key)
        return self._races[race_key]


def optimizer_paths_explorer(**initial_values) -> OptimizerPaths:
    """Controls: ``landscape`` (taco, saddle, rosenbrock, sharp_wide), ``kappa`` (1..1000) and
    ``angle`` (0..90°) of the taco shell, the start ``x0``, ``y0`` (fractions of the window),
    ``lr`` (1e-4..3), ``momentum`` (0..0.99), ``beta1``, ``beta2``, ``steps`` (5..300), and one
    checkbox per optimizer (``race_sgd``, ``race_momentum``, ``race_nesterov``, ``race_adagrad``,
    ``race_rmsprop``, ``race_adam``).
    Interactive size: a 121 x 121 loss image (recomputed only when the landscape changes) and at
    most 6 paths of 300 steps; 3 paths of 100 steps by default. The loss panel's axes follow the
    steps (to the next multiple of 100) and the decades of the curves (multiples of 2; losses beyond
    1e-10 and 1e4 are drawn at those bounds)."""
    return OptimizerPaths(**initial_values)
