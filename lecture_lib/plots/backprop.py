"""Figures of 03_backprop_gates: computational graphs drawn from the autodiff engine's own nodes,
the stability edge of the learning rate, the staged two-layer net on the spiral, and the gradient
check's error against the step h.

A graph is laid out with matplotlib (no graphviz): inputs on the left, the output on the right, each
node's forward value above it and its gradient below it. ``draw_graph(ax, root)`` lays it out and
returns a :class:`GraphPicture`; ``picture.update(new_root)`` rewrites only the value and gradient
labels for a graph of the same shape (the gate explorer calls it on every slider move).
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Value
from ..style import COLORS, PALETTE, font_pt, legend_beside, new_figure, style_marker

VALUE_COLOR = PALETTE["blue"]
GRAD_COLOR = PALETTE["vermillion"]
ROW_GAP = 1.5  # vertical distance between nodes of one column (data units)


def node_name(node: Value) -> str:
    """What a node shows inside its box: its label, its operation, or (a constant) its value."""
    if node.label:
        return node.label
    if node._op:
        return {"*": "×"}.get(node._op, node._op)
    return f"{node.data:g}"


def layout(root: Value) -> tuple[list[Value], dict[int, tuple[float, float]]]:
    """Nodes in topological order and their (x, y) positions. A node's column is its longest
    distance to the output, so each input sits just left of the gate that uses it."""
    order = root.topo()
    level = {id(root): 0}
    for node in reversed(order):                     # parents before children
        for child in node._prev:
            level[id(child)] = max(level.get(id(child), 0), level[id(node)] + 1)
    depth = max(level.values())
    columns: dict[int, list[Value]] = {}
    for node in reversed(order):
        columns.setdefault(level[id(node)], []).append(node)
    pos: dict[int, tuple[float, float]] = {}
    parents: dict[int, list[Value]] = {}
    for node in order:
        for child in node._prev:
            parents.setdefault(id(child), []).append(node)
    for lev in range(depth + 1):
        nodes = columns.get(lev, [])

        def anchor(node, nodes=nodes):
            ys = [pos[id(p)][1] for p in parents.get(id(node), []) if id(p) in pos]
            slot = [i for p in parents.get(id(node), []) for i, c in enumerate(p._prev) if c is node]
            return (sum(ys) / len(ys) if ys else 0.0, -(slot[0] if slot else 0))
        nodes = sorted(nodes, key=anchor, reverse=True) if lev else nodes
        n = len(nodes)
        for i, node in enumerate(nodes):
            centre = anchor(node)[0] if lev else 0.0
            pos[id(node)] = (float(depth - lev), centre + ((n - 1) / 2 - i) * ROW_GAP)
    # spread overlapping nodes of a column apart
    for lev in range(depth + 1):
        nodes = sorted(columns.get(lev, []), key=lambda v: -pos[id(v)][1])
        for a, b in zip(nodes, nodes[1:], strict=False):
            xa, ya = pos[id(a)]
            xb, yb = pos[id(b)]
            if ya - yb < ROW_GAP:
                pos[id(b)] = (xb, ya - ROW_GAP)
    return order, pos


class GraphPicture:
    """The drawing of one graph on one Axes; ``texts`` holds (value, gradient) labels per node."""

    def __init__(self, ax, root: Value, *, fmt: str = ".3g", title: str | None = None,
                 show_grad: bool = True):
        if not isinstance(root, Value):
            raise TypeError(f"root of type {type(root).__name__} is not valid; expected a Value")
        self.ax, self.fmt, self.show_grad = ax, fmt, show_grad
        self.nodes, self.pos = layout(root)
        self.texts = []
        xs = [p[0] for p in self.pos.values()]
        ys = [p[1] for p in self.pos.values()]
        for node in self.nodes:                      # edges first, so boxes cover their ends
            x1, y1 = self.pos[id(node)]
            for child in node._prev:
                x0, y0 = self.pos[id(child)]
                ax.annotate("", xy=(x1 - 0.2, y1), xytext=(x0 + 0.2, y0),
                            arrowprops={"arrowstyle": "-|>", "color": "0.45", "lw": 1.3,
                                        "shrinkA": 0, "shrinkB": 0})
        for node in self.nodes:
            x, y = self.pos[id(node)]
            is_op = bool(node._op) and not node.label
            ax.text(x, y, node_name(node), ha="center", va="center", fontsize=font_pt(12),
                    fontweight="bold", zorder=3,
                    bbox={"boxstyle": "circle,pad=0.3" if is_op else "round,pad=0.3",
                          "fc": "#F2F2F2" if is_op else "white", "ec": "0.3", "lw": 1.2})
            value = ax.text(x, y + 0.3, "", ha="center", va="bottom", color=VALUE_COLOR,
                            fontsize="medium", zorder=4)
            grad = ax.text(x, y - 0.3, "", ha="center", va="top", color=GRAD_COLOR,
                           fontsize="medium", fontstyle="italic", zorder=4)
            self.texts.append((value, grad))
        ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
        ax.set_axis_off()
        if title:
            ax.set_title(title)
        self.update(root)

    def artists(self) -> list:
        """The labels that change with the inputs (for blitting in an explorer)."""
        return [t for pair in self.texts for t in pair]

    def update(self, root: Value) -> None:
        """Rewrite the values and gradients from ``root``, a graph of the same shape."""
        nodes = root.topo()
        if len(nodes) != len(self.nodes):
            raise ValueError(f"the graph has {len(nodes)} nodes but the drawing has "
                             f"{len(self.nodes)}; expected a graph of the same shape")
        self.nodes = nodes
        for node, (value, grad) in zip(nodes, self.texts, strict=True):
            value.set_text(f"{node.data:{self.fmt}}")
            grad.set_text(f"∇ {node.grad:{self.fmt}}" if self.show_grad else "")


def draw_graph(ax, root: Value, **kwargs) -> GraphPicture:
    """Draw the graph below ``root`` on ``ax``: values (blue, upright) above the nodes, gradients
    d root / d node (vermillion, italic, after ∇) below. Call ``root.backward()`` first to see
    gradients. Keyword arguments go to :class:`GraphPicture` (``fmt``, ``title``, ``show_grad``)."""
    return GraphPicture(ax, root, **kwargs)


def add_legend_note(ax) -> None:
    """A one-line key: which colour is the value and which the gradient."""
    ax.text(0.0, -0.02, "blue: forward value   ·   vermillion ∇: gradient of the output",
            transform=ax.transAxes, ha="left", va="top", fontsize="medium", color="0.25")


# --------------------------------------------------------------------------- the figures
def plot_graphs(graphs: dict, width_ratios=None):
    """One panel per graph, ``{title: root}``, side by side, with the colour key under the last."""
    if not isinstance(graphs, dict) or not graphs:
        raise TypeError("graphs is not valid; expected a non-empty dict {title: root Value}")
    fig = new_figure(13, 4.6 if len(graphs) > 1 else 3.8)
    axes = np.atleast_1d(fig.subplots(1, len(graphs), width_ratios=width_ratios))
    for ax, (title, root) in zip(axes, graphs.items(), strict=True):
        draw_graph(ax, root, title=title)
    add_legend_note(axes[-1])
    return fig


def plot_stable_lr(result):
    """Loss after the run's steps against the learning rate, raw and scaled data, with the largest
    stable rates and the notes' rule (an :class:`~lecture_lib.experiments.backprop.StableLR`)."""
    fig = new_figure(8.5, 4.2)
    ax = fig.subplots()
    ax.loglog(result.sweep_lrs, result.final_raw, label="raw data", **style_marker(0), markersize=4)
    ax.loglog(result.sweep_lrs, result.final_scaled, label=f"data × {result.factor:g}", **style_marker(1),
              markersize=4)
    ax.axvline(result.lr_raw, color=COLORS[0], linestyle=":", label=f"largest stable, raw: {result.lr_raw:.2g}")
    ax.axvline(result.lr_scaled, color=COLORS[1], linestyle=":",
               label=f"largest stable, ×{result.factor:g}: {result.lr_scaled:.2g}")
    ax.axvline(result.notes_lr, color=COLORS[3], linestyle="-.",
               label=f"the notes' rule: raw / {result.factor:g} = {result.notes_lr:.2g}")
    ax.axhline(result.notes_losses[0], color="0.5", linewidth=1)
    ax.set(xlabel="learning rate (log scale)", ylabel=f"softmax loss after {result.steps} steps (log scale)",
           title=f"Scaling the data by {result.factor:g} moves the stability edge by {result.drop:.1e}x, "
                 f"not {result.factor:.0e}x")
    ax.legend(loc="upper left")
    return fig


