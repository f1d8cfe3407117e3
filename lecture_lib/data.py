"""Datasets that need no download: spirals made in code, scikit-learn's shipped digits,
CIFAR-10 read from a local copy in its binary format, and a text corpus that ships with Python.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import check_int, check_scalar, check_seed


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}={value!r} is not valid; expected a positive integer")
    return int(value)


# --------------------------------------------------------------------------- spirals
def spiral(n_classes: int = 3, points_per_class: int = 100, noise: float = 0.2, seed: int = 0):
    """The CS231n spiral: ``n_classes`` arms of ``points_per_class`` points in 2-D.

    Returns ``X`` of shape (n_classes * points_per_class, 2), float64, and labels ``y`` (int64).
    ``noise`` is the std of the Gaussian jitter added to each point's angle."""
    n_classes = _positive_int(n_classes, "n_classes")
    points_per_class = _positive_int(points_per_class, "points_per_class")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise={noise!r} is not valid; expected a non-negative number")
    rng = np.random.default_rng(check_seed(seed))
    n = n_classes * points_per_class
    X = np.zeros((n, 2))
    y = np.zeros(n, dtype=np.int64)
    for k in range(n_classes):
        idx = slice(k * points_per_class, (k + 1) * points_per_class)
        r = np.linspace(0.0, 1.0, points_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, points_per_class) + rng.normal(0, noise, points_per_class)
        X[idx] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[idx] = k
    return X, y


# --------------------------------------------------------------------------- splits
@dataclass
class Splits:
    """Train / validation / test arrays. ``X_*`` float32 (N, D) in [0, 1]; ``y_*`` int64."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    def torch(self, device=None):
        """The same splits as torch tensors on ``device`` (default: ``choose_device()``)."""
        import torch

        from .config import choose_device

        device = device if device is not None else choose_device()
        names = ["X_train", "y_train", "X_val", "y_val", "X_test", "y_test"]
        tensors = {k: torch.as_tensor(getattr(self, k)).to(device) for k in names}
        return Splits(**tensors, n_classes=self.n_classes)

    def standardized(self, std_floor: float = 1e-2) -> Splits:
        """Zero-centred and scaled with the *train* split's per-feature mean and std; the std of
        constant features (blank pixels) is floored at ``std_floor`` instead of dividing by zero."""
        mean = self.X_train.mean(axis=0)
        std = np.maximum(self.X_train.std(axis=0), std_floor)

        def norm(X):
            return ((X - mean) / std).astype(self.X_train.dtype)

        return Splits(norm(self.X_train), self.y_train, norm(self.X_val), self.y_val,
                      norm(self.X_test), self.y_test, self.n_classes)


def split_arrays(X, y, val_fraction=0.2, test_fraction=0.2, seed=0, n_classes=None) -> Splits:
    """Shuffle and split arrays into train / val / test, stratified by label."""
    from sklearn.model_selection import train_test_split

    for name, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < frac < 1:
            raise ValueError(f"{name}={frac!r} is not valid; expected a number in (0, 1)")
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction = {val_fraction + test_fraction} must be below 1")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels; expected equal lengths")
    seed = check_seed(seed)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction / (1 - test_fraction), random_state=seed, stratify=y_rest)
    k = int(n_classes) if n_classes is not None else int(np.max(y)) + 1
    return Splits(X_train, y_train, X_val, y_val, X_test, y_test, k)


def digits(val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0) -> Splits:
    """scikit-learn's 8x8 handwritten digits (1797 images, 64 features, 10 classes; it ships with
    scikit-learn, nothing is downloaded), scaled to [0, 1] and split train / val / test."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    return split_arrays(X, y, val_fraction, test_fraction, seed, n_classes=10)


# --------------------------------------------------------------------------- CIFAR-10
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
CIFAR10_RECORD = 1 + 32 * 32 * 3
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch.bin"
CIFAR10_ENV = "LECTURE_CIFAR10_DIR"


class DatasetError(FileNotFoundError):
    """A dataset is missing or corrupt; the message says where it was looked for and what to do."""


