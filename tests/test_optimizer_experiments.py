"""Every threshold that notebook 04 asserts holds on its experiment and fails on the opposite one."""

import numpy as np
import pytest

from lecture_lib import landscapes as L
from lecture_lib import notes_optimizers as notes
from lecture_lib import optim
from lecture_lib import optimizer_experiments as E


def test_duplicates_equal_copies_hold_uneven_copies_fail():
    assert E.duplicates_hold(E.measure_duplicates(copies=20, n_unique=10))
    assert not E.duplicates_hold(E.measure_duplicates(counts=[1, 30, 2, 9, 1, 4, 7, 1, 20, 3]))


def test_minibatch_noise_falls_for_random_batches_not_for_copies():
    assert E.minibatch_noise_holds(E.measure_minibatch_noise(draws=40))
    assert not E.minibatch_noise_holds(E.measure_minibatch_noise(draws=40, one_example=True))


def test_powers_of_two_margin_fails_on_a_machine_that_favours_them():
    sizes = (31, 32, 33, 63, 64, 65)
    flat = E.powers_of_two_summary(sizes, [1.0] * 6)
    favoured = E.powers_of_two_summary(sizes, [1.0, 0.2, 1.0, 1.0, 0.25, 1.0])
    assert E.powers_of_two_within_margin(flat)
    assert not E.powers_of_two_within_margin(favoured)
    real = E.measure_batch_timing(sizes=(31, 32, 33), repeats=2)
    assert set(real["ratios"]) == {32} and real["ratios"][32] > 0


def test_jitter_holds_on_a_taco_not_on_a_round_bowl_or_small_lr():
    assert E.jitter_holds(E.measure_jitter(kappa=50, lr=1.5))
    assert not E.jitter_holds(E.measure_jitter(kappa=1, lr=1.5))
    assert not E.jitter_holds(E.measure_jitter(kappa=50, lr=0.5))


def test_condition_scaling_slopes_separate_gd_from_heavy_ball():
    m = E.measure_condition_scaling(kappas=(10, 30, 100))
    assert E.slope_in(m["gd_slope"], E.GD_SLOPE) and E.slope_in(m["hb_slope"], E.HB_SLOPE)
    assert not E.slope_in(m["gd_slope"], E.HB_SLOPE) and not E.slope_in(m["hb_slope"], E.GD_SLOPE)


def test_condition_growth_fails_for_well_sampled_least_squares():
    dims = (2, 8, 32)
    assert E.condition_grows(E.measure_condition_vs_dimension(dims, 6, "wishart"))
    assert not E.condition_grows(E.measure_condition_vs_dimension(dims, 6, "lsq4"))
    with pytest.raises(ValueError, match="kind"):
        E.random_hessian("cauchy", 3, np.random.default_rng(0))


def test_minima_rare_fails_for_positive_definite_hessians():
    assert E.minima_rare_holds(E.measure_critical_points(samples=500))
    assert not E.minima_rare_holds(E.measure_critical_points(samples=200, kind="wishart"))


def test_saddle_predicates_fail_when_the_start_is_not_near_the_saddle_or_without_momentum():
    m = E.measure_saddle()
    assert E.saddle_slows(m) and E.momentum_escapes_faster(m)
    assert not E.saddle_slows(E.measure_saddle(near=0.3))
    assert not E.momentum_escapes_faster(E.measure_saddle(momentum=1e-6))


def test_damping_fails_without_momentum():
    assert E.damping_holds(E.measure_damping(steps=300))
    assert not E.damping_holds(E.measure_damping(momentum=1e-6, steps=300))
    assert not E.damping_holds(E.measure_damping(momentum=1e-6, steps=300), "nesterov")


def test_nesterov_forms_agree_and_the_check_catches_a_plain_momentum_form():
    m = E.measure_nesterov_forms()
    assert E.forms_equal(m)
    wrong = dict(m, max_diff=float(np.max(np.abs(
        m["change_of_variables"] - E.notes_momentum(L.taco(20, 30).exact_grad, [1.5, -1.0], [0.5] * 100, 0.9)))))
    assert not E.forms_equal(wrong)


