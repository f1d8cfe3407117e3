"""NumPy optimizers with torch.optim's arguments, defaults and arithmetic.

Each optimizer updates a *list* of float arrays in place::

    opt = Adam(lr=1e-2)
    for t in range(steps):
        grads = gradient(params)          # a list of arrays, one per parameter
        opt.step(params, grads)           # params[i] -= ... in place

State (momentum buffers, squared-gradient sums, step counters) is kept per list position, so pass
the parameters in the same order every step. ``opt.lr`` may be changed between steps, which is how
the schedules of :mod:`lecture_lib.schedules` drive it. In float64 the trajectories equal
``torch.optim``'s to rounding (tests/test_optim.py checks 1e-12 over 100 steps).

The update of each class is written out in :meth:`_update`, one line per line of the algorithm,
next to the name torch gives it. The end of the module holds the second-order section's methods:
one backtracking (Armijo) line search, the BFGS update of the inverse Hessian, the L-BFGS two-loop
recursion, and the two minimizers built from them, :func:`bfgs` and :func:`lbfgs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._checks import check_array, check_bool, check_int, check_scalar

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "bfgs_update", "lbfgs_direction",
           "backtracking_line_search", "QuasiNewtonResult", "bfgs", "lbfgs"]


def _nonnegative(value, name: str) -> float:
    return check_scalar(value, name, min=0.0)


class Optimizer:
    """Shared plumbing: argument checks, per-position state, and the step loop."""

    def __init__(self, lr: float, **hyperparameters):
        self.lr = lr
        self.state: dict[int, dict] = {}
        for name, value in hyperparameters.items():       # each one a non-negative number
            setattr(self, name, _nonnegative(value, name))

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _nonnegative(value, "lr")

    def reset(self) -> None:
        """Forget every buffer and step counter (a fresh start with the same settings)."""
        self.state.clear()

    def step(self, params, grads) -> None:
        """Update every array of ``params`` in place from the matching array of ``grads``."""
        params, grads = _check_lists(params, grads)
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            self._update(p, np.asarray(g, dtype=p.dtype), self.state.setdefault(i, {}))

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:  # pragma: no cover
        raise NotImplementedError


def _check_lists(params, grads):
    for name, value in (("params", params), ("grads", grads)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{name} of type {type(value).__name__} is not valid; expected a list of "
                            "arrays (wrap a single array as [x])")
    if len(params) != len(grads):
        raise ValueError(f"params has {len(params)} arrays but grads has {len(grads)}; "
                         "expected one gradient per parameter")
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        if (type(p) is np.ndarray and type(g) is np.ndarray and p.dtype.kind == "f" and g.dtype.kind == "f"
                and g.shape == p.shape):
            continue                                   # the usual case, checked cheaply: every step
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params[{i}] of type {type(p).__name__} is not valid; expected a float "
                            "NumPy array (updated in place)")
        check_array(p, f"params[{i}]")
        g = check_array(g, f"grads[{i}]")
        if g.shape != p.shape:
            raise ValueError(f"grads[{i}] has shape {g.shape} but params[{i}] has shape "
                             f"{p.shape}; expected equal shapes")
    return list(params), list(grads)


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball or Nesterov) momentum, as torch.optim.SGD.

    torch's momentum is ``b <- mu b + (1 - dampening) g; x <- x - lr b``. The notes write
    ``v <- rho v - lr g; x <- x + v``; with a constant lr the two are the same (v = -lr b)."""

    def __init__(self, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False):
        super().__init__(lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
        nesterov = check_bool(nesterov, "nesterov")
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0; got "
                             f"momentum={momentum!r}, dampening={dampening!r}")
        self.nesterov = bool(nesterov)

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()         # first step: b = g
            else:
                buf *= self.momentum                              # b = mu b + (1 - dampening) g
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf  # Nesterov: g + mu b
        p -= self.lr * g


class Adagrad(Optimizer):
    """AdaGrad, as torch.optim.Adagrad: ``G += g*g; x -= lr_t * g / (sqrt(G) + eps)`` with
    ``lr_t = lr / (1 + (t - 1) lr_decay)``."""

    def __init__(self, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10):
        super().__init__(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)

    def _update(self, p, g, state):
        if "sum" not in state:
            state["step"] = 0
            state["sum"] = np.full_like(p, self.initial_accumulator_value)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] += g * g                                     # G += g^2, never reset
        p -= clr * (g / (np.sqrt(state["sum"]) + self.eps))


