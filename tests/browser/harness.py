"""Servers, browser and page helpers shared by the browser tests and benchmarks/browser_latency.py.

- :func:`lab_server` starts JupyterLab on a free loopback port, with token auth and fresh config,
  data, settings, workspace and runtime folders (so no pop-ups, no saved layout, no reused
  kernels). The widget extensions still come from the environment's ``share/jupyter``.
- :func:`voila_server` serves one notebook with Voila the way ``make present`` does (code hidden).
- :func:`launch_chromium` starts the system Chromium through Playwright; it never downloads one.
- :class:`ExplorerView` finds an explorer's controls and picture in a page and moves the controls
  with the keyboard or the mouse, like a person would.

The explorer's picture is an ipywidgets ``Image`` (an ``<img>`` holding a PNG); "the picture
changed" means the pixels decoded from it changed (a digest over the RGBA values).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = (
    f"The browser tests need Chromium at {CHROMIUM} and found none. Install it from your "
    "distribution (Debian/Ubuntu: `sudo apt-get install chromium`), or set CHROMIUM=/path/to/chromium. "
    "Playwright's own browser download is not used."
)
SERVER_START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 60_000

# Every cell of a notebook, widget views included, must render: these texts mean one did not.
WIDGET_FAILURES = ("Error displaying widget", "Error rendering output item")
# A control class (by the ipywidgets model name) -> how a person moves it.
SLIDERS = ("IntSliderModel", "FloatSliderModel", "FloatLogSliderModel")
SUPPORTED_CONTROLS = (*SLIDERS, "DropdownModel", "CheckboxModel", "ToggleButtonsModel",
                      "RadioButtonsModel", "ToggleButtonModel")


def chromium_missing() -> str | None:
    """The install hint when Chromium is missing, else None."""
    return None if os.access(CHROMIUM, os.X_OK) else INSTALL_HINT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- servers -------------------------------------------------------------------------------------

# User settings of a fresh JupyterLab: no news or update pop-ups, never save a notebook (the
# copies the tests run are thrown away anyway), every cell rendered in the page (no windowing, so
# a screenshot and the checks see the whole notebook).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class Server:
    url: str                      # base URL, ending with "/"
    token: str
    process: subprocess.Popen
    log: Path
    home: Path
    extra: dict = field(default_factory=dict)

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(self.url + path.lstrip("/"), method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel of this server, so that the next notebook gets a fresh one."""
        for kernel in self.api("GET", "api/kernels") or []:
            with contextlib.suppress(urllib.error.URLError):
                self.api("DELETE", f"api/kernels/{kernel['id']}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _fresh_env(home: Path) -> dict:
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
                 "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    # The lab extensions (widgets, ipympl, voila) live in the environment's share/jupyter, which
    # stays on the path whatever JUPYTER_DATA_DIR says; do not let a user path shadow them.
    env.pop("JUPYTER_PATH", None)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.setdefault("LECTURE_PROFILE", "fast")
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def _root_flag() -> list[str]:
    """Jupyter refuses to run as root without being told (containers and CI often are root)."""
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def _wait_ready(server: Server, path: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.process.returncode}:\n"
                               f"{server.log_tail()}")
        try:
            server.api("GET", path)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer within {timeout_s} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def lab_server(root: Path, home: Path | None = None) -> Iterator[Server]:
    """JupyterLab serving ``root`` on a free loopback port, with a random token."""
    home = Path(home or tempfile.mkdtemp(prefix="lab-home-"))
    env = _fresh_env(home)
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
    for rel, value in LAB_SETTINGS.items():
        target = settings / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    port, token = free_port(), secrets.token_hex(16)
    log = home / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False",
        *_root_flag(),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}/", token, process, log, home)
    try:
        _wait_ready(server, "api/status", SERVER_START_TIMEOUT_S)
        yield server
    finally:
        _stop(process)


@contextlib.contextmanager
def voila_server(notebook: Path, home: Path | None = None) -> Iterator[Server]:
    """Voila serving one notebook, code hidden, on a free loopback port (as ``make present``)."""
    home = Path(home or tempfile.mkdtemp(prefix="voila-home-"))
    env = _fresh_env(home)
    port, token = free_port(), secrets.token_hex(16)
    log = home / "voila.log"
    cmd = [
        str(Path(sys.executable).with_name("voila")), "--no-browser", "--Voila.ip=127.0.0.1",
        f"--port={port}", "--Voila.port_retries=0", "--strip_sources=True",
        f"--token={token}", *_root_flag(), str(notebook),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=notebook.parent, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}/", token, process, log, home)
    try:
        _wait_ready(server, "api/kernelspecs", SERVER_START_TIMEOUT_S)
        yield server
    finally:
        _stop(process)


