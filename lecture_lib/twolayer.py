"""A two-layer network built only from the gates of :mod:`lecture_lib.layers`
(affine -> ReLU -> affine -> softmax loss), trained by full-batch gradient descent; and the same
network in torch, for the parity tests and the speed benchmark.

Parameters are a plain dict: ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import layers
from .config import check_seed

PARAM_NAMES = ("W1", "b1", "W2", "b2")

# The thresholds the notebook asserts on the spiral (3 arms): train and held-out accuracy.
TRAIN_ACC_MIN = 0.97
HELDOUT_ACC_MIN = 0.90


def spiral_accuracy_ok(train_acc: float, heldout_acc: float) -> bool:
    """The staged-computation check: both accuracies reach their thresholds."""
    return train_acc >= TRAIN_ACC_MIN and heldout_acc >= HELDOUT_ACC_MIN


def init_params(D: int, H: int, C: int, seed: int = 0, dtype=np.float64) -> dict:
    """He-initialised weights (std sqrt(2 / fan_in)) and zero biases."""
    for name, v in (("D", D), ("H", H), ("C", C)):
        if not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name}={v!r} is not valid; expected a positive integer")
    rng = np.random.default_rng(check_seed(seed))
    return {"W1": (rng.standard_normal((D, H)) * np.sqrt(2.0 / D)).astype(dtype),
            "b1": np.zeros(H, dtype),
            "W2": (rng.standard_normal((H, C)) * np.sqrt(2.0 / H)).astype(dtype),
            "b2": np.zeros(C, dtype)}


def scores(params: dict, X: np.ndarray) -> np.ndarray:
    """Class scores (N, C) for inputs X (N, D)."""
    h, _ = layers.affine_forward(X, params["W1"], params["b1"])
    a, _ = layers.relu_forward(h)
    s, _ = layers.affine_forward(a, params["W2"], params["b2"])
    return s


def predict(params: dict, X: np.ndarray) -> np.ndarray:
    return np.argmax(scores(params, X), axis=1)


def accuracy(params: dict, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(params, X) == y))


def loss_and_grads(params: dict, X: np.ndarray, y: np.ndarray, reg: float = 0.0,
                   relu_backward=layers.relu_backward) -> tuple[float, dict]:
    """Staged forward and backward pass: each stage is one gate, each gradient its local backward.

    Loss = softmax loss + (reg / 2) * (|W1|^2 + |W2|^2). Returns (loss, grads) with grads keyed
    like params. ``relu_backward`` can be swapped for a wrong one, to see a check fail."""
    if reg < 0:
        raise ValueError(f"reg={reg!r} is not valid; expected a non-negative number")
    h, c1 = layers.affine_forward(X, params["W1"], params["b1"])
    a, c2 = layers.relu_forward(h)
    s, c3 = layers.affine_forward(a, params["W2"], params["b2"])
    loss, ds = layers.softmax_loss(s, y)
    da, dW2, db2 = layers.affine_backward(ds, c3)
    dh = relu_backward(da, c2)
    _, dW1, db1 = layers.affine_backward(dh, c1)
    loss += 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    return float(loss), {"W1": dW1 + reg * params["W1"], "b1": db1,
                         "W2": dW2 + reg * params["W2"], "b2": db2}


def sgd_step(params: dict, grads: dict, lr: float) -> None:
    for name in PARAM_NAMES:
        params[name] -= lr * grads[name]


@dataclass
class TrainResult:
    params: dict
    losses: list = field(default_factory=list)


def train(X, y, *, hidden: int = 100, lr: float = 1.0, reg: float = 1e-4, steps: int = 1000,
          seed: int = 0, relu_backward=layers.relu_backward) -> TrainResult:
    """Full-batch gradient descent on the two-layer net; returns the parameters and the losses."""
    if not lr > 0:
        raise ValueError(f"lr={lr!r} is not valid; expected a positive learning rate")
    if not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"steps={steps!r} is not valid; expected a positive integer")
    C = int(np.max(y)) + 1
    params = init_params(X.shape[1], hidden, C, seed)
    result = TrainResult(params)
    for _ in range(steps):
        loss, grads = loss_and_grads(params, X, y, reg, relu_backward=relu_backward)
        result.losses.append(loss)
        sgd_step(params, grads, lr)
    return result


# --------------------------------------------------------------------------- the same net in torch
def torch_net(params: dict):
    """A torch ``nn.Sequential`` with the same weights (nn.Linear stores W transposed)."""
    import torch

    D, H = params["W1"].shape
    C = params["W2"].shape[1]
    dtype = torch.float64 if params["W1"].dtype == np.float64 else torch.float32
    net = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, C)).to(dtype)
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(params["W1"].T.copy()))
        net[0].bias.copy_(torch.from_numpy(params["b1"]))
        net[2].weight.copy_(torch.from_numpy(params["W2"].T.copy()))
        net[2].bias.copy_(torch.from_numpy(params["b2"]))
    return net


def torch_grads(params: dict, X, y, reg: float = 0.0) -> tuple[float, dict]:
    """Loss and gradients of the same net by torch.autograd, in the NumPy layout."""
    import torch

    net = torch_net(params)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))
    loss = torch.nn.functional.cross_entropy(net(Xt), yt)
    loss = loss + 0.5 * reg * (net[0].weight.pow(2).sum() + net[2].weight.pow(2).sum())
    loss.backward()
    return loss.item(), {"W1": net[0].weight.grad.numpy().T, "b1": net[0].bias.grad.numpy(),
                         "W2": net[2].weight.grad.numpy().T, "b2": net[2].bias.grad.numpy()}
