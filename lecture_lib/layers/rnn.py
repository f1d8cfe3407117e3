"""Recurrent gates: the vanilla RNN and the LSTM, one step and a whole sequence, and the pieces of a
language model (embedding, affine and softmax loss over time), in the shapes of CS231n's rnn_layers.

Shapes: N sequences in a batch, T time steps, D input features, H hidden units, V words (or
characters) in the vocabulary, M outputs. Weights act on row vectors, ``h @ Wh``: the notes'
``W_hh h`` (column vectors) is ``Wh = W_hh.T`` here.

- vanilla RNN: ``next_h = tanh(x @ Wx + prev_h @ Wh + b)``, Wx (D, H), Wh (H, H), b (H,);
- LSTM: ``a = x @ Wx + prev_h @ Wh + b`` with Wx (D, 4H), Wh (H, 4H), b (4H,), cut into four blocks
  of H in the order **i, f, o, g**: input, forget and output gates ``sigmoid(a_i), sigmoid(a_f),
  sigmoid(a_o)`` and the candidate ``g = tanh(a_g)``; then ``next_c = f * prev_c + i * g`` and
  ``next_h = o * tanh(next_c)``. (torch's ``nn.LSTM`` stores the blocks as i, f, g, o.)

The sequence gates compute the input projection ``x @ Wx + b`` of every step with one matrix product
before the time loop, keep their per-step arrays time-major, and write each step's gates in place;
the backward pass likewise collects every step's gate gradients and forms the weight gradients and
``dx`` with one product each after its loop (the LSTM's ``dWx``, ``db`` and ``dWh`` with a single
one). Only the recurrence itself, ``prev_h @ Wh``, stays in the loop. Every gate keeps its inputs'
floating dtype; caches are plain tuples.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array

__all__ = [
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "word_embedding_forward", "word_embedding_backward",
    "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
]


# --------------------------------------------------------------------------- checks
def _expect(array, name: str, shape: tuple, meaning: str, context: str) -> None:
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}; expected {meaning} = {shape} {context}")


def _check_recurrent(x, prev_h, Wx, Wh, b, *, n_blocks: int, sequence: bool, h_name: str):
    """Validate the arguments of a recurrent gate; returns them cast to one floating dtype."""
    x = check_array(x, "x", shape=("N", "T", "D") if sequence else ("N", "D"))
    if sequence:
        N, T, D = x.shape
        if T == 0:
            raise ValueError(f"x has shape {x.shape}; expected (N, T, D) with at least one time step")
    else:
        N, D = x.shape
    prev_h = check_array(prev_h, h_name, shape=("N", "H"))
    if prev_h.shape[0] != N:
        raise ValueError(f"{h_name} has shape {prev_h.shape}; expected (N, H) with N = {N}, the batch "
                         f"size of x of shape {x.shape}")
    H = prev_h.shape[1]
    four = "4H" if n_blocks == 4 else "H"
    context = f"for x of shape {x.shape} and {h_name} of shape {prev_h.shape}"
    Wx = check_array(Wx, "Wx", ndim=2)
    Wh = check_array(Wh, "Wh", ndim=2)
    b = check_array(b, "b", ndim=1)
    _expect(Wx, "Wx", (D, n_blocks * H), f"(D, {four})", context)
    _expect(Wh, "Wh", (H, n_blocks * H), f"(H, {four})", context)
    _expect(b, "b", (n_blocks * H,), f"({four},)", context)
    dtype = np.result_type(x, prev_h, Wx, Wh, b)
    return tuple(a.astype(dtype, copy=False) for a in (x, prev_h, Wx, Wh, b))


def _check_upstream(d, name: str, shape: tuple) -> np.ndarray:
    d = check_array(d, name)
    if d.shape != shape:
        raise ValueError(f"{name} has shape {d.shape}; expected {shape}, the shape of the forward's output")
    return d


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """sigmoid(a) written into a, overflow-free: sigmoid(a) = (1 + tanh(a / 2)) / 2."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


