"""Data augmentation, live: pick one augmentation of :mod:`lecture_lib.augment` and its strength, and
see three random draws of it on a photograph and on eight handwritten digits; ``draw`` picks another
set of random draws.

Speed: the heading (what strength 1 means; a strength s scales it) belongs to the static
background, rendered once per augmentation; a change redraws only the two images and the short
state line over them. The augmented
images of each state are kept (the last :data:`CACHED_STATES` states), so dragging a slider back
costs no augmentation, and they are stored as 8-bit RGBA, which matplotlib draws without
converting."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import augment
from .base import Explorer, dropdown, float_slider, int_slider

PHOTO_HEIGHT = 64
N_COPIES = 3
N_DIGITS = 8
GAP = 4                     # white pixels between the photographs
CACHED_STATES = 64          # augmented images kept, about 80 kB each


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
        self._states: OrderedDict = OrderedDict()   # (photo, augmentation, strength, draw) -> images
        super().__init__(controls, initial_values, figsize=(8.4, 2.4))
        # Render the static background of every augmentation now (about 15 ms each, mostly the
        # heading's glyphs), so that switching the augmentation costs no more than any change.
        for name in augment.NAMES:
            self.heading.set_text(_heading(name))
            self.prerender(name)
        self.update()                                   # the canvas shows the current state again

    def build(self, figure):
        self.ax_photo, self.ax_digits = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2.3, 1]})
        h, w = self._photos.shape[-2:]
        self.photo_image = self.ax_photo.imshow(np.zeros((h, N_COPIES * (w + GAP) - GAP, 4), np.uint8),
                                                interpolation="bilinear")
        self.digit_image = self.ax_digits.imshow(np.zeros((2 * 9 - 1, 4 * 9 - 1, 4), np.uint8),
                                                 interpolation="nearest")
        for ax in (self.ax_photo, self.ax_digits):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        self.ax_digits.set_title(f"{N_DIGITS} held-out digits (8 x 8)", fontsize="medium")
        self.heading = figure.suptitle("", fontsize="medium")
        self.state = self.ax_photo.set_title("")
        self.dynamic(self.photo_image, self.digit_image, self.state)

    def draw(self, photo, augmentation, strength, draw):
        heading = _heading(augmentation)
        if self.heading.get_text() != heading:
            self.heading.set_text(heading)
            self.invalidate(augmentation)              # one static rendering per augmentation
        strip, tiles = self._augmented(photo, augmentation, strength, draw)
        self.photo_image.set_data(strip)
        self.digit_image.set_data(tiles)
        self.state.set_text(f"strength {strength:.2f}, draw {draw}")   # short: each glyph costs 0.1 ms

    def _augmented(self, photo, augmentation, strength, draw):
        """The photo strip and the digit tiles of a state, as 8-bit RGBA: from the cache, or
        augmented (one batched call each, on one torch thread: these batches are too small for a
        second thread to do anything but wait)."""
        key = (photo, augmentation, float(strength), int(draw))
        if key in self._states:
            self._states.move_to_end(key)
            return self._states[key]
        torch = self._torch
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            generator = torch.Generator().manual_seed(int(draw))
            index = 0 if photo == "temple" else 1
            photos = self._photos[index:index + 1].expand(N_COPIES, -1, -1, -1)
            out = augment.apply(augmentation, photos, strength, generator=generator)
            digits = augment.apply(augmentation, self._digits, strength, generator=generator)
            out = (out.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
            ink = ((1 - digits.clamp(0, 1)) * 255).round().to(torch.uint8)[:, 0].numpy()  # white paper, dark ink
        finally:
            torch.set_num_threads(threads)
        h, w = out.shape[1:3]
        strip = np.full((h, N_COPIES * (w + GAP) - GAP, 4), 255, dtype=np.uint8)
        for i in range(N_COPIES):
            strip[:, i * (w + GAP):i * (w + GAP) + w, :3] = out[i]
        tiles = np.full((2 * 9 - 1, 4 * 9 - 1, 4), 255, dtype=np.uint8)
        for i in range(N_DIGITS):
            r, c = divmod(i, 4)
            tiles[r * 9:r * 9 + 8, c * 9:c * 9 + 8, :3] = ink[i, :, :, None]
        self._states[key] = (strip, tiles)
        while len(self._states) > CACHED_STATES:
            self._states.popitem(last=False)
        return strip, tiles


def _heading(augmentation: str) -> str:
    return f"{augmentation}: strength 1 means {augment.STRENGTH[augmentation]}"


def augmentation_explorer(**initial_values) -> AugmentationExplorer:
    """Controls: ``photo`` (``"temple"`` or ``"flower"``, scikit-learn's two sample photographs),
    ``augmentation`` (one of ``lecture_lib.augment.NAMES``), ``strength`` (0 to 1; 0 leaves the images
    as they are, :data:`lecture_lib.augment.STRENGTH` says what 1 means), ``draw`` (which set of
    random draws, 0 to 20). Interactive size: three copies of a 64 x 96 photograph and eight 8 x 8
    digits, each augmented with its own random parameters in one batched call; the images of the
    last 64 states are kept."""
    return AugmentationExplorer(**initial_values)
