"""Figures of 07_cnn_architectures: the cost of the NumPy convolutions, a CNN's filters and feature
maps, receptive fields, training curves of plain against residual nets, gradient norms per layer,
and the notes' comparison of architectures (registered as ``comparison``). The block diagrams
of the architectures are in ``cnn_diagrams``."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from ..figures import figure
from ..style import COLORS, LINESTYLES, MARKERS, new_figure


def _axes(ax, width=8.0, height=4.0):
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(width, height)
    return fig, fig.subplots()


# --------------------------------------------------------------------------- the fast convolution
def plot_conv_cost(result, ax=None):
    """Forward time (log scale) and peak memory of the naive, im2col and shifted NumPy
    convolutions and torch's, on the result's batch."""
    if ax is not None:
        raise ValueError("plot_conv_cost draws two panels; call it without ax")
    fig = new_figure(12, 4.2)
    ax_t, ax_m = fig.subplots(1, 2)
    names = ["naive loops", "im2col (blocked)", "shifted products", "torch conv2d"]
    seconds = [result.naive_seconds, result.fast_seconds, result.shifted_seconds, result.torch_seconds]
    bars = ax_t.barh(names, [1000 * s for s in seconds], color=COLORS[:4])
    ax_t.set_xscale("log")
    ax_t.invert_yaxis()
    for bar, s in zip(bars, seconds, strict=True):
        ax_t.text(bar.get_width() * 1.1, bar.get_y() + bar.get_height() / 2, f"{1000 * s:.3g} ms", va="center")
    ax_t.set_xlim(1000 * min(seconds) / 2, 1000 * max(seconds) * 5)     # room for the labels
    ax_t.set(xlabel="forward time, one thread (ms, log scale)",
             title=f"Loops are {result.naive_seconds / result.fast_seconds:.0f}x slower than im2col")
    mb = 1 / 2**20
    labels = ["input", "output", "im2col, all at once\n(computed)", "im2col, blocked\n(measured peak)",
              "shifted products\n(measured peak)"]
    sizes = [result.input_bytes * mb, result.output_bytes * mb, result.full_im2col_bytes * mb,
             result.fast_peak_bytes * mb, result.shifted_peak_bytes * mb]
    bars = ax_m.barh(labels, sizes, color=[COLORS[7], COLORS[7], COLORS[1], COLORS[1], COLORS[2]])
    bars[2].set_hatch("//")
    ax_m.invert_yaxis()
    for bar, size in zip(bars, sizes, strict=True):
        ax_m.text(bar.get_width() * 1.02, bar.get_y() + bar.get_height() / 2, f"{size:.1f} MiB", va="center")
    ax_m.set_xlim(0, max(sizes) * 1.3)
    n, c, h, w, f, k = result.memory_shape
    ax_m.set(xlabel=f"memory (MiB), batch {n}x{c}x{h}x{w} -> {f}",
             title=f"A full column matrix is {result.full_im2col_bytes / result.input_bytes:.0f}x the input")
    n, c, h, w, f, k = result.shape
    ax_t.set_title(f"{ax_t.get_title()}\n(batch {n}x{c}x{h}x{w} -> {f})")
    fig.suptitle(f"{k}x{k} convolution, float32: time and memory of the NumPy versions")
    return fig


# --------------------------------------------------------------------------- a CNN on the digits
def _mosaic(tiles: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """Tiles (n, h, w) side by side in rows of ``columns``, separated by NaN (drawn blank)."""
    n, h, w = tiles.shape
    rows = -(-n // columns)
    board = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan)
    for k in range(n):
        r, c = divmod(k, columns)
        board[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tiles[k]
    return board


def plot_filters_and_maps(result, image: np.ndarray, ax=None):
    """The first conv layer's filters of a trained digits CNN, and what each makes of ``image``
    (1 x 8 x 8): the feature maps after batch norm and ReLU, filter k above map k."""
    import torch

    if ax is not None:
        raise ValueError("plot_filters_and_maps draws three panels; call it without ax")
    model = result.model.eval()
    conv, bn, relu = model.features[0], model.features[1], model.features[2]
    weights = conv.weight.detach().numpy()[:, 0]
    with torch.no_grad():
        maps = relu(bn(conv(torch.as_tensor(image[None])))).numpy()[0]
    columns = min(len(weights), 8)
    fig = new_figure(12, 3.6)
    ax_image, ax_w, ax_m = fig.subplots(1, 3, width_ratios=[1, 3.2, 3.2])
    ax_image.imshow(image[0], cmap="gray_r")
    ax_image.set_title("input digit", fontsize="medium")
    lim = float(np.abs(weights).max())
    filters = ax_w.imshow(_mosaic(weights, columns), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax_w.set_title(f"{len(weights)} filters, 3x3 (red +, blue −)", fontsize="medium")
    feature = ax_m.imshow(_mosaic(maps, columns), cmap="viridis", vmin=0)
    ax_m.set_title("their feature maps, 8x8, after BN and ReLU", fontsize="medium")
    for axis in (ax_image, ax_w, ax_m):
        axis.set_xticks([])
        axis.set_yticks([])
        axis.grid(False)
    # below each panel: a colour bar beside a panel would read as the next panel's axis label
    fig.colorbar(filters, ax=ax_w, location="bottom", shrink=0.8, aspect=30, label="filter weight")
    fig.colorbar(feature, ax=ax_m, location="bottom", shrink=0.8, aspect=30, label="activation")
    fig.get_layout_engine().set(wspace=0.06)       # the two mosaics apart, now that no colour bar divides them
    fig.suptitle(f"First layer of the trained CNN ({result.accuracy:.1%} test accuracy): filter k in the middle "
                 "panel makes map k on the right")
    return fig


# --------------------------------------------------------------------------- receptive fields
def plot_receptive_fields(result, ax=None):
    """Where the centre unit looks: mean |d centre / d input| of three stacked 3x3 layers and of
    one 7x7 layer, on the same colour scale per panel's total."""
    if ax is not None:
        raise ValueError("plot_receptive_fields draws two panels; call it without ax")
    fig = new_figure(9, 4.0)
    axes = fig.subplots(1, 2)
    maps = (result.map_stack, result.map_single)
    titles = (f"three 3x3 layers: {result.central_share_stack:.0%} in the centre 3x3",
              f"one 7x7 layer: {result.central_share_single:.0%} in the centre 3x3")
    c = maps[0].shape[0] // 2
    top = max(float((m / m.sum()).max()) for m in maps)
    for ax_, m, title in zip(axes, maps, titles, strict=True):
        share = m / m.sum()
        image = ax_.imshow(share, cmap="magma", vmin=0, vmax=top)
        half = result.field_single / 2
        ax_.add_patch(Rectangle((c - half, c - half), 2 * half, 2 * half, fill=False, edgecolor=COLORS[2],
                                linewidth=2, linestyle="--"))
        ax_.set(title=title, xlabel="input column", ylabel="input row")
        ax_.grid(False)
        fig.colorbar(image, ax=ax_, shrink=0.8, label="share of |gradient|")
    a, b = result.measured_field_stack, result.measured_field_single
    field = (f"Both see the same {a}x{a} field (dashed)" if a == b else
             f"The stack sees {a}x{a} pixels, the single layer {b}x{b}")
    weighs = "more" if result.central_share_stack > result.central_share_single else "no more"
    fig.suptitle(f"{field}; the stack weighs its centre {weighs}")
    return fig


