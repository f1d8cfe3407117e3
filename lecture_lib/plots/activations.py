"""Figures of 01_activations: the functions and their local gradients, the gradient's norm against
depth, and the race to a target accuracy."""

from __future__ import annotations

import numpy as np

from .. import activations as A
from .. import init as I
from ..style import COLORS, LINESTYLES, MARKERS, new_figure


def plot_functions(lo: float = -4.0, hi: float = 4.0):
    """Every elementwise activation and its local gradient on [lo, hi], and one two-piece Maxout
    unit (pieces z and 0.2 z - 0.5)."""
    z = np.linspace(lo, hi, 401)
    fig = new_figure(11, 4)
    ax_f, ax_g = fig.subplots(1, 2)
    for i, name in enumerate(A.ELEMENTWISE):
        style = {"color": COLORS[i], "linestyle": LINESTYLES[i]}
        ax_f.plot(z, A.apply(name, z), label=A.LABELS[name], **style)
        ax_g.plot(z, A.local_gradient(name, z), label=A.LABELS[name], **style)
    z2 = 0.2 * z - 0.5
    g1, g2 = A.maxout_grad(z, z2)
    style = {"color": COLORS[7], "linestyle": LINESTYLES[6], "label": "Maxout (example)"}
    ax_f.plot(z, A.maxout(z, z2), **style)
    ax_g.plot(z, g1 * 1.0 + g2 * 0.2, **style)                      # d max(z, 0.2 z - 0.5) / dz
    ax_f.set(xlabel="pre-activation z", ylabel="f(z)", ylim=(-2, hi), title="the functions")
    ax_g.set(xlabel="pre-activation z", ylabel="local gradient f′(z)", ylim=(-0.05, 1.1),
             title="their local gradients: where is f′ ≈ 0?")
    ax_f.legend(ncol=2)
    return fig


def plot_gradient_norms(runs):
    """‖∂L/∂W‖ per hidden layer for each run (:class:`~lecture_lib.experiments.activations.GradientNorms`),
    labelled with its measured per-layer factor."""
    fig = new_figure(8, 4)
    ax = fig.subplots()
    for i, r in enumerate(runs):
        label = f"{A.LABELS[r.activation]}, {I.LABELS[r.init]} init: ×{r.factor:.2f} per layer"
        ax.semilogy(np.arange(1, len(r.dW_norm) + 1), r.dW_norm, color=COLORS[i], linestyle=LINESTYLES[i],
                    marker=MARKERS[i], label=label)
    ax.set(xlabel="hidden layer (1 = next to the input)", ylabel="‖∂L/∂W‖ (log scale)",
           title="gradient norm against depth: sigmoid's vanishes towards the input")
    ax.legend()
    return fig


def plot_convergence_race(race, jitter_seed: int = 8):
    """Epochs to the target per seed (a point each, jittered sideways so that equal counts stay
    visible) and the median (bar), per activation; runs that never got there sit right of the
    dotted line (a :class:`~lecture_lib.experiments.activations.ConvergenceRace`)."""
    never = race.epochs + 1
    n_seeds = max(len(r.epochs_to) for r in race.runs.values())
    jitter = np.random.default_rng(jitter_seed).uniform(-0.15, 0.15, size=n_seeds)
    fig = new_figure(8, 3.6)
    ax = fig.subplots()
    for i, (a, r) in enumerate(race.runs.items()):
        epochs = np.array([never if e is None else e for e in r.epochs_to], dtype=float)
        ax.scatter(epochs + jitter[:len(epochs)], np.full(len(epochs), i), color=COLORS[i], marker=MARKERS[i])
        ax.plot([min(race.median_epochs(a), never)] * 2, [i - 0.3, i + 0.3], color="black", linestyle="-")
    ax.axvline(race.epochs + 0.5, color="0.5", linestyle=":")
    ax.set(yticks=range(len(race.runs)), yticklabels=[f"{A.LABELS[a]}\n(lr {r.lr:g})" for a, r in race.runs.items()],
           xlabel=f"epochs to {race.target:.0%} validation accuracy (one point per seed)",
           title="race to a target (bar: median over seeds; right of the dotted line: never)")
    return fig
