"""The gate explorer: set the inputs x, y, z of a small computational graph with sliders and watch
every node's forward value (blue) and gradient (vermillion) change on the drawing. Switch the graph
to see the four patterns of backprop: add distributes, multiply swaps, max routes, a branch adds."""

from __future__ import annotations

from ..autodiff import Value
from ..plots.backprop import add_legend_note, draw_graph
from .base import Explorer, dropdown, float_slider


def _graph(name: str, x: float, y: float, z: float) -> tuple[Value, tuple[Value, Value, Value]]:
    vx, vy, vz = Value(x, label="x"), Value(y, label="y"), Value(z, label="z")
    if name == "(x + y)·z":
        out = (vx + vy) * vz
    elif name == "max(x, y)·z":
        out = vx.maximum(vy) * vz
    elif name == "σ(x·z + y)":
        out = (vx * vz + vy).sigmoid()
    elif name == "x·y + x·z (x branches)":
        out = vx * vy + vx * vz
    else:
        raise ValueError(f"graph={name!r} is not a graph; expected one of {GRAPHS}")
    out.backward()
    return out, (vx, vy, vz)


GRAPHS = ("(x + y)·z", "max(x, y)·z", "σ(x·z + y)", "x·y + x·z (x branches)")


class GateExplorer(Explorer):
    title = "Backprop through gates: values forward, gradients backward"

    def __init__(self, **initial_values):
        controls = {
            "graph": dropdown(GRAPHS[0], GRAPHS, "graph"),
            "x": float_slider(-2.0, -3.0, 3.0, 0.1, "x"),
            "y": float_slider(5.0, -6.0, 6.0, 0.1, "y"),
            "z": float_slider(-4.0, -6.0, 6.0, 0.1, "z"),
        }
        self._shown = None
        super().__init__(controls, initial_values, figsize=(9.0, 4.2))

    def build(self, figure):
        self.ax = figure.add_subplot(1, 1, 1)
        add_legend_note(self.ax)
        # Every graph is drawn once, on the same axes; a switch shows one and hides the others
        # (drawing a graph anew takes longer than a whole change is allowed to).
        self._pictures, self._members, self._limits = {}, {}, {}
        for name in GRAPHS:
            before = set(self.ax.get_children())
            root, _ = _graph(name, *(self.controls[k].value for k in "xyz"))
            self._pictures[name] = draw_graph(self.ax, root)
            self._members[name] = [a for a in self.ax.get_children() if a not in before]
            self._limits[name] = (self.ax.get_xlim(), self.ax.get_ylim())
            for artist in self._pictures[name].artists():
                artist.set_animated(True)

    def _show(self, name):
        for graph, members in self._members.items():
            for artist in members:
                artist.set_visible(graph == name)
        xlim, ylim = self._limits[name]
        self.ax.set(xlim=xlim, ylim=ylim, title=f"f = {name}")
        self._dynamic = list(self._pictures[name].artists())
        self._shown = name
        self.invalidate(key=name)

    def draw(self, graph, x, y, z):
        root, _ = _graph(graph, x, y, z)
        if graph != self._shown:
            self._show(graph)
        self._pictures[graph].update(root)


def gate_explorer(**initial_values) -> GateExplorer:
    """Controls: ``graph`` (one of four small graphs), ``x`` (-3..3), ``y`` (-6..6), ``z`` (-6..6).
    Interactive size: at most 9 nodes; a slider move rewrites at most 18 text labels (blitted);
    the four drawings are made once, and switching the graph shows another one."""
    return GateExplorer(**initial_values)
