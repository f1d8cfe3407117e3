"""The NumPy LSTM of lecture_lib.layers (forward and backward through time) against torch's CPU
``nn.LSTM`` at teaching sizes, float32: N 32 sequences, T 50 steps, D 64 inputs, H 128 hidden units.
Prints the medians and the ratio; the target is NumPy no more than 1.5x slower than torch.

The two are timed in alternation (NumPy, torch, NumPy, ...), so a load that comes and goes on a
shared machine falls on both alike; the CPU time of the process is printed beside the wall time
(on a busy machine the wall time also counts the waiting). ``--threads`` sets the BLAS and torch
threads (default: one, the most repeatable; 0 keeps each library's default).

    python benchmarks/lstm_numpy_vs_torch.py [--repeats 40] [--threads 1]
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import torch

from lecture_lib import layers

TARGET_RATIO = 1.5
N, T, D, H = 32, 50, 64, 128


def make_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    f32 = np.float32
    return {
        "x": rng.standard_normal((N, T, D)).astype(f32),
        "h0": np.zeros((N, H), f32),
        "Wx": (rng.standard_normal((D, 4 * H)) / np.sqrt(D)).astype(f32),
        "Wh": (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(f32),
        "b": np.zeros(4 * H, f32),
        "dh": rng.standard_normal((N, T, H)).astype(f32),
    }


def numpy_pass(p):
    def run():
        _, cache = layers.lstm_forward(p["x"], p["h0"], p["Wx"], p["Wh"], p["b"])
        layers.lstm_backward(p["dh"], cache)
    return run


def torch_pass(p):
    lstm = torch.nn.LSTM(D, H, batch_first=True)
    x = torch.from_numpy(p["x"]).requires_grad_()
    dh = torch.from_numpy(p["dh"])

    def run():
        lstm.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = lstm(x)
        out.backward(dh)
    return run


def alternate(first, second, repeats: int, warmup: int = 3):
    """Median wall and CPU seconds of each, timed in alternation: ((wall, cpu), (wall, cpu))."""
    for _ in range(warmup):
        first()
        second()
    times = {0: ([], []), 1: ([], [])}
    for _ in range(repeats):
        for k, fn in enumerate((first, second)):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            times[k][0].append(time.perf_counter() - wall)
            times[k][1].append(time.process_time() - cpu)
    return tuple((float(np.median(w)), float(np.median(c))) for w, c in times.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.repeats <= 0:
        parser.error(f"--repeats={args.repeats} must be positive")
    if args.threads < 0:
        parser.error(f"--threads={args.threads} must be 0 (library defaults) or positive")
    limit = contextlib.nullcontext()
    if args.threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        limit = threadpool_limits(limits=args.threads)
    problem = make_problem()
    with limit:
        (np_wall, np_cpu), (torch_wall, torch_cpu) = alternate(numpy_pass(problem), torch_pass(problem),
                                                               args.repeats)
    ratio, cpu_ratio = np_wall / torch_wall, np_cpu / torch_cpu
    print(f"torch {torch.__version__} ({torch.get_num_threads()} thread(s)); NumPy {np.__version__}")
    print(f"LSTM forward+backward, N={N} T={T} D={D} H={H}, float32, median of {args.repeats}:")
    print(f"  {'':28s} {'wall ms':>9s} {'CPU ms':>9s}")
    print(f"  {'NumPy (lecture_lib.layers)':28s} {1e3 * np_wall:9.2f} {1e3 * np_cpu:9.2f}")
    print(f"  {'torch nn.LSTM (CPU)':28s} {1e3 * torch_wall:9.2f} {1e3 * torch_cpu:9.2f}")
    print(f"  ratio NumPy/torch: wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x (target <= {TARGET_RATIO}x): "
          f"{'ok' if ratio <= TARGET_RATIO else 'SLOWER than target'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
