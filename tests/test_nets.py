"""The one NumPy MLP and the one softmax regression: gradients checked in float64, the same numbers
as the two-layer net and as torch, training that learns the digits and stops when it diverges."""

import numpy as np
import pytest

from lecture_lib import layers, nets, optim
from lecture_lib.data import digits
from lecture_lib.gradcheck import numerical_gradient, rel_error


def _problem(rng, n=6, d=5, c=3):
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


@pytest.mark.parametrize("activation", nets.ACTIVATIONS)
def test_mlp_gradients_match_centred_differences(activation):
    rng = np.random.default_rng(0)
    X, y = _problem(rng)
    net = nets.MLP([5, 7, 6, 3], activation=activation, init="xavier", bias=0.1, rng=rng)
    loss, grads = net.loss(X, y, reg=0.3)
    for name, p in net.params.items():
        num = numerical_gradient(lambda _: net.loss(X, y, reg=0.3)[0], p)
        assert rel_error(num, grads[name]) < 1e-7, (activation, name)


def _two_layer_by_hand(p, X, y, reg):
    h, c1 = layers.affine_forward(X, p["W1"], p["b1"])
    a, c2 = layers.relu_forward(h)
    s, c3 = layers.affine_forward(a, p["W2"], p["b2"])
    loss, ds = layers.softmax_loss(s, y)
    da, dW2, db2 = layers.affine_backward(ds, c3)
    _, dW1, db1 = layers.affine_backward(layers.relu_backward(da, c2), c1)
    loss += 0.5 * reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    return loss, {"W1": dW1 + reg * p["W1"], "b1": db1, "W2": dW2 + reg * p["W2"], "b2": db2}


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_equals_the_staged_two_layer_net_and_torch(activation):
    rng = np.random.default_rng(1)
    X, y = _problem(rng, n=8, d=4, c=3)
    net = nets.MLP([4, 10, 5, 3], activation=activation, rng=rng)
    loss, grads = net.loss(X, y, reg=0.01)
    t_loss, t_grads = nets.torch_loss_and_grads(net, X, y, reg=0.01)
    assert abs(loss - t_loss) < 1e-12
    for k in grads:
        assert rel_error(grads[k], t_grads[k]) < 1e-10, k
    two = nets.MLP([4, 10, 3], rng=rng)
    loss, grads = two.loss(X, y, reg=0.01)
    ref_loss, ref_grads = _two_layer_by_hand(two.params, X, y, 0.01)
    assert abs(loss - ref_loss) < 1e-12 and all(rel_error(grads[k], ref_grads[k]) < 1e-12 for k in grads)


def test_trace_records_each_hidden_layer():
    rng = np.random.default_rng(2)
    X, y = _problem(rng, n=9)
    net = nets.MLP([5, 4, 4, 4, 3], activation="tanh", rng=rng)
    _, grads, trace = net.loss(X, y, trace=True)
    assert len(trace.pre) == len(trace.out) == len(trace.grad_pre) == 3 and len(trace.grad_W) == 4
    assert np.allclose(trace.out[0], np.tanh(trace.pre[0]))
    assert np.allclose(grads["W2"], trace.out[0].T @ trace.grad_pre[1])


def test_float32_stays_float32():
    rng = np.random.default_rng(3)
    X, y = _problem(rng)
    net = nets.MLP([5, 4, 3], rng=rng, dtype=np.float32)
    scores, _ = net.forward(X.astype(np.float32))
    _, grads = net.loss(X.astype(np.float32), y)
    assert scores.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())


def test_weights_follow_the_init_rules():
    from lecture_lib.init import init_std

    net = nets.MLP([400, 300, 10], init="he", rng=np.random.default_rng(0))
    assert net.params["W1"].std() == pytest.approx(init_std("he", 400, 300), rel=0.01)
    assert np.all(nets.MLP([5, 4, 3], init="zeros", rng=np.random.default_rng(0)).params["W1"] == 0)


