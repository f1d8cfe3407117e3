"""Explorer latency: one control change, recomputed and drawn once with Agg (DESIGN budget: median
under 50 ms on 2 cores). For every explorer and every control, the control is moved back and forth
between values across its range; the median and the 90th percentile of the redraw times are
printed, with the ratio to the budget.

    python benchmarks/explorers.py [--moves N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import ipywidgets as W
import numpy as np

from lecture_lib.style import apply_style
from lecture_lib.widgets import all_explorers

BUDGET_MS = 50.0


def values_for(control, n: int) -> list:
    if isinstance(control, W.Checkbox):
        return [not control.value, control.value] * (n // 2)
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons)):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return [options[i % len(options)] for i in range(1, n + 1)]
    if isinstance(control, W.FloatLogSlider):
        exps = np.linspace(control.min, control.max, n)
        return [float(control.base ** e) for e in exps]
    grid = np.linspace(control.min, control.max, n)
    if isinstance(control, W.IntSlider):
        return [int(round(v)) for v in grid]
    return [float(v) for v in grid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=12, help="changes per control (default 12)")
    args = parser.parse_args()
    if args.moves < 2:
        parser.error(f"--moves={args.moves} must be at least 2")
    apply_style()
    print(f"{'explorer':<34} {'control':<18} {'median ms':>10} {'p90 ms':>8} {'/ budget':>9}")
    worst = {}
    for name, factory in sorted(all_explorers().items()):
        explorer = factory()
        medians = []
        for cname, control in explorer.controls.items():
            initial = control.value
            times = []
            for value in values_for(control, args.moves):
                start = time.perf_counter()
                control.value = value
                times.append(1000 * (time.perf_counter() - start))
                if explorer.last_error is not None:
                    raise SystemExit(f"{name}.{cname}={value!r} raised {explorer.last_error!r}")
            control.value = initial
            median = statistics.median(times)
            medians.append(median)
            p90 = float(np.percentile(times, 90))
            print(f"{name:<34} {cname:<18} {median:>10.1f} {p90:>8.1f} {median / BUDGET_MS:>8.2f}x")
        worst[name] = statistics.median(medians)
        explorer.close()
    print()
    for name, median in worst.items():
        status = "within budget" if median <= BUDGET_MS else "OVER BUDGET"
        ratio = median / BUDGET_MS
        print(f"{name:<34} median over controls {median:6.1f} ms  ({ratio:.2f}x of {BUDGET_MS:.0f} ms: {status})")


if __name__ == "__main__":
    main()