# --------------------------------------------------------------------------- vanilla RNN
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One step of a vanilla RNN: ``next_h = tanh(x @ Wx + prev_h @ Wh + b)``.

    Inputs: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,).
    Returns (next_h, cache): next_h (N, H); cache = (x, prev_h, Wx, Wh, next_h).
    """
    x, prev_h, Wx, Wh, b = _check_recurrent(x, prev_h, Wx, Wh, b, n_blocks=1, sequence=False,
                                            h_name="prev_h")
    return rnn_step(x, prev_h, Wx, Wh, b)


def rnn_step(x, prev_h, Wx, Wh, b):
    """:func:`rnn_step_forward` without the argument checks, for loops that checked them once."""
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    """Backward of one RNN step. tanh's local gradient is ``1 - next_h**2``, taken on the output.

    Inputs: dnext_h (N, H), the cache of :func:`rnn_step_forward`.
    Returns (dx, dprev_h, dWx, dWh, db) with the shapes of (x, prev_h, Wx, Wh, b).
    """
    x, prev_h, Wx, Wh, next_h = cache
    dnext_h = _check_upstream(dnext_h, "dnext_h", next_h.shape)
    da = dnext_h * (1 - next_h * next_h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla RNN over a whole sequence, the same weights at every step.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,).
    Returns (h, cache): h (N, T, H), the hidden state after each step.
    """
    x, h0, Wx, Wh, b = _check_recurrent(x, h0, Wx, Wh, b, n_blocks=1, sequence=True, h_name="h0")
    N, T, D = x.shape
    H = h0.shape[1]
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))         # time-major (T, N, D)
    hs = np.empty((T + 1, N, H), dtype=x.dtype)                # hs[0] = h0, hs[t + 1] = h_t
    hs[0] = h0
    np.matmul(x_tm.reshape(T * N, D), Wx, out=hs[1:].reshape(T * N, H))  # every step's x_t Wx at once
    hs[1:] += b
    for t in range(T):
        hs[t + 1] += hs[t] @ Wh
        np.tanh(hs[t + 1], out=hs[t + 1])
    return np.ascontiguousarray(hs[1:].transpose(1, 0, 2)), (x_tm, Wx, Wh, hs)


def rnn_backward(dh, cache):
    """Backpropagation through time. ``dh`` (N, T, H) is the gradient of the loss with respect to
    every hidden state *from the layers above*; the gradient arriving from the next time step is
    added inside the loop, so each h_t receives both.

    Returns (dx, dh0, dWx, dWh, db) with the shapes of (x, h0, Wx, Wh, b).
    """
    x_tm, Wx, Wh, hs = cache
    T, N, D = x_tm.shape
    H = Wh.shape[0]
    dh = _check_upstream(dh, "dh", (N, T, H))
    da = 1 - hs[1:] * hs[1:]                                   # tanh' on the outputs, (T, N, H)
    dprev = np.zeros((N, H), dtype=da.dtype)
    WhT = np.ascontiguousarray(Wh.T)
    for t in range(T - 1, -1, -1):
        dprev += dh[:, t]                                      # from above + from step t + 1
        da[t] *= dprev
        np.matmul(da[t], WhT, out=dprev)
    da = da.reshape(T * N, H)
    dx = np.ascontiguousarray((da @ Wx.T).reshape(T, N, D).transpose(1, 0, 2))
    return dx, dprev, x_tm.reshape(T * N, D).T @ da, hs[:-1].reshape(T * N, H).T @ da, da.sum(axis=0)


