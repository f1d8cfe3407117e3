"""ResNet (He et al., 2015) at ImageNet scale, with its wide and aggregated (ResNeXt) variants, at
torchvision's configurations: the same layers in the same order, so the parameter counts agree.

- a 7x7/2 stem and a 3x3/2 max pool, then four stages of residual blocks (64, 128, 256, 512
  channels; the first block of stages 2-4 halves the resolution), global average pool, one fc;
- ``BasicBlock`` (two 3x3 convs) for ResNet-18/34, ``Bottleneck`` (1x1 reduce, 3x3, 1x1 expand 4x)
  for 50/101/152; the stride sits on the 3x3 conv (torchvision's "v1.5"; the paper put it on the
  first 1x1), and a shortcut that changes shape is a 1x1 conv + batch norm (the paper's option B);
- wide ResNets double the bottleneck width (``width_per_group=128``); ResNeXt splits the 3x3 conv
  into ``groups`` parallel paths of ``width_per_group`` channels each (a grouped convolution).
"""

from __future__ import annotations

import torch.nn as nn

from .._checks import check_positive_int

__all__ = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "wide_resnet50_2",
           "wide_resnet101_2", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"]


def projection(in_channels: int, out_channels: int, stride: int):
    """The shortcut of a block that changes shape: 1x1 conv + batch norm; None keeps the identity."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                         nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm; the input is added before the last ReLU."""

    expansion = 1

    def __init__(self, in_channels, planes, stride=1, groups=1, width_per_group=64):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = projection(in_channels, planes, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 conv down to ``width`` channels, 3x3 conv (grouped for ResNeXt), 1x1 conv up to
    ``4 * planes``; the input is added before the last ReLU."""

    expansion = 4

    def __init__(self, in_channels, planes, stride=1, groups=1, width_per_group=64):
        super().__init__()
        width = int(planes * (width_per_group / 64.0)) * groups
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = projection(in_channels, planes * 4, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, groups=1, width_per_group=64):
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_channels = 64
        for stage, (planes, n_blocks) in enumerate(zip((64, 128, 256, 512), layers, strict=True), start=1):
            blocks = []
            for i in range(n_blocks):
                stride = 2 if stage > 1 and i == 0 else 1
                blocks.append(block(in_channels, planes, stride, groups, width_per_group))
                in_channels = planes * block.expansion
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 parameters at 1000 classes."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes)


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 parameters at 1000 classes."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: bottleneck blocks (3, 4, 6, 3); 25,557,032 parameters at 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes)


def resnet101(num_classes: int = 1000) -> ResNet:
    """ResNet-101: bottleneck blocks (3, 4, 23, 3); 44,549,160 parameters at 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes)


def resnet152(num_classes: int = 1000) -> ResNet:
    """ResNet-152: bottleneck blocks (3, 8, 36, 3); 60,192,808 parameters at 1000 classes."""
    return ResNet(Bottleneck, (3, 8, 36, 3), num_classes)


def wide_resnet50_2(num_classes: int = 1000) -> ResNet:
    """Wide ResNet-50-2: ResNet-50 with bottlenecks twice as wide; 68,883,240 parameters."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, width_per_group=128)


def wide_resnet101_2(num_classes: int = 1000) -> ResNet:
    """Wide ResNet-101-2: ResNet-101 with bottlenecks twice as wide; 126,886,696 parameters."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes, width_per_group=128)


def resnext50_32x4d(num_classes: int = 1000) -> ResNet:
    """ResNeXt-50 (32x4d): 32 paths of 4 channels in the first stage's 3x3; 25,028,904 parameters."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, groups=32, width_per_group=4)


def resnext101_32x8d(num_classes: int = 1000) -> ResNet:
    """ResNeXt-101 (32x8d); 88,791,336 parameters."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes, groups=32, width_per_group=8)


def resnext101_64x4d(num_classes: int = 1000) -> ResNet:
    """ResNeXt-101 (64x4d); 83,455,272 parameters."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes, groups=64, width_per_group=4)
