"""The CIFAR-10 networks of the ResNet paper (He et al., 2015, section 4.2) and their relatives.

- ``resnet20`` ... ``resnet110``: a 3x3 conv, then three stages of n basic blocks each (16, 32, 64
  channels on 32x32, 16x16, 8x8 maps), global average pool, fc: 6n + 2 weight layers. Shortcuts
  are identities; where a block halves the map and doubles the channels the shortcut subsamples
  and pads the new channels with zeros (the paper's option A, no parameters);
- ``plain20`` ... ``plain110``: the same stacks without any shortcut (the paper's plain nets);
- ``preact_resnet20`` ... ``preact_resnet110``: the pre-activation blocks of "Identity Mappings in
  Deep Residual Networks" (He et al., 2016): BN-ReLU-conv twice, and nothing after the addition,
  so the identity path is clean from end to end;
- ``wrn``: the wide ResNets of Zagoruyko and Komodakis (2016), WRN-d-k: pre-activation blocks,
  (d - 4) / 6 blocks per stage, 16k, 32k, 64k channels, 1x1 conv shortcuts where shapes change.

Every builder takes ``width`` (channels of the first stage: 16 in the paper) and ``in_channels``,
so the same architectures train at small width on 1-channel digits on a CPU, and ``norm``: with
``norm=False`` every batch norm is left out (nothing in its place) and every convolution carries a
bias instead, the network Ioffe and Szegedy's comparison asks for.
"""

from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

from .._checks import check_bool, check_choice, check_int, check_positive_int, check_probability

__all__ = ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110",
           "plain20", "plain32", "plain44", "plain56", "plain110",
           "preact_resnet20", "preact_resnet32", "preact_resnet44", "preact_resnet56", "preact_resnet110",
           "wrn"]


class ShortcutA(nn.Module):
    """Option A: subsample by the stride and pad the missing channels with zeros."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.stride, self.extra = stride, out_channels - in_channels

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))


def batch_norm(channels: int, norm: bool) -> nn.Module:
    """``BatchNorm2d(channels)``, or, without normalization, a layer that does nothing."""
    return nn.BatchNorm2d(channels) if norm else nn.Identity()


class BasicBlock(nn.Module):
    """conv-BN-ReLU-conv-BN, plus the shortcut (``residual``) or not (a plain pair of layers),
    then ReLU. Without ``norm``: conv-ReLU-conv, the convs with biases."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, residual: bool = True,
                 norm: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=not norm)
        self.bn1 = batch_norm(out_channels, norm)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=not norm)
        self.bn2 = batch_norm(out_channels, norm)
        self.shortcut = None
        if residual:
            changes = stride != 1 or in_channels != out_channels
            self.shortcut = ShortcutA(in_channels, out_channels, stride) if changes else nn.Identity()

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return F.relu(out)