# --------------------------------------------------------------------------- degradation
def plot_degradation(result, ax=None):
    """Training error per epoch of the plain nets (dashed) and the ResNets (solid) at the two
    depths, as in the ResNet paper's figures 1 and 6, and (open markers, at "end") the error on the
    whole training set after the last epoch, the number the verdict uses."""
    fig, ax = _axes(ax, 9, 4.2)
    epochs = np.arange(1, result.epochs + 1)
    end = result.epochs + 0.6
    for i, depth in enumerate(result.depths):
        for kind, curves, errors, style, marker in (("plain", result.plain_curves, result.plain_error, "--", i),
                                                    ("ResNet", result.residual_curves, result.residual_error, "-",
                                                     i + 2)):
            ax.plot(epochs, 100 * np.array(curves[i]), color=COLORS[i], linestyle=style, marker=MARKERS[marker],
                    label=f"{kind}-{depth}: {errors[i]:.1%} at the end")
            ax.plot([result.epochs, end], [100 * curves[i][-1], 100 * errors[i]], color=COLORS[i], linestyle=":",
                    linewidth=1)
            ax.plot([end], [100 * errors[i]], color=COLORS[i], marker=MARKERS[marker], markersize=9,
                    fillstyle="none", markeredgewidth=1.8, linestyle="none")
    ticks = [t for t in MaxNLocator(integer=True, nbins=8).tick_values(1, result.epochs) if 1 <= t <= result.epochs]
    ax.set_xticks([*ticks, end], [*(f"{t:.0f}" for t in ticks), "end"])
    from ..experiments.cnn.depth import plain_degrades, residual_does_not_degrade

    plain = "the deeper plain net trains worse" if plain_degrades(result) else "the deeper plain net does not degrade"
    residual = "the deeper ResNet does not" if residual_does_not_degrade(result) else "the deeper ResNet does"
    ax.set(xlabel="epoch", ylabel="training error (%)", ylim=(0, None), xlim=(0.7, end + 0.4),
           title=f"{plain[0].upper() + plain[1:]}; {residual} ({result.data}, width {result.width})")
    ax.legend(title="lines: during each epoch; open markers:\nwhole training set after training")
    return fig


