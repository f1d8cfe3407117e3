"""torch's recurrent layers beside the course's gates: weights converted both ways, and a
character-level LSTM language model trained in torch (on the GPU when there is one) with truncated
backpropagation through time, cached on disk and exported as a NumPy
:class:`~lecture_lib.charlm.CharModel`, so that sampling and the explorers run on our own gates.

torch's ``nn.LSTM`` stores the four blocks of its weights as i, f, g, o; the gates of
:mod:`lecture_lib.layers` use i, f, o, g. :func:`to_numpy_order` swaps the last two blocks one way,
:func:`torch_weights` the other; both transpose (torch computes ``W x``, the gates ``x @ Wx``), and
torch's two bias vectors add up to our one.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from . import charlm
from ._checks import as_rng, check_positive, check_positive_int, torch_seed_from
from .config import choose_device, is_fast, single_thread

SINGLE_THREAD_MAX_HIDDEN = 512  # on a CPU, models up to this size run on one thread


def threads_for(device, hidden: int):
    """One thread for the course's models on a CPU: their matrices are small enough that a second
    thread mostly waits, and on a shared machine the waiting costs many times the work (measured:
    evaluating the fast model took 35x longer on 2 busy threads than on 1). torch's default
    otherwise."""
    small_on_cpu = torch.device(device).type == "cpu" and hidden <= SINGLE_THREAD_MAX_HIDDEN
    return single_thread() if small_on_cpu else nullcontext()


class CharLSTM(nn.Module):
    """Embedding (V, D) -> one LSTM layer (H) -> linear (H, V); the forget gate's bias starts at
    ``forget_bias`` (1 by default, Gers et al. 2000), the rest as torch initialises it."""

    def __init__(self, vocab_size: int, embed: int, hidden: int, forget_bias: float = 1.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)
        with torch.no_grad():
            self.lstm.bias_ih_l0[hidden:2 * hidden] = forget_bias  # torch's blocks: i, f, g, o
            self.lstm.bias_hh_l0[hidden:2 * hidden] = 0.0

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.out(h), state


def to_numpy_order(block_rows: np.ndarray) -> np.ndarray:
    """Reorder an array whose first axis holds torch's gate blocks i, f, g, o into i, f, o, g."""
    i, f, g, o = np.split(np.asarray(block_rows), 4, axis=0)
    return np.concatenate([i, f, o, g], axis=0)


def torch_weights(kind: str, Wx, Wh, b) -> dict:
    """Our (Wx, Wh, b) as the state dict of torch's ``nn.RNN`` / ``nn.LSTM`` (float64): transposed
    (torch computes ``W x``), blocks reordered from i, f, o, g to i, f, g, o for the LSTM, and the
    bias put in ``bias_ih`` with ``bias_hh`` zero (torch adds the two)."""
    def reorder(a):
        if kind == "rnn":
            return a
        i, f, o, g = np.split(a, 4, axis=0)
        return np.concatenate([i, f, g, o], axis=0)

    return {"weight_ih_l0": torch.from_numpy(reorder(Wx.T).copy()),
            "weight_hh_l0": torch.from_numpy(reorder(Wh.T).copy()),
            "bias_ih_l0": torch.from_numpy(reorder(b).copy()),
            "bias_hh_l0": torch.zeros(b.shape, dtype=torch.float64)}


def export(model: CharLSTM, vocab: charlm.Vocabulary) -> charlm.CharModel:
    """The trained torch model as a NumPy CharModel (float64), gates reordered to i, f, o, g."""
    lstm = model.lstm

    def arr(t):
        return t.detach().to("cpu", torch.float64).numpy()

    params = {
        "W_embed": arr(model.embed.weight),
        "Wx": to_numpy_order(arr(lstm.weight_ih_l0)).T.copy(),
        "Wh": to_numpy_order(arr(lstm.weight_hh_l0)).T.copy(),
        "b": to_numpy_order(arr(lstm.bias_ih_l0) + arr(lstm.bias_hh_l0)),
        "W_out": arr(model.out.weight).T.copy(),
        "b_out": arr(model.out.bias),
    }
    return charlm.CharModel("lstm", vocab, params)


def bits_per_char(model: CharLSTM, indices: np.ndarray, streams: int = 16, chunk: int = 200,
                  device=None) -> float:
    """Bits per character on ``indices``, read as ``streams`` pieces with the state carried."""
    device = device if device is not None else next(model.parameters()).device
    data = torch.as_tensor(charlm.make_streams(indices, streams), device=device)
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad(), threads_for(device, model.lstm.hidden_size):
        for start in range(0, data.shape[1] - 1, chunk):
            y = data[:, start + 1:start + chunk + 1]
            x = data[:, start:start + y.shape[1]]
            scores, state = model(x, state)
            total += float(nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]).float(),
                                                       y.reshape(-1), reduction="sum"))
            count += y.numel()
    model.train(was_training)
    return total / count / charlm.LN2