class PreActBlock(nn.Module):
    """BN-ReLU-conv-BN-ReLU-conv, plus the shortcut; nothing after the addition. A shape change
    goes through option A (``projection=False``) or a 1x1 conv (wide ResNets). Without ``norm``:
    ReLU-conv-ReLU-conv, the convs with biases."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, projection: bool = False,
                 dropout: float = 0.0, norm: bool = True):
        super().__init__()
        self.bn1 = batch_norm(in_channels, norm)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=not norm)
        self.bn2 = batch_norm(out_channels, norm)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=not norm)
        changes = stride != 1 or in_channels != out_channels
        if not changes:
            self.shortcut = nn.Identity()
        elif projection:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride, bias=not norm)
        else:
            self.shortcut = ShortcutA(in_channels, out_channels, stride)

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(self.dropout(F.relu(self.bn2(out))))
        return out + self.shortcut(x)


class CifarResNet(nn.Module):
    """conv 3x3 -> three stages of ``blocks_per_stage`` blocks (width, 2 width, 4 width channels;
    stages 2 and 3 start with stride 2) -> global average pool -> fc. ``norm=False`` leaves out
    every batch norm and gives every conv a bias."""

    def __init__(self, blocks_per_stage: int, kind: str = "resnet", width: int = 16, num_classes: int = 10,
                 in_channels: int = 3, widen_factor: int = 1, dropout: float = 0.0, norm: bool = True):
        super().__init__()
        self.kind = check_choice(kind, "kind", ("resnet", "plain", "preact", "wide"))
        blocks_per_stage = check_positive_int(blocks_per_stage, "blocks_per_stage")
        width = check_positive_int(width, "width")
        num_classes = check_positive_int(num_classes, "num_classes")
        in_channels = check_positive_int(in_channels, "in_channels")
        widen_factor = check_positive_int(widen_factor, "widen_factor")
        dropout = check_probability(dropout, "dropout", allow_one=False)
        self.norm = check_bool(norm, "norm")
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=not norm)
        pre = self.kind in ("preact", "wide")
        self.bn1 = None if pre else batch_norm(width, norm)
        channels = width
        for stage in range(3):
            out_channels = width * widen_factor * 2 ** stage
            blocks = []
            for i in range(blocks_per_stage):
                stride = 2 if stage > 0 and i == 0 else 1
                if pre:
                    blocks.append(PreActBlock(channels, out_channels, stride, projection=self.kind == "wide",
                                              dropout=dropout, norm=norm))
                else:
                    blocks.append(BasicBlock(channels, out_channels, stride, residual=self.kind == "resnet",
                                             norm=norm))
                channels = out_channels
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.bn_final = batch_norm(channels, norm) if pre else None
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.conv1(x)
        if self.bn1 is not None:
            x = F.relu(self.bn1(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        if self.bn_final is not None:
            x = F.relu(self.bn_final(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def cifar_resnet(depth: int, kind: str = "resnet", *, width: int = 16, num_classes: int = 10,
                 in_channels: int = 3, norm: bool = True) -> CifarResNet:
    """A CIFAR ResNet (``kind`` "resnet"), its plain twin ("plain") or its pre-activation version
    ("preact") with ``depth = 6n + 2`` weight layers; ``norm=False``: without batch norm."""
    depth = check_int(depth, "depth", min=8)
    n, rest = divmod(depth - 2, 6)
    if rest:
        raise ValueError(f"depth={depth} is not valid; expected 6n + 2 (20, 32, 44, 56, 110, ...)")
    return CifarResNet(n, kind, width, num_classes, in_channels, norm=norm)


def resnet20(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
             norm: bool = True) -> CifarResNet:
    """The CIFAR-10 ResNet with 20 weight layers (0.27M parameters at width 16)."""
    return cifar_resnet(20, "resnet", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def resnet32(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
             norm: bool = True) -> CifarResNet:
    """The CIFAR-10 ResNet with 32 weight layers (0.46M parameters at width 16)."""
    return cifar_resnet(32, "resnet", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def resnet44(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
             norm: bool = True) -> CifarResNet:
    """The CIFAR-10 ResNet with 44 weight layers (0.66M parameters at width 16)."""
    return cifar_resnet(44, "resnet", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def resnet56(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
             norm: bool = True) -> CifarResNet:
    """The CIFAR-10 ResNet with 56 weight layers (0.85M parameters at width 16)."""
    return cifar_resnet(56, "resnet", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def resnet110(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
              norm: bool = True) -> CifarResNet:
    """The CIFAR-10 ResNet with 110 weight layers (1.7M parameters at width 16)."""
    return cifar_resnet(110, "resnet", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def plain20(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
            norm: bool = True) -> CifarResNet:
    """The CIFAR-10 plain net (no shortcuts) with 20 weight layers (0.27M parameters at width 16)."""
    return cifar_resnet(20, "plain", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def plain32(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
            norm: bool = True) -> CifarResNet:
    """The CIFAR-10 plain net (no shortcuts) with 32 weight layers (0.46M parameters at width 16)."""
    return cifar_resnet(32, "plain", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def plain44(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
            norm: bool = True) -> CifarResNet:
    """The CIFAR-10 plain net (no shortcuts) with 44 weight layers (0.66M parameters at width 16)."""
    return cifar_resnet(44, "plain", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def plain56(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
            norm: bool = True) -> CifarResNet:
    """The CIFAR-10 plain net (no shortcuts) with 56 weight layers (0.85M parameters at width 16)."""
    return cifar_resnet(56, "plain", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def plain110(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
             norm: bool = True) -> CifarResNet:
    """The CIFAR-10 plain net (no shortcuts) with 110 weight layers (1.7M parameters at width 16)."""
    return cifar_resnet(110, "plain", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def preact_resnet20(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
                    norm: bool = True) -> CifarResNet:
    """The CIFAR-10 pre-activation ResNet with 20 weight layers (0.27M parameters at width 16)."""
    return cifar_resnet(20, "preact", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def preact_resnet32(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
                    norm: bool = True) -> CifarResNet:
    """The CIFAR-10 pre-activation ResNet with 32 weight layers (0.46M parameters at width 16)."""
    return cifar_resnet(32, "preact", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def preact_resnet44(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
                    norm: bool = True) -> CifarResNet:
    """The CIFAR-10 pre-activation ResNet with 44 weight layers (0.66M parameters at width 16)."""
    return cifar_resnet(44, "preact", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def preact_resnet56(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
                    norm: bool = True) -> CifarResNet:
    """The CIFAR-10 pre-activation ResNet with 56 weight layers (0.85M parameters at width 16)."""
    return cifar_resnet(56, "preact", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def preact_resnet110(num_classes: int = 10, *, width: int = 16, in_channels: int = 3,
                     norm: bool = True) -> CifarResNet:
    """The CIFAR-10 pre-activation ResNet with 110 weight layers (1.7M parameters at width 16)."""
    return cifar_resnet(110, "preact", width=width, num_classes=num_classes, in_channels=in_channels, norm=norm)


def wrn(num_classes: int = 10, depth: int = 28, widen_factor: int = 10, *, width: int = 16,
        in_channels: int = 3, dropout: float = 0.0, norm: bool = True) -> CifarResNet:
    """Wide ResNet WRN-``depth``-``widen_factor``: (depth - 4) / 6 pre-activation blocks per stage
    of 16k, 32k, 64k channels. WRN-28-10 has 36.5M parameters, WRN-16-4 2.7M."""
    depth = check_int(depth, "depth", min=10)
    n, rest = divmod(depth - 4, 6)
    if rest:
        raise ValueError(f"depth={depth} is not valid; expected 6n + 4 (10, 16, 22, 28, 40, ...)")
    return CifarResNet(n, "wide", width, num_classes, in_channels, widen_factor, dropout, norm)
