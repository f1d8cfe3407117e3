"""Servers, browser and page helpers shared by the browser tests and benchmarks/browser_latency.py.

- :func:`lab_server` starts JupyterLab on a free loopback port, with token auth and fresh config,
  data, settings, workspace and runtime folders (so no pop-ups, no saved layout, no reused
  kernels). The widget extensions still come from the environment's ``share/jupyter``.
- :func:`present_server` runs ``make present NB=...``: Voila serving one notebook, code hidden.
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
import re
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
from dataclasses import dataclass
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
    "distribution (Debian/Ubuntu: `sudo apt-get install chromium`), or set "
    "CHROMIUM=/path/to/chromium. "
    "Playwright's own browser download is not used."
)
SERVER_START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 60_000

# Every cell of a notebook, widget views included, must render: these texts mean one did not.
WIDGET_FAILURES = ("Error displaying widget", "Error rendering output item")


def chromium_missing() -> str | None:
    """The install hint when Chromium is missing, else None."""
    return None if os.access(CHROMIUM, os.X_OK) else INSTALL_HINT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- servers -------------------------------------------------------------------------------------

# User settings of a fresh JupyterLab: no news or update pop-ups, never save a notebook (the
# copies the tests run are thrown away anyway), start the notebook's own kernel without asking,
# every cell rendered in the page (no windowing, so a screenshot and the checks see the whole
# notebook).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none", "autoStartDefaultKernel": True},
}


@dataclass
class Server:
    url: str                      # base URL, ending with "/"
    token: str
    process: subprocess.Popen
    log: Path
    home: Path

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(self.url + path.lstrip("/"), method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End every session and kernel of this server, so that the next notebook starts afresh."""
        for session in self.api("GET", "api/sessions") or []:
            with contextlib.suppress(urllib.error.URLError):
                self.api("DELETE", f"api/sessions/{session['id']}")
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


def _wait_ready(server: Server, path: str, timeout_s: float, any_answer: bool = False) -> None:
    """Poll ``path`` until the server answers (200, or any HTTP status with ``any_answer``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.process.returncode}:\n"
                               f"{server.log_tail()}")
        try:
            server.api("GET", path)
            return
        except urllib.error.HTTPError:
            if any_answer:
                return
            time.sleep(0.3)
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer within {timeout_s} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen, group: bool = False) -> None:
    """Ctrl+C, then a kill if it does not stop; ``group``: the process and its children."""
    if process.poll() is None:
        if group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
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


_PRESENT_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]+)")


@contextlib.contextmanager
def present_server(name: str, home: Path | None = None) -> Iterator[Server]:
    """``make present NB=<name>`` on a free port: Voila serving one notebook with the code hidden.
    The URL (with its token) is read from what the command prints, as a teacher reads it."""
    home = Path(home or tempfile.mkdtemp(prefix="voila-home-"))
    env = _fresh_env(home)
    port = free_port()
    log = home / "present.log"
    # -o: never reinstall the environment from inside a test.
    cmd = ["make", "--no-print-directory", "-o", ".venv/.installed", "present", f"NB={name}",
           f"PORT={port}"]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}/", "", process, log, home)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not server.token:
            found = _PRESENT_URL.search(log.read_text(errors="replace"))
            if found and int(found.group(1)) == port:
                server.token = found.group(2)
            elif process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`{' '.join(cmd)}` printed no URL:\n{server.log_tail()}")
            else:
                time.sleep(0.2)
        # Voila answers 403 to anything but its page and static files: an answer means it is up
        # (asking for the page itself would start a kernel and run the notebook).
        _wait_ready(server, "api/status", SERVER_START_TIMEOUT_S, any_answer=True)
        yield server
    finally:
        _stop(process, group=True)


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


def explorers_notebook(names: list[str], path: Path) -> Path:
    """A notebook that displays each explorer with its defaults, one cell each. Its controls and
    its picture get CSS classes (``lc-<explorer>-control-<name>``, ``lc-<explorer>-picture``) so
    that a page finds them. A failing explorer prints its traceback (to stdout, so that Run All
    goes on) and leaves the others to run."""
    import nbformat

    cells = [nbformat.v4.new_code_cell(
        "from lecture_lib import setup; setup()\n\n"
        "import traceback\n\n"
        "import ipywidgets as W\n\n"
        "from lecture_lib.widgets import all_explorers\n\n\n"
        "def show(name):\n"
        "    try:\n"
        "        explorer = all_explorers()[name]()\n"
        "    except Exception:\n"
        "        print(f'explorer {name} failed:\\n{traceback.format_exc()}')\n"
        "        return None\n"
        "    for control_name, control in explorer.controls.items():\n"
        "        control.add_class(f'lc-{name}-control-{control_name}')\n"
        "    stack = [explorer.widget]\n"
        "    while stack:\n"
        "        widget = stack.pop()\n"
        "        if isinstance(widget, W.Image):\n"
        "            widget.add_class(f'lc-{name}-picture')\n"
        "        stack.extend(getattr(widget, 'children', ()))\n"
        "    return explorer")]
    cells += [nbformat.v4.new_code_cell(f"show({name!r})") for name in names]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
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
        page.on("console",
                lambda msg: self.console.append(msg.text) if msg.type == "error" else None)


# -- JupyterLab ----------------------------------------------------------------------------------

def open_in_lab(page, server: Server, rel_path: str) -> None:
    """Open a notebook in JupyterLab's single-document mode and wait for its kernel to be idle."""
    page.goto(f"{server.url}doc/tree/{rel_path}?token={server.token}&reset",
              wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=PAGE_TIMEOUT_MS)
    wait_kernel_idle(page)


