"""The experiments of 05_batchnorm on small sizes: every predicate the notebook asserts holds on its
experiment and turns false on the opposite one; the sweeps are cached; bad input is named; the
notes' figure ``normalize`` is registered and drawn from measurements."""

import dataclasses

import numpy as np
import pytest

from lecture_lib import figures
from lecture_lib.data import digits
from lecture_lib.experiments import batchnorm as B
from lecture_lib.experiments.batchnorm import batch as BB
from lecture_lib.experiments.batchnorm import training as T


@pytest.fixture(scope="module")
def data():
    return digits(seed=0).standardized()


@pytest.fixture(scope="module")
def training(data):
    return B.measure_deep_training(data, depth=4, width=32, epochs=2, lr=0.05, rng=np.random.default_rng(0))


# --------------------------------------------------------------------------- one gate, one net
def test_identity_needs_eps_inside_gamma(data):
    result = B.measure_identity(data.X_train[:64], width=8, rng=np.random.default_rng(1))
    assert B.recovers_identity(result.max_error)
    assert not B.recovers_identity(result.max_error_without_eps)


def test_batch_norm_standardizes_but_does_not_gaussianize(training, data):
    result = B.measure_unit_gaussian(training, data.X_train, data.y_train, batch_size=128, rng=np.random.default_rng(2))
    assert B.standardized(result.stats["batchnorm/initial"]) and B.standardized(result.stats["batchnorm/trained"])
    assert not B.standardized(result.stats["none/trained"])
    assert B.not_gaussian(result.stats["batchnorm/initial"])


def test_gaussian_inputs_through_a_linear_layer_are_gaussian():
    """The opposite experiment of not_gaussian: Gaussian data, a linear layer, batch norm."""
    from lecture_lib import nets

    rng = np.random.default_rng(3)
    net = nets.MLP([20, 30, 5], activation="linear", norm="batchnorm", rng=rng)
    stats = B.layer_statistics(net, rng.standard_normal((2000, 20)), rng.integers(0, 5, 2000))
    assert B.standardized(stats) and not B.not_gaussian(stats)


def test_learned_gamma_beta_move_from_their_start(training, data):
    result = B.learned_gamma_beta(training, data.X_train)
    assert len(result.gamma) == training.depth and result.gamma_range[0] < 1 < result.gamma_range[1]
    assert len(result.identity_gamma) == training.depth and result.share_toward_identity < 1
    reached = dataclasses.replace(result, gamma=result.identity_gamma)
    assert reached.share_toward_identity == pytest.approx(1.0)


def test_conv_statistics_are_per_channel():
    result = B.measure_conv_statistics(n=8, size=8, rng=np.random.default_rng(4))
    assert B.per_channel_standardized(result) and B.positions_differ(result)
    assert not B.one_scalar_standardizes(result)
    assert result.n_statistics == 3 and result.n_statistics_per_unit == 3 * 8 * 8
    assert not B.per_channel_standardized(dataclasses.replace(result, channel_std_after=result.channel_std_one_scalar))
    assert not B.positions_differ(dataclasses.replace(result, position_mean_spread=0.0))


def test_gradient_flow_predicates_and_their_opposites(data):
    flow = B.measure_gradient_flow(data.X_train, data.y_train, depth=12, width=32, batch_size=64,
                                   rng=np.random.default_rng(5))
    he = {n: flow.get(n, 1.0) for n in ("none", "batchnorm")}
    assert B.vanishes(flow.get("none", 0.5), he["none"]) and B.explodes(flow.get("none", 2.0), he["none"])
    assert B.scale_free(flow.get("batchnorm", 0.5), he["batchnorm"])
    assert B.flat(flow.ratio("none", 1.0)) and B.grows_toward_input(flow.ratio("batchnorm", 1.0))
    # the opposite experiments: batch norm neither vanishes nor explodes, the plain net is not scale-free
    assert not B.vanishes(flow.get("batchnorm", 0.5), he["batchnorm"])
    assert not B.explodes(flow.get("batchnorm", 2.0), he["batchnorm"])
    assert not B.scale_free(flow.get("none", 0.5), he["none"])
    assert not B.flat(flow.ratio("batchnorm", 1.0)) and not B.grows_toward_input(flow.ratio("none", 1.0))


