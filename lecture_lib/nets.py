"""The course's one NumPy network: a multilayer perceptron built from the gates of
:mod:`lecture_lib.layers`, a mini-batch training loop on :mod:`lecture_lib.optim`, and the one
softmax regression.

Each hidden layer is ``affine -> [batchnorm | layernorm] -> activation -> [dropout]``; the last layer
is affine (with ``dropconnect_keep``, every affine layer after the first is a DropConnect gate), and
the loss is the softmax loss (mean over the batch) plus ``reg / 2 * sum(W**2)`` over
the weight matrices (so ``reg`` is the weight-decay coefficient: the gradient gains ``reg * W``).

Parameters are a dict: ``W1, b1, ..., WL, bL`` and, with a normalization, ``gamma1, beta1, ...`` for
the hidden layers. A forward pass in ``"train"`` mode uses batch statistics and draws dropout masks;
``"test"`` mode uses the running statistics and no dropout.

    net = MLP([64, 100, 100, 10], activation="relu", init="he", norm="batchnorm", rng=rng)
    loss, grads = net.loss(X, y)                       # grads keyed like net.params
    result = train(net, X, y, optimizer=optim.SGD(lr=0.1), epochs=5, batch_size=64, rng=rng)

Math only: no plotting, widgets or torch here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import activations as A
from . import layers
from ._checks import (
    as_rng,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_positive_int,
    check_probability,
    check_scalar,
)
from .init import INITS, init_std

GATE_ACTIVATIONS = ("relu", "sigmoid", "tanh")          # have a gate pair in lecture_lib.layers
ACTIVATIONS = (*GATE_ACTIVATIONS, "leaky_relu", "elu", "linear")
NORMS = (None, "batchnorm", "layernorm")


# --------------------------------------------------------------------------- the network
@dataclass(frozen=True)
class Trace:
    """What one forward and backward pass saw, per hidden layer (input side first): the affine
    outputs ``pre``, the activations' inputs ``z`` (after the normalization, if any), their outputs
    ``out``, and the loss's gradient with respect to each ``pre`` and each weight matrix."""

    pre: tuple
    z: tuple
    out: tuple
    grad_pre: tuple
    grad_W: tuple  # every layer, the output layer included


