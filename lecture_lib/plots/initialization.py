"""Figures of 02_initialization: preprocessing against training speed and curvature, covariances
after PCA and whitening, the activation statistics forward and backward, He's factor of 2, and the
training curves from each init."""

from __future__ import annotations

import math

import numpy as np

from .. import init as I
from ..style import COLORS, new_figure, style_marker


def init_style(init: str, fallback: int) -> dict:
    """One colour, line style and marker per init, the same in every figure of 02 (by its place in
    ``init.INITS``; ``fallback`` for a name outside it)."""
    return style_marker(I.INITS.index(init) if init in I.INITS else fallback)


def plot_preprocessing(comparison):
    """Steps to the target against the learning rate for each version of the inputs, and the
    curvature spectrum each one gives a linear layer (a
    :class:`~lecture_lib.experiments.initialization.PreprocessingComparison`)."""
    fig = new_figure(12, 4.2)
    ax_lr, ax_eig = fig.subplots(1, 2)
    plotted = []
    for i, (name, v) in enumerate(comparison.versions.items()):
        tried = sorted((lr, s) for lr, s in v.speed.tried.items() if s is not None)
        plotted += [s for _, s in tried]
        ax_lr.plot([lr for lr, _ in tried], [s for _, s in tried], label=name, **style_marker(i))
        ax_eig.semilogy(np.arange(1, len(v.eigenvalues) + 1), np.maximum(v.eigenvalues, 1e-8), label=name,
                        **{**style_marker(i), "markersize": 3})
    ax_lr.set(xscale="log", yscale="log", xlabel="learning rate (log)",
              ylabel=f"steps to loss {comparison.target:g} (log)",
              title="Each version at its best rate: centring and scaling win")
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if min(plotted) / 1.5 <= t <= max(plotted) * 1.5]
    ax_lr.set_yticks(ticks, [str(t) for t in ticks])
    ax_lr.set_yticks([], minor=True)
    ax_lr.legend()
    ax_eig.set(xlabel="eigenvalue rank", ylabel="eigenvalue of E[x xᵀ] (log, floored at 1e-8)",
               title="Curvature: centring removes the top (mean) direction")
    ax_eig.legend()
    return fig


