"""Experiments of 08_rnns on the LSTM: how much of a gradient its cell state carries back
compared with a vanilla RNN's hidden state, and a long-range memory task (the recall task of
:mod:`lecture_lib.recall_task`) learned by a vanilla RNN and by LSTMs with two forget-gate biases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import bptt, layers, optim
from ..._checks import as_rng, check_positive_int
from ...recall_task import SYMBOLS, init_recall_model, recall_batch, recall_loss
from .vanilla import _one_thread

# --------------------------------------------------------------------------- a long-range memory task
LEARNED = 0.9           # accuracy at which a model has learned a length
FAILED = 1 / SYMBOLS + 0.2  # chance is 1 / SYMBOLS   # accuracy at or below which it has not


@dataclass(frozen=True)
class LongRange:
    """Accuracy on fresh sequences after ``steps`` training steps, by model and length (mean over
    seeds), and the first step at which the training loss fell below 0.1 (median over seeds; None
    when it never did)."""

    lengths: tuple
    models: tuple        # names, e.g. "vanilla RNN", "LSTM, forget bias 1"
    accuracy: dict       # name -> tuple over lengths
    solved_at: dict      # name -> tuple over lengths
    steps: int
    seeds: int
    hidden: int


def model_name(kind: str, forget_bias: float) -> str:
    return "vanilla RNN" if kind == "rnn" else f"LSTM, forget bias {forget_bias:g}"


@_one_thread
def measure_long_range(lengths=(10, 50), *, steps: int = 400, hidden: int = 32, batch: int = 32, lr: float = 1e-2,
                       max_norm: float = 1.0, models=(("rnn", 0.0), ("lstm", 1.0), ("lstm", 3.0)), seeds: int = 1,
                       eval_size: int = 500, rng) -> LongRange:
    """Train each model on the recall task at each length with Adam, clipping the gradient's norm,
    and measure its accuracy on ``eval_size`` fresh sequences."""
    rng = as_rng(rng)
    steps, seeds = check_positive_int(steps, "steps"), check_positive_int(seeds, "seeds")
    names = tuple(model_name(kind, fb) for kind, fb in models)
    accuracy = {name: [] for name in names}
    solved = {name: [] for name in names}
    seed_base = int(rng.integers(2**31))
    for length in lengths:
        test_x, test_y = recall_batch(np.random.default_rng(seed_base + 1), eval_size, length)
        for (kind, forget_bias), name in zip(models, names, strict=True):
            accs, firsts = [], []
            for s in range(seeds):
                run_rng = np.random.default_rng(seed_base + 10 + s)
                params = init_recall_model(kind, hidden, run_rng, forget_bias=forget_bias)
                opt, first = optim.Adam(lr=lr), None
                for step in range(steps):
                    x, y = recall_batch(run_rng, batch, length)
                    loss, grads, _ = recall_loss(kind, params, x, y)
                    grads, _ = bptt.clip_by_norm(grads, max_norm)
                    opt.step(params, grads)
                    if first is None and loss < 0.1:
                        first = step + 1
                scores = recall_loss(kind, params, test_x, test_y)[2]
                accs.append(float(np.mean(scores.argmax(axis=1) == test_y)))
                firsts.append(first)
            accuracy[name].append(float(np.mean(accs)))
            done = [f for f in firsts if f is not None]
            solved[name].append(int(np.median(done)) if len(done) * 2 > seeds else None)
    return LongRange(tuple(lengths), names, {k: tuple(v) for k, v in accuracy.items()},
                     {k: tuple(v) for k, v in solved.items()}, steps, seeds, hidden)


def learned(accuracy: float) -> bool:
    return accuracy >= LEARNED


def failed(accuracy: float) -> bool:
    return accuracy <= FAILED


# --------------------------------------------------------------------------- the cell state's gradient
OUTLASTS_FACTOR = 100.0  # the cell path keeps this many times more of the gradient than h does


@dataclass(frozen=True)
class CellGradient:
    """Gradient norms at initialisation on the recall task, from the loss at the last step back to
    step T - k (k = 0 .. T - 1), each divided by its value at k = 0: along h for the vanilla RNN,
    along the cell state c for LSTMs with several forget-gate biases; and their mean forget gates."""

    length: int
    rnn_h: np.ndarray
    lstm_c: dict         # forget bias -> norms
    forget_gate_mean: dict

    def kept(self, forget_bias: float) -> float:
        """How many times more of the gradient reaches the first step along c than along h."""
        return float(self.lstm_c[forget_bias][-1] / self.rnn_h[-1])


@_one_thread
def measure_cell_gradient(length: int = 50, *, hidden: int = 32, batch: int = 32, forget_biases=(0.0, 1.0, 3.0),
                          rng) -> CellGradient:
    """Step by step, in float64: forward through the recall task, softmax loss at the last step,
    then backward with the step gates, recording the gradient's size at every step."""
    rng = as_rng(rng)
    x, y = recall_batch(rng, batch, length)
    x = x.astype(np.float64)
    seed = int(rng.integers(2**31))

    def readout(h, W_out, b_out):
        scores, cache = layers.affine_forward(h, W_out, b_out)
        return layers.affine_backward(layers.softmax_loss(scores, y)[1], cache)[0]

    Wx, Wh, b, W_out, b_out = init_recall_model("rnn", hidden, np.random.default_rng(seed), dtype=np.float64)
    h, caches = np.zeros((batch, hidden)), []
    for t in range(length):
        h, cache = layers.rnn_step_forward(x[:, t], h, Wx, Wh, b)
        caches.append(cache)
    dh, rnn_norms = readout(h, W_out, b_out), []
    for t in range(length - 1, -1, -1):
        rnn_norms.append(np.mean(np.linalg.norm(dh, axis=1)))
        dh = layers.rnn_step_backward(dh, caches[t])[1]
    lstm, forget = {}, {}
    for fb in forget_biases:
        Wx, Wh, b, W_out, b_out = init_recall_model("lstm", hidden, np.random.default_rng(seed), forget_bias=fb,
                                                    dtype=np.float64)
        h, c, caches = np.zeros((batch, hidden)), np.zeros((batch, hidden)), []
        for t in range(length):
            h, c, cache = layers.lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
            caches.append(cache)
        dh, dc, norms = readout(h, W_out, b_out), np.zeros((batch, hidden)), []
        for t in range(length - 1, -1, -1):
            gates, tanh_c = caches[t][5], caches[t][6]
            o = gates[:, 2 * hidden:3 * hidden]
            total_dc = dc + dh * o * (1 - tanh_c ** 2)     # dL/dc_t, what lstm_step_backward forms
            norms.append(np.mean(np.linalg.norm(total_dc, axis=1)))
            _, dh, dc, _, _, _ = layers.lstm_step_backward(dh, dc, caches[t])
        lstm[fb] = np.array(norms) / norms[0]
        forget[fb] = float(np.mean([cache[5][:, hidden:2 * hidden] for cache in caches]))
    rnn_norms = np.array(rnn_norms)
    return CellGradient(length, rnn_norms / rnn_norms[0], lstm, forget)


def cell_path_outlasts(result: CellGradient, forget_bias: float) -> bool:
    return result.kept(forget_bias) > OUTLASTS_FACTOR