def train(vocab: charlm.Vocabulary, train_indices: np.ndarray, *, embed: int, hidden: int, steps: int,
          batch: int, seq_len: int, lr: float, clip_at: float = 1.0, forget_bias: float = 1.0,
          rng, device=None) -> dict:
    """Train a :class:`CharLSTM` with Adam and truncated BPTT (the state is carried from chunk to
    chunk of each stream and detached, so gradients flow back ``seq_len`` steps at most), the
    gradient clipped to norm ``clip_at``. Returns a dict of plain values and arrays (cacheable): the
    NumPy parameters (i, f, o, g), the losses, the seconds and the device. A loss that stops being
    finite ends the run with a message."""
    steps, batch, seq_len = (check_positive_int(v, n) for v, n in ((steps, "steps"), (batch, "batch"),
                                                                  (seq_len, "seq_len")))
    lr, clip_at = check_positive(lr, "lr"), check_positive(clip_at, "clip_at")
    rng = as_rng(rng)
    device = device if device is not None else choose_device()
    with threads_for(device, hidden):
        return _train(vocab, train_indices, embed, hidden, steps, batch, seq_len, lr, clip_at, forget_bias, rng,
                      device)


def _train(vocab, train_indices, embed, hidden, steps, batch, seq_len, lr, clip_at, forget_bias, rng, device):
    torch.manual_seed(torch_seed_from(rng))
    model = CharLSTM(vocab.size, embed, hidden, forget_bias).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = torch.as_tensor(charlm.make_streams(train_indices, batch), device=device)
    chunks = (data.shape[1] - 1) // seq_len
    losses, state, message = [], None, f"trained {steps} steps"
    start_time = time.perf_counter()
    for step in range(steps):
        k = step % chunks
        if k == 0:
            state = None
        x = data[:, k * seq_len:(k + 1) * seq_len]
        y = data[:, k * seq_len + 1:(k + 1) * seq_len + 1]
        scores, state = model(x, state)
        state = tuple(s.detach() for s in state)           # truncate: no gradient into the past
        loss = nn.functional.cross_entropy(scores.reshape(-1, vocab.size), y.reshape(-1))
        value = float(loss.detach())
        if not math.isfinite(value):
            message = f"diverged at step {step}: loss {value} (lr {lr:g}); training stopped"
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip_at)
        opt.step()
        losses.append(value)
    seconds = time.perf_counter() - start_time
    exported = export(model, vocab)
    return {**exported.params, "chars": vocab.chars, "losses": np.array(losses), "seconds": seconds,
            "device": str(device), "message": message, "torch_model": model}


# --------------------------------------------------------------------------- the course's trained model
CHAR_LSTM_CONFIGS = {
    "fast": {"embed": 32, "hidden": 64, "steps": 120, "batch": 32, "seq_len": 32, "lr": 1e-2, "seed": 0},
    "full-cpu": {"embed": 64, "hidden": 256, "steps": 1000, "batch": 32, "seq_len": 64, "lr": 3e-3, "seed": 0},
    "full-gpu": {"embed": 64, "hidden": 512, "steps": 3000, "batch": 128, "seq_len": 100, "lr": 2e-3, "seed": 0},
}


def char_lstm_config() -> dict:
    """The torch LSTM's size: small in the fast profile (it trains in seconds on a CPU); in the full
    profile larger on a CPU, and larger again on a GPU."""
    if is_fast():
        return dict(CHAR_LSTM_CONFIGS["fast"])
    return dict(CHAR_LSTM_CONFIGS["full-gpu" if choose_device().type == "cuda" else "full-cpu"])


def trained_char_lstm(config: dict | None = None) -> tuple[charlm.CharModel, dict]:
    """The torch LSTM trained on the course's text (the first 90 %), cached on disk by its
    configuration: the NumPy model (gates i, f, o, g) and the run's record (losses, bits per
    character on the held-out 10 %, seconds, device)."""
    from . import cache

    config = dict(char_lstm_config() if config is None else config)

    def compute():
        vocab, indices = charlm.course_text()
        train_part, test = charlm.split(indices, 0.1)
        run = train(vocab, train_part, rng=np.random.default_rng(config["seed"]),
                    **{k: v for k, v in config.items() if k != "seed"})
        run["test_bits"] = bits_per_char(run.pop("torch_model"), test)
        return run

    record = cache.cached("char-lstm", config, compute)
    vocab = charlm.Vocabulary(str(record["chars"]))
    model = charlm.CharModel("lstm", vocab, {k: np.asarray(record[k]) for k in charlm.PARAM_NAMES})
    return model, record
