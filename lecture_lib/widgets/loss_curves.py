"""Reading loss curves, live: pick a learning rate and an init scale from a sweep of real runs (an
MLP with two hidden layers on 400 digits, SGD with momentum) and read the loss, the accuracies and
the one-line diagnosis :func:`lecture_lib.babysitting.diagnose` computes from them; a map of the
sweep shows every run's diagnosis at once.

The sweep is :func:`lecture_lib.experiments.practice.measure_loss_curves` (cached on disk), so a
change only redraws."""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ..babysitting import LABELS
from ..style import COLORS
from .base import Explorer

LOSS_LIM = (0.01, 50.0)
SHORT = {"too high": "too\nhigh", "plateau": "plat-\neau", "too low": "too\nlow", "overfitting": "over-\nfit",
         "good": "good"}
LABEL_COLORS = {"too high": COLORS[3], "plateau": COLORS[5], "too low": COLORS[4], "overfitting": COLORS[1],
                "good": COLORS[2]}


def _toggle(value, options, description, fmt):
    return W.ToggleButtons(options=[(fmt(o), o) for o in options], value=value, description=description,
                           style={"description_width": "initial", "button_width": "52px"})


class LossCurvesExplorer(Explorer):
    title = "Reading loss curves: what went wrong with this run?"

    def __init__(self, **initial_values):
        from ..experiments.practice import measure_loss_curves

        self.sweep = measure_loss_curves(np.random.default_rng(8))
        self.diagnoses = {(float(s), float(lr)): self.sweep.diagnosis(lr, s)
                          for s in self.sweep.scales for lr in self.sweep.lrs}
        controls = {
            "lr": _toggle(float(self.sweep.lrs[3]), [float(v) for v in self.sweep.lrs], "learning rate", "{:g}".format),
            "scale": _toggle(1.0, [float(v) for v in self.sweep.scales], "init scale (× He)", "{:g}".format),
        }
        super().__init__(controls, initial_values, figsize=(11.5, 4.7))

    def build(self, figure):
        gs = figure.add_gridspec(1, 3, width_ratios=[1.15, 1, 1.1])
        self.ax_loss, self.ax_acc, self.ax_map = (figure.add_subplot(gs[0, i]) for i in range(3))
        epochs = self.sweep.train_loss.shape[-1]
        (self.steps,) = self.ax_loss.semilogy([], [], color=COLORS[0], linestyle="-", alpha=0.3, linewidth=1,
                                              label="each step")
        (self.epoch_loss,) = self.ax_loss.semilogy([], [], color=COLORS[0], linestyle="-", marker="o", markersize=4,
                                                   label="epoch mean")
        self.ax_loss.axhline(math.log(10), color="gray", linestyle=":", label="chance: log 10")
        self.ax_loss.set(xlim=(0, epochs), ylim=LOSS_LIM, xlabel="epoch", ylabel="training loss (log)",
                         title="training loss")
        (self.train,) = self.ax_acc.plot([], [], color=COLORS[1], linestyle="-", marker="s", markersize=4,
                                         label="training accuracy")
        (self.val,) = self.ax_acc.plot([], [], color=COLORS[2], linestyle="--", marker="^", markersize=4,
                                       label="validation accuracy")
        self.ax_acc.set(xlim=(0.5, epochs + 0.5), ylim=(0, 1.02), xlabel="epoch", ylabel="accuracy", title="accuracy")
        self.ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))
        # one legend for the loss and the accuracy, below the panels: the runs' curves reach every
        # corner of both (a step's dips on the loss, a diverged run's accuracy along the bottom)
        (loss_handles, loss_labels), (acc_handles, acc_labels) = (ax.get_legend_handles_labels()
                                                                  for ax in (self.ax_loss, self.ax_acc))
        figure.legend(loss_handles + acc_handles, loss_labels + acc_labels, loc="outside lower center", ncols=5)
        codes = np.array([[LABELS.index(self.diagnoses[(float(s), float(lr))].label) for lr in self.sweep.lrs]
                          for s in self.sweep.scales])
        cmap = ListedColormap([LABEL_COLORS[label] for label in LABELS])
        self.ax_map.imshow(codes, cmap=cmap, vmin=-0.5, vmax=len(LABELS) - 0.5, aspect="auto", origin="lower",
                           alpha=0.75)
        for (i, j), code in np.ndenumerate(codes):
            self.ax_map.text(j, i, SHORT[LABELS[code]], ha="center", va="center")
        self.ax_map.set_xticks(range(len(self.sweep.lrs)), [f"{v:g}" for v in self.sweep.lrs])
        self.ax_map.set_yticks(range(len(self.sweep.scales)), [f"{v:g}" for v in self.sweep.scales])
        self.ax_map.set(xlabel="learning rate", ylabel="init scale (× He)", title="every run's diagnosis")
        self.ax_map.grid(False)
        self.cell = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.5)
        self.ax_map.add_patch(self.cell)
        self.verdict = self.figure.suptitle("lr, init → DIAGNOSIS", fontsize="medium", fontweight="bold")
        # Everything that changes is one of the sweep's 21 runs: a layer kept per run, so that going
        # back to a run draws nothing (the verdict's line of text alone takes about 12 ms).
        self.layered(self.steps, self.epoch_loss, self.train, self.val, self.cell, self.verdict)

    def draw(self, lr, scale):
        self.invalidate(key="axes", layer=(lr, scale))
        run = self.sweep.run(lr, scale)
        epochs = self.sweep.train_loss.shape[-1]
        steps = run["step_loss"]
        x = np.arange(len(steps)) * epochs / len(steps)
        self.steps.set_data(x, np.clip(steps, *LOSS_LIM))
        done = np.isfinite(run["train_loss"])
        e = np.arange(1, done.sum() + 1)
        self.epoch_loss.set_data(np.r_[0, e], np.clip(np.r_[steps[0], run["train_loss"][done]], *LOSS_LIM))
        self.train.set_data(e, run["train_acc"][done])
        self.val.set_data(e, run["val_acc"][done])
        i = int(np.argmin(np.abs(self.sweep.scales - scale)))
        j = int(np.argmin(np.abs(np.log(self.sweep.lrs / lr))))
        self.cell.set_xy((j - 0.5, i - 0.5))
        diagnosis = self.diagnoses[(float(self.sweep.scales[i]), float(self.sweep.lrs[j]))]
        self.verdict.set_text(f"lr {lr:g}, init {scale:g} × He → {diagnosis.label.upper()}: {diagnosis.reason}")
        self.verdict.set_color(LABEL_COLORS[diagnosis.label])


def loss_curves_explorer(**initial_values) -> LossCurvesExplorer:
    """Controls: ``lr`` (the sweep's learning rates, 0.001 to 3) and ``scale`` (the initial
    weights' scale, 0.1, 0.3 or 1 times He's).

    Interactive problem size: nothing is trained on a change. The 21 runs behind it (an MLP
    64-64-64-10 on 400 training digits, 15 epochs of SGD with momentum 0.9, batches of 40) are
    run once, about two seconds, and kept in the disk cache; a change sets four curves, a marker
    and one line of text, and draws them over a cached background; the last runs drawn are kept
    as they were drawn."""
    return LossCurvesExplorer(**initial_values)
