"""The recurrent gates of lecture_lib.layers: gradient checks (float64, tiny shapes), the sequence
gates equal to their step loops, parity with torch's nn.RNN and nn.LSTM with copied weights (gate
blocks reordered: torch stores i, f, g, o, ours are i, f, o, g), dtypes, and bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lecture_lib import layers, torch_rnn
from lecture_lib.experiments import rnn as E
from lecture_lib.gradcheck import numerical_gradient, numerical_gradient_array, rel_error

TOL = 1e-7
N, T, D, H = 2, 4, 3, 5


def _args(kind, rng, scale=1.0):
    blocks = 4 if kind == "lstm" else 1
    return [rng.standard_normal((N, T, D)), rng.standard_normal((N, H)),
            scale * rng.standard_normal((D, blocks * H)) / np.sqrt(D),
            scale * rng.standard_normal((H, blocks * H)) / np.sqrt(H), rng.standard_normal(blocks * H)]


# --------------------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_sequence_gradients(kind):
    rng = np.random.default_rng(0)
    forward, backward = getattr(layers, f"{kind}_forward"), getattr(layers, f"{kind}_backward")
    args = _args(kind, rng)
    h, cache = forward(*args)
    assert h.shape == (N, T, H)
    dh = rng.standard_normal(h.shape)
    grads = backward(dh, cache)
    for k, name in enumerate(E.ARGUMENTS):
        def f(v, k=k):
            return forward(*args[:k], v, *args[k + 1:])[0]
        assert grads[k].shape == args[k].shape, name
        assert rel_error(grads[k], numerical_gradient_array(f, args[k].copy(), dh)) < TOL, name


def test_rnn_step_gradients():
    rng = np.random.default_rng(1)
    x, prev_h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, H)), rng.standard_normal((H, H)), rng.standard_normal(H)
    args = [x, prev_h, Wx, Wh, b]
    next_h, cache = layers.rnn_step_forward(*args)
    dnext = rng.standard_normal(next_h.shape)
    grads = layers.rnn_step_backward(dnext, cache)
    for k in range(5):
        def f(v, k=k):
            return layers.rnn_step_forward(*args[:k], v, *args[k + 1:])[0]
        assert rel_error(grads[k], numerical_gradient_array(f, args[k].copy(), dnext)) < TOL


def test_lstm_step_gradients_through_h_and_c():
    rng = np.random.default_rng(2)
    args = [rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H)),
            rng.standard_normal((D, 4 * H)) / 2, rng.standard_normal((H, 4 * H)) / 2, rng.standard_normal(4 * H)]
    next_h, next_c, cache = layers.lstm_step_forward(*args)
    dh, dc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    grads = layers.lstm_step_backward(dh, dc, cache)
    upstream = np.concatenate([dh, dc], axis=1)
    for k in range(6):
        def f(v, k=k):
            out_h, out_c, _ = layers.lstm_step_forward(*args[:k], v, *args[k + 1:])
            return np.concatenate([out_h, out_c], axis=1)
        assert rel_error(grads[k], numerical_gradient_array(f, args[k].copy(), upstream)) < TOL


def test_language_model_pieces_gradients():
    rng = np.random.default_rng(3)
    V, M = 7, 6
    idx = rng.integers(0, V, (N, T))
    W = rng.standard_normal((V, D))
    out, cache = layers.word_embedding_forward(idx, W)
    assert np.array_equal(out, W[idx])
    dout = rng.standard_normal(out.shape)
    numeric = numerical_gradient_array(lambda w: layers.word_embedding_forward(idx, w)[0], W.copy(), dout)
    assert rel_error(layers.word_embedding_backward(dout, cache), numeric) < TOL
    x, w, b = rng.standard_normal((N, T, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    out, cache = layers.temporal_affine_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    grads = layers.temporal_affine_backward(dout, cache)
    for k, arg in enumerate((x, w, b)):
        def f(v, k=k):
            parts = [x, w, b]
            parts[k] = v
            return layers.temporal_affine_forward(*parts)[0]
        assert rel_error(grads[k], numerical_gradient_array(f, arg.copy(), dout)) < TOL
    scores, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) > 0.3
    loss, dscores = layers.temporal_softmax_loss(scores, y, mask)
    numeric = numerical_gradient(lambda s: layers.temporal_softmax_loss(s, y, mask)[0], scores.copy())
    assert rel_error(dscores, numeric) < TOL
    assert np.all(dscores[~mask] == 0), "masked steps get no gradient"


def test_one_hot_times_W_is_the_embedding_lookup():
    rng = np.random.default_rng(4)
    idx, W = rng.integers(0, 6, (N, T)), rng.standard_normal((6, D))
    assert np.allclose(np.eye(6)[idx] @ W, layers.word_embedding_forward(idx, W)[0], rtol=0, atol=1e-15)


def test_temporal_softmax_loss_values():
    """Uniform scores: log V per counted step, summed over time and averaged over N."""
    V = 9
    y = np.zeros((3, 4), dtype=int)
    mask = np.ones((3, 4), dtype=bool)
    mask[0, :2] = False
    loss, _ = layers.temporal_softmax_loss(np.zeros((3, 4, V)), y, mask)
    assert loss == pytest.approx(np.log(V) * mask.sum() / 3)


# --------------------------------------------------------------------------- the sequence gates are their step loops
@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_sequence_equals_step_loop(kind):
    rng = np.random.default_rng(5)
    x, h0, Wx, Wh, b = _args(kind, rng)
    h, c = h0, np.zeros_like(h0)
    steps = []
    for t in range(T):
        if kind == "rnn":
            h, _ = layers.rnn_step_forward(x[:, t], h, Wx, Wh, b)
        else:
            h, c, _ = layers.lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        steps.append(h)
    assert np.allclose(np.stack(steps, axis=1), getattr(layers, f"{kind}_forward")(x, h0, Wx, Wh, b)[0],
                       rtol=0, atol=1e-14)


# --------------------------------------------------------------------------- parity with torch
@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_parity_with_torch(kind):
    """Copied weights, float64: forward to 1e-10, backward to 1e-8. For the LSTM, torch's blocks
    are i, f, g, o and ours i, f, o, g: torch_rnn.torch_weights swaps the last two when copying."""
    checks = E.measure_gate_checks(rng=np.random.default_rng(6))
    assert checks.torch_forward[kind] < E.FORWARD_TOL
    assert max(checks.torch_backward[kind].values()) < E.BACKWARD_TOL
    assert max(checks.gradcheck[kind].values()) < E.GRADCHECK_TOL
    assert E.gates_correct(checks)


def test_wrong_gate_order_breaks_torch_parity():
    """The opposite experiment: copying our i, f, o, g blocks into torch unchanged (no reordering)
    gives a different LSTM."""
    rng = np.random.default_rng(7)
    x, h0, Wx, Wh, b = _args("lstm", rng)
    weights = torch_rnn.torch_weights("rnn", Wx, Wh, b)          # "rnn": blocks copied as they are
    net = torch.nn.LSTM(D, H, batch_first=True).double()
    net.load_state_dict(weights)
    h0_t = torch.from_numpy(h0)[None]
    out, _ = net(torch.from_numpy(x), (h0_t, torch.zeros_like(h0_t)))
    ours = layers.lstm_forward(x, h0, Wx, Wh, b)[0]
    assert rel_error(out.detach().numpy(), ours) > 1e-3


# --------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_float32_in_float32_out(kind):
    rng = np.random.default_rng(8)
    args = [a.astype(np.float32) for a in _args(kind, rng)]
    h, cache = getattr(layers, f"{kind}_forward")(*args)
    assert h.dtype == np.float32
    grads = getattr(layers, f"{kind}_backward")(np.ones_like(h), cache)
    assert all(g.dtype == np.float32 for g in grads)
    ref = getattr(layers, f"{kind}_forward")(*[a.astype(np.float64) for a in args])[0]
    assert np.allclose(h, ref, atol=1e-5)


def test_the_inputs_are_not_modified_and_h_is_not_a_view_of_the_cache():
    rng = np.random.default_rng(9)
    args = _args("lstm", rng)
    copies = [a.copy() for a in args]
    h, cache = layers.lstm_forward(*args)
    h[:] = 0
    grads = layers.lstm_backward(np.ones_like(h), cache)
    assert all(np.array_equal(a, c) for a, c in zip(args, copies, strict=True))
    again = layers.lstm_backward(np.ones_like(h), cache)
    assert all(np.array_equal(g, a) for g, a in zip(grads, again, strict=True)), "backward twice, same result"


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kind, blocks", [("rnn", 1), ("lstm", 4)])
def test_bad_shapes_name_the_argument(kind, blocks):
    rng = np.random.default_rng(10)
    forward = getattr(layers, f"{kind}_forward")
    x, h0, Wx, Wh, b = _args(kind, rng)
    four = "4H" if blocks == 4 else "H"
    with pytest.raises(ValueError, match=r"x has shape \(2, 3\); expected \(N, T, D\)"):
        forward(x[:, 0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"h0 has shape \(3, 5\); expected \(N, H\) with N = 2"):
        forward(x, np.zeros((3, H)), Wx, Wh, b)
    with pytest.raises(ValueError, match=rf"Wx has shape \(3, 7\); expected \(D, {four}\) = \(3, {blocks * H}\)"):
        forward(x, h0, np.zeros((D, 7)), Wh, b)
    with pytest.raises(ValueError, match=rf"Wh has shape .*; expected \(H, {four}\)"):
        forward(x, h0, Wx, Wh[:, :-1], b)
    with pytest.raises(ValueError, match=rf"b has shape \(1,\); expected \({four},\)"):
        forward(x, h0, Wx, Wh, np.zeros(1))
    with pytest.raises(TypeError, match="x has dtype int64"):
        forward(np.ones((N, T, D), dtype=np.int64), h0, Wx, Wh, b)


def test_lstm_refuses_the_vanilla_rnn_shapes():
    rng = np.random.default_rng(11)
    x, h0, Wx, Wh, b = _args("rnn", rng)
    with pytest.raises(ValueError, match=r"Wx has shape \(3, 5\); expected \(D, 4H\) = \(3, 20\)"):
        layers.lstm_forward(x, h0, Wx, Wh, b)


def test_bad_upstream_and_loss_inputs():
    rng = np.random.default_rng(12)
    h, cache = layers.rnn_forward(*_args("rnn", rng))
    with pytest.raises(ValueError, match=r"dh has shape \(2, 3, 5\); expected \(2, 4, 5\)"):
        layers.rnn_backward(np.ones((N, T - 1, H)), cache)
    scores, y = np.zeros((N, T, 6)), np.zeros((N, T), dtype=int)
    with pytest.raises(ValueError, match=r"mask has shape \(2, 3\); expected \(N, T\) = \(2, 4\)"):
        layers.temporal_softmax_loss(scores, y, np.ones((N, T - 1), dtype=bool))
    with pytest.raises(TypeError, match="mask has dtype float64; expected a boolean"):
        layers.temporal_softmax_loss(scores, y, np.ones((N, T)))
    with pytest.raises(ValueError, match=r"y holds targets in \[6, 6\]; expected targets in \[0, 5\]"):
        layers.temporal_softmax_loss(scores, np.full((N, T), 6), None)
    with pytest.raises(ValueError, match=r"x holds indices in \[9, 9\]; expected indices in \[0, 5\]"):
        layers.word_embedding_forward(np.full((N, T), 9), np.zeros((6, 3)))
    with pytest.raises(ValueError, match=r"prev_c has shape \(2, 4\); expected \(N, H\) = \(2, 5\)"):
        layers.lstm_step_forward(np.zeros((N, D)), np.zeros((N, H)), np.zeros((N, 4)), np.zeros((D, 4 * H)),
                                 np.zeros((H, 4 * H)), np.zeros(4 * H))


# --------------------------------------------------------------------------- properties over shapes
@given(N=st.integers(1, 4), T=st.integers(1, 5), D=st.integers(1, 4), H=st.integers(1, 4), seed=st.integers(0, 99))
def test_any_shape_sequence_equals_steps_and_backward_matches_the_step_gates(N, T, D, H, seed):
    """For every small shape: the LSTM sequence gate is its step loop, forward and backward."""
    rng = np.random.default_rng(seed)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    h, cache = layers.lstm_forward(x, h0, Wx, Wh, b)
    dh = rng.standard_normal(h.shape)
    dx, dh0, dWx, dWh, db = layers.lstm_backward(dh, cache)
    ht, ct, caches = h0, np.zeros_like(h0), []
    for t in range(T):
        ht, ct, step_cache = layers.lstm_step_forward(x[:, t], ht, ct, Wx, Wh, b)
        assert np.allclose(ht, h[:, t], rtol=0, atol=1e-12)
        caches.append(step_cache)
    dnext_h, dnext_c, sums = np.zeros((N, H)), np.zeros((N, H)), [0, 0, 0]
    for t in range(T - 1, -1, -1):
        dx_t, dnext_h, dnext_c, dWx_t, dWh_t, db_t = layers.lstm_step_backward(dh[:, t] + dnext_h, dnext_c, caches[t])
        assert np.allclose(dx_t, dx[:, t], atol=1e-10)
        sums = [s + g for s, g in zip(sums, (dWx_t, dWh_t, db_t), strict=True)]
    assert np.allclose(dnext_h, dh0, atol=1e-10)
    assert all(np.allclose(s, g, atol=1e-10) for s, g in zip(sums, (dWx, dWh, db), strict=True))
