"""Reference solutions (and canned mistakes) for the exercises of 03_backprop_gates."""

import numpy as np


def sigmoid_backward(dout, out):
    return dout * out * (1 - out)


def affine_backward(dout, x, w):
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def softmax_loss(scores, y):
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)       # exp cannot overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def _softmax_parts(scores, y, shift=True):
    shifted = scores - scores.max(axis=1, keepdims=True) if shift else scores
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs) if shift else np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y)), y] = 1
    return probs, onehot, -log_probs[np.arange(len(y)), y]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


SOLUTIONS = {"sigmoid_backward": sigmoid_backward, "affine_backward": affine_backward,
             "softmax_loss": softmax_loss}


def _softmax_unstable(scores, y):
    with np.errstate(over="ignore", invalid="ignore"):
        probs, onehot, losses = _softmax_parts(scores, y, shift=False)
    return losses.mean(), (probs - onehot) / len(y)


def _softmax_probabilities_then_log(scores, y):
    """The textbook answer with the max shift, but the log taken of an underflowed probability."""
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        loss = -np.log(probs[np.arange(n), y]).mean()
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    return loss, dscores / n


def _softmax_every_label(scores, y):
    """p[:, y] instead of p[np.arange(N), y] in the loss (the gradient is right)."""
    probs, onehot, _ = _softmax_parts(scores, y)
    return -np.log(probs[:, y]).mean(), (probs - onehot) / len(y)


# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "sigmoid_backward": {
        "missing term": lambda dout, out: dout * out,
        "upstream": lambda dout, out: out * (1 - out),
        "input": lambda dout, out: dout * _sigmoid(out) * (1 - _sigmoid(out)),
        "sign": lambda dout, out: -dout * out * (1 - out),
        "none": lambda dout, out: None,
    },
    "affine_backward": {
        "transposed": lambda dout, x, w: (dout @ w.T, dout.T @ x, dout.sum(axis=0)),
        "batch mean": lambda dout, x, w: (dout @ w.T, x.T @ dout, dout.mean(axis=0)),
        "sign": lambda dout, x, w: (-(dout @ w.T), x.T @ dout, dout.sum(axis=0)),
        "shape": lambda dout, x, w: (dout @ w.T, x.T @ dout, dout),
        "type": lambda dout, x, w: dout @ w.T,
        "exception": lambda dout, x, w: (dout @ w, x.T @ dout, dout.sum(axis=0)),
    },
    "softmax_loss": {
        "missing term": lambda s, y: (_softmax_parts(s, y)[2].mean(), _softmax_parts(s, y)[0] / len(y)),
        "factor": lambda s, y: (_softmax_parts(s, y)[2].mean(),
                                _softmax_parts(s, y)[0] - _softmax_parts(s, y)[1]),
        "loss sum": lambda s, y: (_softmax_parts(s, y)[2].sum(),
                                  (_softmax_parts(s, y)[0] - _softmax_parts(s, y)[1]) / len(y)),
        "sign": lambda s, y: (_softmax_parts(s, y)[2].mean(),
                              (_softmax_parts(s, y)[1] - _softmax_parts(s, y)[0]) / len(y)),
        "nan": _softmax_unstable,
        "underflow": _softmax_probabilities_then_log,
        "indexing": _softmax_every_label,
    },
}
