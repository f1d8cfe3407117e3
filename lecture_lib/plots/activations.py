"""Figures of 01_activations: the functions and their local gradients, the gradient's norm against
depth, and the race to a target accuracy."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

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
    """Per hidden layer, for each run (a :class:`~lecture_lib.experiments.activations.GradientNorms`):
    left, the gradient that flows back, ‖∂L/∂z‖ (the quantity whose per-layer factor decides the
    vanishing claim); right, the weight gradient ‖∂L/∂W‖ = ‖hᵀ ∂L/∂z‖ that the update uses. Each
    legend, shared by both panels (below them, off the curves), gives for each run the per-layer
    factor of its curve in each panel, measured from the input side up."""
    fig = new_figure(12, 4.9)
    ax_z, ax_w = fig.subplots(1, 2, sharey=True)
    for i, r in enumerate(runs):
        layers = np.arange(1, len(r.dz_norm) + 1)
        style = {"color": COLORS[i], "linestyle": LINESTYLES[i], "marker": MARKERS[i]}
        name = f"{A.LABELS[r.activation]}, {I.LABELS[r.init]}"
        w_factor = I.per_layer_factor(r.dW_norm[::-1])
        ax_z.semilogy(layers, r.dz_norm, label=f"{name}: ×{r.factor:.2f} left, ×{w_factor:.2f} right", **style)
        ax_w.semilogy(layers, r.dW_norm[:len(layers)], **style)
    ax_z.set(xlabel="hidden layer (1 = next to the input)", ylabel="gradient norm (log scale)",
             title="what flows back, ‖∂L/∂z‖: the per-layer factor of the claim")
    ax_w.set(xlabel="hidden layer (1 = next to the input)",
             title="what the weights get, ‖∂L/∂W‖ = ‖hᵀ·∂L/∂z‖")
    depth = max(len(r.dz_norm) for r in runs)
    fig.legend(*ax_z.get_legend_handles_labels(), loc="outside lower center", ncols=2,
               title=f"factor a layer going back, layer {depth} → 1")
    fig.suptitle("Gradient norm against depth: through sigmoid it vanishes towards the input")
    return fig


def plot_convergence_race(race, jitter_seed: int = 8):
    """The race to a target accuracy (a :class:`~lecture_lib.experiments.activations.ConvergenceRace`).
    Left: validation accuracy after every SGD step, one thin line per seed (a run stops at the
    target). Right: steps to the target per seed (a point each, jittered vertically so that equal
    counts stay visible) and the median (bar); runs that never got there sit right of the dotted
    line at the budget."""
    never = race.max_steps * 1.06
    n_seeds = max(len(r.steps_to) for r in race.runs.values())
    jitter = np.random.default_rng(jitter_seed).uniform(-0.15, 0.15, size=n_seeds)
    fig = new_figure(12, 4.6)
    ax_c, ax_s = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    longest = max(len(c) for r in race.runs.values() for c in r.curves)
    lowest = min(min(c) for r in race.runs.values() for c in r.curves if c)
    for i, (a, r) in enumerate(race.runs.items()):
        style = {"color": COLORS[i], "linestyle": LINESTYLES[i]}
        for k, curve in enumerate(r.curves):
            ax_c.plot(np.arange(1, len(curve) + 1), curve, linewidth=1.0, alpha=0.7,
                      label=f"{A.LABELS[a]} (lr {r.lr:g})" if k == 0 else None, **style)
        steps = np.array([never if s is None else s for s in r.steps_to], dtype=float)
        ax_s.scatter(steps, i + jitter[:len(steps)], color=COLORS[i], marker=MARKERS[i], zorder=3)
        ax_s.plot([min(race.median_steps(a), never)] * 2, [i - 0.3, i + 0.3], color="black", linestyle="-")
    reached = [s for r in race.runs.values() for s in r.steps_to if s is not None]
    spread = never / min(reached) if reached else 1.0
    ax_c.axhline(race.target, color="0.3", linestyle=":", linewidth=1)
    if spread > 8:           # the winners would crowd the left edge of a linear axis
        ax_c.set_xscale("log")
        ax_s.set_xscale("log")
    ax_c.set(xlim=(1 if spread > 8 else 0, longest * 1.05), ylim=(max(0.0, lowest - 0.02), 1.0),
             xlabel=f"SGD step (mini-batches of {race.batch_size})" + (", log scale" if spread > 8 else ""),
             ylabel="validation accuracy",
             title=f"every run until it reaches {race.target:.0%} (dotted)")
    fig.legend(*ax_c.get_legend_handles_labels(), loc="outside lower center", ncols=len(race.runs))
    ax_s.axvline(race.max_steps, color="0.5", linestyle=":")
    ax_s.set(xlim=(min(reached) / 1.3 if spread > 8 else 0, never * 1.08), ylim=(-0.6, len(race.runs) - 0.4),
             yticks=range(len(race.runs)),
             yticklabels=[A.LABELS[a] for a in race.runs],
             xlabel=f"steps to {race.target:.0%} (one point per seed; bar: median)"
                    + (" (log scale)" if spread > 8 else ""),
             title=f"right of the dotted line: not within {race.max_steps} steps")
    if spread > 8:           # plain numbers at round values, no 2x10^1-style minor labels
        lo, hi = ax_s.get_xlim()
        ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if lo <= t <= hi]
        ax_s.xaxis.set_major_locator(FixedLocator(ticks))
        ax_s.xaxis.set_major_formatter(ScalarFormatter())
        ax_s.xaxis.set_minor_formatter(NullFormatter())
    fig.suptitle("The race to a target accuracy, at each activation's best learning rate")
    return fig
