"""The NumPy cores of 09_training_practice against scikit-learn and torch, their properties, and
their errors: search spaces and samplers, k-fold splits, nearest neighbours, weight averages,
cosine restarts, the update-to-weight ratio and the loss-curve diagnosis."""

import math

import numpy as np
import pytest

from lecture_lib import averaging, babysitting, crossval, knn, nets, optim
from lecture_lib import search as S


# --------------------------------------------------------------------------- search
def test_log_uniform_spreads_evenly_over_decades():
    values = S.log_uniform(1e-6, 1e-3, 30_000, rng=np.random.default_rng(0))
    assert values.min() >= 1e-6 and values.max() <= 1e-3
    counts = S.decade_counts(values, 1e-6, 1e-3)
    assert counts.sum() == 30_000 and np.all(np.abs(counts / 10_000 - 1) < 0.05)


def test_random_points_map_unit_numbers_like_parameter_sampler():
    from scipy.stats import loguniform, uniform
    from sklearn.model_selection import ParameterSampler

    space = S.SearchSpace([S.Dimension("lr", 1e-5, 1.0, log=True), S.Dimension("reg", 0.0, 0.5)])
    theirs = list(ParameterSampler({"lr": loguniform(1e-5, 1.0), "reg": uniform(0.0, 0.5)}, n_iter=20,
                                   random_state=3))
    unit = np.random.RandomState(3).uniform(size=(20, 2))  # the sampler's draws: trial by trial, names sorted
    ours = space.as_dicts(space.from_unit(unit))
    for a, b in zip(ours, theirs, strict=True):
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-12 * abs(b[k]) for k in a)


def test_grid_points_equal_parameter_grid():
    from sklearn.model_selection import ParameterGrid

    space = S.SearchSpace([S.Dimension("lr", 1e-4, 1.0, log=True), S.Dimension("reg", 1e-6, 1e-2, log=True)])
    axes = S.grid_axes(space, S.grid_shape(12, 2))
    theirs = list(ParameterGrid({"lr": list(axes[0]), "reg": list(axes[1])}))
    assert space.as_dicts(S.grid_points(space, 12)) == theirs and len(theirs) == 12


@pytest.mark.parametrize("n, shape", [(1, (1, 1)), (9, (3, 3)), (10, (3, 3)), (12, (3, 4)), (20, (4, 5)),
                                      (25, (5, 5))])
def test_grid_shape_is_the_most_square_grid(n, shape):
    assert S.grid_shape(n, 2) == shape


def test_grid_with_ends_is_the_notes_grid():
    space = S.SearchSpace([S.Dimension("lr", 1e-3, 1.0, log=True)])
    assert np.allclose(S.grid_axes(space, [4], include_ends=True)[0], [1e-3, 1e-2, 1e-1, 1.0])
    linear = S.SearchSpace([S.Dimension("lr", 1e-3, 1.0)])
    assert np.allclose(S.grid_axes(linear, [4], include_ends=True)[0], [0.001, 0.334, 0.667, 1.0])


def test_best_so_far_and_distinct_values():
    assert np.array_equal(S.best_so_far([0.1, 0.5, 0.3, 0.7]), [0.1, 0.5, 0.5, 0.7])
    grid = S.grid_points(S.UNIT_SQUARE, 9)
    assert S.distinct_values(grid[:, 0]) == 3 and S.distinct_values(grid[:, 1]) == 3


def test_narrowed_box_stays_in_the_unit_square():
    box = S.narrowed_box(np.array([0.05, 0.99]), 0.3)
    assert np.allclose(box[:, 1] - box[:, 0], 0.3) and box.min() >= 0 and box.max() <= 1


