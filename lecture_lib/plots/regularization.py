"""Figures of 06_regularization: each ``plot_<what>(result)`` draws the result of the experiment of
the same name in :mod:`lecture_lib.experiments.regularization` (the notes' own pictures are in
:mod:`.regularization_notes`)."""

from __future__ import annotations

import numpy as np

from ..style import COLORS, LINESTYLES, MARKERS, new_figure, style_marker

LABELS = {"none": "no regularization", "dropout": "dropout", "dropconnect": "DropConnect"}


def _limits(values, pad=0.05, floor=None, ceil=None):
    values = np.asarray([v for v in np.ravel(values) if np.isfinite(v)])
    lo, hi = float(values.min()), float(values.max())
    span = max(hi - lo, 1e-3)
    lo, hi = lo - pad * span, hi + pad * span
    return (lo if floor is None else max(lo, floor)), (hi if ceil is None else min(hi, ceil))


# --------------------------------------------------------------------------- overfitting and its cures
def plot_overfitting(runs, seed: int = 0):
    """Training and held-out accuracy per epoch for each method (the first seed's runs, CS231n's
    dropout experiment), and the held-out accuracy of every seed."""
    methods = list(runs.histories)
    fig = new_figure(14, 4.2)
    axes = fig.subplots(1, len(methods) + 1, gridspec_kw={"width_ratios": [1] * len(methods) + [1.25]})
    curves = [runs.histories[m][seed] for m in methods]
    lo, hi = _limits([c.val_acc for c in curves] + [c.train_acc for c in curves], ceil=1.005)
    for ax, method, h in zip(axes, methods, curves, strict=False):
        epochs = np.arange(1, len(h.train_acc) + 1)
        ax.plot(epochs, h.train_acc, label="training", **{**style_marker(0), "markevery": 10})
        ax.plot(epochs, h.val_acc, label="held-out", **{**style_marker(1), "markevery": 10})
        gap = h.train_acc[-1] - h.val_acc[-1]
        ax.set(ylim=(lo, hi), xlabel="epoch", title=f"{LABELS[method]}: gap {gap:.1%}")
        ax.fill_between(epochs, h.val_acc, h.train_acc, color=COLORS[1], alpha=0.12)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right")
    ax = axes[-1]
    for i, method in enumerate(methods):
        acc = runs.held_acc[method]
        ax.scatter(np.full(len(acc), i) + np.linspace(-0.12, 0.12, len(acc)), acc, color=COLORS[i],
                   marker=MARKERS[i], label=LABELS[method], zorder=3)
        ax.hlines(acc.mean(), i - 0.3, i + 0.3, color=COLORS[i], lw=2.5)
    ax.set_xticks(range(len(methods)), [LABELS[m].replace(" regularization", "\nregularization") for m in methods])
    ax.set(ylabel="held-out accuracy", ylim=_limits([runs.held_acc[m] for m in methods], pad=0.3),
           xlim=(-0.5, len(methods) - 0.5),
           title=f"every seed ({len(runs.held_acc[methods[0]])}), bar = mean")
    fig.suptitle(f"{runs.n_train} training digits, a {'-'.join(map(str, runs.sizes))} MLP, the same start and batches: "
                 f"no regularization, dropping units, dropping weights (keep p = {runs.keep:g})")
    return fig


