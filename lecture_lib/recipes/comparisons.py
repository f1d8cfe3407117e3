"""The CIFAR-10 comparisons that notebooks 05, 06 and 07 show: each a few runs of the recipe
(:mod:`lecture_lib.recipes.cifar10`) that differ in one thing, trained on a GPU by

    python -m lecture_lib.recipes.comparisons NAME [--data PATH] [--epochs E] [--device D]

and read back by a notebook without training: ``comparisons.cached(NAME)``.

- ``batchnorm`` (05): ResNet-20 without batch norm, with batch norm at the same learning rate, and
  with batch norm at the recipe's rate, 20x higher (as Ioffe and Szegedy set "BN-Baseline" and
  "BN-x5" against Inception): how many fewer steps to the accuracy the network without batch norm
  reaches at best (their "14 times fewer");
- ``augmentation`` (06): the recipe's fast ResNet-9 trained with random flips and 2-pixel shifts,
  and without any augmentation;
- ``degradation`` (07): plain-20 and plain-56 against ResNet-20 and ResNet-56: training error
  epoch by epoch, the ResNet paper's figure 6.

Every run is an ordinary recipe run in the course's cache (keyed by its configuration), so a run
that is already there is not trained again, and the comparison records which settings it was
last run with, so a notebook finds a run made with ``--epochs 40`` as well as the default.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from .. import cache as course_cache
from .. import data as datasets
from .._checks import check_choice, check_int, check_positive_int
from ..train import TrainingDiverged
from . import cifar10, distributed
from .settings import FAST_ARCH, CifarRun, Hyperparameters

INDEX_NAME = "cifar10_comparison"  # cache entries recording the settings of each comparison's latest run
DATA_NAMES = ("cifar10", "synthetic")
CHANCE = 0.1  # ten classes
LEARNED = 2 * CHANCE  # a reference run whose best test accuracy stays below this did not learn


# --------------------------------------------------------------------------- what is compared
@dataclass(frozen=True)
class Variant:
    """One run of a comparison: a label, an architecture of :mod:`lecture_lib.models` with
    keyword arguments for its builder, and changes to the recipe's hyperparameters for it."""

    label: str
    arch: str
    model_options: dict = field(default_factory=dict)
    hyper_changes: dict = field(default_factory=dict)

    def hyper(self, batch_size: int | None = None) -> Hyperparameters:
        changes = dict(self.hyper_changes)
        if batch_size is not None:
            changes["batch_size"] = batch_size
        return Hyperparameters.for_arch(self.arch, **changes)


@dataclass(frozen=True)
class Definition:
    """A named comparison: its variants (the first is the reference the others are measured
    against), the epochs each is trained for by default, the notebook that shows it and the
    quantity its figure plots (``"test accuracy"`` or ``"training error"``), with a thinner
    ``companion`` curve (``"training accuracy"``, ``"test error"`` or None)."""

    name: str
    notebook: str
    question: str
    variants: tuple
    epochs: int
    metric: str
    companion: str | None = None

    @property
    def labels(self) -> tuple:
        return tuple(v.label for v in self.variants)

    def command(self, data: str = "$LECTURE_CIFAR10_DIR") -> str:
        return f"python -m lecture_lib.recipes.comparisons {self.name} --data {data}"


# The rate of the network without batch norm. It needs a small one: at 0.08 its first steps shrink
# every activation until it stalls at chance (seen on the synthetic set); at 0.02 it learns. With
# batch norm the recipe's own rate, 20x higher, trains ResNet-20 well.
BN_LR = 0.02
BN_FAST_LR = Hyperparameters.for_arch("resnet20").lr

COMPARISONS = {d.name: d for d in (
    Definition(
        "batchnorm", "05_batchnorm",
        "Does batch norm reach the accuracy of the same network without it in far fewer steps?",
        (Variant(f"no BN, lr {BN_LR:g}", "resnet20", {"norm": False}, {"lr": BN_LR}),
         Variant(f"BN, lr {BN_LR:g}", "resnet20", {}, {"lr": BN_LR}),
         Variant(f"BN, lr {BN_FAST_LR:g} ({BN_FAST_LR / BN_LR:.0f}x)", "resnet20", {}, {"lr": BN_FAST_LR})),
        epochs=30, metric="test accuracy"),
    Definition(
        "augmentation", "06_regularization",
        "How much test accuracy do random flips and shifts add on photographs?",
        (Variant("no augmentation", FAST_ARCH, {}, {"flip": False, "translate": 0}),
         Variant("flip + translate 2 px", FAST_ARCH, {}, {"flip": True, "translate": 2})),
        epochs=10, metric="test accuracy", companion="training accuracy"),
    Definition(
        "degradation", "07_cnn_architectures",
        "Does a deeper plain network train worse, and do shortcuts cure it?",
        (Variant("plain-20", "plain20"), Variant("plain-56", "plain56"),
         Variant("ResNet-20", "resnet20"), Variant("ResNet-56", "resnet56")),
        epochs=30, metric="training error", companion="test error"),
)}