def test_peak_objective_and_surrogate():
    f = S.PeakObjective(centre=(0.3, 0.7), weights=(1.0, 0.1))
    assert f(np.array([[0.3, 0.7]]))[0] == pytest.approx(1.0)
    assert f(np.array([[0.3, 0.0]]))[0] > f(np.array([[0.0, 0.7]]))[0]  # the first one matters more
    axes = [np.linspace(0, 1, 5), np.linspace(0, 1, 3)]
    values = np.arange(15.0).reshape(5, 3)
    g = S.Surrogate(axes, values)
    nodes = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
    assert np.allclose(g(nodes), values.ravel()) and g.best == 14.0
    assert S.window(g, 0.25, 0.5)(np.array([[0.0, 0.0], [1.0, 0.0]])).tolist() == [3.0, 9.0]


def test_random_search_tries_every_value_of_the_important_axis():
    problems = [(S.PeakObjective(centre=(0.37, 0.5)), 1.0)]
    grid, random, distinct = S.compare_grid_and_random(problems, (4, 9, 16), np.random.default_rng(0))
    assert distinct.tolist() == [[4, 9, 16]]
    assert np.all(random >= 0) and np.all(grid >= 0)


@pytest.mark.parametrize("make, error, match", [
    (lambda: S.Dimension("lr", 0.0, 1.0, log=True), ValueError, r"lr: low=0 is not valid for a log-uniform range"),
    (lambda: S.Dimension("lr", 1e-3, -1.0, log=True), ValueError, r"lr: high=-1 is not valid"),
    (lambda: S.Dimension("lr", 1e-3, 1e-6), ValueError, r"low=0.001, high=1e-06 is not a range"),
    (lambda: S.Dimension("lr", "a", 1.0), TypeError, r"lr: low='a'"),
    (lambda: S.SearchSpace([]), ValueError, r"empty search space"),
    (lambda: S.SearchSpace("lr"), TypeError, r"expected a list of Dimension"),
    (lambda: S.SearchSpace([S.Dimension("a", 0, 1), S.Dimension("a", 0, 2)]), ValueError, "distinct names"),
    (lambda: S.log_uniform(-1e-3, 1e-6, rng=0), ValueError, "log-uniform range"),
    (lambda: S.log_uniform(1e-3, 1e-6, rng=0), ValueError, "is not a range"),
    (lambda: S.random_points(S.UNIT_SQUARE, 0, 0), ValueError, r"n=0"),
])
def test_search_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --------------------------------------------------------------------------- k-fold
@pytest.mark.parametrize("n, k", [(10, 5), (23, 5), (7, 7), (100, 3), (11, 2)])
def test_k_fold_equals_sklearn(n, k):
    from sklearn.model_selection import KFold

    ours = crossval.k_fold_indices(n, k)
    for (a, b), (c, d) in zip(KFold(k).split(np.zeros(n)), ours, strict=True):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    order = np.random.RandomState(5).permutation(n)
    for (a, b), (c, d) in zip(KFold(k, shuffle=True, random_state=5).split(np.zeros(n)),
                              crossval.k_fold_indices(n, k, order), strict=True):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    validated = np.concatenate([v for _, v in ours])
    assert np.array_equal(np.sort(validated), np.arange(n))  # each example validated exactly once
    assert all(np.intersect1d(t, v).size == 0 and t.size + v.size == n for t, v in ours)


@pytest.mark.parametrize("n, k, error, match", [
    (10, 1, ValueError, r"k=1 is not valid; expected an integer >= 2 and <= 10"),
    (10, 11, ValueError, r"k=11 is not valid; expected an integer >= 2 and <= 10"),
    (10, 2.5, TypeError, r"k=2.5 is not valid"),
    (1, 2, ValueError, r"n=1 is not valid"),
])
def test_k_fold_bad_input(n, k, error, match):
    with pytest.raises(error, match=match):
        crossval.k_fold_indices(n, k)


def test_k_fold_order_must_be_a_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        crossval.k_fold_indices(4, 2, order=np.array([0, 0, 1, 2]))