# --------------------------------------------------------------------------- gradient norms
def _factor(x: float) -> str:
    """A ratio as people write it: 2.5x, 14x, 10,200x."""
    return f"{x:,.0f}x" if x >= 10 else f"{x:.2g}x"


def plot_shortcut_gradients(plain, shortcut, label: str, ax=None):
    """RMS gradient of each conv layer's weights (log scale), input side on the left, for a
    plain stack and its twin with shortcuts (residual or dense connections)."""
    fig, ax = _axes(ax, 9, 3.8)
    spreads = []
    for i, (norms, name) in enumerate(((plain, "plain"), (shortcut, label))):
        norms = np.asarray(norms)
        spreads.append(norms.max() / norms.min())
        ax.semilogy(np.arange(1, len(norms) + 1), norms, color=COLORS[i], linestyle=LINESTYLES[i],
                    marker=MARKERS[i], markersize=3, label=f"{name}: max/min = {_factor(spreads[-1])}")
    ax.set(xlabel="conv layer (1 = next to the input)", ylabel="RMS of dL/dW (log)",
           title=f"At initialization the layers' gradients span {_factor(spreads[0])} (plain) against "
                 f"{_factor(spreads[1])} ({label})")
    ax.legend()
    return fig


# --------------------------------------------------------------------------- the comparison
def _disc_area(millions: float) -> float:
    return 40 + 6 * millions