def test_torch_conventions_measured():
    result = B.measure_torch_conventions(steps=5, batch_size=4, features=3, rng=np.random.default_rng(6))
    assert result.output_difference < 1e-10 and result.mean_difference_momentum_01 < 1e-12
    assert result.mean_difference_momentum_09 > 0.1
    assert result.var_ratio_one_step == pytest.approx(4 / 3, rel=1e-12)
    assert result.refuses_batch_of_one


def test_backward_comparison_agrees():
    result = B.measure_backward_comparison(n=32, d=16, repeats=3, rng=np.random.default_rng(7))
    assert result.rel_error < 1e-12 and result.staged_seconds > 0 and result.speedup > 0


# --------------------------------------------------------------------------- the batch
def test_batch_dependence_predicates(training, data):
    result = BB.measure_batch_dependence(training, data, batch_sizes=(2, 4, 8, 256), draws=8,
                                         rng=np.random.default_rng(8))
    assert BB.noisy(result) and BB.noise_shrinks(result)
    flat = dataclasses.replace(result, score_spread=np.full(4, 0.05))
    assert not BB.noisy(flat) and not BB.noise_shrinks(flat)
    assert BB.similar_gaps(0.04, 0.03) and not BB.similar_gaps(0.10, 0.01)


def test_test_time_predicates_and_a_run_that_does_not_lag(data):
    training = B.measure_deep_training(data, depth=8, width=32, epochs=2, lr=0.02, rng=np.random.default_rng(0))
    result = BB.measure_test_time(training, data, rng=np.random.default_rng(9))
    assert BB.batch_independent(result) and BB.single_example_bug(result)
    assert BB.lags(result) and BB.recalibration_recovers(result)
    # the opposite experiment: CS231n's momentum 0.9 keeps up with the weights, nothing to recover
    fine = BB.measure_test_time(training, data, lag_momentum=0.9, lag_epochs=2, rng=np.random.default_rng(9))
    assert not BB.lags(fine)
    assert not BB.single_example_bug(dataclasses.replace(result, distinct_predictions_single=3))
    assert not BB.batch_independent(dataclasses.replace(result, test_mode_difference=0.1))


# --------------------------------------------------------------------------- training sweeps
def test_lr_scale_grid_is_cached_and_its_predicates_turn(data, tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path))
    kwargs = dict(lrs=[0.1, 3.0], weight_stds=[0.003, 0.3], depth=3, width=32, epochs=1)
    grid = T.measure_lr_scale_grid(data, rng=np.random.default_rng(10), **kwargs)
    assert grid.plain.shape == grid.batchnorm.shape == (2, 2) and list(tmp_path.glob("bn-lr-scale-grid-*.json"))
    again = T.measure_lr_scale_grid(data, rng=np.random.default_rng(10), **kwargs)
    assert np.array_equal(grid.batchnorm, again.batchnorm, equal_nan=True)
    assert T.robust_to_scale(grid) and not T.robust_to_scale(grid, "none")
    same = dataclasses.replace(grid, plain=grid.batchnorm)
    assert not T.allows_higher_lr(same) and T.allows_higher_lr(dataclasses.replace(grid, plain=np.full((2, 2), 0.1)))


def test_batch_norm_breaks_at_batch_two_and_layer_norm_does_not(data):
    sweep = T.measure_batch_size(data, batch_sizes=(2, 32), epochs=1, depth=2, width=32, examples=256,
                                 rng=np.random.default_rng(11))
    assert T.breaks_at_small_batch(sweep, "batchnorm") and not T.breaks_at_small_batch(sweep, "layernorm")


