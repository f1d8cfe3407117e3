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


# -- what a notebook's name or output could inject ---------------------------------------------------
CRAFTED = '00_a"><img src=x onerror=alert(2)><b>.html'  # a file name may hold any of these


def test_the_index_escapes_file_names(tmp_path):
    from html.parser import HTMLParser
    from urllib.parse import unquote

    page = site.index_page([site.Page("00_x<b>", "T<i>", "C&", 1.0, tmp_path / CRAFTED)], "fast")

    class Links(HTMLParser):
        hrefs, tags = [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.hrefs += [v for k, v in attrs if k == "href"]

    parser = Links()
    parser.feed(page)
    assert "img" not in parser.tags and "b" not in parser.tags and "i" not in parser.tags
    assert [unquote(h) for h in parser.hrefs] == [CRAFTED]
    assert "onerror" not in page.replace("onerror%3Dalert", "")


OUTPUTS = {
    "text/markdown": ("**bold** <img src=x onerror=alert(1)> <script>alert(2)</script> "
                      "[link](javascript:alert(3)) $x < y$ <b style='color:#D55E00' onclick='alert(4)'>b</b>"),
    "text/html": ('<a href="javascript:alert(5)" onclick="alert(6)">a</a><div onmouseover="alert(7)">kept</div>'
                  '<img src="data:image/png;base64,iVBORw0KGgo=" onload="alert(8)">'
                  '<a href="data:text/html,<script>alert(9)</script>">d</a><iframe src="x"></iframe>'
                  '<style>body{display:none}</style><table><tr><th colspan="2">t</th></tr></table>'),
}


def _notebook_with_outputs():
    nb = nbformat.v4.new_notebook()
    outputs = [nbformat.v4.new_output("display_data", data={mime: text, "text/plain": "x"})
               for mime, text in OUTPUTS.items()]
    nb.cells = [nbformat.v4.new_markdown_cell("# A title"), nbformat.v4.new_code_cell("x", outputs=outputs)]
    return nb


def test_outputs_lose_scripts_and_event_handlers_and_keep_the_rest():
    nb = _notebook_with_outputs()
    assert site.sanitize_outputs(nb) == 2
    markdown, html = (o["data"]["text/html"] for o in nb.cells[1].outputs)
    for text in (markdown, html):
        assert "alert" not in text and "javascript" not in text.lower() and "<script" not in text
        assert not re.search(r"\son\w+\s*=", text), text
    assert "<strong>bold</strong>" in markdown and "$x &lt; y$" in markdown
    assert 'style="color:#D55E00;"' in markdown or "color:#D55E00" in markdown
    assert '<div>kept</div>' in html and 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert '<th colspan="2">t</th>' in html and "<iframe" not in html and "display:none" not in html
    assert all("text/markdown" not in o["data"] for o in nb.cells[1].outputs)


def test_a_rendered_page_carries_no_injected_script(tmp_path):
    page = site.render(_notebook_with_outputs(), "00_x", "A title", tmp_path / "00_x.ipynb")
    for n in range(1, 10):
        assert f"alert({n})" not in page
    assert "onerror" not in page and "onmouseover" not in page


def test_each_notebook_is_built_once(tmp_path, monkeypatch):
    executed = []
    monkeypatch.setattr(site, "execute", lambda path, profile, timeout: executed.append(path.stem) or
                        nbformat.v4.new_notebook())
    monkeypatch.setattr(site, "render", lambda nb, name, title, path: "<html></html>")
    assert [p.stem for p in site.notebooks(["00_start_here", "00_start_here"])] == ["00_start_here"]
    pages = site.build_site(tmp_path, "fast", ["00_start_here", "00_start_here"], log=lambda *_: None)
    assert executed == ["00_start_here"] and len(pages) == 1
    assert (tmp_path / "index.html").read_text().count('href="00_start_here.html"') == 1


def test_out_pointing_at_a_file_is_a_clear_message(tmp_path, capsys):
    target = tmp_path / "site.html"
    target.write_text("not a folder")
    with pytest.raises(ValueError, match=r"out=.*site\.html' is a file; expected a folder"):
        site.build_site(target, "fast", ["00_start_here"])
    assert site.main(["--out", str(target), "--profile", "fast", "00_start_here"]) == 1
    err = capsys.readouterr().err
    assert "is a file" in err and "Traceback" not in err
    assert target.read_text() == "not a folder"
    with pytest.raises(TypeError, match="out="):
        site.build_site(3, "fast", ["00_start_here"])
    with pytest.raises(TypeError, match="holds 0"):
        site.notebooks(["00_start_here", 0])