def test_training_learns_the_digits_and_stops_on_divergence():
    d = digits(seed=0).standardized()
    X, y, Xv, yv = d.X_train.astype(np.float64), d.y_train, d.X_val.astype(np.float64), d.y_val
    rng = np.random.default_rng(0)
    net = nets.MLP([X.shape[1], 64, 10], rng=rng)
    result = nets.train(net, X, y, optimizer=optim.SGD(lr=0.1), epochs=3, batch_size=64, rng=rng,
                        X_val=Xv, y_val=yv)
    assert result.val_acc[-1] > 0.9 and not result.diverged and result.epochs_to(0.9) is not None
    wild = nets.MLP([X.shape[1], 64, 10], init="large", scale=30.0, rng=np.random.default_rng(0))
    bad = nets.train(wild, X, y, optimizer=optim.SGD(lr=10.0), epochs=3, batch_size=64, rng=rng)
    assert bad.diverged_at == 1


def test_training_without_the_training_accuracy_takes_the_same_steps():
    d = digits(seed=0).standardized()
    X, y, Xv, yv = d.X_train[:256].astype(np.float64), d.y_train[:256], d.X_val.astype(np.float64), d.y_val
    runs = []
    for measure in (True, False):
        net = nets.MLP([X.shape[1], 32, 10], rng=np.random.default_rng(1))
        runs.append((net, nets.train(net, X, y, optimizer=optim.SGD(lr=0.1), epochs=2, batch_size=64,
                                     rng=np.random.default_rng(2), X_val=Xv, y_val=yv, train_accuracy=measure)))
    (net_a, with_acc), (net_b, without) = runs
    assert len(with_acc.train_acc) == 2 and without.train_acc == []
    assert without.train_loss == with_acc.train_loss and without.val_acc == with_acc.val_acc
    assert all(np.array_equal(net_a.params[k], net_b.params[k]) for k in net_a.params)
    with pytest.raises(TypeError, match="train_accuracy"):
        nets.train(net_a, X, y, optimizer=optim.SGD(lr=0.1), epochs=1, batch_size=64, rng=0, train_accuracy="no")


def test_softmax_regression_gradient_and_no_bias():
    rng = np.random.default_rng(4)
    X, y = _problem(rng, n=7, d=4, c=3)
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    loss, dW, db = nets.softmax_regression_loss(W, b, X, y, reg=0.2)
    assert rel_error(numerical_gradient(lambda w: nets.softmax_regression_loss(w, b, X, y, reg=0.2)[0], W), dW) < 1e-7
    assert rel_error(numerical_gradient(lambda v: nets.softmax_regression_loss(W, v, X, y, reg=0.2)[0], b), db) < 1e-7
    _, _, none = nets.softmax_regression_loss(W, None, X, y)
    assert none is None


@pytest.mark.parametrize("call, error, match", [
    (lambda r: nets.MLP([5], rng=r), ValueError, "sizes"),
    (lambda r: nets.MLP([5, 0, 3], rng=r), ValueError, r"sizes\[1\]=0"),
    (lambda r: nets.MLP([5, 3], activation="relu6", rng=r), ValueError, "activation='relu6'"),
    (lambda r: nets.MLP([5, 3], norm="groupnorm", rng=r), ValueError, "norm='groupnorm'"),
    (lambda r: nets.MLP([5, 3], dropout_keep=0.0, rng=r), ValueError, "dropout_keep=0.0"),
    (lambda r: nets.MLP([5, 3], rng=None), TypeError, "rng=None"),
    (lambda r: nets.MLP([5, 3], rng=r).forward(np.ones((2, 4))), ValueError, r"X has shape \(2, 4\)"),
    (lambda r: nets.MLP([5, 3], rng=r).forward(np.ones((2, 5)), mode="eval"), ValueError, "mode='eval'"),
    (lambda r: nets.MLP([5, 3], rng=r).loss(np.ones((2, 5)), [0, 1], reg=-1), ValueError, "reg=-1"),
    (lambda r: nets.train(nets.MLP([5, 3], rng=r), np.ones((4, 5)), np.zeros(4, int), optimizer=optim.SGD(lr=0.1),
                          epochs=0, batch_size=2, rng=r), ValueError, "epochs=0"),
    (lambda r: nets.softmax_regression_loss(np.ones((3, 2)), None, np.ones((4, 5)), np.zeros(4, int)),
     ValueError, r"X has shape \(4, 5\)"),
])
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call(np.random.default_rng(0))
