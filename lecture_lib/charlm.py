"""Character-level language models in NumPy: a vocabulary, n-gram baselines, a recurrent model
built on the gates of :mod:`lecture_lib.layers`, its training loop (truncated backpropagation
through time, in the spirit of Karpathy's min-char-rnn), and sampling with a temperature.

A model is a :class:`CharModel`: its kind (``"rnn"`` or ``"lstm"``, gates i, f, o, g), its
vocabulary and a dict of arrays::

    W_embed (V, D) -> Wx (D, H or 4H), Wh (H, H or 4H), b -> W_out (H, V), b_out (V,)

The same container holds a model trained here and one trained in torch and exported (see
the torch LSTM of :mod:`lecture_lib.torch_rnn`), so sampling and the explorers need no torch.

Quality is measured in **bits per character**: the mean of -log2 p(next character) on text the
model has not seen. A model that knows nothing pays log2(V) bits; the unigram and bigram models
(character frequencies, and frequencies given the previous character) are the baselines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import layers
from ._checks import as_rng, check_array, check_choice, check_int, check_positive, check_positive_int, check_scalar
from .bptt import clip_by_norm, clip_by_value
from .layers.rnn import lstm_step, rnn_step

LN2 = math.log(2.0)
KINDS = ("rnn", "lstm")
PARAM_NAMES = ("W_embed", "Wx", "Wh", "b", "W_out", "b_out")


# --------------------------------------------------------------------------- vocabulary
@dataclass(frozen=True)
class Vocabulary:
    """The characters of a text, sorted; ``encode`` maps text to indices and ``decode`` back."""

    chars: str
    _table: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.chars, str) or not self.chars:
            raise ValueError(f"chars={self.chars!r} is not valid; expected a non-empty string")
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("chars holds a character twice; expected distinct characters")
        codes = np.array([ord(c) for c in self.chars])
        table = np.full(codes.max() + 1, -1, dtype=np.int64)
        table[codes] = np.arange(len(codes))
        object.__setattr__(self, "_table", table)

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty string")
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str, name: str = "text") -> np.ndarray:
        """Indices (int64) of the characters of ``text``; a character outside the vocabulary is a
        ValueError that names it."""
        if not isinstance(text, str):
            raise TypeError(f"{name}={text!r} is not valid; expected a string")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        inside = codes < len(self._table)
        idx = np.full(codes.shape, -1, dtype=np.int64)
        idx[inside] = self._table[codes[inside]]
        if np.any(idx < 0):
            unknown = sorted({text[i] for i in np.flatnonzero(idx < 0)})
            raise ValueError(f"{name}={text[:40]!r} holds characters outside the vocabulary: "
                             f"{', '.join(map(repr, unknown[:10]))}; expected characters of the "
                             f"training text ({self.size} known)")
        return idx

    def decode(self, indices) -> str:
        idx = check_array(indices, "indices", ndim=1, kind="int")
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            raise ValueError(f"indices holds values in [{idx.min()}, {idx.max()}]; expected [0, {self.size - 1}]")
        return "".join(self.chars[i] for i in idx)


def split(indices: np.ndarray, held_out: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The text cut in two: the first part to train on, the last ``held_out`` fraction to test on
    (a contiguous block, so no sentence is shared)."""
    held_out = check_scalar(held_out, "held_out", min=0.0, max=1.0, min_inclusive=False, max_inclusive=False)
    cut = int(round(len(indices) * (1 - held_out)))
    return indices[:cut], indices[cut:]


def course_text() -> tuple[Vocabulary, np.ndarray]:
    """The course's text (Python's own help topics, shipped with CPython: ``data.text_corpus``),
    its vocabulary, and the text as indices."""
    from .data import text_corpus

    text = text_corpus()
    vocab = Vocabulary.from_text(text)
    return vocab, vocab.encode(text)


# --------------------------------------------------------------------------- n-gram baselines
def ngram_counts(indices: np.ndarray, order: int, V: int) -> np.ndarray:
    """Counts of each character after each context of ``order - 1`` characters, shape (V^(order-1), V)."""
    order = check_int(order, "order", min=1, max=3)
    ctx = np.zeros(len(indices) - order + 1, dtype=np.int64)
    for k in range(order - 1):
        ctx = ctx * V + indices[k:len(indices) - order + 1 + k]
    nxt = indices[order - 1:]
    return np.bincount(ctx * V + nxt, minlength=V ** order).reshape(V ** (order - 1), V)


