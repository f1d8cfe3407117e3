"""Data augmentation, live: pick one augmentation of :mod:`lecture_lib.augment` and its strength, and
see three random draws of it on a photograph and on eight handwritten digits; ``draw`` picks another
set of random draws."""

from __future__ import annotations

import numpy as np

from .. import augment
from .base import Explorer, dropdown, float_slider, int_slider

PHOTO_HEIGHT = 64
N_COPIES = 3
N_DIGITS = 8


class AugmentationExplorer(Explorer):
    title = "Data augmentation on a photograph and on digits"

    def __init__(self, **initial_values):
        controls = {
            "photo": dropdown("temple", ("temple", "flower"), "photograph"),
            "augmentation": dropdown("affine", augment.NAMES, "augmentation"),
            "strength": float_slider(0.5, 0.0, 1.0, 0.05, "strength"),
            "draw": int_slider(0, 0, 20, "random draw"),
        }
        import torch

        from ..data import digits

        self._torch = torch
        self._photos = augment.sample_photos(PHOTO_HEIGHT)
        self._digits = torch.as_tensor(digits(seed=0).X_test[:N_DIGITS]).reshape(-1, 1, 8, 8)
        super().__init__(controls, initial_values, figsize=(9.0, 2.7))

    def build(self, figure):
        self.ax_photo, self.ax_digits = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2.3, 1]})
        h, w = self._photos.shape[-2:]
        self.photo_image = self.ax_photo.imshow(np.zeros((h, N_COPIES * (w + 4) - 4, 3)), interpolation="bilinear")
        self.digit_image = self.ax_digits.imshow(np.zeros((2 * 9 - 1, 4 * 9 - 1)), cmap="gray_r", vmin=0, vmax=1,
                                                 interpolation="nearest")
        for ax in (self.ax_photo, self.ax_digits):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        self.ax_digits.set_title(f"{N_DIGITS} held-out digits", fontsize=11)
        self.dynamic(self.photo_image, self.digit_image, self.ax_photo.title)

    def draw(self, photo, augmentation, strength, draw):
        torch = self._torch
        generator = torch.Generator().manual_seed(int(draw))
        photos = self._photos[[0 if photo == "temple" else 1] * N_COPIES]
        threads = torch.get_num_threads()
        torch.set_num_threads(1)      # small batches: a second thread only adds waiting
        try:
            out = augment.apply(augmentation, photos, strength, generator=generator).clamp(0, 1)
            digits = augment.apply(augmentation, self._digits, strength, generator=generator).clamp(0, 1)
        finally:
            torch.set_num_threads(threads)
        h, w = photos.shape[-2:]
        strip = np.ones((h, N_COPIES * (w + 4) - 4, 3), dtype=np.float32)
        for i in range(N_COPIES):
            strip[:, i * (w + 4):i * (w + 4) + w] = out[i].permute(1, 2, 0).numpy()
        self.photo_image.set_data(strip)
        tiles = np.zeros((2 * 9 - 1, 4 * 9 - 1), dtype=np.float32)
        for i in range(N_DIGITS):
            r, c = divmod(i, 4)
            tiles[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = digits[i, 0].numpy()
        self.digit_image.set_data(tiles)
        settings = ", ".join(f"{k}={_short(v)}" for k, v in augment.parameters(augmentation, strength, 8).items())
        self.ax_photo.set_title(f"{augmentation} {strength:.2f}: {settings} (8 x 8), draw {draw}", fontsize=10)


def _short(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{v:.2g}" for v in value) + ")"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def augmentation_explorer(**initial_values) -> AugmentationExplorer:
    """Controls: ``photo`` (``"temple"`` or ``"flower"``, scikit-learn's two sample photographs),
    ``augmentation`` (one of ``lecture_lib.augment.NAMES``), ``strength`` (0 to 1; 0 leaves the images
    as they are, :data:`lecture_lib.augment.STRENGTH` says what 1 means), ``draw`` (which set of
    random draws, 0 to 20). Interactive size: three copies of a 64 x 96 photograph and eight 8 x 8
    digits, each augmented with its own random parameters in one batched call."""
    return AugmentationExplorer(**initial_values)