class MLP:
    """A fully connected network on the gates (see the module docstring).

    - ``sizes``: input dimension, hidden widths..., number of classes;
    - ``activation``: one of :data:`ACTIVATIONS`; ``init``: a scheme of :data:`lecture_lib.init.INITS`
      (zeros, small, large, lecun, xavier, he) or a function
      ``(fan_in, fan_out, rng) -> W``; ``scale`` multiplies every initial weight;
    - ``norm``: None, ``"batchnorm"`` or ``"layernorm"`` (after each hidden affine layer);
    - ``dropout_keep``: the probability of keeping a hidden unit (None: no dropout);
    - ``dropconnect_keep``: the probability of keeping a weight of each layer that reads a hidden
      layer (W2 ... WL: where dropout would drop whole rows, DropConnect drops single weights);
      None: no DropConnect;
    - ``rng``: a NumPy Generator; it draws the weights and, later, the dropout masks.
    """

    def __init__(self, sizes: Sequence[int], *, activation: str = "relu", init: str | Callable = "he",
                 scale: float = 1.0, norm: str | None = None, dropout_keep: float | None = None,
                 bias: float = 0.0, rng, dtype=np.float64, dropconnect_keep: float | None = None):
        sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else sizes
        if not isinstance(sizes, list) or len(sizes) < 2:
            raise ValueError(f"sizes={sizes!r} is not valid; expected at least an input and an output size")
        self.sizes = [check_positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.norm = check_choice(norm, "norm", NORMS)
        self.dropout_keep = None if dropout_keep is None else check_probability(
            dropout_keep, "dropout_keep", allow_zero=False)
        self.dropconnect_keep = None if dropconnect_keep is None else check_probability(
            dropconnect_keep, "dropconnect_keep", allow_zero=False)
        scale = check_scalar(scale, "scale", min=0.0)
        bias = check_scalar(bias, "bias")
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise TypeError(f"dtype={dtype!r} is not valid; expected a floating dtype")
        self.rng = as_rng(rng)
        if not callable(init):
            check_choice(init, "init", INITS)
        self.params: dict[str, np.ndarray] = {}
        self.norm_params: list[dict] = [{"mode": "train"} for _ in range(self.n_hidden)]
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes, self.sizes[1:], strict=False), start=1):
            if callable(init):
                W = check_array(init(fan_in, fan_out, self.rng), "init(...)", shape=(fan_in, fan_out))
            else:
                W = self.rng.standard_normal((fan_in, fan_out)) * init_std(init, fan_in, fan_out)
            self.params[f"W{i}"] = (scale * W).astype(self.dtype)
            hidden = i <= self.n_hidden
            self.params[f"b{i}"] = np.full(fan_out, bias if hidden else 0.0, dtype=self.dtype)
            if hidden and self.norm is not None:
                self.params[f"gamma{i}"] = np.ones(fan_out, dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(fan_out, dtype=self.dtype)

    @property
    def n_hidden(self) -> int:
        return len(self.sizes) - 2

    @property
    def weight_names(self) -> list[str]:
        return [f"W{i}" for i in range(1, self.n_hidden + 2)]

    # ----------------------------------------------------------------- one activation, as a gate
    def _activate(self, z):
        if self.activation in GATE_ACTIVATIONS:
            return getattr(layers, f"{self.activation}_forward")(z)
        if self.activation == "linear":
            return z, None
        f, _ = A.get(self.activation)
        return f(z).astype(z.dtype, copy=False), z

    def _activate_backward(self, dout, cache):
        if self.activation in GATE_ACTIVATIONS:
            return getattr(layers, f"{self.activation}_backward")(dout, cache)
        if self.activation == "linear":
            return dout
        _, f_grad = A.get(self.activation)
        return dout * f_grad(cache).astype(dout.dtype, copy=False)

    # ----------------------------------------------------------------- affine or DropConnect
    def _affine(self, i: int, h, mode: str):
        W, b = self.params[f"W{i}"], self.params[f"b{i}"]
        if i == 1 or self.dropconnect_keep is None or self.dropconnect_keep == 1.0:
            out, cache = layers.affine_forward(h, W, b)
            return out, (False, cache)
        seed = int(self.rng.integers(0, 2**31 - 1)) if mode == "train" else 0
        out, cache = layers.dropconnect_forward(h, W, b, {"p": self.dropconnect_keep, "mode": mode, "seed": seed})
        return out, (True, cache)

    @staticmethod
    def _affine_backward(dout, cache):
        dropconnect, inner = cache
        return (layers.dropconnect_backward if dropconnect else layers.affine_backward)(dout, inner)

    # ----------------------------------------------------------------- forward and backward
    def forward(self, X, *, mode: str = "train"):
        """Class scores (N, C) and the cache the backward pass needs."""
        check_choice(mode, "mode", ("train", "test"))
        X = check_array(X, "X", shape=(None, self.sizes[0]))
        h, caches = X.astype(self.dtype, copy=False), []
        for i in range(1, self.n_hidden + 1):
            pre, c_affine = self._affine(i, h, mode)
            c_norm = None
            z = pre
            if self.norm is not None:
                param = self.norm_params[i - 1]
                param["mode"] = mode
                z, c_norm = getattr(layers, f"{self.norm}_forward")(
                    pre, self.params[f"gamma{i}"], self.params[f"beta{i}"], param)
            out, c_act = self._activate(z)
            c_drop = None
            h = out
            if self.dropout_keep is not None and self.dropout_keep < 1.0:
                seed = int(self.rng.integers(0, 2**31 - 1)) if mode == "train" else 0
                h, c_drop = layers.dropout_forward(out, {"p": self.dropout_keep, "mode": mode, "seed": seed})
            caches.append((c_affine, c_norm, c_act, c_drop, pre, z, out))
        last = self.n_hidden + 1
        scores, c_out = self._affine(last, h, mode)
        return scores, (caches, c_out)

    def backward(self, dscores, cache):
        """Gradients of every parameter, keyed like ``params``, and the gradients with respect to
        each hidden layer's affine output (for the statistics of a :class:`Trace`)."""
        caches, c_out = cache
        grads, grad_pre = {}, []
        last = self.n_hidden + 1
        dh, grads[f"W{last}"], grads[f"b{last}"] = self._affine_backward(dscores, c_out)
        for i in range(self.n_hidden, 0, -1):
            c_affine, c_norm, c_act, c_drop, *_ = caches[i - 1]
            if c_drop is not None:
                dh = layers.dropout_backward(dh, c_drop)
            dz = self._activate_backward(dh, c_act)
            if self.norm is not None:
                dz, grads[f"gamma{i}"], grads[f"beta{i}"] = getattr(layers, f"{self.norm}_backward")(dz, c_norm)
            grad_pre.append(dz)
            dh, grads[f"W{i}"], grads[f"b{i}"] = self._affine_backward(dz, c_affine)
        return {name: grads[name] for name in self.params}, tuple(reversed(grad_pre))

    def loss(self, X, y, *, reg: float = 0.0, mode: str = "train", trace: bool = False):
        """``(loss, grads)``, or ``(loss, grads, Trace)`` with ``trace=True``: the softmax loss plus
        ``reg / 2 * sum(W**2)`` and the gradient of every parameter."""
        reg = check_scalar(reg, "reg", min=0.0)
        scores, cache = self.forward(X, mode=mode)
        loss, dscores = layers.softmax_loss(scores, y)
        grads, grad_pre = self.backward(dscores, cache)
        for name in self.weight_names:
            W = self.params[name]
            loss += 0.5 * reg * float(np.sum(W * W))
            grads[name] = grads[name] + reg * W
        if not trace:
            return loss, grads
        caches = cache[0]
        record = Trace(pre=tuple(c[4] for c in caches), z=tuple(c[5] for c in caches),
                       out=tuple(c[6] for c in caches), grad_pre=grad_pre,
                       grad_W=tuple(grads[n] for n in self.weight_names))
        return loss, grads, record

    def recalibrate(self, X, *, batch_size: int, rng) -> None:
        """Replace batch norm's running statistics by their plain average over one pass of
        train-mode batches of ``X`` (in an order drawn from ``rng``); no parameter changes. The
        gate's own update does it: with momentum k / (k + 1) at batch k = 0, 1, ..., the running
        value is the mean of the batches so far. The fix for running averages that lag behind the
        weights (a high momentum, few steps)."""
        if self.norm != "batchnorm":
            raise ValueError(f"norm={self.norm!r} has no running statistics; recalibrate needs "
                             "norm='batchnorm'")
        X = check_array(X, "X", shape=(None, self.sizes[0]), finite=True, nonempty=True)
        batch_size = check_positive_int(batch_size, "batch_size")
        order = as_rng(rng).permutation(len(X))
        saved = [param.get("momentum") for param in self.norm_params]
        try:
            for k, start in enumerate(range(0, len(X), batch_size)):
                for param in self.norm_params:
                    param["momentum"] = k / (k + 1)
                self.forward(X[order[start:start + batch_size]], mode="train")
        finally:
            for param, momentum in zip(self.norm_params, saved, strict=True):
                if momentum is None:
                    del param["momentum"]
                else:
                    param["momentum"] = momentum

    def scores(self, X) -> np.ndarray:
        """Test-mode class scores (running statistics, no dropout)."""
        return self.forward(X, mode="test")[0]

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.scores(X), axis=1)

    def accuracy(self, X, y) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))