def ngram_bits_per_char(counts: np.ndarray, indices: np.ndarray, alpha: float) -> float:
    """Bits per character of add-``alpha`` smoothed n-gram counts on ``indices``."""
    alpha = check_positive(alpha, "alpha")
    V = counts.shape[1]
    order = int(round(math.log(counts.shape[0] * V, V)))
    ctx = np.zeros(len(indices) - order + 1, dtype=np.int64)
    for k in range(order - 1):
        ctx = ctx * V + indices[k:len(indices) - order + 1 + k]
    nxt = indices[order - 1:]
    p = (counts[ctx, nxt] + alpha) / (counts.sum(axis=1)[ctx] + alpha * V)
    return float(-np.mean(np.log2(p)))


def ngram_baseline(train: np.ndarray, test: np.ndarray, order: int, V: int,
                   alphas=(0.01, 0.03, 0.1, 0.3, 1.0)) -> tuple[float, float]:
    """An n-gram model's bits per character on ``test``, with the smoothing ``alpha`` chosen on the
    last tenth of ``train`` (fitted on the rest). Returns (bits per character, alpha)."""
    fit, dev = split(train, 0.1)
    dev_counts = ngram_counts(fit, order, V)
    alpha = min(alphas, key=lambda a: ngram_bits_per_char(dev_counts, dev, a))
    return ngram_bits_per_char(ngram_counts(train, order, V), test, alpha), float(alpha)


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class CharModel:
    """A character-level language model: embedding, one recurrent layer, a softmax over the vocabulary."""

    kind: str
    vocab: Vocabulary
    params: dict

    @property
    def hidden(self) -> int:
        return self.params["Wh"].shape[0]

    def param_list(self) -> list:
        return [self.params[k] for k in PARAM_NAMES]


def init_model(kind: str, vocab: Vocabulary, embed: int, hidden: int, rng, *, forget_bias: float = 1.0,
               dtype=np.float64) -> CharModel:
    """Small random weights (std 1/sqrt(fan-in)); an LSTM's forget-gate bias starts at ``forget_bias``."""
    check_choice(kind, "kind", KINDS)
    embed, hidden = check_positive_int(embed, "embed"), check_positive_int(hidden, "hidden")
    rng = as_rng(rng)
    V, g = vocab.size, 4 if kind == "lstm" else 1
    params = {
        "W_embed": rng.standard_normal((V, embed)),
        "Wx": rng.standard_normal((embed, g * hidden)) / math.sqrt(embed),
        "Wh": rng.standard_normal((hidden, g * hidden)) / math.sqrt(hidden),
        "b": np.zeros(g * hidden),
        "W_out": rng.standard_normal((hidden, V)) / math.sqrt(hidden),
        "b_out": np.zeros(V),
    }
    if kind == "lstm":
        params["b"][hidden:2 * hidden] = check_scalar(forget_bias, "forget_bias")
    return CharModel(kind, vocab, {k: v.astype(dtype) for k, v in params.items()})


def loss_and_grads(model: CharModel, x: np.ndarray, y: np.ndarray, h0: np.ndarray):
    """Mean cross-entropy (nats per character) of predicting ``y`` from ``x`` (both (N, T)
    indices) starting from the hidden state ``h0``; its gradients (a dict like ``params``); the
    last hidden state, to carry into the next chunk. Vanilla RNN only: the LSTM gates start every
    sequence from a zero cell state."""
    if model.kind != "rnn":
        raise ValueError(f"model.kind={model.kind!r}; loss_and_grads trains the vanilla 'rnn' "
                         "(the LSTM of this course trains in torch, see torch_rnn)")
    p = model.params
    emb, emb_cache = layers.word_embedding_forward(x, p["W_embed"])
    h, rnn_cache = layers.rnn_forward(emb, h0, p["Wx"], p["Wh"], p["b"])
    scores, out_cache = layers.temporal_affine_forward(h, p["W_out"], p["b_out"])
    loss, dscores = layers.temporal_softmax_loss(scores, y)
    dh, dW_out, db_out = layers.temporal_affine_backward(dscores, out_cache)
    demb, _, dWx, dWh, db = layers.rnn_backward(dh, rnn_cache)
    dW_embed = layers.word_embedding_backward(demb, emb_cache)
    grads = {"W_embed": dW_embed, "Wx": dWx, "Wh": dWh, "b": db, "W_out": dW_out, "b_out": db_out}
    return float(loss) / x.shape[1], grads, h[:, -1]


