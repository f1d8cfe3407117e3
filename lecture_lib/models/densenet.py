"""DenseNet (Huang et al., 2017, "Densely Connected Convolutional Networks"): inside a dense block
every layer receives the concatenation of the block's input and of *all* earlier layers' outputs,
and adds ``growth_rate`` new channels; transitions (1x1 conv halving the channels, 2x2 average
pool) sit between blocks. ImageNet versions at torchvision's configurations (BN-ReLU-1x1 conv to
``bn_size * growth_rate`` channels, BN-ReLU-3x3 conv to ``growth_rate``: DenseNet-BC), and the
CIFAR versions of the paper (3 blocks, 3x3 stem).

``dense=False`` builds the plain twin of the same depth: each layer sees only the previous
layer's output, as in an ordinary chain (used to measure what the dense connections do)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .._checks import check_bool, check_int, check_positive_int, check_scalar

__all__ = ["densenet121", "densenet161", "densenet169", "densenet201", "densenet_cifar"]


class DenseLayer(nn.Module):
    """BN-ReLU-(1x1 conv to bn_size * k)-BN-ReLU-3x3 conv to k channels; without a bottleneck
    (``bn_size=0``) just BN-ReLU-3x3 conv."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int):
        super().__init__()
        if bn_size:
            self.norm1 = nn.BatchNorm2d(in_channels)
            self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
            in_channels = bn_size * growth_rate
        self.norm2 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, growth_rate, 3, padding=1, bias=False)

    def forward(self, x):
        if hasattr(self, "conv1"):
            x = self.conv1(F.relu(self.norm1(x)))
        return self.conv2(F.relu(self.norm2(x)))


class DenseBlock(nn.Module):
    """``n_layers`` dense layers; each gets the concatenation of the block's input and every
    earlier output (``dense``), or only the previous output (the plain twin)."""

    def __init__(self, n_layers: int, in_channels: int, growth_rate: int, bn_size: int, dense: bool = True):
        super().__init__()
        self.dense = dense
        for i in range(n_layers):
            width = in_channels + i * growth_rate if dense else (in_channels if i == 0 else growth_rate)
            self.add_module(f"denselayer{i + 1}", DenseLayer(width, growth_rate, bn_size))
        self.out_channels = in_channels + n_layers * growth_rate if dense else growth_rate

    def forward(self, x):
        features = [x]
        for layer in self.children():
            new = layer(torch.cat(features, 1) if self.dense else features[-1])
            features.append(new)
        return torch.cat(features, 1) if self.dense else features[-1]


class Transition(nn.Sequential):
    """BN-ReLU-1x1 conv (to ``out_channels``) and a 2x2 average pool."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.pool = nn.AvgPool2d(2, 2)


class DenseNet(nn.Module):
    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4,
                 num_classes=1000, *, stem="imagenet", in_channels=3, compression=0.5, dense=True):
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        growth_rate = check_positive_int(growth_rate, "growth_rate")
        in_channels = check_positive_int(in_channels, "in_channels")
        compression = check_scalar(compression, "compression", min=0.0, max=1.0, min_inclusive=False)
        bn_size = check_int(bn_size, "bn_size", min=0)
        dense = check_bool(dense, "dense")
        if stem == "imagenet":
            self.features = nn.Sequential()
            self.features.add_module("conv0", nn.Conv2d(in_channels, num_init_features, 7, 2, 3, bias=False))
            self.features.add_module("norm0", nn.BatchNorm2d(num_init_features))
            self.features.add_module("relu0", nn.ReLU(inplace=True))
            self.features.add_module("pool0", nn.MaxPool2d(3, 2, 1))
        else:
            self.features = nn.Sequential()
            self.features.add_module("conv0", nn.Conv2d(in_channels, num_init_features, 3, padding=1, bias=False))
        channels = num_init_features
        for i, n_layers in enumerate(block_config):
            block = DenseBlock(check_positive_int(n_layers, "block size"), channels, growth_rate, bn_size, dense)
            self.features.add_module(f"denseblock{i + 1}", block)
            channels = block.out_channels
            if i != len(block_config) - 1:
                out = int(channels * compression) if dense else channels
                self.features.add_module(f"transition{i + 1}", Transition(channels, out))
                channels = out
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.relu(self.features(x))
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


def densenet121(num_classes: int = 1000) -> DenseNet:
    """DenseNet-121: k=32, blocks (6, 12, 24, 16); 7,978,856 parameters at 1000 classes."""
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes)


def densenet161(num_classes: int = 1000) -> DenseNet:
    """DenseNet-161: k=48, blocks (6, 12, 36, 24), 96 stem channels; 28,681,000 parameters."""
    return DenseNet(48, (6, 12, 36, 24), 96, num_classes=num_classes)


def densenet169(num_classes: int = 1000) -> DenseNet:
    """DenseNet-169: k=32, blocks (6, 12, 32, 32); 14,149,480 parameters."""
    return DenseNet(32, (6, 12, 32, 32), 64, num_classes=num_classes)


def densenet201(num_classes: int = 1000) -> DenseNet:
    """DenseNet-201: k=32, blocks (6, 12, 48, 32); 20,013,928 parameters."""
    return DenseNet(32, (6, 12, 48, 32), 64, num_classes=num_classes)


def densenet_cifar(num_classes: int = 10, depth: int = 100, growth_rate: int = 12, bottleneck: bool = True,
                   in_channels: int = 3, dense: bool = True) -> DenseNet:
    """The paper's CIFAR DenseNets: three dense blocks on a 3x3 stem. With ``bottleneck``
    (DenseNet-BC, compression 0.5) each block has (depth - 4) / 6 layers: DenseNet-BC (L=100,
    k=12) has 0.8M parameters; without, (depth - 4) / 3 layers and no compression: DenseNet
    (L=40, k=12) has 1.0M. ``dense=False`` gives the plain twin of the same depth."""
    depth = check_int(depth, "depth", min=7)
    bottleneck = check_bool(bottleneck, "bottleneck")
    per_block, rest = divmod(depth - 4, 6 if bottleneck else 3)
    if rest:
        raise ValueError(f"depth={depth} is not valid; expected depth - 4 divisible by {6 if bottleneck else 3}")
    return DenseNet(growth_rate, (per_block,) * 3, 2 * growth_rate if bottleneck else 16,
                    4 if bottleneck else 0, num_classes, stem="cifar", in_channels=in_channels,
                    compression=0.5 if bottleneck else 1.0, dense=dense)
