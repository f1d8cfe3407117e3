"""CIFAR-10 in seconds on a GPU, the way the fastest public trainers do it, on one process or many.

    python -m lecture_lib.recipes.cifar10 --data PATH|synthetic --epochs E [--limit N] [--device D]
        [--arch NAME] [--json] [--checkpoint FILE] [--resume]
    torchrun --standalone --nproc_per_node=N -m lecture_lib.recipes.cifar10 ...

What makes it fast: the whole data set lives on the device as uint8 and each batch is gathered,
mirrored and shifted there in one step; channels_last memory (CPU and CUDA); bf16 autocast on CUDA;
optionally ``torch.compile``; nothing waits for the GPU inside an epoch but a NaN check every 25
steps. The network is the fast ResNet-9 of
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
import functools
import inspect
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from .. import cache as course_cache
from .. import data as datasets
from .. import models
from .._checks import check_bool, check_choice, check_int, check_positive_int
from ..train import History, TrainingDiverged
from . import checkpoint, distributed
from .fast_training import DeviceImages, channel_statistics
from .settings import FAST_ARCH, CifarRun, Hyperparameters
from .trainer import Trainer, now

TARGET_ACCURACY = 0.94  # the DAWNBench line
CACHE_NAME = "cifar10_recipe"
PRECISIONS = ("auto", "bf16", "fp32")


# --------------------------------------------------------------------------- data and model
def test_count(limit: int | None, available: int) -> int:
    """Test images used with ``--limit N``: N / 5 (at least 100), all of them without a limit."""
    return available if limit is None else min(available, max(100, limit // 5))


@functools.lru_cache(maxsize=2)
def synthetic_arrays(n_train: int, n_test: int) -> tuple:
    """The synthetic set, made once per process and size (read-only: runs share it)."""
    arrays = datasets.synthetic_cifar10(n_train, n_test, seed=0)
    for a in arrays:
        a.setflags(write=False)
    return arrays


def load_arrays(data, limit: int | None):
    """``(name, X_train, y_train, X_test, y_test)``: "synthetic" is made in code (as many images as
    CIFAR-10), anything else is a CIFAR-10 folder (None: ``$LECTURE_CIFAR10_DIR``)."""
    if data == "synthetic":
        if limit is not None and limit > 50000:
            raise ValueError(f"limit={limit} is not valid; expected at most the 50000 training images")
        return ("synthetic", *synthetic_arrays(50000 if limit is None else limit, test_count(limit, 10000)))
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


def build_model(arch: str, width: int | None, model_options: dict | None = None) -> torch.nn.Module:
    """``models.build(arch, num_classes=10, **model_options)`` (with ``width`` where the family
    takes one), checked on a 32x32 batch so that an unsuitable architecture fails here, with its name."""
    catalogue = models.architectures()
    check_choice(arch, "arch", sorted(catalogue))
    kwargs = {"num_classes": 10, **check_model_options(arch, model_options)}
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


def check_model_options(arch: str, model_options: dict | None) -> dict:
    """``model_options`` (keyword arguments of ``arch``'s builder, such as ``{"norm": False}``) as a
    dict, each one a parameter of the builder; ``num_classes`` and ``width`` have their own
    arguments. The arch must be known (see :func:`build_model`)."""
    if model_options is None:
        return {}
    if not isinstance(model_options, dict):
        raise TypeError(f"model_options={model_options!r} is not valid; expected a dict of keyword arguments")
    parameters = inspect.signature(models.architectures()[arch]).parameters
    for key, value in model_options.items():
        if key in ("num_classes", "width"):
            raise ValueError(f"model_options={model_options!r} is not valid: {key} has an argument of its own")
        if key not in parameters:
            raise ValueError(f"model option {key}={value!r} is not valid for arch={arch!r}: it has no {key} "
                             f"parameter (it has {', '.join(p for p in parameters if p != 'num_classes')})")
    return dict(model_options)


# --------------------------------------------------------------------------- the run
def train(data=None, *, epochs: int = 10, limit: int | None = None, device: str | None = None,
          arch: str = FAST_ARCH, width: int | None = None, model_options: dict | None = None, seed: int = 0,
          precision: str = "auto",
          compile: bool = False, hyper: Hyperparameters | None = None, checkpoint_path=None, resume: bool = False,
          progress: bool = True, callback=None, log=print, cache: bool = True) -> CifarRun:
    """Train on CIFAR-10 (``data``: a folder, "synthetic", or None for ``$LECTURE_CIFAR10_DIR``)
    and return the finished :class:`CifarRun`; rank 0 also stores it in the course's cache.

    ``model_options`` are more keyword arguments of the architecture's builder (``{"norm": False}``
    for a CIFAR ResNet without batch norm); ``hyper`` the hyperparameters (default
    ``Hyperparameters.for_arch(arch)``): both are part of the cache key.
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
        run = _train(cluster, data, epochs, limit, arch, width, model_options, seed, precision, compile, hyper,
                     checkpoint_path, resume, progress, callback, log, cache)
    except BaseException:
        distributed.stop(cluster, together=False)
        raise
    distributed.stop(cluster)
    return run


