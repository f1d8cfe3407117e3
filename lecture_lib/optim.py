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
next to the name torch gives it. The end of the module holds the quasi-Newton pieces of the second-
order section: a BFGS update of the inverse Hessian and the L-BFGS two-loop recursion.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "bfgs_update", "lbfgs_direction"]


def _number(value, name: str, *, low: float = 0.0, high: float | None = None,
            include_high: bool = False, expected: str = "a non-negative number") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name}={value!r} is not valid; expected {expected}")
    value = float(value)
    too_high = high is not None and (value > high if include_high else value >= high)
    if value < low or too_high:
        raise ValueError(f"{name}={value!r} is not valid; expected {expected}")
    return value


class Optimizer:
    """Shared plumbing: argument checks, per-position state, and the step loop."""

    def __init__(self, lr: float):
        self.lr = lr
        self.state: dict[int, dict] = {}

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = _number(value, "lr", expected="a non-negative finite learning rate")

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
    if isinstance(params, np.ndarray) or isinstance(grads, np.ndarray):
        raise ValueError("params and grads must be lists of arrays (wrap a single array as [x])")
    params, grads = list(params), list(grads)
    if len(params) != len(grads):
        raise ValueError(f"params has {len(params)} arrays but grads has {len(grads)}; "
                         "expected one gradient per parameter")
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise ValueError(f"params[{i}] is {type(p).__name__} "
                             f"{getattr(p, 'dtype', '')}; expected a float NumPy array "
                             "(updated in place)")
        if np.shape(g) != p.shape:
            raise ValueError(f"grads[{i}] has shape {np.shape(g)} but params[{i}] has shape "
                             f"{p.shape}; expected equal shapes")
    return params, grads


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball or Nesterov) momentum, as torch.optim.SGD.

    torch's momentum is ``b <- mu b + (1 - dampening) g; x <- x - lr b``. The notes write
    ``v <- rho v - lr g; x <- x + v``; with a constant lr the two are the same (v = -lr b)."""

    def __init__(self, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False):
        super().__init__(lr)
        self.momentum = _number(momentum, "momentum", expected="a non-negative momentum")
        self.dampening = _number(dampening, "dampening", expected="a non-negative dampening")
        self.weight_decay = _number(weight_decay, "weight_decay",
                                    expected="a non-negative weight decay")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"nesterov={nesterov!r} is not valid; expected True or False")
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
        super().__init__(lr)
        self.lr_decay = _number(lr_decay, "lr_decay", expected="a non-negative decay")
        self.weight_decay = _number(weight_decay, "weight_decay",
                                    expected="a non-negative weight decay")
        self.initial_accumulator_value = _number(initial_accumulator_value,
                                                 "initial_accumulator_value",
                                                 expected="a non-negative initial sum")
        self.eps = _number(eps, "eps", expected="a non-negative eps")

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
        super().__init__(lr)
        self.alpha = _number(alpha, "alpha", high=1.0, include_high=True,
                             expected="a decay rate in [0, 1]")
        self.eps = _number(eps, "eps", expected="a non-negative eps")
        self.weight_decay = _number(weight_decay, "weight_decay",
                                    expected="a non-negative weight decay")
        self.momentum = _number(momentum, "momentum", expected="a non-negative momentum")
        self.centered = bool(centered)

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
        super().__init__(lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas={betas!r} is not valid; expected a pair (beta1, beta2)")
        b1 = _number(betas[0], "betas[0]", high=1.0, expected="beta1 in [0, 1)")
        b2 = _number(betas[1], "betas[1]", high=1.0, expected="beta2 in [0, 1)")
        self.betas = (b1, b2)
        self.eps = _number(eps, "eps", expected="a non-negative eps")
        self.weight_decay = _number(weight_decay, "weight_decay",
                                    expected="a non-negative weight decay")
        self.amsgrad = bool(amsgrad)

    def _update(self, p, g, state):
        b1, b2 = self.betas
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        if self.weight_decay:
            g = g + self.weight_decay * p
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
        b1, b2 = self.betas
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        p *= 1 - self.lr * self.weight_decay                      # decoupled decay, before the step
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)                                   # m = lerp(m, g, 1 - beta1)
        v *= b2                                                   # v = beta2 v + (1-beta2) g^2
        v += (1 - b2) * (g * g)
        step_size = self.lr / (1 - b1 ** t)
        root_bc2 = math.sqrt(1 - b2 ** t)
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            denom = np.sqrt(state["max_exp_avg_sq"]) / root_bc2 + self.eps
        else:
            denom = np.sqrt(v) / root_bc2 + self.eps
        p -= step_size * (m / denom)

# -------------------------------------------------------------------- quasi-Newton (BFGS, L-BFGS)
def bfgs_update(H_inv: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """BFGS update of the inverse-Hessian estimate from a step ``s`` and the gradient change
    ``y``: ``H <- (I - r s y^T) H (I - r y s^T) + r s s^T`` with ``r = 1 / (y^T s)``.
    Skipped (H returned unchanged) when ``y^T s <= 0`` (no curvature information).
    Memory O(n^2): this is what L-BFGS avoids."""
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
