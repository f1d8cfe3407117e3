"""The convolution and max-pooling gates: gradient checks (float64, rel. error < 1e-7), naive and
fast equal to each other and to torch (forward and backward, several strides, pads, kernel sizes
and dilations, to 1e-10), dtypes kept, output-size and receptive-field arithmetic, bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecture_lib import layers
from lecture_lib.gradcheck import numerical_gradient_array, rel_error

TOL = 1e-7
PARITY = 1e-10

# (N, C, H, W, F, HH, WW, stride, pad, dilation): every stride, pad and kernel tiles its input
CONV_CASES = [
    (2, 3, 5, 5, 4, 3, 3, 1, 1, 1),
    (2, 2, 7, 7, 3, 3, 3, 2, 1, 1),
    (1, 3, 6, 8, 2, 2, 4, 2, 0, 1),
    (2, 1, 9, 9, 2, 5, 5, 2, 2, 1),
    (1, 2, 8, 8, 3, 3, 3, 1, 2, 2),
    (2, 3, 4, 4, 2, 1, 1, 1, 0, 1),
    (1, 2, 11, 11, 2, 3, 3, 4, 0, 1),
    (2, 2, 8, 8, 3, 3, 3, 2, 1, 1),      # the remainder is one row of padding, dropped as torch does
    (2, 2, 1, 3, 2, 1, 3, 4, 3, 1),      # wide padding: every tap of some outputs reads only padding
]
POOL_CASES = [(2, 3, 4, 4, 2, 2, 2), (2, 2, 7, 7, 3, 3, 2), (1, 3, 6, 8, 2, 4, 2), (2, 2, 5, 5, 1, 1, 1)]


def _conv_case(case, seed=0):
    n, c, h, w_, f, hh, ww, stride, pad, dilation = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w_))
    w = rng.standard_normal((f, c, hh, ww))
    b = rng.standard_normal(f)
    param = {"stride": stride, "pad": pad} if dilation == 1 else {"stride": stride, "pad": pad, "dilation": dilation}
    return x, w, b, param


# --------------------------------------------------------------------------- convolution
@pytest.mark.parametrize("gate", ["naive", "fast"])
@pytest.mark.parametrize("case", CONV_CASES[:5], ids=str)
def test_conv_gradients(case, gate):
    x, w, b, param = _conv_case(case)
    out, cache = getattr(layers, f"conv_forward_{gate}")(x, w, b, param)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx, dw, db = getattr(layers, f"conv_backward_{gate}")(dout, cache)
    f = layers.conv_forward_fast  # equal to the naive forward (tested below), and quicker to differentiate
    assert rel_error(dx, numerical_gradient_array(lambda v: f(v, w, b, param)[0], x, dout)) < TOL
    assert rel_error(dw, numerical_gradient_array(lambda v: f(x, v, b, param)[0], w, dout)) < TOL
    assert rel_error(db, numerical_gradient_array(lambda v: f(x, w, v, param)[0], b, dout)) < TOL


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_naive_fast_and_torch_agree(case):
    x, w, b, param = _conv_case(case)
    out_naive, cache_naive = layers.conv_forward_naive(x, w, b, param)
    out_fast, cache_fast = layers.conv_forward_fast(x, w, b, param)
    dout = np.random.default_rng(2).standard_normal(out_naive.shape)
    grads_naive = layers.conv_backward_naive(dout, cache_naive)
    grads_fast = layers.conv_backward_fast(dout, cache_fast)

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = F.conv2d(xt, wt, bt, stride=param["stride"], padding=param["pad"], dilation=param.get("dilation", 1))
    out_t.backward(torch.from_numpy(dout))
    reference = [out_t.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()]
    for name, ours in (("naive", [out_naive, *grads_naive]), ("fast", [out_fast, *grads_fast])):
        for part, a, r in zip(("out", "dx", "dw", "db"), ours, reference, strict=True):
            assert a.shape == r.shape, (name, part)
            assert np.max(np.abs(a - r)) < PARITY, (name, part, np.max(np.abs(a - r)))
    shifted = layers.conv_forward_shifted(x, w, b, param)
    assert np.max(np.abs(shifted - reference[0])) < PARITY


def test_conv_fast_works_block_by_block(monkeypatch):
    """Many images with a tiny block size: the blocks' results are stitched back exactly."""
    from lecture_lib.layers import conv

    x, w, b, param = _conv_case((7, 2, 6, 6, 3, 3, 3, 1, 1, 1))
    whole = layers.conv_forward_fast(x, w, b, param)
    monkeypatch.setattr(conv, "BLOCK_ELEMENTS", 1)
    out, cache = layers.conv_forward_fast(x, w, b, param)
    assert np.allclose(out, whole[0], rtol=0, atol=1e-12)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    for a, r in zip(layers.conv_backward_fast(dout, cache), layers.conv_backward_fast(dout, whole[1]), strict=True):
        assert np.allclose(a, r, rtol=0, atol=1e-12)


