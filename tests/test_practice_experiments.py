"""The experiments of 09_training_practice: each named predicate the notebook asserts holds on its
experiment and turns false on the opposite one; small sizes, real runs; bad input; the figures
and explorers of the notebook."""

import dataclasses

import numpy as np
import pytest

from lecture_lib import averaging, figures
from lecture_lib import search as S
from lecture_lib.experiments import practice as E

PRACTICE_FIGURES = ("random-search", "lr", "bad_init", "gap", "crossvalidation", "K-fold_cross_validation_EN",
                    "ensembles")


@pytest.fixture(scope="module")
def sweep():
    """A coarse sweep (5 learning rates x 2 weight decays, 2 epochs), a tenth of the notebook's."""
    return E.measure_digits_sweep(np.random.default_rng(0), lrs_per_decade=1, n_regs=2, epochs=2)


# --------------------------------------------------------------------------- search
def test_log_space_wins_unless_the_optimum_sits_in_the_top_decade(sweep):
    real = E.measure_log_space(sweep, np.random.default_rng(1), repeats=200, real_trials=1)
    assert E.log_beats_uniform(real)
    assert real.uniform_counts[-1] / real.uniform_counts.sum() > 0.85
    best_at_top = E.DigitsSweep(sweep.lrs, sweep.regs, np.tile(np.linspace(0.1, 0.99, len(sweep.lrs))[:, None],
                                                                  (1, len(sweep.regs))), epochs=1)
    opposite = E.measure_log_space(best_at_top, np.random.default_rng(1), repeats=200, real_trials=1)
    assert not E.log_beats_uniform(opposite)


def test_random_beats_grid_unless_the_grid_sits_on_the_optimum():
    r = E.measure_random_vs_grid("synthetic", np.random.default_rng(2), repeats=60)
    assert E.random_beats_grid(r)
    assert r.grid_distinct.tolist() == [1, 2, 3, 4, 5] and np.all(r.random_distinct == r.budgets)
    centred = [(S.PeakObjective(centre=(0.5, 0.5)), 1.0)] * 20   # odd grids have a point at the centre
    grid, random, distinct = S.compare_grid_and_random(centred, (9, 25), np.random.default_rng(0))
    lucky = E.RandomVsGrid("synthetic", np.array([9, 25]), grid, random, np.array([3, 5]), distinct)
    assert np.all(grid == 0) and not E.random_beats_grid(lucky)


def test_coarse_to_fine_helps_unless_it_narrows_too_hard():
    assert E.narrowing_helps(E.measure_coarse_to_fine("synthetic", np.random.default_rng(3), repeats=100))
    too_narrow = E.measure_coarse_to_fine("synthetic", np.random.default_rng(3), repeats=100, shrink=0.005)
    assert not E.narrowing_helps(too_narrow)


def test_search_problems_bad_input():
    with pytest.raises(ValueError, match="objective='digits' is not valid"):
        E.search_problems("digits", 3, np.random.default_rng(0))


# --------------------------------------------------------------------------- cross-validation
def test_k_fold_is_steadier_than_one_split_unless_there_are_two_folds():
    r = E.measure_k_fold(np.random.default_rng(4), shuffles=40, truth_shuffles=4)
    assert E.k_fold_steadier(r) and r.single.shape == (40 * 5, 6) and r.k_fold.shape == (40, 6)
    assert np.allclose(r.k_fold.mean(), r.single.mean())  # the same folds, averaged
    two = E.measure_k_fold(np.random.default_rng(4), folds=2, shuffles=40, truth_shuffles=4)
    assert not E.k_fold_steadier(two)


def test_k_fold_bad_input():
    with pytest.raises(ValueError, match="k=1 is not valid"):
        E.measure_k_fold(np.random.default_rng(0), folds=1, shuffles=1)
    with pytest.raises(ValueError, match="k=300 is not valid"):
        E.measure_k_fold(np.random.default_rng(0), folds=300, shuffles=1)


# --------------------------------------------------------------------------- babysitting
def test_initial_loss_is_log_c_with_small_weights_only():
    r = E.measure_initial_loss(np.random.default_rng(5))
    assert E.starts_at_log_c(r, "small") and not E.starts_at_log_c(r, "large")


def test_a_tiny_subset_is_memorized_unless_weight_decay_forbids_it():
    assert E.overfits(E.measure_overfit_tiny(np.random.default_rng(6), n=20, epochs=150))
    assert not E.overfits(E.measure_overfit_tiny(np.random.default_rng(6), n=20, epochs=150, reg=1.0))


def test_update_ratio_tracks_the_learning_rate():
    r = E.measure_update_ratio(np.random.default_rng(7), lrs=(1e-3, 1e-2, 1e-1), epochs=1)
    assert E.ratio_tracks_lr(r) and r.ratios.shape == (3, 2)
    flat = E.UpdateRatios(r.lrs, np.full_like(r.ratios, 1e-3), r.val_acc, r.layers)
    assert not E.ratio_tracks_lr(flat)


