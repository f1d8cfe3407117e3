"""The experiments of 06_regularization at small sizes: what they measure is what they say, and
each threshold the notebook asserts turns false on the opposite experiment."""

import copy
import dataclasses

import numpy as np
import pytest

from lecture_lib import nets, optim
from lecture_lib.experiments import regularization as R


@pytest.fixture(scope="module")
def tiny_runs():
    return R.measure_regularized_runs(n_train=60, hidden=16, epochs=3, n_seeds=2, rng=np.random.default_rng(0))


@pytest.fixture(scope="module")
def dropout_nets():
    """A quickly trained dropout net (keep 0.5) and one that barely drops (keep 0.98)."""
    task = R.digits_task(200, 1)
    trained = {}
    for keep in (0.5, 0.98):
        net = nets.MLP([64, 64, 64, 10], rng=np.random.default_rng(2), dropout_keep=keep, dtype=np.float32)
        nets.train(net, task.X_train, task.y_train, optimizer=optim.SGD(lr=0.03, momentum=0.9), epochs=15,
                   batch_size=50, rng=np.random.default_rng(3))
        trained[keep] = net
    return task, trained


# --------------------------------------------------------------------------- the dropout family
def test_runs_share_data_and_start_per_seed_and_differ_between_seeds(tiny_runs):
    assert set(tiny_runs.histories) == set(R.METHODS)
    assert not np.array_equal(tiny_runs.tasks[0].X_train, tiny_runs.tasks[1].X_train)
    for m in R.METHODS:
        assert tiny_runs.held_acc[m].shape == (2,) and len(tiny_runs.histories[m][0].val_acc) == 3
    assert tiny_runs.seconds["dropconnect"] > 0 and R.gain(tiny_runs, "none") == 0.0


def test_method_predicates_turn(tiny_runs):
    slow = dataclasses.replace(tiny_runs, seconds={"none": 1.0, "dropout": 1.0, "dropconnect": 5.0})
    assert R.costs_more(slow) and not R.costs_more(slow, "dropout", "dropconnect")
    acc = {"none": np.array([0.9, 0.9]), "dropout": np.array([0.92, 0.91]), "dropconnect": np.array([0.97, 0.98])}
    far = dataclasses.replace(tiny_runs, held_acc=acc)
    assert R.small_effect(far, "dropout") and not R.small_effect(far, "dropconnect")
    assert not R.similar_effect(far) and R.similar_effect(far, "dropout", "none")


def test_monte_carlo_is_exact_before_the_relu_and_biased_after_it_but_not_for_a_linear_net():
    X = np.random.default_rng(4).standard_normal((200, 10))
    y = np.zeros(200, dtype=int)
    results = {}
    for activation in ("relu", "linear"):
        net = nets.MLP([10, 32, 32, 3], activation=activation, rng=np.random.default_rng(5), dropout_keep=0.5)
        results[activation] = R.measure_test_scaling(net, X, y, n_masks=64, rng=np.random.default_rng(6))
    assert R.exact_before_nonlinearity(results["relu"]) and R.biased_after_nonlinearity(results["relu"])
    assert not R.biased_after_nonlinearity(results["linear"])             # the opposite: no nonlinearity
    shifted = dataclasses.replace(results["relu"], bias_linear=0.2, acc_mc=results["relu"].acc_scaled + 0.05)
    assert not R.exact_before_nonlinearity(shifted) and not R.scaled_matches_average(shifted)
    gaps = results["relu"].gap_linear
    assert gaps[-1] < gaps[0] / 4                                         # noise falls like 1/sqrt(k)


def test_forgetting_the_scale_is_the_notes_net_read_without_its_test_step(dropout_nets):
    task, trained = dropout_nets
    net = trained[0.5]
    forgot = R.scaled_weights(net, 2.0)
    h = np.maximum(task.X_held @ net.params["W1"] + net.params["b1"], 0)
    manual = np.maximum(2 * h @ net.params["W2"] + net.params["b2"], 0)
    _, (caches, _) = forgot.forward(task.X_held, mode="test")
    assert np.allclose(caches[1][6], manual, rtol=1e-4, atol=1e-4)
    assert net.params["W2"] is not forgot.params["W2"] and np.array_equal(net.params["W2"], trained[0.5].params["W2"])


def test_scale_choice_reads_the_same_net_three_ways(dropout_nets):
    task, _ = dropout_nets
    choice = R.measure_scale_choice(task, keep=0.8, hidden=16, epochs=3, rng=np.random.default_rng(7))
    assert set(choice.acc) == set(R.SCALE_READINGS)
    assert choice.loss["drop probability"] > choice.loss[R.SCALE_READINGS[0]]


