"""A character-level LSTM language model in torch (CPU, or the GPU when there is one), trained with
truncated backpropagation through time, and exported as a NumPy :class:`~lecture_lib.charlm.CharModel`
so that sampling and the explorers run on the course's own gates.

torch's ``nn.LSTM`` stores the four blocks of its weights as i, f, g, o; the gates of
:mod:`lecture_lib.layers` use i, f, o, g. :func:`to_numpy_order` swaps the last two blocks, and
:func:`export` transposes the weights (torch computes ``W x``, the gates ``x @ Wx``) and adds
torch's two biases into one.
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
from .config import choose_device, single_thread

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
