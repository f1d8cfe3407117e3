"""Experiments of 08_rnns on language: a character-level vanilla RNN in NumPy (min-char-rnn's
settings) and an LSTM in torch, against n-gram baselines, in bits per character of held-out text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import charlm, optim
from ..._checks import as_rng
from ...config import by_profile, single_thread

# --------------------------------------------------------------------------- a character-level language model
BEATS_UNIGRAM_BY = 1.0   # bits per character a model must save over the unigram baseline
TEMPERATURES = (0.5, 1.0, 1.5)


@dataclass(frozen=True)
class CharLM:
    """Bits per character on the held-out tenth of the text: the baselines (``uniform``: log2 V;
    ``unigram``, ``bigram``, ``trigram``: add-alpha n-grams) and the two models; the NumPy RNN's
    training run; the LSTM's record; samples of the LSTM at several temperatures."""

    vocab_size: int
    train_chars: int
    test_chars: int
    bits: dict
    rnn_run: charlm.TrainingRun
    rnn_config: dict     # hidden, seq_len, batch, lr, clip_at (each entry clipped to +-clip_at)
    lstm_record: dict
    lstm_config: dict
    samples: dict        # temperature -> text


CLIP_AT = 5.0       # min-char-rnn clips every entry of the gradient to [-5, 5]


def measure_char_lm(*, rnn_steps: int | None = None, hidden: int = 100, seq_len: int = 25, batch: int = 32,
                    lr: float = 0.1, sample_every: int = 0, on_sample=None, lstm_config: dict | None = None,
                    rng) -> CharLM:
    """The NumPy vanilla RNN (hidden 100, 25 steps, Adagrad at 0.1, gradients clipped to +-5: the
    settings of min-char-rnn, on batches of streams) and the torch LSTM, against n-gram baselines.
    ``on_sample(step, text)`` is called with each sample taken while the RNN trains."""
    rng = as_rng(rng)
    rnn_steps = by_profile(fast=300, full=6000) if rnn_steps is None else rnn_steps
    vocab, indices = charlm.course_text()
    train, test = charlm.split(indices, 0.1)
    bits = {"uniform": math.log2(vocab.size)}
    for order, name in ((1, "unigram"), (2, "bigram"), (3, "trigram")):
        bits[name] = charlm.ngram_baseline(train, test, order, vocab.size)[0]
    model = charlm.init_model("rnn", vocab, 32, hidden, rng, dtype=np.float32)

    with single_thread():                 # small matrices: a second thread only waits
        run = charlm.train(model, train, steps=rnn_steps, batch=batch, seq_len=seq_len,
                           optimizer=optim.Adagrad(lr=lr), clip="value", clip_at=CLIP_AT,
                           sample_every=sample_every, rng=rng, on_sample=on_sample)
        bits["vanilla RNN"] = charlm.bits_per_char(model, test)
    from ... import torch_rnn

    lstm_model, record = torch_rnn.trained_char_lstm(lstm_config)
    bits["LSTM"] = float(record["test_bits"])
    samples = {t: charlm.sample(lstm_model, "The ", 160, t, rng) for t in TEMPERATURES}
    config = dict(torch_rnn.char_lstm_config() if lstm_config is None else lstm_config)
    rnn_config = {"hidden": hidden, "seq_len": seq_len, "batch": batch, "lr": lr, "clip_at": CLIP_AT}
    return CharLM(vocab.size, len(train), len(test), bits, run, rnn_config, record, config, samples)


def beats(bits: dict, model: str, baseline: str, by: float = 0.0) -> bool:
    """The model's bits per character are below the baseline's by more than ``by``."""
    return bool(bits[model] < bits[baseline] - by)