# --------------------------------------------------------------------------- LSTM
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM step, gates in the order i, f, o, g along the 4H axis.

    Inputs: x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,).
    Returns (next_h, next_c, cache): next_h, next_c (N, H);
    cache = (x, prev_h, prev_c, Wx, Wh, gates, tanh_c) with gates = [i, f, o, g] (N, 4H).
    """
    x, prev_h, Wx, Wh, b = _check_recurrent(x, prev_h, Wx, Wh, b, n_blocks=4, sequence=False,
                                            h_name="prev_h")
    prev_c = check_array(prev_c, "prev_c").astype(prev_h.dtype, copy=False)
    if prev_c.shape != prev_h.shape:
        raise ValueError(f"prev_c has shape {prev_c.shape}; expected (N, H) = {prev_h.shape}, the shape of prev_h")
    return lstm_step(x, prev_h, prev_c, Wx, Wh, b)


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    """:func:`lstm_step_forward` without the argument checks, for loops that checked them once."""
    H = prev_h.shape[1]
    gates = x @ Wx + prev_h @ Wh + b
    _sigmoid_(gates[:, :3 * H])                                # i, f, o
    np.tanh(gates[:, 3 * H:], out=gates[:, 3 * H:])            # g
    i, f, o, g = (gates[:, k * H:(k + 1) * H] for k in range(4))
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, gates, tanh_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward of one LSTM step. The cell state gets the gradient from the next step (``dnext_c``)
    plus the one through ``next_h = o * tanh(next_c)``.

    Returns (dx, dprev_h, dprev_c, dWx, dWh, db) with the shapes of (x, prev_h, prev_c, Wx, Wh, b).
    """
    x, prev_h, prev_c, Wx, Wh, gates, tanh_c = cache
    dnext_h = _check_upstream(dnext_h, "dnext_h", prev_h.shape)
    dnext_c = _check_upstream(dnext_c, "dnext_c", prev_c.shape)
    H = prev_h.shape[1]
    i, f, o, g = (gates[:, k * H:(k + 1) * H] for k in range(4))
    dc = dnext_c + dnext_h * o * (1 - tanh_c * tanh_c)
    da = np.concatenate([dc * g * i * (1 - i),                 # through i
                         dc * prev_c * f * (1 - f),            # through f
                         dnext_h * tanh_c * o * (1 - o),       # through o
                         dc * i * (1 - g * g)], axis=1)        # through g
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# Inside the sequence gates, the four gate blocks of the weights are taken in other orders than the
# contract's i, f, o, g (= 0, 1, 2, 3), so that what one operation treats together sits side by side.
FORWARD_ORDER = (0, 2, 1, 3)     # steps[t] = [i, o, f, g, tanh(c_t), c_(t-1)]
BACKWARD_ORDER = (0, 1, 3, 2)    # da[:, t] = [da_i, da_f, da_g, da_o]


def _gate_blocks(W, order):
    """W (K, 4H) as (4, K, H): the gate blocks of its columns, in ``order`` (a copy)."""
    K, H = W.shape[0], W.shape[1] // 4
    return np.ascontiguousarray(W.reshape(K, 4, H).transpose(1, 0, 2)[list(order)])


def lstm_forward(x, h0, Wx, Wh, b):
    """An LSTM over a whole sequence; the initial cell state is zero.

    Inputs: x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,), gates i, f, o, g.
    Returns (h, cache): h (N, T, H).

    Speed: the sigmoid is computed as ``(1 + tanh(a / 2)) / 2``, so halving the i, f, o columns of
    the weights once lets one ``tanh`` call cover all four gates of a step. Each step's arrays sit
    side by side, ``steps[t] = [i, o, f, g, tanh(c_t), c_(t-1)]``, each (N, H) and contiguous: the
    step's small element-wise operations then cost little more than their call, the recurrent
    product is one batched product over the four gates, and the backward pass takes i, o, f with
    their partners g, tanh(c_t), c_(t-1) (and g, tanh(c_t) with i, o) in one operation each. Each
    step's input ``[x_t, 1, h_(t-1)]`` is one row block of an array ``xh``: one product before the
    loop gives every step's ``x_t Wx + b`` (the column of ones carries the bias), and one after the
    backward loop gives ``dWx``, ``db`` and ``dWh``. Arrays are allocated once and written in place
    (a fresh large array costs page faults).
    """
    x, h0, Wx, Wh, b = _check_recurrent(x, h0, Wx, Wh, b, n_blocks=4, sequence=True, h_name="h0")
    N, T, D = x.shape
    H = h0.shape[1]
    half = np.ones(4 * H, dtype=x.dtype)                       # 1/2 on the i, f, o columns, 1 on g
    half[:3 * H] = 0.5
    xh = np.empty((T + 1, N, D + 1 + H), dtype=x.dtype)        # xh[t] = [x_t, 1, h_(t-1)], time-major
    xh[:T, :, :D] = x.transpose(1, 0, 2)
    xh[T, :, :D] = 0                                           # xh[T] holds h_T only
    xh[:, :, D] = 1
    xh[0, :, D + 1:] = h0
    W_in = _gate_blocks(np.concatenate([Wx, b[None]]) * half, FORWARD_ORDER)   # (4, D + 1, H)
    Wh_half = _gate_blocks(Wh * half, FORWARD_ORDER)                           # (4, H, H)
    steps = np.empty((T + 1, 6, N, H), dtype=x.dtype)          # steps[T, 5] = c_T
    np.matmul(xh[:T, None, :, :D + 1], W_in, out=steps[:T, :4])  # every step's x_t Wx + b, gate by gate
    recurrent = np.empty((4, N, H), dtype=x.dtype)
    ig = np.empty((N, H), dtype=x.dtype)
    steps[0, 5] = 0
    for t in range(T):
        step = steps[t]
        gates = step[:4]                                       # holds x_t Wx + b; becomes [i, o, f, g]
        np.matmul(xh[t, :, D + 1:], Wh_half, out=recurrent)
        gates += recurrent
        np.tanh(gates, out=gates)
        sigmoids = step[:3]                                    # i, o, f: tanh(a / 2) / 2 + 1/2; g: tanh
        sigmoids *= 0.5
        sigmoids += 0.5
        c = steps[t + 1, 5]
        np.multiply(step[2], step[5], out=c)                   # f * c_(t-1)
        np.multiply(step[0], step[3], out=ig)                  # i * g
        c += ig
        np.tanh(c, out=step[4])
        np.multiply(step[1], step[4], out=xh[t + 1, :, D + 1:])  # h_t = o * tanh(c_t)
    return np.ascontiguousarray(xh[1:, :, D + 1:].transpose(1, 0, 2)), (xh, Wx, Wh, steps)


