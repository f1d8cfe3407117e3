"""Figures of the CIFAR-10 comparisons (:mod:`lecture_lib.recipes.comparisons`): each variant's
curve against epochs and against training time, with the device and date of the runs."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, PercentFormatter

from ..style import COLORS, LINESTYLES, MARKERS, new_figure

COMPANION_STYLE = {"linestyle": ":", "linewidth": 1.5}


LOG_SPAN = 5.0  # an error axis is logarithmic when its largest value is this many times its smallest


def _values(curves) -> np.ndarray:
    values = np.concatenate([np.asarray(c, dtype=float) for c in curves])
    return values[np.isfinite(values)]


def _limits(values: np.ndarray, log: bool) -> tuple:
    if log:
        return values.min() / 1.25, min(1.0, values.max() * 1.25)
    pad = 0.04 * max(values.max() - values.min(), 0.05)
    return max(0.0, values.min() - pad), min(1.0, values.max() + pad)


def plot_comparison(comparison, ax=None):
    """``comparison.definition.metric`` of every variant against epochs (left) and against
    training seconds (right); where there is a companion quantity, each variant's main curve is solid
    and its companion a thin dotted line in the same colour, else the variants' line styles differ.
    For ``batchnorm``, the accuracy to reach (the best without BN) and where each run reached it.
    ``ax``: a pair of Axes to draw into, else a new Figure."""
    c, d = comparison, comparison.definition
    if ax is None:
        fig = new_figure(12, 4.6)
        axes = fig.subplots(1, 2)
    else:
        axes = tuple(ax)
        if len(axes) != 2:
            raise ValueError(f"ax holds {len(axes)} Axes; expected two (against epochs, against time)")
        fig = axes[0].figure
    curves = []
    for i, label in enumerate(c.labels):
        style = {"color": COLORS[i % len(COLORS)], "marker": MARKERS[i % len(MARKERS)],
                 "linestyle": "-" if d.companion is not None else LINESTYLES[i % len(LINESTYLES)]}
        name = label if c.same_device else f"{label} ({c.run_of(label).device})"
        primary = c.values(label, d.metric)
        curves.append(primary)
        every = max(1, len(primary) // 10)
        for x, a in ((c.epochs(label), axes[0]), (c.elapsed(label), axes[1])):
            a.plot(x, primary, label=name, markevery=every, **style)
            if d.companion is not None:
                a.plot(x, c.values(label, d.companion), color=style["color"], **COMPANION_STYLE)
        if d.companion is not None:
            curves.append(c.values(label, d.companion))
    if d.name == "batchnorm":
        _mark_target(c, axes)
    values = _values(curves)
    log = d.metric.endswith("error") and values.min() > 0 and values.max() > LOG_SPAN * values.min()
    for a, xlabel in zip(axes, ("epoch", "training time (s)"), strict=True):
        if log:
            a.set_yscale("log")
            a.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            a.yaxis.set_minor_formatter(NullFormatter())
        quantity = d.metric if d.companion is None else d.metric.split()[-1]  # "accuracy": test and training
        a.set(xlabel=xlabel, ylabel=quantity + (" (log scale)" if log else ""), ylim=_limits(values, log))
        a.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    axes[0].set_xlim(0.5, max(len(x) for x in curves) + 0.5)
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].set_xlim(0, max(c.elapsed(label)[-1] for label in c.labels) * 1.03)
    axes[0].set_title("against epochs")
    axes[1].set_title("against training time" + ("" if c.same_device else
                                                 " (different devices: times not comparable)"))
    handles, labels = axes[0].get_legend_handles_labels()
    if d.companion is not None:
        handles += [Line2D([], [], color="black"), Line2D([], [], color="black", **COMPANION_STYLE)]
        labels += [d.metric, d.companion]
    axes[0].legend(handles, labels)
    epochs = sorted({len(c.epochs(label)) for label in c.labels})
    fig.suptitle(f"{c.title()}\n{c.data_text[0].upper()}{c.data_text[1:]} · {c.where} · "
                 f"{'/'.join(map(str, epochs))} epochs")
    return fig


def _mark_target(c, axes) -> None:
    """The best test accuracy without BN (a dotted line) and a star where each run first reached it."""
    from ..recipes.comparisons import batchnorm_target

    target = batchnorm_target(c)
    for a in axes:
        a.axhline(target, color=COLORS[7], linestyle=":", linewidth=1,
                  label=f"best without BN ({target:.1%}); ★ first reached" if a is axes[0] else None)
    for i, label in enumerate(c.labels):
        epoch = c.epochs_to(label, target)
        if epoch is None:
            continue
        for x, a in ((epoch, axes[0]), (c.elapsed(label)[epoch - 1], axes[1])):
            a.plot([x], [target], marker="*", markersize=14, color=COLORS[i % len(COLORS)],
                   markeredgecolor="black", linestyle="none", zorder=5)
