"""VGG (Simonyan and Zisserman, 2014): stacks of 3x3 convolutions (stride 1, pad 1) between 2x2
max pools, then three fc layers. Configurations A (11 weight layers), B (13), D (16) and E (19) of
the paper's table 1, with or without batch norm after each conv, as torchvision builds them."""

from __future__ import annotations

import torch.nn as nn

from .._checks import check_positive_int, check_probability

__all__ = ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]

# Filters per conv layer, "M" for a 2x2 max pool: the paper's configurations A, B, D, E.
CONFIGS = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"),
}


class VGG(nn.Module):
    def __init__(self, config, batch_norm: bool = False, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        dropout = check_probability(dropout, "dropout", allow_one=False)
        layers, in_channels = [], 3
        for v in config:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(in_channels, v, 3, padding=1))
            layers += [nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else [nn.ReLU(inplace=True)]
            in_channels = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def vgg11(num_classes: int = 1000) -> VGG:
    """VGG-11 (configuration A): 132,863,336 parameters at 1000 classes."""
    return VGG(CONFIGS[11], False, num_classes)


def vgg11_bn(num_classes: int = 1000) -> VGG:
    """VGG-11 with batch norm: 132,868,840 parameters."""
    return VGG(CONFIGS[11], True, num_classes)


def vgg13(num_classes: int = 1000) -> VGG:
    """VGG-13 (configuration B): 133,047,848 parameters."""
    return VGG(CONFIGS[13], False, num_classes)


def vgg13_bn(num_classes: int = 1000) -> VGG:
    """VGG-13 with batch norm: 133,053,736 parameters."""
    return VGG(CONFIGS[13], True, num_classes)


def vgg16(num_classes: int = 1000) -> VGG:
    """VGG-16 (configuration D): 13 conv + 3 fc layers, 138,357,544 parameters."""
    return VGG(CONFIGS[16], False, num_classes)


def vgg16_bn(num_classes: int = 1000) -> VGG:
    """VGG-16 with batch norm: 138,365,992 parameters."""
    return VGG(CONFIGS[16], True, num_classes)


def vgg19(num_classes: int = 1000) -> VGG:
    """VGG-19 (configuration E): 16 conv + 3 fc layers, 143,667,240 parameters."""
    return VGG(CONFIGS[19], False, num_classes)


def vgg19_bn(num_classes: int = 1000) -> VGG:
    """VGG-19 with batch norm: 143,678,248 parameters."""
    return VGG(CONFIGS[19], True, num_classes)
