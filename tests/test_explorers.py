"""Every explorer, driven headlessly, honours the contract of DESIGN.md §3."""

import ipywidgets as W
import numpy as np
import pytest

from lecture_lib.widgets import all_explorers
from lecture_lib.widgets.base import Explorer, float_slider

EXPLORERS = all_explorers()


def other_value(control):
    """A valid value different from the control's current one, as far from it as possible."""
    if isinstance(control, W.Checkbox):
        return not control.value
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons)):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next(o for o in options if o != control.value)
    if isinstance(control, W.FloatLogSlider):
        lo, hi = control.base ** control.min, control.base ** control.max
        return lo if abs(np.log(control.value / lo)) > abs(np.log(hi / control.value)) else hi
    lo, hi = control.min, control.max
    return lo if abs(control.value - lo) > abs(hi - control.value) else hi


def test_there_are_explorers():
    assert "gradient_descent_1d_explorer" in EXPLORERS


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_explorer_contract(name):
    ex = EXPLORERS[name]()
    assert isinstance(ex, Explorer)
    assert isinstance(ex.widget, W.Widget) and ex.controls and ex.last_error is None
    assert type(ex.figure).__name__ == "Figure"
    assert EXPLORERS[name].__doc__, f"{name} must document its controls and interactive sizes"
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"], "the display bundle must carry a PNG of the current state"
    ex.close()


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_every_control_changes_the_figure(name):
    ex = EXPLORERS[name]()
    for cname, control in ex.controls.items():
        before = ex.pixels()
        control.value = other_value(control)
        assert ex.last_error is None, f"{name}: moving {cname} raised {ex.last_error!r}"
        assert not np.array_equal(before, ex.pixels()), f"{name}: moving {cname} left the figure unchanged"
    ex.close()


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_unknown_initial_value_is_a_clear_error(name):
    with pytest.raises(ValueError, match="not_a_control"):
        EXPLORERS[name](not_a_control=1)


class Broken(Explorer):
    title = "draws until the knob passes 5"

    def __init__(self, **initial):
        super().__init__({"knob": float_slider(1.0, 0.0, 10.0, 1.0, "knob")}, initial, figsize=(3, 2))

    def build(self, figure):
        self.ax = figure.subplots()
        (self.line,) = self.ax.plot([0, 1], [0, 1])

    def draw(self, knob):
        if knob > 5:
            raise RuntimeError(f"knob {knob} is too far")
        self.line.set_ydata([0, knob])


def test_errors_are_shown_in_the_widget_and_kept():
    ex = Broken()
    ex.controls["knob"].value = 7.0
    assert isinstance(ex.last_error, RuntimeError)
    assert "knob 7.0 is too far" in ex._error.value and ex._error.layout.display != "none"
    ex.controls["knob"].value = 2.0
    assert ex.last_error is None and ex._error.layout.display == "none"


def test_out_of_range_initial_value_names_the_range():
    with pytest.raises(ValueError, match=r"knob=11 is out of range; expected a number in \[0.0, 10.0\]"):
        Broken(knob=11)


def test_rerunning_a_cell_closes_the_previous_explorer():
    """The same cell run twice: the first explorer's widgets are closed, nothing enters pyplot.
    In JupyterLab the key is the running cell's id; here it is given by hand."""
    import matplotlib.pyplot as plt

    from lecture_lib.widgets.gradient_descent_1d import GradientDescent1D

    figures_before = plt.get_fignums()
    first = GradientDescent1D()
    first._claim_cell("cell-1")
    second = GradientDescent1D()
    second._claim_cell("cell-1")
    assert first._closed and first.widget.comm is None
    assert all(c.comm is None for c in first.controls.values())
    assert not second._closed and second.widget.comm is not None
    assert plt.get_fignums() == figures_before
    second.close()