# --------------------------------------------------------------------------- nearest neighbours
def test_knn_equals_sklearn_on_the_digits():
    from sklearn.neighbors import KNeighborsClassifier

    from lecture_lib.experiments.practice import digits64

    d = digits64()
    X, y = np.asarray(d.X_train[:300]), np.asarray(d.y_train[:300])
    votes = knn.knn_votes(knn.squared_distances(d.X_val, X), y, [1, 3, 7], 10)
    for row, k in zip(votes, [1, 3, 7], strict=True):
        theirs = KNeighborsClassifier(k, algorithm="brute").fit(X, y).predict(d.X_val)
        assert np.array_equal(row, theirs)
        assert np.array_equal(knn.knn_predict(X, y, d.X_val, k), theirs)


# --------------------------------------------------------------------------- weight averages
@pytest.mark.parametrize("kind", averaging.AVERAGES)
def test_weight_average_equals_torch_averaged_model(kind):
    rng = np.random.default_rng(1)
    sequence = [{"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)} for _ in range(25)]
    ours = averaging.WeightAverage(kind, decay=0.9)
    for params in sequence:
        ours.update(params)
    theirs = averaging.torch_average(sequence, kind, decay=0.9)
    assert all(np.max(np.abs(ours.average[k] - theirs[k])) <= 1e-12 for k in theirs)
    if kind == "uniform":
        assert np.allclose(ours.average["W"], np.mean([p["W"] for p in sequence], axis=0), atol=1e-14)


def test_average_keeper_starts_late():
    net = nets.MLP([3, 2], rng=0)
    late = averaging.WeightAverage("uniform")
    keeper = averaging.AverageKeeper(net, {"late": late}, starts={"late": 3})
    for step in range(1, 6):
        net.params["W1"] += 1.0
        keeper(step)
    assert late.n == 3


def test_cosine_restarts_equal_torch():
    import torch

    schedule = averaging.cosine_restarts(0.2, cycle=7, lr_min=0.01)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    ref = averaging.torch_cosine_restarts(schedule, opt)
    theirs = []
    for _ in range(30):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        ref.step()
    assert max(abs(schedule(t) - lr) for t, lr in enumerate(theirs)) < 1e-12
    assert schedule(7) == pytest.approx(0.2) and schedule(6) < 0.03


def test_snapshot_taker_saves_each_cycle_end_and_drives_the_rate():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, 40)
    net = nets.MLP([5, 4, 3], rng=rng)
    opt = optim.SGD(lr=0.1)
    taker = averaging.SnapshotTaker(net, opt, averaging.cosine_restarts(0.1, 4), every=4)
    nets.train(net, X, y, optimizer=opt, epochs=3, batch_size=10, rng=rng, on_step=taker)
    assert len(taker.snapshots) == 3 and len(taker.lrs) == 12
    assert np.allclose(taker.lrs, [averaging.cosine_restarts(0.1, 4)(t) for t in range(12)])
    assert all(np.array_equal(taker.snapshots[-1][k], net.params[k]) for k in net.params)


def test_ensemble_curve_starts_at_the_mean_member():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 50)
    members = [averaging.softmax(rng.normal(size=(50, 4))) for _ in range(5)]
    acc, loss = averaging.ensemble_curve(members, y, orders=200, rng=rng)
    assert acc[0] == pytest.approx(np.mean([averaging.accuracy(m, y) for m in members]), abs=0.02)
    assert acc[-1] == pytest.approx(averaging.accuracy(averaging.average_predictions(members), y))
    assert loss[-1] < loss[0]  # the log-loss is convex: the average is never worse than the mean member


def test_ensemble_members_must_share_a_shape():
    with pytest.raises(ValueError, match=r"members\[1\] has shape \(5, 3\) but members\[0\] has shape \(5, 4\)"):
        averaging.average_predictions([np.ones((5, 4)) / 4, np.ones((5, 3)) / 3])
    with pytest.raises(ValueError, match="non-empty list"):
        averaging.average_predictions([])


def test_weight_average_bad_input():
    with pytest.raises(ValueError, match="kind='polyak' is not known"):
        averaging.WeightAverage("polyak")
    with pytest.raises(ValueError, match="decay=1.5"):
        averaging.WeightAverage("ema", decay=1.5)
    avg = averaging.WeightAverage()
    avg.update({"W": np.ones(2)})
    with pytest.raises(ValueError, match="has names"):
        avg.update({"V": np.ones(2)})


