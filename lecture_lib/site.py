"""The static site: every notebook executed and rendered to HTML, for readers who install nothing.

``make site`` (or ``python -m lecture_lib.site --out site --profile full``) executes each notebook
of ``notebooks/`` with nbclient in a fresh kernel (profile ``fast`` or ``full``), renders it with
nbconvert's ``lab`` template, figures embedded, and writes ``site/<notebook>.html`` and
``site/index.html``.

Explorers are live widgets in JupyterLab; on a static page each one shows the picture of its
state when it was displayed (its output carries an ``image/png`` next to the widget view, and the
page keeps the PNG). Links between notebooks point to their pages. Nothing on the pages loads a
widget library; only MathJax, if the reader is online, typesets formulas.

What code printed is not trusted: HTML and Markdown outputs (an exercise's feedback quotes the
student's exception, a table may come from data) are sanitized with ``bleach`` before they reach
a page: no script, no event-handler attribute (``onerror``...), no ``javascript:`` link. File names
are escaped wherever they land in the index.

Jupyter (nbclient, nbconvert) is imported only when a site is built: lecture_lib stays importable
without it.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from .config import PROFILES

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
DEFAULT_CELL_TIMEOUT_S = 1200  # the full profile of one notebook is budgeted at 10 minutes

_LINK = re.compile(r'href="(\d\d_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"')


@dataclass
class Page:
    name: str
    title: str
    covers: str
    seconds: float
    path: Path


def notebooks(names=None, folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The notebooks to build, in course order: all of ``folder``, or those named in ``names``
    (each once, however often it is named)."""
    found = {p.stem: p for p in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))}
    if names is None:
        return list(found.values())
    names = [names] if isinstance(names, str) else list(names)
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"notebooks={names!r} holds {n!r}; expected names such as '00_start_here'")
    unknown = [n for n in names if n not in found]
    if unknown or not names:
        raise ValueError(f"notebooks={names!r}: {unknown or 'none given'} not found; expected "
                         f"names among {sorted(found)}")
    return [found[n] for n in sorted(set(names))]


# -- outputs are sanitized: tags and attributes a notebook's output may keep ----------------------
SAFE_TAGS = frozenset("""a abbr b blockquote br caption cite code col colgroup dd del details div dl dt em
    figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strong sub
    summary sup table tbody td tfoot th thead tr u ul""".split())
_SAFE_ATTRIBUTES = frozenset("class id title style align colspan rowspan width height alt lang dir start".split())
_SCRIPTS = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def _safe_url(value: str, *, image: bool) -> bool:
    """http(s), mailto, relative links and fragments; for an image also an embedded PNG/JPEG/GIF."""
    scheme = urlsplit(value.strip()).scheme.lower()
    if image and value.strip().lower().startswith(("data:image/png", "data:image/jpeg", "data:image/gif")):
        return True
    return scheme in ("", "http", "https") or (scheme == "mailto" and not image)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in _SAFE_ATTRIBUTES:
        return True
    if tag == "a" and name == "href":
        return _safe_url(value, image=False)
    if tag == "img" and name == "src":
        return _safe_url(value, image=True)
    return False


def sanitize_html(text: str) -> str:
    """``text`` (HTML) with only :data:`SAFE_TAGS`, no event handlers, no scripts or style sheets
    (dropped with their content), no ``javascript:`` or ``data:`` links (images may embed
    PNG/JPEG/GIF), and inline styles reduced to harmless CSS properties."""
    import bleach
    from bleach.css_sanitizer import CSSSanitizer

    return bleach.clean(_SCRIPTS.sub("", text), tags=SAFE_TAGS, attributes=_allowed_attribute,
                        protocols=["http", "https", "mailto", "data"], strip=True, strip_comments=True,
                        css_sanitizer=CSSSanitizer())