def accept_kernel_dialog(page) -> None:
    """Should JupyterLab still ask which kernel to start (it can when busy), take the notebook's
    own; any other dialog is an error."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        text = dialog.first.inner_text()
        if "Select Kernel" not in text:
            raise AssertionError(f"JupyterLab shows an unexpected dialog: {text}")
        dialog.first.locator(".jp-Dialog-button.jp-mod-accept").click()
        wait_kernel_idle(page)


def wait_kernel_idle(page, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    page.wait_for_function(
        """() => {
            const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
            return s && s.getAttribute('data-status') === 'idle';
        }""", timeout=timeout_ms)


_STARTED_JS = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.innerText))"""


def run_all_cells(page, attempts: int = 3) -> None:
    """Run > Run All Cells, from the menu bar, like a reader does (again if nothing started)."""
    for _ in range(attempts):
        accept_kernel_dialog(page)
        try:
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=10_000)
            page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click(timeout=10_000)
            page.wait_for_function(_STARTED_JS, timeout=10_000, polling=100)
            return
        except Exception:  # noqa: BLE001 - a Playwright timeout: look for a dialog, try again
            if not page.locator(".jp-Dialog").count():
                page.keyboard.press("Escape")  # close a menu left open
    raise AssertionError("Run > Run All Cells did not start any cell")


