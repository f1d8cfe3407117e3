"""Explorer latency in a real JupyterLab: from a key press on a control to the new picture.

For each explorer of lecture_lib.widgets: JupyterLab (fresh settings, loopback) shows it with its
defaults in headless Chromium; the benchmark focuses the handle of its first slider and presses
the arrow keys 20 times (right, left, right, ...), each time measuring, inside the page, the time
from the keydown event to the explorer's picture (an ``<img>``) holding the new PNG, decoded.
That covers the browser, the websocket, the kernel's recompute and redraw, and the way back.
It prints the median per explorer against the budget of DESIGN.md (120 ms).

Run: ``.venv/bin/python benchmarks/browser_latency.py [--presses 20] [--only NAME ...]``.
Needs Chromium at /usr/bin/chromium (or $CHROMIUM); without it, says what to install.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import harness as H  # noqa: E402

BUDGET_MS = 120.0


def measure(page, name: str, presses: int) -> tuple[str, list[float]]:
    """Latencies (ms) of ``presses`` arrow-key presses on the first slider of explorer ``name``."""
    from lecture_lib.widgets import all_explorers

    explorer = all_explorers()[name]()
    sliders = [(c, w) for c, w in explorer.controls.items() if "Slider" in type(w).__name__]
    if not sliders:
        raise LookupError(f"{name} has no slider to press keys on")
    control, widget = sliders[0]
    forward = widget.value < widget.max
    explorer.close()

    picture = page.locator(f"img.lc-{name}-picture")
    picture.scroll_into_view_if_needed()
    handle = page.locator(f".lc-{name}-control-{control} .noUi-handle")
    handle.focus()
    times = []
    for i in range(presses + 1):                      # the first press warms up, not counted
        key = "ArrowRight" if forward == (i % 2 == 0) else "ArrowLeft"
        picture.evaluate(H.LATENCY_ARM_JS)
        handle.press(key)
        ms = page.evaluate(H.LATENCY_RESULT_JS)
        if i:
            times.append(ms)
    return control, times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--only", nargs="*", default=None, help="explorer names (default: all)")
    args = parser.parse_args(argv)
    if args.presses < 1:
        parser.error(f"--presses={args.presses} must be a positive number of key presses")

    hint = H.chromium_missing()
    if hint:
        print(f"browser latency: not measured. {hint}")
        return 0

    from playwright.sync_api import sync_playwright

    from lecture_lib.widgets import all_explorers

    names = sorted(all_explorers())
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"--only {unknown}: not explorers; expected some of {names}")
        names = [n for n in names if n in args.only]

    tmp = Path(tempfile.mkdtemp(prefix="browser-latency-"))
    H.explorers_notebook(names, tmp / "root" / "explorers.ipynb")
    print(f"key press -> new picture in JupyterLab (headless Chromium), median of {args.presses} "
          f"presses per explorer; budget {BUDGET_MS:.0f} ms")
    worst = 0.0
    with H.lab_server(tmp / "root", tmp / "home") as server, sync_playwright() as playwright:
        browser = H.launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(H.PAGE_TIMEOUT_MS)
        start = time.perf_counter()
        H.open_in_lab(page, server, "explorers.ipynb")
        H.run_all_cells(page)
        errors = H.wait_all_executed(page, 1 + len(names), 180_000)
        if errors:
            print("the explorers' notebook failed:\n" + "\n".join(errors))
            return 1
        H.widgets_settled(page)
        print(f"(JupyterLab page and {len(names)} explorers ready in "
              f"{time.perf_counter() - start:.1f} s)")
        for name in names:
            try:
                control, times = measure(page, name, args.presses)
            except LookupError as err:
                print(f"  {name:<34} not measured: {err}")
                continue
            median = statistics.median(times)
            worst = max(worst, median)
            verdict = "within budget" if median < BUDGET_MS else "OVER BUDGET"
            print(f"  {name:<34} {control:<14} median {median:6.1f} ms  "
                  f"(min {min(times):5.1f}, max {max(times):6.1f})  "
                  f"{median / BUDGET_MS:4.2f}x budget  {verdict}")
        browser.close()
    print(f"worst median: {worst:.1f} ms ({worst / BUDGET_MS:.2f}x the {BUDGET_MS:.0f} ms budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
