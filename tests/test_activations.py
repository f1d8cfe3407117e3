"""Activation functions and the measurements of 01_activations: gradients, parity with torch,
bad input, and every threshold the notebook asserts run on the opposite experiment."""

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lecture_lib import activations as A
from lecture_lib import data
from lecture_lib.experiments import activations as E
from lecture_lib.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from lecture_lib.models.perceptron import mlp
from lecture_lib.timing import best_seconds, not_slower, within_margin
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


def test_integer_inputs_are_computed_in_float_and_other_types_refused():
    pixels = np.array([0, 200, 255], dtype=np.uint8)
    np.testing.assert_allclose(A.sigmoid(pixels), A.sigmoid(pixels.astype(np.float64)))
    assert A.relu(np.array([-3, 4])).dtype == np.float64 and A.tanh(np.float32([1.0])).dtype == np.float32
    for bad, error in ((None, TypeError), (np.array([1 + 2j]), TypeError), ("1.0", TypeError),
                       (np.array([True]), TypeError)):
        for name in A.ELEMENTWISE:
            with pytest.raises(error, match="x"):
                A.apply(name, bad)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="activation='swish'.*expected one of"):
        A.get("swish")
    with pytest.raises(ValueError, match="slope=-0.1"):
        A.leaky_relu(np.ones(3), slope=-0.1)
    with pytest.raises(ValueError, match="alpha=-1"):
        A.elu(np.ones(3), alpha=-1.0)
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="depth=1"):
        E.measure_gradient_norms(X, y, "relu", init="he", depth=1, rng=0)
    with pytest.raises(ValueError, match="width=-5"):
        E.measure_gradient_norms(X, y, "relu", init="he", width=-5, rng=0)
    with pytest.raises(ValueError, match="scale=-1"):
        E.measure_gradient_norms(X, y, "relu", init="he", scale=-1.0, rng=0)
    with pytest.raises(ValueError, match="activation='gelu'"):
        mlp(10, n_in=3, widths=[4], activation="gelu")
    with pytest.raises(ValueError, match="width=0"):
        mlp(10, n_in=3, widths=[0])
    with pytest.raises(ValueError, match="weight_scale=-1"):
        stack_statistics("relu", -1.0, 1.0, 0.0, 3)
    with pytest.raises(ValueError, match="depth=0"):
        stack_statistics("relu", 1.0, 1.0, 0.0, 0)
    with pytest.raises(ValueError, match="activation='swish'"):
        stack_statistics("swish", 1.0, 1.0, 0.0, 3)
    with pytest.raises(ValueError, match="not an option"):
        saturation_explorer(activation="swish")
    with pytest.raises(ValueError, match="2 seeds"):
        E.bias_lowers_dead(E.DeadUnits(np.array([0.1]), np.array([np.nan])),
                           E.DeadUnits(np.array([0.0]), np.array([np.nan])))


# ------------------------------------------------------------------ thresholds, both ways
def test_vanishing_threshold_both_ways(digits):
    X, y = digits.X_train[:128].astype(np.float64), digits.y_train[:128]
    sig = E.measure_gradient_norms(X, y, "sigmoid", init="lecun", rng=np.random.default_rng(0))
    he = E.measure_gradient_norms(X, y, "relu", init="he", rng=np.random.default_rng(0))
    lecun = E.measure_gradient_norms(X, y, "relu", init="lecun", rng=np.random.default_rng(0))
    assert E.vanishes(sig) and not E.vanishes(he)
    assert E.passes_through(he)
    assert not E.passes_through(lecun), "ReLU with LeCun init loses 1/sqrt(2) a layer"
    assert not E.passes_through(sig)
    assert E.decays(sig) and E.decays(lecun) and not E.decays(dataclasses.replace(he, factor=1.01))
    assert E.local_gradient_capped(sig) and not E.local_gradient_capped(dataclasses.replace(sig, local_grad_max=0.3))
    assert E.slope_one_when_positive("relu") and not E.slope_one_when_positive("sigmoid")


