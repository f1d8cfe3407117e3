import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lecture_lib.gradcheck import numerical_gradient, numerical_gradient_array, one_sided_gradient, rel_error


def test_numerical_gradient_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    x0 = x.copy()
    grad = numerical_gradient(lambda v: v @ A @ v, x)
    assert rel_error(grad, (A + A.T) @ x) < 1e-8
    assert np.array_equal(x, x0), "x must be restored"


def test_numerical_gradient_array_matches_the_jacobian_product():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 5))
    x = rng.normal(size=(2, 3))
    dout = rng.normal(size=(2, 5))
    grad = numerical_gradient_array(lambda v: v @ W, x, dout)
    assert rel_error(grad, dout @ W.T) < 1e-8


def test_centred_differences_beat_one_sided():
    x = np.array([0.7])
    exact = np.cos(0.7)
    centred = abs(numerical_gradient(lambda v: np.sin(v[0]), x.copy(), h=1e-4)[0] - exact)
    forward = abs(one_sided_gradient(lambda v: np.sin(v[0]), x.copy(), h=1e-4)[0] - exact)
    assert centred < forward / 100


@settings(deadline=None, max_examples=50)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=6))
def test_rel_error_properties(values):
    a = np.array(values)
    assert rel_error(a, a) == 0.0
    assert rel_error(a, a + 1.0) <= 1.0
    if np.any(np.abs(a) > 1e-8):
        assert rel_error(a, -a) == pytest.approx(1.0)


def test_rel_error_matches_its_definition():
    a, b = np.array([1.0, 0.0, 3.0]), np.array([1.1, 0.0, 3.0])
    assert rel_error(a, b) == pytest.approx(0.1 / 2.1)


def test_bad_input():
    with pytest.raises(ValueError, match="a has shape"):
        rel_error(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="floating dtype"):
        numerical_gradient(lambda v: 0.0, np.ones(2, dtype=int))
    with pytest.raises(TypeError, match="NumPy array"):
        numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="h=0"):
        numerical_gradient(lambda v: 0.0, np.ones(2), h=0)
    with pytest.raises(ValueError, match="dout has shape"):
        numerical_gradient_array(lambda v: v, np.ones(2), np.ones(3))
