"""The experiments of 03_backprop_gates, each with the threshold it is judged by.

Every threshold the notebook asserts is a named constant or predicate here, and the unit tests run
the opposite experiment to show the predicate is False there.
"""

from __future__ import annotations

import time

import numpy as np

from . import layers
from .autodiff import Value, sigmoid_chain
from .gradcheck import numerical_gradient, one_sided_gradient, rel_error

# Relative-error bands of a gradient check in float64 (see gradient_check_band).
GRAD_AGREE = 1e-7          # below: the gradients agree
GRAD_SUSPECT = 1e-4        # between: look for kinks or a bad h; above: a bug, almost surely


def gradients_agree(err: float) -> bool:
    return err < GRAD_AGREE


def gradient_check_band(err: float) -> str:
    """'agree' (< 1e-7), 'suspect' (< 1e-4: kinks, h, float32) or 'wrong'."""
    return "agree" if err < GRAD_AGREE else ("suspect" if err < GRAD_SUSPECT else "wrong")


def source_without_docstring(fn) -> str:
    """The source of a function with its docstring removed, to show its code in a notebook."""
    import inspect

    source = inspect.getsource(fn)
    if fn.__doc__:
        start = source.index('"""')
        end = source.index('"""', start + 3) + 3
        source = source[:start].rstrip(" ") + source[end:].lstrip("\n")
    return source.rstrip("\n")


