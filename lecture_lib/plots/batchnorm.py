"""Figures of 05_batchnorm: each takes the result of a ``measure_*`` experiment of
:mod:`lecture_lib.experiments.batchnorm` and returns a pyplot-free Figure.
The notes' picture ``normalize`` is registered here."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import PowerNorm

from ..experiments import batchnorm as B
from ..figures import figure
from ..style import COLORS, LINESTYLES, MARKERS, legend_beside, new_figure, style_marker

NORM_LABELS = {"none": "without BN", "batchnorm": "with BN", "layernorm": "layer norm"}


def _axes(ax, width, height):
    """The given axes and its figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(width, height)
    return fig, fig.subplots()


# --------------------------------------------------------------------------- statistics
def plot_unit_gaussian(result: B.UnitGaussianResult):
    """Layer x bin heat-maps of the activation's input, without and with BN, at init and trained;
    a std per layer is written next to each row."""
    fig = new_figure(12.5, 6.2)
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    peak = max(s.hist.max() for s in result.stats.values())
    for col, norm in enumerate(("none", "batchnorm")):
        for row, state in enumerate(("initial", "trained")):
            s, ax = result.stats[f"{norm}/{state}"], axes[row, col]
            n_layers = len(s.std)
            image = ax.imshow(s.hist, aspect="auto", origin="lower", cmap="viridis", interpolation="none",
                              extent=(B.BINS[0], B.BINS[-1], 0.5, n_layers + 0.5),
                              norm=PowerNorm(0.5, vmin=0, vmax=peak))
            for layer, std in enumerate(s.std, start=1):   # right of the panel, off the edge bins
                ax.text(1.01, layer, f"{std:.2f}", ha="left", va="center",
                        transform=ax.get_yaxis_transform())
            ax.text(1.01, n_layers + 0.9, "std", ha="left", va="bottom", transform=ax.get_yaxis_transform())
            ax.grid(False)
            ax.set_title(f"{NORM_LABELS[norm]}, {'at init' if state == 'initial' else 'trained'}")
            if row == 1:
                ax.set_xlabel("input z of the activation (outer bins: beyond ±4)")
            if col == 0:
                ax.set_ylabel("hidden layer")
    fig.colorbar(image, ax=axes, shrink=0.8, label="fraction of the batch's values in the bin")
    spans = {n: np.concatenate([result.stats[f"{n}/{s}"].std for s in ("initial", "trained")])
             for n in ("none", "batchnorm")}
    fig.suptitle(f"Each layer over a batch of {result.batch_size}: per-layer std {spans['batchnorm'].min():.2f}–"
                 f"{spans['batchnorm'].max():.2f} with BN, {spans['none'].min():.2f}–{spans['none'].max():.2f} without")
    return fig


def plot_gamma_beta(result: B.GammaBeta):
    """Learned gamma and beta per layer: their range (bar) and median (marker)."""
    fig = new_figure(14, 3.6)
    ax_g, ax_b = fig.subplots(1, 2)
    layers = np.arange(1, len(result.gamma) + 1)
    for axis, values, ref, name, i in ((ax_g, result.gamma, 1.0, "γ", 0), (ax_b, result.beta, 0.0, "β", 1)):
        lo, hi = [v.min() for v in values], [v.max() for v in values]
        axis.vlines(layers, lo, hi, color=COLORS[i], linewidth=6, alpha=0.5, label="range over the units")
        axis.plot(layers, [np.median(v) for v in values], linestyle="none", marker=MARKERS[i], color=COLORS[i],
                  label="median")
        axis.axhline(ref, color=COLORS[7], linestyle=":", linewidth=1, label=f"initial value {ref:g}")
        axis.set(xlabel="hidden layer", ylabel=f"learned {name}", title=f"{name} per layer after training")
    (g_lo, g_hi), (b_lo, b_hi) = result.gamma_range, result.beta_range
    i_lo, i_hi = result.identity_gamma_range
    ax_g.vlines(layers + 0.25, [v.min() for v in result.identity_gamma], [v.max() for v in result.identity_gamma],
                color=COLORS[2], linewidth=2, linestyle=":", label="γ that would undo BN\n(batch std)")
    for axis in (ax_g, ax_b):   # beside the panels: the bars fill them from end to end
        legend_beside(axis)
    fig.suptitle(f"What training made of γ and β: γ in [{g_lo:.2f}, {g_hi:.2f}] (undoing BN would need "
                 f"[{i_lo:.2f}, {i_hi:.2f}]), β in [{b_lo:.2f}, {b_hi:.2f}]")
    return fig