def test_notes_and_torch_momentum_differ_under_a_schedule():
    grad = L.taco(20, 30).exact_grad
    lrs = [0.1 * 0.5 ** (t // 10) for t in range(60)]
    assert np.max(np.abs(E.notes_momentum(grad, [1.5, -1.0], lrs, 0.9)
                         - E.torch_momentum(grad, [1.5, -1.0], lrs, 0.9))) > 1e-3


def test_sharp_minimum_skipping_depends_on_lr():
    m = E.measure_sharp_wide(lrs=(0.02, 0.05), steps=400, grid=(9, 7))
    assert E.momentum_skips_sharp(m, 0.05)
    assert not E.momentum_skips_sharp(m, 0.02)


def test_per_axis_fails_for_plain_sgd():
    m = E.measure_per_axis()
    assert E.per_axis_holds(m)
    assert not E.per_axis_holds(dict(m, adagrad_ratio=m["sgd_ratio"]))


def test_adagrad_decays_and_rmsprop_plateaus_and_not_the_other_way_round():
    m = E.measure_step_decay(steps=600)
    assert E.adagrad_decays(m, "adagrad") and not E.adagrad_decays(m, "rmsprop")
    assert E.step_plateaus(m, "rmsprop") and not E.step_plateaus(m, "adagrad")


def test_notes_rmsprop_is_broken_and_the_predicate_fails_on_the_fix():
    m = E.measure_notes_rmsprop(steps=200)
    assert E.notes_code_broken(m)
    assert not E.notes_code_broken(dict(m, notes_dist=m["fixed_dist"]))


def test_notes_adam_typo_is_19x_and_the_predicate_fails_on_the_fix():
    m = E.measure_notes_adam(steps=400)
    assert abs(m["step_ratio"] - 19) < 1e-6 and E.notes_adam_broken(m)
    assert not E.notes_adam_broken(dict(m, notes_dist=m["fixed_dist"]))


def test_first_steps_large_at_default_betas_not_at_099():
    assert E.first_steps_large(E.measure_first_steps((0.9, 0.999)))
    assert not E.first_steps_large(E.measure_first_steps((0.9, 0.99)))


def test_notes_bias_correction_at_t0_gives_nan():
    m = E.measure_bias_t0()
    assert not m["notes_finite"] and m["fixed_finite"]


def test_rotation_penalty_fails_for_momentum_alone():
    m = E.measure_rotation(angles=(0, 45), lrs=(0.03, 0.1, 0.3), steps=800)
    assert E.rotation_hurts_adam(m)
    assert not E.rotation_hurts_adam(dict(m, adam=m["momentum"]))


def test_decay_helps_at_a_large_lr_and_cosine_helps_adam():
    m = E.measure_lr_decay(epochs=6, lr0=4.0)
    assert E.decay_helps(m)
    flat = dict(m, final={k: m["final"]["constant"] for k in m["final"]})
    assert not E.decay_helps(flat)
    a = E.measure_adam_decay(epochs=6, lr0=0.1)
    assert E.cosine_helps_adam(a)
    assert not E.cosine_helps_adam(E.measure_adam_decay(epochs=6, lr0=0.005))


def test_newton_one_step_and_not_on_a_non_quadratic():
    assert E.measure_newton()["newton_error"] < E.NEWTON_TOL
    land = L.rosenbrock()
    p = np.array([-1.2, 1.0])
    p1 = p - np.linalg.solve(land.hessian(p), land.exact_grad(p))
    assert np.linalg.norm(p1 - land.minima[0]) > E.NEWTON_TOL


def test_hessian_cost_predicates():
    m = E.measure_hessian_cost(sizes=(100, 200), repeats=2)
    assert E.memory_quadratic(m)
    assert not E.memory_quadratic(dict(m, bytes=[b // 2 for b in m["bytes"]]))
    assert not E.time_cubic_within_margin(dict(m, time_ratio=1.0, predicted_ratio=8.0))  # O(1)
    assert not E.time_cubic_within_margin(dict(m, time_ratio=100.0, predicted_ratio=8.0))


def test_lbfgs_wins_full_batch_and_loses_on_minibatches():
    m = E.measure_lbfgs(iters=20, n_batches=150)
    assert E.lbfgs_full_batch_wins(m) and E.lbfgs_minibatch_degrades(m)
    assert all(v >= 0 for v in m["excess_full"].values())          # the optimum is below every run
    assert m["excess_full"]["torch_lbfgs"] > 0                       # and not simply the best run
    swapped = dict(m, excess_minibatch={"lbfgs": m["excess_minibatch"]["momentum"],
                                        "momentum": m["excess_minibatch"]["lbfgs"],
                                        "adam": m["excess_minibatch"]["lbfgs"]})
    assert not E.lbfgs_minibatch_degrades(swapped)


def test_numpy_lbfgs_matches_scipy_on_a_quadratic():
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    Q = rng.standard_normal((8, 8))
    A = Q @ Q.T + np.eye(8)
    b = rng.standard_normal(8)

    def fg(x):
        return 0.5 * x @ A @ x - b @ x, A @ x - b

    x, _, _ = E.numpy_lbfgs(fg, np.zeros(8), 60)
    ref = minimize(lambda x: fg(x)[0], np.zeros(8), jac=lambda x: fg(x)[1], method="L-BFGS-B").x
    np.testing.assert_allclose(x, np.linalg.solve(A, b), atol=1e-6)
    np.testing.assert_allclose(ref, x, atol=1e-4)
    _, stopped, _ = E.numpy_lbfgs(fg, np.zeros(8), 60, gtol=1e-6)   # stops once |g| <= gtol
    _, full, _ = E.numpy_lbfgs(fg, np.zeros(8), 60)
    assert len(stopped) < len(full)
    xb, _, _ = E.numpy_bfgs(fg, np.zeros(8), 60)
    np.testing.assert_allclose(xb, np.linalg.solve(A, b), atol=1e-6)


def test_two_loop_recursion_with_one_pair_satisfies_the_secant_equation():
    rng = np.random.default_rng(2)
    s, y = rng.standard_normal(5), rng.standard_normal(5)
    y = y if y @ s > 0 else -y
    # -direction(y) = H y must equal s (the secant equation) for the L-BFGS matrix of one pair
    np.testing.assert_allclose(-optim.lbfgs_direction(y, [s], [y]), s, atol=1e-12)
    H = optim.bfgs_update(np.eye(5), s, y)
    np.testing.assert_allclose(H @ y, s, atol=1e-12)


def test_notes_code_runs_bounded_and_adagrad_is_faithful():
    land = L.taco(10)
    path = notes.adagrad(land.exact_grad, [1.0, 1.0], 0.1, 50)
    ours = E.run(optim.Adagrad(lr=0.1, eps=1e-7), land, (1.0, 1.0), 50)
    assert path.shape == (51, 2)
    np.testing.assert_allclose(path, ours, atol=1e-9)  # the notes' AdaGrad is correct
    assert notes.rmsprop(land.exact_grad, [1.0, 1.0], 0.01, 10).shape == (11, 2)


def test_rescaling_keeps_the_function_and_changes_sharpness_and_its_gradient_is_right():
    from lecture_lib.gradcheck import numerical_gradient, rel_error

    rng = np.random.default_rng(1)
    X, y, w = rng.standard_normal((10, 3)), rng.standard_normal((10, 1)), rng.standard_normal(24)
    num = numerical_gradient(lambda v: E._relu_net_loss_grad(v, X, y)[0], w.copy())
    assert rel_error(E._relu_net_loss_grad(w, X, y)[1], num) < 1e-7
    m = E.measure_rescaling_sharpness(alpha=10.0)
    assert m["max_output_change"] < 1e-10 and m["sharp_after"] > 10 * m["sharp_before"]
    same = E.measure_rescaling_sharpness(alpha=1.0)  # the opposite: no rescaling, no change
    assert not same["sharp_after"] > 10 * same["sharp_before"]
