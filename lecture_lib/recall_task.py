"""A long-range memory task for recurrent networks: remember the first symbol of a sequence
through many steps of distractors, and say it at the end.

Step 0 shows one of ``SYMBOLS`` symbols (one-hot) with a start marker; every later step shows a
random distractor on ``SYMBOLS`` other channels; the class to predict from the last hidden state is
the first symbol. Chance accuracy is 1 / SYMBOLS. The models are one recurrent layer of the gates of
:mod:`lecture_lib.layers` (vanilla RNN or LSTM) and an affine read-out of the last hidden state.
"""

from __future__ import annotations

import math

import numpy as np

from . import charlm, layers
from ._checks import as_rng, check_choice, check_int, check_positive_int

SYMBOLS = 4


def recall_batch(rng, n: int, length: int, symbols: int = SYMBOLS):
    """The recall task: step 0 shows one of ``symbols`` symbols (one-hot) and a start marker;
    steps 1 .. length-1 show random distractors from ``symbols`` other channels; the target, read
    at the last step, is the first symbol. Returns x (n, length, 2 symbols + 1) float32 and y (n,)."""
    rng = as_rng(rng)
    n, length = check_positive_int(n, "n"), check_int(length, "length", min=2, max=100_000)
    x = np.zeros((n, length, 2 * symbols + 1), dtype=np.float32)
    y = rng.integers(0, symbols, n)
    rows = np.arange(n)
    x[rows, 0, y] = 1
    x[:, 0, 2 * symbols] = 1
    distractors = rng.integers(symbols, 2 * symbols, (n, length - 1))
    x[rows[:, None], np.arange(1, length)[None], distractors] = 1
    return x, y


def init_recall_model(kind: str, hidden: int, rng, *, forget_bias: float = 1.0, symbols: int = SYMBOLS,
                      dtype=np.float32) -> list:
    """[Wx, Wh, b, W_out, b_out], uniform in +-1/sqrt(H) as torch initialises them; an LSTM's
    forget-gate bias starts at ``forget_bias``."""
    check_choice(kind, "kind", charlm.KINDS)
    rng = as_rng(rng)
    g, s, D = (4 if kind == "lstm" else 1), 1 / math.sqrt(hidden), 2 * symbols + 1
    params = [rng.uniform(-s, s, (D, g * hidden)), rng.uniform(-s, s, (hidden, g * hidden)), np.zeros(g * hidden),
              rng.uniform(-s, s, (hidden, symbols)), np.zeros(symbols)]
    if kind == "lstm":
        params[2][hidden:2 * hidden] = forget_bias
    return [p.astype(dtype) for p in params]


def recall_loss(kind: str, params: list, x, y):
    """Softmax loss of the class read from the last hidden state; its gradients (list like params)
    and the scores."""
    forward, backward = (layers.lstm_forward, layers.lstm_backward) if kind == "lstm" else \
        (layers.rnn_forward, layers.rnn_backward)
    Wx, Wh, b, W_out, b_out = params
    h, cache = forward(x, np.zeros((x.shape[0], Wh.shape[0]), dtype=Wh.dtype), Wx, Wh, b)
    scores, out_cache = layers.affine_forward(h[:, -1], W_out, b_out)
    loss, dscores = layers.softmax_loss(scores, y)
    dh_last, dW_out, db_out = layers.affine_backward(dscores, out_cache)
    dh = np.zeros_like(h)
    dh[:, -1] = dh_last
    _, _, dWx, dWh, db = backward(dh, cache)
    return float(loss), [dWx, dWh, db, dW_out, db_out], scores
