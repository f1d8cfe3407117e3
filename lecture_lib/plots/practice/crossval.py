"""Figures of cross-validation: the notes' ``crossvalidation`` and ``K-fold_cross_validation_EN``
diagrams, drawn from :mod:`lecture_lib.crossval`'s folds and a real run, and the spread of the
estimates of a single split against k folds."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from ... import crossval
from ...figures import figure
from ...style import COLORS, new_figure

TRAIN_COLOR, VAL_COLOR, TEST_COLOR = "#CFE3F2", COLORS[1], "#BBBBBB"


def _digit_sizes():
    from ...experiments.practice import digits64

    d = digits64()
    return len(d.X_train), len(d.X_val), len(d.X_test)


def _blocks(ax, y, sizes, labels, colors, hatches):
    total = float(sum(sizes))
    x = 0.0
    for size, label, color, hatch in zip(sizes, labels, colors, hatches, strict=True):
        ax.add_patch(Rectangle((x / total, y), size / total, 0.7, facecolor=color, edgecolor="black", hatch=hatch))
        ax.text((x + size / 2) / total, y + 0.35, label, ha="center", va="center",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})
        x += size


@figure("crossvalidation", notebook="09_training_practice")
def plot_crossvalidation(k: int = 5):
    """The digits as the course splits them: one validation split, or the training and validation
    images cut into ``k`` folds (sizes from :func:`lecture_lib.crossval.fold_sizes`); the test
    images stay out of both."""
    n_train, n_val, n_test = _digit_sizes()
    folds = crossval.fold_sizes(n_train + n_val, k)
    fig = new_figure(10, 3.2)
    ax = fig.add_subplot()
    _blocks(ax, 1.1, [n_train, n_val, n_test], [f"train ({n_train})", f"validation ({n_val})", f"test ({n_test})"],
            [TRAIN_COLOR, VAL_COLOR, TEST_COLOR], ["", "//", "xx"])
    _blocks(ax, 0.0, [*folds, n_test], [f"fold {i + 1}\n({s})" for i, s in enumerate(folds)] + [f"test ({n_test})"],
            [VAL_COLOR] + [TRAIN_COLOR] * (k - 1) + [TEST_COLOR], ["//"] + [""] * (k - 1) + ["xx"])
    ax.set(xlim=(0, 1), ylim=(-0.15, 1.95), xticks=[], yticks=[0.35, 1.45])
    ax.set_yticklabels([f"{k}-fold: fold 1 validates\nin round 1 of {k}", "one split"])
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"The {n_test} test digits stay out; the other {n_train + n_val} are one split, "
                 f"or {k} folds that take turns")
    return fig


@figure("K-fold_cross_validation_EN", notebook="09_training_practice")
def plot_k_fold_rounds(result=None, k_index: int | None = None):
    """Each round of a k-fold cross-validation on the examples in their shuffled order (validation
    fold dark), with that round's validation accuracy and their mean, from a real run
    (``result``: :class:`~lecture_lib.experiments.practice.KFoldChoice`, its first shuffle; the
    nearest-neighbour k at ``k_index``, by default the truly best one)."""
    if result is None:
        from ...experiments.practice import measure_k_fold

        result = measure_k_fold(np.random.default_rng(4), shuffles=1, truth_shuffles=1)
    j = result.best if k_index is None else k_index
    scores = result.fold_scores[0, j]
    folds, n = result.folds, result.n_dev
    roles = np.stack([crossval.fold_ids(n, folds) == i for i in range(folds)]).astype(float)
    fig = new_figure(10, 0.6 * folds + 1.6)
    ax = fig.add_subplot()
    ax.imshow(roles, aspect="auto", cmap=ListedColormap([TRAIN_COLOR, VAL_COLOR]), interpolation="nearest",
              extent=(0, n, folds + 0.5, 0.5))
    for i, s in enumerate(scores):
        ax.text(n * 1.01, i + 1, f"accuracy {s:.3f}", va="center")
    ax.text(n * 1.01, folds + 0.95, f"mean {scores.mean():.3f}", va="center", fontsize="medium", fontweight="bold")
    ax.set(xlim=(0, n * 1.2), ylim=(folds + 1.3, 0.5), yticks=np.arange(1, folds + 1),
           xlabel=f"the {n} development images, in shuffled order (dark: the validation fold)", ylabel="round")
    ax.set_xticks([t for t in np.linspace(0, n, folds + 1)])
    ax.grid(False)
    ax.set_title(f"{folds}-fold cross-validation of a {result.ks[j]}-nearest-neighbour classifier: "
                 f"every image validates once")
    return fig


def plot_k_fold_spread(result):
    """Per k of the nearest-neighbour classifier: the estimates of a single split and of k folds
    over the shuffles (boxes), the truth on held-out images, and how often each method picks each k."""
    fig = new_figure(11, 4.8)
    ax, ax_pick = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
    x = np.arange(len(result.ks))
    methods = ((result.single, "one split"), (result.k_fold, f"{result.folds}-fold"))
    for i, (est, _) in enumerate(methods):
        box = ax.boxplot(est, positions=x + (i - 0.5) * 0.32, widths=0.28, patch_artist=True, showfliers=False)
        for patch in box["boxes"]:
            patch.set(facecolor=COLORS[i], alpha=0.55, hatch="//" if i == 0 else "")
    truth = ax.plot(x, result.truth, "D-", color=COLORS[3])[0]
    ax.set_xticks(x, [str(k) for k in result.ks])
    ratio = result.single[:, result.best].std() / result.k_fold[:, result.best].std()
    ax.set(xlabel="n_neighbors (of the nearest-neighbour classifier)", ylabel="estimated accuracy (box: over shuffles)",
           title=f"One split's estimate spreads {ratio:.1f}x wider than {result.folds}-fold's")
    bars = []
    for i, (est, _) in enumerate(methods):
        share = np.bincount(np.argmax(est, axis=1), minlength=len(result.ks)) / len(est)
        bars.append(ax_pick.bar(x + (i - 0.5) * 0.4, share, width=0.4, color=COLORS[i],
                                hatch="//" if i == 0 else "", edgecolor="black"))
    ax_pick.set_xticks(x, [str(k) for k in result.ks])
    ax_pick.set(xlabel=f"n_neighbors chosen (best: {result.ks[result.best]})", ylabel="share of shuffles", ylim=(0, 1),
                title="Which n_neighbors each method picks")
    # one legend for both panels (same colours and hatching), below them: inside, it would hide the
    # whiskers on the left and the tallest bars on the right
    fig.legend([*bars, truth],
               [*(f"{name}: best value picked {result.picks_best(est):.0%} of the time" for est, name in methods),
                "truth (720 held-out images)"],
               loc="outside lower center", ncols=2)
    return fig