def plot_covariances(covariances: dict):
    """Each covariance matrix (``{title: C}``) as a heat map with a symmetric colour scale."""
    fig = new_figure(12, 3.6)
    for ax, (name, C) in zip(np.atleast_1d(fig.subplots(1, len(covariances))), covariances.items(), strict=True):
        lim = np.abs(C).max()
        im = ax.imshow(C, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set(title=name, xlabel="feature", ylabel="feature")
        ax.grid(False)
        fig.colorbar(im, ax=ax, shrink=0.8, label="covariance")
    fig.suptitle("Covariance of the inputs: PCA diagonalizes it, whitening makes it the identity")
    return fig


# the range of each activation's output: its mean panel spans it, so that drift is read against
# what the activation could do, not magnified from noise
OUTPUT_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def hidden_under(curves: dict) -> dict:
    """For each name whose curve a later one covers (equal to rounding): the first such name."""
    names, under = list(curves), {}
    for k, a in enumerate(names):
        twin = next((b for b in names[k + 1:] if np.shape(curves[a]) == np.shape(curves[b])
                     and np.allclose(curves[a], curves[b], rtol=1e-6)), None)
        if twin is not None:
            under[a] = twin
    return under


def plot_forward_statistics(grid):
    """Std (top) and mean (bottom) of the activations per layer, one column per activation, one
    line per init (a :class:`~lecture_lib.experiments.initialization.StatisticsGrid`). The mean
    panels of tanh and sigmoid span the activation's whole output range; ReLU's mean is on a log
    scale (its outputs are positive). A curve drawn under another says so in the legend."""
    activations = list(grid.stats)
    fig = new_figure(13, 7)
    axes = fig.subplots(2, len(activations), sharex=True, squeeze=False)
    for col, act in enumerate(activations):
        runs = grid.stats[act]
        under = hidden_under({init: s.stds for init, s in runs.items()})
        for k, (init, s) in enumerate(runs.items()):
            layers = np.arange(1, s.depth + 1)
            label = init + (f" (under {under[init]})" if init in under else "")
            axes[0, col].semilogy(layers, np.maximum(s.stds, 1e-12), label=label, **init_style(init, k))
            axes[1, col].plot(layers, np.maximum(s.means, 1e-12) if act == "relu" else s.means, label=label,
                              **init_style(init, k))
        axes[0, col].set(title=f"{act}: std per layer", ylabel="std of h (log)")
        axes[1, col].set(title=f"{act}: mean per layer", xlabel="layer", ylabel="mean of h")
        if act == "relu":
            axes[1, col].set_yscale("log")
            axes[1, col].set_ylabel("mean of h (log; ReLU outputs are positive)")
        elif act in OUTPUT_RANGE:
            lo, hi = OUTPUT_RANGE[act]
            axes[1, col].set_ylim(lo, hi)
            axes[1, col].axhline((lo + hi) / 2, color=COLORS[7], linewidth=1, linestyle=":")
            axes[1, col].set_title(f"{act}: mean (axis: its output range)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    fig.suptitle("Forward pass: with ReLU only He holds the std; 0.01 collapses it through tanh and ReLU; "
                 "1.0 saturates tanh")
    return fig


def plot_histograms(grid):
    """The distribution of the activations, one small panel per (activation, init), one row of each
    panel per layer (layer 1 at the bottom)."""
    activations = list(grid.stats)
    inits = list(grid.stats[activations[0]])
    fig = new_figure(13, 7.5)
    axes = fig.subplots(len(activations), len(inits), squeeze=False)
    for row, act in enumerate(activations):
        for col, init in enumerate(inits):
            s, ax = grid.get(init, act), axes[row, col]
            im = ax.imshow(np.log10(s.hist + 1e-4), aspect="auto", origin="lower", cmap="viridis",
                           extent=(s.bin_edges[0], s.bin_edges[-1], 0.5, s.depth + 0.5), vmin=-4, vmax=0,
                           interpolation="nearest")
            ax.grid(False)
            ax.set_title(f"{init} · {act}", fontsize="medium")
            if col == 0:
                ax.set_ylabel("layer")
            if row == len(activations) - 1:
                ax.set_xlabel("value of h")
    fig.colorbar(im, ax=axes, shrink=0.6, label="log10 of the fraction in the bin")
    fig.suptitle("Histograms of h, one row per layer (values outside the range go to the end bins)")
    return fig


def plot_backward_statistics(grid):
    """The size of the gradient dL/dh per layer, one panel per activation, one line per init; the
    shared log axis spans every measured value (a gradient of exactly 0 would be drawn at 1e-30)."""
    activations = list(grid.stats)
    fig = new_figure(13, 4.3)
    axes = np.atleast_1d(fig.subplots(1, len(activations), sharey=True))
    values = np.concatenate([s.grad_rms for act in activations for s in grid.stats[act].values()])
    positive = values[values > 0]
    for col, (ax, act) in enumerate(zip(axes, activations, strict=True)):
        runs = grid.stats[act]
        under = hidden_under({init: s.grad_rms for init, s in runs.items()})
        for k, (init, s) in enumerate(runs.items()):
            label = init + (f" (under {under[init]})" if init in under else "")
            ax.semilogy(np.arange(1, s.depth + 1), np.maximum(s.grad_rms, 1e-30), label=label, **init_style(init, k))
        ax.set(title=f"{act}: gradient flowing back", xlabel=f"layer (the gradient enters at {s.depth})",
               ylabel="RMS of dL/dh (log)" if col == 0 else None)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    axes[0].set_ylim(positive.min() / 3, positive.max() * 3)
    fig.suptitle("Backward pass: 0.01 shrinks the gradient as fast as the activations; 1.0 makes it explode, "
                 "most with ReLU")
    return fig


def plot_he_factor(stats):
    """Why He's 2: relu(z)² keeps half of z²'s mean; and, in the He + ReLU run (an
    :class:`~lecture_lib.init.ActivationStats`), the share of inputs on which each unit is zero, in
    layer 1 and in the last layer."""
    fig = new_figure(12, 3.8)
    ax_h, ax_u = fig.subplots(1, 2)
    z = np.linspace(-3, 3, 200)
    ax_h.plot(z, z ** 2, color=COLORS[2], linestyle="--", label="z²: mean = Var(z)")
    ax_h.plot(z, np.maximum(z, 0) ** 2, color=COLORS[3], label="relu(z)²: mean = Var(z)/2")
    ax_h.set(xlabel="pre-activation z (std 1)", ylabel="square", title="ReLU keeps half of the second moment")
    ax_h.legend()
    bins = np.linspace(0, 1, 41)
    n_units = stats.unit_zero_share.shape[1]
    ax_u.hist(stats.unit_zero_share[0], bins=bins, color=COLORS[0], label="layer 1")
    ax_u.hist(stats.unit_zero_share[-1], bins=bins, color=COLORS[1], alpha=0.6, hatch="//",
              label=f"layer {stats.depth}")
    ax_u.set(xlabel="share of the inputs on which a unit outputs 0", ylabel=f"units (of {n_units})",
             title=f"Zeros per unit: {stats.dead_units[0]:.0%} dead in layer 1, "
                   f"{stats.dead_units[-1]:.0%} by layer {stats.depth}")
    ax_u.legend()
    return fig


def plot_training_curves(runs: dict, depth: int):
    """Training loss per epoch from each init (``{init: InitRun}``); a run that diverged ends at a
    vertical line, and a curve hidden under another says so in the legend."""
    fig = new_figure(10, 4.2)
    ax = fig.subplots()
    names = list(runs)
    for k, (init, r) in enumerate(runs.items()):
        label = I.LABELS.get(init, init) if r.diverged_at is None else \
            f"{I.LABELS.get(init, init)} (diverged in epoch {r.diverged_at})"
        twin = next((o for o in names[k + 1:] if len(runs[o].train_loss) == len(r.train_loss)
                     and np.allclose(runs[o].train_loss, r.train_loss, atol=1e-3)), None)
        if twin is not None:
            label += f" (hidden under {I.LABELS.get(twin, twin)})"
        ax.plot(np.arange(1, len(r.train_loss) + 1), r.train_loss, label=label, **init_style(init, k))
        if r.diverged_at is not None:
            ax.axvline(r.diverged_at, **{**init_style(init, k), "marker": None, "linewidth": 1})
    n_classes = next(iter(runs.values())).net.sizes[-1]
    chance = math.log(n_classes)
    # named in the legend: a text by the line could sit on a diverged run's vertical line
    ax.axhline(chance, color=COLORS[7], linewidth=1, linestyle=":", label=f"chance: ln {n_classes}")
    ax.set(xlabel="epoch", ylabel="training loss (cross-entropy)", ylim=(0, chance * 1.13),
           title=f"{depth} ReLU layers: the plateau of a bad init, and He's head start")
    ax.legend()
    return fig
