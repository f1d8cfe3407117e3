"""The experiment of 00_start_here: does a live explorer redraw when one of its controls moves?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import check_choice

REDRAW_SHARE = 0.005   # a move that changes at least 0.5% of the figure's pixels redrew it


@dataclass(frozen=True)
class WidgetResponse:
    """An explorer's control moved through ``values``: the share of the figure's pixels that changed
    at each move, the time of the last redraw, and the error the explorer kept (None: none)."""

    control: str
    values: tuple
    changed: tuple
    redraw_seconds: float
    error: str | None


def measure_widget_response(explorer, control: str, values) -> WidgetResponse:
    """Set ``explorer.controls[control].value`` to each of ``values`` in turn, as a student would by
    dragging it, and compare the figure's pixels before and after each move."""
    if not hasattr(explorer, "controls") or not hasattr(explorer, "pixels"):
        raise TypeError(f"explorer={explorer!r} is not valid; expected an explorer of lecture_lib.widgets")
    check_choice(control, "control", sorted(explorer.controls))
    values = tuple(values)
    if not values:
        raise ValueError("values is empty; expected at least one value to move the control to")
    before, changed = explorer.pixels(), []
    for value in values:
        explorer.controls[control].value = value
        after = explorer.pixels()
        changed.append(float(np.mean(np.any(before != after, axis=-1))))
        before = after
    error = None if explorer.last_error is None else str(explorer.last_error)
    return WidgetResponse(control, values, tuple(changed), float(explorer.draw_seconds), error)


def redraws(r: WidgetResponse) -> bool:
    """Every move changed at least :data:`REDRAW_SHARE` of the pixels."""
    return all(c > REDRAW_SHARE for c in r.changed)


def no_error(r: WidgetResponse) -> bool:
    return r.error is None