def sanitize_outputs(nb) -> int:
    """Sanitize every HTML and Markdown output: Markdown is rendered to HTML first (as the page
    would render it), then kept as HTML. Returns how many outputs changed."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    changed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            markdown = data.pop("text/markdown", None)
            if "text/html" in data:  # the page would show the HTML of an output that has both
                raw = "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
                data["text/html"] = sanitize_html(raw)
                changed += data["text/html"] != raw or markdown is not None
            elif markdown is not None:
                markdown = "".join(markdown) if isinstance(markdown, list) else markdown
                data["text/html"] = sanitize_html(markdown2html_mistune(markdown))
                changed += 1
    return changed


def prefer_static(nb) -> int:
    """Keep, for every output that offers both, the PNG instead of the live widget view, and drop
    the saved widget state: a static page cannot run widgets. Returns how many outputs changed."""
    changed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "image/png" in data:
                del data[WIDGET_VIEW]
                changed += 1
    nb.metadata.pop("widgets", None)
    return changed


def link_pages(text: str) -> str:
    """Links from one notebook to another (``01_activations.ipynb#x``) point to its page."""
    return _LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', text)


def _title(name: str, nb) -> tuple[str, str]:
    from .course import NOTEBOOKS

    for stem, title, covers in NOTEBOOKS:
        if stem == name:
            return title, covers
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip(), ""
    return name, ""


def execute(path: Path, profile: str, timeout: int = DEFAULT_CELL_TIMEOUT_S):
    """Run a notebook top to bottom in a fresh kernel, in its folder, with ``LECTURE_PROFILE``."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, LECTURE_PROFILE=profile, MPLBACKEND="Agg", LECTURE_STRICT="1")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env, cwd=str(path.parent))
    return nb


def render(nb, name: str, title: str, path: Path) -> str:
    """The notebook as one HTML page (nbconvert, lab template, images embedded)."""
    from nbconvert import HTMLExporter

    prefer_static(nb)
    sanitize_outputs(nb)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": f"{name[:2]} · {title}", "path": str(path.parent)}})
    nav = ('<nav style="padding:8px 16px;font-family:sans-serif"><a href="index.html">'
           '&larr; all notebooks</a></nav>')
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)
    return link_pages(body)


def index_page(pages: list[Page], profile: str) -> str:
    from . import __version__

    rows = "\n".join(
        f'<tr><td><a href="{html.escape(quote(p.path.name))}">{html.escape(p.name)}</a></td>'
        f"<td>{html.escape(p.title)}</td><td>{html.escape(p.covers)}</td>"
        f"<td style='text-align:right'>{p.seconds:.0f} s</td></tr>" for p in pages)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Training neural networks: the course notebooks</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #111; background: #fff; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.4rem 0.6rem; vertical-align: top; }}
th {{ text-align: left; white-space: nowrap; }}
</style></head><body>
<h1>Training neural networks: the course notebooks</h1>
<p>Every notebook below was executed from top to bottom and saved with its results: each claim
of the lecture notes with the experiment that decides it and the verdict. The live explorers show
a picture of their state; to drag their sliders, run the notebooks in JupyterLab
(<code>make lab</code>).</p>
<table><thead><tr><th>notebook</th><th>topic</th><th>covers</th><th>run time</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<p><small>Built with lecture_lib {__version__}, profile <code>{profile}</code>
({"the real experiments" if profile == "full" else "small experiments, for a quick check"}).
</small></p>
</body></html>
"""


def build_site(out="site", profile: str = "full", names=None, *, folder: Path = NOTEBOOK_DIR,
               timeout: int = DEFAULT_CELL_TIMEOUT_S, log=print) -> list[Page]:
    """Execute the notebooks (all, or ``names``) and write ``out``/index.html and one page each.
    Stops at the first notebook that fails, naming it."""
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is not a profile; expected one of {PROFILES}")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise ValueError(f"timeout={timeout!r} must be a positive number of seconds")
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out={out!r} is not valid; expected a folder path")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out={str(out)!r} is a file; expected a folder (created if missing)")
    paths = notebooks(names, folder)
    if not paths:
        raise ValueError(f"no notebook (NN_topic.ipynb) in {folder}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"out={str(out)!r} cannot be created ({err.strerror or err}); expected a "
                         "folder path you can write to") from None
    pages = []
    for path in paths:
        start = time.perf_counter()
        try:
            nb = execute(path, profile, timeout)
        except Exception as err:
            raise RuntimeError(f"{path.name} failed in the {profile} profile:\n{err}") from err
        seconds = time.perf_counter() - start
        title, covers = _title(path.stem, nb)
        target = out / f"{path.stem}.html"
        target.write_text(render(nb, path.stem, title, path), encoding="utf-8")
        pages.append(Page(path.stem, title, covers, seconds, target))
        log(f"{target}  ({seconds:.0f} s)")
    (out / "index.html").write_text(index_page(pages, profile), encoding="utf-8")
    log(f"{out / 'index.html'}  ({len(pages)} notebooks, profile {profile})")
    return pages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lecture_lib.site",
                                     description="Execute the notebooks and write a static site.")
    parser.add_argument("--out", default="site", help="output folder (default: site)")
    parser.add_argument("--profile", default="full", choices=PROFILES,
                        help="experiment sizes (default: full, the real experiments)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT_S,
                        help="seconds allowed to one cell")
    parser.add_argument("notebooks", nargs="*", help="names such as 00_start_here (default: all)")
    args = parser.parse_args(argv)
    try:
        build_site(args.out, args.profile, args.notebooks or None, timeout=args.timeout)
    except (ValueError, TypeError, RuntimeError, OSError) as err:
        print(f"make site: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
