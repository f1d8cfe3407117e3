"""Saturation explorer: push pre-activations through a stack of layers and see where they land on
the activation's curve, how much gradient each unit passes back, and which units saturate or die."""

from __future__ import annotations

import numpy as np

from .. import activations as A
from ..config import single_thread
from ..style import COLORS
from ._limits import snap_up
from .base import Explorer, dropdown, float_slider, int_slider, log_slider

N_EXAMPLES, WIDTH, MAX_DEPTH = 256, 64, 10
_ZLIM = 6.0
_ZBINS = np.linspace(-_ZLIM, _ZLIM, 49)
_GBINS = np.linspace(0.0, 1.05, 22)
_LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU (0.01)",
           "prelu": "PReLU (α = 0.25)", "elu": "ELU (α = 1)"}
SATURATION_TOL = 0.05  # a local gradient below 5 % of its maximum counts as saturated


def stack_statistics(activation: str, weight_scale: float, input_scale: float, bias: float, depth: int,
                     X0=None, Ws=None):
    """Forward a fixed batch through ``depth`` layers: z_l = h_(l-1) (weight_scale W_l) + bias,
    h_l = f(z_l), with W_l ~ N(0, 1/fan_in) and inputs input_scale * N(0, 1).
    Returns the last layer's pre-activations and local gradients, and per layer the saturated
    share of (example, unit) pairs and the share of dead units (zero gradient on every example)."""
    A.check_name(activation, A.ELEMENTWISE)
    for name, value in (("weight_scale", weight_scale), ("input_scale", input_scale)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name}={value!r} is not valid; expected a non-negative number")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth={depth!r} is not valid; expected an integer in [1, {MAX_DEPTH}]")
    if X0 is None or Ws is None:
        X0, Ws = fixed_batch()
    f, fgrad = A.get(activation)
    h = input_scale * X0
    sat, dead = np.zeros(depth), np.zeros(depth)
    with single_thread():  # small products: extra BLAS threads only wait
        for layer in range(depth):
            z = h @ (weight_scale * Ws[layer]) + bias
            g = fgrad(z)
            sat[layer] = np.mean(g < SATURATION_TOL * A.MAX_GRAD[activation])
            dead[layer] = np.mean(np.all(g == 0, axis=0))
            h = f(z)
    return z, g, sat, dead


def fixed_batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    X0 = rng.standard_normal((N_EXAMPLES, WIDTH))
    Ws = rng.standard_normal((MAX_DEPTH, WIDTH, WIDTH)) / np.sqrt(WIDTH)
    return X0, Ws


