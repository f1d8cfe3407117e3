"""Throughput of the CIFAR-10 recipe (training images per second) and, with the real data, the time
to 94 % test accuracy, on the device at hand: one line per run, then medians and ratios.

    python benchmarks/train_cifar.py                       # this machine's device, its default size
    python benchmarks/train_cifar.py --data PATH --repeat 3             # CIFAR-10: time to 94 %
    python benchmarks/train_cifar.py --precision bf16 fp32 --compile off on   # every combination

Sizes by device unless given: on a CPU a tiny configuration (width 16, 2048 synthetic images,
batches of 128, 2 epochs); on a GPU the real one (width 64, the whole set, batches of 512; 3
epochs on synthetic data, 10 on CIFAR-10). "steady" images/s leave out the first epoch, which
also pays for cuDNN's autotuning and torch.compile's compilation. On a GPU one short warm-up run
comes first and is not reported.
"""

from __future__ import annotations

import argparse
import itertools
import statistics

import torch

from lecture_lib.recipes import cifar10
from lecture_lib.recipes.distributed import resolve_device
from lecture_lib.recipes.settings import Hyperparameters


def steady_rate(run) -> float | None:
    """Images per second over the epochs after the first (None for a one-epoch run)."""
    later = run.epoch_seconds[1:]
    return len(later) * run.images_per_epoch / sum(later) if later else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="synthetic", help="'synthetic' or a CIFAR-10 folder")
    parser.add_argument("--device", help="cpu, cuda or mps (default: the best one present)")
    parser.add_argument("--arch", default="fast_resnet9")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--width", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--precision", nargs="+", choices=("bf16", "fp32"),
                        help="default: bf16 and fp32 on CUDA, fp32 elsewhere")
    parser.add_argument("--compile", nargs="+", choices=("off", "on"), default=["off"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat={args.repeat} must be at least 1")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device)
    except ValueError as err:
        parser.error(str(err))
    gpu = device.type == "cuda"
    synthetic = args.data == "synthetic"
    epochs = args.epochs or ((3 if synthetic else 10) if gpu else 2)
    limit = args.limit if args.limit is not None else (None if gpu else 2048)
    width = args.width or (None if gpu else 16)
    batch = args.batch_size or (512 if gpu else 128)
    precisions = args.precision or (["bf16", "fp32"] if gpu else ["fp32"])
    hyper = Hyperparameters.for_arch(args.arch, batch_size=batch)
    common = dict(epochs=epochs, limit=limit, device=str(device), arch=args.arch, width=width, hyper=hyper,
                  progress=False, log=lambda line: None, cache=False)
    if gpu:  # CUDA context, cuDNN handles, allocator: paid once, before anything is timed
        cifar10.train(args.data, **{**common, "epochs": 1, "limit": 4 * batch})

    results = {}
    for repeat, precision, compiled in itertools.product(range(args.repeat), precisions, args.compile):
        run = cifar10.train(args.data, precision=precision, compile=compiled == "on", **common)
        results.setdefault((precision, compiled), []).append(run)
        steady = steady_rate(run)
        reached = (f"  {run.target:.0%} after {run.time_to_target:.1f} s" if run.time_to_target is not None
                   else f"  {run.target:.0%} not reached" if not synthetic else "")
        print(f"run {repeat + 1}  {run.device}  {args.arch} width {width or 'default'}  {run.precision:13s} "
              f"compile {compiled:3s}  {run.config['data']} {len(run.epoch_seconds)} epochs x "
              f"{run.images_per_epoch} images  "
              f"{run.images_per_second:9,.0f} images/s"
              + (f" (steady {steady:,.0f})" if steady else "")
              + f"  first epoch {run.epoch_seconds[0]:.2f} s  accuracy {run.accuracy:.4f}{reached}", flush=True)

    base_key = next(iter(results))
    base = statistics.median(r.images_per_second for r in results[base_key])
    for (precision, compiled), runs in results.items():
        median = statistics.median(r.images_per_second for r in runs)
        line = f"median over {len(runs)}: {precision} compile {compiled}: {median:,.0f} images/s"
        if len(results) > 1:
            line += f", {median / base:.2f}x {base_key[0]} compile {base_key[1]}"
        times = [r.time_to_target for r in runs if r.time_to_target is not None]
        if not synthetic:
            line += (f"; {runs[0].target:.0%} reached in {len(times)} of {len(runs)} runs"
                     + (f", median time {statistics.median(times):.1f} s" if times else ""))
        print(line)


if __name__ == "__main__":
    main()
