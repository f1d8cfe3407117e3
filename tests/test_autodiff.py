"""The scalar autodiff engine against torch.autograd on random expressions (hypothesis), its
documented behaviours (reuse accumulates, backward twice equals once), the graph drawing, and the
sigmoid-as-one-gate comparison with its opposite experiment."""

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lecture_lib.autodiff import Value, sigmoid_chain
from lecture_lib.experiments import backprop as E
from lecture_lib.gradcheck import rel_error
from lecture_lib.style import new_figure

# Each op works unchanged on a Value and on a torch tensor; the guards keep log and / defined.
OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "rsub": lambda a, b: 1.5 - a,
    "mul": lambda a, b: a * b,
    "scale": lambda a, b: 0.5 * a,
    "div": lambda a, b: a / (b * b + 1.0),
    "rdiv": lambda a, b: 2.0 / (a * a + 1.0),
    "pow2": lambda a, b: a ** 2,
    "pow3": lambda a, b: a ** 3,
    "sqrt": lambda a, b: (a * a + 1.0) ** 0.5,
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: (a * a + 0.5).log(),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "relu": lambda a, b: a.relu(),
    "neg": lambda a, b: -a,
}

programs = st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 50), st.integers(0, 50)),
                    min_size=1, max_size=12)
inputs = st.lists(st.floats(-2.0, 2.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
                  min_size=3, max_size=3)


def run_program(program, leaves):
    nodes = list(leaves)
    for op, i, j in program:                # indices into every node so far: nodes get reused
        nodes.append(OPS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return nodes[-1]


@settings(deadline=None, max_examples=80)
@given(programs, inputs)
def test_random_expressions_match_torch(program, xs):
    leaves = [Value(x) for x in xs]
    try:
        out = run_program(program, leaves)
    except OverflowError:                   # math.exp and ** raise where torch gives inf
        assume(False)
    assume(math.isfinite(out.data) and abs(out.data) < 1e8)
    out.backward()
    tleaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tout = run_program(program, tleaves)
    if not tout.requires_grad:              # the output does not depend on the leaves
        assert all(v.grad == 0 for v in leaves)
        return
    grads = torch.autograd.grad(tout, tleaves, allow_unused=True)
    expected = [0.0 if g is None else g.item() for g in grads]
    assume(all(math.isfinite(g) and abs(g) < 1e8 for g in expected))
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12)
    assert rel_error([v.grad for v in leaves], expected) < 1e-9


def test_the_classic_example():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    assert (f.data, q.grad, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, -4.0, 3.0)


def test_the_four_gate_patterns():
    x, y = Value(3.0), Value(-1.0)
    (x + y).backward()
    assert (x.grad, y.grad) == (1.0, 1.0)                      # add distributes
    (x * y).backward()
    assert (x.grad, y.grad) == (-1.0, 3.0)                     # multiply swaps
    x.maximum(y).backward()
    assert (x.grad, y.grad) == (1.0, 0.0)                      # max routes
    (x * x + x).backward()
    assert x.grad == 2 * 3.0 + 1                               # a branch adds


def test_reuse_accumulates_and_overwriting_would_not():
    """Opposite experiment: an engine that assigns (=) instead of adding (+=) gets x*x wrong."""
    class Overwriting(Value):
        def __mul__(self, other):
            out = Value(self.data * other.data, (self, other), "*")

            def _backward():
                self.grad = other.data * out.grad
                other.grad = self.data * out.grad
            out._backward = _backward
            return out

    x = Value(3.0)
    (x * x).backward()
    assert E.gradients_agree(rel_error(x.grad, 6.0))
    bad = Overwriting(3.0)
    (bad * bad).backward()
    assert not E.gradients_agree(rel_error(bad.grad, 6.0))


def test_backward_twice_equals_once():
    x, y = Value(0.3), Value(-1.2)
    f = (x * y + x.tanh()).exp() / (y * y + 1)
    f.backward()
    first = (x.grad, y.grad, f.grad)
    f.backward()
    assert (x.grad, y.grad, f.grad) == first


def test_deep_graphs_need_no_recursion():
    x = Value(0.5)
    out = x
    for _ in range(5000):
        out = out * 1.0 + 0.0
    out.backward()
    assert x.grad == 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="log of -1"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(3.0)
    for bad, error in (("3", TypeError), (None, TypeError), (True, TypeError), (1j, TypeError),
                       (float("nan"), ValueError)):
        with pytest.raises(error, match="data="):
            Value(bad)


def test_sigmoid_one_gate_and_its_opposite():
    r = E.measure_sigmoid_gate(number=20, repeats=1)
    assert E.gradients_agree(r.gradient_error) and E.one_gate_saves_operations(r)
    assert r.nodes_one < r.nodes_chain
    # opposite: a one-gate sigmoid with the wrong local gradient (s instead of s(1 - s))
    w = Value(1.3)
    s = (w * 0.7).sigmoid()
    assert not E.gradients_agree(rel_error(s.data * 0.7, r.grad_chain))
    w2 = Value(2.0)
    sigmoid_chain(w2).backward()
    assert w2.grad == pytest.approx(1 / (1 + np.exp(-2)) * (1 - 1 / (1 + np.exp(-2))), rel=1e-12)


def test_graph_drawing_shows_values_and_gradients():
    from lecture_lib.plots.backprop import draw_graph

    def build(a, b, c):
        x, y, z = Value(a, label="x"), Value(b, label="y"), Value(c, label="z")
        f = (x + y) * z
        f.backward()
        return f

    fig = new_figure(5, 3)
    ax = fig.add_subplot(1, 1, 1)
    picture = draw_graph(ax, build(-2.0, 5.0, -4.0))
    texts = {t.get_text() for pair in picture.texts for t in pair}
    assert {"-12", "∇ 1", "3", "∇ -4", "∇ 3"} <= texts
    xs = sorted({p[0] for p in picture.pos.values()})
    assert len(xs) == 3                                        # inputs, +, ×
    picture.update(build(1.0, 1.0, 2.0))
    assert "4" in {t.get_text() for pair in picture.texts for t in pair}
    with pytest.raises(ValueError, match="same shape"):
        picture.update(Value(1.0) * 2.0)
