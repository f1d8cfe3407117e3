"""One run of the recipe's training loop: the optimizer and its schedule, an epoch of steps on the
device, the weight average, evaluation, and the state a checkpoint holds.

One step: gather and augment a batch on the device, forward under bf16 autocast (on CUDA), label-
smoothed cross-entropy, backward, Nesterov SGD, the schedule, every few steps the weight average.
Nothing waits for the GPU inside an epoch except a look at the loss every ``CHECK_EVERY`` steps.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from ..train import TrainingDiverged
from .distributed import Cluster
from .fast_training import DeviceImages, WeightAverage, epoch_plan, lr_factor, predict
from .settings import Hyperparameters

CHECK_EVERY = 25  # steps between looks at the loss for NaN (each look waits for the GPU)
NORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.GroupNorm, nn.LayerNorm,
              nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)


def param_groups(net: nn.Module, hyper: Hyperparameters) -> list[dict]:
    """SGD groups: normalization biases learn ``bias_lr_scale`` times faster, with the weight decay
    divided by the same factor (so the decay per step is unchanged); everything else plainly."""
    norm_biases = {id(m.bias) for m in net.modules() if isinstance(m, NORM_TYPES) and m.bias is not None}
    trainable = [p for p in net.parameters() if p.requires_grad]
    boosted = [p for p in trainable if id(p) in norm_biases] if hyper.bias_lr_scale != 1 else []
    plain = [p for p in trainable if id(p) not in {id(q) for q in boosted}]
    groups = [{"params": plain, "lr": hyper.lr, "weight_decay": hyper.weight_decay}]
    if boosted:
        groups.append({"params": boosted, "lr": hyper.lr * hyper.bias_lr_scale,
                       "weight_decay": hyper.weight_decay / hyper.bias_lr_scale})
    return groups


def now(device: torch.device) -> float:
    """A clock reading once the device has finished its queued work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