def copy_notebooks(dest: Path, names: list[str] | None = None) -> Path:
    """Copy the course's notebooks (all, or ``names``) to ``dest``/notebooks and link the assets
    beside them, so that the browser runs copies and nothing in the repository is written."""
    nb_dir = dest / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if names is None or path.stem in names:
            shutil.copy2(path, nb_dir / path.name)
    if (REPO / "assets").is_dir() and not (dest / "assets").exists():
        (dest / "assets").symlink_to(REPO / "assets")
    return nb_dir


def explorer_notebook(factory_name: str, path: Path) -> Path:
    """A small notebook that displays one explorer with its defaults, its controls and its picture
    tagged with CSS classes (``lc-control-<name>``, ``lc-picture``) so that a page can find them."""
    import nbformat

    module = factory_name[: -len("_explorer")]
    code = (
        f"from lecture_lib.widgets.{module} import {factory_name}\n"
        "import ipywidgets as W\n\n"
        f"explorer = {factory_name}()\n"
        "for _name, _control in explorer.controls.items():\n"
        "    _control.add_class('lc-control-' + _name)\n"
        "_stack = [explorer.widget]\n"
        "while _stack:\n"
        "    _w = _stack.pop()\n"
        "    if isinstance(_w, W.Image):\n"
        "        _w.add_class('lc-picture')\n"
        "    _stack.extend(getattr(_w, 'children', ()))\n"
        "explorer"
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [nbformat.v4.new_code_cell("from lecture_lib import setup; setup()"),
                nbformat.v4.new_code_cell(code)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


# -- browser -------------------------------------------------------------------------------------

def launch_chromium(playwright):
    hint = chromium_missing()
    if hint:
        raise RuntimeError(hint)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class PageErrors:
    """Collects uncaught JavaScript errors (``pageerror``) and console errors of a page."""

    def __init__(self, page):
        self.uncaught: list[str] = []
        self.console: list[str] = []
        page.on("pageerror", lambda err: self.uncaught.append(f"{err.name}: {err.message}"))
        page.on("console", lambda msg: self.console.append(msg.text) if msg.type == "error" else None)


# -- JupyterLab ----------------------------------------------------------------------------------

def open_in_lab(page, server: Server, rel_path: str) -> None:
    """Open a notebook in JupyterLab's single-document mode and wait for its kernel to be idle."""
    page.goto(f"{server.url}doc/tree/{rel_path}?token={server.token}&reset",
              wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=PAGE_TIMEOUT_MS)
    wait_kernel_idle(page)


def wait_kernel_idle(page, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    page.wait_for_function(
        """() => {
            const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
            return s && s.getAttribute('data-status') === 'idle';
        }""", timeout=timeout_ms)


def run_all_cells(page) -> None:
    """Run > Run All Cells, from the menu bar, like a reader does."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()


_RUN_STATE_JS = """(expected) => {
    const errors = [...document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] pre, '
        + '.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')]
        .map(e => e.innerText).filter(t => /Traceback|Error/.test(t));
    if (errors.length) return {done: true, errors};
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
        .map(p => p.innerText.trim());
    if (prompts.some(p => p.includes('*'))) return false;
    const numbered = prompts.filter(p => /\\[\\d+\\]/.test(p)).length;
    return numbered >= expected ? {done: true, errors: []} : false;
}"""


def wait_all_executed(page, n_code_cells: int, timeout_ms: int) -> list[str]:
    """Wait until every non-empty code cell has an execution count (or a cell failed); returns
    the error outputs (tracebacks), empty when all went well."""
    handle = page.wait_for_function(_RUN_STATE_JS, arg=n_code_cells, timeout=timeout_ms,
                                    polling=250)
    return handle.json_value()["errors"]


def widgets_settled(page, timeout_ms: int = 30_000) -> None:
    """Wait until no widget view is still loading."""
    page.wait_for_function(
        "() => !document.body.innerText.includes('Loading widget...')", timeout=timeout_ms)


def widget_failures(page) -> list[str]:
    text = page.locator("body").inner_text()
    return [f for f in WIDGET_FAILURES if f in text]


def full_screenshot(page, path: Path, scroller: str, max_height: int = 12_000) -> None:
    """Screenshot the whole notebook: grow the viewport to the height of its scrolling area."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1280, "height": 900}
    extra = page.evaluate(
        """(sel) => { const el = document.querySelector(sel);
                     return el ? el.scrollHeight - el.clientHeight : 0; }""", scroller)
    height = int(min(max_height, size["height"] + max(0, extra)))
    page.set_viewport_size({"width": size["width"], "height": height})
    try:
        page.wait_for_timeout(300)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)


