"""CIFAR-10 in seconds on a GPU, the way the fastest public trainers do it, on one process or many.

    python -m lecture_lib.recipes.cifar10 --data PATH|synthetic --epochs E [--limit N] [--device D]
        [--arch NAME] [--json] [--checkpoint FILE] [--resume]
    torchrun --standalone --nproc_per_node=N -m lecture_lib.recipes.cifar10 ...

What makes it fast: the whole data set lives on the device as uint8 and each batch is gathered,
mirrored and shifted there in one step; the forward pass runs under bf16 autocast on CUDA with
channels_last memory; optionally ``torch.compile``; the network is the fast ResNet-9 of
:mod:`lecture_lib.models.fast_cifar` (any model of :func:`lecture_lib.models.architectures` by
``--arch``), trained with Nesterov SGD (warm-up, then linear decay), label smoothing and a running
average of the weights, and evaluated with test-time mirroring.

Under torchrun every process trains on its shard of each batch (DistributedDataParallel: NCCL
between GPUs, gloo between CPU processes); rank 0 logs and writes checkpoints; all end with the
same weights. A finished run's history goes to the course's cache (:mod:`lecture_lib.cache`), so a
notebook can show it without retraining: :func:`cached_run`.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import math
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .. import cache as course_cache
from .. import data as datasets
from .. import models
from .._checks import check_bool, check_choice, check_int, check_positive_int
from ..train import History, TrainingDiverged
from . import checkpoint, distributed
from .fast_training import DeviceImages, WeightAverage, channel_statistics, epoch_plan, lr_factor, predict
from .settings import FAST_ARCH, CifarRun, Hyperparameters

TARGET_ACCURACY = 0.94  # the DAWNBench line
CACHE_NAME = "cifar10_recipe"
PRECISIONS = ("auto", "bf16", "fp32")
CHECK_EVERY = 25  # steps between looks at the loss for NaN (each look waits for the GPU)
NORM_TYPES = (torch.nn.modules.batchnorm._NormBase, torch.nn.GroupNorm, torch.nn.LayerNorm)


# --------------------------------------------------------------------------- data and model
def test_count(limit: int | None, available: int) -> int:
    """Test images used with ``--limit N``: N / 5 (at least 100), all of them without a limit."""
    return available if limit is None else min(available, max(100, limit // 5))


def load_arrays(data, limit: int | None):
    """``(name, X_train, y_train, X_test, y_test)``: "synthetic" is made in code, anything else
    is a CIFAR-10 folder (None: ``$LECTURE_CIFAR10_DIR``)."""
    if data == "synthetic":
        n_train = 50000 if limit is None else limit
        return ("synthetic", *datasets.synthetic_cifar10(n_train, test_count(limit, 10000), seed=0))
    if data is None and not os.environ.get(datasets.CIFAR10_ENV):
        raise datasets.DatasetError(f"no data given: pass --data PATH (a CIFAR-10 folder) or --data synthetic, "
                                    f"or set {datasets.CIFAR10_ENV} to a CIFAR-10 folder")
    X_train, y_train, X_test, y_test = datasets.load_cifar10(data)
    if limit is not None:
        if limit > len(X_train):
            raise ValueError(f"limit={limit} is not valid; expected at most the {len(X_train)} training images")
        k = test_count(limit, len(X_test))
        X_train, y_train, X_test, y_test = X_train[:limit], y_train[:limit], X_test[:k], y_test[:k]
    return "cifar10", X_train, y_train, X_test, y_test


def build_model(arch: str, width: int | None) -> torch.nn.Module:
    """``models.build(arch, num_classes=10)`` (with ``width`` where the family takes one), checked
    on a 32x32 batch so that an unsuitable architecture fails here, with its name."""
    catalogue = models.architectures()
    check_choice(arch, "arch", sorted(catalogue))
    kwargs = {"num_classes": 10}
    if width is not None:
        if "width" not in inspect.signature(catalogue[arch]).parameters:
            raise ValueError(f"width={width} is not valid for arch={arch!r}: it has no width parameter")
        kwargs["width"] = check_positive_int(width, "width", max=1024)
    model = catalogue[arch](**kwargs)
    try:
        with torch.no_grad():
            out = model.eval()(torch.zeros(2, 3, 32, 32))
    except RuntimeError as err:
        raise ValueError(f"arch={arch!r} does not take 32x32 CIFAR-10 images: {str(err).splitlines()[0]}") from None
    if tuple(out.shape) != (2, 10):
        raise ValueError(f"arch={arch!r} gives outputs of shape {tuple(out.shape)[1:]} per image; expected 10 scores")
    return model.train()


def param_groups(net: torch.nn.Module, hyper: Hyperparameters) -> list[dict]:
    """SGD groups: normalization biases learn ``bias_lr_scale`` times faster, with the weight decay
    divided by the same factor (so the decay per step is unchanged); everything else plainly."""
    norm_biases = {id(m.bias) for m in net.modules() if isinstance(m, NORM_TYPES) and m.bias is not None}
    trainable = [p for p in net.parameters() if p.requires_grad]
    boosted = [p for p in trainable if id(p) in norm_biases] if hyper.bias_lr_scale != 1 else []
    plain = [p for p in trainable if not any(p is q for q in boosted)]
    groups = [{"params": plain, "lr": hyper.lr, "weight_decay": hyper.weight_decay}]
    if boosted:
        groups.append({"params": boosted, "lr": hyper.lr * hyper.bias_lr_scale,
                       "weight_decay": hyper.weight_decay / hyper.bias_lr_scale})
    return groups


# --------------------------------------------------------------------------- the run
def train(data=None, *, epochs: int = 10, limit: int | None = None, device: str | None = None,
          arch: str = FAST_ARCH, width: int | None = None, seed: int = 0, precision: str = "auto",
          compile: bool = False, hyper: Hyperparameters | None = None, checkpoint_path=None, resume: bool = False,
          progress: bool = True, callback=None, log=print, cache: bool = True) -> CifarRun:
    """Train on CIFAR-10 (``data``: a folder, "synthetic", or None for ``$LECTURE_CIFAR10_DIR``)
    and return the finished :class:`CifarRun`; rank 0 also stores it in the course's cache.

    ``limit`` takes the first N training images (and N / 5 test images); ``precision`` "auto" is
    bf16 autocast on CUDA and float32 elsewhere; ``checkpoint_path`` is written after every epoch,
    and with ``resume`` the run continues from it when it exists; ``callback(epoch, history)`` is
    called after each epoch; ``log`` prints rank 0's line per epoch."""
    epochs = check_positive_int(epochs, "epochs", max=10_000)
    limit = None if limit is None else check_positive_int(limit, "limit", max=1_000_000)
    seed = check_int(seed, "seed", min=0)
    check_choice(precision, "precision", PRECISIONS)
    compile, resume, progress = (check_bool(v, n) for v, n in ((compile, "compile"), (resume, "resume"),
                                                                (progress, "progress")))
    if resume and checkpoint_path is None:
        raise ValueError("resume=True needs a checkpoint file to resume from (--checkpoint FILE)")
    hyper = hyper if hyper is not None else Hyperparameters.for_arch(arch)
    if not isinstance(hyper, Hyperparameters):
        raise TypeError(f"hyper={hyper!r} is not valid; expected a Hyperparameters")
    cluster = distributed.start(device)
    try:
        return _train(cluster, data, epochs, limit, arch, width, seed, precision, compile, hyper,
                      checkpoint_path, resume, progress, callback, log, cache)
    finally:
        distributed.stop(cluster)


