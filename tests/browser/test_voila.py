"""Classroom mode: `make present NB=...` serves a notebook with Voila (code hidden, widgets live;
the fast profile here). The page executes without error, shows no code and no widget failure,
raises no uncaught JavaScript error, and every control of every explorer on it, moved from the
keyboard (sliders, drop-downs) or the mouse (check boxes, buttons), changes the explorer's picture.

The server holds on loopback only: a foreign ``Host`` header gets 403 (DNS rebinding), a
cross-origin websocket gets 403 even with the token in its URL, and ``localhost`` works without
``allow_remote_access``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import urllib.error
import urllib.request

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


def _get(server, path: str, host: str) -> tuple[int, str]:
    request = urllib.request.Request(server.url + path.lstrip("/"), headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=LOAD_TIMEOUT_MS / 1000) as response:
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, ""


def _websocket(url: str, origin: str, host: str) -> str:
    """'open' when the kernel's websocket accepts the connection, else the refusal."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def attempt():
        try:
            connection = await websocket_connect(HTTPRequest(url, headers={"Origin": origin, "Host": host}))
        except HTTPClientError as err:
            return f"refused {err.code}"
        connection.close()
        return "open"

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, attempt()).result(timeout=60)


def test_present_holds_on_loopback_only(tmp_path):
    """Voila's own default (allow_remote_access=True, no origin check with a token) fails here."""
    with H.present_server("00_start_here", tmp_path / "voila-home") as server:
        port = server.url.rstrip("/").rsplit(":", 1)[1]
        page = f"?token={server.token}"
        assert _get(server, page, f"evil.example:{port}")[0] == 403, "a foreign Host header was served"
        status, body = _get(server, page, f"localhost:{port}")
        assert status == 200, f"localhost was refused ({status}):\n{server.log_tail()}"
        kernel = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", body)
        assert kernel, "the page names no kernel"
        ws = f"ws://127.0.0.1:{port}/api/kernels/{kernel.group(0)}/channels?token={server.token}"
        assert _websocket(ws, "http://evil.example", f"127.0.0.1:{port}") == "refused 403", \
            "a cross-origin websocket with the token was accepted"
        assert _websocket(ws, f"http://evil.example:{port}", f"evil.example:{port}") == "refused 403"
        assert _websocket(ws, f"http://localhost:{port}", f"localhost:{port}") == "open"
        assert _websocket(ws, f"http://127.0.0.1:{port}", f"127.0.0.1:{port}") == "open"