def lstm_backward(dh, cache):
    """Backpropagation through time for the LSTM; ``dh`` (N, T, H) is the gradient from the layers
    above. Returns (dx, dh0, dWx, dWh, db) with the shapes of (x, h0, Wx, Wh, b).

    Each step forms ``dc = dh_t o (1 - tanh(c_t)^2) + dc_(t+1)`` and the gates' pre-activation
    gradients (``sigmoid' = s (1 - s)``, ``tanh' = 1 - g^2``), then passes ``da_t @ Wh.T`` (one
    batched product over the four gates, summed) to the step before; ``dWx``, ``db``, ``dWh`` and
    ``dx`` are one product each over all steps after the loop."""
    xh, Wx, Wh, steps = cache
    T, N, H = steps.shape[0] - 1, steps.shape[2], steps.shape[3]
    D = Wx.shape[0]
    dh = _check_upstream(dh, "dh", (N, T, H))
    dh = np.ascontiguousarray(dh.transpose(1, 0, 2), dtype=steps.dtype)   # time-major: dh[t] is contiguous
    da = np.empty((4, T, N, H), dtype=steps.dtype)             # da[:, t] = [da_i, da_f, da_g, da_o]
    dprev_h = np.zeros((N, H), dtype=steps.dtype)
    dprev_c = np.zeros((N, H), dtype=steps.dtype)
    dh_t, dc = np.empty((N, H), dtype=steps.dtype), np.empty((N, H), dtype=steps.dtype)
    local = np.empty((6, N, H), dtype=steps.dtype)             # local factors: [i, o, f, (unused), g, c]
    through = np.empty((4, N, H), dtype=steps.dtype)
    WhT = np.ascontiguousarray(_gate_blocks(Wh, BACKWARD_ORDER).transpose(0, 2, 1))   # (4, H, H)
    for t in range(T - 1, -1, -1):
        step = steps[t]                                        # [i, o, f, g, tanh(c_t), c_(t-1)]
        np.add(dprev_h, dh[t], out=dh_t)                       # from above + from step t + 1
        np.subtract(1, step[:3], out=local[:3])
        local[:3] *= step[:3]                                  # s (1 - s) for i, o, f ...
        local[:3] *= step[3:]                                  # ... times g, tanh(c_t), c_(t-1)
        np.multiply(step[3:5], step[3:5], out=local[4:])
        np.subtract(1, local[4:], out=local[4:])
        local[4:] *= step[:2]                                  # (1 - g^2) i and (1 - tanh(c_t)^2) o
        np.multiply(local[5], dh_t, out=dc)
        dc += dprev_c                                          # through h_t, plus the cell path from t + 1
        np.multiply(local[0:5:2], dc, out=da[:3, t])           # da_i, da_f, da_g: their factor times dc
        np.multiply(local[1], dh_t, out=da[3, t])              # da_o = dh_t tanh(c_t) o (1 - o)
        np.multiply(dc, step[2], out=dprev_c)                  # through f
        np.matmul(da[:, t], WhT, out=through)                  # da_t @ Wh.T, gate by gate
        np.add.reduce(through, axis=0, out=dprev_h)
    da = da.reshape(4, T * N, H)
    dW = np.matmul(xh[:T].reshape(T * N, D + 1 + H).T, da)    # [dWx; db; dWh] gate by gate, every step at once
    dW = dW[list(np.argsort(BACKWARD_ORDER))].transpose(1, 0, 2).reshape(D + 1 + H, 4 * H)  # i, f, o, g again
    dx = np.matmul(da, _gate_blocks(Wx, BACKWARD_ORDER).transpose(0, 2, 1)).sum(axis=0)
    dx = np.ascontiguousarray(dx.reshape(T, N, D).transpose(1, 0, 2))
    return dx, dprev_h, dW[:D], dW[D + 1:], dW[D]


