"""A small CNN (lecture_lib.models.digits_cnn) trained on scikit-learn's digits on the CPU: test
accuracy and training time against the budget (98 % in under 20 s on 2 cores). Training runs on
one thread (on these sizes a second thread only waits), so both the CPU time and the wall time
are printed; several seeds show the spread.

    python benchmarks/digits_cnn.py [--seeds 3] [--width 32] [--epochs 12]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lecture_lib.experiments.cnn import DIGITS_TARGET, measure_digits_cnn

BUDGET_S = 20.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args(argv)
    if min(args.seeds, args.width, args.epochs) <= 0 or args.lr <= 0:
        parser.error("--seeds, --width, --epochs and --lr must be positive")
    print(f"digits_cnn width {args.width}, {args.epochs} epochs, AdamW lr {args.lr:g}; "
          f"target {DIGITS_TARGET:.0%} test accuracy in under {BUDGET_S:.0f} s")
    print(f"{'seed':>4} {'test acc':>9} {'CPU s':>7} {'wall s':>7}")
    results = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        result = measure_digits_cnn(np.random.default_rng(seed), width=args.width, epochs=args.epochs, lr=args.lr)
        wall = time.perf_counter() - start
        results.append((result.accuracy, result.cpu_seconds, wall))
        print(f"{seed:>4} {result.accuracy:9.2%} {result.cpu_seconds:7.2f} {wall:7.2f}")
    acc, cpu, wall = (np.array(v) for v in zip(*results, strict=True))
    ok = acc.min() >= DIGITS_TARGET and np.median(wall) < BUDGET_S
    print(f"median: {np.median(acc):.2%} accuracy (worst {acc.min():.2%}), {np.median(cpu):.2f} s CPU, "
          f"{np.median(wall):.2f} s wall -> {'ok' if ok else 'MISSES the target'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
