"""The explorer base: live controls that recompute and redraw one pyplot-free Figure.

Contract (shared by every explorer in this package):

- ``.widget``: the ipywidgets root; ``.controls``: name -> control; ``.figure``: the Figure;
- ``.update()`` recomputes and redraws; setting any control's ``.value`` calls it before returning;
- an exception while drawing is shown inside the widget and kept in ``.last_error``; so is a
  value no drawing can use (NaN set on a slider): the figure keeps its last good state;
- a slider takes numbers only: a bool, a string, or a fraction on an integer slider (``steps=3.5``
  would silently become 3) is refused with a TypeError naming the control, as an initial value
  and when set on the control;
- displaying the explorer gives one output whose bundle holds the widget view *and* a PNG of the
  current state, so JupyterLab shows the live widget and static renderers show the picture;
- re-running the cell that made an explorer closes the previous one (no leaked widgets), and the
  Figure never touches pyplot (no leaked figures).
"""

from __future__ import annotations

import base64
import html
import numbers
import struct
import time
import traceback
import zlib
from collections import OrderedDict
from collections.abc import Mapping

import ipywidgets as W
import numpy as np
import traitlets

from .._checks import check_bool, check_int, check_scalar
from ..style import new_figure

_LIVE_BY_CELL: dict[str, Explorer] = {}


def _current_cell_id() -> str | None:
    """JupyterLab sends the running cell's id with each execute request; None elsewhere."""
    try:
        from IPython import get_ipython

        kernel = getattr(get_ipython(), "kernel", None)
        parent = kernel.get_parent("shell") if kernel is not None else None
        return (parent or {}).get("metadata", {}).get("cellId")
    except Exception:  # noqa: BLE001 - outside a kernel there is simply no cell
        return None


def _control_name(widget) -> str:
    return getattr(widget, "control_name", None) or widget.description or "value"


class _StrictInt(traitlets.CInt):
    """An integer trait that refuses instead of casting: 3.5 and True are not integers here."""

    def validate(self, obj, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{_control_name(obj)}={value!r} is not valid; expected an integer in "
                            f"[{obj.min}, {obj.max}]")
        return super().validate(obj, int(value))


