"""Normalization, live: a deep MLP on a batch of digits at initialization, with no normalization,
batch norm or layer norm, in train or test mode; see each layer's activations (a layer x bin
heat-map), their std, and the gradient that reaches each layer's weights."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.ticker import MaxNLocator

from .. import nets
from ..config import single_thread
from ..data import digits
from ..style import COLORS
from ._limits import LogTicks, decades, snap_up
from .base import Explorer, dropdown, int_slider, log_slider

WIDTH = 64
MAX_DEPTH = 20
BATCH_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
CALIBRATION_BATCHES = 2   # test mode: running statistics from this many training batches first
N_BINS = 40
RANGES = {"relu": (0.0, 3.0), "tanh": (-1.0, 1.0)}
INITS = {"relu": "he", "tanh": "xavier"}
_STD_LIM = (1e-6, 1e4)
_GRAD_LIM = (1e-8, 1e6)


class NormalizationExplorer(Explorer):
    title = "Normalization inside a deep net: activations and gradients at initialization"

    def __init__(self, **initial_values):
        controls = {
            "depth": int_slider(10, 1, MAX_DEPTH, "depth (layers)"),
            "scale": log_slider(1.0, -2, 1, "× init std", step=0.05),
            "batch_size": dropdown(64, BATCH_SIZES, "batch size"),
            "norm": dropdown("none", ("none", "batchnorm", "layernorm"), "normalization"),
            "mode": dropdown("train", ("train", "test"), "mode"),
            "activation": dropdown("relu", ("relu", "tanh"), "activation"),
        }
        splits = digits(seed=0).standardized()
        order = np.random.default_rng(0).permutation(len(splits.X_train))
        self._X = splits.X_train[order]    # float32, as the network
        self._y = splits.y_train[order]
        super().__init__(controls, initial_values, figsize=(12.0, 4.0))

    def build(self, figure):
        self.ax_heat, self.ax_std, self.ax_grad = figure.subplots(1, 3, width_ratios=(1.3, 1, 1))
        self.heat = self.ax_heat.imshow(np.full((MAX_DEPTH, N_BINS), np.nan), aspect="auto", origin="lower",
                                        extent=(0.0, 1.0, 0.5, MAX_DEPTH + 0.5), cmap="viridis",
                                        norm=PowerNorm(0.4, vmin=0.0, vmax=1.0), interpolation="none")
        self.ax_heat.set(ylabel="layer", title="activations per layer", xticks=[])
        self.ax_heat.set_xlabel("activation value (edge bins: beyond the range)", labelpad=16)
        self.heat_ticks = [self.ax_heat.text(x, -0.015, "", transform=self.ax_heat.transAxes, ha=ha, va="top")
                           for x, ha in ((0.0, "left"), (0.5, "center"), (1.0, "right"))]
        self.ax_heat.grid(False)
        self.ax_heat.yaxis.set_major_locator(MaxNLocator(integer=True))
        self.figure.colorbar(self.heat, ax=self.ax_heat, pad=0.01).set_label("fraction in bin")
        figure.get_layout_engine().set(wspace=0.06)   # the colorbar's label clear of the next panel's y label
        (self.std_line,) = self.ax_std.plot([], [], color=COLORS[0], marker="o", markersize=4)
        self.ax_std.set(xlabel="layer", ylabel="std of the activations (log)", title="forward: size per layer")
        (self.grad_line,) = self.ax_grad.plot([], [], color=COLORS[2], marker="^", markersize=4)
        self.ax_grad.set(xlabel="layer", ylabel="‖dL/dW‖ (log)", title="backward: gradient per layer")
        # The log axes follow the data at every change: their ticks and grid are drawn with the
        # curves (LogTicks), so only a change of depth re-renders the static part.
        self.log_ticks = {}
        for ax in (self.ax_std, self.ax_grad):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.grid(False)
            ax.yaxis.set_label_coords(-0.2, 0.5)   # room for the tick labels drawn beside the axis
            self.log_ticks[ax] = LogTicks(ax)
            self.dynamic(*self.log_ticks[ax].artists)
        self._depth_limit = None
        self.one = self.dynamic(self.ax_grad.axhline(1.0, color=COLORS[7], linewidth=1, linestyle=":"))
        self.status = self.ax_grad.text(0.02, 0.02, "", transform=self.ax_grad.transAxes)
        self.layered(*self.heat_ticks)       # they change with the activation only
        self.dynamic(self.heat, self.std_line, self.grad_line, self.status)

    def statistics(self, depth, scale, batch_size, norm, mode, activation):
        """Per-layer histograms (depth, N_BINS), stds (depth,), weight-gradient norms (depth,), loss."""
        norm = None if norm == "none" else norm
        net = nets.MLP([self._X.shape[1], *[WIDTH] * depth, 10], activation=activation, init=INITS[activation],
                       scale=scale, norm=norm, rng=np.random.default_rng(1), dtype=np.float32)
        X, y = self._X[:batch_size], self._y[:batch_size]
        if mode == "test" and norm == "batchnorm":
            pool = self._X[batch_size:batch_size * (CALIBRATION_BATCHES + 1)]
            net.recalibrate(pool, batch_size=batch_size, rng=np.random.default_rng(2))
        with np.errstate(all="ignore"):
            loss, _, trace = net.loss(X, y, mode=mode, trace=True)
        lo, hi = RANGES[activation]
        hist = np.array([np.bincount(np.clip(((h.ravel() - lo) / (hi - lo) * N_BINS).astype(int), 0, N_BINS - 1),
                                     minlength=N_BINS) / h.size for h in trace.out])
        stds = np.array([h.std() for h in trace.out])
        grads = np.array([np.linalg.norm(g) for g in trace.grad_W[:depth]])
        return hist, stds, grads, loss

    def draw(self, depth, scale, batch_size, norm, mode, activation):
        with single_thread():
            hist, stds, grads, loss = self.statistics(depth, scale, batch_size, norm, mode, activation)
        layers = np.arange(1, depth + 1)
        image = np.full((MAX_DEPTH, N_BINS), np.nan)
        image[:depth] = hist
        self.heat.set_data(self.heat.to_rgba(image, bytes=True))   # coloured here: drawn as is
        self.std_line.set_data(layers, np.clip(np.nan_to_num(stds, nan=_STD_LIM[1]), *_STD_LIM))
        self.grad_line.set_data(layers, np.clip(np.nan_to_num(grads, nan=_GRAD_LIM[1]), *_GRAD_LIM))
        lo, hi = RANGES[activation]
        for text, value in zip(self.heat_ticks, (lo, (lo + hi) / 2, hi), strict=True):
            text.set_text(f"{value:g}")
        self.status.set_text(f"{norm}, {mode} mode, B = {batch_size}: loss {loss:.3g}")
        # The axes follow the net: its depth (to the next multiple of 5: a new static part, kept
        # per depth) and the decades its statistics span (rounded out to multiples of 3: drawn
        # with the curves, at no extra cost).
        depth_limit = snap_up(depth, 5)
        if depth_limit != self._depth_limit:
            self._depth_limit = depth_limit
            self.ax_heat.set_ylim(0.5, depth_limit + 0.5)
            for ax in (self.ax_std, self.ax_grad):
                ax.set_xlim(0.5, depth_limit + 0.5)
        self.invalidate(key=depth_limit, layer=activation)   # the static part kept per depth limit
        self.log_ticks[self.ax_std].set(*decades(np.nan_to_num(stds, nan=_STD_LIM[1]), _STD_LIM, 3))
        self.log_ticks[self.ax_grad].set(*decades(np.nan_to_num(grads, nan=_GRAD_LIM[1]), _GRAD_LIM, 3))

def normalization_explorer(**initial_values) -> NormalizationExplorer:
    """Controls: ``depth`` (1..20 hidden layers of 64 units), ``scale`` (0.01..10, multiplies the
    init's std: He's for ReLU, Xavier's for tanh), ``batch_size`` (2..256 digits), ``norm`` (none,
    batchnorm, layernorm), ``mode`` (train: batch statistics; test: running statistics, first
    recalibrated on 2 other training batches of the same size) and ``activation`` (relu, tanh).

    Interactive problem size: one forward and backward pass of at most 20 layers of 64 units on at
    most 256 of the digits (plus 2 calibration passes in test mode), float32, the network drawn
    afresh from a fixed seed, which keeps one change within the 50 ms budget on 2 cores. The axes
    follow the depth (to the next multiple of 5) and the decades of the values (in steps of 3; values beyond the
    plotting bounds, or NaN from a diverged pass, are drawn at the bounds). The
    notebook's experiments train these networks; here they stay at initialization."""
    return NormalizationExplorer(**initial_values)