def test_zero_centring_thresholds_both_ways(digits):
    X, y = digits.X_train[:300].astype(np.float64), digits.y_train[:300]
    kw = {"lrs": [1, 3, 10, 30, 100], "target": 0.3, "max_steps": 200}
    sig = E.measure_zero_centring(X, y, "sigmoid", rng=np.random.default_rng(0), **kw)
    tanh = E.measure_zero_centring(X, y, "tanh", rng=np.random.default_rng(0), **kw)
    assert E.all_share_sign(sig) and not E.all_share_sign(tanh)
    assert E.centring_speeds_up(sig) and not E.centring_speeds_up(tanh)
    assert E.zero_centred(tanh) and not E.zero_centred(sig)
    assert not E.centring_speeds_up(dataclasses.replace(sig, centred=None))     # "not reached" is None
    assert E.centring_speeds_up(dataclasses.replace(sig, raw=None))


def test_sign_explanation_both_ways():
    r = E.measure_sigmoid_weight_gradient(rng=np.random.default_rng(5))
    assert E.chain_rule_matches(r) and E.one_shared_sign(r)
    assert not E.one_shared_sign(dataclasses.replace(r, signs=(-1, 1)))
    assert not E.chain_rule_matches(dataclasses.replace(r, rel_error=1e-3))


def test_sign_agreement_values():
    assert E.sign_agreement(np.array([[1.0, -2.0], [3.0, -1.0], [0.5, -0.1]])) == 1.0
    assert E.sign_agreement(np.array([[1.0], [-1.0]])) == 0.5


def test_saturation_threshold_both_ways():
    rng = np.random.default_rng(0)
    wide = E.measure_saturation(["tanh", "elu", "leaky_relu"], 5.0, rng=rng)
    narrow = E.measure_saturation(["tanh"], 0.5, rng=rng)
    assert E.saturates(wide, "tanh") and not E.saturates(narrow, "tanh")
    assert E.tail_is_flat(wide, "elu") and not E.tail_is_flat(wide, "leaky_relu")


def test_layer_output_predicates_both_ways(digits):
    r = E.measure_layer_outputs(digits.X_train, ["relu", "elu", "sigmoid"], init="he", rng=np.random.default_rng(0))
    assert E.sparse(r, "relu") and not E.sparse(r, "sigmoid")
    assert E.closer_to_zero_mean(r, "elu", "relu") and not E.closer_to_zero_mean(r, "relu", "elu")


def test_maxout_predicates_both_ways():
    r = E.measure_maxout(rng=np.random.default_rng(0))
    assert E.maxout_reproduces(r) and E.passes_full_gradient(r)
    assert not E.maxout_reproduces(dataclasses.replace(r, vs_other=0.0))
    assert not E.passes_full_gradient(dataclasses.replace(r, passed_min=0.0))
    counts = E.measure_parameter_counts(["relu", "maxout", "tanh"])
    assert E.doubles_parameters(counts)
    same = {**counts.by_activation, "maxout": counts.by_activation["tanh"]}
    assert not E.doubles_parameters(dataclasses.replace(counts, by_activation=same))


def test_dead_unit_thresholds_both_ways(digits):
    def dead(bias, gain=None, X=digits.X_train, act="relu"):
        return E.measure_dead_at_init(X, activation=act, bias=bias, gain=gain, n_seeds=5, rng=np.random.default_rng(0))
    bad, good = dead(-1.0), dead(0.0)
    assert E.many_dead(bad) and not E.few_dead(bad)
    assert E.few_dead(good) and not E.many_dead(good)
    assert E.none_dead(dead(-8.0, act="leaky_relu")) and E.many_dead(dead(-8.0))
    assert not E.none_dead(dead(-8.0))
    raw = data.digits(seed=0).X_train
    small = 0.01 * np.sqrt(64)
    assert E.bias_lowers_dead(dead(0.0, small, raw), dead(0.01, small, raw))
    assert not E.bias_lowers_dead(dead(0.0, None, raw), dead(0.01, None, raw))


def _units(*fractions):
    return E.DeadUnits(np.array(fractions), np.full(len(fractions), np.nan))


def test_bias_lowers_dead_needs_a_real_reduction():
    assert E.bias_lowers_dead(_units(0.2, 0.3, 0.25), _units(0.0, 0.01, 0.02))
    assert not E.bias_lowers_dead(_units(0.2, 0.3, 0.25), _units(0.21, 0.28, 0.26))   # noise
    assert not E.bias_lowers_dead(_units(0.2, 0.2, 0.2), _units(0.19, 0.19, 0.19))     # real but tiny
    assert E.bias_lowers_dead(_units(0.2, np.nan, 0.3, 0.25), _units(0.0, 0.1, 0.01, 0.02))  # a diverged run left out


