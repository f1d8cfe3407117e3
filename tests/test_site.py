"""The static site builder (`make site`), on 00_start_here only, in the fast profile."""

from __future__ import annotations

import base64
import io
import re

import nbformat
import pytest
from PIL import Image

from lecture_lib import site
from lecture_lib.widgets import gradient_descent_1d_explorer


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    pages = site.build_site(out, "fast", ["00_start_here"], timeout=120, log=lambda *_: None)
    return out, pages


def _png_sizes(text: str) -> list[tuple[int, int]]:
    return [Image.open(io.BytesIO(base64.b64decode(b64))).size
            for b64 in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"', text)]


def test_index_links_every_page(built):
    out, pages = built
    index = (out / "index.html").read_text(encoding="utf-8")
    assert [p.name for p in pages] == ["00_start_here"]
    assert 'href="00_start_here.html"' in index
    assert "Start here" in index and "fast" in index


def test_page_holds_results_and_figures(built):
    out, _ = built
    page = (out / "00_start_here.html").read_text(encoding="utf-8")
    assert "CONFIRMED course.widgets-react" in page       # the verdict, printed when executed
    assert "not attempted" in page                         # the exercise checker's output
    assert 'href="index.html"' in page
    # Links to other notebooks point to their pages.
    assert "01_activations.html" in page and 'href="01_activations.ipynb"' not in page


def test_explorer_shows_its_picture_not_a_dead_widget(built):
    out, _ = built
    page = (out / "00_start_here.html").read_text(encoding="utf-8")
    explorer = gradient_descent_1d_explorer()
    width, height = (round(v) for v in explorer.figure.bbox.size)
    explorer.close()
    assert (width, height) in _png_sizes(page), "the explorer's picture is missing from the page"
    assert site.WIDGET_VIEW not in page and site.WIDGET_STATE not in page
    assert "@jupyter-widgets/html-manager" not in page     # no widget library to fetch


def test_prefer_static_keeps_the_png_and_drops_the_widget_view():
    nb = nbformat.v4.new_notebook()
    both = nbformat.v4.new_output("display_data", data={
        site.WIDGET_VIEW: {"model_id": "x", "version_major": 2, "version_minor": 0},
        "image/png": "iVBORw0KGgo=", "text/plain": "<Explorer>"})
    widget_only = nbformat.v4.new_output("display_data", data={
        site.WIDGET_VIEW: {"model_id": "y", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox()"})
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[both, widget_only])]
    nb.metadata["widgets"] = {site.WIDGET_STATE: {"state": {}}}
    assert site.prefer_static(nb) == 1
    data = [o["data"] for o in nb.cells[0].outputs]
    assert site.WIDGET_VIEW not in data[0] and "image/png" in data[0]
    assert site.WIDGET_VIEW in data[1]                      # nothing to show instead: left alone
    assert "widgets" not in nb.metadata


def test_link_pages_rewrites_only_notebook_links():
    text = ('<a href="01_activations.ipynb">x</a> <a href="04_optimizers.ipynb#adam">y</a> '
            '<a href="https://example.org/a.ipynb">z</a>')
    assert site.link_pages(text) == ('<a href="01_activations.html">x</a> '
                                     '<a href="04_optimizers.html#adam">y</a> '
                                     '<a href="https://example.org/a.ipynb">z</a>')


@pytest.mark.parametrize("kwargs, word", [
    ({"profile": "slow"}, "profile"),
    ({"names": ["99_nothing"]}, "99_nothing"),
    ({"timeout": 0}, "timeout"),
])
def test_bad_input_names_the_argument(tmp_path, kwargs, word):
    args = {"out": tmp_path, "profile": "fast", "names": ["00_start_here"], **kwargs}
    with pytest.raises(ValueError, match=word):
        site.build_site(**args)
