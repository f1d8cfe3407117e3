"""Figures of 04_optimizers: paths on loss landscapes, and each measurement of the notebook against
the quantity its claim is about."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

from ..experiments.optimizers.momentum import envelope
from ..style import COLORS, font_pt, new_figure, style_marker
from ..words import count


# --------------------------------------------------------------------------- helpers
def plain_ticks(axis, values) -> None:
    """Label a log axis at the measured values with plain numbers (no 10^k minor labels)."""
    axis.set_major_locator(FixedLocator(list(values)))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


def contours(ax, land, n: int = 121, levels: int = 18, window=None) -> None:
    """The loss of a :class:`~lecture_lib.landscapes.Landscape` as log-spaced contour lines, for
    drawing paths over it; ``window`` (x0, x1, y0, y1) zooms in (default: the landscape's extent)."""
    x0, x1, y0, y1 = land.extent if window is None else window
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    Z = land.f(X, Y)
    fmin = min(float(Z.min()), float(np.min(land.loss(land.minima))))
    ax.contour(X, Y, np.log10(Z - fmin + 1e-6), levels=levels, cmap="Blues_r", linewidths=0.8)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x (parameter 1)", ylabel="y (parameter 2)")


def window_of(*paths, margin: float = 0.08, include=((0.0, 0.0),)) -> tuple:
    """The smallest window (x0, x1, y0, y1) that holds every finite point of ``paths`` and of
    ``include`` (the minimum), widened by ``margin`` of its size on each side."""
    pts = np.vstack([np.asarray(p, dtype=float).reshape(-1, 2) for p in (*paths, include)])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    return (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])


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
    ax.legend()
    return fig


# --------------------------------------------------------------------------- 2 · problems with SGD
def plot_jitter(jitter, land):
    """GD's path on the taco shell (the window fits the path) and both coordinates against step;
    the steep one on a log scale of |x|, where its flips and its decay are both visible."""
    fig = new_figure(12, 3.6)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    contours(ax1, land, window=window_of(jitter.path))
    ax1.plot(jitter.path[:, 0], jitter.path[:, 1], **style_marker(3), markersize=3, lw=1)
    ax1.set_title("GD's path: across (x), then down (y)")
    steps = np.arange(len(jitter.path))
    ax2.plot(steps, jitter.path[:, 0], **style_marker(0), markersize=3, label="steep coordinate x")
    ax2.plot(steps, jitter.path[:, 1], **style_marker(1), markersize=3, label="shallow coordinate y")
    ax2.axhline(0, color="0.5", linewidth=0.8)
    ax2.set(xlabel="step", ylabel="coordinate value", xlim=(0, steps[-1]),
            title=f"x reverses on {jitter.flips:.0%} of steps; y crawls")
    ax2.legend()
    shown = np.abs(jitter.path[:, 0]) > 0
    ax3.semilogy(steps[shown], np.abs(jitter.path[shown, 0]), **style_marker(0), markersize=3, label="|x|")
    ax3.semilogy(steps, np.abs(jitter.path[:, 1]), **style_marker(1), markersize=3, label="|y|")
    ax3.set(xlabel="step", ylabel="distance from the minimum (log)", xlim=(0, steps[-1]),
            title=f"x halves in {count(jitter.half_steep, 'step', none='never')}, "
                  f"y in {count(jitter.half_shallow, 'step', none='never')}")
    ax3.legend()
    return fig


