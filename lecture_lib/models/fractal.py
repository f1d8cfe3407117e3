"""FractalNet (Larsson, Maire and Shakhnarovich, 2016, "FractalNet: Ultra-Deep Neural Networks
without Residuals"): a block is defined by a recursion, ``f_1(z) = conv(z)`` and
``f_{C+1}(z) = join(f_C(f_C(z)), conv(z))``, so a block with C columns has columns of depth 1, 2,
4, ..., 2^(C-1), which meet at *join* layers (the element-wise mean of their inputs). There is no
shortcut that passes the input through unchanged: every path goes through convolutions.

Training drops paths: at each join, each input is dropped with probability ``drop_path`` (at least
one survives: *local* drop-path); with *global* drop-path (``set_column``) the whole network uses
one column only. At test time every path is used.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .._checks import check_int, check_positive_int, check_probability

__all__ = ["fractalnet"]


class ConvBNReLU(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class Join(nn.Module):
    """Element-wise mean of the incoming paths; in training each path is dropped with probability
    ``drop_path``, keeping at least one (a fresh draw for every batch)."""

    def __init__(self, drop_path: float = 0.0):
        super().__init__()
        self.drop_path = drop_path

    def forward(self, paths: list):
        if self.training and self.drop_path > 0 and len(paths) > 1:
            keep = torch.rand(len(paths)) >= self.drop_path
            if not keep.any():
                keep[torch.randint(len(paths), (1,))] = True
            paths = [p for p, k in zip(paths, keep.tolist(), strict=True) if k]
        return torch.stack(paths).mean(0)


class FractalBlock(nn.Module):
    """``columns`` columns built by the fractal rule. ``deep`` holds the two copies of the
    (columns - 1) block, ``shallow`` the single conv; the joins inside ``deep[1]`` and this
    block's own join coincide, so they merge into one join of ``columns`` inputs."""

    def __init__(self, columns: int, in_channels: int, out_channels: int, drop_path: float = 0.0):
        super().__init__()
        self.columns = columns
        self.shallow = ConvBNReLU(in_channels, out_channels)
        self.active_column: int | None = None  # global drop-path: use only this column (0 = shallowest)
        if columns > 1:
            self.deep = nn.ModuleList([FractalBlock(columns - 1, in_channels, out_channels, drop_path),
                                       FractalBlock(columns - 1, out_channels, out_channels, drop_path)])
            self.join = Join(drop_path)

    def paths(self, x) -> list:
        """The outputs of every column, deepest first, before the final join."""
        if self.columns == 1:
            return [self.shallow(x)]
        middle = self.deep[0](x)
        return [*self.deep[1].paths(middle), self.shallow(x)]

    def forward(self, x):
        if self.active_column is not None:
            return self.column(x, self.active_column)
        paths = self.paths(x)
        return paths[0] if len(paths) == 1 else self.join(paths)

    def column(self, x, index: int):
        """The output of one column alone: 0 is the single conv, columns - 1 the deepest."""
        if index == 0 or self.columns == 1:
            return self.shallow(x)
        return self.deep[1].column(self.deep[0].column(x, index - 1), index - 1)


class FractalNet(nn.Module):
    def __init__(self, num_classes=10, columns=3, channels=(64, 128, 256, 512, 512), drop_path=0.15,
                 in_channels=3):
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        columns = check_int(columns, "columns", min=1, max=6)
        drop_path = check_probability(drop_path, "drop_path", allow_one=False)
        in_channels = check_positive_int(in_channels, "in_channels")
        blocks, previous = [], in_channels
        for width in channels:
            blocks += [FractalBlock(columns, previous, check_positive_int(width, "channels"), drop_path),
                       nn.MaxPool2d(2)]
            previous = width
        self.features = nn.Sequential(*blocks)
        self.fc = nn.Linear(previous, num_classes)

    def set_column(self, index: int | None) -> None:
        """Global drop-path: every block uses only column ``index`` (None: all columns)."""
        for m in self.modules():
            if isinstance(m, FractalBlock):
                m.active_column = index

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


def fractalnet(num_classes: int = 10, columns: int = 3, channels=(64, 128, 256, 512, 512),
               drop_path: float = 0.15, in_channels: int = 3) -> FractalNet:
    """FractalNet for 32x32 inputs: one fractal block (``columns`` columns; the deepest has
    2^(columns - 1) convs) and a 2x2 max pool per entry of ``channels``. The paper's CIFAR net has
    4 columns and 5 blocks: 40 conv layers on its deepest path."""
    return FractalNet(num_classes, columns, tuple(channels), drop_path, in_channels)
