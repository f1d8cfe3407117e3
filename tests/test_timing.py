"""The timing helpers of the speed claims and the benchmarks."""

import time

import pytest

from lecture_lib import timing


def test_alternate_times_both_sides_on_both_clocks():
    calls = []

    def slow():
        calls.append("slow")
        time.sleep(0.004)

    def fast():
        calls.append("fast")

    result = timing.alternate(slow, fast, repeats=5, warmup=1)
    assert calls[:4] == ["slow", "fast", "slow", "fast"] and len(calls) == 12
    wall_slow, wall_fast, ratio = result["wall"]
    assert wall_slow >= 0.004 > wall_fast and ratio > 1
    assert set(result) == {"cpu", "wall"}
    with pytest.raises(ValueError, match="repeats=0"):
        timing.alternate(slow, fast, repeats=0)
