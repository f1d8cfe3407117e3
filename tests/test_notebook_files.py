"""Notebooks are stored clean (no outputs), follow the anatomy, and are on the course map."""

from pathlib import Path

import nbformat
import pytest

from lecture_lib.course import NOTEBOOKS

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NB_DIR.glob("*.ipynb"))
SETUP = "from lecture_lib import setup; setup()"


def test_there_are_notebooks():
    assert any(p.stem == "00_start_here" for p in PATHS)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_anatomy(path):
    nb = nbformat.read(path, as_version=4)
    assert path.stem in {name for name, _, _ in NOTEBOOKS}, f"{path.name} is not on the course map"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "title first"
    code = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    assert code[0].startswith(("from lecture_lib import setup; setup(", "from lecture_lib import setup\nsetup(")), \
        "the first code cell is the one setup cell"
    assert sum(SETUP[:30] in c for c in code) == 1, "exactly one setup cell"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    assert "further reading" in text, "a summary with further reading closes each notebook"
    assert "run time" in text, "the promise states the run time"