def _crosses_box(p, q, box) -> bool:
    """Whether the segment p-q (pixels) passes through the box (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = p, q
    lo, hi = 0.0, 1.0
    for d, a, b in ((x1 - x0, box.x0 - x0, box.x1 - x0), (y1 - y0, box.y0 - y0, box.y1 - y0)):
        if d == 0:
            if not a <= 0 <= b:
                return False
            continue
        t0, t1 = sorted((a / d, b / d))
        lo, hi = max(lo, t0), min(hi, t1)
        if lo > hi:
            return False
    return True


def _crosses_segment(p, q, r, s) -> bool:
    """Whether the segments p-q and r-s cross (touching at an end counts)."""
    def side(a, b, c):
        return np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))

    return side(p, q, r) != side(p, q, s) and side(r, s, p) != side(r, s, q)


def _near_segment(p, q, centre, r) -> bool:
    """Whether the segment p-q comes within r (pixels) of centre."""
    p, q, c = np.asarray(p), np.asarray(q), np.asarray(centre)
    d = q - p
    t = np.clip(np.dot(c - p, d) / max(np.dot(d, d), 1e-9), 0, 1)
    return float(np.hypot(*(p + t * d - c))) < r


def _leader(box, centre, radius):
    """The leader from a label's box (its centre: where an annotation's line starts, clipped to the
    box) to the rim of its marker, in pixels."""
    start = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    towards = start - centre
    return tuple(start), tuple(centre + towards * radius / max(float(np.hypot(*towards)), 1e-9))


def place_labels(ax, points, texts, radii, fontsize: float | None = None) -> None:
    """Label each point (data coordinates) where its text overlaps no other label, no other
    point's marker, no line of the axes (and no leader already drawn), no text and no legend
    already there: the first free spot among positions below, above, right, left and diagonal of
    it, further out step by step, with a thin leader line once detached, which must itself cross
    no label, no other marker and no other leader.
    Call it last: the figure's layout is settled first, so that the axes stop moving."""
    fig = ax.figure
    if fig.get_layout_engine() is not None:
        fig.get_layout_engine().execute(fig)
    renderer = fig.canvas.get_renderer()
    to_pixels = fig.dpi / 72
    centres = [ax.transData.transform(p) for p in points]
    fixed = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().strip()]   # boxes in pixels
    if ax.get_legend() is not None:
        fixed.append(ax.get_legend().get_window_extent(renderer))
    drawn = []                      # segments in pixels: the axes' lines
    for line in ax.lines:
        xy = line.get_transform().transform(line.get_xydata())
        drawn += [(a, b) for a, b in zip(xy[:-1], xy[1:], strict=True) if np.isfinite([*a, *b]).all()]

    def hits_marker(box, own):
        for j, (cx, cy) in enumerate(centres):
            r = radii[j] * to_pixels
            if j != own and np.hypot(cx - np.clip(cx, box.x0, box.x1), cy - np.clip(cy, box.y0, box.y1)) < r:
                return True
        return False

    def free(box, own, leader, taken, lines, leaders):
        if hits_marker(box, own) or any(box.overlaps(t) for t in taken) or \
                any(_crosses_box(a, b, box) for a, b in lines):
            return False
        if leader is None:
            return True
        a, b = leader
        return not (any(_crosses_box(a, b, t) for t in taken) or
                    any(_near_segment(a, b, centres[j], radii[j] * to_pixels) for j in range(len(centres))
                        if j != own) or
                    any(_crosses_segment(a, b, c, d) for c, d in leaders))

    directions = [(0, -1, "center", "top"), (0, 1, "center", "bottom"), (1, 0, "left", "center"),
                  (-1, 0, "right", "center"), (1, -1, "left", "top"), (-1, -1, "right", "top"),
                  (1, 1, "left", "bottom"), (-1, 1, "right", "bottom")]

    def attempt(order):
        """Place the labels in this order; the labels, and the indices of those left nowhere free."""
        taken, lines, leaders, placed, stuck = list(fixed), list(drawn), [], [], []
        for i in order:
            best, leader = None, None
            for step in range(24):
                for dx, dy, ha, va in directions:
                    gap = radii[i] + 3 + 7 * step
                    text = ax.annotate(texts[i], points[i], textcoords="offset points", xytext=(dx * gap, dy * gap),
                                       ha=ha, va=va, fontsize=fontsize, zorder=4,
                                       arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.6,
                                                   "shrinkB": radii[i]} if step else None)
                    text.update_positions(renderer)
                    box = Text.get_window_extent(text, renderer).padded(3 * to_pixels, to_pixels)  # not its leader
                    inside = ax.bbox.contains(box.x0, box.y0) and ax.bbox.contains(box.x1, box.y1)
                    leader = _leader(box, centres[i], radii[i] * to_pixels) if step else None
                    if inside and free(box, i, leader, taken, lines, leaders):
                        best = text
                        break
                    text.remove()
                if best is not None:
                    break
            if best is None:  # nowhere free: below, and accept the overlap
                stuck.append(i)
                best, leader = ax.annotate(texts[i], points[i], textcoords="offset points",
                                           xytext=(0, -radii[i] - 3), ha="center", va="top", fontsize=fontsize,
                                           zorder=4), None
            best.update_positions(renderer)
            placed.append(best)
            taken.append(Text.get_window_extent(best, renderer))
            if leader is not None:
                leaders.append(leader)
                lines.append(leader)
        return placed, stuck

    # the biggest markers first; labels left nowhere free go first in the next try, and the try
    # with the fewest such labels stays
    order = sorted(range(len(points)), key=lambda k: -radii[k])
    tries = []
    for _ in range(5):
        placed, stuck = attempt(order)
        tries.append((len(stuck), order))
        if not stuck:
            return
        for text in placed:
            text.remove()
        order = stuck + [i for i in order if i not in stuck]
    attempt(min(tries, key=lambda t: t[0])[1])