@pytest.mark.parametrize("forward, backward", [("conv_forward_naive", "conv_backward_naive"),
                                               ("conv_forward_fast", "conv_backward_fast")])
def test_conv_keeps_float32(forward, backward):
    x, w, b, param = (a.astype(np.float32) if isinstance(a, np.ndarray) else a
                      for a in _conv_case(CONV_CASES[1]))
    out, cache = getattr(layers, forward)(x, w, b, param)
    grads = getattr(layers, backward)(np.ones_like(out), cache)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


def test_a_flipped_kernel_is_a_different_gate():
    """The opposite experiment of the torch parity: a true convolution (kernel flipped) differs
    from deep learning's cross-correlation by far more than the tolerance."""
    x, w, b, param = _conv_case(CONV_CASES[0])
    out = layers.conv_forward_fast(x, w, b, param)[0]
    flipped = layers.conv_forward_fast(x, w[:, :, ::-1, ::-1].copy(), b, param)[0]
    assert np.max(np.abs(out - flipped)) > 1e3 * PARITY


# --------------------------------------------------------------------------- geometry
@pytest.mark.parametrize("size, kernel, stride, pad, dilation, expected", [
    (32, 3, 1, 1, 1, 32), (227, 11, 4, 0, 1, 55), (7, 3, 2, 1, 1, 4),
    (8, 3, 1, 2, 2, 8), (5, 5, 1, 0, 1, 1),
])
def test_output_size(size, kernel, stride, pad, dilation, expected):
    assert layers.conv_output_size(size, kernel, stride, pad, dilation) == expected


def test_output_size_refuses_what_does_not_tile():
    with pytest.raises(ValueError, match=r"stride=3 and pad=0 do not tile.*\(pad=1 would\)"):
        layers.conv_output_size(7, 3, 3, 0)
    assert layers.conv_output_size(7, 3, 3, 0, exact=False) == 2     # torch's floor
    with pytest.raises(ValueError, match=r"last 1 row\(s\)/column\(s\) of the input.*\(pad=1 would\)"):
        layers.conv_output_size(6, 3, 2, 0)
    # the remainder is padding only: ResNet's 7x7/2 stem and 3x3/2 pad-1 downsampling are fine
    assert layers.conv_output_size(224, 7, 2, 3) == 112
    assert layers.conv_output_size(32, 3, 2, 1) == 16
    with pytest.raises(ValueError, match="kernel=5 .* larger than the padded input"):
        layers.conv_output_size(3, 5, 1, 0)


def test_receptive_field_of_stacks():
    assert layers.receptive_field([(3, 1)] * 3)[-1] == (7, 1)      # three 3x3 see as far as one 7x7
    assert layers.receptive_field([(7, 1)]) == [(7, 1)]
    # AlexNet's first conv and pool: 11x11 stride 4, then 3x3 stride 2
    assert layers.receptive_field([(11, 4), (3, 2)]) == [(11, 4), (19, 8)]
    assert layers.receptive_field([(3, 1, 2), (3, 1, 4)])[-1] == (13, 1)
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        layers.receptive_field([(3, 1), (3,)])


