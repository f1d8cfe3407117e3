"""Optimizers racing on a 2-D loss landscape: their paths over the loss, and loss against step.

The loss is drawn as a banded image of log10(loss - min) (a cheap stand-in for filled contours,
recomputed on a fixed grid only when the landscape changes); paths and curves are dynamic artists.
"""

from __future__ import annotations

import numpy as np

from .. import landscapes as L
from .. import optim
from ..style import COLORS, LINESTYLES, MARKERS
from ._limits import decades, snap_up
from .base import Explorer, checkbox, dropdown, float_slider, int_slider, log_slider

GRID = 121
MAX_STEPS = 300
RACERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
LABELS = {"sgd": "SGD", "momentum": "SGD+momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
          "rmsprop": "RMSProp", "adam": "Adam"}
RACER_COLORS = (3, 0, 2, 5, 4, 1)  # indices into the palette: vermillion, blue, green, ...
FLOOR, CEIL = 1e-10, 1e4


def make_optimizer(name: str, lr: float, momentum: float, beta1: float, beta2: float):
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


def race(landscape, name, start, steps, **hyper) -> np.ndarray:
    """The path of one optimizer; stops (and pads with NaN) once it leaves a wide window."""
    opt = make_optimizer(name, **hyper)
    p = np.array(start, dtype=float)
    path = np.full((steps + 1, 2), np.nan)
    path[0] = p
    with np.errstate(all="ignore"):
        for t in range(steps):
            opt.step([p], [landscape.exact_grad(p)])
            if not np.all(np.isfinite(p)) or np.max(np.abs(p)) > 1e3:
                break
            path[t + 1] = p
    return path


def banded_log_loss(landscape, n=GRID):
    X, Y, Z = landscape.grid(n)
    fmin = float(np.min(landscape.loss(landscape.minima)))
    fmin = min(fmin, float(Z.min()))
    return np.floor(2 * np.log10(np.maximum(Z - fmin, 1e-6))) / 2, fmin


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
        super().__init__(controls, initial_values, figsize=(10.0, 4.4))

    def build(self, figure):
        self.ax, self.ax_loss = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        self.image = self.ax.imshow(np.zeros((GRID, GRID)), origin="lower", cmap="Blues_r",
                                    aspect="auto", interpolation="nearest", vmin=-5, vmax=1.5)
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
        self._limits = None
        self.dynamic(self.image, self.minima, *self.lines.values(), self.start,
                     *self.curves.values(), self.ax.title)
        self.legend, self._legend_key = None, None

    def draw(self, landscape, kappa, angle, x0, y0, lr, momentum, beta1, beta2, steps, **on):
        params = {"kappa": kappa, "angle": angle} if landscape == "taco" else {}
        land = L.make(landscape, **params)
        key = (landscape, kappa, angle)
        if key != self._key:
            self._bands, self._fmin = banded_log_loss(land)
            self.image.set_data(self._bands)
            if self._key is None or self._key[0] != landscape:
                self.image.set_extent(land.extent)
                self.ax.set_xlim(land.extent[:2])
                self.ax.set_ylim(land.extent[2:])
                self._limits = None  # a new window: render the static part again (below)
            self._key = key
            self.minima.set_data(land.minima[:, 0], land.minima[:, 1])
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
            path = race(land, name, start, steps, **hyper)
            self.lines[name].set_data(path[:, 0], path[:, 1])
            loss = np.clip(land.loss(path) - self._fmin, FLOOR, CEIL)
            self.curves[name].set_data(np.arange(len(path)), loss)
            losses.append(loss[np.isfinite(loss)])
        racing = tuple(name for name in RACERS if on["race_" + name])
        if racing != self._legend_key:  # the legend lists the racers only; static between changes
            if self.legend is not None:
                self.legend.remove()
            handles = [self.lines[name] for name in racing] + [self.start, self.minima]
            self.legend = self.ax_loss.legend(handles=handles, loc="upper right", fontsize=9,
                                              framealpha=0.9)
            self._legend_key = racing
            self._limits = None
        # The loss axes follow the race: the steps asked for (to the next multiple of 100) and the
        # decades the curves span (rounded out to multiples of 2). The static part (window, legend,
        # limits) is rendered again only when one of them changes, and kept per state.
        lo, hi = decades(np.concatenate(losses) if losses else [1.0], (FLOOR, CEIL), 2)
        limits = (snap_up(steps, 100), lo, hi)
        if limits != self._limits:
            self._limits = limits
            self.ax_loss.set_xlim(0, limits[0])
            self.ax_loss.set_ylim(10.0 ** lo / 2, 10.0 ** hi * 2)
            self.invalidate(key=(landscape, racing, limits))
        kappa_txt = f", κ = {kappa:.0f}, {angle:.0f}°" if landscape == "taco" else ""
        self.ax.set_title(f"{landscape}{kappa_txt}; after {steps} steps", fontsize=11)


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
