"""Every explorer, driven headlessly, honours the contract of DESIGN.md §3."""

import ipywidgets as W
import numpy as np
import pytest

from lecture_lib.style import apply_style, small_texts
from lecture_lib.widgets import all_explorers
from lecture_lib.widgets.base import Explorer, float_slider

EXPLORERS = all_explorers()
_SHARED: dict = {}


def shared(name):
    """One instance of each explorer for the tests that leave it in a valid state (building one costs a
    full rendering); closed when the module's tests end."""
    if name not in _SHARED:
        _SHARED[name] = EXPLORERS[name]()
    return _SHARED[name]


@pytest.fixture(scope="module", autouse=True)
def _close_shared():
    apply_style()   # the course's style, as setup() applies it in a notebook
    yield
    for ex in _SHARED.values():
        ex.close()
    _SHARED.clear()


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
    ex = shared(name)
    assert isinstance(ex, Explorer)
    assert isinstance(ex.widget, W.Widget) and ex.controls and ex.last_error is None
    assert type(ex.figure).__name__ == "Figure"
    assert EXPLORERS[name].__doc__, f"{name} must document its controls and interactive sizes"
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"], "the display bundle must carry a PNG of the current state"
    small = small_texts(ex.figure)
    assert not small, f"{name}: text under 11 pt: {small[:5]}"


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_every_control_changes_the_figure(name):
    ex = shared(name)
    for cname, control in ex.controls.items():
        before = ex.pixels()
        control.value = other_value(control)
        assert ex.last_error is None, f"{name}: moving {cname} raised {ex.last_error!r}"
        assert not np.array_equal(before, ex.pixels()), f"{name}: moving {cname} left the figure unchanged"


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


# -- the arrows of the loss landscape follow the landscape ------------------------------------------
@pytest.mark.parametrize("landscape", ["saddle", "rosenbrock", "sharp_wide"])
def test_arrows_sit_on_the_new_landscape_after_a_switch(landscape):
    from lecture_lib import landscapes as L

    ex = EXPLORERS["loss_landscape_explorer"]()
    ex.controls["landscape"].value = landscape
    assert ex.last_error is None
    land = L.make(landscape)
    n = ex.controls["arrows"].value
    x0, x1, y0, y1 = land.extent
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    assert np.allclose(ex.quiver.get_offsets(), np.c_[X.ravel(), Y.ravel()])
    G = -land.exact_grad(np.stack([X, Y], axis=-1))
    G = G / max(float(np.linalg.norm(G, axis=-1).max()), 1e-12)
    assert np.allclose(ex.quiver.U, G[..., 0].ravel()) and np.allclose(ex.quiver.V, G[..., 1].ravel())
    ex.close()


# -- values no drawing can use ------------------------------------------------------------------------
def _controls_of_kind(*kinds):
    found = []
    for name in sorted(EXPLORERS):
        ex = EXPLORERS[name]()
        found += [(name, c) for c, w in ex.controls.items() if isinstance(w, kinds)]
        ex.close()
    return found


FLOAT_CONTROLS = _controls_of_kind(W.FloatSlider, W.FloatLogSlider)
INT_CONTROLS = _controls_of_kind(W.IntSlider)


def test_the_sliders_that_drew_nan_are_covered():
    for pair in [("gate_explorer", "x"), ("gate_explorer", "y"), ("gate_explorer", "z"),
                 ("gradient_descent_1d_explorer", "x0"), ("optimizer_paths_explorer", "x0"),
                 ("optimizer_paths_explorer", "y0"), ("saturation_explorer", "bias")]:
        assert pair in FLOAT_CONTROLS
    assert ("gradient_descent_1d_explorer", "steps") in INT_CONTROLS


@pytest.mark.parametrize("name", sorted({n for n, _ in FLOAT_CONTROLS}))
def test_nan_on_a_control_is_an_error_shown_in_the_widget(name):
    ex = shared(name)
    for control in [c for n, c in FLOAT_CONTROLS if n == name]:
        before, png = ex.pixels(), ex.png
        good = ex.controls[control].value
        ex.controls[control].value = float("nan")
        assert isinstance(ex.last_error, ValueError), f"{name}.{control}=nan drew without an error"
        assert f"{control}=nan is not a number" in str(ex.last_error)
        assert f"{control}=nan" in ex._error.value and ex._error.layout.display != "none"
        assert ex.png == png and np.array_equal(ex.pixels(), before), "the picture keeps its last good state"
        ex.controls[control].value = good
        assert ex.last_error is None and ex._error.layout.display == "none"
        with pytest.raises(ValueError, match=f"{control}=nan"):
            EXPLORERS[name](**{control: float("nan")})
        with pytest.raises(TypeError, match=f"{control}=True"):
            ex.controls[control].value = True


