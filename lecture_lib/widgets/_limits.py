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