def experiment_config(data_name: str, epochs: int, limit, arch: str, width, seed: int, hyper: Hyperparameters,
                      model_options: dict | None = None) -> dict:
    """What defines the experiment (the cache key; a checkpoint must match it to be resumed).
    Device, precision, compilation and process count change the speed, not the experiment.
    A width left out is recorded as the architecture's default, so both spellings share a key; so
    are model options: those equal to the builder's defaults are left out, and with none left the
    configuration is that of the plain architecture."""
    factory = models.architectures().get(arch)
    parameters = inspect.signature(factory).parameters if factory is not None else {}
    if width is None and "width" in parameters:
        width = parameters["width"].default
    config = {"data": data_name, "epochs": epochs, "limit": limit, "arch": arch, "width": width, "seed": seed,
              "hyper": hyper.to_dict()}
    options = {k: v for k, v in (model_options or {}).items()
               if k not in parameters or parameters[k].default != v or type(parameters[k].default) is not type(v)}
    if options:
        config["model"] = dict(sorted(options.items()))
    return config


def cache_key(config: dict) -> str:
    """The cache key of a run's ``config``: the same in every profile. ``LECTURE_PROFILE`` sizes
    the notebooks' CPU experiments; a recipe run is defined by its configuration alone, so a run
    made from a shell is found by a notebook in either profile."""
    return course_cache.cache_key(CACHE_NAME, config, profile_bound=False)


def _train(cluster, data, epochs, limit, arch, width, model_options, seed, precision, compile, hyper,
           checkpoint_path, resume, progress, callback, log, cache) -> CifarRun:
    from tqdm.auto import tqdm

    dev = cluster.device
    amp = precision == "bf16" or (precision == "auto" and dev.type == "cuda")
    if amp and dev.type == "mps":
        raise ValueError("precision='bf16' is not offered on MPS; use --precision fp32")
    if hyper.batch_size % cluster.world_size:
        raise ValueError(f"batch_size={hyper.batch_size} does not split evenly over {cluster.world_size} processes")
    name, X_train, y_train, X_test, y_test = load_arrays(data, limit)
    if len(X_train) < hyper.batch_size:
        raise ValueError(f"batch_size={hyper.batch_size} is larger than the {len(X_train)} training images; "
                         "lower --batch-size or raise --limit")
    config = experiment_config(name, epochs, limit, arch, width, seed, hyper, model_options)
    torch.manual_seed(seed)
    net = build_model(arch, width, model_options).to(dev)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # time the conv algorithms once, keep the fastest
    mean, std = channel_statistics(X_train)
    trainer = Trainer(cluster, net, DeviceImages(X_train, y_train, dev, mean, std),
                      DeviceImages(X_test, y_test, dev, mean, std), hyper, epochs, seed, amp)

    state = checkpoint.load(checkpoint_path) if resume and Path(checkpoint_path).is_file() else None
    if state is not None:
        _check_resumable(state, config, cluster, checkpoint_path)
        average_state = trainer.load_state_dict(state)
        history, epoch_seconds = History(**state["history"]), list(state["epoch_seconds"])
        start_epoch, whitening_seconds = state["epoch"], state["whitening_seconds"]
    else:
        if resume and cluster.is_main:
            log(f"no checkpoint at {str(checkpoint_path)!r} yet: starting at epoch 1")
        average_state, history, epoch_seconds, start_epoch = None, History(), [], 0
        whitening_seconds = trainer.whiten()
    trainer.start(compile, average_state)

    for epoch in range(start_epoch + 1, epochs + 1):
        began = now(dev)
        with tqdm(total=trainer.steps, desc=f"epoch {epoch}/{epochs}", unit="step", leave=False,
                  disable=None if (progress and cluster.is_main) else True) as bar:
            train_loss, train_acc = trainer.train_epoch(epoch, bar)
        epoch_seconds.append(now(dev) - began)
        test_loss, test_acc = trainer.evaluate()
        for metric, value in (("train_loss", train_loss), ("train_acc", train_acc), ("val_loss", test_loss),
                              ("val_acc", test_acc), ("lr", hyper.lr * trainer.lr_factor(epoch * trainer.steps - 1))):
            getattr(history, metric).append(value)
        if checkpoint_path is not None:
            state = {"config": config, "world_size": cluster.world_size, "epoch": epoch, **trainer.state_dict(),
                     "history": dataclasses.asdict(history), "epoch_seconds": list(epoch_seconds),
                     "whitening_seconds": whitening_seconds}
            if cluster.is_main:
                checkpoint.save(checkpoint_path, state)
        if cluster.is_main:
            log(f"epoch {epoch:>3}/{epochs}  train loss {train_loss:.4f}  train acc {train_acc:.4f}  "
                f"test acc {test_acc:.4f}  lr {history.lr[-1]:.3g}  {epoch_seconds[-1]:.2f} s  "
                f"{trainer.steps * hyper.batch_size / epoch_seconds[-1]:,.0f} images/s")
        if callback is not None:
            callback(epoch, history)

    elapsed = np.cumsum(epoch_seconds) + whitening_seconds
    reached = history.epochs_to("val_acc", TARGET_ACCURACY)
    per_epoch = trainer.steps * hyper.batch_size
    run = CifarRun(
        config=config, history=history, accuracy=history.val_acc[-1],
        images_per_second=len(epoch_seconds) * per_epoch / max(sum(epoch_seconds), 1e-9), images_per_epoch=per_epoch,
        train_seconds=float(elapsed[-1]), epoch_seconds=tuple(epoch_seconds),
        time_to_target=None if reached is None else float(elapsed[reached - 1]), target=TARGET_ACCURACY,
        device=distributed.describe(dev), precision="bf16 autocast" if amp else "float32", compiled=compile,
        world_size=cluster.world_size, date=datetime.now(UTC).isoformat(timespec="seconds"),
        weights_checksum=distributed.weights_checksum(trainer.evaluated), model=trainer.evaluated)
    if cache and cluster.is_main:
        course_cache.save(cache_key(config), run.to_dict())
    return run


