"""The experiments of 08_rnns and the modules under them (bptt, charlm, torch_rnn, recall_task):
each threshold the notebook asserts, shown to turn on the opposite experiment; the pieces checked
against independent computations; bad input."""

import math

import numpy as np
import pytest
import torch

from lecture_lib import bptt, charlm, figures, layers, optim, recall_task, torch_rnn
from lecture_lib.experiments import rnn as E
from lecture_lib.gradcheck import numerical_gradient, rel_error


# --------------------------------------------------------------------------- the recurrence
def test_weights_shared_and_its_opposite():
    shared = E.measure_parameter_sharing(lengths=(1, 5, 20), rng=0)
    copies = E.measure_parameter_sharing(lengths=(1, 5, 20), shared=False, rng=0)
    D, H = shared.input_size, shared.hidden
    assert shared.parameter_counts == (D * H + H * H + H + 2 * H,) * 3
    assert shared.torch_parameter_counts[0] == shared.parameter_counts[0] + H   # two biases in torch
    assert shared.weight_nodes == (3, 3, 3) and shared.graph_nodes[-1] > shared.graph_nodes[0]
    assert E.weights_shared(shared)
    assert copies.parameter_counts == tuple(T * shared.parameter_counts[0] for T in (1, 5, 20))
    assert not E.weights_shared(copies)
    assert set(copies.weights_per_step[0]) == {"copy"}


def test_the_rnn_figure_is_drawn_from_the_run():
    result = E.measure_parameter_sharing(lengths=(1, 10), rng=0)
    fig = figures.show("rnn", result=result)
    assert f"{result.parameter_counts[0]} parameters at every length" in fig._suptitle.get_text()
    assert "the same arrays at every step" in fig.axes[0].get_title()
    copies = E.measure_parameter_sharing(lengths=(1, 10), shared=False, rng=0)
    assert "a fresh copy at every step" in figures.show("rnn", result=copies).axes[0].get_title()


# --------------------------------------------------------------------------- gradients through time
def test_recurrent_matrix_has_the_asked_radius():
    for kind in bptt.MATRIX_KINDS:
        W = bptt.recurrent_matrix(16, 0.8, kind, 0)
        assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(0.8, rel=1e-9)
    Q = bptt.recurrent_matrix(16, 1.3, "orthogonal", 0)
    assert np.allclose(np.linalg.svd(Q, compute_uv=False), 1.3)
    assert np.linalg.norm(bptt.recurrent_matrix(16, 1.0, "gaussian", 0), 2) > 1.2


def test_vanish_explode_predicates_and_their_opposites():
    result = E.measure_gradient_through_time(radii=(0.9, 1.1), hidden=16, steps=60, rng=0)
    c = result.curve
    assert E.follows_power_law(c("orthogonal", 0.9, "linear")) and E.vanishes(c("orthogonal", 0.9, "linear"))
    assert E.explodes(c("orthogonal", 1.1, "linear")) and not E.vanishes(c("orthogonal", 1.1, "linear"))
    assert not E.explodes(c("orthogonal", 0.9, "linear"))
    assert not E.follows_power_law(c("orthogonal", 0.9, "tanh")), "tanh's factors break the power law"
    assert not E.follows_power_law(c("gaussian", 0.9, "linear")), "so does a non-normal matrix"
    assert E.rate_per_step(c("orthogonal", 0.9, "linear")) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="no curve for matrix='orthogonal', radius=0.5"):
        c("orthogonal", 0.5, "linear")