# --------------------------------------------------------------------------- the same net in torch
def torch_twin(net: MLP):
    """A torch ``nn.Sequential`` with the weights of a :class:`MLP` (no norm, no
    dropout; nn.Linear stores W transposed), in the net's float dtype."""
    import torch

    if not isinstance(net, MLP) or net.norm is not None or net.dropout_keep is not None:
        raise TypeError(f"net={net!r} is not valid; expected a nets.MLP without norm or dropout")
    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
            "linear": torch.nn.Identity}
    if net.activation not in acts:
        raise ValueError(f"net.activation={net.activation!r} has no torch twin here; expected one of "
                         f"{sorted(acts)}")
    modules = []
    for i, (fan_in, fan_out) in enumerate(zip(net.sizes, net.sizes[1:], strict=False), start=1):
        linear = torch.nn.Linear(fan_in, fan_out).to(torch.float64 if net.dtype == np.float64 else torch.float32)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(net.params[f"W{i}"].T.copy()))
            linear.bias.copy_(torch.from_numpy(net.params[f"b{i}"]))
        modules.append(linear)
        if i <= net.n_hidden:
            modules.append(acts[net.activation]())
    return torch.nn.Sequential(*modules)


def torch_loss_and_grads(net: MLP, X, y, reg: float = 0.0) -> tuple[float, dict]:
    """The loss of ``net.loss(X, y, reg=reg)`` and its gradients, computed by torch.autograd on the
    twin, in the layout of ``net.params``."""
    import torch

    twin = torch_twin(net)
    loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(np.asarray(X, dtype=net.dtype))),
                                             torch.from_numpy(np.asarray(y, dtype=np.int64)))
    linears = [m for m in twin if isinstance(m, torch.nn.Linear)]
    loss = loss + 0.5 * reg * sum(m.weight.pow(2).sum() for m in linears)
    loss.backward()
    grads = {}
    for i, m in enumerate(linears, start=1):
        grads[f"W{i}"], grads[f"b{i}"] = m.weight.grad.numpy().T, m.bias.grad.numpy()
    return loss.item(), grads


