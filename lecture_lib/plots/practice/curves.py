"""Figures of babysitting a run: the notes' ``lr``, ``bad_init`` and ``gap`` pictures from real runs
on the digits, and the update-to-weight ratio against the learning rate."""

from __future__ import annotations

import math

import numpy as np

from ... import babysitting
from ...figures import figure
from ...style import COLORS, new_figure, style_marker

LR_PICTURE = {"too low": 1e-3, "good": 1e-2, "too high": 0.3, "far too high": 3.0}


def _curves(curves):
    if curves is None:
        from ...experiments.practice import measure_loss_curves

        curves = measure_loss_curves(np.random.default_rng(8))
    return curves


@figure("lr", notebook="09_training_practice")
def plot_lr_curves(curves=None, scale: float = 1.0):
    """Training loss per epoch (epoch 0: before the first step) of four real runs of the sweep
    ``curves`` (:class:`~lecture_lib.experiments.practice.LossCurves`), each labelled with the
    diagnosis computed from it."""
    curves = _curves(curves)
    fig = new_figure(8.5, 5.0)
    ax = fig.add_subplot()
    top, low = 0.0, np.inf
    for i, (name, lr) in enumerate(LR_PICTURE.items()):
        run = curves.run(lr, scale)
        loss = np.r_[run["step_loss"][0], run["train_loss"]]
        top, low = max(top, np.nanmax(loss)), min(low, np.nanmin(loss))
        ax.plot(np.arange(len(loss)), loss, **style_marker(i), markersize=4,
                label=f"lr {lr:g} ({name}), diagnosed: {curves.diagnosis(lr, scale).label}")
    ax.axhline(math.log(10), color="gray", linestyle=":", linewidth=1.2, label="chance: log 10")
    ax.set(yscale="log", ylim=(low / 1.3, top * 1.3), xlabel="epoch", ylabel="training loss (log scale)",
           title="Learning rate too low crawls, good falls, too high bounces, far too high blows up and dies")
    fig.legend(loc="outside lower center", ncols=2)      # below: the curves fill every corner
    return fig


@figure("bad_init", notebook="09_training_practice")
def plot_bad_init(curves=None, lr: float = 0.1, scales=(0.1, 1.0)):
    """The loss of every step (a moving average over one epoch) at one learning rate, from He's
    initialization and from one scaled down; the small one sits at log C before it moves."""
    curves = _curves(curves)
    fig = new_figure(8.5, 4.4)
    ax = fig.add_subplot()
    for i, scale in enumerate(scales):
        steps = curves.run(lr, scale)["step_loss"]
        per_epoch = len(steps) // curves.train_loss.shape[-1]
        smooth = np.convolve(steps, np.ones(per_epoch) / per_epoch, mode="valid")
        ax.plot(np.arange(len(steps)) / per_epoch, steps, color=COLORS[i], alpha=0.25, linewidth=1)
        ax.plot((np.arange(len(smooth)) + per_epoch - 1) / per_epoch, smooth, color=COLORS[i],
                linestyle=("-", "--")[i], label=f"init {scale:g} x He: {curves.diagnosis(lr, scale).label}")
    ax.axhline(math.log(10), color="gray", linestyle=":", linewidth=1.2, label="log 10 = 2.30")
    flat = babysitting.epochs_at_chance(curves.run(lr, scales[0])["train_loss"], 10)
    ax.set(xlabel="epoch", ylabel="training loss per step (line: one-epoch average)",
           ylim=(0, max(3.0, float(np.nanmax(curves.run(lr, scales[1])["step_loss"])) * 1.05)),
           title=f"A too-small init: the loss sits at log 10 for {flat} epochs before it falls (lr {lr:g})")
    fig.legend(loc="outside lower center", ncols=3)      # below: inside, it would hide the log 10 line
    return fig


@figure("gap", notebook="09_training_practice")
def plot_gap(gap=None):
    """Training (solid) against validation (dashed) accuracy per epoch, for each setting of
    ``gap`` (:class:`~lecture_lib.experiments.practice.Gap`), with the final gap."""
    if gap is None:
        from ...experiments.practice import measure_gap

        gap = measure_gap(np.random.default_rng(9))
    fig = new_figure(9, 4.2)
    ax = fig.add_subplot()
    epochs = np.arange(1, gap.train_acc.shape[1] + 1)
    label_y = []
    for i, label in enumerate(gap.labels):
        ax.plot(epochs, gap.train_acc[i], color=COLORS[i], linestyle="-", marker=style_marker(i)["marker"],
                markersize=4, label=label)
        ax.plot(epochs, gap.val_acc[i], color=COLORS[i], linestyle="--", marker=style_marker(i)["marker"],
                markersize=4, markerfacecolor="white")
        label_y.append(gap.val_acc[i, -1])
    order = np.argsort(label_y)
    placed = []
    for i in order:  # final gaps written beside the validation curves, kept apart
        y = max(label_y[i], placed[-1] + 0.05) if placed else label_y[i]
        placed.append(y)
        ax.text(epochs[-1] + 0.4, y, f"gap {gap.final_gap[i]:+.1%}", va="center", color=COLORS[i])
    ax.plot([], [], color="black", linestyle="-", label="training (solid)")
    ax.plot([], [], color="black", linestyle="--", markerfacecolor="white", label="validation (dashed)")
    low = min(gap.train_acc.min(), gap.val_acc.min())
    ax.set(xlim=(0.5, epochs[-1] * 1.2), ylim=(max(0.0, low - 0.05), 1.02), xlabel="epoch", ylabel="accuracy",
           title="Few images: a big gap (overfitting); few units: a small gap at a low accuracy (underfitting)")
    ax.legend(loc="lower right")
    return fig


def plot_update_ratio(result):
    """The update-to-weight ratio per layer against the learning rate (log-log), with the rule of
    thumb's 1e-3, beside the validation accuracy each rate reached."""
    from ...experiments.practice import RULE_OF_THUMB, best_ratio

    fig = new_figure(11, 3.9)
    ax, ax_acc = fig.subplots(1, 2)
    for i, name in enumerate(result.layers):
        ax.loglog(result.lrs, result.ratios[:, i], **style_marker(i), label=f"layer {name}")
    ax.axhspan(RULE_OF_THUMB / 3, RULE_OF_THUMB * 3, color=COLORS[2], alpha=0.15, label="rule of thumb ~1e-3")
    best = int(np.argmax(result.val_acc))
    ax.axvline(result.lrs[best], color=COLORS[3], linestyle=":", label=f"best lr {result.lrs[best]:g}")
    ax.set(xlabel="learning rate (log)", ylabel="median ||ΔW|| / ||W|| per step (log)",
           title=f"At the best lr the ratio is {best_ratio(result):.0e}, not 1e-3")
    ax.legend()
    ax_acc.semilogx(result.lrs, result.val_acc, **style_marker(3))
    ax_acc.set(xlabel="learning rate (log)", ylabel="validation accuracy", ylim=(0, 1),
               title="What each learning rate reached")
    return fig
