"""Every relative link of the course resolves: in each notebook's Markdown cells, in the Markdown
its code cells generate (links inside string literals), and in README.md. A link goes to an
existing file, and its #anchor, if any, to a heading of that file: nothing may be missing."""

import io
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)")       # [text](target), not images' ![...]
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def anchors(text: str) -> set[str]:
    """The anchors of a document's headings, as JupyterLab makes them (spaces to '-', the text kept)
    and as GitHub does (lower case, punctuation dropped), so that either spelling passes."""
    found = set()
    for heading in HEADING.findall(text):
        plain = re.sub(r"[*_`]", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)).strip()
        found.add(plain.replace(" ", "-"))
        found.add(re.sub(r"[^\w\- ]", "", plain.lower()).replace(" ", "-"))
    return found


def markdown_of_notebook(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def string_literals(source: str) -> list[str]:
    """The string literals of a code cell (f-strings included); a cell that does not tokenize
    (IPython magics) is read whole."""
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.STRING]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [source]


def links_of_notebook(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    found = []
    for c in nb.cells:
        texts = [c.source] if c.cell_type == "markdown" else string_literals(c.source) if c.cell_type == "code" else []
        for text in texts:
            found += [t for t in LINK.findall(text) if "{" not in t]     # an f-string's {name} is filled at run time
    return found


def broken(links, base: Path, own_text: str) -> list[str]:
    problems = []
    for target in links:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):                     # https:, mailto:, ...
            continue
        path_part, _, anchor = target.partition("#")
        if not path_part:                                                  # #anchor in the same document
            if anchor not in anchors(own_text):
                problems.append(f"{target}: no heading with that anchor here")
            continue
        path = (base / path_part).resolve()
        if not path.exists():
            problems.append(f"{target}: no such file")
            continue
        if anchor:
            text = markdown_of_notebook(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
            if anchor not in anchors(text):
                problems.append(f"{target}: {path.name} has no heading with that anchor")
    return problems


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_links_resolve(path):
    links = links_of_notebook(path)
    assert not broken(links, path.parent, markdown_of_notebook(path)), broken(links, path.parent,
                                                                            markdown_of_notebook(path))


def test_readme_links_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    problems = broken(LINK.findall(text), ROOT, text)
    assert not problems, problems


def test_the_checker_finds_what_is_broken(tmp_path):
    (tmp_path / "there.md").write_text("# A heading\n\ntext\n", encoding="utf-8")
    text = "# Local part\n"
    assert broken(["there.md", "there.md#A-heading", "there.md#a-heading", "#Local-part",
                   "https://example.org/x"], tmp_path, text) == []
    assert broken(["07_cnn_architectures.ipynb"], tmp_path, text) == ["07_cnn_architectures.ipynb: no such file"]
    assert broken(["missing.md"], tmp_path, text) == ["missing.md: no such file"]
    assert broken(["there.md#Nowhere"], tmp_path, text) == [
        "there.md#Nowhere: there.md has no heading with that anchor"]
    assert broken(["#Nowhere"], tmp_path, text) == ["#Nowhere: no heading with that anchor here"]


def test_links_in_generated_markdown_are_found():
    source = 'display(Markdown(f"see [06](06_regularization.ipynb) and [{n}]({n}.ipynb)"))\nx = f[a](b)'
    assert [t for s in string_literals(source) for t in LINK.findall(s) if "{" not in t] == ["06_regularization.ipynb"]
