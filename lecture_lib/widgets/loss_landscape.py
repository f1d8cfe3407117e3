"""A loss landscape and its gradient field: what a high condition number looks like.

Left: the loss as a banded image of log10(loss - min) with the (negative) gradient as arrows.
Right: a cut through the minimum along the steepest and the shallowest Hessian direction, which
makes the condition number visible as two parabolas of very different widths.
"""

from __future__ import annotations

import numpy as np

from .. import landscapes as L
from ..style import COLORS
from .base import Explorer, checkbox, dropdown, float_slider, int_slider, log_slider
from .optimizer_paths import GRID, banded_image, banded_log_loss


class LossLandscape(Explorer):
    title = "Loss landscape and gradient field"

    def __init__(self, **initial_values):
        controls = {
            "kappa": log_slider(20.0, 0, 3, "condition number κ (taco)"),
            "angle": float_slider(30.0, 0.0, 90.0, 5.0, "rotation ° (taco)", fmt=".0f"),
            "arrows": int_slider(15, 5, 30, "arrows per side"),
            "unit_arrows": checkbox(False, "arrows of unit length (direction only)"),
            "landscape": dropdown("taco", list(L.LANDSCAPES), "landscape"),  # κ, angle: taco only
        }
        self._quiver_key = None
        super().__init__(controls, initial_values, figsize=(10.0, 4.4))

    def build(self, figure):
        self.ax, self.ax_cut = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        self.image = self.ax.imshow(np.zeros((GRID, GRID, 4), np.uint8), origin="lower", aspect="auto",
                                    interpolation="nearest")
        self.quiver = None
        self.ax.set(xlabel="x (parameter 1)", ylabel="y (parameter 2)")
        self.steep = self.ax_cut.plot([], [], color=COLORS[3], lw=2.2,
                                      label="along the steepest direction")[0]
        self.shallow = self.ax_cut.plot([], [], color=COLORS[0], linestyle="--", lw=2.2,
                                        label="along the shallowest direction")[0]
        self.ax_cut.set(xlim=(-1.5, 1.5), xlabel="distance from the minimum",
                        ylabel="loss − minimum")
        self.ax_cut.legend(loc="upper center")
        # Three speeds: the window and its title are static (they change with the landscape); the
        # loss image and the cut through the minimum are a layer over them (they change with κ and
        # the angle too); the arrows are drawn at every change.
        self.layered(self.image, self.steep, self.shallow, self.ax_cut.title)
        self._key = None

    def draw(self, landscape, kappa, angle, arrows, unit_arrows):
        params = {"kappa": kappa, "angle": angle} if landscape == "taco" else {}
        key = (landscape, *params.values())
        if key != self._key:
            self._key, self._land = key, L.make(landscape, **params)
            self._new_layer(landscape, self._land)
        land = self._land
        self.invalidate(key=(landscape, self._cut_top), layer=key)
        x0, x1, y0, y1 = land.extent
        X, Y = np.meshgrid(np.linspace(x0, x1, arrows), np.linspace(y0, y1, arrows))
        G = -land.exact_grad(np.stack([X, Y], axis=-1))
        norm = np.linalg.norm(G, axis=-1, keepdims=True)
        G = G / np.maximum(norm, 1e-12) if unit_arrows else G / max(float(norm.max()), 1e-12)
        # The arrows sit on a grid of this landscape's window: a new window needs new positions
        # (set_UVC only changes the directions).
        if self._quiver_key != (arrows, tuple(land.extent)):
            if self.quiver is not None:
                self._dynamic.remove(self.quiver)
                self.quiver.remove()
            self.quiver = self.ax.quiver(X, Y, G[..., 0], G[..., 1], color=COLORS[1],
                                         angles="xy", scale_units="width", scale=arrows * 1.1,
                                         width=0.004)
            self.dynamic(self.quiver)
            self._quiver_key = (arrows, tuple(land.extent))
        else:
            self.quiver.set_UVC(G[..., 0], G[..., 1])

    def _new_layer(self, landscape, land):
        """The loss image, the window and the cut through the minimum of a new landscape."""
        bands, _ = banded_log_loss(land)
        self.image.set_data(banded_image(bands))
        self.image.set_extent(land.extent)
        self.ax.set_xlim(land.extent[:2])
        self.ax.set_ylim(land.extent[2:])
        self.ax.set_title(f"{landscape}: shades log₁₀(loss − min), arrows −gradient", fontsize="medium")
        minimum = land.minima[0]
        H = land.hessian(minimum)
        evals, evecs = np.linalg.eigh(H)
        r = np.linspace(-1.5, 1.5, 121)
        cuts = {}
        for line, k in ((self.steep, -1), (self.shallow, 0)):
            pts = minimum + r[:, None] * evecs[:, k]
            cuts[k] = land.loss(pts) - land.loss(minimum)
            line.set_data(r, cuts[k])
        # The loss axis follows the cuts: the whole shallow curve, and the steep one up to the same
        # height or to 1 (a steep curve is a narrow V that leaves the panel: that is the point).
        self._cut_top = float(f"{1.1 * max(cuts[0].max(), min(cuts[-1].max(), 1.0)):.2g}")
        self.ax_cut.set_ylim(0, self._cut_top)
        kappa_here = land.condition_number(minimum)
        self.ax_cut.set_title(f"curvatures {evals[-1]:.3g} and {evals[0]:.3g}: κ = {kappa_here:.3g}",
                              fontsize="medium")


def loss_landscape_explorer(**initial_values) -> LossLandscape:
    """Controls: ``landscape`` (taco, saddle, rosenbrock, sharp_wide), ``kappa`` (1..1000) and
    ``angle`` (0..90°) of the taco shell, ``arrows`` (5..30 per side), ``unit_arrows``.
    Interactive size: a 121 x 121 loss image and at most 30 x 30 arrows per redraw. The cut's loss
    axis spans the shallow curve (and the steep one up to the same height, or to 1)."""
    return LossLandscape(**initial_values)
