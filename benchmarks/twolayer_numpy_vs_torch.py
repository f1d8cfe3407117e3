"""One training step of the NumPy two-layer net (lecture_lib.nets.MLP, on the gates) against the same
net in torch on the CPU: forward, softmax loss, backward, SGD update. Prints the medians and the
ratio; the target is NumPy no more than 1.5x slower than torch.

    python benchmarks/twolayer_numpy_vs_torch.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lecture_lib import nets, optim

TARGET_RATIO = 1.5
SIZES = (  # (name, N, D, H, C)
    ("spiral (the notebook's net)", 300, 2, 100, 3),
    ("digits-sized batch", 256, 64, 256, 10),
)


def median_ms(step, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def numpy_step(net, X, y, lr=0.1):
    opt, names = optim.SGD(lr=lr), list(net.params)

    def step():
        _, grads = net.loss(X, y, reg=1e-4)
        opt.step([net.params[k] for k in names], [grads[k] for k in names])
    return step


def torch_step(net, X, y, lr=0.1):
    twin = nets.torch_twin(net)
    opt = torch.optim.SGD(twin.parameters(), lr=lr, weight_decay=1e-4)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(twin(Xt), yt).backward()
        opt.step()
    return step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    if args.repeats <= 0:
        parser.error(f"--repeats={args.repeats} must be positive")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; NumPy {np.__version__}")
    print(f"{'problem':32s} {'NumPy ms':>9s} {'torch ms':>9s} {'ratio':>7s}  target <= {TARGET_RATIO}x")
    worst = 0.0
    for name, n, d, h, c in SIZES:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, d))
        y = rng.integers(0, c, n)
        t_np = median_ms(numpy_step(nets.MLP([d, h, c], rng=np.random.default_rng(0)), X, y), args.repeats)
        t_torch = median_ms(torch_step(nets.MLP([d, h, c], rng=np.random.default_rng(0)), X, y), args.repeats)
        ratio = t_np / t_torch
        worst = max(worst, ratio)
        print(f"{name:32s} {t_np:9.3f} {t_torch:9.3f} {ratio:6.2f}x  "
              f"{'ok' if ratio <= TARGET_RATIO else 'SLOWER than target'}")
    print(f"worst ratio NumPy/torch: {worst:.2f}x (target <= {TARGET_RATIO}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
