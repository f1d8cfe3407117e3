"""Axis limits that follow an explorer's data and controls, in coarse steps: a change of limits
re-renders the figure's static part (tick labels cost about 100 ms on 2 cores), so limits move
in steps, and each rendering is kept per limits (:meth:`Explorer.invalidate` with a key)."""

from __future__ import annotations

import math

import numpy as np


def snap_up(value: float, step: float) -> float:
    """``value`` rounded up to a multiple of ``step`` (at least one step)."""
    return max(step, step * math.ceil(value / step))


def decades(values, bounds: tuple[float, float], step: int = 1) -> tuple[int, int]:
    """The powers of ten, multiples of ``step``, that enclose the positive finite ``values`` once
    clipped to ``bounds``; the bounds' own decades when there is no such value."""
    v = np.asarray(values, dtype=float).ravel()
    v = np.clip(v[np.isfinite(v) & (v > 0)], *bounds)
    if v.size == 0:
        return int(math.floor(math.log10(bounds[0]))), int(math.ceil(math.log10(bounds[1])))
    lo = step * math.floor(math.log10(v.min()) / step)
    hi = step * math.ceil(math.log10(v.max()) / step)
    return lo, max(hi, lo + step)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class LogTicks:
    """The y ticks of a log-scale axes drawn by the explorer on every redraw, with the grid lines
    at them, instead of by the static part: the limits can then follow the data at every change
    without re-rendering the figure. Labels are powers of ten in Unicode (no mathtext to lay
    out); ``most`` of them at most, every decade or every few."""

    def __init__(self, ax, most: int = 8, label_x: float = -0.02):
        from matplotlib.lines import Line2D
        from matplotlib.ticker import NullLocator
        from matplotlib.transforms import blended_transform_factory

        self.ax = ax
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(NullLocator())
        ax.yaxis.set_minor_locator(NullLocator())
        across = blended_transform_factory(ax.transAxes, ax.transData)
        grid = {"color": "0.8", "linewidth": 0.8, "alpha": 0.8, "zorder": 0.5}
        self.lines = [ax.add_line(Line2D([0, 1], [1, 1], transform=across, **grid)) for _ in range(most)]
        self.labels = [ax.text(label_x, 1, "", transform=across, ha="right", va="center",
                               fontsize=ax.xaxis.get_ticklabels()[0].get_fontsize()
                               if ax.xaxis.get_ticklabels() else None) for _ in range(most)]
        self.most = most

    @property
    def artists(self) -> list:
        return [*self.lines, *self.labels]

    def set(self, lo: int, hi: int) -> None:
        """Limits from 10**lo / 2 to 10**hi * 2, a label at every decade (or every few)."""
        self.ax.set_ylim(10.0 ** lo / 2, 10.0 ** hi * 2)
        step = max(1, math.ceil((hi - lo + 1) / self.most))
        exponents = list(range(lo, hi + 1, step))
        for k, (line, label) in enumerate(zip(self.lines, self.labels, strict=True)):
            shown = k < len(exponents)
            line.set_visible(shown)
            label.set_visible(shown)
            if shown:
                line.set_ydata([10.0 ** exponents[k]] * 2)
                label.set_y(10.0 ** exponents[k])
                label.set_text("10" + str(exponents[k]).translate(_SUPERSCRIPT))