class _StrictFloat(traitlets.CFloat):
    """A float trait that refuses booleans and strings instead of casting them. NaN passes here
    and is refused by :meth:`Explorer.update`, which shows the error inside the widget."""

    def validate(self, obj, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{_control_name(obj)}={value!r} is not valid; expected a real number")
        return super().validate(obj, float(value))


class IntSlider(W.IntSlider):
    value = _StrictInt(0, help="Int value").tag(sync=True)


class FloatSlider(W.FloatSlider):
    value = _StrictFloat(0.0, help="Float value").tag(sync=True)


class FloatLogSlider(W.FloatLogSlider):
    value = _StrictFloat(1.0, help="Float value").tag(sync=True)


def float_slider(value, min, max, step, description, fmt=".2f"):
    return FloatSlider(value=value, min=min, max=max, step=step, description=description,
                       readout_format=fmt, continuous_update=True, style={"description_width": "initial"})


def log_slider(value, min_exp, max_exp, description, step=0.1, fmt=".2g"):
    return FloatLogSlider(value=value, base=10, min=min_exp, max=max_exp, step=step,
                          description=description, readout_format=fmt, continuous_update=True,
                          style={"description_width": "initial"})


def int_slider(value, min, max, description, step=1):
    return IntSlider(value=value, min=min, max=max, step=step, description=description,
                     continuous_update=True, style={"description_width": "initial"})


def dropdown(value, options, description):
    return W.Dropdown(value=value, options=list(options), description=description,
                      style={"description_width": "initial"})


def checkbox(value, description):
    return W.Checkbox(value=value, description=description, indent=False)


def quick_png(rgba: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 4) uint8 image, alpha dropped, made for speed: each row is stored as
    its difference to the row above (PNG's "up" filter), and zlib compresses with run-length
    matching only. A figure's flat areas become long runs of zeros, so this takes about a third of
    the time of a general PNG encoder, for files about a fifth larger."""
    height, width = rgba.shape[:2]
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 2                                          # filter type of each row: "up"
    rgb = rows[:, 1:].reshape(height, width, 3)
    rgb[0] = rgba[0, :, :3]
    np.subtract(rgba[1:, :, :3], rgba[:-1, :, :3], out=rgb[1:])  # modulo 256, as PNG wants
    compressor = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    data = compressor.compress(rows) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlacing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def _bounds(control) -> tuple[float, float]:
    if isinstance(control, W.FloatLogSlider):
        return control.base ** control.min, control.base ** control.max
    return control.min, control.max


def _equal(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - e.g. an array compared with an option
        return False


def check_control_value(name: str, control, value):
    """``value`` checked for ``control``: an option of a drop-down, True/False for a check box, an
    integer for an integer slider, a finite number in range for any slider."""
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.SelectMultiple)):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        values = value if isinstance(control, W.SelectMultiple) else [value]
        def known(v):  # True is not the option 1, nor 1 the option True
            flag = isinstance(v, (bool, np.bool_))
            return any(flag == isinstance(o, (bool, np.bool_)) and _equal(v, o) for o in options)

        bad = [v for v in values if not known(v)]
        if bad:
            raise ValueError(f"{name}={value!r} is not an option; expected one of {options}")
    elif isinstance(control, W.Checkbox):
        check_bool(value, name)
    elif isinstance(control, (W.IntSlider, W.BoundedIntText)):
        lo, hi = _bounds(control)
        try:
            check_int(value, name, min=lo, max=hi)
        except ValueError:
            raise ValueError(f"{name}={value!r} is out of range; expected an integer in [{lo}, {hi}]") from None
    elif hasattr(control, "min") and hasattr(control, "max"):
        lo, hi = _bounds(control)
        try:
            check_scalar(value, name, min=lo, max=hi)
        except ValueError:
            shown = f"[{lo:g}, {hi:g}]" if isinstance(control, W.FloatLogSlider) else f"[{lo}, {hi}]"
            problem = "is out of range" if np.isfinite(value) else "is not a number"
            raise ValueError(f"{name}={value!r} {problem}; expected a number in {shown}") from None
    return value


class Explorer:
    """Base class. Subclasses build their controls and call ``super().__init__``; they implement
    ``build(figure)``, which makes the axes and artists once, and ``draw(**values)``, which
    recomputes and updates those artists from the controls' values.

    Speed (the budget is 50 ms a change on 2 cores, and drawing tick labels alone costs more):
    artists passed to :meth:`dynamic` are redrawn over a cached background (blitting). When a
    change alters anything else (axis limits, a static label), ``draw`` calls
    :meth:`invalidate`, and the next redraw renders the whole figure again (tick labels alone
    take about 12 ms an axis). ``invalidate(key)`` names the static state (a landscape, a graph):
    a background rendered before under the same key is reused, so going back to a state costs
    no more than any other change. Artists passed to :meth:`layered` (a loss image that follows
    two of ten controls) sit between the two: they are drawn over the static part into a second
    cached background, named by ``invalidate(key, layer=...)``, so that a change of the layer
    draws them once, over the cached static part, and the other changes do not draw them at all."""

    title: str = ""
    dpi: int = 80
    max_backgrounds: int = 12  # static renderings kept (about 1.5 MB each at the usual sizes)

    def __init__(self, controls: Mapping[str, W.ValueWidget], initial_values: Mapping | None = None,
                 *, figsize=(9.0, 4.0), key: str | None = None):
        self.controls: dict[str, W.ValueWidget] = dict(controls)
        for name, control in self.controls.items():
            control.control_name = name  # for the messages of the strict sliders
        for name, value in (initial_values or {}).items():
            if name not in self.controls:
                raise ValueError(f"{name!r} is not a control of {type(self).__name__}; "
                                 f"expected one of {sorted(self.controls)}")
            check_control_value(name, self.controls[name], value)
            self.controls[name].value = value
        self.figure = new_figure(*figsize, dpi=self.dpi)
        self.last_error: BaseException | None = None
        self.png: bytes = b""
        self.draw_seconds: float = float("nan")
        self._image = W.Image(format="png", layout=W.Layout(width="auto", max_width="100%"))
        self._error = W.HTML(layout=W.Layout(display="none"))
        boxes = W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))
        header = [W.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        self.widget = W.VBox([*header, boxes, self._image, self._error])
        self._closed = False
        self._dynamic: list = []
        self._layered: list = []
        self._background = None
        self._background_key = None
        self._layer_key = None
        self._backgrounds: OrderedDict = OrderedDict()  # key -> background, least recent first
        self.build(self.figure)
        self.update()
        # Lay out once (constrained), then freeze the axes' positions: re-solving the layout on
        # every redraw would cost more than the drawing itself.
        self.figure.set_layout_engine("none")
        self.invalidate(self._background_key, layer=self._layer_key)
        self._backgrounds.clear()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self._claim_cell(key if key is not None else _current_cell_id())

    # -- subclasses implement this -------------------------------------------------------------
    def build(self, figure) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw(self, **values) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def dynamic(self, *artists):
        """Mark artists that change on every redraw; returns the first, for chaining."""
        for artist in artists:
            artist.set_animated(True)
            self._dynamic.append(artist)
        return artists[0] if artists else None

    def layered(self, *artists):
        """Mark artists that change with a few of the controls only: they are drawn into a cached
        background over the static part (see :meth:`invalidate`'s ``layer``), not at every redraw."""
        for artist in artists:
            artist.set_animated(True)
            self._layered.append(artist)
        return artists[0] if artists else None

    def invalidate(self, key=None, *, layer=None) -> None:
        """The static part of the figure changed: render it again on the next redraw, or, when
        ``key`` (hashable) names a static state rendered before, reuse that rendering. ``layer``
        (hashable) names the state of the :meth:`layered` artists in the same way: a new layer
        over a known static state draws only the layer."""
        self._background = None
        self._background_key = key
        self._layer_key = layer

    def prerender(self, key) -> None:
        """Render the static part of the figure as it is now and keep it under ``key``, ahead of
        the first change that needs it (for a few known static states, such as one per option of a
        drop-down, so that no change pays for a full rendering)."""
        canvas = self.figure.canvas
        canvas.draw()  # animated artists are skipped here
        self._keep(key, canvas.copy_from_bbox(self.figure.bbox))

    def _keep(self, key, background) -> None:
        if key is not None:
            self._backgrounds[key] = background
            while len(self._backgrounds) > self.max_backgrounds:
                self._backgrounds.popitem(last=False)

    def _kept(self, key):
        """The background kept under ``key``, or None."""
        if key is None or key not in self._backgrounds:
            return None
        self._backgrounds.move_to_end(key)
        return self._backgrounds[key]

    def _render(self) -> bytes:
        canvas = self.figure.canvas
        if not self._dynamic and not self._layered:
            canvas.draw()
            return quick_png(np.asarray(canvas.buffer_rgba()))
        key = self._background_key
        full_key = ("layer", key, self._layer_key) if self._layered and key is not None else key
        if self._background is None:
            self._background = self._kept(full_key)
        if self._background is None:
            static = self._kept(key) if self._layered else None
            if static is None:
                canvas.draw()  # animated artists are skipped here
                if self._layered:
                    self._keep(key, canvas.copy_from_bbox(self.figure.bbox))
            else:
                canvas.restore_region(static)
            for artist in self._layered:
                if artist.get_visible():
                    self.figure.draw_artist(artist)
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._keep(full_key, self._background)
        else:
            canvas.restore_region(self._background)
        for artist in self._dynamic:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        return quick_png(np.asarray(canvas.buffer_rgba()))

    # -- the contract --------------------------------------------------------------------------
    @property
    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def update(self) -> None:
        """Recompute and redraw from the controls' current values."""
        start = time.perf_counter()
        try:
            values = self.values
            for name, value in values.items():  # e.g. NaN set on a slider: shown, never drawn
                check_control_value(name, self.controls[name], value)
            self.draw(**values)
            png = self._render()
        except Exception as err:  # noqa: BLE001 - shown in the widget, kept in last_error
            self.last_error = err
            text = "".join(traceback.format_exception_only(type(err), err)).strip()
            self._error.value = (f"<pre style='color:#D55E00;white-space:pre-wrap'>⚠ {html.escape(text)}"
                                 f"\n(values: {html.escape(repr(self.values))})</pre>")
            self._error.layout.display = ""
            return
        self.last_error = None
        self._error.value = ""
        self._error.layout.display = "none"
        self.png = png
        self._image.value = png
        self.draw_seconds = time.perf_counter() - start

    def _on_change(self, change) -> None:
        self.update()

    def pixels(self) -> np.ndarray:
        """The figure's current RGBA pixels (a copy), to test that a control changed the picture."""
        return np.asarray(self.figure.canvas.buffer_rgba()).copy()

    def close(self) -> None:
        """Close every widget of this explorer, so that nothing of it stays alive."""
        if self._closed:
            return
        self._closed = True
        for control in self.controls.values():
            control.unobserve(self._on_change, names="value")
        for box in self.widget.children:
            for child in getattr(box, "children", ()):
                child.close()
            box.close()
        self.widget.close()

    def _claim_cell(self, key: str | None) -> None:
        if key is None:
            return
        previous = _LIVE_BY_CELL.get(key)
        if previous is not None and previous is not self:
            previous.close()
        _LIVE_BY_CELL[key] = self

    # -- display -------------------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude, **kwargs) or {}
        if self.png:
            bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.values}>"
