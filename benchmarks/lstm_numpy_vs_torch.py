"""The NumPy LSTM of lecture_lib.layers (forward and backward through time) against torch's CPU
``nn.LSTM`` at teaching sizes, float32: N 32 sequences, T 50 steps, D 64 inputs, H 128 hidden units.
Prints the medians and the ratios; the target is NumPy no more than 1.5x slower than torch.

The two are timed in alternation (NumPy, torch, NumPy, ...), so a load that comes and goes on a
shared machine falls on both alike. Each round reads two clocks: the CPU time of the process, which
other processes inflate less (it still rises when they crowd the caches), and the wall time, which
on a busy machine also counts the waiting. A ratio is the median of the per-round ratios. With one
thread (the default, the most repeatable) the verdict goes by the CPU time; with more, by the wall
time (CPU time would add up the threads). ``--threads`` sets the BLAS and torch threads (0 keeps
each library's default).

    python benchmarks/lstm_numpy_vs_torch.py [--repeats 40] [--threads 1]
"""

from __future__ import annotations

import argparse
import contextlib

import numpy as np
import torch

from lecture_lib import layers, timing

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
        times = timing.alternate(numpy_pass(problem), torch_pass(problem), args.repeats)
    verdict_clock = "cpu" if args.threads == 1 else "wall"
    ratio = times[verdict_clock][2]
    print(f"torch {torch.__version__} ({torch.get_num_threads()} thread(s)); NumPy {np.__version__}")
    print(f"LSTM forward+backward, N={N} T={T} D={D} H={H}, float32, medians of {args.repeats} alternating rounds:")
    print(f"  {'':28s} {'CPU ms':>9s} {'wall ms':>9s}")
    for k, name in enumerate(("NumPy (lecture_lib.layers)", "torch nn.LSTM (CPU)")):
        print(f"  {name:28s} {1e3 * times['cpu'][k]:9.2f} {1e3 * times['wall'][k]:9.2f}")
    print(f"  ratio NumPy/torch: CPU {times['cpu'][2]:.2f}x, wall {times['wall'][2]:.2f}x "
          f"(target <= {TARGET_RATIO}x, by {'CPU' if verdict_clock == 'cpu' else 'wall'} time): "
          f"{'ok' if ratio <= TARGET_RATIO else 'SLOWER than target'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
