"""The lecture notes' initialization code (section *Weight Initialization*), transcribed as written,
for the errata of 02_initialization.

One change only, so that it runs reproducibly: ``np.random.randn`` becomes the ``standard_normal`` of
a generator passed in. The notes call the first line "Xavier initialization (Glorot et al., 2010)";
it is LeCun's 1/fan_in (Glorot's is 2/(fan_in + fan_out)), which 02 measures. The second, with the
"/2", is He's, whose reason the notes give as "the 50% of neurons that are dead"; 02 measures that
too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["notes_xavier", "notes_he"]


def notes_xavier(fan_in, fan_out, rng):
    W = rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)  # layer initialization
    return W


def notes_he(fan_in, fan_out, rng):
    W = rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in/2)  # layer initialization
    return W
