"""Explorer latency: one control change, recomputed and drawn once with Agg (DESIGN budget: median
under 50 ms on 2 cores). For every explorer and every control, the control is moved back and forth
between values across its range (each move a real change); the median and the 90th percentile of
the redraw times are printed, with the ratio to the budget. The CPU time of the process per change
is printed too: on a shared machine other jobs stretch the wall time, not the CPU time, so the CPU
column estimates what an idle machine shows (the explorers draw on one thread).

    python benchmarks/explorers.py [--moves N] [--repeat R] [explorer ...]
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
    """n values for ``control`` across its range, each different from the one before it (and the
    first from the control's current value), so that every one is a real change: a slider with
    fewer positions than n goes back and forth over the positions it has."""
    if isinstance(control, W.Checkbox):
        candidates = [not control.value, control.value]
    elif isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons)):
        candidates = [o[1] if isinstance(o, tuple) else o for o in control.options]
    elif isinstance(control, W.FloatLogSlider):
        candidates = [float(control.base ** e) for e in np.linspace(control.min, control.max, n)]
    elif isinstance(control, W.IntSlider):
        candidates = sorted({int(round(v)) for v in np.linspace(control.min, control.max, n)})
    else:
        candidates = [float(v) for v in np.linspace(control.min, control.max, n)]
    if len(candidates) < 2:
        return []
    cycle = candidates if len(candidates) > 2 else candidates[::-1]
    if len(candidates) < n and not isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons)):
        cycle = candidates + candidates[-2:0:-1]              # there and back: 1 2 3 2 1 2 3 ...
    values, previous = [], control.value
    for k in range(10 * n):
        value = cycle[k % len(cycle)]
        if value != previous:
            values.append(value)
            previous = value
        if len(values) == n:
            break
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=12, help="changes per control (default 12)")
    parser.add_argument("--repeat", type=int, default=1, help="passes over every control (default 1)")
    parser.add_argument("explorers", nargs="*", help="names such as gate_explorer (default: all)")
    args = parser.parse_args()
    if args.moves < 2:
        parser.error(f"--moves={args.moves} must be at least 2")
    factories = all_explorers()
    unknown = sorted(set(args.explorers) - set(factories))
    if unknown:
        parser.error(f"unknown explorer(s) {unknown}; expected among {sorted(factories)}")
    apply_style()
    print(f"{'explorer':<30} {'control':<16} {'median ms':>9} {'p90 ms':>7} {'cpu ms':>7} {'/ budget':>9}")
    worst, over, over_cpu = {}, [], []
    for name in args.explorers or sorted(factories):
        explorer = factories[name]()
        medians = []
        for cname, control in explorer.controls.items():
            initial = control.value
            times, cpu = [], []
            for value in values_for(control, args.moves) * args.repeat:
                start, start_cpu = time.perf_counter(), time.process_time()
                control.value = value
                times.append(1000 * (time.perf_counter() - start))
                cpu.append(1000 * (time.process_time() - start_cpu))
                if explorer.last_error is not None:
                    raise SystemExit(f"{name}.{cname}={value!r} raised {explorer.last_error!r}")
            control.value = initial
            median, median_cpu = statistics.median(times), statistics.median(cpu)
            medians.append(median)
            p90 = float(np.percentile(times, 90))
            if median > BUDGET_MS:
                over.append(f"{name}.{cname}")
            if median_cpu > BUDGET_MS:
                over_cpu.append(f"{name}.{cname}")
            print(f"{name:<30} {cname:<16} {median:>9.1f} {p90:>7.1f} {median_cpu:>7.1f} "
                  f"{median / BUDGET_MS:>8.2f}x")
        worst[name] = statistics.median(medians)
        explorer.close()
    print()
    for name, median in worst.items():
        status = "within budget" if median <= BUDGET_MS else "OVER BUDGET"
        ratio = median / BUDGET_MS
        print(f"{name:<30} median over controls {median:6.1f} ms  ({ratio:.2f}x of {BUDGET_MS:.0f} ms: {status})")
    print(f"single controls over {BUDGET_MS:.0f} ms (wall): {', '.join(over) if over else 'none'}")
    print(f"single controls over {BUDGET_MS:.0f} ms (CPU):  {', '.join(over_cpu) if over_cpu else 'none'}")


if __name__ == "__main__":
    main()
