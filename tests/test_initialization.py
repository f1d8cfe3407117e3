"""lecture_lib.init and lecture_lib.preprocessing: formulas, the activation-statistics pass, and
every verdict predicate of 02_initialization (lecture_lib.experiments.initialization) on its opposite
experiment."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lecture_lib import init as I
from lecture_lib import preprocessing as P
from lecture_lib.experiments import initialization as E

# A smaller copy of the notebook's experiment (10 layers; 200 units; 300 inputs): same physics.
SMALL = {"depth": 10, "width": 200, "n_samples": 300, "n_features": 200}


@pytest.fixture(scope="module")
def grid():
    return E.measure_activation_statistics(("small", "large", "lecun", "xavier", "he", "zeros"),
                                           ("tanh", "relu", "sigmoid", "linear"),
                                           weight_grads=[("small", "tanh"), ("xavier", "tanh")],
                                           rng=np.random.default_rng(0), **SMALL)


def stats(grid, init, activation):
    return grid.get(init, activation)


# --------------------------------------------------------------------------- formulas
@settings(deadline=None, max_examples=50)
@given(st.integers(1, 5000), st.integers(1, 5000), st.floats(0.0, 10.0))
def test_init_std_formulas(fan_in, fan_out, scale):
    assert math.isclose(I.init_std("lecun", fan_in, fan_out, scale), scale / math.sqrt(fan_in))
    assert math.isclose(I.init_std("xavier", fan_in, fan_out, scale) ** 2,
                        scale ** 2 * 2 / (fan_in + fan_out), abs_tol=1e-300)
    assert math.isclose(I.init_std("he", fan_in, fan_out, scale) ** 2,
                        2 * I.init_std("lecun", fan_in, fan_out, scale) ** 2, abs_tol=1e-300)
    assert I.init_std("small", fan_in, fan_out, scale) == pytest.approx(0.01 * scale)
    assert I.init_std("large", fan_in, fan_out, scale) == pytest.approx(scale)
    assert I.init_std("zeros", fan_in, fan_out, scale) == 0.0


def test_lecun_and_xavier_coincide_only_for_square_layers():
    assert I.init_std("lecun", 500, 500) == pytest.approx(I.init_std("xavier", 500, 500))
    assert I.init_std("lecun", 1000, 500) ** 2 / I.init_std("xavier", 1000, 500) ** 2 == pytest.approx(0.75)


def test_xavier_is_torch_xavier_normal_and_the_notes_code_is_lecun():
    torch = pytest.importorskip("torch")
    fan_in, fan_out = 600, 200
    W_torch = torch.nn.init.xavier_normal_(torch.empty(fan_out, fan_in),
                                           generator=torch.Generator().manual_seed(0))
    ours = I.xavier(fan_in, fan_out, np.random.default_rng(0))
    notes = np.random.default_rng(1).standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
    assert ours.shape == (fan_in, fan_out)
    assert float(W_torch.var()) == pytest.approx(ours.var(), rel=0.03)
    assert notes.var() == pytest.approx(I.lecun(fan_in, fan_out, np.random.default_rng(2)).var(), rel=0.03)
    assert abs(notes.var() / ours.var() - 1) > 0.2


def test_he_draws_have_the_he_variance():
    W = I.he(400, 300, np.random.default_rng(0))
    assert W.var() == pytest.approx(2 / 400, rel=0.02) and abs(W.mean()) < 1e-3


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, match", [
    (lambda: I.init_std("glorot", 3, 3), ValueError, "init='glorot' is not known"),
    (lambda: I.init_weights("he", 0, 3, rng=0), ValueError, "fan_in=0 is not valid"),
    (lambda: I.init_weights("he", 3, -2, rng=0), ValueError, "fan_out=-2 is not valid"),
    (lambda: I.init_std("he", 3, 3, scale=-1.0), ValueError, "scale=-1.0 is not valid"),
    (lambda: I.init_weights("he", 3, 3, rng=0, dtype=np.int64), TypeError, "dtype=.*floating"),
    (lambda: I.init_weights("he", 10**5, 10**5, rng=0), ValueError, "expected at most"),
    (lambda: I.activation_statistics("he", "swish", np.ones((2, 3)), [np.ones((3, 3))], rng=0), ValueError,
     "activation='swish' is not known"),
    (lambda: I.activation_statistics("he", "relu", np.ones((2, 3)), [np.ones((4, 3))], rng=0), ValueError,
     r"weights\[0\] has shape \(4, 3\)"),
    (lambda: I.activation_statistics("he", "relu", np.ones((2, 3)), [np.ones((3, 3))], scale=-0.1, rng=0),
     ValueError, "scale=-0.1 is not valid"),
    (lambda: I.standard_weights(10**6, 500, 500, rng=0), ValueError, "expected at most"),
    (lambda: E.measure_activation_statistics(depth=10**6, rng=0), ValueError, "expected at most"),
    (lambda: E.measure_activation_statistics(("he", "kaiming"), rng=0), ValueError, "'kaiming' is not known"),
    (lambda: E.measure_activation_statistics("lecun", rng=0), TypeError, "expected a list of names"),
    (lambda: P.fit_standardizer(np.ones((3, 2)), std_floor=0), ValueError, "std_floor=0.0 is not valid"),
    (lambda: P.fit_standardizer(np.ones((3, 2)), std_floor=-1), ValueError, "std_floor=-1.0 is not valid"),
    (lambda: P.zero_center(np.ones((3, 2)), np.zeros(3)), ValueError, r"mean has shape \(3,\); expected \(2,\)"),
    (lambda: P.whiten(np.ones((3, 2)), P.pca_fit(np.eye(2)), k=3), ValueError, r"k=3 is not valid"),
    (lambda: P.whiten(np.ones((3, 2)), P.pca_fit(np.eye(2)), eps=-1), ValueError, "eps=-1.0 is not valid"),
    (lambda: E.sign_locked_fraction(np.ones((3, 2)), np.ones(2)), ValueError, r"delta has shape \(2,\)"),
    (lambda: E.measure_preprocessing({"raw": np.ones((3, 2))}, np.zeros(3, int), lrs=[], target=0.1,
                                     max_steps=10), ValueError, "lrs is empty"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_explorer_rejects_unknown_init_and_out_of_range_depth():
    from lecture_lib.widgets.activation_stats import activation_stats_explorer

    with pytest.raises(ValueError, match="init='glorot' is not an option"):
        activation_stats_explorer(init="glorot")
    with pytest.raises(ValueError, match="depth=0 is out of range"):
        activation_stats_explorer(depth=0)


# --------------------------------------------------------------------------- the statistics pass
def test_forward_statistics_match_a_direct_computation():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 8))
    weights = [rng.standard_normal((8, 6)), rng.standard_normal((6, 6))]
    s = I.activation_statistics("xavier", "tanh", X, weights, rng=0, backward=False)
    h1 = np.tanh(X @ (weights[0] * math.sqrt(2 / 14)))
    h2 = np.tanh(h1 @ (weights[1] * math.sqrt(2 / 12)))
    np.testing.assert_allclose(s.stds, [h1.std(), h2.std()], rtol=1e-12)
    np.testing.assert_allclose(s.means, [h1.mean(), h2.mean()], rtol=1e-12)
    assert s.hist.shape == (2, 40) and s.grad_rms.size == 0
    np.testing.assert_allclose(s.hist.sum(axis=1), 1.0)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_backward_gradients_match_torch_autograd(activation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 7))
    weights = [rng.standard_normal((7, 5))] + [rng.standard_normal((5, 5)) for _ in range(2)]
    s = I.activation_statistics("he", activation, X, weights, rng=np.random.default_rng(9), weight_grads=True,
                                grad_rows=30)
    dout = np.random.default_rng(9).standard_normal((30, 5))   # the upstream gradient it drew
    fn = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[activation]
    h = torch.tensor(X)
    Ws, hs = [], []
    for W in weights:
        Wt = torch.tensor(W * I.init_std("he", W.shape[0], W.shape[1]), requires_grad=True)
        Ws.append(Wt)
        h = fn(h @ Wt)
        h.retain_grad()
        hs.append(h)
    (h * torch.tensor(dout)).sum().backward()
    rms = [float(t.grad.pow(2).mean().sqrt()) for t in hs]
    wrms = [float(W.grad.pow(2).mean().sqrt()) for W in Ws]
    np.testing.assert_allclose(s.grad_rms, rms, rtol=1e-10)
    np.testing.assert_allclose(s.weight_grad_rms, wrms, rtol=1e-10)


def test_grid_shares_draws_and_relabels_identical_runs(grid):
    lecun, xavier = stats(grid, "lecun", "tanh"), stats(grid, "xavier", "tanh")
    assert lecun.init == "lecun" and xavier.init == "xavier"
    np.testing.assert_array_equal(lecun.stds, xavier.stds)   # square layers: the same std
    assert not np.allclose(stats(grid, "he", "tanh").stds, lecun.stds)
    np.testing.assert_array_equal(stats(grid, "he", "tanh").grad_rms[-1:], stats(grid, "he", "linear").grad_rms[-1:])


def test_per_layer_factor_and_depth_ratio():
    assert I.per_layer_factor([1.0, 0.5, 0.25]) == pytest.approx(0.5)
    assert I.per_layer_factor([9.0, 1.0, 0.5, 0.25], first=1) == pytest.approx(0.5)
    assert I.per_layer_factor([1.0, 0.0]) == 0.0 and I.depth_ratio([2.0, 1.0]) == 0.5
    with pytest.raises(ValueError, match="at least"):
        I.per_layer_factor([1.0])
    with pytest.raises(ValueError, match="negative"):
        I.per_layer_factor([1.0, -1.0])


# --------------------------------------------------------------------------- predicates: both ways
def test_shrinks_by_holds_for_small_tanh_and_fails_on_he_relu(grid):
    predicted = 0.01 * math.sqrt(SMALL["width"])
    small, he = stats(grid, "small", "tanh"), stats(grid, "he", "relu")
    assert E.shrinks_by(small.stds, predicted) and E.vanished(small) and not E.vanished(he)
    assert E.shrinks_by(small.grad_rms[::-1], predicted)
    assert not E.shrinks_by(he.stds, predicted)
    assert not E.shrinks_by(he.grad_rms[::-1], predicted)


def test_decays_holds_for_xavier_relu_and_fails_on_he_relu(grid):
    assert E.decays(stats(grid, "xavier", "relu").stds) and E.decays(stats(grid, "lecun", "relu").stds)
    assert E.shrinks_by(stats(grid, "xavier", "relu").stds, 1 / math.sqrt(2))
    assert not E.decays(stats(grid, "he", "relu").stds)
    assert not E.shrinks_by(stats(grid, "he", "relu").stds, 1 / math.sqrt(2))


def test_stays_constant_holds_for_he_relu_and_fails_on_xavier_relu(grid):
    assert E.stays_constant(stats(grid, "he", "relu").stds)
    assert E.stays_constant(stats(grid, "he", "relu").grad_rms[::-1])
    assert not E.stays_constant(stats(grid, "xavier", "relu").stds)
    assert not E.stays_constant(stats(grid, "xavier", "tanh").stds)   # the "nuanced" drift of Xavier + tanh
    assert E.drifts_slowly(stats(grid, "xavier", "tanh")) and not E.drifts_slowly(stats(grid, "xavier", "relu"))
    assert E.keeps_scale_better(stats(grid, "xavier", "tanh"), stats(grid, "small", "tanh"))
    assert not E.keeps_scale_better(stats(grid, "small", "tanh"), stats(grid, "xavier", "tanh"))


def test_saturation_predicates_both_ways(grid):
    assert E.mostly_saturated(stats(grid, "large", "tanh")) and not E.hardly_saturated(stats(grid, "large", "tanh"))
    assert not E.mostly_saturated(stats(grid, "xavier", "tanh")) and E.hardly_saturated(stats(grid, "xavier", "tanh"))


def test_sigmoid_loses_the_gradient_where_tanh_keeps_it(grid):
    sig, tanh = stats(grid, "xavier", "sigmoid"), stats(grid, "xavier", "tanh")
    assert E.loses_gradient(sig) and not E.keeps_gradient(sig)
    assert E.keeps_gradient(tanh) and not E.loses_gradient(tanh)
    assert E.uncentred(sig) and not E.uncentred(tanh)


def test_small_weight_gradients_are_tiny_against_xavier(grid):
    small, xavier = stats(grid, "small", "tanh"), stats(grid, "xavier", "tanh")
    assert E.weight_gradients_tiny(small, xavier) and not E.weight_gradients_tiny(xavier, small)


def test_relu_keeps_half_the_second_moment_and_other_activations_do_not(grid):
    m = E.measure_relu_second_moment(2.3, 400_000, rng=np.random.default_rng(0))
    assert E.exactly_half(m) and E.variance_is_not_half(m)
    assert not E.exactly_half(dataclasses.replace(m, second_moment_ratio=m.variance_ratio))
    assert abs(I.relu_second_moment_ratio(2.3 * np.random.default_rng(1).standard_normal(10**5) + 1.0) - 0.5) > 0.1
    assert E.halves_second_moment(stats(grid, "he", "relu"))
    assert not E.halves_second_moment(stats(grid, "xavier", "tanh"))
    assert not E.halves_second_moment(stats(grid, "he", "linear"))


def test_dead_units_counted_per_unit(grid):
    h = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert I.dead_unit_fraction(h) == pytest.approx(1 / 3)
    he = stats(grid, "he", "relu")
    assert E.no_dead_units_at_first(he) and E.few_dead_units(he)
    rng = np.random.default_rng(0)
    positive = (1 + 0.1 * np.abs(rng.standard_normal((500, 300)))).astype(np.float32)
    shifted = I.activation_statistics("he", "relu", positive, I.standard_weights(1, 300, 300, rng), rng=rng)
    assert shifted.dead_units[0] > 0.3   # inputs far from centred: units with negative weight sums die
    assert not E.no_dead_units_at_first(shifted)
    assert E.nearly_dead_share(shifted, layer=0) >= shifted.dead_units[0]   # dead units are nearly dead too
    assert E.nearly_dead_share(he, layer=0) == 0.0                         # layer 1: each zero on 20-80%


def test_epochs_to_loss_finds_the_first_epoch_below_the_target():
    assert E.epochs_to_loss([2.3, 1.4, 0.9, 1.1, 0.5]) == 3
    assert E.epochs_to_loss([2.3, 2.3, 2.3]) is None
    assert E.epochs_to_loss([2.3, 1.4], target=1.5) == 2


def test_xavier_naming_predicates_both_ways():
    r = E.measure_xavier_naming(600, 200, rng=np.random.default_rng(0))
    assert E.same_variance(r.notes, r.lecun) and E.same_variance(r.torch, r.glorot)
    assert E.different_variance(r.notes, r.glorot) and not E.same_variance(r.notes, r.glorot)
    square = E.measure_xavier_naming(300, 300, rng=np.random.default_rng(0))   # the names agree here
    assert not E.different_variance(square.notes, square.glorot)


# --------------------------------------------------------------------------- training from an init
@pytest.fixture(scope="module")
def digits_norm():
    from lecture_lib.data import digits

    return digits(seed=0).standardized()


def test_equal_weights_stay_equal_and_random_ones_do_not(digits_norm):
    kw = {"hidden": (16,), "activation": "tanh", "lr": 0.1, "epochs": 2}
    zeros = E.measure_init_training(digits_norm, init="zeros", rng=np.random.default_rng(0), **kw)
    const = E.measure_init_training(digits_norm, init=lambda i, o, rng: np.full((i, o), 0.05),
                                    rng=np.random.default_rng(0), **kw)
    he = E.measure_init_training(digits_norm, init="he", rng=np.random.default_rng(0), **kw)
    assert E.first_weights_moved(zeros) == 0.0 and not E.weights_moved(zeros)
    assert E.weights_moved(const) and E.units_identical(const) and not E.units_differ(const)
    assert E.units_differ(he) and not E.units_identical(he)


def test_learns_and_stuck_at_chance_both_ways(digits_norm):
    kw = {"activation": "relu", "lr": 0.1, "epochs": 10, "init": "small"}
    shallow = E.measure_init_training(digits_norm, hidden=(64,), rng=np.random.default_rng(0), **kw)
    deep = E.measure_init_training(digits_norm, hidden=(64,) * 6, rng=np.random.default_rng(0), **kw)
    assert E.learns(shallow) and not E.stuck_at_chance(shallow)
    assert E.stuck_at_chance(deep) and not E.learns(deep)
    assert E.close_to(shallow, shallow) and not E.close_to(deep, shallow)


def test_training_is_reproducible_and_records_divergence(digits_norm):
    kw = {"hidden": (16, 16), "lr": 0.1, "epochs": 2}
    a = E.measure_init_training(digits_norm, rng=np.random.default_rng(3), **kw)
    b = E.measure_init_training(digits_norm, rng=np.random.default_rng(3), **kw)
    assert a.train_loss == b.train_loss and a.diverged_at is None
    bad = E.measure_init_training(digits_norm, hidden=(64,) * 6, init="large", activation="relu", lr=0.1, epochs=2,
                                  rng=np.random.default_rng(0))
    assert bad.diverged_at == 1


# --------------------------------------------------------------------------- preprocessing
def test_standardizer_uses_train_statistics_and_floors_constant_features():
    rng = np.random.default_rng(0)
    X_train = rng.normal(3.0, 2.0, size=(200, 4))
    X_train[:, 2] = 5.0
    mean, std = P.fit_standardizer(X_train)
    assert std[2] == P.STD_FLOOR
    Z = P.normalize(X_train, mean, std)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0)[[0, 1, 3]], 1, rtol=1e-12)
    X_val = rng.normal(3.0, 2.0, size=(50, 4))
    assert np.all(np.isfinite(P.normalize(X_val, mean, std)))
    assert np.abs(P.normalize(X_val, mean, std).mean(axis=0)[0]) > 0   # val is not re-centred
    pixels = (255 * rng.uniform(size=(20, 3))).astype(np.uint8)
    np.testing.assert_allclose(P.zero_center(pixels, pixels.mean(axis=0)).mean(axis=0), 0, atol=1e-12)


def test_pca_and_whitening():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 3)) @ np.array([[3.0, 1.0, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 0.2]])
    pca = P.pca_fit(X)
    np.testing.assert_allclose(pca.components.T @ pca.components, np.eye(3), atol=1e-12)
    assert np.all(np.diff(pca.variances) <= 0)
    Zp = P.pca_project(X, pca)
    cov = np.cov(Zp, rowvar=False, bias=True)
    np.testing.assert_allclose(cov, np.diag(pca.variances), atol=1e-10)
    W = P.whiten(X, pca, eps=0.0)
    assert E.decorrelated(np.cov(W, rowvar=False, bias=True)) and E.decorrelated(cov)
    assert not E.decorrelated(np.cov(X, rowvar=False, bias=True))
    assert P.pca_project(X, pca, k=2).shape == (500, 2) and 0 < pca.explained(1) < 1
    assert pca.components_for(0.999) == 3 and pca.components_for(pca.explained(1)) == 1


def test_sign_lock_and_coupling_both_ways():
    rng = np.random.default_rng(2)
    positive = rng.uniform(0, 1, size=(400, 10))
    y = rng.integers(0, 3, 400)
    cmp = E.measure_preprocessing({"positive": positive, "centred": positive - positive.mean(axis=0),
                                   "gaussian": rng.standard_normal((400, 10))}, y, lrs=[1.0], target=1.0,
                                  max_steps=5)
    pos, cen, gauss = cmp.versions.values()
    assert E.signs_locked(pos) and not E.signs_unlocked(pos)
    assert E.signs_unlocked(cen) and not E.signs_locked(cen)
    assert E.still_coupled(pos) and E.coupling_halved(pos, cen) and not E.coupling_halved(cen, pos)
    assert not E.still_coupled(gauss)


def test_speeds_up_holds_for_normalized_digits_and_fails_on_the_opposite(digits_norm):
    from lecture_lib.data import digits

    raw = digits(seed=0)
    cmp = E.measure_preprocessing({"raw": raw.X_train, "normalized": digits_norm.X_train}, raw.y_train,
                                  lrs=10.0 ** np.arange(-1, 2.6, 0.5), target=0.1, max_steps=400)
    slow, fast = cmp.versions["raw"], cmp.versions["normalized"]
    assert E.speeds_up(slow, fast)
    assert not E.speeds_up(fast, slow)     # the opposite comparison
    assert not E.speeds_up(slow, slow)     # no speed-up against itself
    assert slow.condition > fast.condition


def test_the_notes_lines_are_lecun_and_he():
    from lecture_lib.notes_code.initialization import notes_he, notes_xavier

    rng = np.random.default_rng(0)
    for line, init in ((notes_xavier, "lecun"), (notes_he, "he")):
        W = line(400, 300, rng)
        assert W.shape == (400, 300)
        assert W.var() == pytest.approx(I.init_std(init, 400, 300) ** 2, rel=0.02)
    assert notes_xavier(400, 300, rng).var() != pytest.approx(I.init_std("xavier", 400, 300) ** 2, rel=0.1)
