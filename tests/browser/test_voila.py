"""Classroom mode: `make present NB=...` serves a notebook with Voila (code hidden, widgets live;
the fast profile here). The page executes without error, shows no code and no widget failure,
raises no uncaught JavaScript error, and every control of every explorer on it, moved from the
keyboard (sliders, drop-downs) or the mouse (check boxes, buttons), changes the explorer's picture.
"""

from __future__ import annotations

import harness as H
import pytest

# The classroom example of the README (`make present NB=04_optimizers`), or 00 until 04 exists.
# One notebook keeps the run within its budget; every notebook also runs in JupyterLab.
VOILA_NOTEBOOKS = [name for name in ("04_optimizers", "00_start_here")
                   if (H.NOTEBOOKS / f"{name}.ipynb").exists()][:1]
LOAD_TIMEOUT_MS = 180_000

_EXPLORERS_JS = """() => [...document.querySelectorAll('img.widget-image')].map((img, i) => {
    img.classList.add('lc-voila-picture-' + i);
    const box = img.closest('.widget-vbox');
    const controls = box ? [...box.querySelectorAll(
        '.widget-slider, .widget-dropdown, .widget-checkbox, .widget-toggle-buttons, '
        + '.widget-radio, .widget-toggle-button')] : [];
    controls.forEach((c, j) => c.classList.add('lc-voila-' + i + '-control-' + j));
    return controls.map(c => (c.querySelector('.widget-label') || {}).innerText || c.className);
})"""


def test_voila_serves_at_least_one_notebook():
    assert VOILA_NOTEBOOKS, f"neither 04_optimizers nor 00_start_here in {H.NOTEBOOKS}"


@pytest.mark.parametrize("name", VOILA_NOTEBOOKS)
def test_notebook_in_voila(name, page, tmp_path, artifacts):
    shown = (H.NOTEBOOKS / f"{name}.ipynb").read_text().count("_explorer(")
    with H.present_server(name, tmp_path / "voila-home") as server:
        page.goto(f"{server.url}?token={server.token}", wait_until="load", timeout=LOAD_TIMEOUT_MS)
        try:
            if shown:
                page.wait_for_selector("img.widget-image", timeout=LOAD_TIMEOUT_MS)
            H.widgets_settled(page)
            page.wait_for_timeout(500)
            outputs = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                                    ".map(o => o.innerText)")
            tracebacks = [o for o in outputs if "Traceback" in o or "There was an error" in o]
            assert not tracebacks, f"{name} failed in Voila:\n" + "\n\n".join(tracebacks)
            assert not H.widget_failures(page), H.widget_failures(page)
            code = page.locator(".jp-CodeCell .jp-InputArea, .cm-editor")
            assert code.count() == 0, f"{name}: Voila shows {code.count()} code cell(s)"

            explorers = page.evaluate(_EXPLORERS_JS)
            assert len(explorers) >= min(shown, 1), f"{name}: no live explorer on the page"
            for i, labels in enumerate(explorers):
                picture = page.locator(f"img.lc-voila-picture-{i}")
                picture.scroll_into_view_if_needed()
                digest = H.picture_digest(page, picture)
                assert digest, f"{name}: picture {i} did not load"
                for j, label in enumerate(labels):
                    root = page.locator(f".lc-voila-{i}-control-{j}")
                    done = H.move_control(page, root, keyboard_dropdowns=True)
                    try:
                        digest = H.wait_picture_changed(page, picture, digest)
                    except AssertionError as err:
                        raise AssertionError(
                            f"{name}, explorer {i}: {done} on {label!r}, and {err}") from None
            assert not page.errors.uncaught, (
                f"{name}: uncaught JavaScript errors: {page.errors.uncaught}")
        finally:
            H.full_screenshot(page, artifacts / f"voila-{name}.png", "#rendered_cells")