def plot_conv_statistics(result: B.ConvStatistics):
    """Per-channel mean and std of real RGB patches: raw, after per-channel (spatial) batch norm,
    after one scalar mean and variance for the whole tensor."""
    fig = new_figure(11, 3.8)
    ax_m, ax_s = fig.subplots(1, 2)
    channels = np.arange(3)
    versions = (("raw / 100", result.channel_mean_before / 100, result.channel_std_before / 100),
                ("per-channel BN", result.channel_mean_after, result.channel_std_after),
                ("one scalar for all", result.channel_mean_one_scalar, result.channel_std_one_scalar))
    width = 0.27
    for k, (label, mean, std) in enumerate(versions):
        hatch = (None, "//", "..")[k]
        ax_m.bar(channels + (k - 1) * width, mean, width, color=COLORS[k], hatch=hatch, label=label)
        ax_s.bar(channels + (k - 1) * width, std, width, color=COLORS[k], hatch=hatch, label=label)
    for axis, what in ((ax_m, "mean"), (ax_s, "std")):
        axis.set_xticks(channels, ["red", "green", "blue"])
        axis.set(xlabel="channel", ylabel=f"{what} over (N, H, W)", title=f"per-channel {what}")
        axis.axhline(1.0 if what == "std" else 0.0, color=COLORS[7], linestyle=":", linewidth=1)
    ax_s.legend()
    n, c, h, w = result.shape
    after, one = result.channel_std_after, result.channel_std_one_scalar
    fig.suptitle(f"{n} photo patches of {c}×{h}×{w}: channel stds {after.min():.2f}–{after.max():.2f} after "
                 f"per-channel BN, {one.min():.2f}–{one.max():.2f} with one scalar for all")
    return fig


def plot_gradient_flow(result: B.GradientFlow):
    """‖dL/dW‖ per layer at init, one line per weight scale; without and with BN side by side."""
    fig = new_figure(12, 4.2)
    axes = fig.subplots(1, 2, sharey=True)
    layers = np.arange(1, result.depth + 2)
    values = np.concatenate([v for v in result.norms.values()])
    positive = values[values > 0]
    for ax, norm in zip(axes, ("none", "batchnorm"), strict=True):
        for k, scale in enumerate(result.scales):
            g = result.get(norm, scale)
            ax.semilogy(layers, np.where(g > 0, g, np.nan), label=f"{scale:g} × He std", **style_marker(k))
        ax.set(xlabel=f"layer (1 = input side, {result.depth + 1} = output)", title=NORM_LABELS[norm])
    # one legend for both panels, below them: the curves span the panels' whole width
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=len(result.scales))
    axes[0].set_ylabel("‖dL/dW‖ at init (log)")
    axes[0].set_ylim(positive.min() / 3, positive.max() * 3)
    ratios = {n: [result.ratio(n, s) for s in result.scales] for n in ("none", "batchnorm")}
    fig.suptitle(f"{result.depth} ReLU layers at init: layer-1 / layer-{result.depth} gradient "
                 f"{min(ratios['none']):.1e}–{max(ratios['none']):.1e} without BN, "
                 f"{min(ratios['batchnorm']):.1f}–{max(ratios['batchnorm']):.1f} with BN over the scales")
    return fig