def _step(model: CharModel, x_emb, h, c):
    """One step of the model's gate; the arrays were checked once, by :func:`check_model`."""
    p = model.params
    if model.kind == "rnn":
        return rnn_step(x_emb, h, p["Wx"], p["Wh"], p["b"])[0], c
    return lstm_step(x_emb, h, c, p["Wx"], p["Wh"], p["b"])[:2]


def check_model(model: CharModel) -> CharModel:
    """Check the shapes of a model's arrays once, with one step of the checked gate."""
    if not isinstance(model, CharModel):
        raise TypeError(f"model of type {type(model).__name__} is not valid; expected a CharModel")
    p = model.params
    h = np.zeros((1, p["Wh"].shape[0]), dtype=p["Wh"].dtype)
    if model.kind == "rnn":
        layers.rnn_step_forward(p["W_embed"][:1], h, p["Wx"], p["Wh"], p["b"])
    else:
        layers.lstm_step_forward(p["W_embed"][:1], h, h, p["Wx"], p["Wh"], p["b"])
    if p["W_out"].shape != (h.shape[1], model.vocab.size) or p["b_out"].shape != (model.vocab.size,):
        raise ValueError(f"W_out has shape {p['W_out'].shape} and b_out {p['b_out'].shape}; expected "
                         f"({h.shape[1]}, {model.vocab.size}) and ({model.vocab.size},)")
    return model


def bits_per_char(model: CharModel, indices: np.ndarray, streams: int = 16, chunk: int = 100) -> float:
    """Bits per character on ``indices``, read as ``streams`` contiguous pieces in chunks of
    ``chunk`` steps with the state carried across chunks (vanilla RNN)."""
    if model.kind != "rnn":
        raise ValueError(f"model.kind={model.kind!r}; measure an LSTM with torch_rnn.bits_per_char")
    data = make_streams(indices, streams)
    p = model.params
    h = np.zeros((streams, model.hidden), dtype=p["Wh"].dtype)
    total, count = 0.0, 0
    for start in range(0, data.shape[1] - 1, chunk):
        x, y = data[:, start:start + chunk], data[:, start + 1:start + chunk + 1]
        x = x[:, :y.shape[1]]
        emb, _ = layers.word_embedding_forward(x, p["W_embed"])
        hs, _ = layers.rnn_forward(emb, h, p["Wx"], p["Wh"], p["b"])
        scores, _ = layers.temporal_affine_forward(hs, p["W_out"], p["b_out"])
        loss, _ = layers.temporal_softmax_loss(scores, y)
        total += float(loss) * streams
        count += y.size
        h = hs[:, -1]
    return total / count / LN2


def make_streams(indices: np.ndarray, streams: int) -> np.ndarray:
    """The text cut into ``streams`` contiguous pieces of equal length, one per row: row n
    continues from chunk to chunk, so a hidden state can be carried along it."""
    streams = check_positive_int(streams, "streams")
    length = len(indices) // streams
    if length < 2:
        raise ValueError(f"streams={streams} is too many for a text of {len(indices)} characters")
    return indices[:streams * length].reshape(streams, length)


