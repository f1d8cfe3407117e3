"""Figures of 04_optimizers: paths on loss landscapes, and each measurement of the notebook against
the quantity its claim is about."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

from ..style import COLORS, new_figure, style_marker


# --------------------------------------------------------------------------- helpers
def plain_ticks(axis, values) -> None:
    """Label a log axis at the measured values with plain numbers (no 10^k minor labels)."""
    axis.set_major_locator(FixedLocator(list(values)))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


def contours(ax, land, n: int = 121, levels: int = 18) -> None:
    """The loss of a :class:`~lecture_lib.landscapes.Landscape` as log-spaced contour lines, for
    drawing paths over it."""
    X, Y, Z = land.grid(n)
    fmin = min(float(Z.min()), float(np.min(land.loss(land.minima))))
    ax.contour(X, Y, np.log10(Z - fmin + 1e-6), levels=levels, cmap="Blues_r", linewidths=0.8)
    ax.set(xlabel="x (parameter 1)", ylabel="y (parameter 2)")


# --------------------------------------------------------------------------- 1 · mini-batches
def plot_batch_timing(timing):
    us = 1e6 * np.array(timing.per_sample)
    ratios = list(timing.ratios.values())
    fig = new_figure(7, 3.2)
    ax = fig.subplots()
    ax.plot(timing.sizes, us, **style_marker(0), label="all sizes")
    powers = [i for i, b in enumerate(timing.sizes) if b & (b - 1) == 0]
    ax.plot([timing.sizes[i] for i in powers], us[powers], "D", color=COLORS[3], markersize=9, label="powers of two",
            linestyle="none")
    ax.set(xscale="log", xlabel="batch size (log scale)", ylabel="time per example (µs)",
           title=f"Powers of two at {min(ratios):.2f}–{max(ratios):.2f}x their neighbours' time (this CPU)")
    plain_ticks(ax.xaxis, timing.sizes[1::3])
    ax.legend()
    return fig


def plot_minibatch_noise(noise, same):
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    ax.loglog(noise.batch_sizes, noise.noise, **style_marker(0), label="random mini-batches")
    ax.loglog(same.batch_sizes, same.noise, **style_marker(1), label="B copies of one example")
    b = np.array(noise.batch_sizes, float)
    ax.loglog(b, noise.noise[0] / b, color="gray", linestyle=":", label="1/B")
    ax.axhline(noise.full_norm2, color=COLORS[2], linestyle="-.", label="|full gradient|²")
    ax.set(xlabel="batch size B", ylabel="mean |g_B − g|²",
           title=f"Mini-batch gradient noise falls as B^{noise.slope:.2f} (1/B: slope −1)")
    ax.legend(fontsize=9)
    return fig


# --------------------------------------------------------------------------- 2 · problems with SGD
def plot_jitter(jitter, land):
    fig = new_figure(9, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    contours(ax1, land)
    ax1.plot(jitter.path[:, 0], jitter.path[:, 1], **style_marker(3), markersize=3, lw=1)
    ax1.set_title("GD zig-zags across the valley (x)")
    ax2.plot(jitter.path[:, 0], **style_marker(0), markersize=3, label="steep coordinate x")
    ax2.plot(jitter.path[:, 1], **style_marker(1), markersize=3, label="shallow coordinate y")
    ax2.set(xlabel="step", ylabel="coordinate value", title="x flips sign each step; y crawls")
    ax2.legend()
    return fig


def plot_condition_scaling(scaling):
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    ax.loglog(scaling.kappas, scaling.gd, **style_marker(0), label=f"gradient descent (slope {scaling.gd_slope:.2f})")
    ax.loglog(scaling.kappas, scaling.hb, **style_marker(1), label=f"tuned heavy ball (slope {scaling.hb_slope:.2f})")
    ax.set(xlabel="condition number κ (log scale)", ylabel="steps to shrink the error 10⁶× (log)",
           title="GD's steps grow like κ, momentum's like √κ")
    plain_ticks(ax.xaxis, scaling.kappas)
    plain_ticks(ax.yaxis, sorted(scaling.gd + scaling.hb))
    ax.legend()
    return fig


HESSIAN_NAMES = {"goe": "random symmetric", "wishart": "A Aᵀ, square A", "lsq4": "least squares, 4n samples"}


def plot_condition_growth(families):
    """Median condition number against dimension for each family (a list of ConditionGrowth)."""
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    for i, m in enumerate(families):
        ax.loglog(m.dims, m.median_kappa, **style_marker(i), label=HESSIAN_NAMES.get(m.kind, m.kind))
    plain_ticks(ax.xaxis, families[0].dims)
    ax.set(xlabel="dimension n (log scale)", ylabel="median condition number κ",
           title="κ grows with dimension, unless data are plentiful")
    ax.legend(fontsize=9)
    return fig


def plot_critical_points(crit):
    fig = new_figure(6.5, 3.2)
    ax = fig.subplots()
    ax.plot(crit.dims, crit.minima, **style_marker(0), label="minima (all eigenvalues > 0)")
    ax.plot(crit.dims, crit.saddles, **style_marker(1), label="saddles (mixed signs)")
    ax.set(xlabel="dimension n", ylabel="fraction of critical points",
           title="In high dimension almost every critical point is a saddle")
    ax.legend()
    return fig


# --------------------------------------------------------------------------- 3 · momentum
def plot_damping(damping, land, first: int = 40, coordinate_steps: int = 80):
    fig = new_figure(9, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    contours(ax1, land)
    for i, (name, path) in enumerate(damping.paths.items()):
        ax1.plot(path[:first, 0], path[:first, 1], **style_marker(i), markersize=3, lw=1.2, label=name)
        ax2.plot(path[:coordinate_steps, 0], **style_marker(i), markersize=2, lw=1.2, label=name)
    ax1.set_title(f"first {first} steps")
    ax1.legend(fontsize=9)
    ax2.set(xlabel="step", ylabel="steep coordinate x", title="momentum damps the zig-zag")
    return fig


def plot_sharp_wide(sw, lr: float):
    """Where each start of the grid ends at ``lr``, for GD and heavy ball (a SharpWide result)."""
    fig = new_figure(9, 3.6)
    for k, (method, title) in enumerate((("sgd", "GD"), ("momentum", f"momentum ρ={sw.momentum:g}"))):
        ax = fig.add_subplot(1, 2, k + 1)
        contours(ax, sw.landscape)
        sharp = sw.in_sharp(method, lr)
        for minimum in sw.landscape.minima:
            ax.plot(*minimum, "*", color="black", markersize=11)
        ax.plot(sw.starts[sharp, 0], sw.starts[sharp, 1], "X", color=COLORS[3], label="ends in the sharp well")
        ax.plot(sw.starts[~sharp, 0], sw.starts[~sharp, 1], "o", color=COLORS[2], markersize=4, label="ends elsewhere")
        ax.set_title(f"{title}, lr = {lr:g}: {sharp.mean():.0%} in the sharp well", fontsize=11)
        ax.legend(fontsize=9, loc="lower right")
    fig.suptitle("Where each start of the grid ends (stars: the sharp and the wide minimum)")
    return fig


# --------------------------------------------------------------------------- 5-7 · AdaGrad, RMSProp, Adam
def plot_step_decay(decay):
    t = np.arange(1, len(decay.adagrad) + 1)
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    ax.loglog(t, decay.adagrad, color=COLORS[0], label="AdaGrad")
    ax.loglog(t, decay.rmsprop, color=COLORS[1], linestyle="--", label="RMSProp (α = 0.99)")
    ax.loglog(t, decay.adagrad[0] / np.sqrt(t), color="gray", linestyle=":", label="∝ t^(−1/2)")
    ax.set(xlabel="step t", ylabel="effective step lr / √G (x axis)",
           title="AdaGrad's step keeps shrinking, RMSProp's levels off")
    ax.legend()
    return fig


def plot_notes_against_fix(result, notes_label: str, fixed_label: str, title: str):
    """Distance to the minimum along the notes' path and the fixed one."""
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    every = max(1, len(result.notes_path) // 12)
    ax.semilogy(np.linalg.norm(result.notes_path, axis=1), **style_marker(3), markevery=every, label=notes_label)
    ax.semilogy(np.linalg.norm(result.fixed_path, axis=1), **style_marker(0), markevery=every, label=fixed_label)
    ax.set(xlabel="step", ylabel="distance to the minimum", title=title)
    ax.legend()
    return fig


def plot_first_steps(first):
    ratio = first.uncorrected / first.corrected
    fig = new_figure(6.5, 3.2)
    ax = fig.subplots()
    ax.plot(first.uncorrected / first.lr, **style_marker(3), label="no bias correction")
    ax.plot(first.corrected / first.lr, **style_marker(0), label="with bias correction")
    ax.set(xlabel="step", ylabel="largest coordinate step / lr",
           title=f"Uncorrected Adam: first step {first.first_ratio:.1f}x too long, later up to {ratio.max():.1f}x")
    ax.legend()
    return fig


def plot_rotation(rot):
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    ax.plot(rot.angles, [np.nan if s is None else s for s in rot.adam], **style_marker(0), label="Adam (best lr)")
    ax.plot(rot.angles, [np.nan if s is None else s for s in rot.momentum], **style_marker(1),
            label="heavy ball (tuned)")
    ax.set(xlabel="rotation of the valley (degrees)", ylabel="steps to 10⁻⁶ of the loss",
           title="Adam's edge is an artefact of axis alignment")
    ax.legend()
    return fig


# --------------------------------------------------------------------------- 8-9 · decay, second order
def plot_lr_decay(decay):
    fig = new_figure(9, 3.4)
    ax1, ax2 = fig.subplots(1, 2)
    for i, (name, r) in enumerate(decay.runs.items()):
        epochs = np.arange(1, len(r.lr) + 1)
        ax1.plot(epochs, r.lr, **style_marker(i), markersize=4, label=name)
        ax2.plot(epochs, r.loss, **style_marker(i), markersize=4, label=name)
    ax1.set(xlabel="epoch", ylabel="learning rate", title="the schedules")
    ax2.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="decay lets SGD settle")
    ax2.legend(fontsize=9)
    return fig


def plot_quasi_newton(cmp):
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    for i, k in enumerate(("numpy_lbfgs", "numpy_bfgs", "momentum_full", "adam_full")):
        label = k.replace("_full", "").replace("numpy_", "")
        ax.semilogy(np.maximum(np.asarray(cmp.full[k]) - cmp.optimum, 1e-12), **style_marker(i), markersize=3,
                    label=label)
    ax.set(xlabel="iteration (one gradient evaluation per step for first-order)", ylabel="loss − optimum",
           title="Full batch: quasi-Newton reaches the optimum far sooner")
    ax.legend(fontsize=9)
    return fig
