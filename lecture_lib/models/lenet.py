"""The LeNet family: conv and pool layers, then fully connected layers.

- LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998);
- AlexNet (Krizhevsky, Sutskever and Hinton, 2012), the same plan scaled up, with ReLUs, dropout and
  overlapping max pools, as torchvision builds it: the single-tower variant of "One weird trick for
  parallelizing convolutional neural networks" (Krizhevsky, 2014), with 64-192-384-256-256 filters
  instead of the paper's two GPU halves;
- the small CNN this course trains on the digits on a CPU.

LeNet-5 here is the usual modern reading of the paper: conv 5x5 (6) - average pool - conv 5x5 (16)
- average pool - fc 120 - fc 84 - fc 10 with tanh, on 32x32 inputs; 61,706 parameters. (The paper's
C3 layer connected each of its 16 maps to only some of S2's 6 maps, its pooling layers had a
trainable scale and bias, and its output was a layer of RBF units: about 60,000 parameters.)"""

from __future__ import annotations

import torch.nn as nn

from .._checks import check_positive_int, check_probability

__all__ = ["lenet5", "alexnet", "digits_cnn"]


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        in_channels = check_positive_int(in_channels, "in_channels")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def lenet5(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5 for 32x32 inputs: 61,706 parameters with 1 input channel and 10 classes."""
    return LeNet5(num_classes, in_channels)


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        dropout = check_probability(dropout, "dropout", allow_one=False)
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """AlexNet: five conv layers (11x11/4, 5x5, 3x3 x3) and three fc layers; 61,100,840
    parameters at 1000 classes, 58.6M of them in the fc layers."""
    return AlexNet(num_classes, dropout)


class DigitsCNN(nn.Module):
    """Two 3x3 conv layers (``width`` filters) and a 2x2 max pool, a 3x3 conv (2 ``width``) and a
    2x2 max pool, then one fc layer: 8x8 -> 4x4 -> 2x2 maps. Batch norm after each conv."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32):
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        in_channels = check_positive_int(in_channels, "in_channels")
        width = check_positive_int(width, "width")

        def conv(i, o):
            return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*conv(in_channels, width), *conv(width, width), nn.MaxPool2d(2),
                                      *conv(width, 2 * width), nn.MaxPool2d(2))
        self.classifier = nn.Linear(2 * width * 2 * 2, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def digits_cnn(num_classes: int = 10, in_channels: int = 1, width: int = 32) -> DigitsCNN:
    """The small CNN of the course for scikit-learn's 8x8 digits (29,738 parameters at width 32)."""
    return DigitsCNN(num_classes, in_channels, width)
