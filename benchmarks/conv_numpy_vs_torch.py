"""The NumPy convolution and max-pooling gates (fast paths) against torch's CPU conv2d and
max_pool2d, forward plus backward, float32, on a CIFAR-sized batch. Prints the medians of both
clocks and the ratios; the target is NumPy no more than 2x slower than torch.

The two sides are timed in alternation (NumPy, torch, NumPy, ...), so that a neighbour's load on
a shared machine slows both alike, and both run with the same number of threads. Each round reads
two clocks: the process's CPU time, which other processes on a shared machine inflate less (it
still rises when they crowd the caches), and the wall time, which also counts the waiting. A ratio
is the median of the per-round ratios. With one thread (the default) the verdict goes by the CPU
time; with more, by the wall time (CPU time would add up the threads).

    python benchmarks/conv_numpy_vs_torch.py [--repeats 30] [--threads 1]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from lecture_lib import layers, timing

TARGET_RATIO = 2.0
CONV_SIZES = (  # (name, N, C, H, W, F, K, stride, pad)
    ("CIFAR batch 64x16x32x32 -> 32, 3x3", 64, 16, 32, 32, 32, 3, 1, 1),
    ("first layer 64x3x32x32 -> 16, 3x3", 64, 3, 32, 32, 16, 3, 1, 1),
    ("strided 64x32x32x32 -> 64, 3x3/2", 64, 32, 32, 32, 64, 3, 2, 1),
)
POOL_SIZES = (  # (name, N, C, H, W, pool, stride)
    ("64x32x32x32, 2x2/2", 64, 32, 32, 32, 2, 2),
    ("64x32x33x33, 3x3/2 (overlapping)", 64, 32, 33, 33, 3, 2),
)


def alternate(first, second, repeats: int) -> dict:
    """:func:`lecture_lib.timing.alternate` in milliseconds."""
    times = timing.alternate(first, second, repeats)
    return {clock: (1000 * a, 1000 * b, ratio) for clock, (a, b, ratio) in times.items()}


def conv_pair(n, c, h, w, f, k, stride, pad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    weight = (rng.standard_normal((f, c, k, k), dtype=np.float32) / np.sqrt(c * k * k)).astype(np.float32)
    bias = np.zeros(f, np.float32)
    param = {"stride": stride, "pad": pad}
    out_shape = layers.conv_forward_fast(x, weight, bias, param)[0].shape
    dout = rng.standard_normal(out_shape, dtype=np.float32)

    def numpy_step():
        _, cache = layers.conv_forward_fast(x, weight, bias, param)
        layers.conv_backward_fast(dout, cache)

    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, weight, bias))
    dt = torch.from_numpy(dout)

    def torch_step():
        xt.grad = wt.grad = bt.grad = None
        F.conv2d(xt, wt, bt, stride=stride, padding=pad).backward(dt)

    return numpy_step, torch_step


def pool_pair(n, c, h, w, size, stride):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    param = {"pool_height": size, "pool_width": size, "stride": stride}
    dout = rng.standard_normal(layers.max_pool_forward_fast(x, param)[0].shape, dtype=np.float32)

    def numpy_step():
        _, cache = layers.max_pool_forward_fast(x, param)
        layers.max_pool_backward_fast(dout, cache)

    xt = torch.from_numpy(x).requires_grad_()
    dt = torch.from_numpy(dout)

    def torch_step():
        xt.grad = None
        F.max_pool2d(xt, size, stride).backward(dt)

    return numpy_step, torch_step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for both NumPy's BLAS and torch (default 1: CPU-time clock)")
    args = parser.parse_args(argv)
    if args.repeats <= 0 or args.threads <= 0:
        parser.error("--repeats and --threads must be positive")
    torch.set_num_threads(args.threads)
    verdict_clock = "cpu" if args.threads == 1 else "wall"
    print(f"torch {torch.__version__}, NumPy {np.__version__}; {args.threads} thread(s) each; "
          f"forward + backward, float32, medians of {args.repeats} alternating rounds; "
          f"verdict by {'CPU' if verdict_clock == 'cpu' else 'wall'} time")
    print(f"{'problem':42s} {'CPU ms: NumPy':>13s} {'torch':>7s} {'ratio':>6s}   {'wall ms: NumPy':>14s} "
          f"{'torch':>7s} {'ratio':>6s}  target <= {TARGET_RATIO}x")
    worst = 0.0
    with threadpool_limits(limits=args.threads):
        rows = [("conv " + name, conv_pair(*sizes)) for name, *sizes in CONV_SIZES]
        rows += [("max pool " + name, pool_pair(*sizes)) for name, *sizes in POOL_SIZES]
        for name, (numpy_step, torch_step) in rows:
            times = alternate(numpy_step, torch_step, args.repeats)
            ratio = times[verdict_clock][2]
            worst = max(worst, ratio)
            (cpu_np, cpu_torch, cpu_ratio), (wall_np, wall_torch, wall_ratio) = times["cpu"], times["wall"]
            print(f"{name:42s} {cpu_np:13.2f} {cpu_torch:7.2f} {cpu_ratio:5.2f}x   {wall_np:14.2f} "
                  f"{wall_torch:7.2f} {wall_ratio:5.2f}x  {'ok' if ratio <= TARGET_RATIO else 'SLOWER than target'}")
    print(f"worst ratio NumPy/torch ({'CPU' if verdict_clock == 'cpu' else 'wall'} time): {worst:.2f}x "
          f"(target <= {TARGET_RATIO}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
