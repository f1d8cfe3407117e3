"""lecture_lib.optim against torch.optim (float64, 1e-12 over 100 steps), the schedules against
torch.optim.lr_scheduler, bad input, and the landscapes' analytic gradients."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lecture_lib import landscapes as L
from lecture_lib import optim, schedules
from lecture_lib.gradcheck import numerical_gradient, rel_error

A = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]])


def gradients(params):
    """A non-quadratic loss, so the trajectory depends on every detail of the update."""
    x, W = params
    return [A @ x + 0.3 * np.sin(x), 2 * W ** 3 - W + 0.1]


CONFIGS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.2}),
    ("Adagrad", {"lr": 0.3, "eps": 1e-6}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True, "weight_decay": 0.01, "eps": 1e-6}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1, "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "betas": (0.0, 0.9), "amsgrad": True, "weight_decay": 0.01}),
]


def trajectories(name, kwargs, steps=100, seed=0, lrs=None):
    rng = np.random.default_rng(seed)
    p0 = [rng.standard_normal(3), rng.standard_normal((2, 4))]
    ours = [p.copy() for p in p0]
    opt = getattr(optim, name)(**kwargs)
    theirs = [torch.tensor(p, dtype=torch.float64) for p in p0]
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    worst = 0.0
    for t in range(steps):
        if lrs is not None:
            opt.lr = lrs[t]
            for group in topt.param_groups:
                group["lr"] = lrs[t]
        opt.step(ours, gradients(ours))
        for p, g in zip(theirs, gradients([p.numpy() for p in theirs]), strict=True):
            p.grad = torch.from_numpy(g)
        topt.step()
        worst = max(worst, max(float(np.max(np.abs(a - b.numpy()))) for a, b in zip(ours, theirs, strict=True)))
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, p0, strict=True))
    return worst, moved


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_matches_torch_optim_to_1e12_over_100_steps(name, kwargs):
    worst, moved = trajectories(name, kwargs)
    assert moved > 1e-3  # the parameters really moved
    assert worst < 1e-12


@pytest.mark.parametrize("name,kwargs", [CONFIGS[1], CONFIGS[9], CONFIGS[13]])
def test_matches_torch_when_lr_is_changed_between_steps(name, kwargs):
    lrs = [kwargs.get("lr", 0.01) * 0.5 ** (t // 20) for t in range(100)]
    worst, _ = trajectories(name, kwargs, lrs=lrs)
    assert worst < 1e-12


def test_a_wrong_update_would_be_caught():
    # the parity test can fail: torch's Adam against our RMSprop differs grossly
    rng = np.random.default_rng(0)
    p = [rng.standard_normal(3)]
    q = [p[0].copy()]
    a, b = optim.Adam(lr=0.01), optim.RMSprop(lr=0.01)
    for _ in range(10):
        a.step(p, [A @ p[0]])
        b.step(q, [A @ q[0]])
    assert np.max(np.abs(p[0] - q[0])) > 1e-4


def test_defaults_and_keywords_are_torchs():
    import inspect

    for name in ("SGD", "Adagrad", "RMSprop", "Adam"):
        ours = inspect.signature(getattr(optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        for key, par in ours.items():
            assert key in theirs, (name, key)
            default = theirs[key].default
            assert par.default == default, (name, key, par.default, default)


def test_state_is_kept_per_list_position_and_lr_is_settable():
    opt = optim.SGD(lr=0.1, momentum=0.9)
    a, b = np.ones(2), np.ones(3)
    opt.step([a, b], [np.ones(2), 2 * np.ones(3)])
    assert set(opt.state) == {0, 1}
    np.testing.assert_allclose(opt.state[1]["momentum_buffer"], 2.0)
    opt.lr = 0.0
    before = a.copy()
    opt.step([a, b], [np.ones(2), np.ones(3)])
    np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize("make,argname", [
    (lambda: optim.SGD(lr=-0.1), "lr"),
    (lambda: optim.Adam(lr=-1e-3), "lr"),
    (lambda: optim.Adam(betas=(1.0, 0.999)), "betas[0]"),
    (lambda: optim.Adam(betas=(0.9, -0.1)), "betas[1]"),
    (lambda: optim.Adam(betas=(0.9, 1.5)), "betas[1]"),
    (lambda: optim.Adam(betas=(0.9,)), "betas"),
    (lambda: optim.SGD(momentum=-0.5), "momentum"),
    (lambda: optim.SGD(nesterov=True), "nesterov"),
    (lambda: optim.SGD(lr=float("nan")), "lr=nan"),
    (lambda: optim.RMSprop(alpha=1.5), "alpha"),
    (lambda: optim.Adagrad(eps=-1), "eps"),
    (lambda: optim.Adagrad(lr_decay=-1), "lr_decay"),
    (lambda: optim.RMSprop(weight_decay=-1), "weight_decay"),
])
def test_bad_hyperparameters_name_the_argument(make, argname):
    with pytest.raises(ValueError, match=argname.replace("[", r"\[").replace("]", r"\]")):
        make()


def test_bad_lists_are_rejected():
    opt = optim.Adam()
    with pytest.raises(ValueError, match="params has 2 arrays but grads has 1"):
        opt.step([np.zeros(2), np.zeros(3)], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(3,\)"):
        opt.step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(TypeError, match="list of arrays"):
        opt.step(np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match=r"params\[0\] has dtype int64"):
        opt.step([np.zeros(2, dtype=int)], [np.zeros(2)])
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1.0


@settings(deadline=None, max_examples=25)
@given(lr=st.floats(1e-4, 0.5), mu=st.floats(0.0, 0.95))
def test_notes_and_torch_momentum_agree_at_constant_lr(lr, mu):
    """The notes' v = mu v - lr g; x += v is optim.SGD(momentum=mu) at a constant lr."""
    land = L.taco(10, 20)
    x, v = np.array([1.0, -1.0]), 0.0
    path = [x]
    for _ in range(30):
        v = mu * v - lr * land.exact_grad(x)
        x = x + v
        path.append(x)
    torch_form = L.trajectory(optim.SGD(lr=lr, momentum=mu), land, (1.0, -1.0), 30)
    assert np.max(np.abs(np.array(path) - torch_form)) < 1e-12