class RMSprop(Optimizer):
    """RMSProp, as torch.optim.RMSprop: ``s = alpha s + (1 - alpha) g^2;
    x -= lr g / (sqrt(s) + eps)``; ``centered`` subtracts the squared mean gradient, and
    ``momentum`` accumulates the scaled step in a buffer."""

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False):
        super().__init__(lr, eps=eps, weight_decay=weight_decay, momentum=momentum)
        self.alpha = check_scalar(alpha, "alpha", min=0.0, max=1.0)
        self.centered = check_bool(centered, "centered")

    def _update(self, p, g, state):
        if "square_avg" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p)
        state["step"] += 1
        if self.weight_decay:
            g = g + self.weight_decay * p
        s = state["square_avg"]
        s *= self.alpha                                           # s = alpha s + (1-alpha) g^2
        s += (1 - self.alpha) * (g * g)
        if self.centered:
            m = state["grad_avg"]
            m += (1 - self.alpha) * (g - m)                       # m = lerp(m, g, 1 - alpha)
            avg = np.sqrt(s - m * m) + self.eps
        else:
            avg = np.sqrt(s) + self.eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / avg
            p -= self.lr * buf
        else:
            p -= self.lr * (g / avg)


class Adam(Optimizer):
    """Adam with bias correction (and AMSGrad), as torch.optim.Adam::

        m = beta1 m + (1 - beta1) g          v = beta2 v + (1 - beta2) g^2
        x -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)      (t = 1, 2, ...)
    """

    def __init__(self, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False):
        super().__init__(lr, eps=eps, weight_decay=weight_decay)
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"betas={betas!r} is not valid; expected a pair (beta1, beta2)")
        if len(betas) != 2:
            raise ValueError(f"betas={betas!r} is not valid; expected a pair (beta1, beta2)")
        self.betas = tuple(check_scalar(b, f"betas[{i}]", min=0.0, max=1.0, max_inclusive=False)
                           for i, b in enumerate(betas))
        self.amsgrad = check_bool(amsgrad, "amsgrad")

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p                         # L2 in the loss: enters m and v
        self._moments_step(p, g, state)

    def _moments_step(self, p, g, state):
        """The Adam step proper, shared with AdamW."""
        b1, b2 = self.betas
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)                                   # m = lerp(m, g, 1 - beta1)
        v *= b2                                                   # v = beta2 v + (1-beta2) g^2
        v += (1 - b2) * (g * g)
        step_size = self.lr / (1 - b1 ** t)                       # bias corrections, t >= 1
        root_bc2 = math.sqrt(1 - b2 ** t)
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            denom = np.sqrt(state["max_exp_avg_sq"]) / root_bc2 + self.eps
        else:
            denom = np.sqrt(v) / root_bc2 + self.eps
        p -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with *decoupled* weight decay (Loshchilov and Hutter, 2019), as torch.optim.AdamW::

        x *= 1 - lr * weight_decay           (the decay never enters m or v)
        m = beta1 m + (1 - beta1) g          v = beta2 v + (1 - beta2) g^2
        x -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    ``Adam(weight_decay=...)`` adds ``weight_decay * x`` to the gradient instead (L2 in the loss),
    which Adam then divides by ``sqrt(v)``: weights with large gradients are barely decayed.
    torch's default ``weight_decay`` here is 1e-2."""

    def __init__(self, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def _update(self, p, g, state):
        p *= 1 - self.lr * self.weight_decay                      # decoupled decay, before the step
        self._moments_step(p, g, state)


# -------------------------------------------------------------------- quasi-Newton (BFGS, L-BFGS)
def bfgs_update(H_inv: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """BFGS update of the inverse-Hessian estimate from a step ``s`` and the gradient change
    ``y``: ``H <- (I - r s y^T) H (I - r y s^T) + r s s^T`` with ``r = 1 / (y^T s)``.
    Skipped (H returned unchanged) when ``y^T s <= 0`` (no curvature information).
    Memory O(n^2): this is what L-BFGS avoids."""
    s, y = check_array(s, "s", ndim=1, finite=True), check_array(y, "y", ndim=1, finite=True)
    H_inv = check_array(H_inv, "H_inv", shape=(len(s), len(s)))
    if y.shape != s.shape:
        raise ValueError(f"s has shape {s.shape} but y has shape {y.shape}; expected equal shapes")
    ys = float(y @ s)
    if ys <= 1e-12:
        return H_inv
    r = 1.0 / ys
    Hy = H_inv @ y
    return (H_inv - r * (np.outer(s, Hy) + np.outer(Hy, s))
            + (r * r * float(y @ Hy) + r) * np.outer(s, s))


def lbfgs_direction(grad: np.ndarray, s_list, y_list) -> np.ndarray:
    """The L-BFGS search direction ``-H grad`` by the two-loop recursion over the last m pairs
    (oldest first in the lists), with the initial scaling ``gamma = s^T y / y^T y``. O(m n)."""
    grad = check_array(grad, "grad", ndim=1, finite=True)
    if len(s_list) != len(y_list):
        raise ValueError(f"s_list has {len(s_list)} vectors but y_list has {len(y_list)}; expected pairs")
    q = grad.astype(np.float64, copy=True)
    alphas = []
    for s, y in zip(reversed(s_list), reversed(y_list), strict=True):  # newest to oldest
        rho = 1.0 / float(y @ s)
        a = rho * float(s @ q)
        q -= a * y
        alphas.append((rho, a))
    if s_list:
        q *= float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1])
    for (s, y), (rho, a) in zip(zip(s_list, y_list, strict=True), reversed(alphas), strict=True):
        b = rho * float(y @ q)
        q += (a - b) * s                                          # oldest to newest
    return -q


