"""The experiments of 03_backprop_gates: every threshold the notebook asserts holds on its experiment
and fails on the opposite one."""

import dataclasses

import numpy as np
import pytest

from lecture_lib import nets
from lecture_lib.data import spiral
from lecture_lib.experiments import backprop as E


@pytest.fixture(scope="module")
def spiral_data():
    return spiral(3, 60, 0.2, seed=0), spiral(3, 60, 0.2, seed=1)


def test_chain_rule_agrees_and_the_check_catches_a_wrong_gradient():
    r = E.measure_chain_rule(30, n_ops=6, rng=np.random.default_rng(0))
    assert E.chain_rule_agrees(r) and E.mostly_usable(r)
    assert not E.chain_rule_agrees(dataclasses.replace(r, worst=1e-3))
    assert not E.mostly_usable(dataclasses.replace(r, usable=r.tried // 2))


def test_sigmoid_gate_thresholds_both_ways():
    r = E.measure_sigmoid_gate(number=20, repeats=2)
    assert E.one_gate_saves_operations(r) and E.one_gate_not_slower(r)
    assert not E.one_gate_not_slower(dataclasses.replace(r, seconds_one=10 * r.seconds_chain))
    assert not E.one_gate_saves_operations(dataclasses.replace(r, ops_chain=r.ops_one))


def test_backward_graph_cost_measures_memory_and_time(spiral_data):
    (X, y), _ = spiral_data
    net = nets.MLP([2, 20, 3], rng=np.random.default_rng(0))
    r = E.measure_backward_graph_cost(net, X, y, repeats=3)
    assert r.direct_saved_bytes == 0 < r.graph_saved_bytes and E.gradients_agree(r.gradient_difference)
    assert not E.graph_time_within_margin(dataclasses.replace(r, time_ratio=5.0))


def test_gradient_scale_is_exact_only_at_zero_weights(spiral_data):
    (X, y), _ = spiral_data
    r = E.measure_gradient_scale(X, y, scale=1000.0, rng=np.random.default_rng(0))
    assert E.scales_exactly(r) and not E.scales_roughly(r)
    same = E.measure_gradient_scale(X, y, scale=1.0, rng=np.random.default_rng(0))   # opposite: no scaling
    assert not E.scales_exactly(dataclasses.replace(same, scale=1000.0))


def test_lr_rule_fails_on_scaled_data_and_holds_on_the_same_data(spiral_data):
    (X, y), _ = spiral_data
    r = E.measure_stable_lr(X, y, factor=1000.0, steps=50, iters=16)
    assert not E.notes_rule_holds(r) and E.drop_is_factor_squared(r)
    assert not E.is_stable(r.notes_losses)
    unscaled = E.measure_stable_lr(X, y, factor=1.0, steps=50, iters=16)     # opposite: nothing to fix
    assert E.notes_rule_holds(unscaled) and E.is_stable(E.linear_losses(X, y, r.lr_raw / 2, 50))


def test_stability_predicate():
    assert E.is_stable(np.array([1.1, 1.0, 0.9]))
    assert not E.is_stable(np.array([1.1, 1.3, 0.9]))
    assert not E.is_stable(np.array([1.1, np.nan, 0.9]))


def test_spiral_threshold_fails_for_a_linear_network(spiral_data):
    (X, y), (Xh, yh) = spiral_data
    kw = {"hidden": 100, "lr": 1.0, "reg": 1e-4, "steps": 300, "linear_lr": 0.1}
    good = E.measure_spiral_training(X, y, Xh, yh, rng=np.random.default_rng(0), **kw)
    assert E.spiral_learned(good) and good.linear_loss > good.losses[-1]
    linear = E.measure_spiral_training(X, y, Xh, yh, activation="linear", rng=np.random.default_rng(0), **kw)
    assert not E.spiral_learned(linear)


def test_step_sweep_predicates_both_ways():
    s = E.measure_step_sweep(np.logspace(-1, -12, 12), rng=np.random.default_rng(0))
    assert E.centred_agrees(s) and E.one_sided_worse(s) and E.second_order_wins(s, 1e-5)
    assert E.float32_cannot_agree(s) and E.best_h_in_range(s)
    swapped = dataclasses.replace(s, centred=s.one_sided, one_sided=s.centred)
    assert not E.one_sided_worse(swapped) and not E.second_order_wins(swapped, 1e-5)
    in_float32 = dataclasses.replace(s, centred=s.float32)
    assert not E.centred_agrees(in_float32) and not E.best_h_in_range(dataclasses.replace(s, hs=s.hs * 1e5))
    assert not E.float32_cannot_agree(dataclasses.replace(s, float32=s.centred))


def test_relu_kink_breaks_the_check_only_near_zero():
    r = E.measure_relu_kink(h=1e-5, rng=np.random.default_rng(0))
    assert E.kink_fails_the_check(r)
    far = E.measure_relu_kink(h=1e-5, rng=np.random.default_rng(0))
    assert not E.kink_fails_the_check(dataclasses.replace(far, kink=far.away))


def test_gradient_check_bands():
    assert [E.gradient_check_band(e) for e in (1e-9, 1e-6, 1e-2)] == ["agree", "suspect", "wrong"]


def test_a_tiny_gradient_left_by_saturation_agrees_to_rounding():
    saturated = [("pow3", 2, 1), ("pow3", 2, 1), ("mul", 2, 4), ("div", 4, 0), ("tanh", 2, 0), ("sigmoid", 6, 6),
                 ("pow3", 3, 2), ("sigmoid", 7, 5), ("relu", 10, 0), ("tanh", 5, 4)]
    xs = [-0.43215985, -0.12079664, 1.82492706]    # the gradient is 2e-8 and both libraries round it
    assert E.gradients_agree(E.engine_vs_torch(saturated, xs))
