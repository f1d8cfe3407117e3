"""One symbol, one meaning: the notation table of lecture_lib.course (shown in 00_start_here) and
the notebooks agree. Symbols with a second standard meaning elsewhere are checked where they are
used: σ is the sigmoid (always with its argument) or a batch's std σ_B; α is an activation's slope
(01 only); μ is torch's momentum (04) or a batch mean μ_B; δ is a finite-difference step, never an
index symbol like δᵢⱼ."""

import re
from pathlib import Path

import nbformat
import pytest

from lecture_lib.course import NOTATION

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))

# symbol pattern -> (what the table says it is, the notebooks (by number) where it may appear)
RULES = {
    r"σ(?![(_′])": ("σ is the sigmoid, written σ(z); a std is 'std' or σ_B", set()),
    r"α": ("α is an activation's negative-side slope", {"00", "01"}),
    r"μ(?!_B)": ("μ is torch's momentum coefficient (04); a batch mean is μ_B", {"00", "04"}),
    r"δ[ᵢⱼₙ]": ("δ is a finite-difference step, not an index symbol", set()),
    r"λ": ("λ is the strength of L2 regularization or weight decay", {"00", "06", "09"}),
}


def prose(path: Path) -> list[tuple[int, str]]:
    nb = nbformat.read(path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type in ("markdown", "code")]


def test_the_table_lists_each_symbol_once_with_a_meaning():
    symbols = [s for s, _, _ in NOTATION]
    assert len(symbols) == len(set(symbols))
    assert all(meaning.strip() and where.strip() for _, meaning, where in NOTATION)
    for needed in ("h", "δ", "α", "lr", "β1, β2", "μ_B, σ_B", "λ"):
        assert needed in symbols, f"{needed} is used in the notebooks but missing from the table"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_symbols_keep_their_meaning(path):
    number = path.stem[:2]
    problems = []
    for pattern, (meaning, allowed) in RULES.items():
        if number in allowed:
            continue
        for i, text in prose(path):
            for m in re.finditer(pattern, text):
                problems.append(f"cell {i}: {text[max(0, m.start() - 30):m.end() + 20]!r} ({meaning})")
    assert not problems, problems