def experiment_config(data_name: str, epochs: int, limit, arch: str, width, seed: int, hyper: Hyperparameters) -> dict:
    """What defines the experiment (the cache key; a checkpoint must match it to be resumed).
    Device, precision, compilation and process count change the speed, not the experiment."""
    return {"data": data_name, "epochs": epochs, "limit": limit, "arch": arch, "width": width, "seed": seed,
            "hyper": hyper.to_dict()}


def _train(cluster, data, epochs, limit, arch, width, seed, precision, compile, hyper, checkpoint_path,
           resume, progress, callback, log, cache) -> CifarRun:
    from tqdm.auto import tqdm

    dev = cluster.device
    amp = precision == "bf16" or (precision == "auto" and dev.type == "cuda")
    if amp and dev.type == "mps":
        raise ValueError("precision='bf16' is not offered on MPS; use --precision fp32")
    if hyper.batch_size % cluster.world_size:
        raise ValueError(f"batch_size={hyper.batch_size} does not split evenly over {cluster.world_size} processes")
    name, X_train, y_train, X_test, y_test = load_arrays(data, limit)
    steps = len(X_train) // hyper.batch_size
    if steps == 0:
        raise ValueError(f"batch_size={hyper.batch_size} is larger than the {len(X_train)} training images; "
                         "lower --batch-size or raise --limit")
    config = experiment_config(name, epochs, limit, arch, width, seed, hyper)
    torch.manual_seed(seed)
    net = build_model(arch, width).to(dev)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        net = net.to(memory_format=torch.channels_last)
    mean, std = channel_statistics(X_train)
    train_set = DeviceImages(X_train, y_train, dev, mean, std)
    test_set = DeviceImages(X_test, y_test, dev, mean, std)
    optimizer = torch.optim.SGD(param_groups(net, hyper), lr=hyper.lr, momentum=hyper.momentum, nesterov=True)
    total_steps = epochs * steps
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(
        step, total_steps, hyper.warmup, hyper.decay_end, hyper.final_lr))
    generator = torch.Generator().manual_seed(seed)
    history, epoch_seconds, start_epoch, whitening_seconds = History(), [], 0, 0.0

    state = checkpoint.load(checkpoint_path) if resume and Path(checkpoint_path).is_file() else None
    if state is not None:
        _restore(state, config, cluster, net, optimizer, schedule, generator, checkpoint_path)
        history, epoch_seconds, start_epoch = History(**state["history"]), list(state["epoch_seconds"]), state["epoch"]
        whitening_seconds = state["whitening_seconds"]
    else:
        if resume and cluster.is_main:
            log(f"no checkpoint at {str(checkpoint_path)!r} yet: starting at epoch 1")
        if callable(getattr(net, "init_whitening", None)):
            began = _now(dev)
            net.init_whitening(train_set.normalize(train_set.images[:hyper.whiten_images]))
            whitening_seconds = _now(dev) - began
    average = None
    if hyper.ema_epochs > 0:
        per_step = 1.0 - 1.0 / max(hyper.ema_epochs * steps, 1.0)
        average = WeightAverage(net, per_step ** hyper.ema_every)
        if state is not None:
            average.load_state_dict(state["average"])

    model = net
    if cluster.distributed:
        model = torch.nn.parallel.DistributedDataParallel(
            net, device_ids=[dev.index] if dev.type == "cuda" else None, forward_sync_buffers=False,
            gradient_as_bucket_view=True)
    if compile:
        model = torch.compile(model)
    evaluated = average.model if average is not None else net
    local = hyper.batch_size // cluster.world_size
    n_test = len(test_set)
    test_share = math.ceil(n_test / cluster.world_size)
    test_part = slice(cluster.rank * test_share, min(n_test, (cluster.rank + 1) * test_share))

    for epoch in range(start_epoch + 1, epochs + 1):
        began = _now(dev)
        order, flips, shifts = (t.to(dev, non_blocking=True) for t in
                                epoch_plan(len(train_set), generator, hyper.translate, hyper.flip))
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev, dtype=torch.long)
        first_bad = torch.full((), total_steps + 1, device=dev, dtype=torch.long)
        bad_loss = torch.zeros((), device=dev)
        bar = tqdm(total=steps, desc=f"epoch {epoch}/{epochs}", unit="step", leave=False,
                   disable=None if (progress and cluster.is_main) else True)
        model.train()
        for step in range(steps):
            global_step = (epoch - 1) * steps + step
            start = step * hyper.batch_size + cluster.rank * local
            index = order[start:start + local]
            x = train_set.batch(index, flips[start:start + local], shifts[start:start + local], hyper.translate)
            y = train_set.labels[index]
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(x if dev.type == "cuda" else x.contiguous())
            loss = F.cross_entropy(logits.float(), y, label_smoothing=hyper.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if average is not None and (global_step + 1) % hyper.ema_every == 0:
                average.update()
            loss = loss.detach()
            newly_bad = ~torch.isfinite(loss) & (first_bad > total_steps)
            bad_loss = torch.where(newly_bad, loss, bad_loss)
            first_bad.masked_fill_(newly_bad, global_step)
            loss_sum += loss * len(y)
            correct += (logits.argmax(1) == y).sum()
            bar.update()
            if (step + 1) % CHECK_EVERY == 0 or step + 1 == steps:
                _stop_if_diverged(cluster, first_bad, bad_loss, total_steps, steps, hyper)
        bar.close()
        epoch_seconds.append(_now(dev) - began)
        cluster.average_buffers(net)
        if average is not None:
            cluster.average_buffers(average.model)
        totals = cluster.all_sum(torch.stack([loss_sum, correct.to(loss_sum.dtype)]))
        seen = steps * hyper.batch_size
        test_loss, test_acc = _evaluate(evaluated, test_set, test_part, hyper.tta, amp, cluster)
        history.train_loss.append(float(totals[0]) / seen)
        history.train_acc.append(float(totals[1]) / seen)
        history.val_loss.append(test_loss)
        history.val_acc.append(test_acc)
        history.lr.append(hyper.lr * lr_factor(epoch * steps - 1, total_steps, hyper.warmup, hyper.decay_end,
                                               hyper.final_lr))
        if checkpoint_path is not None:
            _save(checkpoint_path, config, cluster, epoch, net, average, optimizer, schedule, generator,
                  history, epoch_seconds, whitening_seconds)
        if cluster.is_main:
            log(f"epoch {epoch:>3}/{epochs}  train loss {history.train_loss[-1]:.4f}  "
                f"train acc {history.train_acc[-1]:.4f}  test acc {test_acc:.4f}  lr {history.lr[-1]:.3g}  "
                f"{epoch_seconds[-1]:.2f} s  {seen / epoch_seconds[-1]:,.0f} images/s")
        if callback is not None:
            callback(epoch, history)

    train_seconds = whitening_seconds + sum(epoch_seconds)
    elapsed = np.cumsum(epoch_seconds) + whitening_seconds
    reached = history.epochs_to("val_acc", TARGET_ACCURACY)
    run = CifarRun(
        config=config, history=history, accuracy=history.val_acc[-1],
        images_per_second=len(epoch_seconds) * steps * hyper.batch_size / max(sum(epoch_seconds), 1e-9),
        train_seconds=train_seconds, epoch_seconds=tuple(epoch_seconds),
        time_to_target=None if reached is None else float(elapsed[reached - 1]), target=TARGET_ACCURACY,
        device=distributed.describe(dev), precision="bf16 autocast" if amp else "float32", compiled=compile,
        world_size=cluster.world_size, date=datetime.now(UTC).isoformat(timespec="seconds"),
        weights_checksum=distributed.weights_checksum(evaluated), model=evaluated)
    if cache and cluster.is_main:
        course_cache.save(course_cache.cache_key(CACHE_NAME, config), run.to_dict())
    return run


def _now(dev) -> float:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return time.perf_counter()


def _stop_if_diverged(cluster, first_bad, bad_loss, total_steps, steps, hyper) -> None:
    """Raise TrainingDiverged on every process at once when any met a non-finite loss."""
    step = int(cluster.all_min(first_bad.clone()))
    if step > total_steps:
        return
    lr = hyper.lr * lr_factor(step, total_steps, hyper.warmup, hyper.decay_end, hyper.final_lr)
    value = float(bad_loss) if int(first_bad) == step else float("nan")
    raise TrainingDiverged(f"loss became {value} at epoch {step // steps + 1}, step {step % steps + 1} "
                           f"(lr={lr:g}); lower the learning rate (--lr) or check the data")


def _evaluate(model, test_set, part, tta, amp, cluster) -> tuple[float, float]:
    logits = predict(model, test_set, tta, amp, part=part)
    labels = test_set.labels[part]
    sums = torch.stack([F.cross_entropy(logits, labels, reduction="sum"), (logits.argmax(1) == labels).sum().float()])
    sums = cluster.all_sum(sums)
    return float(sums[0]) / len(test_set), float(sums[1]) / len(test_set)


def _save(path, config, cluster, epoch, net, average, optimizer, schedule, generator, history, epoch_seconds,
          whitening_seconds) -> None:
    dev = cluster.device
    rng = {"data": generator.get_state(), "torch": cluster.gather(torch.get_rng_state()),
           "cuda": cluster.gather(torch.cuda.get_rng_state(dev)) if dev.type == "cuda" else None}
    if not cluster.is_main:  # every process joins the gathers above; rank 0 writes
        return
    checkpoint.save(path, {
        "config": config, "world_size": cluster.world_size, "epoch": epoch,
        "model": net.state_dict(), "average": average.state_dict() if average is not None else None,
        "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "rng": rng,
        "history": dataclasses.asdict(history), "epoch_seconds": list(epoch_seconds),
        "whitening_seconds": whitening_seconds})


def _restore(state, config, cluster, net, optimizer, schedule, generator, path) -> None:
    if state.get("config") != config:
        saved = state.get("config") or {}
        differ = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
        raise checkpoint.CheckpointError(
            f"checkpoint {str(path)!r} belongs to another run (it differs in {', '.join(differ)}); "
            "give a new --checkpoint file or the same settings")
    if state["world_size"] != cluster.world_size:
        raise checkpoint.CheckpointError(
            f"checkpoint {str(path)!r} was written by {state['world_size']} process(es); resume it with as many")
    net.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    generator.set_state(state["rng"]["data"])
    torch.set_rng_state(state["rng"]["torch"][cluster.rank])
    if state["rng"]["cuda"] is not None and cluster.device.type == "cuda":
        torch.cuda.set_rng_state(state["rng"]["cuda"][cluster.rank], cluster.device)


def cached_run(data=None, *, epochs: int = 10, limit: int | None = None, arch: str = FAST_ARCH,
               width: int | None = None, seed: int = 0, hyper: Hyperparameters | None = None,
               device: str | None = None, progress: bool = True) -> CifarRun:
    """The cached :class:`CifarRun` of this experiment when one exists (from any device: its
    ``device`` and ``date`` say where and when it was measured), else a fresh run, then cached.
    A cached run has no ``model``."""
    hyper = hyper if hyper is not None else Hyperparameters.for_arch(arch)
    name = "synthetic" if data == "synthetic" else "cifar10"
    key = course_cache.cache_key(CACHE_NAME, experiment_config(name, epochs, limit, arch, width, seed, hyper))
    if os.environ.get("LECTURE_CACHE", "on").lower() != "off":
        hit = course_cache.load(key)
        if hit is not None:
            return CifarRun.from_dict(hit)
    return train(data, epochs=epochs, limit=limit, arch=arch, width=width, seed=seed, hyper=hyper, device=device,
                 progress=progress)


# --------------------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lecture_lib.recipes.cifar10",
        description="Train on CIFAR-10 (or a synthetic stand-in) with the fast recipe; "
                    "run it under torchrun for several processes.")
    p.add_argument("--data", metavar="PATH|synthetic",
                   help=f"a CIFAR-10 folder (binary version) or 'synthetic'; default ${datasets.CIFAR10_ENV}")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--limit", type=int, metavar="N", help="use the first N training images (and N/5 test images)")
    p.add_argument("--device", metavar="D", help="cpu, cuda or mps; default the best one present")
    p.add_argument("--arch", default=FAST_ARCH, metavar="NAME", help="a model of lecture_lib.models")
    p.add_argument("--width", type=int, help="channel width, for models that have one (fast_resnet9: 64)")
    p.add_argument("--batch-size", type=int, help="images per step, all processes together (default 512)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 1.0 for fast_resnet9, else 0.4)")
    p.add_argument("--tta", type=int, choices=(0, 1, 2), help="test-time augmentation: 0 none, 1 mirror, "
                                                             "2 mirror and shifts (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=PRECISIONS, default="auto", help="auto: bf16 autocast on CUDA only")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--json", action="store_true", help="end with one JSON line per process")
    p.add_argument("--checkpoint", metavar="FILE", help="written atomically after every epoch (rank 0)")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint when it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.resume and args.checkpoint is None:
        p.error("--resume needs --checkpoint FILE")
    changes = {k: v for k, v in (("batch_size", args.batch_size), ("lr", args.lr), ("tta", args.tta)) if v is not None}
    out = sys.stderr if args.json else sys.stdout
    try:
        hyper = Hyperparameters.for_arch(args.arch, **changes)
        run = train(args.data, epochs=args.epochs, limit=args.limit, device=args.device, arch=args.arch,
                    width=args.width, seed=args.seed, precision=args.precision, compile=args.compile, hyper=hyper,
                    checkpoint_path=args.checkpoint, resume=args.resume, progress=not args.no_progress,
                    log=lambda line: print(line, file=out, flush=True))
    except TrainingDiverged as err:
        print(f"{p.prog}: training stopped: {err}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError) as err:  # bad arguments, missing or corrupt data or checkpoint
        print(f"{p.prog}: error: {err}", file=sys.stderr)
        return 2
    rank = int(os.environ.get("RANK", "0"))
    if rank == 0:
        print(run.summary(), file=out, flush=True)
    if args.json:
        print(json.dumps({
            "rank": rank, "world_size": run.world_size, "accuracy": run.accuracy,
            "images_per_second": run.images_per_second, "weights_checksum": run.weights_checksum,
            "train_seconds": run.train_seconds, "time_to_target": run.time_to_target, "target": run.target,
            "epochs": run.history.epochs, "arch": run.config["arch"], "data": run.config["data"],
            "limit": run.config["limit"], "device": run.device, "precision": run.precision,
            "compiled": run.compiled, "date": run.date}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