# --------------------------------------------------------------------------- training sweeps
def plot_lr_scale_grid(result: B.LrScaleGrid):
    """Two heat-maps of validation accuracy over learning rate x weight std; × marks divergence."""
    fig = new_figure(12.5, 4.8)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, norm in zip(axes, ("none", "batchnorm"), strict=True):
        acc = result.accuracy(norm)
        image = ax.imshow(np.nan_to_num(acc, nan=0.0), origin="lower", cmap="viridis", vmin=0, vmax=1,
                          aspect="auto")
        for i in range(acc.shape[0]):
            for j in range(acc.shape[1]):
                text = "×" if np.isnan(acc[i, j]) else f"{acc[i, j]:.2f}"[1:] if acc[i, j] < 1 else "1"
                ax.text(j, i, text, ha="center", va="center",
                        color="white" if np.isnan(acc[i, j]) or acc[i, j] < 0.6 else "black")
        ax.set_xticks(range(len(result.weight_stds)), [f"{s:.0e}".replace("e-0", "e-").replace("e+0", "e")
                                                       for s in result.weight_stds], rotation=45)
        ax.set_yticks(range(len(result.lrs)), [f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e") for v in result.lrs])
        ax.grid(False)
        ax.set(xlabel="weight std at init (log)", title=f"{NORM_LABELS[norm]}: trains at "
               f"{result.scale_share(norm):.0%} of the scales, lr up to {result.largest_lr(norm):g}")
    axes[0].set_ylabel("learning rate (log)")
    fig.colorbar(image, ax=axes, shrink=0.9, label="validation accuracy (× diverged)")
    fig.suptitle(f"{result.depth} hidden layers of {result.width}, SGD + momentum, {result.epochs} epoch(s): "
                 f"where each net trains (accuracy ≥ {B.TRAINS_ACC:.0%})")
    return fig


def plot_batch_dependence(result: B.BatchDependence):
    """Spread of one example's output over the batches it is put in, against the batch size; and
    the train / validation accuracies without and with BN."""
    fig = new_figure(12, 4.0)
    ax, ax_gap = fig.subplots(1, 2, width_ratios=(1.6, 1))
    sizes = np.array(result.batch_sizes)
    ax.loglog(sizes, result.score_spread, label="spread of its class scores", **style_marker(0))
    ref = result.score_spread[0] * np.sqrt(sizes[0] / sizes)
    ax.loglog(sizes, ref, color=COLORS[7], linestyle=":", label="∝ 1/√B")
    ax.set(xlabel="batch size B (log)", ylabel="std over batch draws (log)",
           title="One example's scores change with its batch")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.legend()
    names = list(result.gap)
    x = np.arange(len(names))
    ax_gap.bar(x - 0.2, [result.train_acc[n] for n in names], 0.4, color=COLORS[0], label="train")
    ax_gap.bar(x + 0.2, [result.val_acc[n] for n in names], 0.4, color=COLORS[1], hatch="//", label="validation")
    for i, n in enumerate(names):
        ax_gap.text(i, max(result.train_acc[n], result.val_acc[n]) + 0.03, f"gap {result.gap[n]:.3f}", ha="center")
    ax_gap.set(ylim=(0.0, 1.12), ylabel="accuracy", title="Train / validation gap")   # bars from 0: heights compare
    ax_gap.set_xticks(x, [NORM_LABELS[n] for n in names])
    legend_beside(ax_gap)
    fig.suptitle(f"Batch noise falls {result.score_spread[0] / result.score_spread[-1]:.1f}× from B = {sizes[0]} to "
                 f"{sizes[-1]}; train/validation gap {result.gap['none']:.3f} without BN, "
                 f"{result.gap['batchnorm']:.3f} with")
    return fig


def plot_test_time(result: B.TestTimeResult, ax=None):
    """Validation accuracy of the trained BN net evaluated three ways, and of a second run whose running
    averages lag (momentum 0.99), before and after recalibrating them."""
    fig, ax = _axes(ax, 10, 3.8)
    bars = [("test mode\n(running stats)", result.accuracy_test_mode),
            ("train mode,\nbatches of 1 (bug)", result.accuracy_train_mode_single),
            ("train mode,\nwhole split", result.accuracy_train_mode_full_batch),
            (f"lagging run\n(momentum {result.lag_momentum:g})", result.accuracy_lagging),
            ("lagging run,\nrecalibrated", result.accuracy_recalibrated)]
    for k, (_, value) in enumerate(bars):
        ax.bar(k, value, color=COLORS[k], hatch=(None, "xx", "//", "..", None)[k])
        ax.text(k, value + 0.02, f"{value:.1%}", ha="center")
    ax.set_xticks(range(len(bars)), [b[0] for b in bars])
    ax.set(ylim=(0, 1.12), ylabel="validation accuracy", title="Validation accuracy: the trained BN net three ways, "
           "then a run whose running averages lag")
    return fig


def plot_batch_size(result: B.BatchSizeSweep, ax=None):
    fig, ax = _axes(ax, 11, 4.0)
    sizes = result.batch_sizes
    ax.semilogx(sizes, result.batchnorm, label="batch norm (test mode)", **style_marker(0))
    ax.semilogx(sizes, result.batchnorm_train_mode, label="batch norm\n(train mode, batches of B)",
                **{**style_marker(1), "linestyle": ":"})
    ax.semilogx(sizes, result.layernorm, label="layer norm", **style_marker(2))
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set(xlabel="batch size B (log)", ylabel="validation accuracy", ylim=(0, 1.02),
           title=f"{result.epochs} epoch(s) at every B; at B = {sizes[0]}: BN {result.batchnorm[0]:.0%}, "
                 f"layer norm {result.layernorm[0]:.0%}")
    ax.axhline(0.1, color=COLORS[7], linestyle=":", linewidth=1, label="chance (10 classes)")
    legend_beside(ax)
    return fig


def plot_steps_to_target(result: B.StepsToTarget, ax=None):
    fig, ax = _axes(ax, 8, 3.8)
    for k, norm in enumerate(("none", "batchnorm")):
        steps = {"none": result.plain, "batchnorm": result.batchnorm}[norm]
        ax.semilogx(result.lrs, steps, label=NORM_LABELS[norm], **style_marker(k))
        missing = np.isnan(steps)
        if missing.any():
            ax.plot(result.lrs[missing], np.full(missing.sum(), result.max_steps), linestyle="none",
                    marker="x", color=COLORS[k], markersize=10)
    ax.axhline(result.max_steps, color=COLORS[7], linestyle=":", linewidth=1)
    ax.text(result.lrs[0], result.max_steps * 0.97, f"× not reached in {result.max_steps} steps", va="top")
    ax.set(xlabel="learning rate (log)", ylabel=f"steps to {result.target:.0%} validation accuracy",
           ylim=(0, result.max_steps * 1.08),
           title=f"BN needs {result.speedup:.1f}× fewer steps, each at its best rate")
    ax.legend()
    return fig


def plot_layer_sensitivity(result: B.LayerSensitivity, ax=None):
    fig, ax = _axes(ax, 8, 3.6)
    layers = np.arange(1, len(result.plain) + 1)
    ax.semilogy(layers, result.plain, label=NORM_LABELS["none"], **style_marker(0))
    ax.semilogy(layers, result.batchnorm, label=NORM_LABELS["batchnorm"], **style_marker(1))
    ax.set(xlabel="layer whose weights change", ylabel=f"|Δ loss| / {result.rel_size:g} (log)",
           title=f"{'At init' if result.state == 'initial' else 'Trained'}, one layer changed at a time: "
                 f"plain / BN loss change, median {result.ratio:.2f}")
    ax.legend()
    return fig


# --------------------------------------------------------------------------- the notes' figure
def _draw_boundaries(ax, result: B.Boundaries, title: str):
    pts = result.points
    for k in (0, 1):
        sel = result.labels == k
        ax.scatter(pts[sel, 0], pts[sel, 1], s=10, color=COLORS[k], marker=MARKERS[k], alpha=0.6,
                   label=f"digit {result.classes[k]}")
    lo = np.minimum(pts.min(axis=0), 0) - 1
    hi = np.maximum(pts.max(axis=0), 0) + 1
    xs = np.linspace(lo[0], hi[0], 50)
    for k, (w1, w2, b) in enumerate(result.perturbed):
        ax.plot(xs, -(w1 * xs + b) / w2, color=COLORS[3], linewidth=0.8, alpha=0.5, linestyle="-",
                label="weights changed at random" if k == 0 else None)
    w1, w2, b = result.boundary
    ax.plot(xs, -(w1 * xs + b) / w2, color=COLORS[7], linewidth=2, linestyle=LINESTYLES[1], label="fitted boundary")
    # named in the legend: on centred inputs the origin lies among the points
    ax.plot(0, 0, marker="+", color=COLORS[7], markersize=14, linestyle="none", label="origin")
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="feature 1 (std units)", ylabel="feature 2 (std units)",
           title=f"{title}\nmedian |Δ loss| {np.median(result.loss_changes):.2g}")
    ax.set_aspect("equal", adjustable="box")


@figure("normalize", notebook="05_batchnorm")
def plot_normalize(sensitivity: B.WeightSensitivity | None = None, centred: B.Boundaries | None = None,
                   offset: B.Boundaries | None = None, *, seed: int = 0):
    """The notes' picture, measured. Left and middle: one classifier of two digit classes in two
    features, on centred inputs and on the same inputs moved away from the origin; thin lines are
    the boundaries after random weight changes of 10 %. Right: the loss change per relative weight
    change on all 64 pixels, against the inputs' distance from the origin."""
    if sensitivity is None or centred is None or offset is None:
        from ..data import digits

        splits = digits(seed=0)
        data = splits.standardized()
        sensitivity = sensitivity or B.measure_weight_sensitivity(splits, rng=np.random.default_rng(seed))
        centred = centred or B.measure_boundaries(data, offset=0.0, rng=np.random.default_rng(seed))
        offset = offset or B.measure_boundaries(data, offset=6.0, rng=np.random.default_rng(seed))
    fig = new_figure(14, 4.6)
    ax_c, ax_o, ax_s = fig.subplots(1, 3, width_ratios=(1, 1, 1.2))
    _draw_boundaries(ax_c, centred, "centred inputs")
    _draw_boundaries(ax_o, offset, f"the same inputs moved by {offset.offset:g} std on each axis")
    # one legend for the two scatter panels, below the figure: the points fill the panels
    fig.legend(*ax_c.get_legend_handles_labels(), loc="outside lower center", ncols=5)
    ax_s.semilogy(sensitivity.offsets, sensitivity.sensitivity, **style_marker(0))
    ax_s.axvline(sensitivity.raw_offset, color=COLORS[7], linestyle=":", linewidth=1)
    ax_s.text(sensitivity.raw_offset, sensitivity.sensitivity.max(), " raw [0, 1] pixels", va="top")
    ax_s.set(xlabel="distance of the inputs from the origin (pixel std units)",
             ylabel=f"|Δ loss| / {sensitivity.rel_size:g} (median, log)",
             title=f"All 64 pixels: {sensitivity.ratio:.0f}× more sensitive at offset {sensitivity.offsets[-1]:g}")
    fig.suptitle("Same classifier, same relative change of the weights, inputs centred or moved away from the origin")
    return fig
