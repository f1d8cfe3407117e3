"""Execution time of every notebook, as the test suite runs them (fresh kernel, fast profile).

    python benchmarks/notebooks.py [--profile fast|full] [--repeat N] [NAME ...]

Prints, per notebook, the median wall time over the repeats and its ratio to the 20 s budget
(fast profile), then the whole suite's total.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = {"fast": 20.0, "full": 600.0}


def run_once(path: Path, profile: str) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ["LECTURE_PROFILE"] = profile
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebook stems (default: all)")
    parser.add_argument("--profile", choices=sorted(BUDGET_S), default="fast")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat={args.repeat} must be at least 1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.names:
        paths = [p for p in paths if p.stem in args.names]
    budget = BUDGET_S[args.profile]
    header = f"{'notebook':<24} {'median s':>9} {'runs':>5} {'/ budget':>9}"
    print(f"{header}   (profile {args.profile}, budget {budget:.0f} s)")
    total = 0.0
    for path in paths:
        times = [run_once(path, args.profile) for _ in range(args.repeat)]
        median = statistics.median(times)
        total += median
        flag = "" if median <= budget else "  OVER BUDGET"
        print(f"{path.stem:<24} {median:>9.1f} {len(times):>5} {median / budget:>8.2f}x{flag}")
    print(f"{'all notebooks':<24} {total:>9.1f}")


if __name__ == "__main__":
    main()
