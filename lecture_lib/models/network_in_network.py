"""Network in Network (Lin, Chen and Yan, 2013): each "mlpconv" block is a conv followed by two 1x1
convs (a small MLP slid over the image); no fc layer: the last 1x1 conv makes one map per class and
a global average pool turns each map into a score. The CIFAR-10 configuration of the paper."""

from __future__ import annotations

import torch.nn as nn

from .._checks import check_positive_int, check_probability

__all__ = ["nin"]


def mlpconv(in_channels: int, channels: tuple[int, int, int], kernel: int) -> list:
    first, second, third = channels
    return [nn.Conv2d(in_channels, first, kernel, padding=kernel // 2), nn.ReLU(inplace=True),
            nn.Conv2d(first, second, 1), nn.ReLU(inplace=True),
            nn.Conv2d(second, third, 1), nn.ReLU(inplace=True)]


class NiN(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        in_channels = check_positive_int(in_channels, "in_channels")
        dropout = check_probability(dropout, "dropout", allow_one=False)
        self.features = nn.Sequential(
            *mlpconv(in_channels, (192, 160, 96), 5), nn.MaxPool2d(3, 2, 1), nn.Dropout(dropout),
            *mlpconv(96, (192, 192, 192), 5), nn.AvgPool2d(3, 2, 1), nn.Dropout(dropout),
            *mlpconv(192, (192, 192, num_classes), 3), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return self.features(x).flatten(1)


def nin(num_classes: int = 10, in_channels: int = 3) -> NiN:
    """Network in Network for CIFAR-10: three mlpconv blocks, global average pooling instead of fc
    layers; 966,986 parameters at 10 classes."""
    return NiN(num_classes, in_channels)