@pytest.mark.parametrize("forward", ["conv_forward_naive", "conv_forward_fast"])
def test_conv_bad_input(forward):
    fn = getattr(layers, forward)
    x, w, b = np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), np.zeros(2)
    with pytest.raises(ValueError, match=r"x has shape \(1, 3, 5, 5\) \(3 channels\) but w .*\(2 channels\)"):
        fn(x, np.zeros((2, 2, 3, 3)), b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="stride=0 is not valid"):
        fn(x, w, b, {"stride": 0, "pad": 1})
    with pytest.raises(ValueError, match="pad=-1 is not valid"):
        fn(x, w, b, {"stride": 1, "pad": -1})
    with pytest.raises(ValueError, match="larger than the padded input height"):
        fn(x, np.zeros((2, 3, 9, 9)), b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="do not tile"):
        fn(np.zeros((1, 3, 6, 6)), w, b, {"stride": 2, "pad": 0})
    with pytest.raises(ValueError, match=r"b of shape \(2,\)"):
        fn(x, w, np.zeros(3), {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="lacks"):
        fn(x, w, b, {"stride": 1})
    with pytest.raises(ValueError, match="unknown key"):
        fn(x, w, b, {"stride": 1, "pad": 1, "padding": 1})
    with pytest.raises(TypeError, match="stride=1.5"):
        fn(x, w, b, {"stride": 1.5, "pad": 1})
    with pytest.raises(TypeError, match="dtype int64"):
        fn(x.astype(np.int64), w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="expected 4 dimension"):
        fn(np.zeros((3, 5, 5)), w, b, {"stride": 1, "pad": 1})


def test_conv_backward_checks_dout():
    x, w, b, param = _conv_case(CONV_CASES[0])
    _, cache = layers.conv_forward_fast(x, w, b, param)
    with pytest.raises(ValueError, match="dout has shape"):
        layers.conv_backward_fast(np.zeros((2, 4, 4, 4)), cache)


# --------------------------------------------------------------------------- max pooling
def _pool_case(case, seed=0):
    n, c, h, w, ph, pw, s = case
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    return x, {"pool_height": ph, "pool_width": pw, "stride": s}


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pool_gradients_and_parity(case):
    x, param = _pool_case(case)
    out_naive, cache_naive = layers.max_pool_forward_naive(x, param)
    out_fast, cache_fast = layers.max_pool_forward_fast(x, param)
    dout = np.random.default_rng(1).standard_normal(out_naive.shape)
    dx_naive = layers.max_pool_backward_naive(dout, cache_naive)
    dx_fast = layers.max_pool_backward_fast(dout, cache_fast)
    numeric = numerical_gradient_array(lambda v: layers.max_pool_forward_naive(v, param)[0], x, dout)
    assert rel_error(dx_naive, numeric) < TOL
    xt = torch.tensor(x, requires_grad=True)
    out_t = F.max_pool2d(xt, (param["pool_height"], param["pool_width"]), param["stride"])
    out_t.backward(torch.from_numpy(dout))
    for ours in (out_naive, out_fast):
        assert np.max(np.abs(ours - out_t.detach().numpy())) < PARITY
    for ours in (dx_naive, dx_fast):
        assert np.max(np.abs(ours - xt.grad.numpy())) < PARITY


@pytest.mark.parametrize("case", [(1, 2, 4, 4, 2, 2, 2), (1, 1, 5, 5, 3, 3, 2)], ids=str)
def test_pool_ties_send_the_gradient_once_like_torch(case):
    """After a ReLU many inputs are exactly 0: the gradient goes to the first maximum only."""
    x, param = _pool_case(case)
    x = np.maximum(x, 0) * 0  # every window is a tie
    dout = np.ones((case[0], case[1], *layers.max_pool_forward_naive(x, param)[0].shape[2:]))
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, (param["pool_height"], param["pool_width"]), param["stride"]).backward(torch.from_numpy(dout))
    for forward, backward in (("max_pool_forward_naive", "max_pool_backward_naive"),
                              ("max_pool_forward_fast", "max_pool_backward_fast")):
        dx = getattr(layers, backward)(dout, getattr(layers, forward)(x, param)[1])
        assert dx.sum() == dout.sum() and np.array_equal(dx, xt.grad.numpy())


@pytest.mark.parametrize("case", [(2, 2, 6, 6, 2, 2, 2), (1, 2, 5, 5, 3, 3, 2), (1, 1, 8, 8, 2, 2, 3)], ids=str)
def test_pool_backward_routes_non_finite_gradients_to_the_maximum_only(case):
    """A gradient of inf or NaN reaches the window's maximum, and no other input (0 * inf is NaN:
    the fast path for windows that do not overlap must not multiply it by a mask)."""
    x, param = _pool_case(case)
    out, cache = layers.max_pool_forward_fast(x, param)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dout.flat[0], dout.flat[-1] = np.inf, np.nan
    expected = layers.max_pool_backward_naive(dout, layers.max_pool_forward_naive(x, param)[1])
    assert np.array_equal(layers.max_pool_backward_fast(dout, cache), expected, equal_nan=True)


def test_pool_bad_input():
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(ValueError, match="do not tile"):
        layers.max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(ValueError, match="expected exactly"):
        layers.max_pool_forward_fast(x, {"pool_height": 2, "stride": 2})
    with pytest.raises(ValueError, match="stride=0"):
        layers.max_pool_forward_naive(x, {"pool_height": 1, "pool_width": 1, "stride": 0})
    out, cache = layers.max_pool_forward_fast(np.zeros((1, 1, 4, 4), np.float32),
                                              {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert out.dtype == np.float32
    assert layers.max_pool_backward_fast(np.ones_like(out), cache).dtype == np.float32
    with pytest.raises(ValueError, match="dout has shape"):
        layers.max_pool_backward_fast(np.ones((1, 1, 3, 3)), cache)