def backtracking_line_search(f_and_grad, x, f, g, d, *, shrink: float = 0.5, armijo: float = 1e-4,
                             min_step: float = 1e-10):
    """Armijo backtracking along the direction ``d`` from ``x`` (where the loss is ``f`` and the
    gradient ``g``): the step starts at 1 and is multiplied by ``shrink`` until the loss drops by at
    least ``armijo`` times the decrease the gradient predicts, ``f(x + t d) <= f + armijo t g.d``
    (or the step falls below ``min_step``). Returns ``(x_new, f_new, g_new, evaluations)``."""
    shrink = check_scalar(shrink, "shrink", min=0.0, max=1.0, min_inclusive=False, max_inclusive=False)
    armijo = check_scalar(armijo, "armijo", min=0.0, max=1.0, max_inclusive=False)
    slope = float(g @ d)
    step, evaluations = 1.0, 0
    while True:
        x_new = x + step * d
        f_new, g_new = f_and_grad(x_new)
        evaluations += 1
        if f_new <= f + armijo * step * slope or step < min_step:
            return x_new, f_new, g_new, evaluations
        step *= shrink


@dataclass(frozen=True)
class QuasiNewtonResult:
    """Where a quasi-Newton run ended, its loss at the start and after each iteration, and how many
    times it evaluated the loss and gradient."""

    x: np.ndarray
    losses: np.ndarray
    evaluations: int


def _start(f_and_grad, x0):
    if not callable(f_and_grad):
        raise TypeError(f"f_and_grad={f_and_grad!r} is not valid; expected a function x -> (loss, gradient)")
    return check_array(x0, "x0", ndim=1, finite=True, nonempty=True).astype(np.float64)


def bfgs(f_and_grad, x0, iters: int) -> QuasiNewtonResult:
    """Dense BFGS: the direction ``-H g`` from the n x n inverse-Hessian estimate ``H`` (updated by
    :func:`bfgs_update`), then :func:`backtracking_line_search`. O(n^2) memory."""
    x, iters = _start(f_and_grad, x0), check_int(iters, "iters", min=0)
    f, g = f_and_grad(x)
    H = np.eye(len(x))
    losses, evaluations = [f], 1
    for _ in range(iters):
        d = -H @ g
        if float(d @ g) >= 0:                     # not a descent direction: restart from -g
            H, d = np.eye(len(x)), -g
        x_new, f_new, g_new, n = backtracking_line_search(f_and_grad, x, f, g, d)
        evaluations += n
        H = bfgs_update(H, x_new - x, g_new - g)
        x, f, g = x_new, f_new, g_new
        losses.append(f)
    return QuasiNewtonResult(x, np.array(losses), evaluations)


def lbfgs(f_and_grad, x0, iters: int, *, memory: int = 10, gtol: float = 0.0,
          batches=None) -> QuasiNewtonResult:
    """L-BFGS: the direction from the last ``memory`` pairs (s, y) by :func:`lbfgs_direction`, then
    :func:`backtracking_line_search`; stops early once the gradient's norm is at most ``gtol``.

    With ``batches`` (a sequence of at least ``iters`` index arrays), iteration k minimizes the loss
    of mini-batch k, ``f_and_grad(x, batches[k])``: direction, line search and the pair (s, y) all
    come from that batch, so y mixes curvature with sampling noise. The losses are then each
    batch's own."""
    x, iters = _start(f_and_grad, x0), check_int(iters, "iters", min=0)
    memory = check_int(memory, "memory", min=1)
    gtol = check_scalar(gtol, "gtol", min=0.0)
    if batches is not None and len(batches) < iters:
        raise ValueError(f"batches holds {len(batches)} mini-batches; expected at least iters={iters}")

    def objective(k):
        return f_and_grad if batches is None else (lambda w: f_and_grad(w, batches[k]))

    fg = objective(0)
    f, g = fg(x)
    s_list, y_list, losses, evaluations = [], [], [f], 1
    for k in range(iters):
        if batches is not None and k > 0:         # a new mini-batch: a new function
            fg = objective(k)
            f, g = fg(x)
            evaluations += 1
        if float(np.linalg.norm(g)) <= gtol:
            break
        d = lbfgs_direction(g, s_list, y_list)
        if float(d @ g) >= 0:
            d = -g
        x_new, f_new, g_new, n = backtracking_line_search(fg, x, f, g, d)
        evaluations += n
        s, y = x_new - x, g_new - g
        if float(s @ y) > 1e-12:
            s_list, y_list = (s_list + [s])[-memory:], (y_list + [y])[-memory:]
        x, f, g = x_new, f_new, g_new
        losses.append(f)
    return QuasiNewtonResult(x, np.array(losses), evaluations)
