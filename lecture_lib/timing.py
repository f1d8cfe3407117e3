"""Wall-clock timing for the claims about speed, and the one margin they are judged by.

A timing is the *best* of several repetitions, as ``timeit`` advises: other programs on a shared
machine only ever add time. A timing claim is machine-dependent, so its checks only ask that two
times agree within :data:`TIMING_MARGIN` (a factor 3 either way), or that one is not more than that
factor slower than the other.
"""

from __future__ import annotations

import time

from ._checks import check_bool, check_positive, check_positive_int
from .config import single_thread

TIMING_MARGIN = 3.0


def best_seconds(fn, *args, repeats: int = 7, number: int = 1, warmup: bool = True) -> float:
    """The best wall time of ``fn(*args)``, per call, over ``repeats`` repetitions of ``number``
    calls each, on one thread, after one warm-up call."""
    if not callable(fn):
        raise TypeError(f"fn={fn!r} is not valid; expected a function to time")
    repeats = check_positive_int(repeats, "repeats", max=100_000)
    number = check_positive_int(number, "number", max=10_000_000)
    warmup = check_bool(warmup, "warmup")
    best = float("inf")
    with single_thread():
        if warmup:
            fn(*args)
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(number):
                fn(*args)
            best = min(best, (time.perf_counter() - start) / number)
    return best


def within_margin(a: float, b: float, margin: float = TIMING_MARGIN) -> bool:
    """``a`` and ``b`` (positive times) agree within a factor ``margin`` either way."""
    a, b, margin = check_positive(a, "a"), check_positive(b, "b"), check_positive(margin, "margin")
    return max(a / b, b / a) <= margin


def not_slower(t: float, t_ref: float, margin: float = TIMING_MARGIN) -> bool:
    """``t`` is at most ``margin`` times ``t_ref``."""
    t, t_ref, margin = check_positive(t, "t"), check_positive(t_ref, "t_ref"), check_positive(margin, "margin")
    return t <= margin * t_ref


def alternate(first, second, repeats: int, warmup: int = 3) -> dict:
    """Time two functions in alternation on both clocks (for the benchmarks, where the machine may be
    shared: alternating spreads the other programs' load over both sides). Returns, per clock
    ("cpu", "wall"), the median seconds of each and the median of the per-round ratios first / second."""
    import numpy as np

    repeats = check_positive_int(repeats, "repeats", max=100_000)
    for _ in range(check_positive_int(warmup + 1, "warmup + 1") - 1):
        first()
        second()
    clocks = {"cpu": time.process_time, "wall": time.perf_counter}
    seconds = {name: ([], []) for name in clocks}
    for _ in range(repeats):
        for k, fn in enumerate((first, second)):
            start = {name: clock() for name, clock in clocks.items()}
            fn()
            for name, clock in clocks.items():
                seconds[name][k].append(clock() - start[name])
    result = {}
    for name, (a, b) in seconds.items():
        a, b = np.array(a), np.array(b)
        result[name] = (float(np.median(a)), float(np.median(b)), float(np.median(a / b)))
    return result
