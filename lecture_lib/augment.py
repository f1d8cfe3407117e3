"""Data augmentation as batched torch operations that run where the images are (CPU or GPU).

Every augmentation takes a float batch ``images`` of shape (N, C, H, W) and draws its random
parameters *per image* from ``generator`` (a CPU ``torch.Generator``: the draws are small, the
images stay on their device). Geometric ones build one sampling grid for the whole batch
(``affine_grid`` / ``grid_sample``); photometric ones are tensor arithmetic. No Python loop runs
over the images (benchmarks/augment_throughput.py measures images per second against a loop).

    flip                 horizontal flip with probability p
    crop                 random crop of the original size from the image padded by ``padding``
    resized_crop         random box of a random area fraction and aspect ratio, resized back
    brightness_contrast  brightness and contrast factors drawn in [1 - a, 1 + a]
    pca_color            AlexNet's colour jitter: add sum_i alpha_i lambda_i v_i, alpha_i ~ N(0, sigma)
    affine               rotation, shear and stretch (anisotropic scaling)
    barrel               a barrel (lens) distortion of random strength

:func:`apply` drives each one by a single ``strength`` in [0, 1] (0 = unchanged; the table
:data:`STRENGTH` says what 1 means), for the figures and the explorer; :class:`Augment` is an
``nn.Module`` that augments in training mode only, so ``train.fit`` trains on augmented batches.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ._checks import check_choice, check_int, check_probability, check_scalar

NAMES = ("flip", "crop", "resized_crop", "brightness_contrast", "pca_color", "affine", "barrel")


# --------------------------------------------------------------------------- checks and draws
def check_images(images, name: str = "images") -> torch.Tensor:
    """A float tensor of shape (N, C, H, W); a clear error otherwise."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} of type {type(images).__name__} is not valid; expected a torch "
                        "tensor of shape (N, C, H, W)")
    if images.dim() != 4:
        raise ValueError(f"{name} has shape {tuple(images.shape)}; expected 4 dimensions (N, C, H, W)"
                         + (" (add a batch axis with images[None])" if images.dim() == 3 else ""))
    if not images.is_floating_point():
        raise TypeError(f"{name} has dtype {images.dtype}; expected a floating dtype "
                        "(uint8 pixels: images.float() / 255)")
    if min(images.shape) == 0:
        raise ValueError(f"{name} has shape {tuple(images.shape)}; expected no empty axis")
    return images


def _generator(generator) -> torch.Generator:
    if generator is None:
        return torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, ()).item()))
    if not isinstance(generator, torch.Generator) or generator.device.type != "cpu":
        raise TypeError(f"generator={generator!r} is not valid; expected a CPU torch.Generator or None")
    return generator


def _uniform(n: int, low: float, high: float, generator, like: torch.Tensor) -> torch.Tensor:
    """n draws from U(low, high) on the CPU, moved to like's device and dtype."""
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return (low + (high - low) * u).to(device=like.device, dtype=like.dtype)


def _sample(images: torch.Tensor, grid: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    return F.grid_sample(images, grid.to(images.dtype), mode=mode, padding_mode="zeros", align_corners=False)


# --------------------------------------------------------------------------- the augmentations
def flip(images, p: float = 0.5, *, generator=None) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    images = check_images(images)
    p = check_probability(p, "p")
    flipped = torch.nonzero(_uniform(len(images), 0.0, 1.0, _generator(generator), images) < p).flatten()
    out = images.clone()
    out[flipped] = images[flipped].flip(-1)          # only the chosen images are read twice
    return out


def crop(images, padding: int = 4, *, generator=None) -> torch.Tensor:
    """A random crop of the original size from the image with ``padding`` zero pixels on each side:
    a random integer shift of up to ``padding`` pixels each way (the CIFAR-10 recipe's crop)."""
    images = check_images(images)
    n, _, h, w = images.shape
    padding = check_int(padding, "padding", min=0, max=min(h, w))
    if padding == 0:
        return images.clone()
    g = _generator(generator)
    padded = F.pad(images, (padding,) * 4)
    c, width = images.shape[1], w + 2 * padding
    dy = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=g).to(images.device)
    dx = torch.randint(0, 2 * padding + 1, (n, 1, 1), generator=g).to(images.device)
    rows = dy + torch.arange(h, device=images.device)[None, :, None]             # (N, H, 1)
    cols = dx + torch.arange(w, device=images.device)[None, None, :]             # (N, 1, W)
    flat = (rows * width + cols).reshape(n, 1, h * w).expand(n, c, h * w)     # one gather for all
    return padded.reshape(n, c, -1).gather(2, flat).reshape(n, c, h, w)