def test_backprop_through_time_equals_the_gates():
    """bptt's backward (dh only at the last step) against layers.rnn_backward with tanh."""
    rng = np.random.default_rng(1)
    H, T = 6, 9
    Wh = bptt.recurrent_matrix(H, 1.1, "gaussian", rng)
    u = rng.standard_normal((T, 2, H))
    hs = bptt.unroll(Wh, u, np.zeros((2, H)), "tanh")
    dh_last = rng.standard_normal((2, H))
    norms, dWh = bptt.backprop_through_time(hs, Wh, "tanh", dh_last)
    # the same recurrence through the gates: x = u with Wx = I, b = 0
    h, cache = layers.rnn_forward(u.transpose(1, 0, 2), np.zeros((2, H)), np.eye(H), Wh, np.zeros(H))
    assert np.allclose(h.transpose(1, 0, 2), hs[1:])
    dh = np.zeros_like(h)
    dh[:, -1] = dh_last
    dx, dh0, _, dWh_gates, _ = layers.rnn_backward(dh, cache)
    assert rel_error(dWh, dWh_gates) < 1e-12
    assert norms[-1] == pytest.approx(np.mean(np.linalg.norm(dh0, axis=1)))
    assert norms[1] == pytest.approx(np.mean(np.linalg.norm(dx[:, -1] @ Wh.T, axis=1)))


def test_clipping_functions():
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal((4, 4)) * 20, rng.standard_normal(3)]
    clipped, norm = bptt.clip_by_norm(grads, 1.0)
    assert norm == pytest.approx(bptt.global_norm(grads))
    assert bptt.global_norm(clipped) == pytest.approx(1.0, rel=1e-5)
    assert E.keeps_direction(bptt.cosine(grads, clipped))
    by_value = bptt.clip_by_value(grads, 1.0)
    assert max(np.abs(g).max() for g in by_value) <= 1.0
    assert not E.keeps_direction(bptt.cosine(grads, by_value))
    small, _ = bptt.clip_by_norm(grads, 1e6)
    assert all(np.array_equal(a, b) for a, b in zip(small, grads, strict=True)), "below the threshold: unchanged"
    with pytest.raises(ValueError, match="max_norm=0.0 is not valid"):
        bptt.clip_by_norm(grads, 0.0)


def test_clipping_experiment_predicates():
    result = E.measure_clipping(hidden=32, steps=100, rng=np.random.default_rng(8))
    none, by_norm = result.run("no clipping"), result.run("clip by norm")
    assert E.diverges(none) and not E.trains(none)
    assert E.trains(by_norm) and not E.diverges(by_norm)
    assert E.keeps_direction(result.cosine_norm) and not E.keeps_direction(result.cosine_value)


# --------------------------------------------------------------------------- the LSTM's cell state, the memory task
def test_cell_gradient_outlasts_and_its_opposite():
    cell = E.measure_cell_gradient(30, hidden=16, forget_biases=(0.0, 1.0), rng=0)
    assert E.cell_path_outlasts(cell, 1.0)
    assert not E.cell_path_outlasts(cell, 0.0) or cell.kept(0.0) < cell.kept(1.0)
    assert cell.forget_gate_mean[1.0] == pytest.approx(1 / (1 + math.exp(-1)), abs=0.05)


def test_recall_batch_and_loss_gradient():
    rng = np.random.default_rng(3)
    x, y = recall_task.recall_batch(rng, 5, 7)
    K = recall_task.SYMBOLS
    assert x.shape == (5, 7, 2 * K + 1) and x.dtype == np.float32
    assert np.array_equal(x[:, 0, :K].argmax(axis=1), y) and np.all(x[:, 0, 2 * K] == 1)
    assert np.all(x[:, 1:].sum(axis=2) == 1) and np.all(x[:, 1:, :K] == 0), "distractors on their own channels"
    for kind in ("rnn", "lstm"):
        params = recall_task.init_recall_model(kind, 4, rng, dtype=np.float64)
        xx = x.astype(np.float64)
        _, grads, _ = recall_task.recall_loss(kind, params, xx, y)
        for k in range(len(params)):
            def f(v, k=k, params=params, kind=kind, xx=xx):
                return recall_task.recall_loss(kind, [*params[:k], v, *params[k + 1:]], xx, y)[0]
            numeric = numerical_gradient(f, params[k].copy())
            assert np.allclose(grads[k], numeric, rtol=1e-6, atol=1e-10), (kind, k)


