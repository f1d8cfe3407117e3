"""Residual networks with stochastic depth (Huang, Sun, Liu, Sedra and Weinberger, 2016).

The CIFAR ResNets of He et al. (depth 6n + 2: a 3x3 stem, three stages of n basic blocks with 16, 32
and 64 channels, strides 1, 2, 2, option-A shortcuts, global average pooling, one linear layer),
where block l of L survives a training mini-batch with probability

    p_l = 1 - (l / L) (1 - p_L)          (linear decay from 1 at the input to p_L at the output)

A dropped block is skipped, forward and backward: its output is its shortcut, passed through the
ReLU that follows the addition. At test time every block runs, its residual branch multiplied by
``p_l``, the branch's expected contribution during training. ``survival_last=1`` is the plain
ResNet, with the same layers and the same initial weights for the same ``seed``.
``model.scale_at_test(False)`` leaves the test-time scaling out (to measure what it is worth).

    model = stochastic_depth_resnet(depth=110, survival_last=0.5)   # the paper's CIFAR network
    model.expected_blocks()      # 40.25 of 54 blocks run in a mini-batch on average
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_int, check_positive_int, check_probability

__all__ = ["stochastic_depth_resnet", "stochastic_depth_resnet110"]


def survival_probabilities(n_blocks: int, survival_last: float) -> list[float]:
    """The linear-decay rule: ``p_l = 1 - l / L * (1 - p_L)`` for l = 1 .. L."""
    n_blocks = check_positive_int(n_blocks, "n_blocks")
    survival_last = check_probability(survival_last, "survival_last", allow_zero=False)
    return [1 - (l / n_blocks) * (1 - survival_last) for l in range(1, n_blocks + 1)]


class StochasticBlock(nn.Module):
    """A basic residual block (conv3x3-BN-ReLU-conv3x3-BN, added to the shortcut, then ReLU) that
    survives a training mini-batch with probability ``survival``. ``survived`` records the last
    training draw (None before the first)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, survival: float,
                 generator: torch.Generator):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.stride, self.extra = stride, out_channels - in_channels
        self.survival = float(survival)
        self.generator = generator
        self.survived: bool | None = None
        self.scale_at_test = True

    def shortcut(self, x):
        """Option A: subsample by the stride and pad the new channels with zeros (no parameters)."""
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.extra:
            x = F.pad(x, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
        return x

    def branch(self, x):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def draw(self) -> bool:
        """Draw whether the block survives this mini-batch (recorded in ``survived``)."""
        self.survived = bool(torch.rand((), generator=self.generator) < self.survival)
        return self.survived

    def forward(self, x):
        if self.training:
            if not self.draw():
                return F.relu(self.shortcut(x))           # skipped: no compute, no gradient
            return F.relu(self.shortcut(x) + self.branch(x))
        scale = self.survival if self.scale_at_test else 1.0
        return F.relu(self.shortcut(x) + scale * self.branch(x))


class StochasticDepthResNet(nn.Module):
    """See the module docstring. ``blocks`` lists the residual blocks in order; ``survival`` their
    probabilities; ``seed`` seeds both the initial weights and the survival draws."""

    def __init__(self, depth: int = 110, num_classes: int = 10, survival_last: float = 0.5, *,
                 in_channels: int = 3, width: int = 16, seed: int = 0):
        super().__init__()
        depth = check_int(depth, "depth", min=8)
        if (depth - 2) % 6:
            raise ValueError(f"depth={depth} is not valid; expected 6n + 2 (20, 32, 44, 56, 110, ...)")
        num_classes = check_positive_int(num_classes, "num_classes")
        in_channels = check_positive_int(in_channels, "in_channels")
        width = check_positive_int(width, "width", max=1024)
        seed = check_int(seed, "seed", min=0)
        n = (depth - 2) // 6
        self.depth = depth
        self.survival = survival_probabilities(3 * n, survival_last)
        self.generator = torch.Generator().manual_seed(seed + 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU())
            blocks, channels = [], width
            for stage in range(3):
                out_channels = width * 2 ** stage
                for i in range(n):
                    stride = 2 if stage > 0 and i == 0 else 1
                    blocks.append(StochasticBlock(channels, out_channels, stride,
                                                  self.survival[len(blocks)], self.generator))
                    channels = out_channels
            self.blocks = nn.ModuleList(blocks)
            self.fc = nn.Linear(channels, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    def expected_blocks(self) -> float:
        """The expected number of residual blocks that run in one training mini-batch."""
        return float(sum(self.survival))

    def survived(self) -> list[bool | None]:
        """Which blocks ran in the last training forward pass (or the last :meth:`draw_survival`)."""
        return [block.survived for block in self.blocks]

    def draw_survival(self) -> list[bool]:
        """The draw a training forward pass makes, without the pass: which blocks would run."""
        return [block.draw() for block in self.blocks]

    def scale_at_test(self, enabled: bool = True) -> StochasticDepthResNet:
        """Scale each residual branch by its survival probability at test time (the rule), or not
        (to measure what forgetting it costs). Returns the model."""
        for block in self.blocks:
            block.scale_at_test = bool(enabled)
        return self


def stochastic_depth_resnet(depth: int = 110, num_classes: int = 10, survival_last: float = 0.5, *,
                            in_channels: int = 3, width: int = 16, seed: int = 0) -> StochasticDepthResNet:
    """A CIFAR ResNet of ``depth`` = 6n + 2 layers whose blocks survive with linearly decaying
    probability down to ``survival_last`` (1: the plain ResNet)."""
    return StochasticDepthResNet(depth, num_classes, survival_last, in_channels=in_channels,
                                 width=width, seed=seed)


def stochastic_depth_resnet110(num_classes: int = 10, survival_last: float = 0.5, *,
                               seed: int = 0) -> StochasticDepthResNet:
    """The paper's CIFAR-10 network: ResNet-110 (54 blocks, 1.7 M parameters), p_L = 0.5."""
    return StochasticDepthResNet(110, num_classes, survival_last, seed=seed)
