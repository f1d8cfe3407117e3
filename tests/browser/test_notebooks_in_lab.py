"""Every notebook, opened in JupyterLab and run with Run > Run All Cells (fast profile): every cell
executes, no output fails to render a widget, no JavaScript error escapes, and a screenshot of the
whole notebook is saved to test-artifacts/."""

from __future__ import annotations

import harness as H
import nbformat
import pytest

NOTEBOOKS = sorted(H.NOTEBOOKS.glob("*.ipynb"))
# Generous: a notebook's budget in the fast profile is 20 s, and the machine may be shared.
RUN_TIMEOUT_MS = 180_000


def _code_cells(path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_there_are_notebooks_to_run():
    assert NOTEBOOKS, f"no notebook found in {H.NOTEBOOKS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(path, lab, lab_page, artifacts):
    page = lab_page
    cells = _code_cells(path)
    H.open_in_lab(page, lab, f"notebooks/{path.name}")
    H.run_all_cells(page)
    tracebacks = H.wait_all_executed(page, len(cells), RUN_TIMEOUT_MS)
    H.widgets_settled(page)
    H.full_screenshot(page, artifacts / f"lab-{path.stem}.png", ".jp-WindowedPanel-outer")

    assert not tracebacks, f"{path.name}: a cell failed:\n" + "\n\n".join(tracebacks)
    assert not H.widget_failures(page), f"{path.name}: {H.widget_failures(page)}"
    assert not page.errors.uncaught, (
        f"{path.name}: uncaught JavaScript errors: {page.errors.uncaught}")
    # Every explorer the notebook shows is a live widget (its picture is an ipywidgets Image).
    shown = sum(src.count("_explorer(") for src in cells)
    pictures = page.locator(".jp-OutputArea-output img.widget-image").count()
    assert pictures >= min(shown, 1), (
        f"{path.name} makes {shown} explorer(s) but the page shows {pictures} live picture(s)")