def test_one_subnetwork_is_weak_only_when_units_are_really_dropped(dropout_nets):
    task, trained = dropout_nets
    strong = R.measure_dropout_ensemble(trained[0.5], task.X_held, task.y_held, n_masks=96, repeats=2,
                                        rng=np.random.default_rng(8))
    weak = R.measure_dropout_ensemble(trained[0.98], task.X_held, task.y_held, n_masks=8, rng=np.random.default_rng(8))
    assert strong.n_masks.tolist() == [1, 2, 4, 8, 16, 32] and strong.n_droppable == 128
    assert R.single_subnetwork_is_weaker(strong) and not R.single_subnetwork_is_weaker(weak)
    assert R.averaging_closes_the_gap(strong)
    assert not R.averaging_closes_the_gap(dataclasses.replace(strong, acc_scaled=strong.acc_mean[-1] + 0.05))


def test_vectorized_deletion_equals_deleting_one_unit_by_hand(dropout_nets):
    task, trained = dropout_nets
    net = trained[0.5]
    deletion = R.measure_unit_deletion({"a": net}, task.X_held, task.y_held)
    assert deletion.layer_of.tolist() == [1] * 64 + [2] * 64
    for layer, unit in ((1, 5), (2, 11)):
        twin = copy.copy(net)
        twin.params = dict(net.params)
        W = net.params[f"W{layer + 1}"].copy()
        W[unit] = 0
        twin.params[f"W{layer + 1}"] = W
        j = (layer - 1) * 64 + unit
        assert deletion.loss_rise["a"][j] == pytest.approx(
            R.held_out_loss(twin, task.X_held, task.y_held) - deletion.loss["a"], abs=1e-4)
        assert deletion.acc_drop["a"][j] == pytest.approx(deletion.acc["a"] - twin.accuracy(task.X_held, task.y_held))


def test_redundancy_predicate_turns_when_the_roles_swap(dropout_nets):
    task, trained = dropout_nets
    deletion = R.measure_unit_deletion({"dropout": trained[0.5], "none": trained[0.98]}, task.X_held, task.y_held)
    spreads = R.spreads_representation(deletion)
    swapped = R.spreads_representation(deletion, with_dropout="none", without="dropout")
    assert not (spreads and swapped)
    flat = dataclasses.replace(deletion, loss_rise={"dropout": np.full(128, 0.001), "none": np.linspace(0, 0.1, 128)})
    assert R.spreads_representation(flat) and not R.spreads_representation(flat, "none", "dropout")


# --------------------------------------------------------------------------- weight decay
def test_l2_is_weight_decay_for_sgd_and_adam_but_not_adamw():
    result = R.measure_l2_vs_weight_decay(n_train=100, epochs=15, rng=np.random.default_rng(9))
    assert R.same_training(result.sgd) and R.same_training(result.adam)
    assert R.different_training(result.adamw) and not R.different_training(result.sgd)
    assert not R.same_training(result.adamw)


def test_an_unused_weight_under_adam_l2_ignores_the_decay_strength():
    result = R.measure_unused_weight(decays=(0.1, 10.0), steps=30)
    assert np.allclose(result.adam_l2[0], result.adam_l2[1], atol=1e-6)
    assert result.adamw[1, -1] == pytest.approx((1 - 0.01 * 10.0) ** 30)
    assert result.adamw[0, -1] > result.adamw[1, -1]


def test_residual_blocks_do_not_shrink_without_decay():
    digits = R.RESIDUAL_TASKS[0]
    result = R.measure_residual_decay(tasks=(digits,), decays=(0.0, 0.0), steps=10, rng=np.random.default_rng(10))
    assert result.ratios[digits][0.0].shape == (4,) and not R.unneeded_blocks_become_identity(result)
    shrunk = dataclasses.replace(result, decays=(0.0, 0.5),
                                 ratios={digits: {0.0: np.full(4, 0.4), 0.5: np.full(4, 0.05)}})
    assert R.unneeded_blocks_become_identity(shrunk)
    spiral = {0.0: np.full(4, 0.8), 0.5: np.full(4, 0.4)}
    both = dataclasses.replace(shrunk, tasks=R.RESIDUAL_TASKS,
                               ratios={digits: shrunk.ratios[digits], R.RESIDUAL_TASKS[1]: spiral})
    assert R.needed_blocks_stay(both)
    assert not R.needed_blocks_stay(both, task=digits, unneeded=R.RESIDUAL_TASKS[1])


