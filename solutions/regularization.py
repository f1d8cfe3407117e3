"""Reference solution (and canned mistakes) for the exercise of 06_regularization."""

import numpy as np

from lecture_lib.exercises.regularization import forward_then_backward


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, (mode, None)
    mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) < p) / p
    return x * mask, (mode, mask)


def dropout_backward(dout, cache):
    mode, mask = cache
    return dout if mode == "test" else dout * mask


def _notes_forward(x, dropout_param):            # drop at train time, scale at test time
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x * p, (mode, p)
    mask = np.random.default_rng(dropout_param["seed"]).random(x.shape) < p
    return x * mask, (mode, mask)


def _notes_backward(dout, cache):
    mode, mask = cache
    return dout * mask


def _drop_forward(x, dropout_param):             # p read as the probability of dropping
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, (mode, None)
    mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) < 1 - p) / (1 - p)
    return x * mask, (mode, mask)


def _forward_keeping_seed(x, dropout_param):
    out, (mode, _) = dropout_forward(x, dropout_param)
    return out, (mode, x.shape, dropout_param["p"], dropout_param.get("seed"))


def _new_mask_backward(dout, cache):             # draws its own mask instead of the forward's
    mode, shape, p, seed = cache
    if mode == "test":
        return dout
    return dout * (np.random.default_rng(seed + 1).random(shape) < p) / p


def _always_on_forward(x, dropout_param):        # ignores the mode
    mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) < dropout_param["p"]) / dropout_param["p"]
    return x * mask, ("train", mask)


SOLUTIONS = {"inverted_dropout": forward_then_backward(dropout_forward, dropout_backward)}

# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "inverted_dropout": {
        "test-time scaling": forward_then_backward(_notes_forward, _notes_backward),
        "drop probability": forward_then_backward(_drop_forward, dropout_backward),
        "new mask": forward_then_backward(_forward_keeping_seed, _new_mask_backward),
        "on at test": forward_then_backward(_always_on_forward, dropout_backward),
    },
}
