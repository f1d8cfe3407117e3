from pathlib import Path

from lecture_lib.figures import FIGURES, render_all

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def test_every_asset_is_generated_by_code(tmp_path):
    written = {p.name for p in render_all(tmp_path)}
    assert written == {f"{name}.png" for name in FIGURES}
    shipped = {p.name for p in ASSETS.glob("*.png")}
    assert shipped <= written, f"assets not produced by lecture_lib.figures: {shipped - written}"


def test_grid_search_tries_three_values_random_nine():
    fig = FIGURES["grid_vs_random_search"]()
    titles = [ax.get_title() for ax in fig.axes]
    assert "3 distinct values" in titles[0] and "9 distinct values" in titles[1]