# --------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """Per-epoch history of :func:`train`: mean training loss over the epoch's mini-batches,
    training and validation accuracy after the epoch (test mode), the loss of every step, and the
    epoch (1-based) whose loss became non-finite, or None."""

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    diverged_at: int | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def epochs_to(self, target: float) -> int | None:
        """First epoch (1-based) whose validation accuracy reaches ``target``; None if none does."""
        return next((i + 1 for i, a in enumerate(self.val_acc) if a >= target), None)


def train(net: MLP, X, y, *, optimizer, epochs: int, batch_size: int, rng, X_val=None, y_val=None,
          reg: float = 0.0, max_loss: float = 1e6, on_step: Callable[[int], None] | None = None,
          train_accuracy: bool = True) -> TrainResult:
    """Mini-batch training of ``net`` with a :mod:`lecture_lib.optim` optimizer (its ``step`` updates
    the parameters in place). Each epoch visits the examples in an order drawn from ``rng``. A step
    whose loss is NaN, infinite or above ``max_loss`` stops the run (``diverged_at``).

    ``train_accuracy=False`` skips the pass over the whole training set that measures the training
    accuracy after each epoch (``train_acc`` stays empty), for a caller that does not read it.

    ``on_step(t)``, when given, is called after the t-th optimizer step (t = 1, 2, ...): it may read
    ``net.params`` (to average the weights) or set ``optimizer.lr`` (a per-step schedule)."""
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    max_loss = check_positive(max_loss, "max_loss")
    rng = as_rng(rng)
    X = check_array(X, "X", ndim=2, finite=True, nonempty=True)
    y = check_array(y, "y", kind="int", shape=(len(X),))
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val go together; expected both or neither")
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer={optimizer!r} is not valid; expected a lecture_lib.optim optimizer")
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step={on_step!r} is not valid; expected a function of the step number")
    train_accuracy = check_bool(train_accuracy, "train_accuracy")
    names = list(net.params)
    result = TrainResult()
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(X))
            total = 0.0
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                loss, grads = net.loss(X[idx], y[idx], reg=reg)
                result.step_loss.append(loss)
                if not math.isfinite(loss) or loss > max_loss:
                    result.diverged_at = epoch
                    return result
                optimizer.step([net.params[n] for n in names], [grads[n] for n in names])
                if on_step is not None:
                    on_step(len(result.step_loss))
                total += loss * len(idx)
            result.train_loss.append(total / len(X))
            if train_accuracy:
                result.train_acc.append(net.accuracy(X, y))
            if X_val is not None:
                result.val_acc.append(net.accuracy(X_val, y_val))
    return result


# --------------------------------------------------------------------------- softmax regression
def softmax_regression_loss(W, b, X, y, *, reg: float = 0.0):
    """The linear classifier ``scores = X W + b`` under the softmax loss (mean over the batch) plus
    ``reg / 2 * sum(W**2)``. Returns ``(loss, dW, db)``; ``b`` may be None (no bias: ``db`` is None).

    - W: (D, C) weights; b: (C,) biases or None; X: (N, D) inputs; y: (N,) labels in [0, C)."""
    W = check_array(W, "W", ndim=2)
    X = check_array(X, "X", shape=(None, W.shape[0]))
    reg = check_scalar(reg, "reg", min=0.0)
    scores = X @ W
    if b is not None:
        b = check_array(b, "b", shape=(W.shape[1],))
        scores = scores + b
    loss, dscores = layers.softmax_loss(scores, y)
    dW = X.T @ dscores + reg * W
    return loss + 0.5 * reg * float(np.sum(W * W)), dW, (None if b is None else dscores.sum(axis=0))


def count_parameters(params: dict) -> int:
    """The number of scalars in a parameter dict."""
    return int(sum(np.asarray(p).size for p in params.values()))



def softmax_regression_descent(X, y, *, lr: float, steps: int, target: float | None = None,
                               stop_rise: float | None = None) -> np.ndarray:
    """Full-batch gradient descent on softmax regression (:func:`softmax_regression_loss`, weights
    and biases from zero). Returns the loss before each step and after the last: ``steps + 1`` values,
    fewer when the run stops early, once the loss is at most ``target`` or, with ``stop_rise``,
    once it is non-finite or above ``stop_rise`` times the starting loss (a diverging run)."""
    X = check_array(X, "X", ndim=2, nonempty=True)
    y = check_array(y, "y", kind="int", shape=(len(X),))
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", min=0)
    target = None if target is None else check_scalar(target, "target", min=0.0)
    stop_rise = None if stop_rise is None else check_scalar(stop_rise, "stop_rise", min=1.0)
    W = np.zeros((X.shape[1], int(y.max()) + 1), dtype=X.dtype)
    b = np.zeros(W.shape[1], dtype=X.dtype)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps + 1):
            loss, dW, db = softmax_regression_loss(W, b, X, y)
            losses.append(loss)
            if target is not None and loss <= target:
                break
            if stop_rise is not None and (not math.isfinite(loss) or loss > stop_rise * losses[0]):
                break
            if len(losses) == steps + 1:
                break
            W -= lr * dW
            b -= lr * db
    return np.array(losses)


def steps_to_loss(X, y, *, lr: float, target: float, max_steps: int) -> int | None:
    """The number of full-batch gradient-descent steps of softmax regression (from zero weights)
    after which the training loss is at most ``target``: 0 if it already is; None if it is not
    within ``max_steps`` steps, or if the run diverges (non-finite, or 10x its starting loss)."""
    losses = softmax_regression_descent(X, y, lr=lr, steps=max_steps, target=target, stop_rise=10.0)
    return len(losses) - 1 if losses[-1] <= target else None


@dataclass(frozen=True)
class SpeedResult:
    """The fewest steps to a target loss over the learning rates tried, the rate that achieved it
    (both None when no rate did), and the steps of every rate tried (None: not reached)."""

    steps: int | None
    lr: float | None
    tried: dict


def tuned_steps_to_loss(X, y, *, lrs, target: float, max_steps: int) -> SpeedResult:
    """:func:`steps_to_loss` with the learning rate tuned over ``lrs``: the fair comparison between
    two versions of the inputs, since each gets its own best rate. Rates are tried from the largest
    down, and a run stops as soon as it needs more steps than the best so far."""
    lrs = sorted((check_positive(lr, "lrs item") for lr in np.atleast_1d(lrs)), reverse=True)
    if not lrs:
        raise ValueError("lrs is empty; expected at least one learning rate")
    max_steps = check_int(max_steps, "max_steps", min=0)
    best, best_lr, tried = None, None, {}
    for lr in lrs:
        budget = max_steps if best is None else best - 1
        if budget < 0:
            break
        steps = steps_to_loss(X, y, lr=lr, target=target, max_steps=budget)
        tried[lr] = steps
        if steps is not None:
            best, best_lr = steps, lr
    return SpeedResult(best, best_lr, tried)
