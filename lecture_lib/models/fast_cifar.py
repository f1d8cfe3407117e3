"""The fast CIFAR-10 ResNet: the 9-layer residual network of the fastest DAWNBench entries.

Layout (widths for ``width=64``; every conv is 3x3 without bias, "same" padding)::

    stem    fixed 3x3 patch whitening (3 -> 27), 1x1 conv 27 -> 64, BN, CELU      32x32
    layer1  conv 64 -> 128, max-pool 2, BN, CELU; residual: x + (conv-BN-CELU)x2   16x16
    layer2  conv 128 -> 256, max-pool 2, BN, CELU                                   8x8
    layer3  conv 256 -> 512, max-pool 2, BN, CELU; residual: x + (conv-BN-CELU)x2   4x4
    head    global max-pool, linear 512 -> classes (no bias), times 1/16

The choices that make about ten epochs enough (each one's gain is measured in Page's "How to
train your ResNet" series, 2018-2019):

- *patch whitening*: the first layer is not learned; its 27 filters are the eigenvectors of the
  covariance of 3x3 input patches, scaled by 1/sqrt(eigenvalue), so the next layer sees inputs
  with an identity covariance (:meth:`FastResNet9.init_whitening` computes them from training
  images). Until then the filters are the identity on the patch pixels, which makes the stem an
  ordinary learnable 3x3 conv;
- *max-pool before batch norm* (cheaper: BN runs on a quarter of the pixels);
- *frozen batch-norm scales*: every BN's weight stays 1 (``requires_grad=False``); only its bias
  learns, with a larger learning rate (the recipe's ``bias_lr_scale``), and the output is scaled by
  1/16 instead;
- *CELU* (a smooth ReLU, alpha 0.3) rather than ReLU.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_bool, check_positive_int

__all__ = ["fast_resnet9"]

PATCH = 3  # the whitening works on 3x3 patches of the 3 colour channels: 27 numbers


class Scale(nn.Module):
    """Multiply by a constant (the logits' temperature)."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor:g}"


def frozen_scale_norm(channels: int) -> nn.BatchNorm2d:
    """Batch norm whose scale stays 1: only the bias (a per-channel shift) is learned."""
    norm = nn.BatchNorm2d(channels)
    norm.weight.requires_grad_(False)
    return norm


class ConvBlock(nn.Sequential):
    """3x3 conv, optional 2x2 max-pool, batch norm, CELU."""

    def __init__(self, c_in: int, c_out: int, pool: bool = False, celu_alpha: float = 0.3):
        layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)]
        if pool:
            layers.append(nn.MaxPool2d(2))
        layers += [frozen_scale_norm(c_out), nn.CELU(celu_alpha)]
        super().__init__(*layers)


class Residual(nn.Module):
    """``x + body(x)``: the identity shortcut of a residual network."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


class PatchWhitening(nn.Conv2d):
    """A fixed 3x3 conv (3 -> 27 channels): PCA whitening of 3x3 patches once fitted."""

    def __init__(self):
        super().__init__(3, 3 * PATCH * PATCH, PATCH, padding=PATCH // 2, bias=False)
        with torch.no_grad():  # identity on the patch pixels: output k is patch pixel k
            self.weight.copy_(torch.eye(3 * PATCH * PATCH).reshape(-1, 3, PATCH, PATCH))
        self.weight.requires_grad_(False)

    @torch.no_grad()
    def fit(self, images: torch.Tensor, eps: float = 1e-2, chunk: int = 512) -> None:
        """Set the filters from normalized float images (N, 3, H, W): eigenvectors of the
        patches' second-moment matrix scaled by ``1 / sqrt(eigenvalue + eps)``. The matrix is
        accumulated in float64, ``chunk`` images at a time (the patches are never all held)."""
        n_features = 3 * PATCH * PATCH
        moment = torch.zeros(n_features, n_features, dtype=torch.float64, device=images.device)
        count = 0
        for part in images.split(chunk):
            patches = nn.functional.unfold(part.float(), PATCH)  # (B, 27, L), no padding
            flat = patches.transpose(1, 2).reshape(-1, n_features).double()
            moment += flat.T @ flat
            count += len(flat)
        eigenvalues, eigenvectors = torch.linalg.eigh(moment / max(count - 1, 1))
        filters = eigenvectors.T / torch.sqrt(eigenvalues.clamp_min(0) + eps)[:, None]
        self.weight.copy_(filters.flip(0).reshape(-1, 3, PATCH, PATCH).to(self.weight))


class FastResNet9(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 64, whiten: bool = True, celu_alpha: float = 0.3,
                 logit_scale: float = 1 / 16):
        super().__init__()
        w1, w2, w3, w4 = width, 2 * width, 4 * width, 8 * width

        def block(c_in, c_out, pool=False):
            return ConvBlock(c_in, c_out, pool, celu_alpha)

        self.whiten = PatchWhitening() if whiten else nn.Conv2d(3, 3 * PATCH * PATCH, PATCH, padding=1, bias=False)
        self.stem = nn.Sequential(nn.Conv2d(3 * PATCH * PATCH, w1, 1, bias=False),
                                  frozen_scale_norm(w1), nn.CELU(celu_alpha))
        self.layer1 = nn.Sequential(block(w1, w2, pool=True), Residual(nn.Sequential(block(w2, w2), block(w2, w2))))
        self.layer2 = block(w2, w3, pool=True)
        self.layer3 = nn.Sequential(block(w3, w4, pool=True), Residual(nn.Sequential(block(w4, w4), block(w4, w4))))
        self.head = nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(w4, num_classes, bias=False),
                                  Scale(logit_scale))

    def init_whitening(self, images: torch.Tensor, eps: float = 1e-2) -> bool:
        """Fit the fixed first layer to normalized training images (N, 3, H, W); False (and
        nothing done) when the model was built with ``whiten=False``."""
        if not isinstance(self.whiten, PatchWhitening):
            return False
        self.whiten.fit(images, eps)
        return True

    def forward(self, x):
        x = self.stem(self.whiten(x))
        return self.head(self.layer3(self.layer2(self.layer1(x))))


def fast_resnet9(num_classes: int = 10, width: int = 64, whiten: bool = True) -> FastResNet9:
    """The fast CIFAR-10 ResNet-9 (about 6.6 M parameters at ``width=64``; ``width`` is the stem's
    channel count, the stages have 2x, 4x and 8x as many). ``whiten=False`` leaves the first layer
    a learnable 3x3 conv: the recipe then skips the patch whitening."""
    check_positive_int(num_classes, "num_classes")
    check_positive_int(width, "width", max=1024)
    return FastResNet9(num_classes, width, check_bool(whiten, "whiten"))