def test_the_update_ratio_checks_fail_on_the_opposite_numbers():
    r = E.measure_update_ratio(np.random.default_rng(7), lrs=(1e-3, 1e-2, 1e-1), epochs=1)
    at = lambda ratio: dataclasses.replace(r, ratios=np.full_like(r.ratios, ratio))  # noqa: E731
    assert E.best_ratio_above_rule(at(10 * E.RULE_OF_THUMB)) and not E.best_ratio_above_rule(at(E.RULE_OF_THUMB))
    ratios = np.array([[1e-4] * 2, [E.RULE_OF_THUMB] * 2, [1e-2] * 2])        # the middle lr meets the rule
    assert E.lr_nearest_rule(dataclasses.replace(r, ratios=ratios)) == 1
    costly = dataclasses.replace(r, ratios=ratios, val_acc=np.array([0.3, 0.7, 0.9]))
    cheap = dataclasses.replace(r, ratios=ratios, val_acc=np.array([0.3, 0.85, 0.9]))
    assert E.rule_costs_accuracy(costly) and not E.rule_costs_accuracy(cheap)


def test_the_gap_checks_hold_on_the_measurement_and_fail_on_the_opposite():
    gap = E.measure_gap(np.random.default_rng(9))      # the notebook's run
    assert E.big_gap(gap) and E.more_data_halves_gap(gap) and E.underfits_without_gap(gap)
    same = dataclasses.replace(gap, val_acc=gap.train_acc.copy())                   # no gap anywhere
    assert not E.big_gap(same)
    no_help = dataclasses.replace(gap, train_acc=gap.train_acc[[0, 0, 2]], val_acc=gap.val_acc[[0, 0, 2]])
    assert not E.more_data_halves_gap(no_help)
    fits = dataclasses.replace(gap, train_acc=gap.train_acc[[0, 1, 1]], val_acc=gap.val_acc[[0, 1, 1]])
    assert not E.underfits_without_gap(fits), "a net that fits its training set is not the small one"


# --------------------------------------------------------------------------- ensembles
def test_an_ensemble_of_copies_gains_nothing_and_weak_members_gain_more_than_a_point():
    probs = averaging.softmax(np.random.default_rng(0).normal(size=(E.digits64().y_test.size, 10)))
    acc, loss = averaging.ensemble_curve([probs] * 4, E.digits64().y_test, orders=3, rng=0)
    copies = E.Ensemble(np.full(4, acc[0]), np.full(4, loss[0]), acc, loss, 1)
    assert E.ensemble_gain(copies)[0] == 0 and not E.ensemble_lowers_loss(copies)
    weak = E.measure_independent_models(np.random.default_rng(10), members=6, epochs=2, orders=10)
    assert E.ensemble_lowers_loss(weak) and not E.gain_under_a_few_percent(weak)


def test_weight_averages_help_a_noisy_run_more_than_a_settled_one():
    r = E.measure_polyak(np.random.default_rng(12), lrs=(0.05, 0.3), seeds=1, epochs=6)
    assert r.torch_difference < 1e-12
    noisy, settled = E.averaging_gain(r, 0.3), E.averaging_gain(r, 0.05)
    assert noisy[1] > settled[1]  # the second-half average
    last = r.final_loss[..., :1]
    helped = dataclasses.replace(r, final_loss=np.concatenate([last, np.repeat(0.5 * last, 3, axis=-1)], axis=-1))
    unmoved = dataclasses.replace(r, final_loss=np.repeat(last, 4, axis=-1))
    assert E.averaging_helps(helped, 0.3) and not E.averaging_settled(helped, 0.3)
    assert E.averaging_settled(unmoved, 0.3) and not E.averaging_helps(unmoved, 0.3)


def test_the_snapshot_checks_fail_on_the_opposite_numbers():
    r = E.measure_snapshots(np.random.default_rng(11), cycles=3, cycle_epochs=2)
    assert E.snapshot_gain(r, m=1) == 0.0
    better, worse = (dataclasses.replace(r, independent_loss=float(r.last_m_loss[2]) * f) for f in (1.5, 0.5))
    assert E.snapshots_beat_split_budget(better, m=3) and not E.snapshots_beat_split_budget(worse, m=3)
    halved = dataclasses.replace(r, last_m_loss=r.last_m_loss[0] * np.array([1.0, 0.75, 0.5]))
    assert E.snapshot_gain(halved, m=3) == pytest.approx(0.5)


# --------------------------------------------------------------------------- figures
@pytest.mark.parametrize("name", PRACTICE_FIGURES)
def test_practice_figures_are_registered_for_the_notebook(name):
    assert figures.registered()[name].notebook == "09_training_practice"


def test_random_search_figure_counts_distinct_values_from_the_searches():
    fig = figures.show("random-search", trials=16)
    titles = [ax.get_title() for ax in fig.axes]
    assert "4 distinct values" in titles[0] and "16 distinct values" in titles[1]
