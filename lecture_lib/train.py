"""A small, honest torch training loop: inputs checked first, device placement, bf16 autocast on
CUDA only, a progress bar, a clear stop when training diverges, per-epoch history and optional
early stopping."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import (
    check_array,
    check_bool,
    check_choice,
    check_positive,
    check_positive_int,
    check_scalar,
    check_seed,
)
from .config import choose_device

# A run whose loss exceeds this many times its first value (or times 1, if that was smaller)
# has diverged: at chance level a cross-entropy stays near log(classes); a too-high learning rate
# that still trains (ReLU MLPs on the digits at lr 2.0) peaks at about 50 times its start, while
# runs that diverge pass 1e4 times within a few steps on their way to 1e12 and beyond.
DIVERGENCE_FACTOR = 1e3


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite or exploded, or the weights did: the message names the
    epoch, the step and the lr."""


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


def _is_tensor(a) -> bool:
    import torch

    return isinstance(a, torch.Tensor)


def _first_bad(mask) -> tuple:
    """The index of the first True of a boolean tensor or array."""
    import torch

    where = torch.nonzero(mask)[0] if isinstance(mask, torch.Tensor) else np.argwhere(mask)[0]
    return tuple(int(i) for i in where)


def _check_inputs(X, name: str):
    """Inputs: a NumPy array or a torch tensor of real numbers, (N, ...) with N >= 1, finite."""
    if _is_tensor(X):
        if X.dtype.is_complex or X.dtype == _torch_bool():
            raise TypeError(f"{name} has dtype {X.dtype}; expected real numbers")
        if X.dim() < 2:
            raise ValueError(f"{name} has shape {tuple(X.shape)}; expected (N, features...) with 2 or "
                             "more dimensions")
        if X.shape[0] == 0 or X.numel() == 0:
            raise ValueError(f"{name} is empty (shape {tuple(X.shape)}); expected at least one example")
        if X.dtype.is_floating_point:
            import torch

            bad = ~torch.isfinite(X)
            if bool(bad.any()):
                raise ValueError(f"{name} holds NaN or infinity (first at index {_first_bad(bad)}); "
                                 "expected finite inputs: clean the data before training")
        return X
    X = check_array(X, name, kind="real", nonempty=True, finite=True)
    if X.ndim < 2:
        raise ValueError(f"{name} has shape {X.shape}; expected (N, features...) with 2 or more dimensions")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}); expected at least one example")
    return X


def _torch_bool():
    import torch

    return torch.bool


def _check_labels(y, name: str):
    """Labels: class indices, a 1-D integer array or tensor."""
    if _is_tensor(y):
        if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == _torch_bool():
            raise TypeError(f"{name} has dtype {y.dtype}; expected integer class labels (e.g. y.long())")
        shape = tuple(y.shape)
    else:
        y = check_array(y, name, kind="int")
        shape = y.shape
    if len(shape) != 1:
        raise ValueError(f"{name} has shape {shape}; expected one label per example, shape (N,)")
    return y


def _check_pair(X, y, x_name, y_name):
    if X is None or y is None:
        missing = x_name if X is None else y_name
        raise ValueError(f"{missing}=None is not valid; {x_name} and {y_name} go together")
    X = _check_inputs(X, x_name)
    n_labels = len(y) if hasattr(y, "__len__") and np.ndim(y) >= 1 else None
    if n_labels is not None and len(X) != n_labels:
        raise ValueError(f"{x_name}, {y_name}: X has {len(X)} rows but y has {n_labels}; expected equal "
                         "lengths")
    return X, _check_labels(y, y_name)


def _check_labels_in_range(y, n_classes: int, name: str) -> None:
    low, high = (int(y.min()), int(y.max()))
    if low < 0 or high >= n_classes:
        bad = (y < 0) | (y >= n_classes)
        first = _first_bad(bad)
        raise ValueError(f"{name} holds {int(y[first])} (at index {first[0]}) but the model outputs "
                         f"{n_classes} classes; expected labels in [0, {n_classes - 1}]")