def plot_spiral(result, X_held, y_held):
    """Held-out points over the learned class regions, and the training loss against the linear
    classifier's (a :class:`~lecture_lib.experiments.backprop.SpiralTraining`)."""
    from matplotlib.colors import ListedColormap

    grid = np.linspace(-1.2, 1.2, 200)
    gx, gy = np.meshgrid(grid, grid)
    regions = result.net.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    n_classes = result.net.sizes[-1]
    fig = new_figure(11, 4.6)
    ax_b, ax_l = fig.subplots(1, 2, width_ratios=[1, 1.2])
    ax_b.contourf(gx, gy, regions, levels=np.arange(n_classes + 1) - 0.5,
                  cmap=ListedColormap(COLORS[:n_classes]), alpha=0.25)
    for k in range(n_classes):
        m = y_held == k
        ax_b.scatter(X_held[m, 0], X_held[m, 1], s=14, color=COLORS[k], marker=style_marker(k)["marker"],
                     edgecolor="k", linewidth=0.3, label=f"class {k}")
    ax_b.set(xlabel="x₁", ylabel="x₂", aspect="equal",
             title=f"held-out points on the learned regions: {result.heldout_acc:.1%}")
    legend_beside(ax_b)   # inside, every corner of the square holds held-out points
    ax_l.semilogy(np.arange(1, len(result.losses) + 1), result.losses, color=COLORS[0],
                  label="two-layer net (gates)")
    ax_l.axhline(result.linear_loss, color=COLORS[1], linestyle="--",
                 label="linear classifier: its final loss (half its largest stable lr)")
    ax_l.set(xlabel="gradient step", ylabel="training loss (log scale)",
             title="Staged gates train the net; a linear model stalls")
    ax_l.legend()
    return fig