def read_cifar10_batch(path, *, records: int | None = 10000):
    """Read one CIFAR-10 binary batch: each record is 1 label byte then 3072 pixel bytes
    (1024 red, 1024 green, 1024 blue, row-major 32x32). Returns images (N, 3, 32, 32) uint8 and
    labels (N,) int64. ``records`` is the expected count (None accepts any whole number)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"CIFAR-10 file {str(path)!r} does not exist")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % CIFAR10_RECORD:
        raise DatasetError(
            f"CIFAR-10 file {str(path)!r} has {raw.size} bytes, not a multiple of the "
            f"{CIFAR10_RECORD}-byte record; is it the *binary* version (cifar-10-binary.tar.gz)?")
    n = raw.size // CIFAR10_RECORD
    if records is not None and n != records:
        raise DatasetError(f"CIFAR-10 file {str(path)!r} holds {n} records; expected {records}")
    table = raw.reshape(n, CIFAR10_RECORD)
    labels = table[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DatasetError(f"CIFAR-10 file {str(path)!r}: record {bad} has label {labels[bad]}; expected 0..9")
    images = table[:, 1:].reshape(n, 3, 32, 32)
    return images, labels


def cifar10_dir(root=None) -> Path | None:
    """Where a local CIFAR-10 copy lives: ``root``, else ``$LECTURE_CIFAR10_DIR``, else None.
    The folder may be the extracted ``cifar-10-batches-bin`` or its parent."""
    root = root if root is not None else os.environ.get(CIFAR10_ENV)
    if not root:
        return None
    root = Path(root).expanduser()
    if (root / "cifar-10-batches-bin").is_dir():
        root = root / "cifar-10-batches-bin"
    return root


def _cifar10_hint() -> str:
    return (f"pass the folder that holds data_batch_1.bin ... test_batch.bin (from cifar-10-binary.tar.gz), "
            f"or set {CIFAR10_ENV} to it")


def load_cifar10(root=None, *, records_per_file: int | None = 10000):
    """CIFAR-10 from a local folder in the binary format (never pickle). Returns
    ``(X_train, y_train, X_test, y_test)`` with images uint8 (N, 3, 32, 32).

    Every error is a :class:`DatasetError` that names the folder and ``LECTURE_CIFAR10_DIR``."""
    folder = cifar10_dir(root)
    if folder is None:
        raise DatasetError(
            f"no CIFAR-10 folder given: pass root=... or set {CIFAR10_ENV} to the folder that holds "
            "data_batch_1.bin ... test_batch.bin (from cifar-10-binary.tar.gz)")
    if not folder.is_dir():
        raise DatasetError(f"CIFAR-10 folder {str(folder)!r} does not exist; {_cifar10_hint()}")
    missing = [f for f in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE) if not (folder / f).is_file()]
    if missing:
        raise DatasetError(f"CIFAR-10 folder {str(folder)!r} lacks {', '.join(missing)}; {_cifar10_hint()}")
    try:
        parts = [read_cifar10_batch(folder / f, records=records_per_file) for f in CIFAR10_TRAIN_FILES]
        X_test, y_test = read_cifar10_batch(folder / CIFAR10_TEST_FILE, records=records_per_file)
    except DatasetError as err:
        raise DatasetError(f"CIFAR-10 folder {str(folder)!r} is corrupt: {err}; {_cifar10_hint()}") from None
    X_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return X_train, y_train, X_test, y_test


def cifar10_or_digits(root=None):
    """CIFAR-10 when a local copy exists, otherwise digits, with a line saying which and why.
    Returns ``(name, data)`` where data is CIFAR-10's 4-tuple or a digits ``Splits``."""
    try:
        return "cifar10", load_cifar10(root)
    except DatasetError as err:
        print(f"CIFAR-10 not used ({err}); falling back to scikit-learn's digits.")
        return "digits", digits()


# --------------------------------------------------------------------------- synthetic CIFAR-10
SYNTHETIC_BLOCK = 1000  # synthetic images are made in blocks of this many (100 per class)


