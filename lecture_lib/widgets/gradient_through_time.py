"""Gradients through time, live: choose W_hh's spectral radius and kind, the nonlinearity, the
sequence length and a clipping threshold, and watch the gradient carried back from the last step,
the hidden state on the way forward, and what clipping by norm does to the gradient of W_hh."""

from __future__ import annotations

import numpy as np

from .. import bptt
from ..style import COLORS
from .base import Explorer, dropdown, float_slider, int_slider, log_slider

HIDDEN = 32
MAX_LENGTH = 200
INPUT_STD = 0.5
_GRAD_LIM = (1e-12, 1e12)
_STATE_LIM = (1e-3, 1e8)


class GradientThroughTime(Explorer):
    title = "Gradients through time in a vanilla RNN"

    def __init__(self, **initial_values):
        controls = {
            "radius": float_slider(1.0, 0.5, 1.5, 0.01, "spectral radius ρ of W_hh"),
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

    def build(self, figure):
        self.ax_grad, self.ax_state, self.ax_clip = figure.subplots(1, 3, width_ratios=[1.3, 1.1, 0.8])
        (self.grad_line,) = self.ax_grad.semilogy([], [], color=COLORS[0], linewidth=2.5,
                                                  label="measured ‖∂L/∂h_{T−k}‖")
        (self.rate_line,) = self.ax_grad.semilogy([], [], color=COLORS[7], linestyle=":",
                                                  label="ρ^k (the linear, orthogonal case)")
        self.ax_grad.set(xlim=(0, MAX_LENGTH), ylim=_GRAD_LIM, xlabel="steps back from T (k)",
                         ylabel="gradient norm (log, clipped to the axis)")
        self.ax_grad.legend(fontsize=9, loc="lower right", framealpha=0.9)
        (self.state_line,) = self.ax_state.semilogy([], [], color=COLORS[2], linestyle="--", linewidth=2.5)
        self.ax_state.set(xlim=(0, MAX_LENGTH), ylim=_STATE_LIM, xlabel="step t",
                          ylabel="RMS of the units of h_t (log)", title="forward: the hidden state")
        self.bars = self.ax_clip.bar(["before", "after"], [1.0, 1.0], color=[COLORS[3], COLORS[1]])
        self.ax_clip.set(yscale="log", ylim=_GRAD_LIM, ylabel="‖∂L/∂W_hh‖ (log)")
        self.ax_clip.grid(axis="x", visible=False)
        self.clip_line = self.ax_clip.axhline(1.0, color=COLORS[1], linestyle="--", linewidth=1.5)
        self.grad_title = self.ax_grad.set_title(" ", fontsize=11)
        self.clip_title = self.ax_clip.set_title(" ", fontsize=11)
        self.dynamic(self.grad_line, self.rate_line, self.state_line, *self.bars, self.clip_line, self.clip_title,
                     self.grad_title)

    def draw(self, radius, matrix, nonlinearity, length, clip):
        Wh = radius * self._base[matrix]
        hs = bptt.unroll(Wh, self._inputs[:length], np.zeros((1, HIDDEN)), nonlinearity)
        norms, dWh = bptt.backprop_through_time(hs, Wh, nonlinearity, self._dh_last)
        k = np.arange(length + 1)
        with np.errstate(over="ignore", invalid="ignore"):
            self.grad_line.set_data(k, np.clip(np.nan_to_num(norms, nan=_GRAD_LIM[1], posinf=_GRAD_LIM[1]),
                                               *_GRAD_LIM))
            self.rate_line.set_data(k, np.clip(radius ** k.astype(float), *_GRAD_LIM))
            rms = np.sqrt(np.mean(hs[1:, 0] ** 2, axis=1))
        self.state_line.set_data(np.arange(1, length + 1), np.clip(np.nan_to_num(rms, nan=_STATE_LIM[1]),
                                                                   *_STATE_LIM))
        (clipped,), norm = bptt.clip_by_norm([dWh], clip)
        after = float(np.linalg.norm(clipped))
        for bar, value in zip(self.bars, (norm, after), strict=True):
            bar.set_height(float(np.clip(np.nan_to_num(value, nan=_GRAD_LIM[1]), *_GRAD_LIM)))
        self.clip_line.set_ydata([clip, clip])
        factor = after / norm if norm > 0 and np.isfinite(norm) else float("nan")
        self.clip_title.set_text(f"clipped by norm: × {factor:.2g}" if factor < 1 else "below the threshold: kept")
        sigma = float(np.linalg.norm(Wh, 2))
        rate = norms[-1] ** (1 / length) if norms[-1] > 0 and np.isfinite(norms[-1]) else float("inf")
        self.grad_title.set_text(f"backward: σmax {sigma:.2f}, {rate:.3f} per step")


def gradient_through_time_explorer(**initial_values) -> GradientThroughTime:
    """Controls: ``radius`` (0.5..1.5, the spectral radius of W_hh), ``matrix`` (orthogonal: every
    singular value equals the radius; gaussian: the largest singular value is larger),
    ``nonlinearity`` (tanh or linear), ``length`` (5..200 steps) and ``clip`` (0.1..10^4, the norm
    at which the gradient of W_hh is clipped).

    Interactive problem size: one sequence of unit-scale random inputs (std 0.5) through 32 hidden
    units, at most 200 steps forward and back in float64 (about 2 ms), with W_hh and the inputs drawn
    once; one change stays within the 50 ms budget on 2 cores."""
    return GradientThroughTime(**initial_values)
