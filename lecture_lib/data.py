"""Datasets that need no download: spirals made in code, scikit-learn's shipped digits,
CIFAR-10 read from a local copy in its binary format, and a text corpus that ships with Python.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import check_seed


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


def load_cifar10(root=None, *, records_per_file: int | None = 10000):
    """CIFAR-10 from a local folder in the binary format (never pickle). Returns
    ``(X_train, y_train, X_test, y_test)`` with images uint8 (N, 3, 32, 32)."""
    folder = cifar10_dir(root)
    if folder is None:
        raise DatasetError(
            f"no CIFAR-10 folder given: pass root=... or set {CIFAR10_ENV} to the folder that holds "
            "data_batch_1.bin ... test_batch.bin (from cifar-10-binary.tar.gz)")
    if not folder.is_dir():
        raise DatasetError(f"CIFAR-10 folder {str(folder)!r} does not exist")
    missing = [f for f in (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE) if not (folder / f).is_file()]
    if missing:
        raise DatasetError(f"CIFAR-10 folder {str(folder)!r} lacks {', '.join(missing)}")
    parts = [read_cifar10_batch(folder / f, records=records_per_file) for f in CIFAR10_TRAIN_FILES]
    X_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    X_test, y_test = read_cifar10_batch(folder / CIFAR10_TEST_FILE, records=records_per_file)
    return X_train, y_train, X_test, y_test


def cifar10_or_digits(root=None):
    """CIFAR-10 when a local copy exists, otherwise digits, with a line saying which and why.
    Returns ``(name, data)`` where data is CIFAR-10's 4-tuple or a digits ``Splits``."""
    try:
        return "cifar10", load_cifar10(root)
    except DatasetError as err:
        print(f"CIFAR-10 not used ({err}); falling back to scikit-learn's digits.")
        return "digits", digits()


# --------------------------------------------------------------------------- text
def text_corpus(max_chars: int | None = None) -> str:
    """English prose that ships with every CPython: the interactive help's topic texts
    (``pydoc_data.topics``), about 460 kB of text. ``max_chars`` cuts it."""
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[key].strip() for key in sorted(topics))
    if max_chars is not None:
        text = text[: _positive_int(max_chars, "max_chars")]
    return text