# The notes' picture (Canziani et al., 2016) shows about fifteen models; one or two per family
# keeps it readable (the batch-norm VGGs and the other depths add points, not information).
FIGURE_MODELS = ("alexnet", "vgg16", "vgg19", "googlenet", "resnet18", "resnet34", "resnet50", "resnet101",
                 "resnet152", "wide_resnet50_2", "resnext50_32x4d", "resnext101_32x8d", "densenet121",
                 "densenet201", "squeezenet1_0", "squeezenet1_1")


def _comparison_data(result):
    if result is None:
        from ..experiments.cnn import measure_comparison

        result = measure_comparison(FIGURE_MODELS)
    return result


def pareto_front(costs, scores) -> list[int]:
    """Indices of the points no other point beats on both counts (a cost at most as high and a
    score at least as high, one of them strictly), by increasing cost."""
    costs, scores = np.asarray(costs, float), np.asarray(scores, float)

    def beaten(i):
        return any(costs[j] <= costs[i] and scores[j] >= scores[i] and (costs[j] < costs[i] or scores[j] > scores[i])
                   for j in range(len(costs)))

    return sorted((i for i in range(len(costs)) if not beaten(i)), key=lambda i: costs[i])


@figure("comparison", notebook="07_cnn_architectures")
def plot_comparison(result=None, ax=None):
    """Top-1 accuracy (published) against FLOPs (counted), each model a disc whose area is its
    parameter count (counted), coloured by family, and the line of the models no other beats on
    both accuracy and FLOPs: the picture of Canziani, Paszke and Culurciello (2016) that the notes
    show, redrawn from lecture_lib.models."""
    result = _comparison_data(result)
    fig, ax = _axes(ax, 10, 5.8)
    gflops = np.array(result.flops) / 1e9
    params = np.array(result.params) / 1e6
    families = {"alexnet": 0, "vgg": 1, "googlenet": 2, "resnet": 3, "wide": 4, "resnext": 5, "densenet": 6,
                "squeezenet": 7}
    for i, arch in enumerate(result.archs):
        k = families[next(f for f in families if arch.startswith(f))]
        ax.scatter(gflops[i], result.top1[i], s=_disc_area(params[i]), color=COLORS[k % len(COLORS)],
                   alpha=0.6, edgecolors="black", linewidths=0.6, zorder=3)
    front = pareto_front(gflops, result.top1)
    ax.plot(gflops[front], np.array(result.top1)[front], color="0.35", linestyle="--", linewidth=1.2, zorder=2,
            label="no other model beats these\non both accuracy and FLOPs")
    ax.set_xscale("log")
    ax.set_xlim(gflops.min() / 1.5, gflops.max() * 1.6)
    ax.set_ylim(min(result.top1) - 4, max(result.top1) + 4.5)     # room for two-line labels above the best
    for size in (10, 50, 100):
        ax.scatter([], [], s=_disc_area(size), color="white", edgecolors="black", label=f"{size}M parameters")
    ax.legend(loc="lower right", labelspacing=1.3, borderpad=0.8, framealpha=0.9, bbox_to_anchor=(1, 0.06))
    off = [a for i, a in enumerate(result.archs) if i not in front]
    ax.set(xlabel="GFLOPs per 224x224 image (counted, multiply-add = 2; log scale)",
           ylabel="ImageNet top-1 accuracy (%, published)",
           title=("Accuracy against computation: each model below the dashed line is beaten on both by one on it"
                  if off else "Accuracy against computation") + "\n(disc area = parameters, counted; colour = family)")
    ax.text(0.99, 0.01, f"accuracy: {result.source}", transform=ax.transAxes, ha="right", va="bottom", color=COLORS[7])
    place_labels(ax, list(zip(gflops, result.top1, strict=True)),
                 [f"{a}\n{p:.3g}M" for a, p in zip(result.archs, params, strict=True)],
                 [np.sqrt(_disc_area(p)) / 2 for p in params])
    return fig