# --------------------------------------------------------------------------- test-time scaling and the ensemble
def plot_test_scaling(scaling, ensemble):
    """Left: how far the mean over m masks is from the single test-time pass, before and after the
    ReLU (Monte Carlo noise falls as 1/sqrt(m); what remains is the test pass's own error). Right:
    held-out accuracy of the average of m random sub-networks against the scaled network."""
    fig = new_figure(13, 4.4)
    ax, ax_e = fig.subplots(1, 2)
    masks = scaling.n_masks
    ax.loglog(masks, scaling.gap_linear, label="before the ReLU (linear in the mask)", **style_marker(0))
    ax.loglog(masks, scaling.gap_relu, label="after the ReLU", **style_marker(1))
    ax.loglog(masks, scaling.gap_linear[0] / np.sqrt(masks), color=COLORS[7], linestyle=":", lw=1.5,
              label="Monte Carlo noise alone: ∝ 1/√m")
    ax.axhline(scaling.bias_relu, color=COLORS[1], lw=1, linestyle="--",   # named in the legend: lines cross it
               label=f"test pass's own error after the ReLU: {scaling.bias_relu:.0%}")
    ax.set(xlabel="masks averaged m (log)", ylabel="|mean over m masks − test pass| / |test pass| (log)",
           title="Scaling = averaging, exactly before a nonlinearity only")
    ax.legend(loc="lower left")
    m = ensemble.n_masks
    ax_e.errorbar(m, ensemble.acc_mean, yerr=ensemble.acc_std, capsize=3, label="average of m sub-networks",
                  **style_marker(2))
    ax_e.axhline(ensemble.acc_scaled, color=COLORS[0], linestyle="--", label="the scaled network (one pass)")
    ax_e.set_xscale("log", base=2)
    ax_e.set(xlabel="sub-networks averaged m (log)", ylabel="held-out accuracy",
             ylim=_limits(np.r_[ensemble.acc_mean - ensemble.acc_std, ensemble.acc_mean + ensemble.acc_std,
                                ensemble.acc_scaled]),
             title=f"Averaging sub-networks (2^{ensemble.n_droppable} possible) climbs to the scaled net")
    ax_e.legend(loc="lower right")
    return fig