def synthetic_cifar10(n_train: int = 50000, n_test: int = 10000, *, seed: int = 0, noise: float = 0.35):
    """A CIFAR-shaped, learnable stand-in for CIFAR-10, made in code: ``(X_train, y_train, X_test,
    y_test)`` exactly as :func:`load_cifar10` returns them (uint8 images (N, 3, 32, 32), int64
    labels 0..9, each class 100 times in every block of 1000 images).

    Each class is a striped texture with its own orientation, stripe frequency and colour; every
    image shows its class's texture at a random phase (so the stripes move across the image),
    random contrast and brightness, over a second, random-orientation texture and pixel noise
    of std ``noise`` (relative to the texture's amplitude). The class patterns depend on ``seed``
    only; the training and test images come from separate streams, and the first ``n`` images
    are the same for any larger count (like taking the first ``n`` of CIFAR-10)."""
    n_train = check_int(n_train, "n_train", min=1, max=1_000_000)
    n_test = check_int(n_test, "n_test", min=1, max=1_000_000)
    noise = check_scalar(noise, "noise", min=0.0)
    patterns, train_seeds, test_seeds = np.random.SeedSequence(check_seed(seed)).spawn(3)
    patterns = np.random.default_rng(patterns)
    n_classes = len(CIFAR10_CLASSES)
    angles = (np.arange(n_classes) + patterns.uniform(0.2, 0.8, n_classes)) * np.pi / n_classes
    frequencies = patterns.permutation(np.linspace(1.5, 4.0, n_classes)) * 2 * np.pi / 32
    colours = patterns.uniform(0.25, 1.0, (n_classes, 3))
    grid = np.arange(32, dtype=np.float32)

    def stripes(angle, frequency, phase):
        along = np.cos(angle)[:, None, None] * grid[None, :, None] + np.sin(angle)[:, None, None] * grid[None, None, :]
        return np.sin((frequency[:, None, None] * along + phase[:, None, None]).astype(np.float32))

    def block(seed_seq):  # SYNTHETIC_BLOCK images, each class a tenth of them
        rng, m = np.random.default_rng(seed_seq), SYNTHETIC_BLOCK
        y = rng.permutation(np.arange(m) % n_classes)
        texture = stripes(angles[y], frequencies[y], rng.uniform(0, 2 * np.pi, m))
        clutter = stripes(rng.uniform(0, np.pi, m), rng.uniform(1.0, 4.5, m) * 2 * np.pi / 32,
                          rng.uniform(0, 2 * np.pi, m))
        contrast = rng.uniform(0.5, 1.0, m).astype(np.float32)[:, None, None, None]
        clutter_colour = 0.5 * rng.uniform(0.2, 1.0, (m, 3)).astype(np.float32)
        picture = contrast * colours[y].astype(np.float32)[:, :, None, None] * texture[:, None]
        picture += clutter_colour[:, :, None, None] * clutter[:, None]
        picture += np.float32(noise) * rng.standard_normal((m, 3, 32, 32), dtype=np.float32)
        picture += rng.uniform(-0.3, 0.3, m).astype(np.float32)[:, None, None, None]
        return np.clip(128 + 60 * picture, 0, 255).astype(np.uint8), y.astype(np.int64)

    def make(n, seeds):  # whole blocks, then cut: the first n images do not depend on n
        parts = [block(s) for s in seeds.spawn(-(-n // SYNTHETIC_BLOCK))]
        return np.concatenate([p[0] for p in parts])[:n], np.concatenate([p[1] for p in parts])[:n]

    X_train, y_train = make(n_train, train_seeds)
    X_test, y_test = make(n_test, test_seeds)
    return X_train, y_train, X_test, y_test


# --------------------------------------------------------------------------- text
def text_corpus(max_chars: int | None = None) -> str:
    """English prose that ships with every CPython: the interactive help's topic texts
    (``pydoc_data.topics``), about 460 kB of text. ``max_chars`` cuts it."""
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[key].strip() for key in sorted(topics))
    if max_chars is not None:
        text = text[: _positive_int(max_chars, "max_chars")]
    return text