class Saturation(Explorer):
    title = "Saturation: where do the pre-activations fall on the curve?"

    def __init__(self, **initial_values):
        controls = {
            "activation": dropdown("tanh", A.ELEMENTWISE, "activation"),
            "weight_scale": log_slider(1.0, -1, 1, "weight scale (× LeCun)"),
            "input_scale": log_slider(1.0, -1, 1, "input scale"),
            "bias": float_slider(0.0, -3.0, 3.0, 0.1, "bias"),
            "depth": int_slider(3, 1, MAX_DEPTH, "layer (depth)"),
        }
        self.X0, self.Ws = fixed_batch()
        self.grid = np.linspace(-_ZLIM, _ZLIM, 241)
        super().__init__(controls, initial_values, figsize=(12.0, 4.0))

    def build(self, figure):
        ax_z, ax_g, ax_l = figure.subplots(1, 3)
        self.ax_z, self.ax_g, self.ax_l = ax_z, ax_g, ax_l
        (self.curve,) = ax_z.plot([], [], color=COLORS[0], label="f(z)")
        (self.slope,) = ax_z.plot([], [], color=COLORS[2], linestyle="--", label="f′(z)")
        self.zhist = ax_z.stairs(np.zeros(len(_ZBINS) - 1), _ZBINS, baseline=-1.5, fill=True,
                                 color=COLORS[1], alpha=0.5, label="pre-activations (histogram)")
        ax_z.set(xlim=(-_ZLIM, _ZLIM), ylim=(-1.5, 3.0), xlabel="pre-activation z",
                 ylabel="f(z), f′(z) (unitless)")
        ax_z.legend(loc="upper left")
        self.ghist = ax_g.stairs(np.zeros(len(_GBINS) - 1), _GBINS, fill=True, color=COLORS[3], alpha=0.7)
        ax_g.set(xlim=(0, 1.05), xlabel="local gradient f′(z)",
                 ylabel="share of (example, unit) pairs")
        layers = np.arange(1, MAX_DEPTH + 1)
        (self.sat_line,) = ax_l.plot(layers, np.zeros(MAX_DEPTH), color=COLORS[3], marker="o",
                                     label=f"saturated (f′ < {SATURATION_TOL:.0%} of max)")
        (self.dead_line,) = ax_l.plot(layers, np.zeros(MAX_DEPTH), color=COLORS[7],
                                      linestyle=":", marker="s", label="dead units (f′ = 0 always)")
        # headroom above 1 so the legend never hides points at a share of 100 %; the line marking
        # the chosen layer spans the shares only (0 to 100 %), so it stays below the legend
        lo, hi, margin = -0.03, 1.45, 0.03
        self.here = ax_l.axvline(1, ymax=(1.0 + margin - lo) / (hi - lo), color="0.5", linewidth=1)
        ax_l.set(ylim=(lo, hi), xlabel="layer",
                 ylabel="share of units or pairs", xticks=layers, yticks=np.linspace(0, 1, 6))
        ax_l.legend(loc="upper left")
        ax_z.set_title("pre-activations of the chosen layer", fontsize="medium")
        ax_g.set_title("how much gradient each unit passes", fontsize="medium")
        self.dynamic(self.curve, self.slope, self.zhist, self.ghist, self.sat_line, self.dead_line,
                     self.here, ax_l.title)
        self._limits = None

    def draw(self, activation, weight_scale, input_scale, bias, depth):
        f, fgrad = A.get(activation)
        z, g, sat, dead = stack_statistics(activation, weight_scale, input_scale, bias, depth, self.X0, self.Ws)
        self.curve.set_data(self.grid, np.clip(f(self.grid), -1.5, 3.0))
        self.slope.set_data(self.grid, fgrad(self.grid))
        counts, _ = np.histogram(np.clip(z, -_ZLIM, _ZLIM), _ZBINS)
        self.zhist.set_data(-1.5 + 2.0 * counts / max(counts.max(), 1))
        gcounts, _ = np.histogram(np.clip(g, 0, 1.05), _GBINS)
        self.ghist.set_data(gcounts / g.size)
        self.sat_line.set_data(np.arange(1, depth + 1), sat)
        self.dead_line.set_data(np.arange(1, depth + 1), dead)
        self.here.set_xdata([depth, depth])
        # The axes follow the data: layers up to the chosen one (to the next multiple of 5), and the
        # histogram's height to the next of 1/4, 1/2 or 1; each static rendering is kept per limits.
        top = next(t for t in (0.25, 0.5, 1.0) if t >= gcounts.max() / g.size)
        limits = (snap_up(depth, 5), top)
        if limits != self._limits:
            self._limits = limits
            self.ax_l.set_xlim(0.5, limits[0] + 0.5)
            self.ax_g.set_ylim(0, top * 1.04)
            self.invalidate(key=limits)
        self.ax_l.set_title(f"{_LABELS[activation]}, layer {depth}: z std {z.std():.2g}, "
                            f"mean f′ {np.mean(g):.2g}\n{sat[-1]:.0%} saturated, {dead[-1]:.0%} dead",
                            fontsize="medium")


def saturation_explorer(**initial_values) -> Saturation:
    """Controls: ``activation`` (sigmoid, tanh, relu, leaky_relu, prelu, elu), ``weight_scale``
    (0.1..10, times LeCun's 1/sqrt(fan_in)), ``input_scale`` (0.1..10), ``bias`` (-3..3),
    ``depth`` (1..10). Interactive size: 256 examples through up to 10 layers of 64 units
    (at most ten 256x64x64 products and two histograms per change). The axes follow the chosen
    layer (to the next multiple of 5) and the histogram's height (1/4, 1/2 or 1)."""
    return Saturation(**initial_values)
