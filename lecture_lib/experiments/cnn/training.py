"""The torch plumbing behind the experiments of 07_cnn_architectures: the digits as images, short
training runs on one CPU thread, gradient norms per layer, and Deep Compression (pruning, weight
sharing by k-means, the size of the compressed model)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..._checks import check_int, check_positive_int, check_probability
from ...config import single_thread


@dataclass(frozen=True)
class DigitImages:
    """scikit-learn's digits as 1 x 8 x 8 images, standardized with the training pixels' mean and
    std. ``train`` is the data split's train + validation parts, ``test`` its test part."""

    X_train: np.ndarray   # (N, 1, 8, 8) float32
    y_train: np.ndarray   # (N,) int64
    X_test: np.ndarray
    y_test: np.ndarray
    background: float     # the standardized value of a blank pixel


@cache
def standardized_digits(seed: int = 0) -> DigitImages:
    """The digits as images (cached: the arrays are shared, treat them as read-only)."""
    from ...data import digits

    splits = digits(seed=seed)
    X = np.concatenate([splits.X_train, splits.X_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    mean, std = float(X.mean()), float(X.std())

    def images(A):
        return ((A - mean) / std).reshape(-1, 1, 8, 8).astype(np.float32)

    return DigitImages(images(X), y, images(splits.X_test), splits.y_test, -mean / std)


def accuracy(model, X, y) -> float:
    """Accuracy in eval mode (batch norm with running statistics), without gradients."""
    from ...train import evaluate

    with single_thread():
        return evaluate(model, X, y, device="cpu")[1]


def recalibrate_batch_norm(model, X, batch_size: int = 256) -> None:
    """Set every batch-norm layer's running statistics to the mean and variance of its input over
    ``X`` under the final weights (torch's ``swa_utils.update_bn``: one pass in training mode,
    a cumulative average, no gradients).

    After a short run the running averages (momentum 0.1) still remember the first steps' weights;
    evaluated with them, a net can look far worse than it is (a deep plain net at 90 % error where
    its predictions in training mode are at 40 %). Recalibrated, eval mode measures the net."""
    import torch
    from torch.optim.swa_utils import update_bn

    batches = [torch.as_tensor(X[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    with single_thread():
        update_bn(batches, model)


@dataclass(frozen=True)
class Run:
    """A short training run: the model (its batch-norm statistics recalibrated on the training
    images), its per-epoch training loss and accuracy (measured during the epoch, as the papers
    plot them), and the CPU seconds it took."""

    model: object
    train_loss: tuple
    train_acc: tuple
    cpu_seconds: float


def train(model, X, y, *, epochs: int, lr: float, batch_size: int = 64, seed: int = 0,
          weight_decay: float = 0.0) -> Run:
    """Adam(W) on the CPU, one thread (small models on a shared machine: a second thread only
    waits), through :func:`lecture_lib.train.fit`, then :func:`recalibrate_batch_norm` on ``X``.
    CPU time (of the training alone), not wall time, so that other processes on the machine do
    not count."""
    from ...train import fit

    epochs = check_positive_int(epochs, "epochs")
    with single_thread():
        start = time.process_time()
        history = fit(model, X, y, epochs=epochs, lr=lr, batch_size=batch_size, optimizer="adamw",
                      optimizer_kwargs={"weight_decay": weight_decay}, device="cpu", seed=seed, progress=False)
        seconds = time.process_time() - start
    recalibrate_batch_norm(model, X)
    return Run(model.eval(), tuple(history.train_loss), tuple(history.train_acc), seconds)


def conv_gradient_norms(model, X, y) -> np.ndarray:
    """The RMS of the loss's gradient with respect to each conv layer's weights, in definition
    order (the input side first), for one batch in training mode."""
    import torch
    import torch.nn.functional as F

    with single_thread():
        model.train()
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y)).backward()
        norms = [float(m.weight.grad.pow(2).mean().sqrt()) for m in model.modules()
                 if isinstance(m, torch.nn.Conv2d)]
        model.zero_grad(set_to_none=True)
    return np.array(norms)


# --------------------------------------------------------------------------- Deep Compression
def weight_tensors(model) -> list:
    """The weights of every conv and fc layer (what Deep Compression prunes and shares)."""
    from ...models.anatomy import weight_layers

    return [m.weight for _, m in weight_layers(model)]


def prune(model, fraction: float) -> None:
    """Magnitude pruning: the ``fraction`` of conv and fc weights smallest in absolute value,
    over all layers together, are set to zero and kept there (``torch.nn.utils.prune``'s mask,
    so that fine-tuning keeps them at zero)."""
    import torch.nn.utils.prune as torch_prune

    fraction = check_probability(fraction, "fraction", allow_one=False)
    from ...models.anatomy import weight_layers

    pairs = [(m, "weight") for _, m in weight_layers(model)]
    torch_prune.global_unstructured(pairs, pruning_method=torch_prune.L1Unstructured, amount=fraction)


def make_pruning_permanent(model) -> None:
    import torch.nn.utils.prune as torch_prune

    from ...models.anatomy import weight_layers

    for _, m in weight_layers(model):
        if torch_prune.is_pruned(m):
            torch_prune.remove(m, "weight")


def kmeans_1d(values: np.ndarray, clusters: int, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means on numbers, started from centroids spread evenly between the smallest and
    the largest value (Deep Compression's "linear" initialization, which keeps the rare large
    weights represented). Returns (centroids, label of each value)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    centroids = np.linspace(values.min(), values.max(), clusters)
    labels = np.zeros(values.size, dtype=np.intp)
    for _ in range(iterations):
        edges = (centroids[1:] + centroids[:-1]) / 2          # sorted centroids: nearest by bisection
        labels = np.searchsorted(edges, values)
        sums = np.bincount(labels, weights=values, minlength=clusters)
        counts = np.bincount(labels, minlength=clusters)
        updated = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        if np.allclose(updated, centroids):
            break
        centroids = np.sort(updated)
    return centroids, labels


def share_weights(model, bits: int) -> None:
    """Weight sharing: each layer's non-zero weights are replaced by the nearest of 2**bits
    centroids (k-means per layer); zeros stay zero."""
    import torch

    bits = check_int(bits, "bits", min=1, max=16)
    with torch.no_grad():
        for weight in weight_tensors(model):
            w = weight.detach().cpu().numpy().ravel().copy()
            nonzero = w != 0
            if nonzero.sum() > 2 ** bits:
                centroids, labels = kmeans_1d(w[nonzero], 2 ** bits)
                w[nonzero] = centroids[labels]
                weight.copy_(torch.from_numpy(w.reshape(weight.shape)))


def compressed_bytes(model, bits: int, index_bits: int) -> int:
    """Bytes of the model stored as Deep Compression stores it: for every non-zero weight, its
    centroid's index (``bits``) and the distance from the previous non-zero (``index_bits``; a
    gap too long for them costs filler entries), a float32 codebook of 2**bits values per layer,
    and every other parameter (biases, batch norm) as float32."""
    bits = check_int(bits, "bits", min=1, max=16)
    index_bits = check_int(index_bits, "index_bits", min=1, max=16)
    total_bits = 0
    shared = {id(w) for w in weight_tensors(model)}
    for weight in weight_tensors(model):
        flat = weight.detach().cpu().numpy().ravel()
        positions = np.flatnonzero(flat)
        gaps = np.diff(np.concatenate([[-1], positions]))
        entries = int(np.sum(np.ceil(gaps / 2 ** index_bits)))
        total_bits += entries * (bits + index_bits) + 32 * 2 ** bits
    others = sum(p.numel() for p in model.parameters() if id(p) not in shared)
    return (total_bits + 32 * others + 7) // 8


def dense_bytes(model) -> int:
    """Bytes of every parameter stored as float32."""
    return 4 * sum(p.numel() for p in model.parameters())
