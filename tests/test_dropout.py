"""Dropout and DropConnect gates: gradient checks with a fixed mask (float64), parity with torch
(nn.Dropout's p is the probability of DROPPING a unit, ours of keeping it), the expectation that
inverted dropout preserves, the MLP with either gate, and bad input."""

import numpy as np
import pytest
import torch

from lecture_lib import layers, nets
from lecture_lib.gradcheck import numerical_gradient, numerical_gradient_array, rel_error

TOL = 1e-7


def _rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- dropout
def test_dropout_gradient_with_a_fixed_mask():
    rng = _rng()
    x, dout = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    param = {"p": 0.7, "mode": "train", "seed": 3}
    out, cache = layers.dropout_forward(x, param)
    dx = layers.dropout_backward(dout, cache)
    num = numerical_gradient_array(lambda v: layers.dropout_forward(v, param)[0], x, dout)
    assert rel_error(dx, num) < TOL
    kept = out != 0
    assert 0 < kept.mean() < 1 and np.allclose(out[kept], x[kept] / 0.7)


def test_dropout_test_mode_is_the_identity():
    x = _rng(1).standard_normal((4, 3))
    out, cache = layers.dropout_forward(x, {"p": 0.5, "mode": "test"})
    assert np.array_equal(out, x)
    dout = np.ones_like(x)
    assert np.array_equal(layers.dropout_backward(dout, cache), dout)


def test_dropout_seed_reproduces_the_mask_and_keeps_the_dtype():
    x = np.ones((50, 40), dtype=np.float32)
    a, _ = layers.dropout_forward(x, {"p": 0.6, "mode": "train", "seed": 11})
    b, _ = layers.dropout_forward(x, {"p": 0.6, "mode": "train", "seed": 11})
    c, _ = layers.dropout_forward(x, {"p": 0.6, "mode": "train", "seed": 12})
    assert a.dtype == np.float32 and np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(np.unique(a)) == {np.float32(0), np.float32(1) / np.float32(0.6)}


def test_inverted_dropout_keeps_the_expected_activation():
    x = _rng(2).standard_normal(200)
    outs = np.stack([layers.dropout_forward(x, {"p": 0.3, "mode": "train", "seed": s})[0]
                     for s in range(4000)])
    # each entry's mean over 4000 masks: std of the estimate is |x| sqrt((1-p)/p / 4000) ~ 0.024 |x|
    assert np.max(np.abs(outs.mean(axis=0) - x) / np.abs(x).clip(0.1)) < 0.15
    assert abs((outs != 0).mean() - 0.3) < 0.01


def test_keep_probability_one_keeps_everything():
    x = _rng(3).standard_normal((3, 4))
    out, _ = layers.dropout_forward(x, {"p": 1.0, "mode": "train", "seed": 0})
    assert np.array_equal(out, x)


def test_parity_with_torch_dropout():
    """torch.nn.Dropout(p=q) drops with probability q: our keep probability is 1 - q. Given torch's
    mask, our backward reproduces torch's gradient, and both scale the kept units by 1/keep."""
    keep = 0.75
    x = torch.randn(64, 33, dtype=torch.float64, generator=torch.Generator().manual_seed(0),
                    requires_grad=True)
    drop = torch.nn.Dropout(p=1 - keep)
    torch.manual_seed(5)
    out = drop(x)
    dout = torch.randn_like(out)
    out.backward(dout)
    mask = (out.detach() != 0).numpy() / keep
    assert np.allclose(out.detach().numpy(), x.detach().numpy() * mask, atol=1e-15, rtol=1e-13)
    ours = layers.dropout_backward(dout.numpy(), ("train", mask))
    assert rel_error(ours, x.grad.numpy()) < 1e-12
    assert abs((mask != 0).mean() - keep) < 0.03
    drop.eval()
    ours_test, _ = layers.dropout_forward(x.detach().numpy(), {"p": keep, "mode": "test"})
    assert np.array_equal(drop(x).detach().numpy(), ours_test)


# --------------------------------------------------------------------------- DropConnect
def test_dropconnect_gradients_with_a_fixed_mask():
    rng = _rng(4)
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    param = {"p": 0.6, "mode": "train", "seed": 9}
    out, cache = layers.dropconnect_forward(x, w, b, param)
    dx, dw, db = layers.dropconnect_backward(dout, cache)

    def forward(*args):
        return layers.dropconnect_forward(*args, param)[0]

    assert rel_error(dx, numerical_gradient_array(lambda v: forward(v, w, b), x, dout)) < TOL
    assert rel_error(dw, numerical_gradient_array(lambda v: forward(x, v, b), w, dout)) < TOL
    assert rel_error(db, numerical_gradient_array(lambda v: forward(x, w, v), b, dout)) < TOL


def test_dropconnect_each_example_has_its_own_mask_and_test_mode_is_affine():
    rng = _rng(5)
    x, w, b = rng.standard_normal((6, 8)), rng.standard_normal((8, 4)), rng.standard_normal(4)
    out, (_, _, _, mask, _) = layers.dropconnect_forward(x, w, b, {"p": 0.5, "mode": "train", "seed": 1})
    assert mask.shape == (6, 8, 4) and not np.array_equal(mask[0], mask[1])
    assert set(np.unique(mask)) == {0.0, 1.0} and abs(mask.mean() - 0.5) < 0.1
    assert np.allclose(out[2], x[2] @ (w * mask[2] / 0.5) + b)
    test_out, _ = layers.dropconnect_forward(x, w, b, {"p": 0.5, "mode": "test"})
    assert np.allclose(test_out, x @ w + b)