def _check_resumable(state: dict, config: dict, cluster, path) -> None:
    if state.get("config") != config:
        saved = state.get("config") or {}
        differ = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
        raise checkpoint.CheckpointError(
            f"checkpoint {str(path)!r} belongs to another run (it differs in {', '.join(differ)}); "
            "give a new --checkpoint file or the same settings")
    if state.get("world_size") != cluster.world_size:
        raise checkpoint.CheckpointError(
            f"checkpoint {str(path)!r} was written by {state.get('world_size')} process(es); resume it with as many")


def cached_run(data=None, *, epochs: int = 10, limit: int | None = None, arch: str = FAST_ARCH,
               width: int | None = None, model_options: dict | None = None, seed: int = 0,
               hyper: Hyperparameters | None = None, device: str | None = None, progress: bool = True,
               log=print) -> CifarRun:
    """The cached :class:`CifarRun` of this experiment when one exists (from any device: its
    ``device`` and ``date`` say where and when it was measured), else a fresh run, then cached.
    A cached run has no ``model``."""
    if course_cache.enabled():
        hit = cached_result(data, epochs=epochs, limit=limit, arch=arch, width=width, model_options=model_options,
                            seed=seed, hyper=hyper)
        if hit is not None:
            return hit
    return train(data, epochs=epochs, limit=limit, arch=arch, width=width, model_options=model_options, seed=seed,
                 hyper=hyper, device=device, progress=progress, log=log)


def cached_result(data=None, *, epochs: int = 10, limit: int | None = None, arch: str = FAST_ARCH,
                  width: int | None = None, model_options: dict | None = None, seed: int = 0,
                  hyper: Hyperparameters | None = None) -> CifarRun | None:
    """The cached :class:`CifarRun` of this experiment, or None: nothing is trained. ``data`` is
    "synthetic" or anything else for CIFAR-10 (a folder, "cifar10" or None)."""
    hyper = hyper if hyper is not None else Hyperparameters.for_arch(arch)
    name = "synthetic" if data == "synthetic" else "cifar10"
    hit = course_cache.load(cache_key(experiment_config(name, epochs, limit, arch, width, seed, hyper, model_options)))
    return None if hit is None else CifarRun.from_dict(hit)


# --------------------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lecture_lib.recipes.cifar10",
        description="Train on CIFAR-10 (or a synthetic stand-in) with the fast recipe; "
                    "run it under torchrun for several processes.")
    p.add_argument("--data", metavar="PATH|synthetic",
                   help=f"a CIFAR-10 folder (binary version) or 'synthetic'; default ${datasets.CIFAR10_ENV}")
    p.add_argument("--epochs", type=int, default=10, metavar="E", help="epochs (default 10)")
    p.add_argument("--limit", type=int, metavar="N", help="use the first N training images (and N/5 test images)")
    p.add_argument("--device", metavar="D", help="cpu, cuda or mps; default the best one present")
    p.add_argument("--arch", default=FAST_ARCH, metavar="NAME", help="a model of lecture_lib.models")
    p.add_argument("--width", type=int, metavar="W", help="channel width, for models that have one (fast_resnet9: 64)")
    p.add_argument("--batch-size", type=int, metavar="B", help="images per step, all processes together (default 512)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 1.0 for fast_resnet9, else 0.4)")
    p.add_argument("--tta", type=int, choices=(0, 1, 2), help="test-time augmentation: 0 none, 1 mirror, "
                                                             "2 mirror and shifts (default 1)")
    p.add_argument("--seed", type=int, default=0, help="model initialization and data order (default 0)")
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
