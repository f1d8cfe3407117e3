"""Figures of hyperparameter search: the notes' ``random-search`` picture, their two grids of
learning rates, log against uniform sampling, grid against random search, coarse to fine."""

from __future__ import annotations

import numpy as np

from ... import search as S
from ...figures import figure
from ...style import COLORS, MARKERS, new_figure, style_marker

NOTES_LOG_GRID = (0.001, 0.01, 0.1, 1.0)
NOTES_LINEAR_GRID = (0.001, 0.334, 0.667, 1.0)


@figure("random-search", notebook="09_training_practice")
def plot_random_search(trials: int = 9, seed: int = 0, objective: S.PeakObjective | None = None):
    """``trials`` trials of grid and of random search over :class:`lecture_lib.search.PeakObjective`
    (the first hyperparameter matters ten times more than the second), over its heat map; above
    each, the objective along the important axis and the values of it that the search tried."""
    objective = objective or S.PeakObjective(centre=(0.62, 0.35), weights=(1.0, 0.1))
    searches = {"grid search": S.grid_points(S.UNIT_SQUARE, trials),
                "random search": S.random_points(S.UNIT_SQUARE, trials, np.random.default_rng(seed))}
    fig = new_figure(11, 6.0)
    gs = fig.add_gridspec(2, 2, height_ratios=[1, 3.2])
    main = [fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1])]
    tops = [fig.add_subplot(gs[0, i], sharex=main[i]) for i in range(2)]
    t = np.linspace(0, 1, 201)
    heat = objective(np.stack(np.meshgrid(t, t, indexing="xy"), -1).reshape(-1, 2)).reshape(len(t), len(t))
    along = objective(np.c_[t, np.full_like(t, objective.centre[1])])
    best_scores = []
    for ax, top, (name, points) in zip(main, tops, searches.items(), strict=True):
        image = ax.imshow(heat, origin="lower", extent=(0, 1, 0, 1), cmap="Blues", vmin=0, vmax=1, aspect="auto")
        scores = objective(points)
        best = points[int(np.argmax(scores))]
        trial = ax.scatter(points[:, 0], points[:, 1], s=55, color=COLORS[1], edgecolor="black", marker=MARKERS[0],
                           zorder=3)
        ring = ax.scatter(*best, s=260, facecolors="none", edgecolors=COLORS[3], linewidths=2.2, zorder=4)
        best_scores.append(f"{scores.max():.2f} ({name.split()[0]})")
        distinct = S.distinct_values(points[:, 0])
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="important hyperparameter (unit range)",
               title=f"{name}: {distinct} distinct values of the important one")
        top.plot(t, along, color=COLORS[0], label="score along the important axis")
        top.vlines(points[:, 0], 0, objective(np.c_[points[:, 0], np.full(len(points), objective.centre[1])]),
                   color=COLORS[1], linewidth=2)
        top.set(ylim=(0, 1.05), ylabel="score")
        top.tick_params(labelbottom=False)
    main[0].set_ylabel("unimportant hyperparameter (unit range)")
    fig.colorbar(image, ax=main, shrink=0.8, label="score (1 = best)")
    # below the panels: inside, a legend would hide trials of the grid or of the random search
    fig.legend([trial, ring], ["trial", f"best trial: score {', '.join(best_scores)}"],
               loc="outside lower center", ncols=2)
    fig.suptitle(f"The same {trials} trials: random search tries {trials} values of the important "
                 f"hyperparameter, a grid only {S.distinct_values(searches['grid search'][:, 0])}")
    return fig


def plot_notes_grids(sweep):
    """The notes' two grids of four learning rates, on a log axis over the validation accuracy that
    real runs reach at each rate (``sweep``: :class:`~lecture_lib.experiments.practice.DigitsSweep`)."""
    fig = new_figure(9, 4.2)
    ax = fig.add_subplot()
    ax.plot(sweep.lrs, sweep.val_acc[:, 0], **style_marker(0), label="validation accuracy (real runs)")
    for i, (grid, label) in enumerate(((NOTES_LOG_GRID, "log grid {0.001, 0.01, 0.1, 1}"),
                                       (NOTES_LINEAR_GRID, "linear grid {0.001, 0.334, 0.667, 1}")), start=1):
        values = np.asarray(grid)
        acc = sweep.accuracy_at(values)
        ax.plot(values, acc, linestyle="none", markersize=12 - 3 * i, marker=MARKERS[i + 1],
                color=COLORS[i], label=label, zorder=3)
    top = (np.asarray(NOTES_LINEAR_GRID) >= 0.1).sum()
    ax.set(xscale="log", xlabel="learning rate (log scale)", ylabel="validation accuracy", ylim=(0, 1.02),
           title=f"The linear grid puts {top} of its 4 trials in the top decade; the log grid one per decade")
    ax.axvspan(0.1, 1.0, color=COLORS[1], alpha=0.08)
    fig.legend(loc="outside lower center", ncols=2)
    return fig


