"""Exercises of 06_regularization: inverted dropout, forward and backward.

The student writes the two gates in CS231n's shape, ``dropout_forward(x, dropout_param) -> (out,
cache)`` and ``dropout_backward(dout, cache) -> dx``, with the mask drawn as
``np.random.default_rng(seed).random(x.shape) < p`` (so the checker can draw the same one), and
checks them with ``check("inverted_dropout", forward_then_backward(dropout_forward,
dropout_backward))``. The checker names four mistakes: scaling at test time instead of train time
(the notes' scheme), ``p`` read as the probability of dropping, a new mask drawn in backward, and
dropout left on in test mode.
"""

from __future__ import annotations

import numpy as np

from . import Case, Exercise, compare_parts, diagnose_array, register


def forward_then_backward(dropout_forward, dropout_backward):
    """The function the checker calls: ``(x, dout, p, mode, seed) -> (out, dx)``, running the
    student's forward and then their backward on its cache."""
    if not callable(dropout_forward) or not callable(dropout_backward):
        raise TypeError("dropout_forward and dropout_backward must be functions")

    def run(x, dout, p, mode, seed):
        out, cache = dropout_forward(x, {"p": p, "mode": mode, "seed": seed})
        return out, dropout_backward(dout, cache)

    return run


def _mask(shape, keep, seed):
    return np.random.default_rng(seed).random(shape) < keep


def _cases():
    rng = np.random.default_rng(6)
    cases = []
    for shape, p, mode, seed in (((5, 6), 0.8, "train", 3), ((4, 7), 0.6, "train", 11), ((5, 6), 0.8, "test", 3)):
        x, dout = rng.standard_normal(shape), rng.standard_normal(shape)
        kept = _mask(shape, p, seed)
        if mode == "train":
            expected = (x * kept / p, dout * kept / p)
            drop = _mask(shape, 1 - p, seed)
            mistakes = {
                "test-time scaling": ("this is the notes' scheme: no division by p at train time (then the "
                                      "test pass would have to multiply by p). Inverted dropout divides the "
                                      "kept units by p during training and leaves test time alone",
                                      {"out": x * kept, "dx": dout * kept}),
                "drop probability": (f"p is the probability of KEEPING a unit (torch's Dropout(p) takes the "
                                     f"probability of dropping one): keep where u < p = {p}, not u < 1 - p",
                                     {"out": x * drop / (1 - p), "dx": dout * drop / (1 - p)}),
            }
        else:
            expected = (x, dout)
            mistakes = {
                "on at test": ("dropout is still on in test mode: at test time the gate is the identity "
                               "(out = x, dx = dout)", {"out": x * kept / p, "dx": dout * kept / p}),
                "test-time scaling": ("at test time this multiplies by p, as the notes' scheme does; with "
                                      "inverted dropout the train pass already divided by p, so test time is "
                                      "the identity", {"out": x * p, "dx": dout * p}),
            }
        cases.append(Case((x, dout, p, mode, seed), expected, mistakes, f"{mode} mode, p = {p}, x {shape}"))
    return cases


_parts = compare_parts(("out", "dx"))


def _compare(got, case):
    diagnosis, message = _parts(got, case)
    x, dout, p, mode, _ = case.args
    if diagnosis is None or mode != "train" or diagnose_array(got[0], case.expected[0])[0] is not None:
        return diagnosis, message
    dx = np.asarray(got[1], dtype=np.float64)
    if dx.shape == dout.shape:
        passed = np.isclose(dx, dout / p)
        if np.all(passed | (dx == 0)) and not np.array_equal(passed, case.expected[1] != 0):
            return "new mask", ("out is right, but dx lets the gradient through other units than the forward "
                                "kept: backward must reuse the forward's mask (keep it in the cache), never "
                                "draw a new one")
    return diagnosis, message


register(Exercise(
    name="inverted_dropout",
    task="Write dropout_forward(x, dropout_param) -> (out, cache) and dropout_backward(dout, cache) -> dx "
         "for inverted dropout: p keeps a unit, mask = np.random.default_rng(seed).random(x.shape) < p in "
         "train mode; test mode is the identity.",
    make_cases=_cases,
    compare=_compare,
))