# --------------------------------------------------------------------------- language-model pieces
def word_embedding_forward(x, W):
    """Look up a vector for each word index: ``out[n, t] = W[x[n, t]]``. Multiplying a one-hot
    vector by W picks the same row, so this is the input layer of min-char-rnn, without the product.

    Inputs: x (N, T) integers in [0, V), W (V, D). Returns (out, cache): out (N, T, D); cache = (x, W.shape).
    """
    W = check_array(W, "W", ndim=2)
    x = check_array(x, "x", ndim=2, kind="int")
    V = W.shape[0]
    if x.size and (x.min() < 0 or x.max() >= V):
        raise ValueError(f"x holds indices in [{x.min()}, {x.max()}]; expected indices in [0, {V - 1}] "
                         f"for W of shape {W.shape}")
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache):
    """Backward of the lookup: each row of W collects the gradients of every place it was used.
    Returns dW (V, D)."""
    x, shape = cache
    dout = _check_upstream(dout, "dout", (*x.shape, shape[1]))
    dW = np.zeros(shape, dtype=dout.dtype)
    np.add.at(dW, x.ravel(), dout.reshape(-1, shape[1]))
    return dW


def temporal_affine_forward(x, w, b):
    """The same affine layer at every time step: ``out[:, t] = x[:, t] @ w + b``.

    Inputs: x (N, T, D), w (D, M), b (M,). Returns (out, cache): out (N, T, M); cache = (x, w).
    """
    x = check_array(x, "x", ndim=3)
    w = check_array(w, "w", ndim=2)
    b = check_array(b, "b", ndim=1)
    N, T, D = x.shape
    context = f"for x of shape {x.shape}"
    _expect(w, "w", (D, w.shape[1]), "(D, M)", context)
    _expect(b, "b", (w.shape[1],), "(M,)", f"for w of shape {w.shape}")
    return (x.reshape(N * T, D) @ w + b).reshape(N, T, -1), (x, w)


def temporal_affine_backward(dout, cache):
    """Returns (dx, dw, db) with the shapes of (x, w, b)."""
    x, w = cache
    N, T, D = x.shape
    dout = _check_upstream(dout, "dout", (N, T, w.shape[1])).reshape(N * T, -1)
    return (dout @ w.T).reshape(N, T, D), x.reshape(N * T, D).T @ dout, dout.sum(axis=0)


def temporal_softmax_loss(x, y, mask=None):
    """Softmax cross-entropy at every time step, summed over the steps where ``mask`` is true and
    averaged over the N sequences (CS231n's convention; divide by the number of counted steps for a
    per-character loss).

    Inputs: x (N, T, V) scores, y (N, T) integer targets in [0, V), mask (N, T) booleans (None: all).
    Returns (loss, dx).
    """
    x = check_array(x, "x", ndim=3)
    N, T, V = x.shape
    y = check_array(y, "y", kind="int")
    if y.shape != (N, T):
        raise ValueError(f"y has shape {y.shape}; expected (N, T) = {(N, T)} for x of shape {x.shape}")
    if y.size and (y.min() < 0 or y.max() >= V):
        raise ValueError(f"y holds targets in [{y.min()}, {y.max()}]; expected targets in [0, {V - 1}]")
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    mask = check_array(mask, "mask", kind="bool")
    if mask.shape != (N, T):
        raise ValueError(f"mask has shape {mask.shape}; expected (N, T) = {(N, T)}, the shape of y")
    flat = x.reshape(N * T, V)
    shifted = flat - flat.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N * T)
    m = mask.ravel()
    loss = -log_probs[rows, y.ravel()][m].sum() / N
    dx = np.exp(log_probs)
    dx[rows, y.ravel()] -= 1
    dx *= (m / N)[:, None]
    return loss, dx.reshape(N, T, V)
