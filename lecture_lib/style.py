"""Plotting style: a colour-blind-safe palette, line styles as well as colours, opaque
backgrounds, readable fonts; ``presentation`` enlarges everything for a projector.

``new_figure`` builds a Figure without pyplot, so re-running a cell leaks nothing.
"""

from __future__ import annotations

import io

import numpy as np
from cycler import cycler
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._checks import check_scalar

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS = list(PALETTE.values())
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 3))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

STYLES = ("default", "presentation")
_FONT = {"default": 11, "presentation": 16}
MIN_FONT_PT = _FONT["default"]   # no text of a figure is smaller, tick labels and annotations included


def rc_params(style: str = "default") -> dict:
    if style not in STYLES:
        raise ValueError(f"style={style!r} is not a style; expected one of {STYLES}")
    size = _FONT[style]
    return {
        "axes.prop_cycle": cycler(color=COLORS) + cycler(linestyle=LINESTYLES),
        "font.size": size,
        "axes.titlesize": size + 1,
        "axes.labelsize": size,
        "xtick.labelsize": size,
        "ytick.labelsize": size,
        "legend.fontsize": size,
        "figure.titlesize": size + 2,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.transparent": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "lines.linewidth": 2.0 if style == "default" else 3.0,
        "lines.markersize": 6 if style == "default" else 9,
        "figure.dpi": 100,
        "image.cmap": "viridis",
    }


def apply_style(style: str = "default") -> None:
    import matplotlib as mpl

    mpl.rcParams.update(rc_params(style))


def new_figure(width: float = 8.0, height: float = 4.0, **kwargs) -> Figure:
    """A Figure with an Agg canvas and no pyplot state. Sizes are given for the default style; in
    the presentation style the figure grows with the fonts, so titles and labels still fit."""
    if width <= 0 or height <= 0:
        raise ValueError(f"figure size ({width}, {height}) must be positive")
    import matplotlib as mpl

    scale = max(1.0, mpl.rcParams["font.size"] / _FONT["default"])
    fig = Figure(figsize=(width * scale, height * scale), layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def font_pt(points: float) -> float:
    """A font size given for the default style, scaled with the active style's base size (11 pt by
    default, 16 pt in the presentation style): for text that must stand out from the rest."""
    import matplotlib as mpl

    return check_scalar(points, "points", min=0.0, min_inclusive=False) * mpl.rcParams["font.size"] / _FONT["default"]


def legend_beside(ax, **kwargs):
    """The axes' legend outside it, to the right, centred: it never covers the data (the constrained
    layout narrows the axes to make room). For a legend that several panels share, use
    ``fig.legend(loc="outside lower center", ncols=...)`` instead."""
    return ax.legend(**{"loc": "center left", "bbox_to_anchor": (1.02, 0.5), **kwargs})


def small_texts(fig: Figure, min_pt: float = MIN_FONT_PT) -> list[tuple[float, str]]:
    """The visible, non-empty texts of ``fig`` set smaller than ``min_pt`` points, as (size, text)."""
    from matplotlib.text import Text

    if not isinstance(fig, Figure):
        raise TypeError(f"fig={fig!r} is not valid; expected a matplotlib Figure")
    min_pt = check_scalar(min_pt, "min_pt", min=0.0)
    return sorted({(round(t.get_fontsize(), 1), t.get_text()) for t in fig.findobj(Text)
                   if t.get_visible() and t.get_text().strip() and t.get_fontsize() < min_pt})


def figure_png(fig: Figure, dpi: int | None = None) -> bytes:
    """Draw ``fig`` once with Agg and return PNG bytes (fast, low zlib compression).
    ``dpi`` other than the figure's own goes through savefig instead."""
    buf = io.BytesIO()
    if dpi is not None and dpi != fig.dpi:
        fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
        return buf.getvalue()
    from PIL import Image

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3]).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def style_marker(i: int) -> dict:
    """Colour, line style and marker of the i-th series, for plots that set them by hand."""
    return {
        "color": COLORS[i % len(COLORS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }
