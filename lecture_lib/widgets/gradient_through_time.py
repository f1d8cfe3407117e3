"""Gradients through time, live: choose W_hh's spectral radius and kind, the nonlinearity, the
sequence length and a clipping threshold, and watch the gradient carried back from the last step,
the hidden state on the way forward, and what clipping by norm does to the gradient of W_hh.

The axes follow the controls: the time axes end at the sequence length (their tick labels are
drawn with the curves, so a new length costs no new rendering of the axes), and the log axes
span what the radius slider can reach with this matrix and nonlinearity (computed at both ends of
its range, at the longest length), so moving the radius never moves an axis."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from .. import bptt
from ..style import COLORS
from .base import Explorer, dropdown, float_slider, int_slider, log_slider

HIDDEN = 32
MAX_LENGTH = 200
INPUT_STD = 0.5
RADII = (0.5, 1.5)            # the radius slider's range
_GRAD_LIM = (1e-12, 1e12)     # the most any log axis shows
_STATE_LIM = (1e-3, 1e8)


class GradientThroughTime(Explorer):
    title = "Gradients through time in a vanilla RNN"
    dpi = 72     # a wide figure: fewer pixels to draw and encode on each change

    def __init__(self, **initial_values):
        controls = {
            "radius": float_slider(1.0, RADII[0], RADII[1], 0.01, "spectral radius r of W_hh"),
            "matrix": dropdown("orthogonal", bptt.MATRIX_KINDS, "W_hh"),
            "nonlinearity": dropdown("tanh", bptt.NONLINEARITIES, "nonlinearity"),
            "length": int_slider(60, 5, MAX_LENGTH, "sequence length T"),
            "clip": log_slider(5.0, -1, 4, "clip norm at", fmt=".3g"),
        }
        rng = np.random.default_rng(0)
        # Unit-radius matrices and one input sequence, drawn once; the controls rescale and cut them.
        self._base = {kind: bptt.recurrent_matrix(HIDDEN, 1.0, kind, np.random.default_rng(1))
                      for kind in bptt.MATRIX_KINDS}
        self._inputs = rng.standard_normal((MAX_LENGTH, 1, HIDDEN)) * INPUT_STD
        self._dh_last = rng.standard_normal((1, HIDDEN))
        self._dh_last /= np.linalg.norm(self._dh_last)
        super().__init__(controls, initial_values, figsize=(12.0, 3.9))

    def _run(self, radius, matrix, nonlinearity, length):
        Wh = radius * self._base[matrix]
        hs = bptt.unroll(Wh, self._inputs[:length], np.zeros((1, HIDDEN)), nonlinearity)
        with np.errstate(over="ignore", invalid="ignore"):
            norms, dWh = bptt.backprop_through_time(hs, Wh, nonlinearity, self._dh_last)
            rms = np.sqrt(np.mean(hs[1:, 0] ** 2, axis=1))
        return Wh, norms, dWh, rms

    def limits(self, matrix: str, nonlinearity: str) -> dict:
        """Log-axis limits that hold every curve the radius slider can draw with this matrix and
        nonlinearity: the runs at both ends of its range over MAX_LENGTH steps, in whole decades,
        within _GRAD_LIM and _STATE_LIM."""
        key = (matrix, nonlinearity)
        if key not in self._limits:
            grads, states, weights = [1.0], [], []
            for radius in RADII:
                _, norms, dWh, rms = self._run(radius, matrix, nonlinearity, MAX_LENGTH)
                grads += list(norms)
                states += list(rms)
                weights.append(float(np.linalg.norm(dWh)))

            def decades(values, floor, ceil, extra=()):
                v = np.asarray([*values, *extra], dtype=float)
                v = v[np.isfinite(v) & (v > 0)]
                lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
                return max(floor, 10.0 ** (lo - 0.3)), min(ceil, 10.0 ** (hi + 0.3))

            clip = self.controls["clip"]
            self._limits[key] = {"grad": decades(grads, *_GRAD_LIM), "state": decades(states, *_STATE_LIM),
                                 "clip": decades(weights, *_GRAD_LIM, extra=(clip.base ** clip.min,
                                                                             clip.base ** clip.max))}
        return self._limits[key]

    def build(self, figure):
        self._limits: dict = {}
        self._shown_key = None
        self.ax_grad, self.ax_state, self.ax_clip = figure.subplots(1, 3, width_ratios=[1.3, 1.1, 0.8])
        (self.grad_line,) = self.ax_grad.semilogy([], [], color=COLORS[0], linewidth=2.5)
        (self.rate_line,) = self.ax_grad.semilogy([], [], color=COLORS[7], linestyle=":")
        self.ax_grad.set(xlabel="steps back from T (k)",
                         ylabel="‖∂L/∂h_(T−k)‖ (log)\ndotted: r^k (linear, orthogonal)")
        self.time_ticks = {ax: self._time_axis(ax, figure) for ax in (self.ax_grad, self.ax_state)}
        (self.state_line,) = self.ax_state.semilogy([], [], color=COLORS[2], linestyle="--", linewidth=2.5)
        self.ax_state.set(xlabel="step t", ylabel="RMS of the units of h_t (log)", title="forward: the hidden state")
        self.bars = self.ax_clip.bar(["before", "after"], [1.0, 1.0], color=[COLORS[3], COLORS[1]])
        self.ax_clip.set(yscale="log", ylabel="‖∂L/∂W_hh‖ (log)")
        self.ax_clip.grid(axis="x", visible=False)
        self.clip_line = self.ax_clip.axhline(1.0, color=COLORS[1], linestyle="--", linewidth=1.5)
        self.grad_title = self.ax_grad.set_title(" ", fontsize="medium")
        self.clip_title = self.ax_clip.set_title(" ", fontsize="medium")
        self.set_log_axes(self.values["matrix"], self.values["nonlinearity"])
        self.dynamic(self.grad_line, self.rate_line, self.state_line, *self.bars, self.clip_line, self.clip_title,
                     self.grad_title, *(t for texts in self.time_ticks.values() for t in texts))

    @staticmethod
    def _time_axis(ax, figure, most: int = 6) -> list:
        """Tick labels for a time axis whose end follows the length: invisible axis labels keep
        their room in the layout, and text artists drawn with the curves show the numbers."""
        ax.set_xticks([0, 100], ["100", "100"])
        ax.tick_params(axis="x", length=0, labelcolor="none")
        ax.grid(axis="x", visible=False)
        under = offset_copy(ax.get_xaxis_transform(), fig=figure, y=-ax.xaxis.get_tick_padding() - 1,
                            units="points")
        return [ax.text(0, 0, "", transform=under, ha="center", va="top", fontsize=ax.xaxis.get_ticklabels()[0]
                        .get_fontsize()) for _ in range(most)]

    def set_log_axes(self, matrix, nonlinearity) -> bool:
        """The log axes' limits for this matrix and nonlinearity; True when they changed."""
        key = (matrix, nonlinearity)
        if key == self._shown_key:
            return False
        lim = self.limits(*key)
        self.ax_grad.set_ylim(lim["grad"])
        self.ax_state.set_ylim(lim["state"])
        self.ax_clip.set_ylim(lim["clip"])
        self._shown_key = key
        return True

    def set_time_axes(self, length: int) -> None:
        ticks = [t for t in MaxNLocator(nbins=4, integer=True).tick_values(0, length) if 0 <= t <= length]
        for ax, texts in self.time_ticks.items():
            ax.set_xlim(0, length)
            for i, text in enumerate(texts):
                text.set_visible(i < len(ticks))
                if i < len(ticks):
                    text.set_x(ticks[i])
                    text.set_text(f"{ticks[i]:.0f}")

    def draw(self, radius, matrix, nonlinearity, length, clip):
        if self.set_log_axes(matrix, nonlinearity):
            self.invalidate(self._shown_key)      # one static rendering per (matrix, nonlinearity)
        self.set_time_axes(length)
        lim = self.limits(*self._shown_key)
        Wh, norms, dWh, rms = self._run(radius, matrix, nonlinearity, length)
        k = np.arange(length + 1)

        def drawable(values):     # beyond the axis a curve leaves it: no value is pinned to its edge
            values = np.asarray(values, dtype=float)
            return np.where(np.isfinite(values) & (values > 0), values, np.nan)

        with np.errstate(over="ignore", invalid="ignore"):
            self.grad_line.set_data(k, drawable(norms))
            self.rate_line.set_data(k, drawable(radius ** k.astype(float)))
            self.state_line.set_data(np.arange(1, length + 1), drawable(rms))
        (clipped,), norm = bptt.clip_by_norm([dWh], clip)
        after = float(np.linalg.norm(clipped))
        for bar, value in zip(self.bars, (norm, after), strict=True):
            bar.set_height(float(np.clip(np.nan_to_num(value, nan=lim["clip"][1]), *lim["clip"])))
        self.clip_line.set_ydata([clip, clip])
        factor = after / norm if norm > 0 and np.isfinite(norm) else float("nan")
        self.clip_title.set_text(f"clipped by norm: × {factor:.2g}" if factor < 1 else "below the threshold: kept")
        sigma = float(np.linalg.norm(Wh, 2))
        rate = norms[-1] ** (1 / length) if norms[-1] > 0 and np.isfinite(norms[-1]) else float("inf")
        self.grad_title.set_text(f"backward: ‖W_hh‖₂ = {sigma:.2f}, × {rate:.3f} per step")


def gradient_through_time_explorer(**initial_values) -> GradientThroughTime:
    """Controls: ``radius`` (0.5..1.5, the spectral radius r of W_hh: its largest |eigenvalue|),
    ``matrix`` (orthogonal: every singular value equals r; gaussian: the largest singular value,
    ‖W_hh‖₂, is larger), ``nonlinearity`` (tanh or linear), ``length`` (5..200 steps) and ``clip``
    (0.1..10^4, the norm at which the gradient of W_hh is clipped).

    Interactive problem size: one sequence of random inputs (std 0.5) through 32 hidden units, at
    most 200 steps forward and back in float64 (about 2 ms), with W_hh and the inputs drawn once.
    A radius, length or clip change redraws the curves and the time axes' numbers over a cached
    background (about 20 ms of CPU); each (matrix, nonlinearity) renders its axes once (about
    120 ms), and is cached."""
    return GradientThroughTime(**initial_values)
