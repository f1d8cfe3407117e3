"""The experiments of 03_backprop_gates on gates and the chain rule: the engine against torch, the
sigmoid as one gate, the gradient's own graph, the scale of the data, staged computation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import nets
from ..._checks import as_rng, check_array, check_positive, check_positive_int, check_scalar
from ...autodiff import Value, sigmoid_chain
from ...config import single_thread
from ...gradcheck import numerical_gradient, rel_error
from ...timing import TIMING_MARGIN, best_seconds
from .gradient_checks import gradients_agree

__all__ = ["EXPRESSION_OPS", "NEURON_INPUTS", "USABLE_SHARE", "random_program", "run_program",
           "engine_vs_torch", "ChainRuleCheck", "measure_chain_rule", "chain_rule_agrees",
           "mostly_usable", "FUSED_OPERATIONS", "SigmoidGate", "measure_sigmoid_gate",
           "one_gate_saves_operations", "one_gate_not_slower", "BackwardGraphCost",
           "measure_backward_graph_cost", "graph_time_within_margin", "SCALE_RTOL", "ROUGH_RTOL",
           "GradientScale", "measure_gradient_scale", "scales_exactly", "scales_roughly",
           "STABLE_TOL", "RULE_SLACK", "is_stable", "linear_losses", "largest_stable_lr",
           "StableLR", "measure_stable_lr", "notes_rule_holds", "drop_is_factor_squared",
           "TRAIN_ACC_MIN", "HELDOUT_ACC_MIN", "SpiralTraining", "measure_spiral_training",
           "spiral_learned"]

# --------------------------------------------------------------------------- the chain rule
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
NEURON_INPUTS = (2.0, -1.0, -3.0, -2.0, -3.0)  # w0, x0, w1, x1, w2: the lecture's neuron
ROUNDING = 1e-13   # two tiny float64 gradients (below TINY) closer than this agree to rounding
TINY = 1e-6
USABLE_SHARE = 0.9  # at least this share of random expressions stay finite at their point


def random_program(rng, n_ops: int = 8) -> list[tuple[str, int, int]]:
    """A random expression: ``n_ops`` operations, each on two earlier nodes (so nodes get reused)."""
    rng, n_ops = as_rng(rng), check_positive_int(n_ops, "n_ops", max=10_000)
    names = sorted(EXPRESSION_OPS)
    return [(names[rng.integers(len(names))], int(rng.integers(0, 3 + k)), int(rng.integers(0, 3 + k)))
            for k in range(n_ops)]


def run_program(program, leaves):
    """Evaluate a program on three leaves (Values or torch tensors); returns the last node."""
    nodes = list(leaves)
    for op, i, j in program:
        nodes.append(EXPRESSION_OPS[op](nodes[i], nodes[j]))
    return nodes[-1]


def engine_vs_torch(program, xs) -> float | None:
    """Relative error between the engine's and torch.autograd's gradients of one program at the
    point ``xs``; None when the expression overflows there or ignores its inputs. A tiny component
    (below :data:`TINY`) whose two values differ by less than :data:`ROUNDING` counts as equal: a
    gradient of 1e-8 left by a saturated tanh (1 - t^2 with t = 0.99999999995) carries a rounding
    error of 1e-15 in either library, a relative 1e-7."""
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
    ours, theirs = np.array([v.grad for v in leaves]), np.array(expected)
    compared = (np.abs(ours - theirs) > ROUNDING) | (np.abs(ours) + np.abs(theirs) > TINY)
    return rel_error(ours[compared], theirs[compared])


@dataclass(frozen=True)
class ChainRuleCheck:
    """The lecture's neuron sigma(w0 x0 + w1 x1 + w2) against torch and centred differences, and the
    worst disagreement with torch over random expressions (``usable`` of ``tried`` stayed finite)."""

    neuron_vs_torch: float
    neuron_vs_numeric: float
    worst: float
    usable: int
    tried: int


def measure_chain_rule(n_expressions: int, *, n_ops: int = 10, rng) -> ChainRuleCheck:
    import torch

    n_expressions = check_positive_int(n_expressions, "n_expressions", max=1_000_000)
    rng = as_rng(rng)
    leaves = [Value(v) for v in NEURON_INPUTS]
    w0, x0, w1, x1, w2 = leaves
    (w0 * x0 + w1 * x1 + w2).sigmoid().backward()
    engine = np.array([v.grad for v in leaves])

    def neuron(v):
        return 1 / (1 + np.exp(-(v[0] * v[1] + v[2] * v[3] + v[4])))

    numeric = numerical_gradient(neuron, np.array(NEURON_INPUTS))
    t = torch.tensor(NEURON_INPUTS, dtype=torch.float64, requires_grad=True)
    torch.sigmoid(t[0] * t[1] + t[2] * t[3] + t[4]).backward()
    errors = [engine_vs_torch(random_program(rng, n_ops), rng.uniform(-2, 2, 3)) for _ in range(n_expressions)]
    errors = [e for e in errors if e is not None]
    return ChainRuleCheck(rel_error(engine, t.grad.numpy()), rel_error(engine, numeric),
                          max(errors) if errors else float("inf"), len(errors), n_expressions)


def chain_rule_agrees(result: ChainRuleCheck) -> bool:
    """The neuron and every usable random expression agree with torch (and the neuron with centred
    differences) to :data:`GRAD_AGREE`."""
    return all(gradients_agree(e) for e in (result.neuron_vs_torch, result.neuron_vs_numeric, result.worst))


def mostly_usable(result: ChainRuleCheck) -> bool:
    return result.usable > USABLE_SHARE * result.tried


# --------------------------------------------------------------------------- sigmoid as one gate
FUSED_OPERATIONS = 3  # 1 / (1 + exp(-x)) takes four primitive gates; sigmoid as one gate saves three


@dataclass(frozen=True)
class SigmoidGate:
    """d sigmoid(w x) / dw at w = 1.3 with sigmoid as one gate and as a chain of primitive gates:
    both gradients, graph sizes, and the best time of one forward + backward pass of each."""

    grad_one: float
    grad_chain: float
    nodes_one: int
    nodes_chain: int
    ops_one: int
    ops_chain: int
    seconds_one: float
    seconds_chain: float

    @property
    def speedup(self) -> float:
        return self.seconds_chain / self.seconds_one

    @property
    def gradient_error(self) -> float:
        return rel_error(self.grad_one, self.grad_chain)


def measure_sigmoid_gate(x: float = 0.7, *, number: int, repeats: int = 5) -> SigmoidGate:
    x = check_scalar(x, "x")

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
    return SigmoidGate(w1.grad, w2.grad, len(o1.topo()), len(o2.topo()),
                       sum(1 for v in o1.topo() if v._op), sum(1 for v in o2.topo() if v._op),
                       best_seconds(one, repeats=repeats, number=number),
                       best_seconds(chain, repeats=repeats, number=number))


def one_gate_saves_operations(result: SigmoidGate) -> bool:
    return result.ops_chain - result.ops_one == FUSED_OPERATIONS


def one_gate_not_slower(result: SigmoidGate) -> bool:
    """The single gate is not slower than the chain by more than the timing margin."""
    return result.speedup > 1 / TIMING_MARGIN


# --------------------------------------------------------------------------- direct vs graph
@dataclass(frozen=True)
class BackwardGraphCost:
    """The same network's backward pass computed directly (``create_graph=False``) and building a
    graph of the gradient (``create_graph=True``): the best time of each (interleaved, one thread),
    the bytes and tensors saved for the gradient's graph, its nodes, and how far the two gradients
    differ."""

    direct_seconds: float
    graph_seconds: float
    direct_saved_bytes: int
    graph_saved_bytes: int
    graph_saved_tensors: int
    graph_nodes: int
    gradient_difference: float
    time_ratio: float          # graph_seconds / direct_seconds


def measure_backward_graph_cost(net: nets.MLP, X, y, *, repeats: int = 20) -> BackwardGraphCost:
    import time

    import torch

    repeats = check_positive_int(repeats, "repeats", max=100_000)
    twin = nets.torch_twin(net)
    Xt, yt = torch.from_numpy(np.asarray(X, dtype=net.dtype)), torch.from_numpy(np.asarray(y, dtype=np.int64))
    weights = list(twin.parameters())
    runs = {name: {"create": create, "times": [], "saved": {"bytes": 0, "tensors": 0}, "grads": None}
            for name, create in (("direct", False), ("graph", True))}

    def one_pass(run, timed: bool) -> None:
        saved = run["saved"]

        def pack(t):
            saved["bytes"] += t.numel() * t.element_size()
            saved["tensors"] += 1
            return t

        loss = torch.nn.functional.cross_entropy(twin(Xt), yt)
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
    nodes, stack = set(), [g.grad_fn for g in runs["graph"]["grads"] if g.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or node in nodes:
            continue
        nodes.add(node)
        stack.extend(f for f, _ in node.next_functions)
    difference = max(rel_error(a.detach().numpy(), b.detach().numpy())
                     for a, b in zip(runs["direct"]["grads"], runs["graph"]["grads"], strict=True))
    direct, graph = float(np.min(runs["direct"]["times"])), float(np.min(runs["graph"]["times"]))
    return BackwardGraphCost(direct, graph, runs["direct"]["saved"]["bytes"], runs["graph"]["saved"]["bytes"],
                             runs["graph"]["saved"]["tensors"], len(nodes), difference, graph / direct)


def graph_time_within_margin(result: BackwardGraphCost) -> bool:
    return 1 / TIMING_MARGIN < result.time_ratio < TIMING_MARGIN


# --------------------------------------------------------------------------- the scale of the data
SCALE_RTOL = 1e-6    # "exactly": to float64 rounding of a sum over the data
ROUGH_RTOL = 0.1     # "about": within 10 %


@dataclass(frozen=True)
class GradientScale:
    """|dL/dW| of a linear softmax classifier on ``scale * X`` over |dL/dW| on ``X``, at W = 0 and
    at small random weights (std 0.01)."""

    scale: float
    at_zero: float
    at_small: float


def _gradient_scale_ratio(X, y, W, scale) -> float:
    b = np.zeros(W.shape[1])
    raw = nets.softmax_regression_loss(W, b, X, y)[1]
    scaled = nets.softmax_regression_loss(W, b, scale * X, y)[1]
    return float(np.linalg.norm(scaled) / np.linalg.norm(raw))


def measure_gradient_scale(X, y, *, scale: float = 1000.0, rng) -> GradientScale:
    X = check_array(X, "X", ndim=2, nonempty=True)
    scale, rng = check_positive(scale, "scale"), as_rng(rng)
    n_classes = int(np.max(y)) + 1
    W_small = 0.01 * rng.standard_normal((X.shape[1], n_classes))
    return GradientScale(scale, _gradient_scale_ratio(X, y, np.zeros_like(W_small), scale),
                         _gradient_scale_ratio(X, y, W_small, scale))


def scales_exactly(result: GradientScale) -> bool:
    """At W = 0 the weight gradient grows by exactly ``scale``."""
    return abs(result.at_zero / result.scale - 1) < SCALE_RTOL


def scales_roughly(result: GradientScale) -> bool:
    """At small random weights it still grows by about ``scale`` (within :data:`ROUGH_RTOL`)."""
    return abs(result.at_small / result.scale - 1) < ROUGH_RTOL


# --------------------------------------------------------------------------- the stable learning rate
STABLE_TOL = 1e-3    # a stable run never rises more than 0.1 % above its start
RULE_SLACK = 10.0    # "the drop is about X": within a factor 10 of X


def is_stable(losses) -> bool:
    """A run is stable when its loss stays finite, never rises above where it started (by more
    than 0.1 %), and ends lower."""
    losses = check_array(losses, "losses", ndim=1, nonempty=True)
    return bool(np.all(np.isfinite(losses)) and losses.max() <= losses[0] * (1 + STABLE_TOL)
                and losses[-1] < losses[0])


def linear_losses(X, y, lr: float, steps: int = 100) -> np.ndarray:
    """Losses of full-batch gradient descent on softmax regression from zero weights: ``steps + 1``
    values, diverging runs included (they are what this experiment looks for)."""
    return nets.softmax_regression_descent(X, y, lr=lr, steps=steps)


def largest_stable_lr(X, y, *, lo: float = 1e-12, hi: float = 1e4, steps: int = 100, iters: int = 30) -> float:
    """Bisection in log(lr) for the largest learning rate whose run is stable."""
    lo, hi = check_positive(lo, "lo"), check_positive(hi, "hi")
    if not lo < hi:
        raise ValueError(f"lo={lo!r}, hi={hi!r} are not valid; expected 0 < lo < hi")
    iters = check_positive_int(iters, "iters", max=200)
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


@dataclass(frozen=True)
class StableLR:
    """The largest stable learning rate of softmax regression on ``X`` and on ``factor * X``; the
    losses of the notes' rule (the raw rate divided by ``factor``) on the scaled data; and the loss
    after ``steps`` steps at each rate of ``sweep_lrs``, on both."""

    factor: float
    steps: int
    lr_raw: float
    lr_scaled: float
    notes_losses: np.ndarray
    sweep_lrs: np.ndarray
    final_raw: np.ndarray
    final_scaled: np.ndarray

    @property
    def drop(self) -> float:
        return self.lr_raw / self.lr_scaled

    @property
    def notes_lr(self) -> float:
        return self.lr_raw / self.factor


def measure_stable_lr(X, y, *, factor: float = 1000.0, steps: int = 100, iters: int = 30,
                      sweep_lrs=()) -> StableLR:
    factor, steps = check_positive(factor, "factor"), check_positive_int(steps, "steps", max=100_000)
    sweep = check_array(np.asarray(sweep_lrs, dtype=float), "sweep_lrs", ndim=1)
    lr_raw = largest_stable_lr(X, y, steps=steps, iters=iters)
    lr_scaled = largest_stable_lr(factor * X, y, steps=steps, iters=iters)
    final = {name: np.array([linear_losses(data, y, lr, steps)[-1] for lr in sweep])
             for name, data in (("raw", X), ("scaled", factor * X))}
    return StableLR(factor, steps, lr_raw, lr_scaled, linear_losses(factor * X, y, lr_raw / factor, steps),
                    sweep, final["raw"], final["scaled"])


def notes_rule_holds(result: StableLR) -> bool:
    """The notes' rule: dividing the learning rate by ``factor`` is enough (the measured drop is
    at most :data:`RULE_SLACK` times the factor)."""
    return result.drop <= RULE_SLACK * result.factor


def drop_is_factor_squared(result: StableLR) -> bool:
    """The measured drop is of the order of factor² (within :data:`RULE_SLACK` either way)."""
    return result.factor ** 2 / RULE_SLACK <= result.drop <= result.factor ** 2 * RULE_SLACK


# --------------------------------------------------------------------------- staged computation
TRAIN_ACC_MIN = 0.97    # the spiral (3 arms): training accuracy ...
HELDOUT_ACC_MIN = 0.90  # ... and accuracy on a fresh draw of the noise


@dataclass(frozen=True)
class SpiralTraining:
    """A two-layer network (``nets.MLP``, on the gates) trained by full-batch gradient descent:
    the trained net, the loss before each step, its accuracies, and the final loss of a linear
    classifier trained on the same data for comparison."""

    net: nets.MLP
    losses: np.ndarray
    train_acc: float
    heldout_acc: float
    linear_loss: float


def measure_spiral_training(X, y, X_held, y_held, *, hidden: int = 100, lr: float = 1.0, reg: float = 1e-4,
                            steps: int, linear_lr: float, activation: str = "relu", rng) -> SpiralTraining:
    from ...optim import SGD

    X, X_held = check_array(X, "X", ndim=2, nonempty=True), check_array(X_held, "X_held", ndim=2)
    steps = check_positive_int(steps, "steps", max=1_000_000)
    net = nets.MLP([X.shape[1], check_positive_int(hidden, "hidden"), int(np.max(y)) + 1],
                   activation=activation, init="he", rng=rng)
    opt, names, losses = SGD(lr=lr), list(net.params), []
    with single_thread():
        for _ in range(steps):
            loss, grads = net.loss(X, y, reg=reg)
            losses.append(loss)
            opt.step([net.params[k] for k in names], [grads[k] for k in names])
    return SpiralTraining(net, np.array(losses), net.accuracy(X, y), net.accuracy(X_held, y_held),
                          float(linear_losses(X, y, linear_lr, 100)[-1]))


def spiral_learned(result: SpiralTraining) -> bool:
    """Both accuracies reach their thresholds."""
    return result.train_acc >= TRAIN_ACC_MIN and result.heldout_acc >= HELDOUT_ACC_MIN