def resized_crop(images, scale: Sequence[float] = (0.08, 1.0), ratio: Sequence[float] = (3 / 4, 4 / 3),
                 *, generator=None) -> torch.Tensor:
    """Inception's crop: a box covering a fraction of the area drawn from ``scale``, with an aspect
    ratio drawn log-uniformly from ``ratio`` *relative to the image's own* (for square images, as
    torchvision's: width / height), resized back to (H, W). Boxes that do not fit are shrunk to fit
    (instead of torchvision's retries), so every draw is one box."""
    images = check_images(images)
    lo, hi = _pair(scale, "scale", low=0.0, high=1.0)
    if lo <= 0:
        raise ValueError(f"scale={tuple(scale)!r} is not valid; expected 0 < min <= max <= 1")
    r_lo, r_hi = _pair(ratio, "ratio", low=0.0)
    if r_lo <= 0:
        raise ValueError(f"ratio={tuple(ratio)!r} is not valid; expected 0 < min <= max")
    n = len(images)
    g = _generator(generator)
    area = _uniform(n, lo, hi, g, images)
    aspect = torch.exp(_uniform(n, math.log(r_lo), math.log(r_hi), g, images))
    box_w = torch.sqrt(area * aspect).clamp(max=1.0)         # fractions of the width and height
    box_h = torch.sqrt(area / aspect).clamp(max=1.0)
    cx = (1 - box_w) * (2 * _uniform(n, 0.0, 1.0, g, images) - 1)   # centres in normalized coords
    cy = (1 - box_h) * (2 * _uniform(n, 0.0, 1.0, g, images) - 1)
    theta = torch.zeros(n, 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0], theta[:, 0, 2] = box_w, cx
    theta[:, 1, 1], theta[:, 1, 2] = box_h, cy
    return _sample(images, F.affine_grid(theta, list(images.shape), align_corners=False))


def brightness_contrast(images, brightness: float = 0.2, contrast: float = 0.2, *, generator=None) -> torch.Tensor:
    """Multiply by a brightness factor in [1 - brightness, 1 + brightness], then scale the
    deviations from each image's mean intensity by a contrast factor in [1 - contrast, 1 + contrast];
    clamp to [0, 1] (the images are taken to be in [0, 1])."""
    images = check_images(images)
    brightness = check_scalar(brightness, "brightness", min=0.0, max=1.0)
    contrast = check_scalar(contrast, "contrast", min=0.0, max=1.0)
    n = len(images)
    g = _generator(generator)
    b = _uniform(n, 1 - brightness, 1 + brightness, g, images)[:, None, None, None]
    c = _uniform(n, 1 - contrast, 1 + contrast, g, images)[:, None, None, None]
    out = images * b
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    return ((out - mean) * c + mean).clamp(0.0, 1.0)


def color_pca(images) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (C,) and eigenvectors (C, C, columns) of the covariance of the pixels' colours
    over the whole batch: AlexNet's principal components of RGB, computed on its training set."""
    images = check_images(images)
    pixels = images.permute(1, 0, 2, 3).reshape(images.shape[1], -1).double()
    cov = torch.cov(pixels).reshape(images.shape[1], images.shape[1])
    values, vectors = torch.linalg.eigh(cov)
    return values.clamp(min=0).to(images.dtype), vectors.to(images.dtype)


def pca_color(images, sigma: float = 0.1, pca: tuple | None = None, *, generator=None) -> torch.Tensor:
    """AlexNet's colour jitter: add ``V @ (alpha * lambda)`` to every pixel of an image, one alpha ~
    N(0, sigma) per component and image, where (lambda, V) are the colour PCA (``pca``, default:
    :func:`color_pca` of this batch). The shift follows the directions in which colours vary
    (mostly brightness, then warm/cool), so the hues stay natural."""
    images = check_images(images)
    sigma = check_scalar(sigma, "sigma", min=0.0, max=10.0)
    values, vectors = color_pca(images) if pca is None else pca
    n, c = images.shape[:2]
    if values.shape != (c,) or vectors.shape != (c, c):
        raise ValueError(f"pca has shapes {tuple(values.shape)}, {tuple(vectors.shape)}; expected "
                         f"({c},) and ({c}, {c}) for images of {c} channel(s)")
    g = _generator(generator)
    alpha = sigma * torch.randn(n, c, generator=g, dtype=torch.float64).to(images.device, images.dtype)
    shift = (alpha * values.to(images.device)) @ vectors.to(images.device).T    # (N, C)
    return (images + shift[:, :, None, None]).clamp(0.0, 1.0)


