"""Numbers into words for the notebooks' prose, so that a takeaway never says "constant" of a
quantity that fell to a third, nor prints "None steps" when a run did not get there."""

from __future__ import annotations

import math

from ._checks import check_scalar

__all__ = ["count", "factor", "CONSTANT_BAND"]

CONSTANT_BAND = (0.8, 1.25)   # a ratio inside this band reads as "roughly constant"


def count(n, unit: str, *, none: str = "not reached", plural: str | None = None) -> str:
    """``"1 step"``, ``"12 steps"``; ``none`` for None, NaN or infinity (a run that never got there)."""
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return none
    value = check_scalar(n, "n")
    shown = f"{value:g}"
    return f"{shown} {unit if value == 1 else (plural or unit + 's')}"


def factor(ratio, *, band=CONSTANT_BAND) -> str:
    """How a quantity changed, as the ratio end/start in words: "roughly constant (0.93x)" inside
    ``band``, otherwise "falls to 0.37x" or "grows 3.2x"; "vanishes" for 0."""
    ratio = check_scalar(ratio, "ratio", min=0.0)
    if ratio == 0:
        return "vanishes"
    if band[0] <= ratio <= band[1]:
        return f"stays roughly constant ({ratio:.2f}x)"
    digits = ".2g" if ratio < 100 else ".1e"
    return f"falls to {ratio:{digits}}x" if ratio < 1 else f"grows {ratio:{digits}}x"