def test_long_range_thresholds_and_their_opposites():
    trained = E.measure_long_range(lengths=(4,), steps=120, models=(("lstm", 1.0),), rng=0)
    untrained = E.measure_long_range(lengths=(4,), steps=1, models=(("lstm", 1.0),), rng=0)
    name = E.model_name("lstm", 1.0)
    assert E.learned(trained.accuracy[name][0]) and not E.failed(trained.accuracy[name][0])
    assert E.failed(untrained.accuracy[name][0]) and not E.learned(untrained.accuracy[name][0])
    assert trained.solved_at[name][0] is not None and untrained.solved_at[name][0] is None


# --------------------------------------------------------------------------- characters
@pytest.fixture(scope="module")
def text():
    return "the cat sat on the mat. the dog sat on the log.\n" * 40


def test_vocabulary_round_trip_and_unknown_characters(text):
    vocab = charlm.Vocabulary.from_text(text)
    idx = vocab.encode(text)
    assert vocab.decode(idx) == text and idx.dtype == np.int64
    with pytest.raises(ValueError, match=r"characters outside the vocabulary: 'Z', 'é'"):
        vocab.encode("the Zé", "prefix")
    with pytest.raises(TypeError, match="expected a string"):
        vocab.encode(3)


def test_ngram_baselines(text):
    vocab = charlm.Vocabulary.from_text(text)
    idx = vocab.encode(text)
    counts = np.bincount(idx, minlength=vocab.size) / len(idx)
    entropy = float(-(counts[counts > 0] * np.log2(counts[counts > 0])).sum())
    unigram = charlm.ngram_bits_per_char(charlm.ngram_counts(idx, 1, vocab.size), idx, alpha=1e-9)
    assert unigram == pytest.approx(entropy, rel=1e-6)
    periodic = vocab.encode("the " * 300)
    bigram = charlm.ngram_bits_per_char(charlm.ngram_counts(periodic, 2, vocab.size), periodic, alpha=1e-9)
    assert bigram < 1e-6, "a bigram predicts 'the the the ...' perfectly"
    assert charlm.ngram_bits_per_char(charlm.ngram_counts(periodic, 1, vocab.size), periodic, 1e-9) == \
        pytest.approx(2.0, rel=1e-6), "four equally frequent characters: 2 bits for the unigram"
    assert E.beats({"m": 1.0, "b": 2.5}, "m", "b", by=1.0)
    assert not E.beats({"m": 1.0, "b": 1.5}, "m", "b", by=1.0), "saves 0.5 bit, not 1"


def test_temperature(text):
    scores = np.array([2.0, 1.0, 0.0])
    assert charlm.softmax_with_temperature(scores, 0.01)[0] == pytest.approx(1.0)
    assert np.allclose(charlm.softmax_with_temperature(scores, 1e6), 1 / 3, atol=1e-5)
    with pytest.raises(ValueError, match=r"temperature=0.0 is not valid; expected a number > 0"):
        charlm.softmax_with_temperature(scores, 0.0)
    vocab = charlm.Vocabulary.from_text(text)
    model = charlm.init_model("rnn", vocab, 4, 8, 0)
    with pytest.raises(ValueError, match=r"temperature=-1.0 is not valid"):
        charlm.sample(model, "the ", 10, -1.0, 0)
    with pytest.raises(ValueError, match=r"prefix='Qu' holds characters outside the vocabulary: 'Q'"):
        charlm.sample(model, "Qu", 10, 1.0, 0)
    with pytest.raises(ValueError, match="prefix='' is not valid"):
        charlm.next_char_distribution(model, "")
    a = charlm.sample(model, "the ", 30, 1.0, np.random.default_rng(5))
    assert a == charlm.sample(model, "the ", 30, 1.0, np.random.default_rng(5)) and len(a) == 30
    assert set(a) <= set(vocab.chars)