def affine_theta(degrees, shear_degrees, sx, sy, size) -> torch.Tensor:
    """``affine_grid``'s matrices (N, 2, 3) for images of ``size`` (H, W) rotated by ``degrees``,
    sheared horizontally by ``shear_degrees`` and stretched by ``sx``, ``sy`` (tensors of N values):
    the forward map is rotate @ scale @ shear in pixel proportions, and the grid holds its inverse,
    mapping each output pixel back to where it comes from, in coordinates that run from -1 to 1."""
    h, w = size
    angle, tan_shear = torch.deg2rad(degrees), torch.tan(torch.deg2rad(shear_degrees))
    cos, sin = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(cos), torch.zeros_like(cos)
    rotate = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    scale = torch.stack([torch.stack([sx, zero], -1), torch.stack([zero, sy], -1)], -2)
    skew = torch.stack([torch.stack([one, tan_shear], -1), torch.stack([zero, one], -1)], -2)
    back = torch.linalg.inv(rotate @ scale @ skew)
    theta = torch.zeros(len(cos), 2, 3, dtype=cos.dtype, device=cos.device)
    theta[:, 0, 0], theta[:, 0, 1] = back[:, 0, 0], back[:, 0, 1] * h / w
    theta[:, 1, 0], theta[:, 1, 1] = back[:, 1, 0] * w / h, back[:, 1, 1]
    return theta


def affine(images, degrees: float = 15.0, shear: float = 10.0, stretch: float = 0.1,
           *, generator=None) -> torch.Tensor:
    """A random rotation in [-degrees, degrees], horizontal shear angle in [-shear, shear] (degrees)
    and stretch: the width and height scaled independently by factors in [1 - stretch, 1 + stretch].
    Pixels that come from outside the image are black (zeros)."""
    images = check_images(images)
    degrees = check_scalar(degrees, "degrees", min=0.0, max=180.0)
    shear = check_scalar(shear, "shear", min=0.0, max=60.0)
    stretch = check_scalar(stretch, "stretch", min=0.0, max=0.9)
    n, _, h, w = images.shape
    g = _generator(generator)
    theta = affine_theta(_uniform(n, -degrees, degrees, g, images), _uniform(n, -shear, shear, g, images),
                         _uniform(n, 1 - stretch, 1 + stretch, g, images),
                         _uniform(n, 1 - stretch, 1 + stretch, g, images), (h, w))
    return _sample(images, F.affine_grid(theta, list(images.shape), align_corners=False))


def barrel(images, strength: float = 0.3, *, generator=None) -> torch.Tensor:
    """A barrel (lens) distortion: each output pixel at radius r (in pixels, divided by half the
    smaller side) samples the input at ``r (1 + k r^2) / (1 + k)`` with k drawn in [0, strength]:
    the centre is magnified, the periphery compressed, straight lines bow outwards."""
    images = check_images(images)
    strength = check_scalar(strength, "strength", min=0.0, max=2.0)
    n, _, h, w = images.shape
    k = _uniform(n, 0.0, strength, _generator(generator), images)[:, None, None, None]
    ys = (torch.arange(h, device=images.device, dtype=images.dtype) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=images.device, dtype=images.dtype) + 0.5) / w * 2 - 1
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)[None]       # (1, H, W, 2)
    side = min(h, w)                                      # radius 1 at the nearer edges' midpoints
    r2 = (grid[..., :1] * w / side) ** 2 + (grid[..., 1:] * h / side) ** 2
    return _sample(images, grid * (1 + k * r2) / (1 + k))


def _pair(value, name, *, low=None, high=None) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"{name}={value!r} is not valid; expected a pair (min, max)")
    lo = check_scalar(value[0], f"{name}[0]", min=low, max=high)
    hi = check_scalar(value[1], f"{name}[1]", min=low, max=high)
    if lo > hi:
        raise ValueError(f"{name}={tuple(value)!r} is not valid; expected min <= max")
    return lo, hi


