"""Activation statistics, live: pick a depth, a width, an init scheme (times a free scale) and an
activation, and watch what happens to the activations layer by layer on the way forward and to
the gradients on the way back."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.ticker import MaxNLocator

from .. import init as I
from ..style import COLORS
from ._limits import decades, snap_up
from .base import Explorer, dropdown, int_slider, log_slider

N_SAMPLES = 64
MAX_DEPTH = 20
WIDTHS = (32, 64, 128, 256)
_STD_LIM = (1e-12, 1e6)
_GRAD_LIM = (1e-12, 1e8)


class ActivationStatsExplorer(Explorer):
    title = "Activation statistics through a deep fully connected net"

    def __init__(self, **initial_values):
        controls = {
            "depth": int_slider(10, 1, MAX_DEPTH, "depth (layers)"),
            "width": dropdown(128, WIDTHS, "width (units)"),
            # zeros last: it ignores the scale, so it should not be the first alternative offered
            "init": dropdown("xavier", ("small", "large", "lecun", "xavier", "he", "zeros"), "init"),
            "scale": log_slider(1.0, -1, 1, "× scale", step=0.05),
            "activation": dropdown("tanh", ("tanh", "relu", "sigmoid"), "activation"),
        }
        self._inputs: dict[int, np.ndarray] = {}
        self._weights: dict[int, list] = {}
        super().__init__(controls, initial_values, figsize=(11.0, 3.9))

    # -- cached random draws: one set per width, shared by every depth, init and scale ----------
    def _draws(self, width: int):
        if width not in self._weights:
            self._inputs[width] = np.random.default_rng(0).standard_normal((N_SAMPLES, width),
                                                                           dtype=np.float32)
            self._weights[width] = I.standard_weights(MAX_DEPTH, width, width, rng=1)
        return self._inputs[width], self._weights[width]

    def build(self, figure):
        self.ax_std, self.ax_heat, self.ax_grad = figure.subplots(1, 3)
        # wider gaps between the panels: the colour bar's label would run into the right panel's
        # y label and read as one label with it
        figure.get_layout_engine().set(wspace=0.06)
        (self.std_line,) = self.ax_std.semilogy([], [], color=COLORS[0], marker="o", markersize=4)
        (self.mean_line,) = self.ax_std.semilogy([], [], color=COLORS[1], linestyle="--", marker="s",
                                                 markersize=3)
        self.ax_std.set(xlabel="layer", ylabel="size of h (log)",
                        title="forward: std (●) and |mean| (■)")
        # The heat-map's x-range depends on the activation; its tick labels are dynamic texts, so
        # that switching the activation does not force a full redraw of the figure.
        self.heat = self.ax_heat.imshow(np.full((MAX_DEPTH, 40), np.nan), aspect="auto", origin="lower",
                                        extent=(0.0, 1.0, 0.5, MAX_DEPTH + 0.5), cmap="viridis",
                                        norm=PowerNorm(0.4, vmin=0.0, vmax=1.0), interpolation="none")
        self.ax_heat.set(ylabel="layer", title="distribution of h per layer", xticks=[])
        self.ax_heat.set_xlabel("value of h (clipped to the range)", labelpad=16)
        self.heat_ticks = [self.ax_heat.text(x, -0.015, "", transform=self.ax_heat.transAxes,
                                             ha=ha, va="top")
                           for x, ha in ((0.0, "left"), (0.5, "center"), (1.0, "right"))]
        self.ax_heat.grid(False)
        self.ax_heat.yaxis.set_major_locator(MaxNLocator(integer=True))
        cbar = self.figure.colorbar(self.heat, ax=self.ax_heat, pad=0.01)
        cbar.set_label("fraction in bin")
        (self.grad_line,) = self.ax_grad.semilogy([], [], color=COLORS[2], marker="^", markersize=4)
        self.ax_grad.set(xlabel="layer", ylabel="RMS of dL/dh (log)",
                         title="backward: gradient per layer")
        self.ax_grad.axhline(1.0, color=COLORS[7], linewidth=1, linestyle=":")
        for ax in (self.ax_std, self.ax_grad):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        self.dynamic(self.std_line, self.mean_line, self.heat, self.grad_line, *self.heat_ticks)
        self._limits = None

    def draw(self, depth, width, init, scale, activation):
        X, weights = self._draws(width)
        with np.errstate(over="ignore", invalid="ignore"):
            stats = I.activation_statistics(init, activation, X, weights[:depth], scale=scale, rng=0,
                                            hist_rows=N_SAMPLES)
        layers = np.arange(1, depth + 1)
        self.std_line.set_data(layers, np.clip(stats.stds, *_STD_LIM))    # beyond the bounds: drawn at them
        self.mean_line.set_data(layers, np.clip(np.abs(stats.means), *_STD_LIM))
        self.grad_line.set_data(layers, np.clip(stats.grad_rms, *_GRAD_LIM))
        image = np.full((MAX_DEPTH, stats.hist.shape[1]), np.nan)
        image[:depth] = stats.hist
        self.heat.set_data(image)
        lo, hi = stats.bin_edges[0], stats.bin_edges[-1]
        for text, value in zip(self.heat_ticks, (lo, (lo + hi) / 2, hi), strict=True):
            text.set_text(f"{value:g}")
        # The axes follow the net: its depth (to the next multiple of 5) and the decades its
        # statistics span (rounded out to multiples of 3). A change of limits re-renders the static
        # part (tick labels: about 100 ms), kept per limits, so a drag re-renders only now and then.
        sizes = np.abs(np.concatenate([stats.stds, stats.means]))
        limits = (snap_up(depth, 5), decades(sizes, _STD_LIM, 3), decades(stats.grad_rms, _GRAD_LIM, 3))
        if limits != self._limits:
            self._limits = limits
            self.ax_heat.set_ylim(0.5, limits[0] + 0.5)
            for ax, (lo, hi) in ((self.ax_std, limits[1]), (self.ax_grad, limits[2])):
                ax.set_xlim(0.5, limits[0] + 0.5)
                ax.set_ylim(10.0 ** lo / 2, 10.0 ** hi * 2)
            self.invalidate(key=limits)


def activation_stats_explorer(**initial_values) -> ActivationStatsExplorer:
    """Controls: ``depth`` (1..20 layers), ``width`` (32, 64, 128 or 256 units), ``init``
    (zeros, small, large, lecun, xavier, he), ``scale`` (0.1..10, multiplies the init's std)
    and ``activation`` (tanh, relu, sigmoid).

    Interactive problem size: 64 unit-Gaussian inputs with as many features as units, forward
    and backward through at most 20 square layers of at most 256 units (float32, random draws
    cached per width), which keeps one change within the 50 ms budget on 2 cores. The axes follow
    the depth (to the next multiple of 5) and the decades of the values (values
    beyond 1e-12 and 1e6, or 1e8 for the gradient, are drawn at those bounds). The notebook's
    experiment (1000 inputs, 500 units) gives the same picture, more slowly."""
    return ActivationStatsExplorer(**initial_values)