def plot_unit_deletion(deletion):
    """For each network, the held-out loss added by deleting each hidden unit, units sorted from
    the most to the least important (the whole distribution, not one number)."""
    fig = new_figure(9, 4.2)
    ax = fig.subplots()
    for i, (label, rise) in enumerate(deletion.loss_rise.items()):
        ordered = np.sort(rise)[::-1]
        ax.plot(np.arange(1, len(ordered) + 1), ordered, label=f"{LABELS.get(label, label)} (worst {ordered[0]:+.3f})",
                **{**style_marker(i), "markevery": max(1, len(ordered) // 12)})
    ax.axhline(0, color=COLORS[7], lw=0.8)
    ax.set_xscale("log")
    ax.set(xlabel="hidden units, most important first (rank, log)", ylabel="held-out loss added by deleting it",
           title="Deleting one hidden unit at a time: what the held-out loss loses")
    ax.legend()
    return fig


def plot_unused_weight(result):
    """A weight with no gradient of its own under Adam with L2 in the loss and under AdamW, for
    several decay strengths."""
    fig = new_figure(9, 4.2)
    ax = fig.subplots()
    steps = np.arange(result.adam_l2.shape[1])
    for i, decay in enumerate(result.decays):
        ax.plot(steps, result.adamw[i], color=COLORS[i], linestyle=LINESTYLES[0],
                label=f"AdamW, weight_decay {decay:g}")
        ax.plot(steps, result.adam_l2[i], color=COLORS[i], linestyle=LINESTYLES[1],
                label=f"Adam + L2 {decay:g}")
    ax.set(xlabel="step", ylabel="the weight", ylim=_limits([result.adam_l2, result.adamw], floor=None),
           title=f"Adam + L2 moves an unused weight by ≈ lr = {result.lr:g} a step whatever λ;\n"
                 "AdamW shrinks it by the factor (1 − lr λ): λ sets the rate")
    # below the panel, one column per decay (AdamW above Adam + L2): the curves fill the panel
    fig.legend(loc="outside lower center", ncols=len(result.decays))
    return fig


# --------------------------------------------------------------------------- augmentation
def _flip_title(flips) -> str:
    from ..experiments.regularization import FLIP_PRESERVES

    kept = [str(c) for c in flips.preserved(FLIP_PRESERVES)]
    which = (f"class{'es' if len(kept) > 1 else ''} {', '.join(kept)}" if kept else "no class")
    return f"Mirrored, only {which} {'stay' if len(kept) > 1 else 'stays'} recognized ({FLIP_PRESERVES:.0%} or more)"


def plot_augmentation(runs, flips):
    """Left: held-out accuracy with each augmentation recipe (every seed, bar = mean). Right: a digit
    classifier's accuracy per class on held-out digits as they are and mirrored."""
    fig = new_figure(13, 4.4)
    ax, ax_f = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    recipes = list(runs.acc)
    for i, recipe in enumerate(recipes):
        acc = runs.acc[recipe]
        ax.scatter(np.full(len(acc), i) + np.linspace(-0.12, 0.12, len(acc)), acc, color=COLORS[i],
                   marker=MARKERS[i], zorder=3)
        ax.hlines(acc.mean(), i - 0.3, i + 0.3, color=COLORS[i], lw=2.5)
    ax.set_xticks(range(len(recipes)), [r.replace(" ", "\n", 1) if len(r) > 10 else r for r in recipes])
    ax.set(ylabel="held-out accuracy", ylim=_limits(list(runs.acc.values()), pad=0.2),
           title=f"{runs.n_train} training digits, MLP: what each augmentation does")
    classes = np.arange(len(flips.acc))
    ax_f.bar(classes - 0.2, flips.acc, width=0.4, color=COLORS[0], label="as they are")
    ax_f.bar(classes + 0.2, flips.acc_flipped, width=0.4, color=COLORS[1], hatch="//", label="mirrored left-right")
    ax_f.set_xticks(classes)
    ax_f.set(xlabel="digit class", ylabel="accuracy on held-out digits", ylim=(0, 1.22),
             title=_flip_title(flips))
    ax_f.set_yticks(np.linspace(0, 1, 6))
    ax_f.legend(loc="upper center", ncol=2, framealpha=0.95)
    return fig


# --------------------------------------------------------------------------- stochastic depth
def plot_stochastic_depth(runs):
    """Left: time per training step against the expected number of residual blocks that run, with
    the paper's prediction (time proportional to the blocks). Right: held-out accuracy with and
    without the test-time scaling, and training accuracy."""
    fig = new_figure(13, 4.4)
    ax, ax_a = fig.subplots(1, 2)
    ms = 1000 * runs.step_seconds
    predicted = ms[0] * runs.predicted_time_ratio()
    ax.plot(runs.expected_blocks, predicted, color=COLORS[7], linestyle="--", marker=None,
            label="prediction: time ∝ blocks that run")
    ax.plot(runs.expected_blocks, ms, linestyle="none", marker=MARKERS[0], color=COLORS[0], markersize=9,
            label=f"measured ({runs.device}, lockstep)")
    # The prediction rises to the right: its line leaves a point's upper left free when the point lies
    # on or above it, its lower right when below; each label goes there.
    for e, t, p, t_pred in zip(runs.expected_blocks, ms, runs.survival_last, predicted, strict=True):
        above = t >= t_pred
        ax.annotate(f"p_L = {p:g}", (e, t), textcoords="offset points", xytext=(-6, 6) if above else (6, -6),
                    ha="right" if above else "left", va="bottom" if above else "top")
    saved = 1 - runs.measured_time_ratio()[-1]
    ax.set(xlabel=f"expected residual blocks per step (of {runs.n_blocks})", ylabel="ms per training step",
           xlim=_limits(runs.expected_blocks, pad=0.25), ylim=_limits(np.r_[ms, predicted], pad=0.3),
           title=f"ResNet-{runs.depth}: {saved:.0%} of the step time saved at p_L = {runs.survival_last[-1]:g} "
                 f"(predicted {1 - runs.predicted_time_ratio()[-1]:.0%})")
    ax.legend(loc="upper left")
    x = np.arange(len(runs.survival_last))
    for values, label, i, shift in ((runs.train_acc, "training", 7, 0.0),
                                    (runs.acc, "held-out: branches × survival", 0, -0.08),
                                    (runs.acc_unscaled, "held-out: scaling forgotten", 3, 0.08)):
        ax_a.plot(x + shift, values, linestyle="none", marker=MARKERS[i % len(MARKERS)], color=COLORS[i],
                  markersize=10, label=label)
    ax_a.set_xticks(x, ["plain ResNet" if p == 1 else f"p_L = {p:g}" for p in runs.survival_last])
    ax_a.set(ylabel="accuracy", xlim=(-0.5, len(x) - 0.5),
             ylim=_limits(np.r_[runs.acc, runs.acc_unscaled, runs.train_acc], pad=0.3, ceil=1.01),
             title="Accuracy of each network (test mode)")
    ax_a.legend(loc="best", framealpha=0.95)
    return fig


# --------------------------------------------------------------------------- pooling
def plot_pooling(runs):
    """Training and held-out accuracy of the same small CNN with each pooling layer (and a single
    test pass of the random one)."""
    fig = new_figure(10, 4.4)
    ax = fig.subplots()
    x = np.arange(len(runs.poolings))
    train = [runs.train_acc[p] for p in runs.poolings]
    held = [runs.acc[p] for p in runs.poolings]
    single = [runs.acc_single[p] for p in runs.poolings]
    ax.plot(x, train, linestyle="none", marker=MARKERS[0], color=COLORS[0], markersize=10, label="training")
    ax.plot(x, held, linestyle="none", marker=MARKERS[1], color=COLORS[1], markersize=10, label="held-out")
    ax.plot(x, single, linestyle="none", marker="x", color=COLORS[3], markersize=9,
            label="held-out, one test pass")
    for i, p in enumerate(runs.poolings):
        ax.vlines(i, held[i], train[i], color=COLORS[7], lw=1, linestyle=":")
        ax.annotate(f"gap {runs.gap(p):.1%}", (i, (train[i] + held[i]) / 2), textcoords="offset points",
                    xytext=(8, 0), va="center")
    ax.set_xticks(x, list(runs.poolings))
    seeds = len(next(iter(runs.acc_seeds.values())))
    ax.set(ylabel="accuracy (mean over seeds)", xlim=(-0.5, len(x) - 0.5),
           ylim=_limits(train + held + single, pad=0.3, ceil=1.01),
           title=f"The same small CNN with {len(x)} kinds of pooling, {seeds} seed(s); the random one "
                 "averaged over several test passes")
    fig.legend(loc="outside lower center", ncols=3)   # below the panel: the markers can lie anywhere in it
    return fig


# --------------------------------------------------------------------------- weight decay in residual nets
def plot_residual_decay(result):
    """Each residual block's branch size relative to its input, per task, at initialization and after
    training with and without weight decay."""
    fig = new_figure(13, 4.2)
    axes = np.atleast_1d(fig.subplots(1, len(result.tasks), sharey=True))
    top = max(max(float(np.max(v)) for v in result.ratios[t].values()) for t in result.tasks)
    for ax, task in zip(axes, result.tasks, strict=True):
        blocks = np.arange(1, len(result.initial[task]) + 1)
        ax.plot(blocks, result.initial[task], color=COLORS[7], linestyle=":", marker=".", label="at initialization")
        for i, decay in enumerate(result.decays):
            acc = result.acc[task][decay]
            ax.plot(blocks, result.ratios[task][decay], label=f"trained, weight decay {decay:g} (acc {acc:.0%})",
                    **style_marker(i))
        ax.set(xlabel="residual block", title=task, ylim=(0, 1.08 * top))
        ax.set_xticks(blocks)
        ax.legend()
    axes[0].set_ylabel("‖F(x)‖ / ‖x‖  (0: the block is the identity)")
    fig.suptitle("The same decay: blocks the task does not need shrink to near-identity, needed ones stay")
    return fig
