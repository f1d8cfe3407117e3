"""Batch norm's two backward passes: the staged one (one elementary gate at a time,
``layers.batchnorm_backward_staged``) against the simplified closed form
(``layers.batchnorm_backward``), and both against torch's autograd through ``F.batch_norm`` on the
CPU. One thread each; prints the medians and the ratios, and checks that the gradients agree.

    python benchmarks/batchnorm_backward.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from lecture_lib import layers
from lecture_lib.config import single_thread
from lecture_lib.gradcheck import rel_error

SIZES = ((64, 64), (256, 256), (1024, 512), (4096, 1024))  # (N, D)


def median_ms(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    if args.repeats <= 0:
        parser.error(f"--repeats={args.repeats} must be positive")
    rng = np.random.default_rng(0)
    print(f"{'N x D':>12} {'staged ms':>10} {'simplified ms':>14} {'torch ms':>9} "
          f"{'staged/simpl.':>14} {'simpl./torch':>13} {'rel. error':>11}")
    with single_thread():
        torch.set_num_threads(1)
        for n, d in SIZES:
            x = rng.normal(1.0, 2.0, (n, d))
            gamma, beta, dout = rng.normal(1, 0.2, d), rng.normal(0, 0.2, d), rng.standard_normal((n, d))
            _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
            staged = median_ms(lambda c=cache, g=dout: layers.batchnorm_backward_staged(g, c), args.repeats)
            simple = median_ms(lambda c=cache, g=dout: layers.batchnorm_backward(g, c), args.repeats)
            xt = torch.tensor(x, requires_grad=True)
            gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
            out = F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
            upstream = torch.from_numpy(dout)

            def torch_backward(out=out, upstream=upstream, inputs=(xt, gt, bt)):
                return torch.autograd.grad(out, inputs, upstream, retain_graph=True)

            reference = torch_backward()[0].numpy()
            torch_ms = median_ms(torch_backward, args.repeats)
            err = max(rel_error(layers.batchnorm_backward_staged(dout, cache)[0], reference),
                      rel_error(layers.batchnorm_backward(dout, cache)[0], reference))
            print(f"{f'{n} x {d}':>12} {staged:>10.3f} {simple:>14.3f} {torch_ms:>9.3f} "
                  f"{staged / simple:>13.2f}x {simple / torch_ms:>12.2f}x {err:>11.1e}")
            if err > 1e-8:
                print(f"  the backward passes disagree with torch at {n} x {d}: {err:.1e}")
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
