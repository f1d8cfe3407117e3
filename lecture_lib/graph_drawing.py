"""Draw a small computational graph of :class:`~lecture_lib.autodiff.Value` nodes with
matplotlib (no graphviz): inputs on the left, the output on the right, each node's forward value
above it and its gradient below it.

``draw_graph(ax, root)`` lays the graph out and returns a :class:`GraphPicture`;
``picture.update(new_root)`` rewrites only the value and gradient labels for a graph of the same
shape (the explorers call it on every slider move, so nothing else is redrawn).
"""

from __future__ import annotations

from .autodiff import Value
from .style import PALETTE

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
            ax.text(x, y, node_name(node), ha="center", va="center", fontsize=12,
                    fontweight="bold", zorder=3,
                    bbox={"boxstyle": "circle,pad=0.3" if is_op else "round,pad=0.3",
                          "fc": "#F2F2F2" if is_op else "white", "ec": "0.3", "lw": 1.2})
            value = ax.text(x, y + 0.3, "", ha="center", va="bottom", color=VALUE_COLOR,
                            fontsize=11, zorder=4)
            grad = ax.text(x, y - 0.3, "", ha="center", va="top", color=GRAD_COLOR,
                           fontsize=11, fontstyle="italic", zorder=4)
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
            transform=ax.transAxes, ha="left", va="top", fontsize=11, color="0.25")
