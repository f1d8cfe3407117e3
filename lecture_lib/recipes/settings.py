"""What a CIFAR-10 recipe run is made of: its hyperparameters, and the frozen record of a finished
run (what the notebooks show and the cache keeps)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .._checks import check_bool, check_choice, check_int, check_positive, check_positive_int, check_scalar
from ..train import History
from .fast_training import TTA_LEVELS

FAST_ARCH = "fast_resnet9"


@dataclass(frozen=True)
class Hyperparameters:
    """The recipe's knobs. The defaults are those of the fast ResNet-9 (``fast_resnet9``), after
    the final DAWNBench configuration of Page's "How to train your ResNet" (reported there: 94.1 %
    in 10 epochs, with ghost batch norm and shifts of up to 4 pixels; here batch norm over the
    whole batch and shifts of up to 2 pixels): batch-norm scales frozen at 1, their biases
    learning ``bias_lr_scale`` times faster.

    - ``lr`` is the peak learning rate of the *mean* loss over a batch of ``batch_size`` images
      (all processes together); SGD with Nesterov momentum ``momentum``, coupled L2
      ``weight_decay`` (torch's convention);
    - the schedule rises linearly from 0 to ``lr`` over the first ``warmup`` of the steps, falls
      linearly to ``final_lr * lr`` at ``decay_end`` of them, and stays there;
    - ``ema_epochs`` is the time scale, in epochs, of the weight average that is evaluated
      (0: evaluate the trained weights themselves); it is updated every ``ema_every`` steps and
      after the last step of each epoch;
    - augmentation: random mirror (``flip``) and shifts of up to ``translate`` pixels;
      ``tta``: test-time augmentation level (0 none, 1 mirror, 2 mirror and 1-pixel shifts);
    - ``whiten_images``: how many training images fit the patch-whitening layer, when the model
      has one."""

    batch_size: int = 512
    lr: float = 1.0
    momentum: float = 0.9
    weight_decay: float = 5e-4
    bias_lr_scale: float = 64.0
    label_smoothing: float = 0.2
    warmup: float = 0.2
    decay_end: float = 0.8
    final_lr: float = 0.1
    ema_epochs: float = 1.0
    ema_every: int = 5
    flip: bool = True
    translate: int = 2
    tta: int = 1
    whiten_images: int = 10000

    def __post_init__(self):
        check_positive_int(self.batch_size, "batch_size", max=65536)
        check_positive(self.lr, "lr")
        check_scalar(self.momentum, "momentum", min=0.0, max=1.0, max_inclusive=False)
        check_scalar(self.weight_decay, "weight_decay", min=0.0)
        check_positive(self.bias_lr_scale, "bias_lr_scale")
        check_scalar(self.label_smoothing, "label_smoothing", min=0.0, max=1.0, max_inclusive=False)
        check_scalar(self.warmup, "warmup", min=0.0, max=1.0)
        check_scalar(self.decay_end, "decay_end", min=self.warmup, max=1.0)
        check_scalar(self.final_lr, "final_lr", min=0.0, max=1.0)
        check_scalar(self.ema_epochs, "ema_epochs", min=0.0)
        check_positive_int(self.ema_every, "ema_every")
        check_bool(self.flip, "flip")
        check_int(self.translate, "translate", min=0, max=8)
        check_choice(self.tta, "tta", tuple(TTA_LEVELS))
        check_positive_int(self.whiten_images, "whiten_images")

    @classmethod
    def for_arch(cls, arch: str, **changes) -> Hyperparameters:
        """The defaults for ``arch``: the fast ResNet-9's own, or for any other model (whose
        batch-norm scales learn) Page's baseline ResNet values: peak lr 0.4, no bias boost."""
        base = cls() if arch == FAST_ARCH else cls(lr=0.4, bias_lr_scale=1.0)
        return dataclasses.replace(base, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CifarRun:
    """A finished run: what was trained (``config``: the cache key), how it went epoch by epoch
    (``history``: ``val_*`` hold the *test-set* loss and accuracy of the evaluated weights),
    where and when it was measured."""

    config: dict
    history: History
    accuracy: float  # final test accuracy (with test-time augmentation)
    images_per_second: float  # training images per second, all processes together
    images_per_epoch: int  # steps per epoch x batch size (an incomplete last batch is left out)
    train_seconds: float  # training time (patch whitening included, evaluation excluded)
    epoch_seconds: tuple
    time_to_target: float | None  # training seconds until the test accuracy first reached `target`
    target: float
    device: str
    precision: str
    compiled: bool
    world_size: int
    date: str  # ISO 8601, UTC
    weights_checksum: str
    model: object = field(default=None, compare=False, repr=False)  # the evaluated model (not cached)

    @property
    def network(self) -> str:
        """The architecture with its model options: ``resnet20 (norm=False)``."""
        options = ", ".join(f"{k}={v!r}" for k, v in self.config.get("model", {}).items())
        return f"{self.config['arch']} ({options})" if options else self.config["arch"]

    def summary(self) -> str:
        reached = (f"{self.target:.0%} after {self.time_to_target:.1f} s" if self.time_to_target is not None
                   else f"{self.target:.0%} not reached")
        return (f"{self.network} on {self.config['data']}: test accuracy {self.accuracy:.4f} after "
                f"{self.history.epochs} epochs, {self.train_seconds:.1f} s ({reached}), "
                f"{self.images_per_second:,.0f} images/s on {self.device} x{self.world_size}, {self.precision}, "
                f"measured {self.date}")

    def to_dict(self) -> dict:
        """JSON values only (the cache's format)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}
        out["history"] = dataclasses.asdict(self.history)
        out["epoch_seconds"] = list(self.epoch_seconds)
        return out

    @classmethod
    def from_dict(cls, values: dict) -> CifarRun:
        values = dict(values)
        values["history"] = History(**values["history"])
        values["epoch_seconds"] = tuple(values["epoch_seconds"])
        return cls(**values)
