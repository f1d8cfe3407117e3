"""Gradient descent on a 1-D parabola: drag the learning rate and watch the iterates creep,
zig-zag or blow up. Small and instant (at most 60 steps), so it doubles as the widget check. The
right panel's axes follow the run: the steps asked for (to the next 10), and the decades |x_t| spans
(the lower end in steps of 3; values beyond 1e-6 and 1e6 are drawn at those bounds)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from .. import parabola
from ..style import COLORS
from ._limits import decades, snap_up
from .base import Explorer, float_slider, int_slider

_XLIM = 4.5
_FLOOR, _CEIL = 1e-6, 1e6


class GradientDescent1D(Explorer):
    title = "Gradient descent on f(x) = x²/2"
    max_backgrounds = 24  # static renderings kept, one per combination of axis limits met

    def __init__(self, **initial_values):
        controls = {
            "lr": float_slider(0.3, 0.05, 2.3, 0.05, "learning rate"),
            "x0": float_slider(2.5, -3.0, 3.0, 0.1, "start x₀"),
            "steps": int_slider(12, 1, 60, "steps"),
        }
        super().__init__(controls, initial_values, figsize=(9.0, 3.6))

    def build(self, figure):
        self.ax_path, self.ax_decay = figure.subplots(1, 2)
        grid = np.linspace(-_XLIM, _XLIM, 200)
        self.ax_path.plot(grid, parabola.loss(grid), color=COLORS[0], label="f(x) = x²/2")
        (self.path,) = self.ax_path.plot([], [], color=COLORS[1], linestyle="--", marker="o",
                                         markersize=4, label="iterates")
        self.ax_path.set(xlim=(-_XLIM, _XLIM), ylim=(-0.2, 10.5), xlabel="x", ylabel="f(x)",
                         title="the path on the loss")
        self.ax_path.legend(loc="upper center")
        (self.measured,) = self.ax_decay.semilogy([], [], color=COLORS[2], marker="s", markersize=5,
                                                  linestyle="none", label="|x_t| measured")
        (self.predicted,) = self.ax_decay.semilogy([], [], color=COLORS[3], linestyle=":", linewidth=2,
                                                   label="|x₀|·|1 − lr|^t")
        self.ax_decay.set(xlabel="step t", ylabel="|x_t| (log scale)")
        self.ax_decay.yaxis.set_major_locator(LogLocator(base=10, numticks=7))
        self.ax_decay.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}"))
        self.ax_decay.yaxis.set_minor_locator(NullLocator())
        self.ax_decay.xaxis.set_major_locator(MaxNLocator(integer=True))
        self.ax_decay.legend(loc="best")
        self.dynamic(self.path, self.measured, self.predicted, self.ax_decay.title)
        self._limits = None

    def draw(self, lr, x0, steps):
        xs = parabola.descend(lr, x0, steps)
        shown = np.clip(xs, -_XLIM, _XLIM)
        self.path.set_data(shown, parabola.loss(shown))
        t = np.arange(steps + 1)
        factor = parabola.contraction(lr)
        self.measured.set_data(t, np.clip(np.abs(xs), _FLOOR, _CEIL))
        self.predicted.set_data(t, np.clip(abs(x0) * factor ** t, _FLOOR, _CEIL))
        verdict = "converges" if factor < 1 else ("stalls" if factor == 1 else "diverges")
        self.ax_decay.set_title(f"|1 − lr| = {factor:.2f}: {verdict}")
        # The axes follow the run: the steps asked for (to the next multiple of 10) and the decades
        # its |x_t| spans (the lower end rounded down to a multiple of 3: it moves with every lr,
        # while the upper end, |x_0| unless the run diverges, rarely does). A change of limits
        # re-renders the static part (tick labels: about 70 ms), kept per limits, so each
        # combination costs one rendering and a drag mostly none.
        values = np.maximum(np.abs(xs), _FLOOR)
        lo, hi = decades(values, (_FLOOR, _CEIL), 3)[0], decades(values, (_FLOOR, _CEIL))[1]
        limits = (snap_up(steps, 10), lo, hi)
        if limits != self._limits:
            self._limits = limits
            self.ax_decay.set_xlim(-0.5, limits[0] + 0.5)
            self.ax_decay.set_ylim(10.0 ** lo / 1.5, 10.0 ** hi * 1.5)
            self.invalidate(key=limits)


def gradient_descent_1d_explorer(**initial_values) -> GradientDescent1D:
    """Controls: ``lr`` (0.05..2.3), ``x0`` (-3..3), ``steps`` (1..60).
    Interactive size: at most 61 points per redraw (well under the 50 ms budget)."""
    return GradientDescent1D(**initial_values)
