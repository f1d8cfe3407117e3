"""The vectorized gates of lecture_lib.layers: gradient checks (float64, rel. error < 1e-7),
parity with torch, bad input, and the checkers of the backprop exercises."""

import numpy as np
import pytest
import torch

from lecture_lib import layers
from lecture_lib.experiments.backprop import gradients_agree
from lecture_lib.gradcheck import numerical_gradient, numerical_gradient_array, rel_error

TOL = 1e-7


def _rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- gradient checks
def test_affine_gradients():
    rng = _rng()
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    out, cache = layers.affine_forward(x, w, b)
    assert out.shape == (4, 3)
    dx, dw, db = layers.affine_backward(dout, cache)
    assert rel_error(dx, numerical_gradient_array(lambda v: layers.affine_forward(v, w, b)[0], x, dout)) < TOL
    assert rel_error(dw, numerical_gradient_array(lambda v: layers.affine_forward(x, v, b)[0], w, dout)) < TOL
    assert rel_error(db, numerical_gradient_array(lambda v: layers.affine_forward(x, w, v)[0], b, dout)) < TOL


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_elementwise_gradients(name):
    rng = _rng(1)
    x = rng.standard_normal((3, 6))
    x[np.abs(x) < 1e-3] = 0.5                   # keep ReLU's kink out of reach of h
    dout = rng.standard_normal((3, 6))
    forward = getattr(layers, f"{name}_forward")
    backward = getattr(layers, f"{name}_backward")
    dx = backward(dout, forward(x)[1])
    assert rel_error(dx, numerical_gradient_array(lambda v: forward(v)[0], x, dout)) < TOL


@pytest.mark.parametrize("loss", ["softmax_loss", "svm_loss"])
def test_loss_gradients(loss):
    rng = _rng(2)
    scores, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    fn = getattr(layers, loss)
    _, dscores = fn(scores, y)
    assert rel_error(dscores, numerical_gradient(lambda s: fn(s, y)[0], scores.copy())) < TOL


def test_a_wrong_gradient_fails_the_check():
    """The opposite experiment of the gradient checks: sigmoid's gradient without (1 - s)."""
    rng = _rng(3)
    x, dout = rng.standard_normal(8), rng.standard_normal(8)
    out, _ = layers.sigmoid_forward(x)
    numeric = numerical_gradient_array(lambda v: layers.sigmoid_forward(v)[0], x, dout)
    assert gradients_agree(rel_error(layers.sigmoid_backward(dout, (out,)), numeric))
    assert not gradients_agree(rel_error(dout * out, numeric))


# --------------------------------------------------------------------------- parity with torch
def test_gates_match_torch():
    rng = _rng(4)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    y = rng.integers(0, 3, 5)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    h = xt @ wt + bt
    s = torch.tanh(torch.sigmoid(torch.relu(h)))
    loss_t = torch.nn.functional.cross_entropy(s, torch.from_numpy(y))
    loss_t.backward()
    h_np, c1 = layers.affine_forward(x, w, b)
    r, c2 = layers.relu_forward(h_np)
    g, c3 = layers.sigmoid_forward(r)
    t, c4 = layers.tanh_forward(g)
    loss, ds = layers.softmax_loss(t, y)
    dx, dw, db = layers.affine_backward(
        layers.relu_backward(layers.sigmoid_backward(layers.tanh_backward(ds, c4), c3), c2), c1)
    assert abs(loss - loss_t.item()) < 1e-12
    for mine, theirs in ((dx, xt), (dw, wt), (db, bt)):
        assert rel_error(mine, theirs.grad.numpy()) < TOL


def test_svm_loss_matches_torch():
    rng = _rng(5)
    scores, y = rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    st = torch.tensor(scores, requires_grad=True)
    # torch's multi_margin_loss divides by C; ours is CS231n's (sum over j != y, mean over N)
    loss_t = torch.nn.functional.multi_margin_loss(st, torch.from_numpy(y), margin=1.0) * 4
    loss_t.backward()
    loss, ds = layers.svm_loss(scores, y)
    assert abs(loss - loss_t.item()) < 1e-12
    assert rel_error(ds, st.grad.numpy()) < TOL


def test_sigmoid_does_not_overflow():
    out, _ = layers.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
    assert np.all(np.isfinite(out)) and out[1] == 0.5 and out[0] == 0.0 and out[2] == 1.0


# --------------------------------------------------------------------------- bad input
def test_shape_mismatch_names_both_shapes():
    x, w, b = np.zeros((4, 5)), np.zeros((6, 3)), np.zeros(3)
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(6, 3\)"):
        layers.affine_forward(x, w, b)
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(2,\)"):
        layers.affine_forward(x, np.zeros((5, 3)), np.zeros(2))
    _, cache = layers.relu_forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        layers.relu_backward(np.zeros((3, 2)), cache)
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5,\)"):
        layers.softmax_loss(np.zeros((4, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="labels"):
        layers.svm_loss(np.zeros((2, 3)), np.array([0, 3]))


# --------------------------------------------------------------------------- the exercises
def test_backprop_exercises_diagnose_each_mistake():
    import importlib.util
    from pathlib import Path

    from lecture_lib.exercises import check

    path = Path(__file__).resolve().parent.parent / "solutions" / "backprop.py"
    spec = importlib.util.spec_from_file_location("backprop_solutions", path)
    solutions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solutions)
    for name, fn in solutions.SOLUTIONS.items():
        assert check(name, fn, quiet=True).status == "correct", name
    for name, wrong in solutions.MISTAKES.items():
        for tag, fn in wrong.items():
            feedback = check(name, fn, quiet=True)
            assert (feedback.status, feedback.diagnosis) == ("wrong", tag), (name, tag, feedback)
    feedback = check("affine_backward", solutions.MISTAKES["affine_backward"]["transposed"], quiet=True)
    assert feedback.message.startswith("dw is wrong")          # names the wrong gradient


def test_softmax_is_torch_s_along_the_last_axis_and_never_overflows():
    scores = np.random.default_rng(0).normal(size=(3, 4, 5)) * 50
    assert np.allclose(layers.softmax(scores), torch.softmax(torch.from_numpy(scores), dim=-1).numpy(), atol=1e-12)
    big = layers.softmax(np.array([[1000.0, 999.0, -1000.0]]))
    assert np.all(np.isfinite(big)) and np.isclose(big.sum(), 1.0) and big[0, 0] > big[0, 1] > big[0, 2]
    with pytest.raises(TypeError, match="scores"):
        layers.softmax("not scores")