_RUN_STATE_JS = """(expected) => {
    const errors = [...document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
        + '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')]
        .map(e => e.innerText)
        .filter(t => t.includes('Traceback (most recent call last)'));
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
    """Wait until no widget view in an output is still loading."""
    page.wait_for_function(
        """() => ![...document.querySelectorAll('.jp-OutputArea-output')]
                  .some(o => o.innerText.includes('Loading widget'))""", timeout=timeout_ms)


def widget_failures(page) -> list[str]:
    """The outputs (not the prose: 00 names the error message) that failed to render a widget."""
    failures = []
    for text in page.evaluate(
            "() => [...document.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText)"):
        failures += [f"{f}: {text.strip()[:300]}" for f in WIDGET_FAILURES if f in text]
    return failures


def full_screenshot(page, path: Path, scroller: str, max_height: int = 60_000) -> None:
    """Screenshot the whole content of the scrolling element ``scroller`` (a notebook), however
    long: scroll it a screen at a time and stitch the pieces into one PNG."""


    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 3000})  # fewer pieces to stitch
    try:
        _stitch(page, path, scroller, max_height)
    finally:
        page.set_viewport_size(size)


def _stitch(page, path: Path, scroller: str, max_height: int) -> None:
    import io

    from PIL import Image

    page.wait_for_timeout(200)
    box = page.evaluate(
        """(sel) => { const el = document.querySelector(sel); if (!el) return null;
                     const r = el.getBoundingClientRect();
                     return {x: r.x, y: r.y, width: el.clientWidth, height: el.clientHeight,
                             total: el.scrollHeight}; }""", scroller)
    if not box or box["height"] < 50:
        page.screenshot(path=str(path), full_page=True)
        return
    total = min(int(box["total"]), max_height)
    clip = {k: box[k] for k in ("x", "y", "width", "height")}
    sheet = Image.new("RGB", (int(box["width"]), total), "white")
    top = 0
    while top < total:
        shown = page.evaluate(
            "([sel, top]) => { const el = document.querySelector(sel); el.scrollTop = top; "
            "return el.scrollTop; }", [scroller, top])
        page.wait_for_timeout(120)
        tile = Image.open(io.BytesIO(page.screenshot(clip=clip)))
        sheet.paste(tile.convert("RGB"), (0, int(shown)))
        top += int(box["height"])
    sheet.save(path, optimize=False, compress_level=3)


# -- explorers in a page -------------------------------------------------------------------------

# A digest of the pixels an <img> shows (decoded, drawn to a canvas): "the picture changed".
PIXEL_DIGEST_JS = """async (img) => {
    if (!img.complete || !img.naturalWidth) {
        try { await img.decode(); } catch (e) { return null; }
    }
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    let h = 0x811c9dc5;
    for (let i = 0; i < data.length; i++) { h ^= data[i]; h = Math.imul(h, 16777619); }
    return c.width + 'x' + c.height + ':' + (h >>> 0).toString(16);
}"""


# What kind of control an element is, from the classes ipywidgets gives its root element.
_CONTROL_KIND_JS = """(el) => {
    const c = el.classList;
    if (c.contains('widget-slider')) {
        const h = el.querySelector('.noUi-handle');
        const now = h ? Number(h.getAttribute('aria-valuenow')) : 0;
        const max = h ? Number(h.getAttribute('aria-valuemax')) : 1;
        return {kind: 'slider', atMax: now >= max};
    }
    if (c.contains('widget-dropdown')) {
        const s = el.querySelector('select');
        return {kind: 'dropdown', atMax: s.selectedIndex >= s.options.length - 1};
    }
    if (c.contains('widget-checkbox')) return {kind: 'checkbox', atMax: false};
    if (c.contains('widget-toggle-buttons')) return {kind: 'toggle-buttons', atMax: false};
    if (c.contains('widget-radio')) return {kind: 'radio', atMax: false};
    if (c.contains('widget-toggle-button')) return {kind: 'toggle-button', atMax: false};
    return {kind: 'unknown: ' + el.className, atMax: false};
}"""
SUPPORTED_CONTROLS = ("slider", "dropdown", "checkbox", "toggle-buttons", "radio", "toggle-button")


def move_control(page, root, *, keyboard_dropdowns: bool = True) -> str:
    """Move one control a step, the way a person would: sliders from the keyboard (arrow keys on
    the focused handle), drop-downs from the keyboard or, with ``keyboard_dropdowns=False``, by
    picking the next option from the list (in JupyterLab the notebook's command mode takes the
    arrow keys of a focused drop-down), check boxes and buttons with the mouse.
    Returns what was done, for messages."""
    info = root.evaluate(_CONTROL_KIND_JS)
    kind, at_max = info["kind"], info["atMax"]
    if kind == "slider":
        root.locator(".noUi-handle").first.focus()
        key = "ArrowLeft" if at_max else "ArrowRight"
        page.keyboard.press(key)
        return f"focused the slider's handle and pressed {key}"
    if kind == "dropdown":
        select = root.locator("select").first
        if not keyboard_dropdowns:
            index = select.evaluate("s => s.selectedIndex") + (-1 if at_max else 1)
            select.select_option(index=index)
            return f"picked option {index} of the drop-down"
        select.focus()
        key = "ArrowUp" if at_max else "ArrowDown"
        page.keyboard.press(key)
        return f"focused the drop-down and pressed {key}"
    if kind == "checkbox":
        root.locator("input[type=checkbox]").first.click()
        return "clicked the checkbox"
    if kind == "toggle-button":
        root.click()
        return "clicked the toggle button"
    if kind in ("toggle-buttons", "radio"):
        options = root.locator("button, input[type=radio]")
        for i in range(options.count()):
            option = options.nth(i)
            if not option.evaluate("o => o.classList.contains('mod-active') || o.checked === true"):
                option.click()
                return f"clicked option {i}"
        raise AssertionError("no other option to choose")
    raise AssertionError(f"this control cannot be driven from the browser yet ({kind}); "
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
