"""The notes' pictures: every one of them registered under the notes' file name, drawn by the course's
own code, shipped in assets/, shown by the notebook that teaches its section, and readable (DESIGN.md §7:
a title that says what to see, opaque background, fonts large enough at the size shown)."""

import json
import re
from pathlib import Path

import pytest

from lecture_lib import figures
from lecture_lib.course import NOTEBOOKS
from lecture_lib.style import apply_style, small_texts

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
CATALOGUE = figures.registered()
MAX_WIDTH_IN = 14.0      # wider figures are shrunk by the notebook until their text is unreadable


def _notebook_code(stem: str) -> str:
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def test_every_picture_of_the_notes_is_registered():
    assert len(figures.NOTES_FIGURES) == 18
    assert set(CATALOGUE) == set(figures.NOTES_FIGURES)


@pytest.mark.parametrize("name", figures.NOTES_FIGURES)
def test_each_picture_is_shipped_and_shown_by_its_notebook(name):
    entry = CATALOGUE[name]
    assert entry.notebook in {stem for stem, _, _ in NOTEBOOKS}
    assert (ASSETS / f"{name}.png").stat().st_size > 10_000, f"assets/{name}.png is missing (make figures)"
    code = _notebook_code(entry.notebook)
    shown = re.search(rf"""show\(\s*["']{re.escape(name)}["']""", code) or re.search(
        rf"\b{re.escape(entry.make.__name__)}\(", code)
    assert shown, f"{entry.notebook} does not show the notes' figure {name!r}"


def test_every_asset_is_a_registered_figure():
    shipped = {p.stem for p in ASSETS.glob("*.png")}
    assert shipped <= set(CATALOGUE), f"assets not produced by lecture_lib.figures: {shipped - set(CATALOGUE)}"


@pytest.mark.parametrize("name", [n for n in figures.NOTES_FIGURES if n != "comparison"])
def test_each_picture_renders_readably(name):
    """(The comparison figure counts the FLOPs of a dozen ImageNet models; 07 draws it, and
    test_comparison_renders_readably below checks it once.)"""
    _check_readable(name)


def test_comparison_renders_readably():
    _check_readable("comparison")


# One plot, one diagram, one picture with images and one with annotations, in the projector style.
PRESENTATION_SAMPLE = ["lr", "resnet", "dropout", "crossvalidation", "rnn"]


@pytest.mark.parametrize("name", PRESENTATION_SAMPLE)
def test_the_presentation_style_enlarges_every_text(name):
    apply_style("presentation")
    try:
        fig = CATALOGUE[name].make()
        small = small_texts(fig, min_pt=16)
        assert not small, f"{name}: text under 16 pt in the presentation style: {small[:5]}"
    finally:
        apply_style()


def _check_readable(name):
    apply_style()
    fig = CATALOGUE[name].make()
    titles = [fig._suptitle.get_text() if fig._suptitle is not None else ""] + [ax.get_title() for ax in fig.axes]
    assert any(len(t.split()) >= 3 for t in titles), f"{name}: no title that says what to see: {titles}"
    assert fig.get_facecolor()[3] == 1.0, f"{name}: transparent background"
    width = fig.get_size_inches()[0]
    assert width <= MAX_WIDTH_IN, f"{name}: {width:.1f} in wide"
    small = small_texts(fig)
    assert not small, f"{name}: text under 11 pt: {small[:5]}"


def test_render_all_writes_the_asked_figures(tmp_path):
    written = figures.render_all(tmp_path, ["random-search", "crossvalidation"])
    assert [p.name for p in written] == ["random-search.png", "crossvalidation.png"]
    assert all(p.stat().st_size > 10_000 for p in written)
    with pytest.raises(ValueError, match="name='nope'"):
        figures.render_all(tmp_path, ["nope"])
