"""The notes' pictures: each registered under the notes' file name, drawn by code, shipped in assets/."""

from pathlib import Path

from lecture_lib import figures

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def test_every_shipped_asset_is_a_registered_figure():
    catalogue = figures.registered()
    shipped = {p.stem for p in ASSETS.glob("*.png")}
    assert shipped <= set(catalogue), f"assets not produced by lecture_lib.figures: {shipped - set(catalogue)}"
    assert set(catalogue) <= set(figures.NOTES_FIGURES), "a registered name is not one of the notes' figures"


def test_render_all_writes_the_asked_figures(tmp_path):
    written = figures.render_all(tmp_path, ["random-search"])
    assert [p.name for p in written] == ["random-search.png"] and written[0].stat().st_size > 10_000


def test_grid_search_tries_three_values_random_nine():
    fig = figures.show("random-search")
    titles = [ax.get_title() for ax in fig.axes]
    assert "3 distinct values" in titles[0] and "9 distinct values" in titles[1]
