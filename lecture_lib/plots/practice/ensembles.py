"""The notes' ``ensembles`` picture from real runs: independent models averaged, a snapshot ensemble
along a cyclic cosine schedule, and averages of the weights against the last iterate."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from ...figures import figure
from ...style import COLORS, new_figure, style_marker


def _defaults(independent, snapshots, polyak):
    from ...experiments import practice as E

    independent = independent or E.measure_independent_models(np.random.default_rng(10))
    snapshots = snapshots or E.measure_snapshots(np.random.default_rng(11))
    polyak = polyak or E.measure_polyak(np.random.default_rng(12))
    return independent, snapshots, polyak


@figure("ensembles", notebook="09_training_practice")
def plot_ensembles(independent=None, snapshots=None, polyak=None, lr: float | None = None):
    """Test cross-entropy three ways: (left) the average of k independently trained models;
    (middle) one run with cosine restarts, its snapshots and the ensemble of its last m snapshots,
    against the same budget spent on one long run or on independent short runs; (right) the last
    iterate of a constant-rate run against averages of its weights (at ``lr``, by default the
    largest rate measured)."""
    independent, snapshots, polyak = _defaults(independent, snapshots, polyak)
    fig = new_figure(13, 5.4)
    gs = fig.add_gridspec(2, 3, height_ratios=[1, 2.2])
    ax_ind = fig.add_subplot(gs[:, 0])
    ax_lr, ax_snap = fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[1, 1])
    ax_avg = fig.add_subplot(gs[:, 2])

    k = np.arange(1, len(independent.loss_curve) + 1)
    ax_ind.plot(k, independent.loss_curve, **style_marker(0), label="average of m models")
    ax_ind.plot(np.ones(len(independent.member_loss)), independent.member_loss, "o", color=COLORS[0], alpha=0.35,
                label="each model alone")
    gain = 100 * (independent.acc_curve[-1] - independent.acc_curve[0])
    ax_ind.set(xlabel="models averaged", ylabel="test cross-entropy",
               title=f"{k[-1]} independent models: {gain:+.1f} accuracy points")
    ax_ind.legend()

    n_snaps = len(snapshots.snapshot_loss)
    per_cycle = len(snapshots.lrs) // n_snaps
    epochs = np.arange(1, len(snapshots.lrs) + 1) * snapshots.cycle_epochs / per_cycle
    ends = snapshots.cycle_epochs * np.arange(1, n_snaps + 1)
    ax_lr.plot(epochs, snapshots.lrs, color=COLORS[2])
    ax_lr.plot(ends, snapshots.lrs[per_cycle - 1::per_cycle], "v", color=COLORS[3], markersize=8)
    ax_lr.set(ylabel="lr", title="Cosine restarts: a snapshot (▼) at each cycle's end")
    ax_lr.tick_params(labelbottom=False)
    ax_snap.plot(ends, snapshots.snapshot_loss, **style_marker(3), label="each snapshot")
    m = np.arange(1, n_snaps + 1)
    ax_snap.plot(ends[-1] - snapshots.cycle_epochs * (m - 1), snapshots.last_m_loss, **style_marker(4),
                 label="ensemble of the last m snapshots\n(at the m-th snapshot from the end)")
    for value, text, color, style in ((snapshots.long_loss, "one long cosine run", COLORS[0], "--"),
                                      (snapshots.independent_loss, f"{n_snaps} short runs averaged", COLORS[1], "-.")):
        ax_snap.axhline(value, color=color, linestyle=style)
        ax_snap.text(ends[-1], value, text, color=color, ha="right", va="bottom")
    ax_snap.set(xlabel="epoch (same budget for all)", ylabel="test cross-entropy", xlim=(0, ends[-1] * 1.03))
    ax_snap.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax_lr.sharex(ax_snap)

    lr = max(polyak.lrs) if lr is None else lr
    curves = polyak.curves[polyak.lrs.index(lr)]
    ep = np.arange(1, curves.shape[1] + 1)
    for i, name in enumerate(polyak.names):
        ax_avg.plot(ep, curves[i], **style_marker(i), markersize=4, label=name)
    final = curves[:, -1]
    ax_avg.set(xlabel="epoch", ylabel="test cross-entropy (log)", yscale="log",
               ylim=(0.9 * np.nanmin(curves), 1.1 * np.nanmax(curves)),
               title=(f"lr {lr:g}, first seed: {polyak.names[1 + int(np.nanargmin(final[1:]))]} ends "
                      f"{1 - np.nanmin(final[1:]) / final[0]:.0%} below the last iterate"))
    ax_avg.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    ax_avg.yaxis.set_major_formatter(ScalarFormatter())
    ax_avg.yaxis.set_minor_formatter(NullFormatter())
    ax_avg.legend()
    fig.suptitle("Ensembles on the digits: more models, snapshots of one run, averaged weights")
    return fig
