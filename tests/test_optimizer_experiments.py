"""Every threshold that notebook 04 asserts holds on its experiment and fails on the opposite one."""

import dataclasses

import numpy as np
import pytest

from lecture_lib import landscapes as L
from lecture_lib import optim, schedules
from lecture_lib.experiments import optimizers as E
from lecture_lib.notes_code import optimizers as notes


def rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- updates written as functions
def sgd(x, grad, state, lr):
    return x - lr * grad(x), state


def momentum(x, grad, v, lr, rho):
    v = rho * v - lr * grad(x)
    return x + v, v


def momentum_torch(x, grad, b, lr, rho):
    b = rho * b + grad(x)
    return x - lr * b, b


def nesterov_lookahead(x, grad, v, lr, rho):
    v = rho * v - lr * grad(x + rho * v)
    return x + v, v


def nesterov(x_t, grad, v, lr, rho):
    v_old, v = v, rho * v - lr * grad(x_t)
    return x_t - rho * v_old + (1 + rho) * v, v


def test_iterate_runs_an_update_and_takes_a_schedule():
    land = L.taco(10)
    path = E.iterate(sgd, land.exact_grad, (1.0, 1.0), 20, None, lr=0.5)
    assert path.shape == (21, 2)
    assert E.paths_agree(path, L.trajectory(optim.SGD(lr=0.5), land, (1.0, 1.0), 20))
    decayed = [0.5 * 0.9 ** t for t in range(20)]
    assert E.paths_differ(E.iterate(sgd, land.exact_grad, (1.0, 1.0), 20, None, lr=decayed), path)
    with pytest.raises(ValueError, match="lr has shape"):
        E.iterate(sgd, land.exact_grad, (1.0, 1.0), 20, None, lr=[0.1, 0.2])


