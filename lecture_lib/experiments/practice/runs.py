"""The runs every experiment of 09_training_practice shares: the digits in float64 and one MLP of
:mod:`lecture_lib.nets` trained by :func:`lecture_lib.nets.train` from a seed."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ... import averaging, nets, optim
from ..._checks import as_rng
from ...config import single_thread
from ...data import Splits, digits

N_CLASSES = 10
HIDDEN = (64,)


@lru_cache(maxsize=1)
def digits64() -> Splits:
    """The digits splits (train 1077, validation 360, test 360) in float64, read-only."""
    s = digits(seed=0)
    parts = [s.X_train, s.y_train, s.X_val, s.y_val, s.X_test, s.y_test]
    parts = [p.astype(np.float64) if p.dtype.kind == "f" else p.copy() for p in parts]
    for p in parts:
        p.setflags(write=False)
    return Splits(*parts, n_classes=s.n_classes)


def seed_from(rng) -> int:
    return int(as_rng(rng).integers(0, 2**31 - 1))


def train_digits(seed: int, *, lr: float, epochs: int, optimizer: str = "sgd", hidden=HIDDEN,
                 scale: float = 1.0, init: str = "he", reg: float = 0.0, batch_size: int = 64,
                 n_train: int | None = None, validate: bool = False, watch=None):
    """One MLP trained on the digits' training split (its first ``n_train`` examples) from
    ``seed``. ``watch(net, optimizer)``, if given, makes the ``on_step`` callback. Returns the net,
    the :class:`~lecture_lib.nets.TrainResult` and the callback."""
    d = digits64()
    X, y = (d.X_train, d.y_train) if n_train is None else (d.X_train[:n_train], d.y_train[:n_train])
    rng = np.random.default_rng(seed)
    net = nets.MLP([X.shape[1], *hidden, N_CLASSES], init=init, scale=scale, rng=rng)
    opt = optim.SGD(lr=lr, momentum=0.9) if optimizer == "sgd" else optim.Adam(lr=lr)
    callback = watch(net, opt) if watch is not None else None
    val = {"X_val": d.X_val, "y_val": d.y_val} if validate else {}
    with single_thread():
        result = nets.train(net, X, y, optimizer=opt, epochs=epochs, batch_size=batch_size, rng=rng,
                            reg=reg, on_step=callback, **val)
    return net, result, callback


def predict_test(net, params=None) -> np.ndarray:
    """Class probabilities of ``net`` on the test split, with other weights ``params`` if given
    (the net's own are restored afterwards)."""
    saved = net.params
    net.params = saved if params is None else params
    try:
        return averaging.softmax(net.scores(digits64().X_test))
    finally:
        net.params = saved


def score_test(probs) -> tuple[float, float]:
    """Test cross-entropy and accuracy of predicted probabilities."""
    y = digits64().y_test
    return averaging.cross_entropy(probs, y), averaging.accuracy(probs, y)
