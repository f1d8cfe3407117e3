"""The normalization gates: gradient checks in float64, parity with torch (F.batch_norm in train and
eval mode, F.layer_norm, F.group_norm), the staged and closed-form backwards agree, running
statistics follow CS231n's momentum, dtypes are kept, bad input is named; and the MLP's norm path
(gradient check through nets.MLP, recalibration of the running statistics)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecture_lib import layers, nets
from lecture_lib.gradcheck import numerical_gradient, numerical_gradient_array, rel_error

TOL = 1e-7
FORWARD_TOL, BACKWARD_TOL = 1e-10, 1e-8


def _rng(seed=0):
    return np.random.default_rng(seed)


def _bn(mode="train", **extra):
    return {"mode": mode, **extra}


def _problem(rng, shape=(6, 4)):
    d = shape[1]
    return rng.normal(2.0, 3.0, shape), rng.normal(1.0, 0.3, d), rng.normal(0.0, 0.5, d), rng.standard_normal(shape)


# --------------------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("backward", [layers.batchnorm_backward, layers.batchnorm_backward_staged])
def test_batchnorm_gradients(backward):
    x, gamma, beta, dout = _problem(_rng())
    _, cache = layers.batchnorm_forward(x, gamma, beta, _bn())
    dx, dgamma, dbeta = backward(dout, cache)

    def f(which):
        def out(v):
            args = {"x": x, "gamma": gamma, "beta": beta, which: v}
            return layers.batchnorm_forward(args["x"], args["gamma"], args["beta"], _bn())[0]
        return out

    assert rel_error(dx, numerical_gradient_array(f("x"), x.copy(), dout)) < TOL
    assert rel_error(dgamma, numerical_gradient_array(f("gamma"), gamma.copy(), dout)) < TOL
    assert rel_error(dbeta, numerical_gradient_array(f("beta"), beta.copy(), dout)) < TOL


def test_batchnorm_test_mode_gradient():
    x, gamma, beta, dout = _problem(_rng(1))
    param = _bn()
    layers.batchnorm_forward(x, gamma, beta, param)
    param["mode"] = "test"
    _, cache = layers.batchnorm_forward(x, gamma, beta, param)
    dx, dgamma, _ = layers.batchnorm_backward(dout, cache)
    assert rel_error(dx, numerical_gradient_array(lambda v: layers.batchnorm_forward(v, gamma, beta, param)[0],
                                                  x.copy(), dout)) < TOL
    assert rel_error(dgamma, numerical_gradient_array(
        lambda v: layers.batchnorm_forward(x, v, beta, param)[0], gamma.copy(), dout)) < TOL
    with pytest.raises(ValueError, match="staged backward follows the train-mode graph"):
        layers.batchnorm_backward_staged(dout, cache)


def test_staged_and_closed_form_backward_agree():
    x, gamma, beta, dout = _problem(_rng(2), (50, 30))
    _, cache = layers.batchnorm_forward(x, gamma, beta, _bn())
    for a, b in zip(layers.batchnorm_backward(dout, cache), layers.batchnorm_backward_staged(dout, cache),
                    strict=True):
        assert rel_error(a, b) < 1e-12


def test_spatial_batchnorm_gradients():
    rng = _rng(3)
    x, gamma, beta = rng.normal(1, 2, (3, 2, 3, 2)), rng.normal(1, 0.3, 2), rng.normal(0, 0.5, 2)
    dout = rng.standard_normal(x.shape)
    _, cache = layers.spatial_batchnorm_forward(x, gamma, beta, _bn())
    dx, dgamma, dbeta = layers.spatial_batchnorm_backward(dout, cache)
    assert rel_error(dx, numerical_gradient_array(
        lambda v: layers.spatial_batchnorm_forward(v, gamma, beta, _bn())[0], x.copy(), dout)) < TOL
    assert rel_error(dgamma, numerical_gradient_array(
        lambda v: layers.spatial_batchnorm_forward(x, v, beta, _bn())[0], gamma.copy(), dout)) < TOL
    assert rel_error(dbeta, dout.sum(axis=(0, 2, 3))) < 1e-12


def test_layernorm_gradients():
    x, gamma, beta, dout = _problem(_rng(4), (4, 6))
    _, cache = layers.layernorm_forward(x, gamma, beta, {})
    dx, dgamma, dbeta = layers.layernorm_backward(dout, cache)
    assert rel_error(dx, numerical_gradient_array(lambda v: layers.layernorm_forward(v, gamma, beta, {})[0],
                                                  x.copy(), dout)) < TOL
    assert rel_error(dgamma, numerical_gradient_array(lambda v: layers.layernorm_forward(x, v, beta, {})[0],
                                                      gamma.copy(), dout)) < TOL
    assert rel_error(dbeta, dout.sum(axis=0)) < 1e-12


def test_groupnorm_gradients():
    rng = _rng(5)
    x, gamma, beta = rng.normal(1, 2, (2, 4, 2, 3)), rng.normal(1, 0.3, 4), rng.normal(0, 0.5, 4)
    dout = rng.standard_normal(x.shape)
    _, cache = layers.spatial_groupnorm_forward(x, gamma, beta, 2, {})
    dx, dgamma, _ = layers.spatial_groupnorm_backward(dout, cache)
    assert rel_error(dx, numerical_gradient_array(
        lambda v: layers.spatial_groupnorm_forward(v, gamma, beta, 2, {})[0], x.copy(), dout)) < TOL
    assert rel_error(dgamma, numerical_gradient_array(
        lambda v: layers.spatial_groupnorm_forward(x, v, beta, 2, {})[0], gamma.copy(), dout)) < TOL


def test_a_wrong_batchnorm_gradient_fails_the_check():
    """The opposite experiment: the closed form without the variance term is caught."""
    x, gamma, beta, dout = _problem(_rng(6))
    _, (_, _, std, xhat, g) = layers.batchnorm_forward(x, gamma, beta, _bn())
    dxhat = dout * g
    wrong = (dxhat - dxhat.mean(axis=0)) / std
    numeric = numerical_gradient_array(lambda v: layers.batchnorm_forward(v, gamma, beta, _bn())[0], x.copy(), dout)
    assert rel_error(wrong, numeric) > 1e-3


# --------------------------------------------------------------------------- torch
def _torch(*arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def test_batchnorm_equals_torch_in_train_and_eval_mode():
    x, gamma, beta, dout = _problem(_rng(7), (8, 5))
    param = _bn(momentum=0.9)
    out, cache = layers.batchnorm_forward(x, gamma, beta, param)
    dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
    xt, gt, bt = _torch(x, gamma, beta)
    rm, rv = torch.zeros(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
    ot = F.batch_norm(xt, rm, rv, gt, bt, training=True, momentum=0.1, eps=1e-5)
    ot.backward(torch.from_numpy(dout))
    assert np.abs(ot.detach().numpy() - out).max() < FORWARD_TOL
    for ours, theirs in ((dx, xt), (dgamma, gt), (dbeta, bt)):
        assert np.abs(ours - theirs.grad.numpy()).max() < BACKWARD_TOL
    # running statistics: the same mean; torch keeps the unbiased variance (N / (N - 1))
    assert np.abs(rm.numpy() - param["running_mean"]).max() < FORWARD_TOL
    assert np.allclose(rv.numpy(), param["running_var"] * 8 / 7, rtol=1e-12)
    # eval mode with the same running statistics
    x2 = _rng(8).normal(2.0, 3.0, (3, 5))
    param["mode"] = "test"
    out2, cache2 = layers.batchnorm_forward(x2, gamma, beta, param)
    dx2, dgamma2, _ = layers.batchnorm_backward(dout[:3], cache2)
    xt2, gt2, bt2 = _torch(x2, gamma, beta)
    ot2 = F.batch_norm(xt2, torch.from_numpy(param["running_mean"]), torch.from_numpy(param["running_var"]),
                       gt2, bt2, training=False, eps=1e-5)
    ot2.backward(torch.from_numpy(dout[:3]))
    assert np.abs(ot2.detach().numpy() - out2).max() < FORWARD_TOL
    assert np.abs(xt2.grad.numpy() - dx2).max() < BACKWARD_TOL
    assert np.abs(gt2.grad.numpy() - dgamma2).max() < BACKWARD_TOL


def test_spatial_batchnorm_equals_torch():
    rng = _rng(9)
    x, gamma, beta = rng.normal(1, 2, (4, 3, 5, 5)), rng.normal(1, 0.3, 3), rng.normal(0, 0.5, 3)
    dout = rng.standard_normal(x.shape)
    out, cache = layers.spatial_batchnorm_forward(x, gamma, beta, _bn())
    dx, dgamma, dbeta = layers.spatial_batchnorm_backward(dout, cache)
    xt, gt, bt = _torch(x, gamma, beta)
    ot = F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
    ot.backward(torch.from_numpy(dout))
    assert np.abs(ot.detach().numpy() - out).max() < FORWARD_TOL
    for ours, theirs in ((dx, xt), (dgamma, gt), (dbeta, bt)):
        assert np.abs(ours - theirs.grad.numpy()).max() < BACKWARD_TOL


def test_layernorm_and_groupnorm_equal_torch():
    x, gamma, beta, dout = _problem(_rng(10), (5, 7))
    out, cache = layers.layernorm_forward(x, gamma, beta, {"eps": 1e-5})
    dx, dgamma, dbeta = layers.layernorm_backward(dout, cache)
    xt, gt, bt = _torch(x, gamma, beta)
    ot = F.layer_norm(xt, (7,), gt, bt, eps=1e-5)
    ot.backward(torch.from_numpy(dout))
    assert np.abs(ot.detach().numpy() - out).max() < FORWARD_TOL
    for ours, theirs in ((dx, xt), (dgamma, gt), (dbeta, bt)):
        assert np.abs(ours - theirs.grad.numpy()).max() < BACKWARD_TOL
    rng = _rng(11)
    x4, g4, b4 = rng.normal(1, 2, (2, 6, 3, 3)), rng.normal(1, 0.3, 6), rng.normal(0, 0.5, 6)
    out4, _ = layers.spatial_groupnorm_forward(x4, g4, b4, 3, {})
    ref = F.group_norm(torch.from_numpy(x4), 3, torch.from_numpy(g4), torch.from_numpy(b4), eps=1e-5)
    assert np.abs(ref.numpy() - out4).max() < FORWARD_TOL


# --------------------------------------------------------------------------- running statistics, dtype
def test_running_statistics_follow_cs231n_momentum():
    rng = _rng(12)
    param = _bn(momentum=0.75)
    batches = [rng.normal(5, 2, (10, 3)) for _ in range(3)]
    mean, var = np.zeros(3), np.zeros(3)
    for x in batches:
        layers.batchnorm_forward(x, np.ones(3), np.zeros(3), param)
        mean = 0.75 * mean + 0.25 * x.mean(axis=0)
        var = 0.75 * var + 0.25 * x.var(axis=0)
    assert np.allclose(param["running_mean"], mean, rtol=1e-14) and np.allclose(param["running_var"], var, rtol=1e-14)
    before = param["running_mean"].copy()
    param["mode"] = "test"
    layers.batchnorm_forward(batches[0], np.ones(3), np.zeros(3), param)
    assert np.array_equal(param["running_mean"], before), "test mode must not update the running statistics"


def test_test_mode_output_does_not_depend_on_the_batch():
    x, gamma, beta, _ = _problem(_rng(13), (8, 4))
    param = _bn()
    layers.batchnorm_forward(x, gamma, beta, param)
    param["mode"] = "test"
    alone = layers.batchnorm_forward(x[:1], gamma, beta, param)[0]
    inside = layers.batchnorm_forward(x, gamma, beta, param)[0][:1]
    assert np.abs(alone - inside).max() < 1e-14
    param["mode"] = "train"
    assert np.allclose(layers.batchnorm_forward(x[:1], gamma, beta, param)[0], beta), \
        "a train-mode batch of one has variance 0: every output is beta"


@pytest.mark.parametrize("forward, args", [
    (layers.batchnorm_forward, lambda x, g, b: (x, g, b, _bn())),
    (layers.layernorm_forward, lambda x, g, b: (x, g, b, {})),
])
def test_dtype_is_kept(forward, args):
    x, gamma, beta, dout = (a.astype(np.float32) for a in _problem(_rng(14)))
    out, cache = forward(*args(x, gamma, beta))
    backward = layers.batchnorm_backward if forward is layers.batchnorm_forward else layers.layernorm_backward
    assert out.dtype == np.float32 and backward(dout, cache)[0].dtype == np.float32


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, match", [
    (lambda x, g, b: layers.batchnorm_forward(x, g[:3], b, _bn()), ValueError,
     r"gamma has shape \(3,\); expected \(4,\)"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b[:2], _bn()), ValueError, r"beta has shape \(2,\)"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, _bn("eval")), ValueError, r"bn_param\['mode'\]='eval'"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, {}), ValueError, "bn_param has no 'mode'"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, _bn(momentum=1.5)), ValueError, r"bn_param\['momentum'\]=1.5"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, _bn(momentum=-0.1)), ValueError, r"momentum'\]=-0.1"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, _bn(eps=0.0)), ValueError, r"bn_param\['eps'\]=0.0"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, _bn(eps=-1e-5)), ValueError, r"eps'\]=-1e-05"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, _bn("test")), ValueError, "test mode needs the running"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, "train"), TypeError, "bn_param='train'"),
    (lambda x, g, b: layers.batchnorm_forward(x, g, b, _bn(running_mean=np.zeros(3), running_var=np.ones(3))),
     ValueError, r"running_mean'\] has shape \(3,\)"),
    (lambda x, g, b: layers.batchnorm_forward(x.astype(int), g, b, _bn()), TypeError, "x has dtype int"),
    (lambda x, g, b: layers.spatial_batchnorm_forward(x, g, b, _bn()), ValueError,
     r"expected 4 dimensions \(N, C, H, W\)"),
    (lambda x, g, b: layers.spatial_batchnorm_forward(x.reshape(6, 4, 1, 1), g[:2], b, _bn()), ValueError,
     r"gamma has shape \(2,\); expected \(4,\): one per channel"),
    (lambda x, g, b: layers.layernorm_forward(x, g, b, {"eps": 0}), ValueError, r"ln_param\['eps'\]=0"),
    (lambda x, g, b: layers.layernorm_forward(x, g, b[:1], {}), ValueError, r"beta has shape \(1,\)"),
    (lambda x, g, b: layers.spatial_groupnorm_forward(x.reshape(6, 4, 1, 1), g, b, 3, {}), ValueError,
     "G=3 is not valid; expected a divisor of the 4 channels"),
    (lambda x, g, b: layers.batchnorm_backward(np.ones((2, 2)), layers.batchnorm_forward(x, g, b, _bn())[1]),
     ValueError, r"dout has shape \(2, 2\)"),
])
def test_bad_input_names_the_argument(call, error, match):
    x, gamma, beta, _ = _problem(_rng(15))
    with pytest.raises(error, match=match):
        call(x, gamma, beta)


# --------------------------------------------------------------------------- the MLP's norm path
@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
def test_mlp_gradients_through_the_norm_path(norm):
    rng = _rng(16)
    X, y = rng.standard_normal((7, 5)), rng.integers(0, 3, 7)
    net = nets.MLP([5, 6, 4, 3], activation="tanh", init="xavier", norm=norm, bias=0.1, rng=rng)
    net.params["gamma1"] += rng.normal(0, 0.2, 6)
    net.params["beta2"] += rng.normal(0, 0.2, 4)
    _, grads = net.loss(X, y, reg=0.1)
    for name, p in net.params.items():
        num = numerical_gradient(lambda _: net.loss(X, y, reg=0.1)[0], p)
        if norm == "batchnorm" and name in ("b1", "b2"):
            # batch norm subtracts the batch mean, so a bias before it has no effect: gradient 0
            assert np.abs(grads[name]).max() < 1e-15 and np.abs(num).max() < 1e-9, name
        else:
            assert rel_error(num, grads[name]) < 1e-7, (norm, name)


def test_mlp_batchnorm_test_mode_uses_running_statistics():
    rng = _rng(17)
    X = rng.normal(3, 2, (20, 5))
    net = nets.MLP([5, 4, 3], norm="batchnorm", rng=rng)
    net.forward(X, mode="train")
    param = net.norm_params[0]
    pre = X @ net.params["W1"] + net.params["b1"]
    assert np.allclose(param["running_mean"], 0.1 * pre.mean(axis=0), rtol=1e-12)
    alone, batch = net.scores(X[:1]), net.scores(X)[:1]
    assert np.abs(alone - batch).max() < 1e-12


def test_recalibrate_averages_the_batch_statistics_and_restores_momentum():
    rng = _rng(18)
    X = rng.normal(1, 2, (32, 5))
    net = nets.MLP([5, 4, 3], norm="batchnorm", rng=rng)
    net.norm_params[0]["momentum"] = 0.99
    net.recalibrate(X, batch_size=8, rng=np.random.default_rng(0))
    order = np.random.default_rng(0).permutation(32)
    pre = X @ net.params["W1"] + net.params["b1"]
    means = [pre[order[i:i + 8]].mean(axis=0) for i in range(0, 32, 8)]
    variances = [pre[order[i:i + 8]].var(axis=0) for i in range(0, 32, 8)]
    param = net.norm_params[0]
    assert np.allclose(param["running_mean"], np.mean(means, axis=0), rtol=1e-12)
    assert np.allclose(param["running_var"], np.mean(variances, axis=0), rtol=1e-12)
    assert param["momentum"] == 0.99, "the layer's own momentum comes back"
    fresh = nets.MLP([5, 4, 3], norm="batchnorm", rng=rng)
    fresh.recalibrate(X, batch_size=8, rng=rng)
    assert "momentum" not in fresh.norm_params[0], "no momentum was set, so none is left behind"
    with pytest.raises(ValueError, match="norm='layernorm' has no running statistics"):
        nets.MLP([5, 4, 3], norm="layernorm", rng=rng).recalibrate(X, batch_size=8, rng=rng)
    with pytest.raises(ValueError, match="batch_size=0"):
        net.recalibrate(X, batch_size=0, rng=rng)