def definition(name: str) -> Definition:
    check_choice(name, "name", tuple(COMPARISONS))
    return COMPARISONS[name]


# --------------------------------------------------------------------------- settings of a run
@dataclass(frozen=True)
class Settings:
    """How a comparison is run: ``epochs`` (None: the comparison's own), the first ``limit``
    training images (None: all), a channel ``width`` for every variant and a ``batch_size`` (None:
    each architecture's own; smaller values are for quick checks), and the ``seed``."""

    epochs: int | None = None
    limit: int | None = None
    width: int | None = None
    batch_size: int | None = None
    seed: int = 0

    def __post_init__(self):
        for name in ("epochs", "limit", "width", "batch_size"):
            value = getattr(self, name)
            if value is not None:
                check_positive_int(value, name)
        check_int(self.seed, "seed", min=0)

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "limit": self.limit, "width": self.width, "batch_size": self.batch_size,
                "seed": self.seed}


def _recipe_arguments(d: Definition, variant: Variant, settings: Settings) -> dict:
    return dict(epochs=settings.epochs or d.epochs, limit=settings.limit, arch=variant.arch, width=settings.width,
                model_options=variant.model_options or None, seed=settings.seed,
                hyper=variant.hyper(settings.batch_size))


def _index_key(name: str, data_name: str) -> str:
    return course_cache.cache_key(INDEX_NAME, {"comparison": name, "data": data_name}, profile_bound=False)


def _data_name(data) -> str:
    return "synthetic" if data == "synthetic" else "cifar10"


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class Comparison:
    """The finished runs of a comparison, one per variant in the definition's order, each with
    the device and date it was measured on."""

    definition: Definition
    data: str
    settings: Settings
    runs: tuple

    @property
    def labels(self) -> tuple:
        return self.definition.labels

    def run_of(self, label: str) -> CifarRun:
        check_choice(label, "label", self.labels)
        return self.runs[self.labels.index(label)]

    # per variant, one value per epoch
    def epochs(self, label: str) -> np.ndarray:
        return np.arange(1, self.run_of(label).history.epochs + 1)

    def elapsed(self, label: str) -> np.ndarray:
        """Training seconds at the end of each epoch (the whitening of the fast net included)."""
        run = self.run_of(label)
        return np.cumsum(run.epoch_seconds) + (run.train_seconds - sum(run.epoch_seconds))

    def values(self, label: str, quantity: str) -> np.ndarray:
        """``"test accuracy"``, ``"training accuracy"``, ``"test error"`` or ``"training error"``
        (training figures are those of the epoch's augmented batches, in training mode)."""
        check_choice(quantity, "quantity", ("test accuracy", "training accuracy", "test error", "training error"))
        history = self.run_of(label).history
        accuracy = np.asarray(history.val_acc if quantity.startswith("test") else history.train_acc, dtype=float)
        return accuracy if quantity.endswith("accuracy") else 1.0 - accuracy

    def steps_per_epoch(self, label: str) -> int:
        run = self.run_of(label)
        return run.images_per_epoch // run.config["hyper"]["batch_size"]

    def epochs_to(self, label: str, accuracy: float) -> int | None:
        """The first epoch after which the test accuracy was at least ``accuracy`` (None: never)."""
        reached = np.flatnonzero(self.values(label, "test accuracy") >= accuracy)
        return int(reached[0]) + 1 if reached.size else None

    def steps_to(self, label: str, accuracy: float) -> int | None:
        epoch = self.epochs_to(label, accuracy)
        return None if epoch is None else epoch * self.steps_per_epoch(label)

    # where and when
    @property
    def devices(self) -> tuple:
        return tuple(run.device for run in self.runs)

    @property
    def dates(self) -> tuple:
        return tuple(run.date[:10] for run in self.runs)

    @property
    def same_device(self) -> bool:
        return len(set(self.devices)) == 1

    @property
    def where(self) -> str:
        """``"NVIDIA H200, 2026-11-30"``; per variant where the runs were made on different devices or days."""
        if self.same_device and len(set(self.dates)) == 1:
            return f"{self.devices[0]}, {self.dates[0]}"
        dates = sorted(set(self.dates))
        span = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
        return f"{' / '.join(sorted(set(self.devices)))}, {span}"

    @property
    def data_text(self) -> str:
        name = "CIFAR-10" if self.data == "cifar10" else "synthetic CIFAR-shaped data"
        limit = self.runs[0].config["limit"]
        return name if limit is None else f"the first {limit:,} training images of {name}"

    def finding(self) -> str:
        """What the runs show, in one or two sentences computed from them."""
        return FINDINGS[self.definition.name](self)

    def title(self) -> str:
        """The figure's title: what to see."""
        return TITLES[self.definition.name](self)