def plot_condition_scaling(scaling):
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    ax.loglog(scaling.kappas, scaling.gd, **style_marker(0), label=f"gradient descent (slope {scaling.gd_slope:.2f})")
    ax.loglog(scaling.kappas, scaling.hb, **style_marker(1),
              label=f"momentum, tuned (section 3; slope {scaling.hb_slope:.2f})")
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
    ax.legend()
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
def plot_damping(damping, land, first: int = 40):
    """GD, heavy ball and Nesterov on the taco shell (a
    :class:`~lecture_lib.experiments.optimizers.Damping`): the first steps of each path; the swing
    across the valley, |x| on a log scale with its envelope (what the eye reads as oscillation);
    and the loss, the progress the claim is about."""
    fig = new_figure(13, 3.9)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    names = {"sgd": "GD", "momentum": "heavy ball", "nesterov": "Nesterov"}
    contours(ax1, land, window=window_of(*(p[:first] for p in damping.paths.values())))
    loss_end, loss_top = 0, 0.0
    for i, (name, path) in enumerate(damping.paths.items()):
        style = style_marker(i)
        ax1.plot(path[:first, 0], path[:first, 1], **style, markersize=3, lw=1.2, label=names[name])
        end = damping.steps[name] if damping.steps[name] is not None else len(path) - 1
        loss_end = max(loss_end, end)
        steps = np.arange(end + 1)
        ax2.semilogy(steps, np.maximum(np.abs(path[:end + 1, 0]), 1e-12), **{**style, "marker": None},
                     lw=0.8, alpha=0.6)
        ax2.semilogy(steps, envelope(path)[:end + 1], **{**style, "marker": None}, lw=2.2,
                     label=f"{names[name]}: ×{damping.swing[name]:.3f} a step")
        loss = land.loss(path[:end + 1]) - float(np.min(land.loss(land.minima)))
        loss_top = max(loss_top, float(np.max(loss)))
        ax3.semilogy(steps, np.maximum(loss, 1e-16), **style, markevery=max(1, end // 12), markersize=4, lw=1.4,
                     label=f"{names[name]}: {damping.steps[name] if damping.steps[name] is not None else 'not'} steps")
    ax1.set_title(f"the first {first} steps", fontsize=font_pt(12))
    ax1.legend()
    ax2.set(xlim=(0, loss_end), ylim=(damping.tol / 3, None), xlabel="step",
            ylabel="|x|, steep coordinate (log)")
    ax2.set_title("swing across: |x| thin, envelope thick", fontsize="medium")
    ax2.legend(title="envelope shrinks")
    # a decade of headroom over the decade of the highest loss, for the legend
    ax3.set(xlim=(0, loss_end), ylim=(None, 10.0 ** (np.ceil(np.log10(loss_top)) + 1)), xlabel="step",
            ylabel="loss − minimum (log)")
    ax3.set_title("progress: the loss", fontsize="medium")
    # the losses fall from the upper left: the upper right corner is free (the heavy ball's swings are
    # not); a short title (the y axis is the loss − minimum) keeps the legend narrow enough for it
    ax3.legend(title=f"steps to ‖x − x*‖ ≤ {damping.tol:g}·‖x₀ − x*‖", loc="upper right")
    swing = damping.swing
    heavy = "but swings wider and longer across the valley" if swing["momentum"] > swing["sgd"] else \
        "and swings less across the valley"
    nesterov = "Nesterov's swing shrinks faster than GD's" if swing["nesterov"] < swing["sgd"] else \
        "so does Nesterov"
    fig.suptitle(f"Heavy ball stops the step-by-step zig-zag {heavy}; {nesterov}")
    return fig


def plot_sharp_wide(sw, lr: float):
    """Where each start of the grid ends at ``lr``, for GD and heavy ball (a SharpWide result)."""
    fig = new_figure(9, 4.2)
    for k, (method, title) in enumerate((("sgd", "GD"), ("momentum", f"momentum ρ={sw.momentum:g}"))):
        ax = fig.add_subplot(1, 2, k + 1)
        contours(ax, sw.landscape)
        sharp = sw.in_sharp(method, lr)
        for minimum in sw.landscape.minima:
            ax.plot(*minimum, "*", color="black", markersize=11)
        ax.plot(sw.starts[sharp, 0], sw.starts[sharp, 1], "X", color=COLORS[3], label="ends in the sharp well")
        ax.plot(sw.starts[~sharp, 0], sw.starts[~sharp, 1], "o", color=COLORS[2], markersize=4, label="ends elsewhere")
        ax.set_title(f"{title}, lr = {lr:g}:\n{sharp.mean():.0%} in the sharp well", fontsize="medium")
    # one legend for both panels, below them: inside, it would cover the bottom rows of starts
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    fig.suptitle("Where each start of the grid ends (stars: the sharp and the wide minimum)")
    return fig


# --------------------------------------------------------------------------- 5-7 · AdaGrad, RMSProp, Adam
def plot_step_decay(decay):
    t = np.arange(1, len(decay.adagrad) + 1)
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    ax.loglog(t, decay.adagrad, color=COLORS[0], label="AdaGrad")
    ax.loglog(t, decay.rmsprop, color=COLORS[1], linestyle="--", label="RMSProp (β2 = 0.99)")
    ax.loglog(t, decay.adagrad[0] / np.sqrt(t), color="gray", linestyle=":", label="∝ t^(−1/2)")
    ax.set(xlabel="step t", ylabel="effective step lr / √G (x axis)",
           title="AdaGrad's step keeps shrinking, RMSProp's levels off")
    ax.legend()
    return fig


def plot_notes_against_fix(result, notes_label: str, fixed_label: str, first: int = 30, floor: float = 1e-12):
    """The notes' update against the fixed one (a
    :class:`~lecture_lib.experiments.optimizers.NotesAgainstFix`). Left: the length of each of the
    first ``first`` steps, where the notes' version freezes; right: the distance to the minimum over
    the whole run (distances below ``floor`` are drawn at it)."""
    fig = new_figure(12, 3.6)
    ax_step, ax_dist = fig.subplots(1, 2)
    steps = {label: np.linalg.norm(np.diff(path, axis=0), axis=1)
             for label, path in ((notes_label, result.notes_path), (fixed_label, result.fixed_path))}
    notes_steps = steps[notes_label]
    frozen = int(np.argmax(notes_steps < 0.01 * notes_steps[0])) + 1 if np.any(notes_steps < 0.01 * notes_steps[0]) \
        else None
    for i, (label, path) in enumerate(((notes_label, result.notes_path), (fixed_label, result.fixed_path))):
        style = style_marker((3, 0)[i])
        n = min(first, len(steps[label]))
        ax_step.semilogy(np.arange(1, n + 1), np.maximum(steps[label][:n], floor), **style, markersize=4,
                         label=label)
        every = max(1, len(path) // 12)
        ax_dist.semilogy(np.maximum(np.linalg.norm(path, axis=1), floor), **style, markevery=every, label=label)
    ax_step.set(xlabel="step", ylabel="length of the step (log)", xlim=(0.5, first + 0.5))
    ax_step.set_title("the notes' steps shrink at once" if frozen is None else
                      f"the notes' step is below 1% of its first after {count(frozen, 'step')}", fontsize="medium")
    ax_step.legend()
    ax_dist.set(xlabel="step", ylabel="distance to the minimum (log)", xlim=(0, len(result.notes_path) - 1))
    ax_dist.set_title(f"distance after {len(result.notes_path) - 1} steps: notes {result.notes_dist:.2g}, fixed "
                      f"{max(result.fixed_dist, floor):.2g}" + (" (the floor)" if result.fixed_dist < floor else ""),
                      fontsize="medium")
    ax_dist.legend()
    return fig


def plot_first_steps(first):
    ratio = first.uncorrected / first.corrected
    fig = new_figure(6.5, 3.2)
    ax = fig.subplots()
    t = np.arange(1, len(first.uncorrected) + 1)         # Adam counts its steps from 1
    ax.plot(t, first.uncorrected / first.lr, **style_marker(3), label="no bias correction")
    ax.plot(t, first.corrected / first.lr, **style_marker(0), label="with bias correction")
    ax.set(xlabel="step t (from 1)", ylabel="largest coordinate step / lr", xlim=(0.5, t[-1] + 0.5),
           title=f"Uncorrected Adam: first step {first.first_ratio:.1f}x too long, later up to {ratio.max():.1f}x")
    ax.legend()
    return fig


def plot_rotation(rot):
    fig = new_figure(6.5, 3.4)
    ax = fig.subplots()
    ax.plot(rot.angles, [np.nan if s is None else s for s in rot.adam], **style_marker(0), label="Adam (best lr)")
    ax.plot(rot.angles, [np.nan if s is None else s for s in rot.momentum], **style_marker(1),
            label="momentum (heavy ball, tuned)")
    ax.set(xlabel="rotation of the valley (degrees)", ylabel="steps to 10⁻⁶ of the loss",
           title="Adam's edge is an artefact of axis alignment")
    ax.legend()
    return fig


# --------------------------------------------------------------------------- 8-9 · decay, second order
def plot_lr_decay(decay):
    fig = new_figure(9, 3.8)
    ax1, ax2 = fig.subplots(1, 2)
    for i, (name, r) in enumerate(decay.runs.items()):
        epochs = np.arange(1, len(r.lr) + 1)
        ax1.plot(epochs, r.lr, **style_marker(i), markersize=4, label=name)
        ax2.plot(epochs, r.loss, **style_marker(i), markersize=4, label=name)
    ax1.set(xlabel="epoch", ylabel="learning rate", title="the schedules")
    ax2.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="decay lets SGD settle")
    # the schedules are the same series in both panels: one legend below them, off the curves
    fig.legend(*ax2.get_legend_handles_labels(), loc="outside lower center", ncols=len(decay.runs))
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
    ax.legend()
    return fig