def median_seconds(fn, repeats: int = 7, number: int = 1) -> float:
    """Median wall time of ``number`` calls of ``fn``, over ``repeats`` repetitions, per call."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return float(np.median(times))


# --------------------------------------------------------------------------- random expressions
# Each op works unchanged on a Value and on a torch tensor; the guards keep log and / defined.
EXPRESSION_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "pow3": lambda a, b: a ** 3,
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: (a * a + 0.5).log(),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "relu": lambda a, b: a.relu(),
}


def random_program(rng: np.random.Generator, n_ops: int = 8) -> list[tuple[str, int, int]]:
    """A random expression: ``n_ops`` operations, each on two earlier nodes (so nodes get reused)."""
    names = sorted(EXPRESSION_OPS)
    return [(names[rng.integers(len(names))], int(rng.integers(0, 3 + k)), int(rng.integers(0, 3 + k)))
            for k in range(n_ops)]


def run_program(program, leaves):
    """Evaluate a program on leaves (Values or torch tensors); returns the last node."""
    nodes = list(leaves)
    for op, i, j in program:
        nodes.append(EXPRESSION_OPS[op](nodes[i], nodes[j]))
    return nodes[-1]


def engine_vs_torch(program, xs) -> float | None:
    """Relative error between the engine's and torch.autograd's gradients of one program at the
    point ``xs``; None when the expression overflows there or ignores its inputs."""
    import torch

    leaves = [Value(x) for x in xs]
    try:
        out = run_program(program, leaves)
    except OverflowError:                    # math.exp and ** raise where NumPy gives inf
        return None
    if not np.isfinite(out.data) or abs(out.data) > 1e8:
        return None
    out.backward()
    tleaves = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    tout = run_program(program, tleaves)
    if not tout.requires_grad:
        return None
    grads = torch.autograd.grad(tout, tleaves, allow_unused=True)
    expected = [0.0 if g is None else g.item() for g in grads]
    if not all(np.isfinite(expected)):
        return None
    return rel_error([v.grad for v in leaves], expected)


# --------------------------------------------------------------------------- sigmoid as one gate
def sigmoid_gate_comparison(x: float = 0.7, number: int = 2000, repeats: int = 5) -> dict:
    """The gradient of sigmoid(w * x) w.r.t. w, with sigmoid as one gate and as a chain of
    primitive gates: both gradients, the number of graph nodes, and the time of forward+backward."""
    def one():
        w = Value(1.3)
        out = (w * x).sigmoid()
        out.backward()
        return w, out

    def chain():
        w = Value(1.3)
        out = sigmoid_chain(w * x)
        out.backward()
        return w, out

    (w1, o1), (w2, o2) = one(), chain()
    return {"grad_one": w1.grad, "grad_chain": w2.grad, "nodes_one": len(o1.topo()),
            "nodes_chain": len(o2.topo()),
            "ops_one": sum(1 for v in o1.topo() if v._op), "ops_chain": sum(1 for v in o2.topo() if v._op),
            "seconds_one": median_seconds(one, repeats, number),
            "seconds_chain": median_seconds(chain, repeats, number)}


# --------------------------------------------------------------------------- scale of the data
def linear_softmax_grad(X, y, W, b) -> np.ndarray:
    """dL/dW of a linear softmax classifier, through the gates."""
    s, cache = layers.affine_forward(X, W, b)
    _, ds = layers.softmax_loss(s, y)
    return layers.affine_backward(ds, cache)[1]


def gradient_scale_ratio(X, y, W, b, scale: float) -> float:
    """|dL/dW| on ``scale * X`` over |dL/dW| on ``X``, at the same weights."""
    if not scale > 0:
        raise ValueError(f"scale={scale!r} is not valid; expected a positive number")
    g_raw = linear_softmax_grad(X, y, W, b)
    g_scaled = linear_softmax_grad(scale * X, y, W, b)
    return float(np.linalg.norm(g_scaled) / np.linalg.norm(g_raw))


def scales_by(ratio: float, factor: float, rtol: float = 1e-6) -> bool:
    """The gradient grew by exactly ``factor`` (to ``rtol``)."""
    return abs(ratio / factor - 1) < rtol


def linear_losses(X, y, lr: float, steps: int = 100) -> np.ndarray:
    """Losses of full-batch gradient descent on a linear softmax classifier from W = 0, b = 0
    (``steps + 1`` values: before each step and after the last)."""
    C = int(np.max(y)) + 1
    W, b = np.zeros((X.shape[1], C)), np.zeros(C)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            s, cache = layers.affine_forward(X, W, b)
            loss, ds = layers.softmax_loss(s, y)
            losses.append(loss)
            _, dW, db = layers.affine_backward(ds, cache)
            W -= lr * dW
            b -= lr * db
        losses.append(layers.softmax_loss(layers.affine_forward(X, W, b)[0], y)[0])
    return np.array(losses)


STABLE_TOL = 1e-3


def is_stable(losses: np.ndarray) -> bool:
    """A run is stable when its loss stays finite, never rises above where it started (by more
    than 0.1%), and ends lower."""
    losses = np.asarray(losses)
    return bool(np.all(np.isfinite(losses)) and losses.max() <= losses[0] * (1 + STABLE_TOL)
                and losses[-1] < losses[0])


def largest_stable_lr(X, y, lo: float = 1e-12, hi: float = 1e4, steps: int = 100,
                      iters: int = 30) -> float:
    """Bisection in log(lr) for the largest learning rate whose run is stable."""
    if not 0 < lo < hi:
        raise ValueError(f"lo={lo!r}, hi={hi!r} are not valid; expected 0 < lo < hi")
    if not is_stable(linear_losses(X, y, lo, steps)):
        raise ValueError(f"lo={lo!r} is already unstable; expected a smaller lower bound")
    a, b = np.log10(lo), np.log10(hi)
    for _ in range(iters):
        mid = (a + b) / 2
        if is_stable(linear_losses(X, y, 10 ** mid, steps)):
            a = mid
        else:
            b = mid
    return float(10 ** a)


def lr_drop_matches(lr_raw: float, lr_scaled: float, factor: float, slack: float = 10.0) -> bool:
    """The notes' rule holds when dividing the lr by ``factor`` is enough: the measured drop
    ``lr_raw / lr_scaled`` is at most ``slack`` times ``factor``."""
    return lr_raw / lr_scaled <= slack * factor


# --------------------------------------------------------------------------- direct vs graph
def backward_graph_cost(params: dict, X, y, repeats: int = 20) -> dict:
    """The same two-layer net in torch: its backward computed directly (``create_graph=False``)
    against one that builds a graph of the gradient (``create_graph=True``). Returns the time of
    each (the best of ``repeats``, the two interleaved after a warm-up, on one thread, so that a
    busy machine slows both alike), the bytes of tensors saved for the gradient's graph, and its
    number of nodes."""
    import torch

    from .config import single_thread
    from .twolayer import torch_net

    net = torch_net(params)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))
    weights = list(net.parameters())
    runs = {name: {"create": create, "times": [], "saved": {"bytes": 0, "tensors": 0}, "grads": None}
            for name, create in (("direct", False), ("graph", True))}

    def one_pass(run, timed: bool) -> None:
        saved = run["saved"]

        def pack(t):
            saved["bytes"] += t.numel() * t.element_size()
            saved["tensors"] += 1
            return t

        loss = torch.nn.functional.cross_entropy(net(Xt), yt)
        saved.update(bytes=0, tensors=0)
        start = time.perf_counter()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            run["grads"] = torch.autograd.grad(loss, weights, create_graph=run["create"])
        if timed:
            run["times"].append(time.perf_counter() - start)

    with single_thread():
        for run in runs.values():
            one_pass(run, timed=False)                     # warm-up
        for _ in range(repeats):
            for run in runs.values():
                one_pass(run, timed=True)
    out = {}
    for name, run in runs.items():
        grads = run["grads"]
        nodes, stack = set(), [g.grad_fn for g in grads if g.grad_fn is not None]
        while stack:
            node = stack.pop()
            if node is None or node in nodes:
                continue
            nodes.add(node)
            stack.extend(f for f, _ in node.next_functions)
        out[name] = {"seconds": float(np.min(run["times"])), "saved_bytes": run["saved"]["bytes"],
                     "saved_tensors": run["saved"]["tensors"], "graph_nodes": len(nodes),
                     "grads": [g.detach().numpy().copy() for g in grads]}
    return out


# --------------------------------------------------------------------------- gradient checking
def softmax_regression_problem(seed: int = 0, N: int = 20, D: int = 5, C: int = 3,
                               dtype=np.float64):
    """A small smooth problem: f(W) = softmax loss of X @ W; returns (f, W, analytic grad fn)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)).astype(dtype)
    y = rng.integers(0, C, N)
    W = (0.5 * rng.standard_normal((D, C))).astype(dtype)
    b = np.zeros(C, dtype)

    def f(W):
        return layers.softmax_loss(layers.affine_forward(X, W, b)[0], y)[0]

    def grad(W):
        s, cache = layers.affine_forward(X, W, b)
        return layers.affine_backward(layers.softmax_loss(s, y)[1], cache)[1]

    return f, W, grad


def h_sweep(hs, dtype=np.float64, one_sided: bool = False, seed: int = 0) -> np.ndarray:
    """Relative error of the numerical gradient against the analytic one, for each step h."""
    f, W, grad = softmax_regression_problem(seed, dtype=dtype)
    exact = softmax_regression_problem(seed)[2](W.astype(np.float64))
    numeric = one_sided_gradient if one_sided else numerical_gradient
    return np.array([rel_error(numeric(f, W.copy(), h=float(h)), exact) for h in hs])


def relu_kink_errors(h: float = 1e-5, seed: int = 0, n: int = 8) -> dict:
    """ReLU checked at inputs far from 0 and at inputs within h of 0 (the kink)."""
    rng = np.random.default_rng(seed)
    dout = rng.standard_normal(n)
    out = {}
    for name, x in (("away", rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 2.0, n)),
                    ("kink", rng.uniform(-0.5 * h, 0.5 * h, n))):
        analytic = layers.relu_backward(dout, (x,))
        numeric = numerical_gradient(lambda v: float(np.sum(layers.relu_forward(v)[0] * dout)),
                                     x.copy(), h=h)
        out[name] = rel_error(analytic, numeric)
    return out
