"""Activation functions and the measurements of 01_activations: gradients, parity with torch,
bad input, and every threshold the notebook asserts run on the opposite experiment."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lecture_lib import activation_experiments as E
from lecture_lib import activations as A
from lecture_lib import data
from lecture_lib.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from lecture_lib.widgets.saturation import saturation_explorer, stack_statistics


@pytest.fixture(scope="module")
def digits():
    return data.digits(seed=0).standardized()


# ------------------------------------------------------------------ the functions
@pytest.mark.parametrize("name", A.ELEMENTWISE)
@settings(deadline=None, max_examples=25)
@given(x=arrays(np.float64, 12, elements=st.floats(-4, 4)))
def test_local_gradient_matches_centred_differences(name, x):
    x = np.where(np.abs(x) < 1e-3, 0.5, x)  # off the kink at 0
    dout = np.linspace(-1, 1, x.size)
    f, fgrad = A.get(name)
    num = numerical_gradient_array(f, x.copy(), dout)
    assert rel_error(num, fgrad(x) * dout) < 1e-7


def test_prelu_alpha_gradient_and_maxout_gradients():
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    dout = rng.normal(size=30)
    alpha = np.array([0.2])
    num = numerical_gradient(lambda a: np.sum(A.prelu(x, a[0]) * dout), alpha.copy())
    assert rel_error(num, [np.sum(A.prelu_grad(x, 0.2)[1] * dout)]) < 1e-7
    z2 = x + rng.choice([-1, 1], size=30) * rng.uniform(0.01, 1, size=30)
    d1, d2 = A.maxout_grad(x, z2)
    assert rel_error(numerical_gradient(lambda v: np.sum(A.maxout(v, z2) * dout), x.copy()), d1 * dout) < 1e-7
    assert rel_error(numerical_gradient(lambda v: np.sum(A.maxout(x, v) * dout), z2.copy()), d2 * dout) < 1e-7
    assert np.all(d1 + d2 == 1)


def test_parity_with_torch():
    x = np.linspace(-30, 30, 601)
    t = torch.tensor(x, requires_grad=True)
    pairs = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, 0.01),
             "elu": torch.nn.functional.elu, "prelu": lambda v: torch.where(v > 0, v, 0.25 * v)}
    for name, fn in pairs.items():
        out = fn(t)
        (grad,) = torch.autograd.grad(out.sum(), t)
        np.testing.assert_allclose(A.apply(name, x), out.detach().numpy(), rtol=1e-12, atol=1e-15)
        keep = x != 0  # torch and we may pick different slopes at the kink
        np.testing.assert_allclose(A.local_gradient(name, x)[keep], grad.numpy()[keep], rtol=1e-10, atol=1e-15)


def test_sigmoid_is_stable_and_bounded():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = A.sigmoid(x)
        g = A.sigmoid_grad(x)
    assert np.all((s >= 0) & (s <= 1)) and g.max() == 0.25


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="activation='swish'.*expected one of"):
        A.get("swish")
    with pytest.raises(ValueError, match="slope=-0.1"):
        A.leaky_relu(np.ones(3), slope=-0.1)
    with pytest.raises(ValueError, match="alpha=-1"):
        A.elu(np.ones(3), alpha=-1.0)
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="depth=0"):
        E.deep_gradient_norms(X, y, "relu", depth=0)
    with pytest.raises(ValueError, match="width=-5"):
        E.deep_gradient_norms(X, y, "relu", width=-5)
    with pytest.raises(ValueError, match="gain=-1"):
        E.deep_gradient_norms(X, y, "relu", gain=-1.0)
    with pytest.raises(ValueError, match="activation='gelu'"):
        E.make_mlp(3, [4], 2, "gelu")
    with pytest.raises(ValueError, match="width=0"):
        E.make_mlp(3, [0], 2, "relu")
    with pytest.raises(ValueError, match="weight_scale=-1"):
        stack_statistics("relu", -1.0, 1.0, 0.0, 3)
    with pytest.raises(ValueError, match="depth=0"):
        stack_statistics("relu", 1.0, 1.0, 0.0, 0)
    with pytest.raises(ValueError, match="activation='swish'"):
        stack_statistics("swish", 1.0, 1.0, 0.0, 3)
    with pytest.raises(ValueError, match="not an option"):
        saturation_explorer(activation="swish")
    with pytest.raises(ValueError, match="2 seeds"):
        E.bias_lowers_dead([0.1], [0.0])


# ------------------------------------------------------------------ thresholds, both ways
def test_vanishing_threshold_both_ways(digits):
    X, y = digits.X_train[:128].astype(np.float64), digits.y_train[:128]
    sig = E.deep_gradient_norms(X, y, "sigmoid", gain=1.0, rng=np.random.default_rng(0))
    he = E.deep_gradient_norms(X, y, "relu", gain=2 ** 0.5, rng=np.random.default_rng(0))
    lecun = E.deep_gradient_norms(X, y, "relu", gain=1.0, rng=np.random.default_rng(0))
    assert E.vanishes(sig["factor"]) and not E.vanishes(he["factor"])
    assert E.passes_through(he["factor"])
    assert not E.passes_through(lecun["factor"]), "ReLU with LeCun init loses 1/sqrt(2) a layer"
    assert not E.passes_through(sig["factor"])


def test_zero_centring_thresholds_both_ways(digits):
    X, y = digits.X_train[:300].astype(np.float64), digits.y_train[:300]
    H_sig = E.hidden_features(X, "sigmoid", rng=np.random.default_rng(0))
    H_tanh = E.hidden_features(X, "tanh", rng=np.random.default_rng(0))
    assert E.all_share_sign(E.sign_agreement_experiment(H_sig, y)["per_example"])
    assert not E.all_share_sign(E.sign_agreement_experiment(H_tanh, y)["per_example"])
    lrs = [1, 3, 10, 30, 100]
    steps = {name: (E.steps_to_loss(H, y, lrs=lrs, target=0.3, max_steps=200)["steps"],
                    E.steps_to_loss(H - H.mean(0), y, lrs=lrs, target=0.3, max_steps=200)["steps"])
             for name, H in (("sigmoid", H_sig), ("tanh", H_tanh))}
    assert E.centring_speeds_up(*steps["sigmoid"])
    assert not E.centring_speeds_up(*steps["tanh"])


def test_sign_agreement_values():
    assert E.sign_agreement(np.array([[1.0, -2.0], [3.0, -1.0], [0.5, -0.1]])) == 1.0
    assert E.sign_agreement(np.array([[1.0], [-1.0]])) == 0.5


def test_saturation_threshold_both_ways():
    rng = np.random.default_rng(0)
    assert E.saturates(E.saturated_share("tanh", rng.normal(0, 5, 5000)))
    assert not E.saturates(E.saturated_share("tanh", rng.normal(0, 0.5, 5000)))


def test_dead_unit_thresholds_both_ways(digits):
    def dead(bias, gain=None, X=digits.X_train, act="relu"):
        return np.array([E.dead_fraction(E.make_mlp(64, [64] * 4, 10, act, bias=bias, gain=gain, seed=s), X, act)
                         for s in range(5)])
    bad, good = dead(-1.0), dead(0.0)
    assert E.many_dead(bad.mean()) and not E.few_dead(bad.mean())
    assert E.few_dead(good.mean()) and not E.many_dead(good.mean())
    assert dead(-8.0, act="leaky_relu").max() == 0 and E.many_dead(dead(-8.0).mean())
    raw = data.digits(seed=0).X_train
    small = 0.01 * np.sqrt(64)
    assert E.bias_lowers_dead(dead(0.0, small, raw), dead(0.01, small, raw))
    assert not E.bias_lowers_dead(dead(0.0, None, raw), dead(0.01, None, raw))


def test_bias_lowers_dead_needs_a_real_reduction():
    assert E.bias_lowers_dead([0.2, 0.3, 0.25], [0.0, 0.01, 0.02])
    assert not E.bias_lowers_dead([0.2, 0.3, 0.25], [0.21, 0.28, 0.26])   # noise
    assert not E.bias_lowers_dead([0.2, 0.2, 0.2], [0.19, 0.19, 0.19])     # real but tiny


def test_high_lr_kills_relu_not_a_normal_lr(digits):
    from lecture_lib.data import Splits

    small = Splits(digits.X_train[:512], digits.y_train[:512], digits.X_val, digits.y_val,
                   digits.X_test, digits.y_test, 10)
    high = [E.train_and_count_dead(small, "relu", lr=2.0, epochs=1, seed=s, batch_size=64)["after"] for s in (1, 2)]
    ok = [E.train_and_count_dead(small, "relu", lr=0.1, epochs=1, seed=s, batch_size=64)["after"] for s in (1, 2)]
    assert E.many_dead(np.nanmean(high)) and E.few_dead(np.mean(ok)) and not E.many_dead(np.mean(ok))


def test_timing_predicates_both_ways():
    x_small = np.ones(10_000, dtype=np.float32)
    x_big = np.ones(3_000_000, dtype=np.float32)
    relu = E.numpy_kernels()["relu"]
    t_small, t_big = E.time_call(relu, x_small, 5), E.time_call(relu, x_big, 5)
    assert not E.within_margin(t_small, t_big), "a 300x bigger array must not time 'the same'"
    assert E.within_margin(1.0, 2.9) and not E.within_margin(1.0, 3.1)
    assert E.not_slower(t_small, t_big) and not E.not_slower(t_big, t_small)
    add = E.time_call(lambda v: v + 1.0, x_small, 5)
    assert E.cheap(E.time_call(relu, x_small, 5), add)
    python_loop = E.time_call(lambda v: [max(t, 0.0) for t in v], x_small, 3)
    assert not E.cheap(python_loop, add), "a Python loop is not cheap"


def test_convergence_predicate_and_a_tiny_race(digits):
    assert E.converges_faster(3, 7) and not E.converges_faster(3, 1) and not E.converges_faster(4, 4.5)
    result = E.race(digits, ["relu"], lrs=[0.3], seeds=[0], epochs=1, target=0.99, widths=(8,))
    assert result["relu"]["epochs_to"] == [2]  # never reached: one past the budget
    assert E.median_epochs(result, "relu") == 2


def test_maxout_mlp_has_twice_the_parameters():
    def count(m):
        return sum(p.numel() for p in m.hidden.parameters())
    assert count(E.make_mlp(64, [50, 50], 10, "maxout")) == 2 * count(E.make_mlp(64, [50, 50], 10, "relu"))


# ------------------------------------------------------------------ the explorer's numbers
def test_stack_statistics_see_saturation_and_death():
    _, _, sat, _ = stack_statistics("sigmoid", 10.0, 1.0, 0.0, 3)
    assert sat[-1] > 0.5
    _, _, sat, _ = stack_statistics("sigmoid", 0.3, 0.3, 0.0, 3)
    assert sat[-1] == 0
    _, _, _, dead = stack_statistics("relu", 1.0, 1.0, -3.0, 3)
    assert dead[-1] > 0.5
    _, _, _, dead = stack_statistics("leaky_relu", 1.0, 1.0, -3.0, 3)
    assert dead.max() == 0
