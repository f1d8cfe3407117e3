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


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("check", [numerical_gradient, one_sided_gradient,
                                   lambda f, x, **kw: numerical_gradient_array(lambda v: v * 2.0, x, np.ones(3), **kw)])
def test_low_precision_is_refused_and_says_why(check, dtype):
    """float16 returned zeros, float32 an error of about 1e-2: neither is a gradient check."""
    x = np.array([0.3, -1.2, 2.0], dtype=dtype)
    with pytest.raises(TypeError, match=rf"x has dtype {np.dtype(dtype).name}; expected float64.*refused"):
        check(lambda v: float(np.sum(v ** 2)), x)


def test_low_precision_can_still_be_shown_failing_on_request():
    x = np.array([0.3, -1.2, 2.0], dtype=np.float16)
    grad = numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x, allow_low_precision=True)
    assert np.all(grad == 0), "in float16, x + h rounds back to x"
    x32 = np.array([0.3, -1.2, 2.0], dtype=np.float32)
    grad32 = numerical_gradient(lambda v: float(np.sum(v ** 2)), x32, allow_low_precision=True)
    assert rel_error(grad32, 2 * x32) > 1e-7


def test_float64_and_longer_are_checked():
    for dtype in (np.float64, np.longdouble):
        x = np.array([0.3, -1.2], dtype=dtype)
        assert rel_error(numerical_gradient(lambda v: float(np.sum(v ** 3)), x), 3 * x.astype(float) ** 2) < 1e-8


def test_x_is_restored_even_when_f_raises():
    x = np.array([1.0, 2.0])

    def f(v):
        if v[1] != 2.0:
            raise RuntimeError("boom")
        return float(v.sum())

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    with pytest.raises(RuntimeError, match="boom"):
        one_sided_gradient(f, x)
    assert x.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("call, kind, message", [
    (lambda: numerical_gradient(lambda v: v, np.ones(3)), TypeError, r"f returned ndarray of shape \(3,\)"),
    (lambda: numerical_gradient(lambda v: "x", np.ones(3)), TypeError, "f returned 'x'"),
    (lambda: numerical_gradient("f", np.ones(3)), TypeError, "f='f'"),
    (lambda: numerical_gradient(lambda v: 0.0, np.ones(3), h=True), TypeError, "h=True"),
    (lambda: numerical_gradient(lambda v: 0.0, np.ones(3), h=np.inf), ValueError, "h=inf"),
    (lambda: numerical_gradient(lambda v: 0.0, np.ones(2, dtype=complex)), TypeError, "x has dtype complex"),
    (lambda: rel_error(np.ones(2, dtype=complex), np.ones(2)), TypeError, "a has dtype complex"),
    (lambda: rel_error(np.ones(2), "b"), TypeError, "b="),
])
def test_bad_input_names_the_argument(call, kind, message):
    with pytest.raises(kind, match=message):
        call()


def test_numpy_scalars_are_numbers():
    x = np.array([0.5, 1.5])
    grad = numerical_gradient(lambda v: np.float32(np.sum(v)), x, h=np.float64(1e-5))
    assert rel_error(grad, np.ones(2)) < 1e-3