# ------------------------------------------------------------------------------ schedules

@pytest.mark.parametrize("sched", [
    schedules.exponential(0.5, k=0.1),
    schedules.step_decay(0.5, step_size=4, gamma=0.5),
    schedules.inverse_time(0.5, k=0.3),
    schedules.cosine(0.5, total=25, lr_min=0.01),
    schedules.warmup_cosine(0.5, warmup=5, total=25),
    schedules.constant(0.5),
])
def test_schedules_equal_torch_lr_scheduler(sched):
    p = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([p], lr=0.5)
    ref = schedules.torch_equivalent(sched, topt)
    ours = optim.SGD(lr=1.0)
    driver = schedules.Scheduler(ours, sched)
    for _ in range(25):
        assert abs(ours.lr - topt.param_groups[0]["lr"]) < 1e-12
        topt.step()
        ref.step()
        driver.step()


def test_schedule_formulas():
    assert schedules.exponential(2.0, 0.5)(3) == pytest.approx(2.0 * math.exp(-1.5), abs=1e-15)
    assert schedules.inverse_time(2.0, 0.5)(4) == pytest.approx(2.0 / 3.0)
    assert [schedules.step_decay(1.0, 2)(t) for t in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    w = schedules.warmup_cosine(1.0, warmup=4, total=10)
    assert [w(t) for t in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert w(10) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("make,argname", [
    (lambda: schedules.exponential(-1, 0.1), "lr0"),
    (lambda: schedules.exponential(1, -0.1), "k"),
    (lambda: schedules.step_decay(1, 0), "step_size"),
    (lambda: schedules.warmup_cosine(1, 10, 5), "warmup"),
    (lambda: schedules.cosine(1, 0), "total"),
    (lambda: schedules.constant(1)(-1), "t"),
    ])
def test_bad_schedule_input(make, argname):
    with pytest.raises(ValueError, match=argname):
        make()
    with pytest.raises(TypeError, match="optimizer"):
        schedules.Scheduler(object(), schedules.constant(1))


# ------------------------------------------------------------------------------ landscapes

LANDS = [L.taco(30, 25), L.taco(1), L.saddle(), L.rosenbrock(), L.sharp_wide()]


@pytest.mark.parametrize("land", LANDS, ids=lambda land: repr(land))
def test_landscape_gradient_and_hessian_are_analytic(land):
    rng = np.random.default_rng(1)
    for _ in range(5):
        x0, x1, y0, y1 = land.extent
        p = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        num = numerical_gradient(lambda q: float(land.loss(q)), p.copy(), h=1e-6)
        assert rel_error(land.exact_grad(p), num) < 1e-7
        num_h = np.stack([numerical_gradient(lambda q, i=i: float(land.exact_grad(q)[i]), p.copy(), h=1e-6)
                          for i in range(2)])
        assert rel_error(land.hessian(p), num_h) < 1e-6


@pytest.mark.parametrize("land", LANDS, ids=lambda land: repr(land))
def test_minima_are_critical_points(land):
    for m in land.minima:
        assert np.max(np.abs(land.exact_grad(m))) < 1e-9


def test_taco_condition_number_and_rotation():
    assert L.taco(100).condition_number() == pytest.approx(100)
    H = L.taco(100, 45).hessian(np.zeros(2))
    assert H[0, 1] != 0 and np.linalg.cond(H) == pytest.approx(100)
    p = np.array([[0.3, -0.2], [1.0, 1.0]])
    assert L.taco(5, 30).exact_grad(p).shape == (2, 2)


def test_noisy_variants_add_noise_with_the_right_scale():
    for land in (L.taco(10), L.saddle(), L.rosenbrock(), L.sharp_wide()):
        noisy = land.noisy(0.5, rng=np.random.default_rng(3))
        p = np.tile(np.array([0.3, 0.2]), (4000, 1))
        diff = noisy.grad(p) - land.exact_grad(p)
        assert abs(diff.std() - 0.5) < 0.03
        assert np.array_equal(land.grad(p), land.exact_grad(p))


def test_bad_landscape_input():
    with pytest.raises(ValueError, match="kappa"):
        L.taco(0.5)
    with pytest.raises(ValueError, match="sigma"):
        L.saddle().noisy(-1, rng=0)
    with pytest.raises(ValueError, match="name"):
        L.make("bowl")
    with pytest.raises(ValueError, match="last axis"):
        L.saddle().exact_grad(np.zeros(3))