def test_high_lr_kills_relu_not_a_normal_lr(digits):
    from lecture_lib.data import Splits

    small = Splits(digits.X_train[:512], digits.y_train[:512], digits.X_val, digits.y_val,
                   digits.X_test, digits.y_test, 10)
    high = E.measure_dead_after_training(small, "relu", lr=2.0, n_seeds=2, rng=np.random.default_rng(1))
    ok = E.measure_dead_after_training(small, "relu", lr=0.1, n_seeds=2, rng=np.random.default_rng(1))
    assert E.many_dead(high) and E.few_dead(ok) and not E.many_dead(ok)


def test_prelu_slope_is_learned_and_not_when_frozen(digits):
    r = E.measure_prelu_learning(digits, width=16, epochs=1, rng=np.random.default_rng(0))
    assert E.alpha_learned(r) and E.frozen_alpha_stays(r)
    assert not E.alpha_learned(dataclasses.replace(r, alpha_end=r.alpha_start))
    assert not E.frozen_alpha_stays(dataclasses.replace(r, alpha_frozen=r.alpha_end))


def test_cost_predicates_both_ways():
    r = E.measure_activation_cost(10_000, repeats=3, rng=np.random.default_rng(0))
    assert E.timings_valid(r) and E.relu_cheap(r) and E.relu_not_slower(r, "sigmoid")
    slow = dataclasses.replace(r, numpy={**r.numpy, "relu": 100 * r.numpy["sigmoid"]})
    assert not E.relu_cheap(dataclasses.replace(r, add=r.numpy["relu"] / 20))
    assert not E.relu_not_slower(slow, "sigmoid") and not E.timings_valid(dataclasses.replace(r, add=60.0))


def test_timing_helpers_both_ways():
    x_small = np.ones(10_000, dtype=np.float32)
    x_big = np.ones(3_000_000, dtype=np.float32)
    relu = E.numpy_kernels()["relu"]
    t_small, t_big = best_seconds(relu, x_small, repeats=5), best_seconds(relu, x_big, repeats=5)
    assert not within_margin(t_small, t_big), "a 300x bigger array must not time 'the same'"
    assert within_margin(1.0, 2.9) and not within_margin(1.0, 3.1)
    assert not_slower(t_small, t_big) and not not_slower(t_big, t_small)
    python_loop = best_seconds(lambda v: [max(t, 0.0) for t in v], x_small, repeats=3)
    assert not not_slower(python_loop, best_seconds(lambda v: v + 1.0, x_small, repeats=5), E.CHEAP_MARGIN)


def test_convergence_predicate_and_a_tiny_race(digits):
    race = E.measure_convergence_race(digits, ["relu", "tanh"], lrs=[0.3], n_seeds=1, epochs=1, target=0.99,
                                      widths=(8,), rng=np.random.default_rng(0))
    assert race.runs["relu"].steps_to == (None,)  # never reached: "not reached" is None
    assert race.median_steps("relu") == np.inf
    assert race.max_steps == -(-len(digits.X_train) // race.batch_size)   # one epoch of mini-batches
    assert len(race.runs["relu"].curves[0]) == race.max_steps              # one accuracy per step
    assert not E.converges_faster(race, "relu", "tanh")
    fast = dataclasses.replace(race, runs={**race.runs, "relu": dataclasses.replace(race.runs["relu"], steps_to=(1,))})
    assert E.converges_faster(fast, "relu", "tanh") and not E.converges_faster(fast, "tanh", "relu")


def test_the_race_is_cached_by_its_whole_configuration(digits, tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path))
    kw = {"lrs": [0.3], "n_seeds": 1, "epochs": 1, "target": 0.5, "widths": (8,), "cache": True}
    first = E.measure_convergence_race(digits, ["relu"], rng=np.random.default_rng(0), **kw)
    assert len(list(tmp_path.glob("*.json"))) == 1
    again = E.measure_convergence_race(digits, ["relu"], rng=np.random.default_rng(0), **kw)
    assert again == first and len(list(tmp_path.glob("*.json"))) == 1
    E.measure_convergence_race(digits, ["relu"], rng=np.random.default_rng(1), **kw)   # other seeds
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_maxout_mlp_has_twice_the_parameters():
    def count(m):
        return sum(p.numel() for p in m.hidden.parameters())
    assert count(mlp(10, n_in=64, widths=[50, 50], activation="maxout")) == 2 * count(mlp(10, n_in=64, widths=[50, 50]))


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
