"""Test-session set-up shared by the unit tests (tests/) and the notebook runs (notebooks/, nbval).

- the fast profile unless LECTURE_PROFILE says otherwise; a headless matplotlib backend;
- a fresh, empty result cache, so a cached result can never stand in for a measurement;
- the course's figure style before each test, as in a notebook after `setup()`;
- strict claims (``LECTURE_STRICT=1``): a verdict its measurement no longer supports fails;
- a claims log that every ``decide(...)`` executed in a notebook kernel appends to (kernels inherit
  this environment), read by the ledger test that runs after the notebooks.
"""

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so a green suite stays green on a clean
# checkout (no example database carried between runs); set HYPOTHESIS_PROFILE=explore to search.
settings.register_profile("course", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))

ROOT = Path(__file__).resolve().parent
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="lecture-tests-"))


def pytest_configure(config):
    os.environ.setdefault("LECTURE_PROFILE", "fast")
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["LECTURE_CACHE_DIR"] = str(_SESSION_DIR / "cache")
    os.environ["LECTURE_CLAIMS_LOG"] = str(_SESSION_DIR / "claims.jsonl")
    os.environ["LECTURE_STRICT"] = "1"  # a verdict the measurement no longer supports fails the run
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    opt = config.option
    if hasattr(opt, "nbval_lax") and not opt.nbval:
        # Notebooks are stored without outputs: run them (lax: outputs are not compared), in this
        # environment's kernel, with a per-cell time limit.
        opt.nbval_lax = True
        opt.nbval_current_env = True
        if str(opt.nbval_cell_timeout) == "2000":
            opt.nbval_cell_timeout = 120


def pytest_ignore_collect(collection_path, config):
    """The browser tests run only when asked for by path (``make test-browser``): ``make test``
    never needs a browser."""
    browser = ROOT / "tests" / "browser"
    if collection_path == browser or browser in collection_path.parents:
        asked = [Path(a.split("::")[0]).resolve() for a in config.args]
        if not any(a == browser or browser in a.parents for a in asked):
            return True
    return None


def pytest_collection_modifyitems(session, config, items):
    """Tests marked ``after_notebooks`` run last, once every collected notebook has executed."""
    late = [item for item in items if item.get_closest_marker("after_notebooks")]
    early = [item for item in items if not item.get_closest_marker("after_notebooks")]
    items[:] = early + late
    config._executed_notebooks = sorted(
        {Path(str(item.fspath)).stem for item in items if str(item.fspath).endswith(".ipynb")})


@pytest.fixture(scope="session")
def executed_notebooks(request):
    """Stems of the notebooks that nbval runs in this session (before the after_notebooks tests)."""
    return list(getattr(request.config, "_executed_notebooks", []))


@pytest.fixture(scope="session")
def claims_log_path():
    return Path(os.environ["LECTURE_CLAIMS_LOG"])


@pytest.fixture(autouse=True)
def _course_style():
    """Each test draws in the course's default style, as a notebook does after ``setup()`` (sizes
    given for the default style scale with it): no test depends on one that ran before it."""
    from lecture_lib.style import apply_style

    apply_style()