# --------------------------------------------------------------------------- babysitting
def test_on_step_is_called_after_every_step():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 2, 30)
    steps = []
    nets.train(nets.MLP([4, 2], rng=rng), X, y, optimizer=optim.SGD(lr=0.1), epochs=2, batch_size=8, rng=rng,
               on_step=steps.append)
    assert steps == list(range(1, 9))
    with pytest.raises(TypeError, match="on_step=3 is not valid"):
        nets.train(nets.MLP([4, 2], rng=rng), X, y, optimizer=optim.SGD(lr=0.1), epochs=1, batch_size=8,
                   rng=rng, on_step=3)


def test_update_ratio_of_plain_sgd_is_lr_times_gradient_over_weights():
    """The meter reads the parameter change; for plain SGD it is lr * dW, which the Trace gives."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(16, 6)), rng.integers(0, 3, 16)
    net = nets.MLP([6, 5, 3], rng=rng)
    _, _, trace = net.loss(X, y, trace=True)
    expected = [0.05 * np.linalg.norm(g) / np.linalg.norm(net.params[n])
                for n, g in zip(net.weight_names, trace.grad_W, strict=True)]
    meter = babysitting.UpdateRatioMeter(net)
    nets.train(net, X, y, optimizer=optim.SGD(lr=0.05), epochs=1, batch_size=16, rng=rng, on_step=meter)
    assert np.allclose(meter.ratios[0], expected, rtol=1e-10)


LOG10 = math.log(10)


def _diagnose(loss, first=LOG10, train=None, val=None, diverged=False):
    loss = np.asarray(loss, float)
    train = np.full(loss.size, 0.99) if train is None else np.asarray(train, float)
    val = np.full(loss.size, 0.97) if val is None else np.asarray(val, float)
    return babysitting.diagnose(loss, train, val, n_classes=10, initial_loss=first, diverged=diverged)


@pytest.mark.parametrize("loss, first, kw, label", [
    ([2.0, 1.0, np.nan], 2.9, {"diverged": True}, "too high"),
    ([2.3, 2.9, 3.5, 2.6], 2.3, {}, "too high"),                       # rose above the start
    ([1.9, 0.9, 1.8, 0.8, 1.7, 0.9], 2.9, {}, "too high"),              # bouncing
    ([2.6, 2.33, 2.31, 2.30, 2.31, 2.30], 2.9, {}, "too high"),         # fell to chance and died there
    ([2.30, 2.30, 2.30, 2.30], math.log(10), {}, "plateau"),
    ([2.30, 2.30, 2.29, 1.5, 0.6, 0.3], math.log(10), {}, "plateau"),
    ([2.8, 2.5, 2.3, 2.1, 1.9, 1.7], 2.9, {}, "too low"),
    ([2.0, 0.9, 0.4, 0.2, 0.1, 0.05], 2.9, {"train": [1.0] * 6, "val": [0.9] * 6}, "overfitting"),
    ([2.0, 0.9, 0.4, 0.2, 0.1, 0.05], 2.9, {}, "good"),
])
def test_diagnosis_names_each_problem(loss, first, kw, label):
    diagnosis = _diagnose(loss, first, **kw)
    assert diagnosis.label == label, str(diagnosis)
    assert diagnosis.reason and label in str(diagnosis)


def test_diagnosis_bad_input():
    with pytest.raises(ValueError, match=r"train_acc has shape \(2,\); expected \(3,\)"):
        babysitting.diagnose([2.0, 1.0, 0.5], [0.5, 0.6], [0.5, 0.6, 0.7], n_classes=10, initial_loss=2.3)
    with pytest.raises(TypeError, match="diverged=1 is not valid"):
        babysitting.diagnose([2.0], [0.5], [0.5], n_classes=10, initial_loss=2.3, diverged=1)
