"""The measurements behind 01_activations, each with the threshold that decides its claim.

Every threshold is a named constant used by a named predicate, so a unit test can run the
opposite experiment (sigmoid for the ReLU check, tanh for the not-zero-centred check, a good init
for the dead-unit check...) and show that the predicate is False there.

NumPy experiments take a ``rng``; torch ones take a ``seed``. Weight init is written inline as
``std = gain / sqrt(fan_in)`` (gain 1: LeCun; gain sqrt 2: He); 02_initialization covers the schemes.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import activations as A
from . import layers
from .config import single_thread

# ------------------------------------------------------------------ thresholds (named, tested)
VANISH_FACTOR = 0.25          # per-layer backward factor at most this: "vanishing" (sigmoid)
PASS_BAND = (0.8, 1.25)       # per-layer factor in this band: the gradient "passes" (ReLU + He)
SAME_SIGN = 0.999             # per-example sign agreement at least this: "all share one sign"
CENTRING_SPEEDUP = 1.5        # zero-centring the inputs cuts the steps to the target by this factor
SATURATED_SHARE = 0.5         # at least this share of (unit, example) pairs saturated: "saturates"
MANY_DEAD = 0.10              # at least this fraction of dead units: "units die"
FEW_DEAD = 0.02               # at most this: "essentially no dead units"
TIMING_MARGIN = 3.0           # timing checks allow a factor of 3 either way
CHEAP_MARGIN = 10.0           # "cheap": at most 10x the time of adding a constant (measured ~3x)
FASTER_BY = 1.25              # median epochs-to-target lower by this factor: "converges faster"


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}={value!r} is not valid; expected a positive integer")
    return int(value)


def _nonneg(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value) \
            or value < 0:
        raise ValueError(f"{name}={value!r} is not valid; expected a non-negative number")
    return float(value)


def init_weight(rng, fan_in, fan_out, gain=1.0):
    """randn(fan_in, fan_out) * gain / sqrt(fan_in): gain 1 is LeCun's init, sqrt(2) He's."""
    return rng.standard_normal((fan_in, fan_out)) * _nonneg(gain, "gain") / np.sqrt(fan_in)


def softmax_grad(scores, y):
    """Mean softmax cross-entropy loss and its gradient with respect to the scores."""
    return layers.softmax_loss(scores, y)


# ------------------------------------------------------------------ vanishing gradients
def deep_gradient_norms(X, y, activation: str, *, depth: int = 10, width: int = 64, gain: float = 1.0,
                        rng=None) -> dict:
    """One forward and backward pass of a deep MLP (``depth`` hidden layers of ``width`` units) on
    (X, y) with softmax loss. Returns per hidden layer (1 = nearest the input) the norm of the
    weight gradient ``dW`` and of the pre-activation gradient ``dz``, and the per-layer factor:
    the geometric mean of ||dz_(l-1)|| / ||dz_l|| going backwards."""
    with single_thread():
        return _deep_gradient_norms(X, y, activation, depth, width, gain, rng)


def _deep_gradient_norms(X, y, activation, depth, width, gain, rng):
    f, fgrad = A.get(activation)
    depth = _positive_int(depth, "depth")
    width = _positive_int(width, "width")
    if depth < 2:
        raise ValueError(f"depth={depth!r} is not valid; a per-layer factor needs at least 2 layers")
    rng = rng if rng is not None else np.random.default_rng(0)
    n_classes = int(np.max(y)) + 1
    Ws, bs, zs, hs = [], [], [], [X]
    fan_in = X.shape[1]
    for _ in range(depth):
        Ws.append(init_weight(rng, fan_in, width, gain))
        bs.append(np.zeros(width))
        zs.append(hs[-1] @ Ws[-1] + bs[-1])
        hs.append(f(zs[-1]))
        fan_in = width
    W_out = init_weight(rng, width, n_classes, 1.0)
    loss, dscores = softmax_grad(hs[-1] @ W_out, y)
    dh = dscores @ W_out.T
    dW_norm, dz_norm = np.zeros(depth), np.zeros(depth)
    for layer in range(depth - 1, -1, -1):
        dz = dh * fgrad(zs[layer])
        dz_norm[layer] = np.linalg.norm(dz)
        dW_norm[layer] = np.linalg.norm(hs[layer].T @ dz)
        dh = dz @ Ws[layer].T
    factor = per_layer_factor(dz_norm)
    return {"dW_norm": dW_norm, "dz_norm": dz_norm, "factor": factor, "loss": float(loss),
            "local_grad_max": float(max(fgrad(z).max() for z in zs))}


def per_layer_factor(norms) -> float:
    """Geometric-mean ratio of a gradient norm from one layer to the one below it (going back)."""
    norms = np.asarray(norms, dtype=float)
    if norms.size < 2 or np.any(norms <= 0):
        return 0.0
    return float((norms[0] / norms[-1]) ** (1.0 / (norms.size - 1)))


def vanishes(factor: float) -> bool:
    """The gradient shrinks by 4x or more per layer."""
    return factor <= VANISH_FACTOR


def passes_through(factor: float) -> bool:
    """The gradient keeps its size from layer to layer (within PASS_BAND)."""
    return PASS_BAND[0] <= factor <= PASS_BAND[1]


# ------------------------------------------------------------------ zero-centring
def hidden_features(X, activation: str, *, width: int = 64, rng=None):
    """One hidden layer with LeCun init: the inputs that the *next* layer sees."""
    rng = rng if rng is not None else np.random.default_rng(0)
    W = init_weight(rng, X.shape[1], _positive_int(width, "width"), 1.0)
    return A.apply(activation, X @ W)


def sign_agreement(G) -> float:
    """For each neuron (column of a weight gradient G of shape (fan_in, n_neurons)), the share of
    its nonzero gradient components that carry the majority sign; averaged over neurons.
    1.0: every weight of a neuron moves the same way; about 0.5-0.6 for random signs."""
    G = np.asarray(G, dtype=float)
    pos = (G > 0).sum(axis=0)
    neg = (G < 0).sum(axis=0)
    total = pos + neg
    ok = total > 0
    if not np.any(ok):
        return 1.0
    return float(np.mean(np.maximum(pos, neg)[ok] / total[ok]))


def sign_agreement_experiment(H, y, *, batch: int = 64, rng=None) -> dict:
    """Weight gradients of a softmax layer on inputs H (at a random init): the sign agreement of
    single-example gradients (mean over examples) and of mini-batch gradients."""
    rng = rng if rng is not None else np.random.default_rng(0)
    batch = _positive_int(batch, "batch")
    n_classes = int(np.max(y)) + 1
    W = init_weight(rng, H.shape[1], n_classes, 1.0)
    idx = rng.permutation(len(H))
    _, dscores = softmax_grad(H[idx] @ W, y[idx])
    per_example = [sign_agreement(np.outer(H[i], dscores[k]))
                   for k, i in enumerate(idx[: min(200, len(idx))])]
    batches = [sign_agreement(H[idx[s:s + batch]].T @ dscores[s:s + batch])
               for s in range(0, len(idx) - batch + 1, batch)]
    return {"per_example": float(np.mean(per_example)), "batch": float(np.mean(batches)),
            "min_input": float(H.min()), "mean_input": float(H.mean())}


def all_share_sign(agreement: float) -> bool:
    return agreement >= SAME_SIGN


def steps_to_loss(H, y, *, lrs, target: float, max_steps: int = 500) -> dict:
    """Full-batch gradient descent of softmax regression (weights and bias, from zero) on
    features H, for each learning rate; returns the fewest steps to reach ``target`` loss
    (max_steps + 1 when none does) and the lr that achieved it."""
    with single_thread():
        return _steps_to_loss(H, y, lrs, target, _positive_int(max_steps, "max_steps"))


def _steps_to_loss(H, y, lrs, target, max_steps):
    n, d = H.shape
    k = int(np.max(y)) + 1
    best, best_lr = max_steps + 1, None
    for lr in lrs:
        lr = _nonneg(lr, "lr")
        W, b = np.zeros((d, k)), np.zeros(k)
        for step in range(1, max_steps + 1):
            loss, ds = softmax_grad(H @ W + b, y)
            if not np.isfinite(loss):
                break
            W -= lr * (H.T @ ds)
            b -= lr * ds.sum(axis=0)
            if loss <= target:
                if step < best:
                    best, best_lr = step, lr
                break
    return {"steps": best, "lr": best_lr}


def centring_speeds_up(steps_raw: int, steps_centred: int) -> bool:
    return steps_raw >= CENTRING_SPEEDUP * steps_centred


# ------------------------------------------------------------------ saturation
def saturated_share(activation: str, z, tol: float = 0.05) -> float:
    """Share of entries of z whose local gradient is below ``tol`` of the maximum."""
    return float(np.mean(A.saturated(activation, z, tol)))


def saturates(share: float) -> bool:
    return share >= SATURATED_SHARE


# ------------------------------------------------------------------ timing
def time_call(fn, x, repeats: int = 7) -> float:
    """Best wall time of ``fn(x)`` over ``repeats`` calls (after one warm-up call), in seconds, on
    one thread. The minimum, as ``timeit`` advises: other programs only ever add time."""
    repeats = _positive_int(repeats, "repeats")
    times = []
    with single_thread():
        fn(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - t0)
    return float(np.min(times))


def numpy_kernels():
    """The plain NumPy forward of each function, as a student would write it."""
    return {
        "relu": lambda x: np.maximum(x, 0),
        "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "tanh": np.tanh,
        "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    }


def torch_kernels():
    import torch

    return {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "elu": torch.nn.functional.elu}


def within_margin(a: float, b: float, margin: float = TIMING_MARGIN) -> bool:
    """a and b agree within a factor ``margin`` (a robust check for timings)."""
    return a > 0 and b > 0 and max(a / b, b / a) <= margin


def not_slower(t: float, t_ref: float, margin: float = TIMING_MARGIN) -> bool:
    """t is at most ``margin`` times t_ref."""
    return 0 < t <= margin * t_ref


def cheap(t: float, t_add: float) -> bool:
    """t costs at most CHEAP_MARGIN times an elementwise addition on the same array."""
    return not_slower(t, t_add, CHEAP_MARGIN)


# ------------------------------------------------------------------ torch MLPs
TORCH_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout")


def make_mlp(n_in: int, widths, n_out: int, activation: str, *, gain: float | None = None,
             bias: float = 0.0, seed: int = 0):
    """A torch MLP with the named activation after every hidden layer. Weights are drawn as
    randn * gain / sqrt(fan_in) (default gain: sqrt 2 for the ReLU family and maxout, 1 otherwise),
    hidden biases are set to ``bias``. Maxout layers have two pieces per unit."""
    import torch
    from torch import nn

    A.check_name(activation, TORCH_NAMES)
    widths = [_positive_int(w, "width") for w in widths]
    if gain is None:
        gain = 1.0 if activation in ("sigmoid", "tanh") else math.sqrt(2.0)
    _nonneg(gain, "gain")
    if not np.isfinite(bias):
        raise ValueError(f"bias={bias!r} is not valid; expected a finite number")
    gen = torch.Generator().manual_seed(seed)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            pieces = 2 if activation == "maxout" else 1
            dims = [n_in, *widths]
            self.hidden = nn.ModuleList(nn.Linear(a, b * pieces) for a, b in zip(dims, dims[1:], strict=False))
            self.out = nn.Linear(dims[-1], n_out)
            self.prelu = nn.ModuleList(nn.PReLU(w, init=A.PRELU_INIT) for w in widths) \
                if activation == "prelu" else None
            with torch.no_grad():
                for lin in [*self.hidden, self.out]:
                    lin.weight.copy_(torch.randn(lin.weight.shape, generator=gen) * gain
                                     / math.sqrt(lin.in_features))
                    lin.bias.fill_(bias if lin is not self.out else 0.0)

        def act(self, i, z):
            import torch.nn.functional as F

            if activation == "maxout":
                return z.view(z.shape[0], -1, 2).amax(dim=2)
            if activation == "prelu":
                return self.prelu[i](z)
            return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
                    "leaky_relu": lambda t: F.leaky_relu(t, A.LEAKY_SLOPE), "elu": F.elu}[activation](z)

        def forward(self, x, keep=None):
            for i, lin in enumerate(self.hidden):
                z = lin(x)
                if keep is not None:
                    keep.append(z)
                x = self.act(i, z)
            return self.out(x)

    return MLP()


def local_grads(activation: str, z: np.ndarray, model=None, layer: int = 0) -> np.ndarray:
    """Local gradient of each hidden unit on each example, shape (N, units). For maxout the
    gradient that reaches the unit's pre-activations (one piece gets all of it); for PReLU at the
    model's current alphas (one per unit, as in He et al.'s channel-wise PReLU)."""
    if activation == "maxout":
        pairs = z.reshape(z.shape[0], -1, 2)
        g1, g2 = A.maxout_grad(pairs[..., 0], pairs[..., 1])
        return g1 + g2
    if activation == "prelu":
        alpha = model.prelu[layer].weight.detach().cpu().numpy().astype(np.float64) \
            if model is not None else A.PRELU_INIT
        return A.prelu_grad(z, alpha)[0]
    return A.local_gradient(activation, z)


def dead_fraction(model, X, activation: str) -> float:
    """Share of hidden units that are dead: local gradient exactly zero on every example of X
    (for ReLU: output zero on every example), over all hidden layers."""
    import torch

    keep = []
    with torch.no_grad(), single_thread():
        model(torch.as_tensor(X, dtype=torch.float32), keep)
    dead, total = 0, 0
    for i, z in enumerate(keep):
        g = local_grads(activation, z.cpu().numpy().astype(np.float64), model, i)
        dead += int(np.sum(np.all(g == 0, axis=0)))
        total += g.shape[1]
    return dead / total


def many_dead(fraction: float) -> bool:
    return fraction >= MANY_DEAD


def few_dead(fraction: float) -> bool:
    return fraction <= FEW_DEAD


def train_and_count_dead(data, activation: str, *, widths=(64, 64), lr: float, epochs: int, seed: int,
                         bias: float = 0.0, gain: float | None = None, batch_size: int = 32) -> dict:
    """Train an MLP with plain SGD and report the dead fraction on the training set before and
    after (a run whose loss becomes non-finite counts its state at the last finite step)."""
    from .train import TrainingDiverged, evaluate, fit

    model = make_mlp(data.X_train.shape[1], widths, data.n_classes, activation, gain=gain, bias=bias,
                     seed=seed)
    before = dead_fraction(model, data.X_train, activation)
    diverged = False
    try:
        with single_thread():
            fit(model, data.X_train, data.y_train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                progress=False, device="cpu")
    except TrainingDiverged:
        diverged = True
    after = dead_fraction(model, data.X_train, activation) if not diverged else float("nan")
    acc = evaluate(model, data.X_val, data.y_val)[1] if not diverged else float("nan")
    return {"before": before, "after": after, "val_acc": acc, "diverged": diverged}


def bias_lowers_dead(dead_zero_bias, dead_positive_bias) -> bool:
    """Paired over seeds: the positive bias lowers the dead fraction by more than twice the
    standard error of the paired difference, and by at least a quarter."""
    a = np.asarray(dead_zero_bias, dtype=float)
    b = np.asarray(dead_positive_bias, dtype=float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"expected two equal-length lists of at least 2 seeds, got {a.size} and {b.size}")
    diff = a - b
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    return bool(diff.mean() > 2 * se and diff.mean() >= 0.25 * a.mean() and diff.mean() > 0)


# ------------------------------------------------------------------ convergence race
def race(data, activations, *, lrs, seeds, epochs: int, target: float, widths=(64, 64, 64),
         batch_size: int = 32) -> dict:
    """Epochs to ``target`` validation accuracy for each activation, with the learning rate tuned
    per activation on the first seed (fewest epochs, ties broken by final accuracy), then run
    on every seed. Runs that never reach the target count as ``epochs + 1``."""
    from .train import TrainingDiverged, fit

    seeds = list(seeds)
    if len(seeds) < 1:
        raise ValueError("seeds is empty; expected at least one seed")
    epochs = _positive_int(epochs, "epochs")

    def run(act, lr, seed):
        model = make_mlp(data.X_train.shape[1], widths, data.n_classes, act, seed=seed)
        try:
            with single_thread():
                h = fit(model, data.X_train, data.y_train, data.X_val, data.y_val, epochs=epochs, lr=lr,
                        batch_size=batch_size, seed=seed, progress=False, device="cpu")
        except TrainingDiverged:
            return epochs + 1, 0.0, []
        reached = h.epochs_to("val_acc", target)
        return (reached if reached is not None else epochs + 1), h.val_acc[-1], h.val_acc

    out = {}
    for act in activations:
        A.check_name(act, TORCH_NAMES)
        tuning = {lr: run(act, lr, seeds[0]) for lr in lrs}
        best_lr = min(lrs, key=lambda lr: (tuning[lr][0], -tuning[lr][1]))
        runs = [tuning[best_lr]] + [run(act, best_lr, s) for s in seeds[1:]]
        out[act] = {"lr": float(best_lr), "epochs_to": [int(r[0]) for r in runs],
                    "final_acc": [float(r[1]) for r in runs],
                    "curves": [list(map(float, r[2])) for r in runs],
                    "tuning": {str(lr): int(t[0]) for lr, t in tuning.items()}}
    return out


def median_epochs(result: dict, act: str) -> float:
    return float(np.median(result[act]["epochs_to"]))


def converges_faster(epochs_a: float, epochs_b: float) -> bool:
    """a reaches the target in at most 1/FASTER_BY of b's epochs."""
    return epochs_a * FASTER_BY <= epochs_b