@pytest.mark.parametrize("name, control", INT_CONTROLS, ids=[f"{n}.{c}" for n, c in INT_CONTROLS])
def test_an_integer_control_refuses_what_is_not_an_integer(name, control):
    ex = shared(name)
    value = ex.controls[control].value
    for bad in (3.5, True, np.bool_(False), "3"):
        with pytest.raises(TypeError, match=f"{control}={bad!r}"):
            EXPLORERS[name](**{control: bad})
        with pytest.raises(TypeError, match=f"{control}={bad!r} is not valid; expected an integer"):
            ex.controls[control].value = bad
        assert ex.controls[control].value == value and ex.last_error is None


def test_numpy_scalars_are_numbers_for_the_controls():
    ex = EXPLORERS["gradient_descent_1d_explorer"](steps=np.int64(7), lr=np.float32(0.5), x0=np.float64(1.0))
    assert ex.controls["steps"].value == 7 and ex.last_error is None
    ex.controls["steps"].value = np.int32(9)
    assert ex.controls["steps"].value == 9 and ex.last_error is None
    ex.close()
    stats = EXPLORERS["activation_stats_explorer"](width=np.int64(64))
    assert stats.controls["width"].value == 64
    stats.close()
    with pytest.raises(ValueError, match="width=True"):
        EXPLORERS["activation_stats_explorer"](width=True)


# -- the background cache: going back to a state draws what a full redraw draws ------------------------
@pytest.mark.parametrize("name, control, values", [
    ("loss_landscape_explorer", "landscape", ["rosenbrock", "saddle", "taco"]),
    ("optimizer_paths_explorer", "landscape", ["sharp_wide", "taco"]),
    ("optimizer_paths_explorer", "race_sgd", [False, True]),
    ("gate_explorer", "graph", ["max(x, y)·z", "(x + y)·z"]),
    ("augmentation_explorer", "augmentation", ["crop", "barrel", "affine"]),   # backgrounds rendered ahead
    ("augmentation_explorer", "strength", [0.2, 0.9, 0.5]),                   # augmented images kept
])
def test_a_state_seen_before_is_drawn_exactly_as_a_full_redraw(name, control, values):
    ex = EXPLORERS[name]()
    first = ex.pixels()
    for value in values:
        ex.controls[control].value = value
    assert ex.last_error is None
    assert np.array_equal(ex.pixels(), first)
    ex.invalidate()  # no key: the whole figure is drawn again
    ex.update()
    assert np.array_equal(ex.pixels(), first)
    ex.close()


# -- layers: an image or a curve that follows a few controls is drawn into a cached background ------
@pytest.mark.parametrize("name, control, values", [
    ("optimizer_paths_explorer", "kappa", [50.0, 200.0, 20.0]),
    ("optimizer_paths_explorer", "lr", [0.5, 0.1]),
    ("loss_landscape_explorer", "angle", [60.0, 30.0]),
    ("search_explorer", "objective", ["both matter", "the first matters"]),
    ("loss_curves_explorer", "scale", [0.1, 1.0]),
    ("regularization_explorer", "keep", [0.5, 1.0]),
    ("normalization_explorer", "activation", ["tanh", "relu"]),
])
def test_a_cached_layer_draws_what_a_full_redraw_draws(name, control, values):
    ex = EXPLORERS[name]()
    first = ex.pixels()
    for value in values:
        ex.controls[control].value = value
    assert ex.last_error is None
    assert np.array_equal(ex.pixels(), first)
    ex._backgrounds.clear()  # nothing kept: the static part and the layer are drawn again
    ex.invalidate()
    ex.update()
    assert np.array_equal(ex.pixels(), first)
    ex.close()


def test_the_augmented_images_kept_for_a_state_are_those_a_fresh_explorer_draws():
    ex = EXPLORERS["augmentation_explorer"](augmentation="crop", strength=0.3, draw=4)
    for value in (0.8, 0.3):
        ex.controls["strength"].value = value
    fresh = EXPLORERS["augmentation_explorer"](augmentation="crop", strength=0.3, draw=4)
    assert np.array_equal(ex.pixels(), fresh.pixels())
    ex.close()
    fresh.close()


def test_the_quick_png_is_the_figure_exactly():
    import io

    from PIL import Image

    from lecture_lib.widgets.base import quick_png

    rng = np.random.default_rng(0)
    rgba = np.full((37, 53, 4), 255, dtype=np.uint8)
    rgba[5:30, 10:40, :3] = rng.integers(0, 256, (25, 30, 3))   # noise on a flat background
    rgba[..., 3] = rng.integers(0, 256, (37, 53))                # alpha is dropped
    decoded = np.asarray(Image.open(io.BytesIO(quick_png(rgba))))
    assert decoded.shape == (37, 53, 3) and np.array_equal(decoded, rgba[..., :3])