# --------------------------------------------------------------------------- what the runs show
def batchnorm_target(c: Comparison) -> float:
    """The accuracy BN must reach: the best test accuracy of the network without it."""
    return float(c.values(c.labels[0], "test accuracy").max())


def batchnorm_speedups(c: Comparison) -> dict:
    """For each variant with batch norm: how many times fewer steps than the network without it
    to that network's best test accuracy (None: never reached)."""
    target = batchnorm_target(c)
    reference = c.steps_to(c.labels[0], target)
    return {label: (None if c.steps_to(label, target) is None else reference / c.steps_to(label, target))
            for label in c.labels[1:]}


def fewer_steps(speedup: float) -> str:
    """``3.1x fewer steps``, or for a ratio below 1 ``1.5x more steps``."""
    return f"{speedup:.1f}x fewer steps" if speedup >= 1 else f"{1 / speedup:.1f}x more steps"


def _batchnorm_finding(c: Comparison) -> str:
    from ..experiments.batchnorm.training import PAPER_SPEEDUP  # the paper's figure (its module loads the digits' nets)

    target, reference = batchnorm_target(c), c.labels[0]
    finals = ", ".join(f"{label} {c.run_of(label).accuracy:.1%}" for label in c.labels)
    if target < LEARNED:
        return (f"On {c.data_text} ({c.where}), ResNet-20 without batch norm ({reference}) did not learn: its best "
                f"test accuracy was {target:.1%} (chance: {CHANCE:.0%}), so there is no accuracy to race to. "
                f"Final test accuracy: {finals}.")
    parts = []
    for label, speedup in batchnorm_speedups(c).items():
        if speedup is None:
            parts.append(f"with {label} it never did in {len(c.epochs(label))} epochs "
                         f"(best {c.values(label, 'test accuracy').max():.1%})")
        else:
            parts.append(f"with {label} after epoch {c.epochs_to(label, target)}, {fewer_steps(speedup)}")
    return (f"On {c.data_text} ({c.where}), ResNet-20 without batch norm ({reference}) reached its best test "
            f"accuracy, {target:.1%}, after epoch {c.epochs_to(reference, target)} of "
            f"{len(c.epochs(reference))}; the same network reached it " + "; ".join(parts)
            + f" (Ioffe and Szegedy report {PAPER_SPEEDUP:.0f}x fewer for Inception on ImageNet). "
            f"Final test accuracy: {finals}.")


def _batchnorm_title(c: Comparison) -> str:
    if batchnorm_target(c) < LEARNED:
        return "Without batch norm the network did not learn at this rate"
    reached = {k: v for k, v in batchnorm_speedups(c).items() if v is not None}
    if not reached:
        return "Batch norm never reaches the best accuracy of the network without it"
    label = max(reached, key=reached.get)
    return f"{label}: the no-BN net's best accuracy in {fewer_steps(reached[label])}"


def _augmentation_finding(c: Comparison) -> str:
    none, aug = c.labels
    gap = {k: c.values(k, "training accuracy")[-1] - c.run_of(k).accuracy for k in c.labels}
    change = c.run_of(aug).accuracy - c.run_of(none).accuracy
    closer = ("without augmentation the network fits its training images more closely than it generalizes"
              if gap[none] > gap[aug] else "augmentation does not narrow that gap here")
    return (f"On {c.data_text} ({c.where}), after {len(c.epochs(aug))} epochs of the fast ResNet-9, "
            f"{aug} gave {c.run_of(aug).accuracy:.1%} test accuracy and {none} {c.run_of(none).accuracy:.1%} "
            f"({100 * change:+.1f} points). Training accuracy in the last epoch exceeded the test accuracy by "
            f"{100 * gap[none]:.1f} points without augmentation and by {100 * gap[aug]:.1f} with it: {closer}.")