def test_notes_and_torch_momentum_agree_at_constant_lr_and_differ_under_a_schedule():
    grad = L.taco(20, 30).exact_grad
    lrs = [0.1 * 0.5 ** (t // 10) for t in range(60)]
    a, b = (E.iterate(s, grad, [1.5, -1.0], 60, 0.0, lr=0.1, rho=0.9) for s in (momentum, momentum_torch))
    assert E.paths_agree(a, b)
    a, b = (E.iterate(s, grad, [1.5, -1.0], 60, 0.0, lr=lrs, rho=0.9) for s in (momentum, momentum_torch))
    assert E.paths_differ(a, b) and not E.paths_agree(a, b)


# --------------------------------------------------------------------------- 1 · mini-batches
def test_duplicates_equal_copies_hold_uneven_copies_fail():
    assert E.duplicates_hold(E.measure_duplicates(copies_each=20, n_unique=10, rng=rng()))
    assert not E.duplicates_hold(E.measure_duplicates(counts=[1, 30, 2, 9, 1, 4, 7, 1, 20, 3], rng=rng()))


def test_minibatch_noise_falls_for_random_batches_not_for_copies():
    assert E.minibatch_noise_holds(E.measure_minibatch_noise(draws=40, rng=rng()))
    assert not E.minibatch_noise_holds(E.measure_minibatch_noise(draws=40, rng=rng(), one_example=True))


def test_powers_of_two_margin_fails_on_a_machine_that_favours_them():
    sizes = (31, 32, 33, 63, 64, 65)
    flat = E.powers_of_two_summary(sizes, [1.0] * 6)
    favoured = E.powers_of_two_summary(sizes, [1.0, 0.2, 1.0, 1.0, 0.25, 1.0])
    assert E.powers_of_two_within_margin(flat)
    assert not E.powers_of_two_within_margin(favoured)
    real = E.measure_batch_timing(sizes=(31, 32, 33), repeats=2, rng=rng())
    assert set(real.ratios) == {32} and real.ratios[32] > 0
    slightly = E.powers_of_two_summary(sizes, [1.0, 0.95, 1.0, 1.0, 1.05, 1.0])
    assert E.powers_of_two_unremarkable(flat) and E.powers_of_two_unremarkable(slightly)
    assert not E.powers_of_two_unremarkable(favoured)


def test_the_condition_number_check_needs_rounding_agreement():
    assert E.condition_number_is(50.0 * (1 + 1e-12), 50.0)
    assert not E.condition_number_is(50.0 * (1 + 1e-6), 50.0)


# --------------------------------------------------------------------------- 2 · problems with SGD
def test_jitter_holds_on_a_taco_not_on_a_round_bowl_or_small_lr():
    assert E.jitter_holds(E.measure_jitter(kappa=50, lr=1.5))
    assert not E.jitter_holds(E.measure_jitter(kappa=1, lr=1.5))
    assert not E.jitter_holds(E.measure_jitter(kappa=50, lr=0.5))


def test_condition_scaling_slopes_separate_gd_from_heavy_ball():
    m = E.measure_condition_scaling(kappas=(10, 30, 100))
    assert E.gd_steps_grow_like_kappa(m) and E.momentum_steps_grow_like_sqrt_kappa(m)
    swapped = dataclasses.replace(m, gd_slope=m.hb_slope, hb_slope=m.gd_slope)
    assert not E.gd_steps_grow_like_kappa(swapped) and not E.momentum_steps_grow_like_sqrt_kappa(swapped)


def test_condition_growth_fails_for_well_sampled_least_squares():
    dims = (2, 8, 32)
    assert E.condition_grows(E.measure_condition_vs_dimension(dims, 6, "wishart", rng=rng()))
    assert not E.condition_grows(E.measure_condition_vs_dimension(dims, 6, "lsq4", rng=rng()))
    with pytest.raises(ValueError, match="kind"):
        E.random_hessian("cauchy", 3, rng())


def test_minima_rare_fails_for_positive_definite_hessians():
    crit = E.measure_critical_points(samples=500, rng=rng())
    assert E.minima_rare_holds(crit) and E.saddles_dominate(crit)
    spd = E.measure_critical_points(samples=200, kind="wishart", rng=rng())
    assert not E.minima_rare_holds(spd) and not E.saddles_dominate(spd)


def test_saddle_predicates_fail_when_the_start_is_not_near_the_saddle_or_without_momentum():
    m = E.measure_saddle()
    assert E.saddle_slows(m) and E.momentum_escapes_faster(m)
    assert not E.saddle_slows(E.measure_saddle(near=0.3))
    assert not E.momentum_escapes_faster(E.measure_saddle(momentum=1e-6))


# --------------------------------------------------------------------------- 3 · momentum
def test_damping_fails_without_momentum():
    assert E.damping_holds(E.measure_damping(steps=300))
    assert not E.damping_holds(E.measure_damping(momentum=1e-6, steps=300))
    assert not E.damping_holds(E.measure_damping(momentum=1e-6, steps=300), "nesterov")


def test_heavy_ball_swings_longer_and_plain_gd_does_not():
    damp = E.measure_damping(steps=300)
    assert E.swings_longer(damp, "momentum") and not E.swings_longer(damp, "nesterov")
    assert abs(damp.swing["sgd"] - 0.9) < 1e-6                       # |1 - lr| on curvature 1
    assert abs(damp.swing["momentum"] - np.sqrt(0.9)) < 0.02         # heavy ball: about sqrt(rho)
    assert not E.swings_longer(E.measure_damping(momentum=1e-6, steps=300), "momentum")   # it is GD then


def test_nesterov_forms_agree_and_the_check_catches_a_plain_momentum_form():
    assert E.forms_equal(E.measure_nesterov_forms(nesterov_lookahead, nesterov))
    assert not E.forms_equal(E.measure_nesterov_forms(momentum, nesterov))     # heavy ball is not Nesterov


def test_sharp_minimum_skipping_depends_on_lr():
    m = E.measure_sharp_wide(lrs=(0.02, 0.05), steps=400, grid=(9, 7))
    assert E.momentum_skips_sharp(m, 0.05)
    assert not E.momentum_skips_sharp(m, 0.02)
    assert abs(sum(m.fractions("sgd", 0.05).values()) - 1) < 1e-12 and m.sharp_curvature > m.wide_curvature


def test_rescaling_keeps_the_function_and_changes_sharpness():
    m = E.measure_rescaling_sharpness(factor=10.0, rng=rng())
    assert E.function_unchanged(m) and E.sharpness_changes(m)
    same = E.measure_rescaling_sharpness(factor=1.0, rng=rng())     # the opposite: no rescaling, no change
    assert not E.sharpness_changes(same)
    assert not E.function_unchanged(dataclasses.replace(m, max_output_change=1e-3))


# --------------------------------------------------------------------------- 5-7 · AdaGrad, RMSProp, Adam
def test_per_axis_fails_for_plain_sgd():
    m = E.measure_per_axis()
    assert E.per_axis_holds(m)
    assert not E.per_axis_holds(dataclasses.replace(m, adagrad_ratio=m.sgd_ratio))


def test_adagrad_decays_and_rmsprop_plateaus_and_not_the_other_way_round():
    m = E.measure_step_decay(steps=600, rng=rng())
    assert E.decays_like_inverse_sqrt(m, "adagrad") and not E.decays_like_inverse_sqrt(m, "rmsprop")
    assert E.step_plateaus(m, "rmsprop") and not E.step_plateaus(m, "adagrad")


def test_notes_rmsprop_is_broken_and_the_predicate_fails_on_the_fix():
    m = E.measure_notes_rmsprop(steps=200)
    assert E.notes_code_broken(m) and m.notes_accumulator > 1e10
    assert not E.notes_code_broken(dataclasses.replace(m, notes_dist=m.fixed_dist))


def test_notes_adam_typo_is_19x_and_the_predicate_fails_on_the_fix():
    m = E.measure_notes_adam(steps=400, rng=rng())
    assert E.typo_factor(m) and E.notes_adam_broken(m)
    fixed = dataclasses.replace(m.noisy, notes_dist=m.noisy.fixed_dist)
    assert not E.notes_adam_broken(dataclasses.replace(m, noisy=fixed))
    assert not E.typo_factor(dataclasses.replace(m, step_ratio=1.0))


def test_first_steps_large_at_default_betas_not_at_099():
    default, other = E.measure_first_steps((0.9, 0.999)), E.measure_first_steps((0.9, 0.99))
    assert E.first_steps_large(default) and E.matches_prediction(default)
    assert not E.first_steps_large(other) and E.matches_prediction(other)


def test_notes_bias_correction_at_t0_gives_nan():
    m = E.measure_bias_t0()
    assert not E.finite(m.notes_path[1:]) and E.finite(m.fixed_path)


def test_rotation_penalty_fails_for_momentum_alone():
    m = E.measure_rotation(angles=(0, 45), lrs=(0.03, 0.1, 0.3), steps=800)
    assert E.rotation_hurts_adam(m)
    assert not E.rotation_hurts_adam(dataclasses.replace(m, adam=m.momentum))
    without_45 = [i for i, a in enumerate(m.angles) if a != 45]            # a run that left 45° out decides nothing
    assert not E.rotation_hurts_adam(dataclasses.replace(m, angles=[m.angles[i] for i in without_45],
                                                         adam=[m.adam[i] for i in without_45],
                                                         momentum=[m.momentum[i] for i in without_45]))


# --------------------------------------------------------------------------- 8-9 · decay, second order
def test_schedules_match_torch_and_the_check_catches_a_different_schedule():
    parity = E.measure_schedule_parity([schedules.exponential(0.5, k=0.1), schedules.cosine(0.5, total=10)], epochs=10)
    assert E.schedules_match_torch(parity)
    off = {**parity.max_difference, "off": 1e-3}
    assert not E.schedules_match_torch(dataclasses.replace(parity, max_difference=off))


def test_decay_helps_at_a_large_lr_and_cosine_helps_adam():
    m = E.measure_lr_decay(epochs=6, lr0=4.0, rng=rng())
    assert E.decay_helps(m) and E.lr_followed_schedules(m)
    flat = dataclasses.replace(m, runs={k: m.runs["constant"] for k in m.runs})
    assert not E.decay_helps(flat) and not E.lr_followed_schedules(flat)
    a = E.measure_adam_decay(epochs=6, lr0=0.3, rng=rng())
    assert E.cosine_helps_adam(a) and not E.decay_barely_matters(a)
    small = E.measure_adam_decay(epochs=6, lr0=0.005, rng=rng())
    assert not E.cosine_helps_adam(small)
    assert E.decay_barely_matters(E.measure_adam_decay(epochs=6, lr0=0.02, rng=rng()))


def test_newton_one_step_and_not_on_a_non_quadratic():
    assert E.newton_exact(E.measure_newton(rng=rng()))
    land = L.rosenbrock()
    p = np.array([-1.2, 1.0])
    p1 = p - np.linalg.solve(land.hessian(p), land.exact_grad(p))
    assert np.linalg.norm(p1 - land.minima[0]) > E.NEWTON_TOL


def test_hessian_cost_predicates():
    m = E.measure_hessian_cost(sizes=(100, 200), repeats=2, rng=rng())
    assert E.memory_quadratic(m)
    assert not E.memory_quadratic(dataclasses.replace(m, bytes=tuple(b // 2 for b in m.bytes)))
    assert not E.time_cubic_within_margin(dataclasses.replace(m, seconds=(1.0, 1.0)))     # O(1)
    assert not E.time_cubic_within_margin(dataclasses.replace(m, seconds=(1.0, 100.0)))


def test_lbfgs_wins_full_batch_and_loses_on_minibatches():
    m = E.measure_lbfgs(iters=20, n_batches=150, rng=rng())
    assert E.lbfgs_full_batch_wins(m) and E.lbfgs_minibatch_degrades(m)
    assert all(v >= 0 for v in m.excess_full.values())          # the optimum is below every run
    assert m.excess_full["torch_lbfgs"] > 0                       # and not simply the best run
    swapped = dataclasses.replace(m, minibatch={"lbfgs": m.minibatch["momentum"], "momentum": m.minibatch["lbfgs"],
                                                "adam": m.minibatch["lbfgs"]})
    assert not E.lbfgs_minibatch_degrades(swapped)


def test_lbfgs_and_bfgs_match_scipy_on_a_quadratic():
    from scipy.optimize import minimize

    r = rng()
    Q = r.standard_normal((8, 8))
    A = Q @ Q.T + np.eye(8)
    b = r.standard_normal(8)

    def fg(x):
        return 0.5 * x @ A @ x - b @ x, A @ x - b

    x = optim.lbfgs(fg, np.zeros(8), 60).x
    ref = minimize(lambda x: fg(x)[0], np.zeros(8), jac=lambda x: fg(x)[1], method="L-BFGS-B").x
    np.testing.assert_allclose(x, np.linalg.solve(A, b), atol=1e-6)
    np.testing.assert_allclose(ref, x, atol=1e-4)
    stopped = optim.lbfgs(fg, np.zeros(8), 60, gtol=1e-6)        # stops once |g| <= gtol
    assert len(stopped.losses) < len(optim.lbfgs(fg, np.zeros(8), 60).losses)
    np.testing.assert_allclose(optim.bfgs(fg, np.zeros(8), 60).x, np.linalg.solve(A, b), atol=1e-6)


def test_the_line_search_takes_the_full_step_when_it_is_good_and_halves_when_not():
    def fg(x):
        return float(x @ x), 2 * x

    x = np.array([1.0, -2.0])
    f, g = fg(x)
    x_new, _, _, evaluations = optim.backtracking_line_search(fg, x, f, g, -0.5 * g)   # the exact minimizer
    assert evaluations == 1 and np.allclose(x_new, 0)
    x_new, f_new, _, evaluations = optim.backtracking_line_search(fg, x, f, g, -g)     # overshoots: halve once
    assert evaluations == 2 and np.allclose(x_new, 0) and f_new == 0


def test_two_loop_recursion_with_one_pair_satisfies_the_secant_equation():
    r = rng(2)
    s, y = r.standard_normal(5), r.standard_normal(5)
    y = y if y @ s > 0 else -y
    # -direction(y) = H y must equal s (the secant equation) for the L-BFGS matrix of one pair
    np.testing.assert_allclose(-optim.lbfgs_direction(y, [s], [y]), s, atol=1e-12)
    H = optim.bfgs_update(np.eye(5), s, y)
    np.testing.assert_allclose(H @ y, s, atol=1e-12)


def test_notes_code_runs_bounded_and_adagrad_is_faithful():
    land = L.taco(10)
    path = notes.adagrad(land.exact_grad, [1.0, 1.0], 0.1, 50)
    ours = L.trajectory(optim.Adagrad(lr=0.1, eps=1e-7), land, (1.0, 1.0), 50)
    assert path.shape == (51, 2)
    np.testing.assert_allclose(path, ours, atol=1e-9)  # the notes' AdaGrad is correct
    assert notes.rmsprop(land.exact_grad, [1.0, 1.0], 0.01, 10).shape == (11, 2)


def test_top_hessian_eigenvalue_of_a_quadratic_loss_is_found():
    from lecture_lib import nets

    net = nets.MLP([3, 4, 2], activation="linear", rng=rng())
    X, y = rng(1).standard_normal((20, 3)), rng(1).integers(0, 2, 20)
    top = E.top_hessian_eigenvalue(net, X, y)
    before = {k: v.copy() for k, v in net.params.items()}
    assert top > 0 and all(np.array_equal(before[k], net.params[k]) for k in before)   # parameters restored