# --------------------------------------------------------------------------- sampling
def softmax_with_temperature(scores: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(scores / temperature)``: below 1 it sharpens the distribution, above 1 it flattens it."""
    return layers.softmax(np.asarray(scores, dtype=np.float64) / check_positive(temperature, "temperature"))


def read_prefix(model: CharModel, prefix: str):
    """The state after reading ``prefix`` and the scores for the next character."""
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"prefix={prefix!r} is not valid; expected a non-empty string")
    idx = model.vocab.encode(prefix, "prefix")
    p = check_model(model).params
    h = np.zeros((1, model.hidden), dtype=p["Wh"].dtype)
    c = np.zeros_like(h)
    for i in idx:
        h, c = _step(model, p["W_embed"][i:i + 1], h, c)
    return h, c, (h @ p["W_out"] + p["b_out"])[0]


def next_char_distribution(model: CharModel, prefix: str, temperature: float = 1.0) -> np.ndarray:
    """p(next character | prefix) at ``temperature``, shape (V,)."""
    return softmax_with_temperature(read_prefix(model, prefix)[2], temperature)


def sample(model: CharModel, prefix: str, n_chars: int, temperature: float, rng) -> str:
    """``n_chars`` characters drawn one at a time after ``prefix``, each fed back as the next input."""
    n_chars = check_int(n_chars, "n_chars", min=0, max=100_000)
    temperature = check_positive(temperature, "temperature")
    rng = as_rng(rng)
    h, c, scores = read_prefix(model, prefix)
    p = model.params
    uniforms = rng.random(n_chars)
    out = []
    for u in uniforms:
        cdf = np.cumsum(layers.softmax(scores / temperature))
        i = min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), len(cdf) - 1)
        out.append(i)
        h, c = _step(model, p["W_embed"][i:i + 1], h, c)
        scores = (h @ p["W_out"] + p["b_out"])[0]
    return model.vocab.decode(np.array(out, dtype=np.int64))


# --------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainingRun:
    """What :func:`train` returns: the trained model, the loss (nats per character) of each step,
    the samples taken along the way as (step, text), the gradient norm of each step before
    clipping, and the step at which the loss stopped being finite (None when it never did)."""

    model: CharModel
    losses: np.ndarray
    samples: tuple
    grad_norms: np.ndarray
    diverged_at: int | None
    message: str


def train(model: CharModel, train_indices: np.ndarray, *, steps: int, batch: int = 32, seq_len: int = 25,
          optimizer, clip: str | None = "value", clip_at: float = 5.0, sample_every: int = 0,
          sample_chars: int = 120, on_sample=None, rng) -> TrainingRun:
    """Truncated backpropagation through time: the text is cut into ``batch`` streams; each step
    reads the next ``seq_len`` characters of every stream, backpropagates through those steps
    only, and carries the hidden state into the next step (min-char-rnn with N streams).

    ``optimizer`` is a :mod:`lecture_lib.optim` optimizer; ``clip`` is ``"value"`` (each gradient
    entry into [-clip_at, clip_at], min-char-rnn's choice), ``"norm"`` (the whole gradient rescaled
    to norm at most ``clip_at``) or None. A loss that stops being finite ends the run with a message.
    Every ``sample_every`` steps a sample is drawn (and passed to ``on_sample(step, text)`` when
    given, to show it as training goes). The model's arrays are updated in place."""
    steps = check_positive_int(steps, "steps")
    seq_len = check_positive_int(seq_len, "seq_len")
    clip = check_choice(clip, "clip", ("value", "norm", None))
    clip_at = check_positive(clip_at, "clip_at")
    sample_every = check_int(sample_every, "sample_every", min=0)
    rng = as_rng(rng)
    data = make_streams(train_indices, check_positive_int(batch, "batch"))
    chunks = (data.shape[1] - 1) // seq_len
    if chunks < 1:
        raise ValueError(f"seq_len={seq_len} is too long for streams of {data.shape[1]} characters")
    params = model.param_list()
    h = np.zeros((batch, model.hidden), dtype=params[0].dtype)
    losses, norms, samples = [], [], []
    diverged_at, message = None, f"trained {steps} steps"
    for step in range(steps):
        k = step % chunks
        if k == 0:
            h = np.zeros_like(h)                               # a new pass over the text
        x = data[:, k * seq_len:(k + 1) * seq_len]
        y = data[:, k * seq_len + 1:(k + 1) * seq_len + 1]
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grads, h = loss_and_grads(model, x, y, h)
        grad_list = [grads[name] for name in PARAM_NAMES]
        norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grad_list)))
        if not (math.isfinite(loss) and math.isfinite(norm)):
            diverged_at = step
            message = (f"diverged at step {step}: the loss is {loss} and the gradient norm {norm} "
                       f"(lr {optimizer.lr:g}, clip {clip}); training stopped")
            break
        if clip == "value":
            grad_list = clip_by_value(grad_list, clip_at)
        elif clip == "norm":
            grad_list, _ = clip_by_norm(grad_list, clip_at)
        with np.errstate(over="ignore", invalid="ignore"):   # a step into overflow shows as the next loss
            optimizer.step(params, grad_list)
        losses.append(loss)
        norms.append(norm)
        if sample_every and (step + 1) % sample_every == 0:
            text = sample(model, model.vocab.chars[int(x[0, 0])], sample_chars, 1.0, rng)
            samples.append((step + 1, text))
            if on_sample is not None:
                on_sample(step + 1, text)
    return TrainingRun(model, np.array(losses), tuple(samples), np.array(norms), diverged_at, message)