def _augmentation_title(c: Comparison) -> str:
    none, aug = c.labels
    change = c.run_of(aug).accuracy - c.run_of(none).accuracy
    return f"Flips and shifts change the test accuracy by {100 * change:+.1f} points"


def _final_training_error(c: Comparison, label: str) -> float:
    return float(c.values(label, "training error")[-1])


def _degradation_finding(c: Comparison) -> str:
    err = {k: _final_training_error(c, k) for k in c.labels}
    test = {k: 1 - c.run_of(k).accuracy for k in c.labels}

    def versus(shallow, deep):
        word = "higher" if err[deep] > err[shallow] else "lower"
        return (f"{deep} ends with a {word} training error than {shallow}, {err[deep]:.1%} against "
                f"{err[shallow]:.1%} (test error {test[deep]:.1%} against {test[shallow]:.1%})")

    plain20, plain56, res20, res56 = c.labels
    return (f"On {c.data_text} ({c.where}), after {len(c.epochs(plain20))} epochs: {versus(plain20, plain56)}; "
            f"{versus(res20, res56)}.")


def _degradation_title(c: Comparison) -> str:
    plain20, plain56, res20, res56 = c.labels
    err = {k: _final_training_error(c, k) for k in c.labels}
    plain = "trains worse" if err[plain56] > err[plain20] else "does not train worse"
    residual = "does not" if err[res56] <= err[res20] else "does too"
    return f"Deeper plain net {plain}; the deeper ResNet {residual}"


FINDINGS = {"batchnorm": _batchnorm_finding, "augmentation": _augmentation_finding,
            "degradation": _degradation_finding}
TITLES = {"batchnorm": _batchnorm_title, "augmentation": _augmentation_title, "degradation": _degradation_title}


# --------------------------------------------------------------------------- cached, run
def cached(name: str, *, data: str = "cifar10", epochs: int | None = None, limit: int | None = None,
           width: int | None = None, batch_size: int | None = None, seed: int = 0) -> Comparison | None:
    """The comparison ``name`` from the course's cache, or None unless every variant's run is
    there: nothing is trained. ``data`` is "cifar10" or "synthetic".

    With no setting given (as the notebooks call it) the settings are those of the latest
    :func:`run` of this comparison on this data, so a run made with ``--epochs 40`` is found;
    with any setting given, exactly those settings (the others at their defaults)."""
    d = definition(name)
    check_choice(data, "data", DATA_NAMES)
    settings = Settings(epochs, limit, width, batch_size, seed)
    if settings == Settings():
        latest = course_cache.load(_index_key(name, data))
        if latest is not None:
            try:
                settings = Settings(**latest)
            except (TypeError, ValueError):  # an entry of another version: the defaults
                settings = Settings()
    runs = []
    for variant in d.variants:
        run = cifar10.cached_result(data, **_recipe_arguments(d, variant, settings))
        if run is None:
            return None
        runs.append(run)
    return Comparison(d, data, settings, tuple(runs))


def run(name: str, data=None, *, epochs: int | None = None, limit: int | None = None, width: int | None = None,
        batch_size: int | None = None, seed: int = 0, device: str | None = None, progress: bool = True,
        log=print) -> Comparison:
    """Train the variants of comparison ``name`` that are not in the cache yet, through the
    recipe (each run is cached as it finishes), and return the whole comparison. ``data`` is a
    CIFAR-10 folder, "synthetic", or None for ``$LECTURE_CIFAR10_DIR``; ``epochs`` None: the
    comparison's own."""
    d = definition(name)
    settings = Settings(epochs, limit, width, batch_size, seed)
    arguments = [_recipe_arguments(d, variant, settings) for variant in d.variants]
    hits = [cifar10.cached_result(data, **a) if course_cache.enabled() else None for a in arguments]
    if any(hit is None for hit in hits):  # a bad device or folder fails here, before any training
        distributed.resolve_device(device, int(os.environ.get("LOCAL_RANK", "0")))
        cifar10.load_arrays(data, settings.limit)
    runs = []
    for i, (variant, args, hit) in enumerate(zip(d.variants, arguments, hits, strict=True), 1):
        if hit is not None:
            log(f"[{i}/{len(d.variants)}] {variant.label}: in the cache (measured on {hit.device}, {hit.date})")
            runs.append(hit)
            continue
        log(f"[{i}/{len(d.variants)}] {variant.label}: training {args['arch']} for {args['epochs']} epochs")
        try:
            runs.append(cifar10.train(data, device=device, progress=progress, log=log, **args))
        except TrainingDiverged as err:
            raise TrainingDiverged(f"{name}, variant {variant.label!r}: {err}") from None
    if int(os.environ.get("RANK", "0")) == 0:
        course_cache.save(_index_key(name, _data_name(data)), settings.to_dict())
    return Comparison(d, _data_name(data), settings, tuple(runs))


