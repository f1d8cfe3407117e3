"""Experiments of 08_rnns on the vanilla RNN: the recurrence and its shared weights, the gates
checked against numerical gradients and torch, gradients through time, and clipping.

The LSTM's cell state and the long-range memory task are in :mod:`.lstm`, the character-level
language model in :mod:`.language_model`. Each ``measure_<what>(..., rng)`` returns a frozen
dataclass; the thresholds the notebook asserts are named constants, each with its predicate, and
tests/test_rnn_experiments.py runs the opposite experiment of each one.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ... import bptt, charlm, layers
from ..._checks import as_rng, check_positive, check_positive_int
from ...autodiff import Value
from ...config import single_thread


def _one_thread(measure):
    """Run an experiment of many small array operations on one thread (see config.single_thread)."""
    @functools.wraps(measure)
    def run(*args, **kwargs):
        with single_thread():
            return measure(*args, **kwargs)
    return run


# --------------------------------------------------------------------------- the recurrence
WEIGHT_NAMES = ("W_xh", "W_hh", "b", "W_hy")


@dataclass(frozen=True)
class ParameterSharing:
    """An RNN unrolled over sequences of several lengths.

    - ``parameter_counts``: the numbers held by the distinct weight arrays that the steps used
      (counted by identity, W_hy included); ``torch_parameter_counts``: the same for ``nn.RNN``
      (which keeps two bias vectors) plus W_hy;
    - ``weights_per_step``: for the first steps of the longest run, the names of the arrays each
      step used (W_xh, W_hh, b, W_hy; "copy" for an array that is not one of the model's own);
    - ``graph_nodes`` and ``weight_nodes``: the nodes of a scalar RNN's computational graph of each
      length, all of them and its weight leaves;
    - ``grad_sum_error``: how far the gradient of W_hh is from the sum of every step's contribution
      (relative)."""

    lengths: tuple
    shared: bool
    input_size: int
    hidden: int
    parameter_counts: tuple
    torch_parameter_counts: tuple
    weights_per_step: tuple
    graph_nodes: tuple
    weight_nodes: tuple
    grad_sum_error: float


SUM_TOL = 1e-12
MAX_STEPS_KEPT = 6      # steps whose weight names the result keeps, for drawing the unrolled net


def unroll_steps(x, h0, weights: dict, per_step: list | None = None):
    """Run :func:`layers.rnn_step_forward` over x (N, T, D) and read out ``y_t = h_t @ W_hy`` (the
    notes' example) with ``weights`` = {"W_xh", "W_hh", "b", "W_hy"} (or, when ``per_step`` is
    given, with the t-th dict of that list at step t). Returns the outputs (N, T, C), every step's
    cache, and the weight dict each step used."""
    h, caches, used, ys = h0, [], [], []
    for t in range(x.shape[1]):
        w = weights if per_step is None else per_step[t]
        h, cache = layers.rnn_step_forward(x[:, t], h, w["W_xh"], w["W_hh"], w["b"])
        ys.append(h @ w["W_hy"])
        caches.append(cache)
        used.append(w)
    return np.stack(ys, axis=1), caches, used


def scalar_rnn_graph(xs, w_xh: float = 0.5, w_hh: float = 0.9, b: float = 0.1, *, shared: bool = True) -> Value:
    """h_t = tanh(W_hh h_{t-1} + W_xh x_t + b) on scalars, as a graph of :class:`Value` nodes;
    returns h_T. With ``shared=False`` each step gets weight nodes of its own."""
    def weights(t):
        suffix = "" if shared else f"[{t}]"
        return (Value(w_xh, label="W_xh" + suffix), Value(w_hh, label="W_hh" + suffix),
                Value(b, label="b" + suffix))
    W = weights(1)
    h = Value(0.0, label="h0")
    for t, x in enumerate(xs, start=1):
        W_xh, W_hh, bias = W if shared else weights(t)
        h = (W_hh * h + W_xh * Value(x, label=f"x{t}") + bias).tanh()
        h.label = f"h{t}"
    return h


@_one_thread
def measure_parameter_sharing(lengths=(1, 10, 100), input_size: int = 3, hidden: int = 4, *, shared: bool = True,
                              rng) -> ParameterSharing:
    """Unroll an RNN over each length and count what it holds; ``shared=False`` is the opposite
    experiment: a fresh set of weights for every step."""
    import torch

    rng = as_rng(rng)
    lengths = tuple(check_positive_int(n, "lengths item", max=10_000) for n in lengths)
    D, H = check_positive_int(input_size, "input_size"), check_positive_int(hidden, "hidden")

    def fresh():
        return {"W_xh": rng.standard_normal((D, H)) / math.sqrt(D),
                "W_hh": rng.standard_normal((H, H)) / math.sqrt(H), "b": np.zeros(H),
                "W_hy": rng.standard_normal((H, 2)) / math.sqrt(H)}

    weights = fresh()
    counts, torch_counts, nodes, leaves, names = [], [], [], [], ()
    for T in lengths:
        x = rng.standard_normal((2, T, D))
        per_step = None if shared else [fresh() for _ in range(T)]
        _, _, used = unroll_steps(x, np.zeros((2, H)), weights, per_step)
        distinct = {id(a): a for w in used for a in w.values()}
        counts.append(sum(a.size for a in distinct.values()))
        net = torch.nn.RNN(D, H, batch_first=True)
        net(torch.zeros(1, T, D))
        torch_counts.append(sum(p.numel() for p in net.parameters()) + weights["W_hy"].size)
        graph = scalar_rnn_graph(np.linspace(-1, 1, T), shared=shared).topo()
        nodes.append(len(graph))
        leaves.append(sum(1 for v in graph if v.label.split("[")[0] in WEIGHT_NAMES))
        names = tuple(tuple(_name_of(w[k], weights) for k in WEIGHT_NAMES) for w in used[:MAX_STEPS_KEPT])
    # A shared weight's gradient is the sum of what every step sends it.
    T = lengths[-1]
    x = rng.standard_normal((2, T, D))
    h, cache = layers.rnn_forward(x, np.zeros((2, H)), weights["W_xh"], weights["W_hh"], weights["b"])
    dh = rng.standard_normal(h.shape)
    dWh = layers.rnn_backward(dh, cache)[3]
    _, caches, _ = unroll_steps(x, np.zeros((2, H)), weights)
    total, dnext = np.zeros_like(dWh), np.zeros((2, H))
    for t in range(T - 1, -1, -1):
        _, dnext, _, dWh_t, _ = layers.rnn_step_backward(dh[:, t] + dnext, caches[t])
        total += dWh_t
    error = float(np.max(np.abs(total - dWh)) / np.max(np.abs(dWh)))
    return ParameterSharing(lengths, shared, D, H, tuple(counts), tuple(torch_counts), names, tuple(nodes),
                            tuple(leaves), error)


def _name_of(array, weights: dict) -> str:
    for name, w in weights.items():
        if array is w:
            return name
    return "copy"


def weights_shared(result: ParameterSharing) -> bool:
    """The parameter count and the number of weight nodes do not change with the length, while the
    graph grows; and the shared gradient is the sum over the steps."""
    return (len(set(result.parameter_counts)) == 1 and len(set(result.weight_nodes)) == 1
            and result.graph_nodes[-1] > result.graph_nodes[0] and result.grad_sum_error < SUM_TOL)


# --------------------------------------------------------------------------- the gates, checked
GRADCHECK_TOL = 1e-7    # relative error of analytic against centred-difference gradients (float64)
FORWARD_TOL = 1e-10     # our gates against torch's nn.RNN / nn.LSTM with copied weights (float64)
BACKWARD_TOL = 1e-8
ARGUMENTS = ("x", "h0", "Wx", "Wh", "b")


@dataclass(frozen=True)
class GateChecks:
    """Relative errors, per gate and argument: the analytic gradient against centred differences,
    and our forward output and gradients against torch's with the same weights."""

    gradcheck: dict      # "rnn" / "lstm" -> {argument: rel. error}
    torch_forward: dict  # "rnn" / "lstm" -> rel. error of h
    torch_backward: dict  # "rnn" / "lstm" -> {argument: rel. error}


@_one_thread
def measure_gate_checks(*, batch: int = 2, length: int = 3, input_size: int = 4, hidden: int = 5,
                        rng) -> GateChecks:
    """Gradient checks of rnn_forward/backward and lstm_forward/backward in float64 on tiny
    shapes, and parity with torch on the same shapes."""
    import torch

    from ... import torch_rnn
    from ...gradcheck import numerical_gradient_array, rel_error

    rng = as_rng(rng)
    N, T, D, H = batch, length, input_size, hidden
    grad_errors, fwd_errors, bwd_errors = {}, {}, {}
    for kind, blocks in (("rnn", 1), ("lstm", 4)):
        forward, backward = getattr(layers, f"{kind}_forward"), getattr(layers, f"{kind}_backward")
        args = [rng.standard_normal((N, T, D)), rng.standard_normal((N, H)),
                rng.standard_normal((D, blocks * H)) / math.sqrt(D),
                rng.standard_normal((H, blocks * H)) / math.sqrt(H), rng.standard_normal(blocks * H)]
        h, cache = forward(*args)
        dh = rng.standard_normal(h.shape)
        grads = backward(dh, cache)
        errors = {}
        for k, name in enumerate(ARGUMENTS):
            def f(v, k=k, forward=forward, args=args):
                return forward(*args[:k], v, *args[k + 1:])[0]
            errors[name] = rel_error(grads[k], numerical_gradient_array(f, args[k].copy(), dh))
        grad_errors[kind] = errors
        net_class = torch.nn.RNN if kind == "rnn" else torch.nn.LSTM
        net = net_class(D, H, batch_first=True).double()
        net.load_state_dict(torch_rnn.torch_weights(kind, *args[2:]))
        x = torch.from_numpy(args[0]).requires_grad_()
        h0 = torch.from_numpy(args[1])[None].requires_grad_()
        with single_thread():
            out, _ = net(x, h0 if kind == "rnn" else (h0, torch.zeros_like(h0)))
            out.backward(torch.from_numpy(dh))
        fwd_errors[kind] = rel_error(out.detach().numpy(), h)
        theirs = {"x": x.grad.numpy(), "h0": h0.grad.numpy()[0],
                  "Wx": net.weight_ih_l0.grad.numpy().T, "Wh": net.weight_hh_l0.grad.numpy().T,
                  "b": net.bias_ih_l0.grad.numpy()}
        if kind == "lstm":                               # back from torch's i, f, g, o to i, f, o, g
            theirs.update(Wx=torch_rnn.to_numpy_order(theirs["Wx"].T).T, Wh=torch_rnn.to_numpy_order(theirs["Wh"].T).T,
                          b=torch_rnn.to_numpy_order(theirs["b"]))
        bwd_errors[kind] = {name: rel_error(theirs[name], grads[k]) for k, name in enumerate(ARGUMENTS)}
    return GateChecks(grad_errors, fwd_errors, bwd_errors)


def gates_correct(result: GateChecks) -> bool:
    """Every gradient within GRADCHECK_TOL of centred differences, and torch's forward and
    backward within FORWARD_TOL and BACKWARD_TOL."""
    return (all(e < GRADCHECK_TOL for errors in result.gradcheck.values() for e in errors.values())
            and all(e < FORWARD_TOL for e in result.torch_forward.values())
            and all(e < BACKWARD_TOL for errors in result.torch_backward.values() for e in errors.values()))


# --------------------------------------------------------------------------- gradients through time
VANISH_BELOW = 1e-2     # ||dh_T / dh_{T-k}|| at the last k: vanished
EXPLODE_ABOVE = 1e2     # exploded
POWER_TOL = 1e-9        # the linear, orthogonal case follows radius^k to this relative error


@dataclass(frozen=True)
class GradientCurve:
    matrix: str          # "orthogonal" or "gaussian"
    radius: float        # spectral radius of W_hh
    sigma_max: float     # its largest singular value
    nonlinearity: str
    norms: np.ndarray    # ||dh_T / dh_{T-k}||_2 for k = 0..T


@dataclass(frozen=True)
class GradientThroughTime:
    hidden: int
    steps: int
    input_std: float
    curves: tuple

    def curve(self, matrix: str, radius: float, nonlinearity: str) -> GradientCurve:
        for c in self.curves:
            if (c.matrix, c.nonlinearity) == (matrix, nonlinearity) and math.isclose(c.radius, radius):
                return c
        raise ValueError(f"no curve for matrix={matrix!r}, radius={radius!r}, nonlinearity={nonlinearity!r}")


@_one_thread
def measure_gradient_through_time(radii=(0.9, 1.0, 1.1), *, hidden: int = 64, steps: int = 60,
                                  input_std: float = 0.5, matrices=("orthogonal", "gaussian"),
                                  nonlinearities=("linear", "tanh"), rng) -> GradientThroughTime:
    """For W_hh of each spectral radius and kind, run one sequence of random inputs through the
    recurrence with and without tanh, and measure the spectral norm of the Jacobian product
    dh_T/dh_{T-k} for every k."""
    rng = as_rng(rng)
    hidden, steps = check_positive_int(hidden, "hidden", max=1024), check_positive_int(steps, "steps", max=5000)
    input_std = check_positive(input_std, "input_std")
    inputs = rng.standard_normal((steps, 1, hidden)) * input_std
    seed = int(rng.integers(2**31))
    curves = []
    for matrix in matrices:
        for radius in radii:
            Wh = bptt.recurrent_matrix(hidden, radius, matrix, np.random.default_rng(seed))
            sigma_max = float(np.linalg.norm(Wh, 2))
            for nl in nonlinearities:
                hs = bptt.unroll(Wh, inputs, np.zeros((1, hidden)), nl)
                curves.append(GradientCurve(matrix, float(radius), sigma_max, nl,
                                            bptt.jacobian_product_norms(hs, Wh, nl)))
    return GradientThroughTime(hidden, steps, input_std, tuple(curves))


def vanishes(curve: GradientCurve) -> bool:
    return bool(curve.norms[-1] < VANISH_BELOW)


def explodes(curve: GradientCurve) -> bool:
    return bool(curve.norms[-1] > EXPLODE_ABOVE)


def follows_power_law(curve: GradientCurve) -> bool:
    """||dh_T/dh_{T-k}|| = radius^k for every k (the linear recurrence with an orthogonal W_hh)."""
    k = np.arange(len(curve.norms))
    return bool(np.all(np.abs(curve.norms / curve.radius ** k - 1) < POWER_TOL))


def rate_per_step(curve: GradientCurve) -> float:
    """The geometric mean factor per step, (||dh_T/dh_0||)^(1/T)."""
    T = len(curve.norms) - 1
    return float(curve.norms[-1] ** (1 / T)) if np.isfinite(curve.norms[-1]) else math.inf


# --------------------------------------------------------------------------- clipping
DIRECTION_TOL = 1e-9    # clipping by norm keeps the direction: cosine within this of 1
TRAINS_FACTOR = 0.8     # a run trains when its last losses are below this fraction of its first


@dataclass(frozen=True)
class Clipping:
    """The same training run without clipping, with clipping by norm and with clipping by value;
    and the gradient where the unclipped run ended, clipped both ways: its norm, the cosines of the
    clipped gradients to it, and the fraction of its entries that clipping by value changed."""

    norm_before: float
    max_norm: float
    clip_value: float
    cosine_norm: float
    cosine_value: float
    fraction_clipped: float
    runs: tuple          # (name, charlm.TrainingRun)
    lr: float
    radius: float

    def run(self, name: str):
        return dict(self.runs)[name]


@_one_thread
def measure_clipping(*, hidden: int = 64, steps: int = 150, lr: float = 0.5, radius: float = 1.5,
                     max_norm: float = 5.0, clip_value: float = 0.5, text_chars: int = 60_000, rng) -> Clipping:
    """A character RNN whose W_hh starts with spectral radius ``radius`` (orthogonal), trained
    with plain SGD at learning rate ``lr``: once without clipping, once clipped by norm, once by value."""
    rng = as_rng(rng)
    vocab, indices = charlm.course_text()
    train = indices[:check_positive_int(text_chars, "text_chars")]
    seed = int(rng.integers(2**31))

    def model():
        m = charlm.init_model("rnn", vocab, 16, hidden, np.random.default_rng(seed))
        m.params["Wh"][:] = bptt.recurrent_matrix(hidden, radius, "orthogonal", np.random.default_rng(seed + 1))
        return m

    from ... import optim

    runs = []
    for name, clip, at in (("no clipping", None, 1.0), ("clip by norm", "norm", max_norm),
                           ("clip by value", "value", clip_value)):
        run = charlm.train(model(), train, steps=steps, batch=16, seq_len=25, optimizer=optim.SGD(lr=lr),
                           clip=clip, clip_at=at, rng=np.random.default_rng(seed))
        runs.append((name, run))
    # Where the unclipped run ended up, the gradient is huge: clip it both ways.
    unclipped = runs[0][1].model
    data = charlm.make_streams(train, 16)
    with np.errstate(over="ignore", invalid="ignore"):
        _, grads, _ = charlm.loss_and_grads(unclipped, data[:, :25], data[:, 1:26], np.zeros((16, hidden)))
    g = [grads[k].astype(np.float64) for k in charlm.PARAM_NAMES]
    by_norm, norm = bptt.clip_by_norm(g, max_norm)
    by_value = bptt.clip_by_value(g, clip_value)
    changed = sum(int(np.sum(np.abs(a) > clip_value)) for a in g) / sum(a.size for a in g)
    return Clipping(norm, max_norm, clip_value, bptt.cosine(g, by_norm), bptt.cosine(g, by_value), changed,
                    tuple(runs), lr, radius)


def keeps_direction(cosine: float) -> bool:
    return bool(abs(cosine - 1) < DIRECTION_TOL)


def diverges(run) -> bool:
    """The loss stopped being finite, or its last tenth is above its first value: it grew."""
    if run.diverged_at is not None:
        return True
    tail = run.losses[-max(1, len(run.losses) // 10):]
    return bool(np.mean(tail) > run.losses[0])


def trains(run) -> bool:
    """Finite to the end, and the mean of its last tenth of losses below TRAINS_FACTOR x its first loss."""
    if run.diverged_at is not None or len(run.losses) < 10:
        return False
    tail = run.losses[-max(1, len(run.losses) // 10):]
    return bool(np.mean(tail) < TRAINS_FACTOR * run.losses[0])