class Trainer:
    """``net`` trained on ``train_set`` for ``epochs`` epochs by this process of ``cluster``.
    ``model`` is what the steps call: ``net``, wrapped in DDP under torchrun, compiled on request."""

    def __init__(self, cluster: Cluster, net: nn.Module, train_set: DeviceImages, test_set: DeviceImages,
                 hyper: Hyperparameters, epochs: int, seed: int, amp: bool):
        self.cluster, self.net, self.model = cluster, net, net
        self.train_set, self.test_set, self.hyper, self.amp = train_set, test_set, hyper, amp
        self.device = cluster.device
        self.channels_last = self.device.type != "mps"  # NHWC: what cuDNN's tensor cores and oneDNN prefer
        if self.channels_last:
            net.to(memory_format=torch.channels_last)
        self.local = hyper.batch_size // cluster.world_size  # this process's share of a batch
        self.steps = len(train_set) // hyper.batch_size
        self.total_steps = epochs * self.steps
        self.optimizer = torch.optim.SGD(param_groups(net, hyper), lr=hyper.lr, momentum=hyper.momentum,
                                         nesterov=True)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self.lr_factor)
        self.generator = torch.Generator().manual_seed(seed)  # the data order and augmentation, on every rank
        self.average: WeightAverage | None = None

    def lr_factor(self, step: int) -> float:
        h = self.hyper
        return lr_factor(step, self.total_steps, h.warmup, h.decay_end, h.final_lr)

    # ----------------------------------------------------------------- before the first step
    def whiten(self) -> float:
        """Fit the model's patch-whitening layer, if it has one; the seconds it took."""
        if not callable(getattr(self.net, "init_whitening", None)):
            return 0.0
        began = now(self.device)
        self.net.init_whitening(self.train_set.normalize(self.train_set.images[:self.hyper.whiten_images]))
        return now(self.device) - began

    def start(self, compile: bool, average_state: dict | None = None) -> None:
        """Begin the weight average (from ``average_state`` when resuming), wrap ``net`` in DDP
        when there are several processes, compile on request."""
        if self.hyper.ema_epochs > 0:
            per_step = 1.0 - 1.0 / max(self.hyper.ema_epochs * self.steps, 1.0)
            self.average = WeightAverage(self.net, per_step ** self.hyper.ema_every)
            if average_state is not None:
                self.average.load_state_dict(average_state)
        if self.cluster.distributed:  # buffers are pooled once per epoch (Cluster.average_buffers)
            self.model = nn.parallel.DistributedDataParallel(
                self.net, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                forward_sync_buffers=False, gradient_as_bucket_view=True)
        if compile:
            self.model = torch.compile(self.model)

    @property
    def evaluated(self) -> nn.Module:
        """The weights that are evaluated and returned: the average, or the trained ones."""
        return self.average.model if self.average is not None else self.net

    # ----------------------------------------------------------------- one epoch
    def train_epoch(self, epoch: int, bar) -> tuple[float, float]:
        """Train one epoch; the mean training loss and accuracy over all processes."""
        dev, h, rank = self.device, self.hyper, self.cluster.rank
        order, flips, shifts = (t.to(dev, non_blocking=True) for t in
                                epoch_plan(len(self.train_set), self.generator, h.translate, h.flip))
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev, dtype=torch.long)
        first_bad = torch.full((), self.total_steps, device=dev, dtype=torch.long)  # no bad step yet
        bad_loss = torch.zeros((), device=dev)
        self.model.train()
        for step in range(self.steps):
            global_step = (epoch - 1) * self.steps + step
            start = step * h.batch_size + rank * self.local
            index = order[start:start + self.local]
            x = self.train_set.batch(index, flips[start:start + self.local], shifts[start:start + self.local],
                                     h.translate)
            y = self.train_set.labels[index]
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=self.amp):
                logits = self.model(x if self.channels_last else x.contiguous())
            loss = F.cross_entropy(logits.float(), y, label_smoothing=h.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.schedule.step()
            if self.average is not None and (global_step + 1) % h.ema_every == 0:
                self.average.update()
            loss = loss.detach()
            newly_bad = ~torch.isfinite(loss) & (first_bad == self.total_steps)  # on the device: no waiting
            bad_loss = torch.where(newly_bad, loss, bad_loss)
            first_bad.masked_fill_(newly_bad, global_step)
            loss_sum += loss * len(y)
            correct += (logits.argmax(1) == y).sum()
            bar.update()
            if (step + 1) % CHECK_EVERY == 0 or step + 1 == self.steps:
                self._stop_if_diverged(first_bad, bad_loss)
        if self.average is not None and epoch * self.steps % h.ema_every:
            self.average.update()  # the epoch's last weights count too (a short run may have no other update)
        totals = self.cluster.all_sum(torch.stack([loss_sum, correct.to(loss_sum.dtype)]))
        seen = self.steps * h.batch_size
        self.cluster.average_buffers(self.net)
        if self.average is not None:
            self.cluster.average_buffers(self.average.model)
        return float(totals[0]) / seen, float(totals[1]) / seen

    def _stop_if_diverged(self, first_bad: torch.Tensor, bad_loss: torch.Tensor) -> None:
        """Raise TrainingDiverged on every process at once when any met a non-finite loss."""
        step = int(self.cluster.all_min(first_bad.clone()))
        if step == self.total_steps:
            return
        value = float(bad_loss) if int(first_bad) == step else float("nan")  # another process's value
        lr = self.hyper.lr * self.lr_factor(step)
        raise TrainingDiverged(f"loss became {value} at epoch {step // self.steps + 1}, step {step % self.steps + 1} "
                               f"(lr={lr:g}); lower the learning rate (--lr) or check the data")

    def evaluate(self) -> tuple[float, float]:
        """Test loss and accuracy of the evaluated weights (each process scores its share)."""
        n = len(self.test_set)
        share = math.ceil(n / self.cluster.world_size)
        part = slice(self.cluster.rank * share, min(n, (self.cluster.rank + 1) * share))
        logits = predict(self.evaluated, self.test_set, self.hyper.tta, self.amp, part=part)
        labels = self.test_set.labels[part]
        sums = torch.stack([F.cross_entropy(logits, labels, reduction="sum"),
                            (logits.argmax(1) == labels).sum().float()])
        sums = self.cluster.all_sum(sums)
        return float(sums[0]) / n, float(sums[1]) / n

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Weights, average, optimizer, schedule and every random state (the data generator,
        and torch's own on each process): collective, every process must call it."""
        cuda = self.device.type == "cuda"
        return {
            "model": self.net.state_dict(),
            "average": self.average.state_dict() if self.average is not None else None,
            "optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict(),
            "rng": {"data": self.generator.get_state(), "torch": self.cluster.gather(torch.get_rng_state()),
                    "cuda": self.cluster.gather(torch.cuda.get_rng_state(self.device)) if cuda else None}}

    def load_state_dict(self, state: dict) -> dict | None:
        """Restore what :meth:`state_dict` saved, before :meth:`start`; returns the average's state."""
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.generator.set_state(state["rng"]["data"])
        torch.set_rng_state(state["rng"]["torch"][self.cluster.rank])
        if state["rng"]["cuda"] is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"][self.cluster.rank], self.device)
        return state["average"]