def plot_width_vs_depth(result, ax=None):
    """CPU seconds per epoch and test accuracy of the deep-thin and the shallow-wide net."""
    if ax is not None:
        raise ValueError("plot_width_vs_depth draws two panels; call it without ax")
    fig = new_figure(9, 3.4)
    ax_t, ax_a = fig.subplots(1, 2)
    names = [f"deep: {result.deep[0]} layers,\nwidth {result.deep[1]}",
             f"wide: {result.wide[0]} layers,\nwidth {result.wide[1]}"]
    seconds = [result.deep_seconds, result.wide_seconds]
    bars = ax_t.barh(names, seconds, color=[COLORS[0], COLORS[1]])
    for bar, value in zip(bars, seconds, strict=True):
        ax_t.text(value * 1.02, bar.get_y() + bar.get_height() / 2, f"{value:.2f} s", va="center")
    ax_t.invert_yaxis()
    ax_t.set_xlim(0, max(seconds) * 1.3)
    ax_t.set(xlabel="CPU seconds per epoch (one thread)",
             title=f"{result.deep_seconds / result.wide_seconds:.1f}x faster per epoch when wide")
    # accuracies as points: a bar would have to start at 0 and hide a difference of a few points
    accuracies = [100 * result.deep_accuracy, 100 * result.wide_accuracy]
    for i, value in enumerate(accuracies):
        ax_a.plot([value], [i], marker=MARKERS[i], color=COLORS[i], markersize=11, linestyle="none")
        ax_a.annotate(f"{value:.1f}%", (value, i), textcoords="offset points", xytext=(0, 11), ha="center")
    lo, hi = min(accuracies), max(accuracies)
    pad = max(1.0, 0.25 * (hi - lo))
    ax_a.set_xlim(lo - pad, min(100.0, hi + pad))
    ax_a.set_ylim(ax_t.get_ylim())                  # the points level with their bars
    ax_a.set_yticks(range(len(names)), ["", ""])
    ax_a.set(xlabel="test accuracy (%)", title=f"test accuracy after {result.epochs} epochs")
    fig.suptitle(f"About equal parameters ({result.deep_params / 1e3:.0f}k against {result.wide_params / 1e3:.0f}k): "
                 f"time and accuracy of deep against wide")
    return fig
