"""Wall time of the whole test suite as `make test` runs it (unit tests and every notebook, fast
profile), against the 5-minute budget.

    python benchmarks/test_suite.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat={args.repeat} must be at least 1")
    env = {**os.environ, "LECTURE_PROFILE": "fast"}
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        times.append(time.perf_counter() - start)
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "(no output)"
        print(f"run {len(times)}: {times[-1]:.1f} s  {summary}")
        if done.returncode != 0:
            raise SystemExit(f"the suite failed (exit {done.returncode}); timings of a failing run mean little")
    median = statistics.median(times)
    print(f"whole suite (make test, warm .venv): median {median:.1f} s over {len(times)} run(s), "
          f"{median / BUDGET_S:.2f}x of the {BUDGET_S:.0f} s budget")


if __name__ == "__main__":
    main()