# -- explorers in a page -------------------------------------------------------------------------

# A digest of the pixels an <img> shows (decoded, drawn to a canvas): "the picture changed".
PIXEL_DIGEST_JS = """async (img) => {
    if (!img.complete || !img.naturalWidth) { try { await img.decode(); } catch (e) { return null; } }
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    let h = 0x811c9dc5;
    for (let i = 0; i < data.length; i++) { h ^= data[i]; h = Math.imul(h, 16777619); }
    return c.width + 'x' + c.height + ':' + (h >>> 0).toString(16);
}"""


@dataclass
class Control:
    name: str
    kind: str                       # the ipywidgets model name, e.g. "FloatSliderModel"
    locator: object                 # the control's root element in the page
    at_max: bool = False            # sliders: already at the top of the range


def control_kind(control) -> str:
    return control._model_name


def describe_controls(explorer) -> dict[str, tuple[str, bool]]:
    """name -> (model name, at its maximum) of an explorer built in this process."""
    out = {}
    for name, control in explorer.controls.items():
        at_max = False
        if control._model_name in SLIDERS:
            at_max = control.value >= control.max
        out[name] = (control._model_name, at_max)
    return out


def move_control(page, control: Control, forward: bool = True) -> str:
    """Move one control a step, the way a person would; returns what was done (for messages)."""
    kind, root = control.kind, control.locator
    if kind in SLIDERS:
        handle = root.locator(".noUi-handle").first
        handle.focus()
        key = "ArrowRight" if (forward and not control.at_max) else "ArrowLeft"
        page.keyboard.press(key)
        return f"focused the slider handle and pressed {key}"
    if kind == "DropdownModel":
        select = root.locator("select").first
        select.focus()
        n = select.locator("option").count()
        index = select.evaluate("s => s.selectedIndex")
        key = "ArrowDown" if index < n - 1 else "ArrowUp"
        page.keyboard.press(key)
        return f"focused the drop-down and pressed {key}"
    if kind == "CheckboxModel":
        root.locator("input[type=checkbox]").first.click()
        return "clicked the checkbox"
    if kind == "ToggleButtonModel":
        root.click()
        return "clicked the toggle button"
    if kind in ("ToggleButtonsModel", "RadioButtonsModel"):
        options = root.locator("button, input[type=radio]")
        for i in range(options.count()):
            option = options.nth(i)
            selected = option.evaluate(
                "o => o.classList.contains('mod-active') || o.checked === true")
            if not selected:
                option.click()
                return f"clicked option {i}"
        raise AssertionError(f"{control.name}: no other option to choose")
    raise AssertionError(f"{control.name}: a {kind} cannot be driven from the browser yet; "
                         f"supported: {', '.join(SUPPORTED_CONTROLS)}")


def picture_digest(page, picture) -> str | None:
    return picture.evaluate(PIXEL_DIGEST_JS)


def wait_picture_changed(page, picture, before: str, timeout_ms: int = 15_000) -> str:
    """Wait until the picture's pixels differ from ``before``; returns the new digest."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        now = picture_digest(page, picture)
        if now is not None and now != before:
            return now
        page.wait_for_timeout(50)
    raise AssertionError(f"the picture did not change within {timeout_ms} ms")


# Latency, measured inside the page: from the keydown event to the picture's new PNG decoded.
LATENCY_ARM_JS = """(img) => { window.__lcLatency = new Promise((resolve) => {
    const state = {t0: null};
    const onKey = () => { if (state.t0 === null) state.t0 = performance.now(); };
    window.addEventListener('keydown', onKey, {capture: true});
    const old = img.src;
    const obs = new MutationObserver(async () => {
        if (img.src === old) return;
        obs.disconnect();
        try { await img.decode(); } catch (e) {}
        window.removeEventListener('keydown', onKey, {capture: true});
        resolve(performance.now() - state.t0);
    });
    obs.observe(img, {attributes: true, attributeFilter: ['src']});
}); }"""
LATENCY_RESULT_JS = "() => window.__lcLatency"
