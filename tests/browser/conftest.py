"""Fixtures of the browser tests (`make test-browser`): one JupyterLab server and one headless
Chromium for the whole session, a fresh page per test, kernels stopped after each test.

These tests run only when tests/browser is named on the command line (`make test-browser`,
`pytest tests/browser`): a plain `pytest` (`make test`) never needs a browser.
A missing Chromium stops the session with the package to install; nothing is installed here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness as H  # noqa: E402


def _named_on_command_line(config) -> bool:
    for arg in config.invocation_params.args:
        if arg.startswith("-"):
            continue
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return not _named_on_command_line(config)
    return None


@pytest.fixture(scope="session", autouse=True)
def chromium_present():
    hint = H.chromium_missing()
    if hint:
        pytest.exit(hint, returncode=3)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    """Copies of the notebooks, plus a small generated notebook that shows every explorer: the
    browser runs those, so nothing in the repository is ever written."""
    root = tmp_path_factory.mktemp("lab-root")
    H.copy_notebooks(root)
    from lecture_lib.widgets import all_explorers

    H.explorers_notebook(sorted(all_explorers()), root / "explorers" / "explorers.ipynb")
    return root


@pytest.fixture(scope="session")
def lab(workdir, tmp_path_factory):
    with H.lab_server(workdir, tmp_path_factory.mktemp("lab-home")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = H.launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page (own cookies and storage) that records uncaught JavaScript errors in
    ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(H.PAGE_TIMEOUT_MS)
    new_page = context.new_page()
    new_page.errors = H.PageErrors(new_page)
    yield new_page
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


@pytest.fixture
def lab_page(request, page, lab, artifacts):
    """A page on the session's JupyterLab; every kernel it started is stopped afterwards.
    When the test fails, the page (and any dialog's text) is saved to test-artifacts/."""
    yield page
    if getattr(request.node, "failed_call", False):
        name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in request.node.name)
        page.screenshot(path=str(artifacts / f"failed-{name}.png"))
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        if dialogs:
            (artifacts / f"failed-{name}.txt").write_text("\n\n".join(dialogs))
    page.context.close()
    lab.shutdown_kernels()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    H.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return H.ARTIFACTS
