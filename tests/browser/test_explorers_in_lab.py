"""Every explorer of lecture_lib.widgets, displayed in JupyterLab by a small generated notebook
(one cell per explorer, each with its defaults): each control, moved like a person moves it,
changes the pixels of the explorer's picture, and no error shows.

Sliders are moved from the keyboard (arrow keys on the focused handle). In JupyterLab the
notebook's command mode takes the arrow keys of a focused drop-down (they move the cell
selection), so drop-downs are driven by picking the next option; in Voila (test_voila.py) they are
driven from the keyboard. Check boxes and buttons are clicked.

One notebook for all explorers keeps the run within its time budget (one page load, one kernel);
a failing explorer prints its traceback in its own cell and fails only its own test.
"""

from __future__ import annotations

import harness as H
import pytest

from lecture_lib.widgets import all_explorers

EXPLORERS = sorted(all_explorers())


def test_there_are_explorers():
    assert EXPLORERS, "lecture_lib.widgets.all_explorers() found no explorer"


@pytest.fixture(scope="module")
def explorers_page(browser, lab, workdir, artifacts):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(H.PAGE_TIMEOUT_MS)
    page = context.new_page()
    page.errors = H.PageErrors(page)
    try:
        H.open_in_lab(page, lab, "explorers/explorers.ipynb")
        H.run_all_cells(page)
        tracebacks = H.wait_all_executed(page, 1 + len(EXPLORERS), 180_000)
        assert not tracebacks, "the explorers' notebook failed:\n" + "\n\n".join(tracebacks)
        H.widgets_settled(page)
        yield page
        H.full_screenshot(page, artifacts / "lab-explorers.png", ".jp-WindowedPanel-outer")
    finally:
        context.close()
        lab.shutdown_kernels()


@pytest.mark.parametrize("name", EXPLORERS)
def test_every_control_changes_the_picture(name, explorers_page, artifacts):
    page = explorers_page
    cell = page.locator(".jp-CodeCell").nth(1 + EXPLORERS.index(name))
    output = cell.locator(".jp-OutputArea")
    failed = output.get_by_text(f"explorer {name} failed")
    assert failed.count() == 0, output.inner_text()
    assert not H.widget_failures(page), H.widget_failures(page)

    controls = list(all_explorers()[name]().controls)
    picture = page.locator(f"img.lc-{name}-picture")
    picture.scroll_into_view_if_needed()
    digest = H.picture_digest(page, picture)
    assert digest, f"{name}: the picture did not load"
    for control in controls:
        root = page.locator(f".lc-{name}-control-{control}")
        assert root.count() == 1, f"{name}: control {control!r} is not in the page"
        done = H.move_control(page, root, keyboard_dropdowns=False)
        try:
            digest = H.wait_picture_changed(page, picture, digest)
        except AssertionError as err:
            output.screenshot(path=str(artifacts / f"explorer-{name}-{control}-unchanged.png"))
            raise AssertionError(f"{name}: {done} on {control!r}, and {err}") from None
        shown_error = output.locator("pre", has_text="⚠")
        assert shown_error.count() == 0, f"{name}/{control}: {shown_error.first.inner_text()}"

    output.screenshot(path=str(artifacts / f"explorer-{name}.png"))
    assert not page.errors.uncaught, f"uncaught JavaScript errors: {page.errors.uncaught}"