def _resolve_device(device):
    """``device`` as a torch.device that exists here (None: the best available)."""
    import torch

    if device is None:
        return choose_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device={device!r} is not valid; expected 'cpu', 'cuda', 'cuda:N', 'mps' or None")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"device={device!r} is not a device; expected 'cpu', 'cuda', 'cuda:N', 'mps' "
                         "or None") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device={device!r} is not available: this machine has no CUDA device; "
                             "expected 'cpu' or None (the best device present)")
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device={device!r} is not available: this machine has {count} CUDA "
                             f"device(s), cuda:0 to cuda:{count - 1}")
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device={device!r} is not available here; expected 'cpu' or None")
    elif dev.type != "cpu":
        raise ValueError(f"device={device!r} is not supported; expected 'cpu', 'cuda', 'cuda:N', 'mps' or None")
    return dev


def _check_model(model):
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model of type {type(model).__name__} is not valid; expected a torch.nn.Module")
    if not any(True for _ in model.parameters()):
        raise ValueError("model has no parameters; expected a torch.nn.Module with weights to train")
    return model


def _n_classes(model, X, name: str) -> int:
    """Run the model on two examples (no gradients, eval mode) to learn its number of outputs;
    a model that cannot take ``X`` says so, naming ``X``."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(X[:2])
    except (RuntimeError, ValueError, IndexError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{name} has shape {tuple(X.shape)}, which the model cannot take "
                         f"({first}); expected as many features as the model's first layer") from None
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.dim() != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"the model's output has shape {shape}; expected (N, classes) scores for "
                         "classification")
    return int(out.shape[1])


OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


def make_torch_optimizer(name: str, params, lr: float, **kwargs):
    import torch

    table = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
             "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}
    check_choice(name, "optimizer", OPTIMIZERS)
    return table[name](params, lr=check_positive(lr, "lr"), **kwargs)


def evaluate(model, X, y, loss_fn=None, batch_size: int = 1024, device=None):
    """Mean loss and accuracy of ``model`` on (X, y), without gradients, in float32."""
    import torch

    _check_model(model)
    X, y = _check_pair(X, y, "X", "y")
    batch_size = check_positive_int(batch_size, "batch_size")
    device = _resolve_device(device) if device is not None else next(model.parameters()).device
    loss_fn = loss_fn if loss_fn is not None else torch.nn.functional.cross_entropy
    X = _as_tensor(X, device, torch.float32)
    y = _as_tensor(y, device, torch.long)
    _check_labels_in_range(y, _n_classes(model, X, "X"), "y")
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


def _diverged(why: str, epoch: int, step: int, opt) -> TrainingDiverged:
    return TrainingDiverged(f"{why} at epoch {epoch}, step {step} (lr={opt.param_groups[0]['lr']:g}); "
                            "lower the learning rate or check the init")


def _nonfinite_parameter(model) -> str | None:
    """The name of the first parameter holding NaN or infinity, None when all are finite."""
    import torch

    for name, p in model.named_parameters():
        if not bool(torch.isfinite(p.detach()).all()):
            return name
    return None


def fit(model, X_train, y_train, X_val=None, y_val=None, *, epochs: int = 10, lr: float = 0.1,
        batch_size: int = 64, optimizer: str = "sgd", optimizer_kwargs: dict | None = None,
        scheduler=None, loss_fn=None, device=None, seed: int = 0, patience: int | None = None,
        progress: bool = True, amp: bool = True, restore_best: bool = True,
        divergence_factor: float | None = DIVERGENCE_FACTOR) -> History:
    """Train ``model`` for classification and return its :class:`History`.

    - data are checked first (shapes, integer labels within the model's classes, no NaN or
      infinity: the message names the tensor), then moved to ``device`` once (default: cuda ->
      mps -> cpu) and batched there;
    - on CUDA the forward pass runs under bf16 autocast (``amp=False`` turns it off);
      everywhere else it is plain float32;
    - a diverging run raises :class:`TrainingDiverged` naming the epoch, step and lr: a NaN or
      infinite loss, a loss above ``divergence_factor`` times its first value (or times 1, if
      that was smaller), or weights that became NaN or infinite. ``divergence_factor=None``
      keeps only the NaN and infinity checks, for an experiment that studies a blow-up itself;
    - ``patience`` stops after that many epochs without a better validation loss, and
      ``restore_best`` then reloads the best weights;
    - ``scheduler(optimizer)`` may build a torch lr scheduler, stepped once per epoch.
    """
    import torch
    from tqdm.auto import tqdm

    _check_model(model)
    X_train, y_train = _check_pair(X_train, y_train, "X_train", "y_train")
    has_val = X_val is not None or y_val is not None
    if has_val:
        X_val, y_val = _check_pair(X_val, y_val, "X_val", "y_val")
        if tuple(X_val.shape[1:]) != tuple(X_train.shape[1:]):
            raise ValueError(f"X_val has shape {tuple(X_val.shape)} but X_train has shape "
                             f"{tuple(X_train.shape)}; expected the same features")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive(lr, "lr")
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    if optimizer_kwargs is not None and not isinstance(optimizer_kwargs, dict):
        raise TypeError(f"optimizer_kwargs={optimizer_kwargs!r} is not valid; expected a dict or None")
    for name, fn in (("scheduler", scheduler), ("loss_fn", loss_fn)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name}={fn!r} is not valid; expected a function or None")
    if patience is not None:
        patience = check_positive_int(patience, "patience")
        if not has_val:
            raise ValueError("patience needs validation data (X_val, y_val) to watch")
    progress, amp, restore_best = (check_bool(v, n) for v, n in
                                   ((progress, "progress"), (amp, "amp"), (restore_best, "restore_best")))
    seed = check_seed(seed)
    if divergence_factor is not None:
        divergence_factor = check_scalar(divergence_factor, "divergence_factor", min=1.0, min_inclusive=False)
    device = _resolve_device(device)

    generator = torch.Generator(device="cpu").manual_seed(seed)
    model.to(device)
    X_train = _as_tensor(X_train, device, torch.float32)
    y_train = _as_tensor(y_train, device, torch.long)
    n_classes = _n_classes(model, X_train, "X_train")
    _check_labels_in_range(y_train, n_classes, "y_train")
    if has_val:
        _check_labels_in_range(_as_tensor(y_val, device, torch.long), n_classes, "y_val")
    if device.type == "cuda" and X_train.dim() == 4:
        model.to(memory_format=torch.channels_last)
        X_train = X_train.contiguous(memory_format=torch.channels_last)
    loss_fn = loss_fn if loss_fn is not None else torch.nn.functional.cross_entropy
    opt = make_torch_optimizer(optimizer, model.parameters(), lr, **(optimizer_kwargs or {}))
    sched = scheduler(opt) if scheduler is not None else None
    use_amp = amp and device.type == "cuda"

    history = History()
    best_loss, best_state, waited = math.inf, None, 0
    limit = None  # the loss above which the run counts as diverged, set by the first step
    n = len(X_train)
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(n, generator=generator).to(device)
        total = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        step = 0
        for step, start in enumerate(range(0, n, batch_size), start=1):
            idx = order[start:start + batch_size]
            xb, yb = X_train[idx], y_train[idx]
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                out = model(xb)
                loss = loss_fn(out.float(), yb)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise _diverged(f"loss became {value}", epoch, step, opt)
            if divergence_factor is None:
                pass
            elif limit is None:
                limit = divergence_factor * max(value, 1.0)
            elif value > limit:
                raise _diverged(f"loss exploded to {value:.3g}, more than {divergence_factor:g} times its "
                                f"start ({limit / divergence_factor:.3g})", epoch, step, opt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)  # stays on the device: no sync per step
            correct += (out.argmax(1) == yb).sum()
        # A step that made the weights NaN or infinite shows in the next step's loss; the last
        # step of an epoch is checked here, before anything is evaluated with those weights.
        bad = _nonfinite_parameter(model)
        if bad is not None:
            raise _diverged(f"the weights became NaN or infinite ({bad})", epoch, step, opt)
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