def plot_log_space(result):
    """Where uniform and log-uniform samples of the learning rate fall (share per decade), and the
    best validation accuracy of repeated searches with each, plus one real search of each kind."""
    fig = new_figure(11, 4.6)
    ax_dec, ax_best = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
    labels = [f"[{d:.0e},\n{10 * d:.0e})" for d in result.decades]      # two lines: four fit side by side
    x = np.arange(len(labels))
    for i, (counts, name, hatch) in enumerate(((result.uniform_counts, "uniform", "//"),
                                                (result.log_counts, "log-uniform", ""))):
        ax_dec.bar(x + (i - 0.5) * 0.4, counts / counts.sum(), width=0.4, color=COLORS[i], hatch=hatch,
                   edgecolor="black", label=name)
    ax_dec.set_xticks(x, labels)
    ax_dec.set(xlabel="decade of the learning rate", ylabel="share of the samples", ylim=(0, 1),
               title=f"Uniform: {result.uniform_counts[-1] / result.uniform_counts.sum():.0%} in the top decade")
    ax_dec.legend()
    bins = np.linspace(min(result.uniform_best.min(), result.log_best.min()), 1.0, 30)
    for i, (best, name) in enumerate(((result.uniform_best, "uniform"), (result.log_best, "log-uniform"))):
        ax_best.hist(best, bins=bins, color=COLORS[i], alpha=0.6, hatch="//" if i == 0 else "",
                     edgecolor="black", label=f"{name}: median {np.median(best):.3f}")
    for i, (_, acc) in enumerate((result.real_uniform, result.real_log)):
        ax_best.axvline(acc.max(), color=COLORS[i], linestyle=("--", ":")[i], linewidth=2.5,
                        label=f"one real search, {('uniform', 'log-uniform')[i]}: {acc.max():.3f}")
    ax_best.set(xlabel=f"best validation accuracy of {result.trials} trials", ylabel="searches",
                title=f"Best of {result.trials} trials, {len(result.log_best)} repeated searches")
    # below the panels: inside, the legend would sit on the lines of the real searches; its colours
    # (uniform hatched) are also the left panel's
    fig.legend(*ax_best.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig


def random_ahead_from(results) -> str:
    """From how many trials on the median regret of random search stays below the grid's on every
    objective, in words ("no budget tried" when it never does)."""
    budgets = list(results[0].budgets)
    ahead = np.all([np.median(r.random_regret, axis=0) < np.median(r.grid_regret, axis=0) for r in results], axis=0)
    first = next((i for i in range(len(ahead)) if ahead[i:].all()), None)
    return "no budget tried" if first is None else f"{budgets[first]} trials"


def plot_random_vs_grid(results):
    """Median regret (best possible score minus the best found; the band: quartiles over the
    repeated problems) against the number of trials, one panel per objective."""
    fig = new_figure(11, 4.8)
    axes = fig.subplots(1, len(results))
    axes = np.atleast_1d(axes)
    names = {"synthetic": "synthetic: one hyperparameter matters",
             "digits": "MLP on the digits: lr matters, weight decay barely"}
    for ax, r in zip(axes, results, strict=True):
        for i, (regret, name) in enumerate(((r.grid_regret, "grid"), (r.random_regret, "random"))):
            q1, med, q3 = np.percentile(regret, [25, 50, 75], axis=0)
            ax.plot(r.budgets, med, **style_marker(i), label=f"{name} search (median)")
            ax.fill_between(r.budgets, q1, q3, color=COLORS[i], alpha=0.15, label=f"{name}: middle half of the repeats")
        ax.set(xlabel="number of trials", ylabel="regret (lost score)", yscale="log", title=names[r.objective],
               xticks=r.budgets)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)   # off the bands
    fig.suptitle(f"Random search loses less than a grid of the same size from {random_ahead_from(results)} on")
    return fig


def plot_coarse_to_fine(results):
    """The distribution (cumulative) of the regret of one-stage random search and of two stages,
    coarse then fine, with the same budget, one panel per objective."""
    fig = new_figure(11, 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(results)))
    for ax, r in zip(axes, results, strict=True):
        for i, (regret, name) in enumerate(((r.one_stage, "one stage"), (r.two_stage, "coarse to fine"))):
            values = np.sort(regret)
            ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post", color=COLORS[i],
                    linestyle=("-", "--")[i], label=f"{name}: median {np.median(regret):.3g}")
        lo = max(min(r.one_stage.min(), r.two_stage.min()), 1e-6)
        ax.set(xscale="log", xlim=(lo, max(r.one_stage.max(), r.two_stage.max()) * 1.2),
               xlabel="regret (lost score, log)", ylabel="share of searches with at most this regret",
               title=f"{r.objective}: {r.budget} trials")
        ax.legend(loc="upper left")
    fig.suptitle("Coarse to fine: half the budget over the whole range, half around the best so far")
    return fig
