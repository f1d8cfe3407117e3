"""Throughput of lecture_lib.augment: images per second of each augmentation, batched (one call for
the whole batch, what the course uses) against a per-image Python loop over the same function,
side by side with their ratio. Medians over repeats.

    python benchmarks/augment_throughput.py [--device cpu|cuda|mps] [--repeats N] [--threads N]

Sizes: CIFAR-like (256 images of 3 x 32 x 32) and ImageNet-like (32 images of 3 x 224 x 224).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lecture_lib import augment
from lecture_lib.config import choose_device

SIZES = {"32x32, batch 256": (256, 32), "224x224, batch 32": (32, 224)}
STRENGTH = 0.5


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds(fn, device, repeats):
    fn()                                             # warm-up (allocations, kernels)
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(images, device, repeats, generator) -> list[tuple[str, float, float]]:
    """(name, batched seconds, loop seconds) for each augmentation on ``images``."""
    n, side = len(images), min(images.shape[-2:])
    pca = augment.color_pca(images)                  # AlexNet's PCA is of the training set: computed once

    def call(name, x):
        kwargs = augment.parameters(name, STRENGTH, side)
        if name == "pca_color":
            kwargs["pca"] = pca
        return augment.FUNCTIONS[name](x, **kwargs, generator=generator)

    rows = []
    for name in augment.NAMES:
        batched = _seconds(lambda name=name: call(name, images), device, repeats)
        loop = _seconds(lambda name=name: [call(name, images[i:i + 1]) for i in range(n)], device,
                        max(1, repeats // 2))
        rows.append((name, batched, loop))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = choose_device(args.device)
    generator = torch.Generator().manual_seed(0)
    print(f"device {device}, {torch.get_num_threads()} CPU thread(s), strength {STRENGTH}, median of {args.repeats}")
    print(f"{'size':<18} {'augmentation':<20} {'batched img/s':>14} {'loop img/s':>12} {'batched / loop':>15}")
    for label, (n, side) in SIZES.items():
        images = torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(1)).to(device)
        for name, batched, loop in measure(images, device, args.repeats, generator):
            print(f"{label:<18} {name:<20} {n / batched:>14,.0f} {n / loop:>12,.0f} {loop / batched:>14.1f}x")


if __name__ == "__main__":
    main()