# --------------------------------------------------------------------------- one strength knob
# What strength 1 means for each augmentation (strength s in [0, 1] scales it; 0 is the identity).
STRENGTH = {
    "flip": "flip probability 1",
    "crop": "shifts of up to 1/4 of the image size",
    "resized_crop": "boxes of 8% to 100% of the area, aspect ratio 3/4 to 4/3 (Inception's)",
    "brightness_contrast": "factors in [0.2, 1.8]",
    "pca_color": "sigma 1 (AlexNet used 0.1)",
    "affine": "rotation up to 45 degrees, shear up to 30 degrees, stretch up to 40%",
    "barrel": "distortion k up to 1",
}


def parameters(name: str, strength: float, size: int) -> dict:
    """The keyword arguments of augmentation ``name`` at ``strength`` in [0, 1] for images whose
    smaller side is ``size`` pixels."""
    check_choice(name, "name", NAMES)
    s = check_scalar(strength, "strength", min=0.0, max=1.0)
    return {
        "flip": {"p": s},
        "crop": {"padding": int(round(s * size / 4))},
        "resized_crop": {"scale": (1 - 0.92 * s, 1.0), "ratio": (1 - 0.25 * s, 1 + s / 3)},
        "brightness_contrast": {"brightness": 0.8 * s, "contrast": 0.8 * s},
        "pca_color": {"sigma": s},
        "affine": {"degrees": 45 * s, "shear": 30 * s, "stretch": 0.4 * s},
        "barrel": {"strength": s},
    }[name]


FUNCTIONS = {"flip": flip, "crop": crop, "resized_crop": resized_crop,
             "brightness_contrast": brightness_contrast, "pca_color": pca_color, "affine": affine,
             "barrel": barrel}


def apply(name: str, images, strength: float, *, generator=None) -> torch.Tensor:
    """Augmentation ``name`` (one of :data:`NAMES`) at ``strength`` in [0, 1]."""
    images = check_images(images)
    kwargs = parameters(name, strength, min(images.shape[-2:]))
    return FUNCTIONS[name](images, **kwargs, generator=generator)


class Augment(torch.nn.Module):
    """Augment each training batch with a sequence of ``(name, strength)`` steps (each applied to
    every image with its own random draw); the identity in eval mode. Put it first in a model and
    ``train.fit`` trains on augmented batches while evaluation sees the originals."""

    def __init__(self, steps: Sequence[tuple[str, float]], seed: int = 0):
        super().__init__()
        if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
            raise TypeError(f"steps={steps!r} is not valid; expected a list of (name, strength) pairs")
        self.steps = []
        for i, step in enumerate(steps):
            if not isinstance(step, (tuple, list)) or len(step) != 2:
                raise TypeError(f"steps[{i}]={step!r} is not valid; expected a pair (name, strength)")
            name, strength = step
            check_choice(name, f"steps[{i}] name", NAMES)
            self.steps.append((name, check_scalar(strength, f"steps[{i}] strength", min=0.0, max=1.0)))
        self.generator = torch.Generator().manual_seed(check_int(seed, "seed", min=0))

    def forward(self, images):
        if not self.training:
            return images
        for name, strength in self.steps:
            images = apply(name, images, strength, generator=self.generator)
        return images

    def extra_repr(self) -> str:
        return ", ".join(f"{n}={s:g}" for n, s in self.steps)


def sample_photos(height: int = 427) -> torch.Tensor:
    """scikit-learn's two sample photographs (a Chinese temple and a flower; they ship with
    scikit-learn, nothing is downloaded) as a float batch (2, 3, H, W) in [0, 1], resized to
    ``height`` rows (the originals are 427 x 640)."""
    height = check_int(height, "height", min=8, max=427)
    return _photos(height).clone()


@functools.lru_cache(maxsize=4)
def _photos(height: int) -> torch.Tensor:
    import importlib.util
    from pathlib import Path

    import numpy as np
    from PIL import Image

    # found without importing scikit-learn (a second or more)
    folder = Path(importlib.util.find_spec("sklearn").origin).parent / "datasets" / "images"
    photos = []
    for name in ("china.jpg", "flower.jpg"):
        with Image.open(folder / name) as file:
            image = file.convert("RGB")
        if height != image.height:
            width = int(round(image.width * height / image.height))
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        photos.append(np.asarray(image, dtype=np.float32) / 255.0)
    return torch.from_numpy(np.stack(photos)).permute(0, 3, 1, 2).contiguous()
