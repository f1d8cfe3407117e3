"""Reference solutions (and canned mistakes) for the exercises of 02_initialization."""

import numpy as np


def init_scales(fan_in, fan_out):
    return np.array([np.sqrt(1 / fan_in), np.sqrt(2 / (fan_in + fan_out)), np.sqrt(2 / fan_in)])


def tanh_layer_stds(X, weights):
    h, stds = X, []
    for W in weights:
        h = np.tanh(h @ W)
        stds.append(h.std())
    return np.array(stds)


def _stds(X, weights, step, stat=lambda h: h.std()):
    h, out = X, []
    for W in weights:
        z, h = step(h, W)
        out.append(stat(h if z is None else z))
    return np.array(out)


SOLUTIONS = {"init_scales": init_scales, "tanh_layer_stds": tanh_layer_stds}

# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "init_scales": {
        "variance": lambda fi, fo: np.array([1 / fi, 2 / (fi + fo), 2 / fi]),
        "notes' xavier": lambda fi, fo: np.array([np.sqrt(1 / fi), np.sqrt(1 / fi), np.sqrt(2 / fi)]),
        "fan_out": lambda fi, fo: np.array([np.sqrt(1 / fo), np.sqrt(2 / (fi + fo)), np.sqrt(2 / fo)]),
        "missing 2": lambda fi, fo: np.array([np.sqrt(1 / fi), np.sqrt(2 / (fi + fo)), np.sqrt(1 / fi)]),
        "xavier missing 2": lambda fi, fo: (np.sqrt(1 / fi), np.sqrt(1 / (fi + fo)), np.sqrt(2 / fi)),
        "factor": lambda fi, fo: 2 * init_scales(fi, fo),
        "shape": lambda fi, fo: init_scales(fi, fo)[:2],
        "none": lambda fi, fo: None,
    },
    "tanh_layer_stds": {
        "pre-activation": lambda X, Ws: _stds(X, Ws, lambda h, W: (h @ W, np.tanh(h @ W))),
        "W transposed": lambda X, Ws: _stds(X, Ws, lambda h, W: (None, np.tanh(h @ W.T))),
        "per unit": lambda X, Ws: _stds(X, Ws, lambda h, W: (None, np.tanh(h @ W)),
                                        stat=lambda h: h.std(axis=0).mean()),
        "shape": lambda X, Ws: np.concatenate([[X.std()], tanh_layer_stds(X, Ws)]),
        "exception": lambda X, Ws: np.tanh(Ws @ X),
    },
}
