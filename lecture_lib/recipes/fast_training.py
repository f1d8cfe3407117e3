"""The parts of a fast image-classification trainer, as the fastest public CIFAR-10 trainers build
them: the whole data set on the device, augmentation there in one gather per batch, a
warm-up-then-decay schedule, a running average of the weights, test-time flips.

Everything random is drawn on the CPU from one ``torch.Generator`` and then moved to the device,
so the same seed gives the same batches on any device and with any number of processes.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import check_int, check_scalar

TTA_LEVELS = {0: "none", 1: "flip", 2: "flip and 1-pixel shifts"}


class DeviceImages:
    """A labelled image set kept on ``device`` as uint8 (N, H, W, C): a quarter of float32's
    memory and traffic. Batches are gathered, augmented and normalized on the device."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, device, mean: torch.Tensor, std: torch.Tensor):
        self.images = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 2, 3, 1))).to(device)
        self.labels = torch.tensor(labels, dtype=torch.int64, device=device)
        self.mean = mean.to(device).view(1, -1, 1, 1)
        self.std = std.to(device).view(1, -1, 1, 1)

    def __len__(self) -> int:
        return len(self.labels)

    def normalize(self, nhwc: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, C) -> float32 (B, C, H, W) in channels_last memory, zero mean, unit std."""
        return (nhwc.permute(0, 3, 1, 2).float() - self.mean) / self.std

    def batch(self, index: torch.Tensor, flip: torch.Tensor, shift: torch.Tensor, translate: int) -> torch.Tensor:
        """Images ``index`` (B,), mirrored where ``flip`` (B,) and moved by ``shift`` (B, 2) pixels,
        in [-translate, translate], with reflected borders: one gather, no Python loop."""
        _, height, width, _ = self.images.shape
        rows = torch.arange(height, device=index.device) + shift[:, :1]
        cols = torch.arange(width, device=index.device)
        cols = torch.where(flip[:, None], width - 1 - cols, cols) + shift[:, 1:]  # shifted, then mirrored
        rows, cols = reflect(rows, height), reflect(cols, width)
        picked = self.images[index[:, None, None], rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
        return self.normalize(picked)


def reflect(positions: torch.Tensor, size: int) -> torch.Tensor:
    """Indices beyond either edge mirrored back inside (edge not repeated, like ``F.pad(mode='reflect')``)."""
    positions = positions.abs()
    return torch.where(positions > size - 1, 2 * (size - 1) - positions, positions)


def channel_statistics(images: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images (N, C, H, W), in float32."""
    flat = images.transpose(1, 0, 2, 3).reshape(images.shape[1], -1)
    mean = np.array([c.mean(dtype=np.float64) for c in flat])
    std = np.array([c.std(dtype=np.float64) for c in flat])
    return torch.tensor(mean, dtype=torch.float32), torch.tensor(np.maximum(std, 1e-3), dtype=torch.float32)


def epoch_plan(n: int, generator: torch.Generator, translate: int, flip: bool):
    """One epoch's randomness: the order of the ``n`` images, a mirror flag and a shift for each."""
    order = torch.randperm(n, generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    shifts = torch.randint(-translate, translate + 1, (n, 2), generator=generator)
    return order, flips, shifts


def lr_factor(step: int, total: int, warmup: float, decay_end: float, final: float) -> float:
    """The learning rate as a fraction of its peak: linear from 0 to 1 over the first ``warmup``
    of the ``total`` steps, linear down to ``final`` by ``decay_end`` of them, then flat."""
    position = step / max(total, 1)
    return float(np.interp(position, [0.0, warmup, decay_end, 1.0], [0.0, 1.0, final, final]))


class WeightAverage:
    """A running average of a model's weights (parameters and batch-norm statistics).

    An exponential moving average with decay ``decay`` per update, *debiased*: it starts empty
    rather than at the initial weights, so after k updates it is a proper weighted mean of the k
    weight vectors seen (weight of the newest ``(1 - decay) / (1 - decay**k)``), and short runs
    are not pulled back towards the random initialization. ``.model`` is the averaged copy."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = check_scalar(decay, "decay", min=0.0, max=1.0, max_inclusive=False)
        self.model = copy.deepcopy(model).eval()
        self.count = 0
        self._targets = [t for t in self.model.state_dict().values() if t.is_floating_point()]
        self._sources = [t for t in model.state_dict().values() if t.is_floating_point()]
        self._others = [(a, b) for a, b in zip(self.model.state_dict().values(), model.state_dict().values(),
                                               strict=True) if not a.is_floating_point()]

    @torch.no_grad()
    def update(self) -> None:
        self.count += 1
        weight = (1.0 - self.decay) / (1.0 - self.decay ** self.count)
        torch._foreach_lerp_(self._targets, self._sources, weight)
        for target, source in self._others:
            target.copy_(source)

    def state_dict(self) -> dict:
        return {"count": self.count, "weights": self.model.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.count = check_int(state["count"], "count", min=0)
        self.model.load_state_dict(state["weights"])


@torch.no_grad()
def predict(model: torch.nn.Module, data: DeviceImages, tta: int, amp: bool, batch_size: int = 1000,
            part: slice = slice(None)) -> torch.Tensor:
    """Float32 logits of ``model`` on ``data.images[part]``; ``tta`` 1 averages each image with its
    mirror image, 2 also with copies shifted by one pixel up-left and down-right."""
    was_training = model.training
    model.eval()
    out = []
    for chunk in data.images[part].split(batch_size):
        x = data.normalize(chunk)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            logits = view_average(model, x, tta >= 1)
            if tta >= 2:
                padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
                h, w = x.shape[-2:]
                shifted = [view_average(model, padded[..., d:d + h, d:d + w], True) for d in (0, 2)]
                logits = 0.5 * logits + 0.25 * (shifted[0] + shifted[1])
        out.append(logits.float())
    model.train(was_training)
    return torch.cat(out)


def view_average(model, x, mirror: bool):
    logits = model(x).float()
    return 0.5 * (logits + model(x.flip(-1)).float()) if mirror else logits