# --------------------------------------------------------------------------- augmentation, depth, pooling
def test_augmentation_runs_and_predicates():
    runs = R.measure_augmentation(recipes=("none", "flip"), n_train=30, epochs=2, rng=np.random.default_rng(11))
    assert set(runs.acc) == {"none", "flip"} and runs.acc["none"].shape == (1,)
    made = dataclasses.replace(runs, acc={"none": np.array([0.9, 0.9]), "flip": np.array([0.85, 0.86]),
                                          "rotate/shear/stretch": np.array([0.91, 0.95])})
    assert R.augmentation_hurts(made) and not R.augmentation_hurts(made, "rotate/shear/stretch")
    assert not R.no_clear_change(made) and R.no_clear_change(made, "none")


def test_flips_do_not_preserve_every_digit():
    flips = R.measure_flip_labels(epochs=3, rng=np.random.default_rng(12))
    assert flips.acc.shape == flips.acc_flipped.shape == (10,)
    assert not R.flip_preserves_all_labels(flips)
    assert R.flip_preserves_all_labels(R.FlipTest(flips.acc, flips.acc))   # the opposite: flips that change nothing


def test_stochastic_depth_runs_in_lockstep_and_predicates():
    runs = R.measure_stochastic_depth(depth=8, width=4, survival_last=(1.0, 0.5), n_train=64, epochs=1,
                                      rng=np.random.default_rng(13))
    assert runs.expected_blocks.tolist() == pytest.approx([3.0, 2.0]) and runs.step_seconds.shape == (2,)
    assert runs.predicted_time_ratio()[1] == pytest.approx(2.0 / 3)
    fast = dataclasses.replace(runs, step_seconds=np.array([1.0, 0.8]), acc=np.array([0.9, 0.9]),
                               loss=np.array([0.3, 0.3]), loss_unscaled=np.array([0.3, 0.5]))
    assert R.saves_time(fast) and R.test_scaling_matters(fast) and R.no_gain_at_this_scale(fast)
    slow = dataclasses.replace(fast, step_seconds=np.array([1.0, 1.0]), acc=np.array([0.9, 0.95]),
                               loss_unscaled=np.array([0.3, 0.2]))
    assert not R.saves_time(slow) and not R.test_scaling_matters(slow) and not R.no_gain_at_this_scale(slow)


def test_pooling_runs_and_predicates():
    runs = R.measure_fractional_pooling(poolings=R.POOLINGS, n_train=50, epochs=1, passes=2,
                                        rng=np.random.default_rng(14))
    assert set(runs.acc) == set(R.POOLINGS)
    made = dataclasses.replace(runs, acc={"max 2x2": 0.9, "fractional max pooling": 0.95},
                               acc_single={"max 2x2": 0.9, "fractional max pooling": 0.96})
    assert not R.no_clear_difference(made) and not R.averaging_passes_helps(made)
    assert R.pooling_difference(made) == pytest.approx(0.05)


def test_spiral_fit_records_curves_and_a_boundary():
    fit = R.fit_spiral(10, 0.5, 1e-3, epochs=20, every=10, grid=8)
    assert fit.epochs.tolist() == [0, 10, 20] and fit.boundary.shape == (8, 8) and len(fit.X) == 30
    assert set(np.unique(fit.boundary)) <= {0, 1, 2}


@pytest.mark.parametrize("call, error, message", [
    (lambda: R.measure_regularized_runs(keep=1.0, rng=0), ValueError, "keep=1.0 is not valid"),
    (lambda: R.digits_task(5, 0), ValueError, "n_train=5 is not valid"),
    (lambda: R.sample_masks(nets.MLP([4, 3, 2], rng=0), np.zeros((2, 4)), rng=0), ValueError, "net has no dropout"),
    (lambda: R.measure_stochastic_depth(survival_last=(0.5, 1.0), rng=0), ValueError, "expected 1.0"),
    (lambda: R.measure_augmentation(recipes=("blur",), rng=0), ValueError, "recipes item='blur'"),
    (lambda: R.measure_fractional_pooling(poolings=("average",), rng=0), ValueError, "poolings item='average'"),
    (lambda: R.fit_spiral(10, 0.0, 0.0), ValueError, "keep=0.0 is not valid"),
    (lambda: R.measure_regularized_runs(rng=None), TypeError, "rng=None is not valid"),
])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