def how_to_run(name: str) -> str:
    """Markdown for a notebook where the comparison has not been run: what it is and the exact
    command, with what this machine lacks for it."""
    import torch

    d = definition(name)
    folder = os.environ.get(datasets.CIFAR10_ENV)
    has_gpu = torch.cuda.is_available()
    here = []
    if not has_gpu:
        here.append("no CUDA GPU")
    if not folder:
        here.append(f"`{datasets.CIFAR10_ENV}` is not set")
    machine = (f"This machine has {' and '.join(here)}." if here else
               f"This machine has a GPU and `{datasets.CIFAR10_ENV}` is set: the command can run here.")
    runs = "\n".join(f"- {v.label} (`{v.arch}`)" for v in d.variants)
    return (f"**CIFAR-10 on a GPU: not run here yet.** {d.question} On CIFAR-10 that is {len(d.variants)} runs "
            f"of the course's recipe, {d.epochs} epochs each:\n\n{runs}\n\n"
            f"No result of them is in this machine's cache (`{course_cache.cache_dir()}`). {machine} "
            f"On a machine with a GPU and CIFAR-10 (the binary version: set `{datasets.CIFAR10_ENV}` to its "
            f"folder, `cifar-10-batches-bin`), from the repository root:\n\n"
            f"```\n{d.command()}\n```\n\n"
            "then run this cell again (or copy the cache folder's `cifar10_*` files to this machine). The verdicts "
            "above come from the CPU experiments either way.")


# --------------------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {d.name:<13} ({d.notebook}) {d.question}\n"
                        + "\n".join(f"{'':16}- {v.label}" for v in d.variants) for d in COMPARISONS.values())
    p = argparse.ArgumentParser(
        prog="python -m lecture_lib.recipes.comparisons",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train the runs of one of the notebooks' CIFAR-10 comparisons that are not cached yet; "
                    "the notebook then shows them.",
        epilog=f"comparisons:\n{listing}")
    p.add_argument("name", metavar="NAME", choices=tuple(COMPARISONS), help=", ".join(COMPARISONS))
    p.add_argument("--data", metavar="PATH|synthetic",
                   help=f"a CIFAR-10 folder (binary version) or 'synthetic'; default ${datasets.CIFAR10_ENV}")
    p.add_argument("--epochs", type=int, metavar="E", help="epochs of every run (default: the comparison's own)")
    p.add_argument("--limit", type=int, metavar="N", help="use the first N training images (and N/5 test images)")
    p.add_argument("--device", metavar="D", help="cpu, cuda or mps; default the best one present")
    p.add_argument("--width", type=int, metavar="W", help="channel width of every network (default: its own)")
    p.add_argument("--batch-size", type=int, metavar="B", help="images per step (default: the recipe's 512)")
    p.add_argument("--seed", type=int, default=0, help="model initialization and data order (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        comparison = run(args.name, args.data, epochs=args.epochs, limit=args.limit, width=args.width,
                         batch_size=args.batch_size, seed=args.seed, device=args.device,
                         progress=not args.no_progress, log=lambda line: print(line, flush=True))
    except TrainingDiverged as err:
        print(f"{p.prog}: training stopped: {err}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError) as err:  # bad arguments, missing or corrupt data
        print(f"{p.prog}: error: {err}", file=sys.stderr)
        return 2
    for run_ in comparison.runs:
        print(run_.summary())
    print(comparison.finding())
    print(f"cached in {course_cache.cache_dir()}; {comparison.definition.notebook} shows it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