def plot_step_sweep(sweep, agree: float):
    """Relative error of the numerical gradient against the step δ (a
    :class:`~lecture_lib.experiments.backprop.StepSweep`), with the band where gradients agree."""
    fig = new_figure(8.5, 4.2)
    ax = fig.subplots()
    ax.loglog(sweep.hs, sweep.centred, label="centred, float64", **style_marker(0))
    ax.loglog(sweep.hs, sweep.one_sided, label="one-sided, float64", **style_marker(1))
    float32 = np.maximum(sweep.float32, 1e-16)     # an exact 0 (f(x + h) == f(x - h)) drawn at 1e-16
    ax.loglog(sweep.hs, float32, label="centred, float32", **style_marker(2))
    floor = min(np.min(sweep.centred), np.min(sweep.one_sided), np.min(float32)) / 3
    ax.axhspan(floor, agree, color=COLORS[2], alpha=0.08)
    ax.set_ylim(bottom=floor)
    ax.axhline(agree, color="0.4", linewidth=1)
    ax.text(sweep.hs[-1], agree * 1.5, f"agree: below {agree:.0e}", color="0.3", ha="right")
    ax.set(xlabel="step δ of the difference (log scale; numerical_gradient's argument h)",
           ylabel="relative error vs analytic (log scale)",
           title="Truncation error falls with δ until rounding takes over")
    ax.invert_xaxis()
    ax.legend(loc="lower left")
    return fig