def test_dropconnect_equals_torch_autograd_on_the_same_masks():
    rng = _rng(6)
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    out, cache = layers.dropconnect_forward(x, w, b, {"p": 0.5, "mode": "train", "seed": 2})
    dout = rng.standard_normal(out.shape)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch.einsum("nd,ndm->nm", tx, tw * torch.tensor(cache[3]) / 0.5) + tb
    tout.backward(torch.tensor(dout))
    grads = layers.dropconnect_backward(dout, cache)
    assert rel_error(out, tout.detach().numpy()) < 1e-12
    for ours, t in zip(grads, (tx, tw, tb), strict=True):
        assert rel_error(ours, t.grad.numpy()) < 1e-12


def test_dropout_is_dropconnect_with_whole_rows():
    """Dropping unit d of the input is dropping row d of the weights: the same output."""
    rng = _rng(7)
    x, w, b = rng.standard_normal((5, 6)), rng.standard_normal((6, 3)), rng.standard_normal(3)
    dropped, (_, unit_mask) = layers.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 4})
    row_masks = np.repeat(unit_mask[:, :, None], 3, axis=2)           # (N, D, M): whole rows
    via_weights = np.matmul(x[:, None, :], w * row_masks)[:, 0, :] + b
    assert np.allclose(dropped @ w + b, via_weights)


# --------------------------------------------------------------------------- the MLP with the gates
@pytest.mark.parametrize("option", ["dropout_keep", "dropconnect_keep"])
def test_mlp_gradients_with_fixed_masks(option):
    rng = _rng(8)
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    net = nets.MLP([5, 7, 6, 3], rng=rng, bias=0.1, **{option: 0.6})

    def loss(_):
        net.rng = np.random.default_rng(42)  # the same masks for every evaluation
        return net.loss(X, y, reg=0.1)[0]

    net.rng = np.random.default_rng(42)
    _, grads = net.loss(X, y, reg=0.1)
    for name, p in net.params.items():
        assert rel_error(numerical_gradient(loss, p), grads[name]) < TOL, (option, name)


def test_mlp_dropconnect_is_off_at_test_time_and_leaves_the_first_layer_alone():
    rng = _rng(9)
    X = rng.standard_normal((4, 5))
    plain = nets.MLP([5, 6, 3], rng=np.random.default_rng(1))
    masked = nets.MLP([5, 6, 3], rng=np.random.default_rng(1), dropconnect_keep=0.5)
    assert np.allclose(plain.scores(X), masked.scores(X))
    _, (caches, c_out) = masked.forward(X, mode="train")
    assert caches[0][0][0] is False and c_out[0] is True


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("param, error, message", [
    ({"p": 0.0, "mode": "train"}, ValueError, r"dropout_param\['p'\]=0.0 is not valid; expected a number > 0"),
    ({"p": 1.5, "mode": "train"}, ValueError, r"dropout_param\['p'\]=1.5 is not valid"),
    ({"p": "0.5", "mode": "train"}, TypeError, r"dropout_param\['p'\]='0.5'"),
    ({"p": True, "mode": "train"}, TypeError, r"dropout_param\['p'\]=True"),
    ({"p": 0.5, "mode": "eval"}, ValueError,
     r"dropout_param\['mode'\]='eval' is not known; expected one of \['train', 'test'\]"),
    ({"mode": "train"}, ValueError, r"dropout_param has no 'p'"),
    ({"keep": 0.5, "p": 0.5, "mode": "train"}, ValueError, r"unknown key\(s\) \['keep'\]"),
    ({"p": 0.5, "mode": "train", "seed": -1}, ValueError, r"dropout_param\['seed'\]=-1"),
    ([0.5, "train"], TypeError, "expected a dict"),
])
def test_dropout_bad_param(param, error, message):
    with pytest.raises(error, match=message):
        layers.dropout_forward(np.ones((2, 2)), param)


def test_bad_arrays():
    with pytest.raises(TypeError, match="x has dtype int64"):
        layers.dropout_forward(np.ones((2, 2), dtype=np.int64), {"p": 0.5, "mode": "train"})
    with pytest.raises(ValueError, match=r"x has shape \(2, 3\) but w has shape \(4, 2\)"):
        layers.dropconnect_forward(np.ones((2, 3)), np.ones((4, 2)), np.ones(2), {"p": 0.5, "mode": "train"})
    with pytest.raises(ValueError, match=r"dropconnect_param\['p'\]=0.0 is not valid"):
        layers.dropconnect_forward(np.ones((2, 3)), np.ones((3, 2)), np.ones(2), {"p": 0, "mode": "train"})
    _, cache = layers.dropout_forward(np.ones((2, 3)), {"p": 0.5, "mode": "train", "seed": 0})
    with pytest.raises(ValueError, match=r"dout has shape \(3, 2\)"):
        layers.dropout_backward(np.ones((3, 2)), cache)
    with pytest.raises(ValueError, match="dropconnect_keep=0.0 is not valid"):
        nets.MLP([2, 3, 2], rng=0, dropconnect_keep=0.0)
