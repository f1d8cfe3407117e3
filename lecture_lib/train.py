"""A small, honest torch training loop: device placement, bf16 autocast on CUDA only, a progress
bar, a clear stop on a non-finite loss, per-epoch history and optional early stopping."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from .config import check_seed, choose_device


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch, the step and the lr."""


@dataclass
class History:
    """Per-epoch metrics. ``val_*`` lists stay empty when no validation data was given."""

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    stopped_early: bool = False
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def epochs_to(self, metric: str, target: float) -> int | None:
        """First epoch (1-based) at which ``metric`` (e.g. 'val_acc') reaches ``target``."""
        values = getattr(self, metric)
        higher = metric.endswith("acc")
        for i, v in enumerate(values):
            if (v >= target) if higher else (v <= target):
                return i + 1
        return None


def _as_tensor(a, device, dtype=None):
    import torch

    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    return t.to(device=device, dtype=dtype) if dtype is not None else t.to(device)


def _check_pair(X, y, name):
    if X is None or y is None:
        raise ValueError(f"{name} needs both inputs and labels, got X={type(X).__name__}, y={type(y).__name__}")
    if len(X) != len(y):
        raise ValueError(f"{name}: X has {len(X)} rows but y has {len(y)}; expected equal lengths")
    if len(X) == 0:
        raise ValueError(f"{name} is empty")


def make_optimizer(name: str, params, lr: float, **kwargs):
    import torch

    table = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
             "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}
    if name not in table:
        raise ValueError(f"optimizer={name!r} is not known; expected one of {sorted(table)}")
    return table[name](params, lr=lr, **kwargs)


def evaluate(model, X, y, loss_fn=None, batch_size: int = 1024, device=None):
    """Mean loss and accuracy of ``model`` on (X, y), without gradients, in float32."""
    import torch

    device = device if device is not None else next(model.parameters()).device
    loss_fn = loss_fn if loss_fn is not None else torch.nn.functional.cross_entropy
    X = _as_tensor(X, device, torch.float32)
    y = _as_tensor(y, device, torch.long)
    was_training = model.training
    model.eval()
    total, correct, n = 0.0, 0, len(X)
    with torch.no_grad():
        for i in range(0, n, batch_size):
            out = model(X[i:i + batch_size])
            total += float(loss_fn(out, y[i:i + batch_size], reduction="sum"))
            correct += int((out.argmax(1) == y[i:i + batch_size]).sum())
    model.train(was_training)
    return total / n, correct / n


def fit(model, X_train, y_train, X_val=None, y_val=None, *, epochs: int = 10, lr: float = 0.1,
        batch_size: int = 64, optimizer: str = "sgd", optimizer_kwargs: dict | None = None,
        scheduler=None, loss_fn=None, device=None, seed: int = 0, patience: int | None = None,
        progress: bool = True, amp: bool = True, restore_best: bool = True) -> History:
    """Train ``model`` for classification and return its :class:`History`.

    - data are moved to ``device`` once (default: cuda -> mps -> cpu) and batched there;
    - on CUDA the forward pass runs under bf16 autocast (``amp=False`` turns it off);
      everywhere else it is plain float32;
    - a NaN or infinite loss raises :class:`TrainingDiverged` naming the epoch, step and lr;
    - ``patience`` stops after that many epochs without a better validation loss, and
      ``restore_best`` then reloads the best weights;
    - ``scheduler(optimizer)`` may build a torch lr scheduler, stepped once per epoch.
    """
    import torch
    from tqdm.auto import tqdm

    _check_pair(X_train, y_train, "training data")
    has_val = X_val is not None or y_val is not None
    if has_val:
        _check_pair(X_val, y_val, "validation data")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs <= 0:
        raise ValueError(f"epochs={epochs!r} is not valid; expected a positive integer")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size={batch_size!r} is not valid; expected a positive integer")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} is not valid; expected a positive number")
    if patience is not None and (not isinstance(patience, int) or patience <= 0):
        raise ValueError(f"patience={patience!r} is not valid; expected a positive integer or None")
    if patience is not None and not has_val:
        raise ValueError("patience needs validation data (X_val, y_val) to watch")

    device = torch.device(device) if device is not None else choose_device()
    generator = torch.Generator(device="cpu").manual_seed(check_seed(seed))
    model.to(device)
    X_train = _as_tensor(X_train, device, torch.float32)
    y_train = _as_tensor(y_train, device, torch.long)
    if device.type == "cuda" and X_train.dim() == 4:
        model.to(memory_format=torch.channels_last)
        X_train = X_train.contiguous(memory_format=torch.channels_last)
    loss_fn = loss_fn if loss_fn is not None else torch.nn.functional.cross_entropy
    opt = make_optimizer(optimizer, model.parameters(), lr, **(optimizer_kwargs or {}))
    sched = scheduler(opt) if scheduler is not None else None
    use_amp = amp and device.type == "cuda"

    history = History()
    best_loss, best_state, waited = math.inf, None, 0
    n = len(X_train)
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        total = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for step, start in enumerate(range(0, n, batch_size), start=1):
            idx = order[start:start + batch_size]
            xb, yb = X_train[idx], y_train[idx]
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                out = model(xb)
                loss = loss_fn(out.float(), yb)
            if not torch.isfinite(loss):
                raise TrainingDiverged(
                    f"loss became {float(loss.detach())} at epoch {epoch}, step {step} "
                    f"(lr={opt.param_groups[0]['lr']:g}); lower the learning rate or check the init")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)  # stays on the device: no sync per step
            correct += (out.argmax(1) == yb).sum()
        total, correct = float(total), int(correct)
        history.train_loss.append(total / n)
        history.train_acc.append(correct / n)
        history.lr.append(opt.param_groups[0]["lr"])
        if sched is not None:
            sched.step()
        postfix = {"loss": f"{total / n:.3f}"}
        if has_val:
            vl, va = evaluate(model, X_val, y_val, loss_fn, device=device)
            history.val_loss.append(vl)
            history.val_acc.append(va)
            postfix["val_acc"] = f"{va:.3f}"
            if vl < best_loss:
                best_loss, waited, history.best_epoch = vl, 0, epoch
                if patience is not None and restore_best:
                    best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    history.stopped_early = True
                    break
        bar.set_postfix(postfix)
    if history.stopped_early and best_state is not None:
        model.load_state_dict(best_state)
    return history