def test_steps_to_target_predicates(data):
    result = T.measure_steps_to_target(data, lrs=(0.1,), target=0.5, depth=2, width=32, max_steps=60,
                                       rng=np.random.default_rng(12))
    assert np.isfinite(result.best("batchnorm")) and result.best("batchnorm") <= result.max_steps
    fast = dataclasses.replace(result, plain=np.array([100.0]), batchnorm=np.array([50.0]))
    assert T.faster_with_bn(fast) and T.far_below_paper(fast)
    assert not T.faster_with_bn(dataclasses.replace(fast, batchnorm=np.array([150.0])))
    assert not T.far_below_paper(dataclasses.replace(fast, batchnorm=np.array([5.0])))


def test_sensitivity_grows_with_the_offset_and_not_without_one():
    splits = digits(seed=0)
    result = T.measure_weight_sensitivity(splits, offsets=(0.0, 10.0), draws=10, rng=np.random.default_rng(13))
    assert T.less_sensitive(result) and T.grows_with_offset(result) and result.loss_mismatch < 1e-10
    none = T.measure_weight_sensitivity(splits, offsets=(0.0, 0.0), draws=10, rng=np.random.default_rng(13))
    assert not T.less_sensitive(none) and not T.grows_with_offset(none)
    assert T.raw_pixels_ratio(result) > 1 and T.raw_pixels_ratio(none) == pytest.approx(1.0)
    assert T.small_effect(1.5) and not T.small_effect(T.SMALL_EFFECT)


def test_layer_sensitivity(training, data):
    result = T.measure_layer_sensitivity(training, data.X_train, data.y_train, draws=3, batch_size=64,
                                         rng=np.random.default_rng(14))
    assert result.plain.shape == (training.depth + 1,) and np.all(result.batchnorm > 0) and result.state == "initial"
    assert T.normalized_layers_less_sensitive(dataclasses.replace(result, plain=3 * result.batchnorm))
    assert not T.normalized_layers_less_sensitive(dataclasses.replace(result, plain=result.batchnorm))


def test_the_notes_figure_is_registered_and_measured():
    fig = figures.show("normalize")
    titles = [ax.get_title() for ax in fig.axes]
    assert figures.registered()["normalize"].notebook == "05_batchnorm"
    assert "more sensitive at offset" in titles[2] and "median |Δ loss|" in titles[0]


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, match", [
    (lambda d, t: B.measure_identity(d.X_train, width=0, rng=0), ValueError, "width=0"),
    (lambda d, t: B.measure_identity(d.X_train, rng=None), TypeError, "rng=None"),
    (lambda d, t: B.measure_gradient_flow(d.X_train, d.y_train, depth=0, rng=0), ValueError, "depth=0"),
    (lambda d, t: B.measure_gradient_flow(d.X_train, d.y_train, depth=2, scales=(0.0,), rng=0), ValueError, "scale=0"),
    (lambda d, t: t.network("batchnorm", "final"), ValueError, "state='final'"),
    (lambda d, t: BB.measure_batch_dependence(t, d, batch_sizes=(0,), rng=0), ValueError, "batch size=0"),
    (lambda d, t: BB.measure_test_time(t, d, lag_momentum=1.5, rng=0), ValueError, "lag_momentum=1.5"),
    (lambda d, t: T.measure_lr_scale_grid(d, lrs=[], weight_stds=[1.0], depth=1, width=4, epochs=1, rng=0),
     ValueError, "lrs is empty"),
    (lambda d, t: T.measure_batch_size(d, batch_sizes=(0,), epochs=1, rng=0), ValueError, "batch size=0"),
    (lambda d, t: T.measure_batch_size(d, epochs=1, base_lr=-1.0, rng=0), ValueError, "base_lr=-1.0"),
    (lambda d, t: T.measure_weight_sensitivity(digits(seed=0), rel_size=0.0, rng=0), ValueError, "rel_size=0.0"),
    (lambda d, t: B.measure_conv_statistics(n=0, rng=0), ValueError, "n=0"),
])
def test_bad_input_names_the_argument(data, training, call, error, match):
    with pytest.raises(error, match=match):
        call(data, training)
