"""lecture_lib.init and lecture_lib.preprocessing: formulas, the activation-statistics experiment,
the small NumPy net, and every verdict predicate of 02_initialization on its opposite experiment."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lecture_lib import init as I
from lecture_lib import preprocessing as P
from lecture_lib.gradcheck import numerical_gradient, rel_error

# A smaller copy of the notebook's experiment (10 layers; 200 units; 300 inputs): same physics.
SMALL = {"depth": 10, "width": 200, "n_samples": 300, "n_features": 200, "seed": 0}


@pytest.fixture(scope="module")
def grid():
    return I.statistics_grid(("small", "large", "lecun", "xavier", "he"), ("tanh", "relu", "sigmoid"),
                             weight_grads=[("small", "tanh"), ("xavier", "tanh")], **SMALL)


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
@pytest.mark.parametrize("call, match", [
    (lambda: I.init_std("glorot", 3, 3), "init='glorot' is not known"),
    (lambda: I.init_weights("he", 0, 3), "fan_in=0 is not valid"),
    (lambda: I.init_weights("he", 3, -2), "fan_out=-2 is not valid"),
    (lambda: I.init_std("he", 3, 3, scale=-1.0), "scale=-1.0 is not valid"),
    (lambda: I.activation_statistics("he", "swish"), "activation='swish' is not known"),
    (lambda: I.activation_statistics("he", "relu", depth=0), "depth=0 is not valid"),
    (lambda: I.activation_statistics("he", "relu", width=-5), "width=-5 is not valid"),
    (lambda: I.activation_statistics("he", "relu", scale=-0.1), "scale=-0.1 is not valid"),
    (lambda: I.statistics_grid(("he", "kaiming")), "init='kaiming' is not known"),
    (lambda: I.train_mlp(np.ones((4, 2)), np.zeros(4, int), np.ones((2, 2)), np.zeros(2, int), lr=0),
     "lr=0 is not valid"),
    (lambda: I.mlp_init([3]), "expected at least input and output sizes"),
    (lambda: P.fit_standardizer(np.ones((3, 2)), std_floor=0), "std_floor=0 is not valid"),
    (lambda: P.fit_standardizer(np.ones((3, 2)), std_floor=-1), "std_floor=-1 is not valid"),
    (lambda: P.zero_center(np.ones((3, 2)), np.zeros(3)), r"mean has shape \(3,\); expected \(2,\)"),
    (lambda: P.whiten(np.ones((3, 2)), P.pca_fit(np.eye(2)), k=3), r"k=3 is not valid"),
    (lambda: P.whiten(np.ones((3, 2)), P.pca_fit(np.eye(2)), eps=-1), "eps=-1 is not valid"),
    (lambda: P.sign_locked_fraction(np.ones((3, 2)), np.ones(2)), r"delta has shape \(2,\)"),
    (lambda: P.tuned_steps_to_loss(np.ones((3, 2)), np.zeros(3, int), [], 0.1), "lrs is empty"),
])
def test_bad_input_is_a_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_explorer_rejects_unknown_init_and_out_of_range_depth():
    from lecture_lib.widgets.activation_stats import activation_stats_explorer

    with pytest.raises(ValueError, match="init='glorot' is not an option"):
        activation_stats_explorer(init="glorot")
    with pytest.raises(ValueError, match="depth=0 is out of range"):
        activation_stats_explorer(depth=0)


# --------------------------------------------------------------------------- the experiment
def test_forward_statistics_match_a_direct_computation():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 8))
    weights = [rng.standard_normal((8, 6)), rng.standard_normal((6, 6))]
    stats = I.activation_statistics("xavier", "tanh", depth=2, width=6, n_samples=50, n_features=8,
                                    X=X, weights=weights, dtype=np.float64, backward=False)
    h1 = np.tanh(X @ (weights[0] * math.sqrt(2 / 14)))
    h2 = np.tanh(h1 @ (weights[1] * math.sqrt(2 / 12)))
    np.testing.assert_allclose(stats.stds, [h1.std(), h2.std()], rtol=1e-12)
    np.testing.assert_allclose(stats.means, [h1.mean(), h2.mean()], rtol=1e-12)
    assert stats.hist.shape == (2, 40)
    np.testing.assert_allclose(stats.hist.sum(axis=1), 1.0)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_backward_gradients_match_torch_autograd(activation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 7))
    weights = [rng.standard_normal((7, 5))] + [rng.standard_normal((5, 5)) for _ in range(2)]
    stats = I.activation_statistics("he", activation, depth=3, width=5, n_samples=30, n_features=7,
                                    X=X, weights=weights, dtype=np.float64, seed=9,
                                    weight_grads=True, grad_rows=30)
    dout = np.random.default_rng(9).standard_normal((30, 5))   # the first draw after X is given
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
    np.testing.assert_allclose(stats.grad_rms, rms, rtol=1e-10)
    np.testing.assert_allclose(stats.weight_grad_rms, wrms, rtol=1e-10)


def test_grid_shares_draws_and_relabels_identical_runs(grid):
    lecun, xavier = grid["lecun", "tanh"], grid["xavier", "tanh"]
    assert lecun.init == "lecun" and xavier.init == "xavier"
    np.testing.assert_array_equal(lecun.stds, xavier.stds)   # square layers: the same std
    assert not np.allclose(grid["he", "tanh"].stds, lecun.stds)


# --------------------------------------------------------------------------- predicates: both ways
def test_shrinks_by_holds_for_small_tanh_and_fails_on_he_relu(grid):
    predicted = 0.01 * math.sqrt(SMALL["width"])
    assert I.shrinks_by(grid["small", "tanh"].stds, predicted)
    assert grid["small", "tanh"].stds[-1] < 1e-5 < grid["he", "relu"].stds[-1]
    assert I.shrinks_by(grid["small", "tanh"].grad_rms[::-1], predicted)
    assert not I.shrinks_by(grid["he", "relu"].stds, predicted)
    assert not I.shrinks_by(grid["he", "relu"].grad_rms[::-1], predicted)


def test_decays_holds_for_xavier_relu_and_fails_on_he_relu(grid):
    assert I.decays(grid["xavier", "relu"].stds) and I.decays(grid["lecun", "relu"].stds)
    assert I.shrinks_by(grid["xavier", "relu"].stds, 1 / math.sqrt(2))
    assert not I.decays(grid["he", "relu"].stds)
    assert not I.shrinks_by(grid["he", "relu"].stds, 1 / math.sqrt(2))


def test_stays_constant_holds_for_he_relu_and_fails_on_xavier_relu(grid):
    assert I.stays_constant(grid["he", "relu"].stds)
    assert I.stays_constant(grid["he", "relu"].grad_rms[::-1])
    assert not I.stays_constant(grid["xavier", "relu"].stds)
    assert not I.stays_constant(grid["xavier", "tanh"].stds)   # the "nuanced" drift of Xavier + tanh


def test_mostly_saturated_holds_for_large_tanh_and_fails_on_xavier_tanh(grid):
    assert I.mostly_saturated(grid["large", "tanh"])
    assert not I.mostly_saturated(grid["xavier", "tanh"])
    assert grid["xavier", "tanh"].saturated[-1] < 0.01 < grid["large", "tanh"].saturated[-1]


def test_sigmoid_loses_the_gradient_where_tanh_keeps_it(grid):
    back_s = I.per_layer_factor(grid["xavier", "sigmoid"].grad_rms[::-1], first=0)
    back_t = I.per_layer_factor(grid["xavier", "tanh"].grad_rms[::-1], first=0)
    assert back_s < 0.3 < 0.85 < back_t


def test_small_weight_gradients_are_tiny_against_xavier(grid):
    assert np.all(grid["small", "tanh"].weight_grad_rms < 1e-3 * grid["xavier", "tanh"].weight_grad_rms)
    assert not np.all(grid["xavier", "tanh"].weight_grad_rms < 1e-3 * grid["small", "tanh"].weight_grad_rms)


def test_relu_keeps_half_the_second_moment_and_other_activations_do_not(grid):
    rng = np.random.default_rng(0)
    z = 2.3 * rng.standard_normal(400_000)
    assert I.relu_second_moment_ratio(z) == pytest.approx(0.5, abs=0.005)
    assert abs(I.relu_second_moment_ratio(z + 1.0) - 0.5) > 0.1           # not symmetric: no 1/2
    assert I.halves_second_moment(grid["he", "relu"].second_moment_ratio)
    assert not I.halves_second_moment(grid["xavier", "tanh"].second_moment_ratio)
    linear = I.activation_statistics("he", "linear", backward=False, **SMALL)
    assert not I.halves_second_moment(linear.second_moment_ratio)


def test_dead_units_counted_per_unit():
    h = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert I.dead_unit_fraction(h) == pytest.approx(1 / 3)
    stats = I.activation_statistics("he", "relu", depth=1, width=300, n_samples=500, n_features=300)
    assert stats.dead_units[0] == 0.0
    positive = 1 + 0.1 * np.abs(np.random.default_rng(0).standard_normal((500, 300)))
    shifted = I.activation_statistics("he", "relu", depth=1, width=300, n_samples=500, n_features=300,
                                      X=positive.astype(np.float32))
    assert shifted.dead_units[0] > 0.3   # inputs far from centred: units with negative weight sums die


# --------------------------------------------------------------------------- the NumPy net
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_mlp_gradients_pass_a_gradient_check(activation):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 4)) + 0.1
    y = np.array([0, 1, 2, 1, 0, 2])
    params = I.mlp_init([4, 5, 5, 3], "xavier", rng)
    _, grads = I.mlp_loss(params, X, y, activation)
    for p, g in zip(params, grads, strict=True):
        num = numerical_gradient(lambda _: I.mlp_loss(params, X, y, activation)[0], p)
        assert rel_error(num, g) < 1e-7


@pytest.fixture(scope="module")
def digits_norm():
    from lecture_lib.data import digits

    return digits(seed=0).standardized()


def test_equal_weights_stay_equal_and_random_ones_do_not(digits_norm):
    d = digits_norm
    kw = {"hidden": (16,), "activation": "tanh", "lr": 0.1, "epochs": 2, "seed": 0}
    zeros = I.train_mlp(d.X_train, d.y_train, d.X_val, d.y_val, init="zeros", **kw)
    const = I.train_mlp(d.X_train, d.y_train, d.X_val, d.y_val,
                        init=lambda i, o, rng: np.full((i, o), 0.05), **kw)
    he = I.train_mlp(d.X_train, d.y_train, d.X_val, d.y_val, init="he", **kw)
    assert np.all(zeros.params[0] == 0)
    assert np.abs(const.params[0] - const.initial[0]).max() > 1e-3 and I.unit_spread(const.params[0]) < 1e-9
    assert I.unit_spread(he.params[0]) > 0.1


def test_learns_and_stuck_at_chance_both_ways(digits_norm):
    d = digits_norm
    kw = {"activation": "relu", "lr": 0.1, "epochs": 10, "seed": 0}
    shallow = I.train_mlp(d.X_train, d.y_train, d.X_val, d.y_val, hidden=(64,), init="small", **kw)
    deep = I.train_mlp(d.X_train, d.y_train, d.X_val, d.y_val, hidden=(64,) * 6, init="small", **kw)
    assert I.learns(shallow) and not I.stuck_at_chance(shallow)
    assert I.stuck_at_chance(deep) and not I.learns(deep)


def test_train_mlp_is_reproducible_and_records_divergence(digits_norm):
    d = digits_norm
    kw = {"hidden": (16, 16), "lr": 0.1, "epochs": 2, "seed": 3}
    a = I.train_mlp(d.X_train, d.y_train, d.X_val, d.y_val, **kw)
    b = I.train_mlp(d.X_train, d.y_train, d.X_val, d.y_val, **kw)
    assert a.train_loss == b.train_loss and a.diverged_at is None
    bad = I.train_mlp(d.X_train, d.y_train, d.X_val, d.y_val, hidden=(64,) * 6, init="large",
                      activation="relu", lr=0.1, epochs=2)
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
    np.testing.assert_allclose(np.cov(W, rowvar=False, bias=True), np.eye(3), atol=1e-10)
    assert P.pca_project(X, pca, k=2).shape == (500, 2) and 0 < pca.explained(1) < 1


def test_sign_lock_and_coupling_both_ways():
    rng = np.random.default_rng(2)
    positive = rng.uniform(0, 1, size=(400, 10))
    delta = rng.standard_normal(400)
    assert P.sign_locked_fraction(positive, delta) == 1.0
    assert P.sign_locked_fraction(positive - positive.mean(axis=0), delta) < 0.05
    assert P.still_coupled(positive)                          # shared positive mean: coupled
    assert not P.still_coupled(rng.standard_normal((5000, 10)))  # independent, centred: not


def test_speeds_up_holds_for_normalized_digits_and_fails_on_the_opposite(digits_norm):
    from lecture_lib.data import digits

    raw = digits(seed=0)
    X, y = raw.X_train, raw.y_train
    lrs = 10.0 ** np.arange(-1, 2.6, 0.5)
    slow = P.tuned_steps_to_loss(X, y, lrs, 0.1, 400)
    fast = P.tuned_steps_to_loss(digits_norm.X_train, y, lrs, 0.1, 400)
    assert P.speeds_up(slow, fast)
    assert not P.speeds_up(fast, slow)     # the opposite comparison
    assert not P.speeds_up(slow, slow)     # no speed-up against itself


def test_steps_to_loss_reports_divergence_as_none():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(100, 5))
    y = rng.integers(0, 3, 100)
    assert P.steps_to_loss(X, y, lr=1e6, target=0.01, max_steps=20) is None