def test_numpy_char_rnn_learns_and_a_divergence_stops_with_a_message(text):
    vocab = charlm.Vocabulary.from_text(text)
    idx = vocab.encode(text)
    model = charlm.init_model("rnn", vocab, 8, 16, 0)
    before = charlm.bits_per_char(model, idx, streams=4, chunk=50)
    run = charlm.train(model, idx, steps=150, batch=4, seq_len=10, optimizer=optim.Adagrad(lr=0.1), rng=0)
    assert run.diverged_at is None and len(run.losses) == 150
    assert charlm.bits_per_char(model, idx, streams=4, chunk=50) < before - 1.5
    wild = charlm.init_model("rnn", vocab, 8, 16, 0)
    run = charlm.train(wild, idx, steps=3, batch=4, seq_len=10, optimizer=optim.SGD(lr=1e308), clip=None, rng=0)
    assert run.diverged_at is not None and "diverged at step" in run.message
    assert len(run.losses) == run.diverged_at and np.all(np.isfinite(run.losses))


def test_torch_lstm_export_equals_torch(text):
    """The exported NumPy model (gates reordered from torch's i, f, g, o to i, f, o, g) predicts
    what torch predicts."""
    vocab = charlm.Vocabulary.from_text(text)
    torch.manual_seed(0)
    net = torch_rnn.CharLSTM(vocab.size, 5, 7).double()
    model = torch_rnn.export(net, vocab)
    prefix = "the mat"
    with torch.no_grad():
        scores, _ = net(torch.as_tensor(vocab.encode(prefix))[None])
    theirs = torch.softmax(scores[0, -1], dim=0).numpy()
    assert rel_error(charlm.next_char_distribution(model, prefix), theirs) < 1e-10
    assert net.lstm.bias_ih_l0[7:14].detach().numpy() == pytest.approx(1.0), "forget bias starts at 1"
    blocks = np.arange(8).reshape(4, 2)
    assert np.array_equal(torch_rnn.to_numpy_order(blocks), blocks[[0, 1, 3, 2]])


def test_torch_lstm_training_is_recorded(text):
    vocab = charlm.Vocabulary.from_text(text)
    idx = vocab.encode(text)
    run = torch_rnn.train(vocab, idx, embed=4, hidden=8, steps=30, batch=4, seq_len=10, lr=1e-2, rng=0,
                             device=torch.device("cpu"))
    assert run["message"] == "trained 30 steps" and len(run["losses"]) == 30
    assert run["losses"][-5:].mean() < run["losses"][:5].mean()
    assert run["Wx"].shape == (4, 32) and run["chars"] == vocab.chars
    assert torch_rnn.bits_per_char(run["torch_model"], idx, streams=4) < math.log2(vocab.size)


# --------------------------------------------------------------------------- bad input
def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="kind='sparse' is not known"):
        bptt.recurrent_matrix(4, 1.0, "sparse")
    with pytest.raises(ValueError, match="nonlinearity='relu' is not known"):
        bptt.unroll(np.eye(2), np.zeros((3, 1, 2)), np.zeros((1, 2)), "relu")
    with pytest.raises(ValueError, match="steps=0 is not valid"):
        E.measure_long_range(lengths=(4,), steps=0, rng=0)
    with pytest.raises(TypeError, match="rng=None is not valid"):
        E.measure_cell_gradient(rng=None)
    with pytest.raises(ValueError, match=r"length=1 is not valid; expected an integer >= 2"):
        recall_task.recall_batch(0, 3, 1)
    with pytest.raises(ValueError, match="clip='both' is not known"):
        charlm.train(charlm.init_model("rnn", charlm.Vocabulary("ab"), 2, 2, 0), np.zeros(100, dtype=int),
                     steps=1, optimizer=optim.SGD(lr=0.1), clip="both", rng=0)
