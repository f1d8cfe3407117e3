"""Vectorized gates on NumPy arrays, in the shape of CS231n's layers: every gate ``<name>`` has
``<name>_forward(...) -> (out, cache)`` and ``<name>_backward(dout, cache) -> grads``.

One module per family; this package re-exports every gate, so ``lecture_lib.layers.<gate>_forward``
is the path to use:

- ``basic``: affine, relu, sigmoid, tanh; the softmax and SVM losses
- ``norm``: batch norm (staged and closed-form backward), spatial batch norm, layer norm, group norm
- ``dropout``: inverted dropout (``p`` keeps a unit) and DropConnect (a mask on an affine layer's weights)
- ``rnn``: vanilla RNN and LSTM (one step and a sequence), word embedding, temporal affine, temporal
  softmax loss
- ``conv``: convolution, naive and fast (im2col), with its output-size and receptive-field arithmetic
- ``pool``: max pooling, naive and fast
"""

from . import basic, conv, dropout, norm, pool, rnn
from .basic import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .norm import *  # noqa: F403
from .pool import *  # noqa: F403
from .rnn import *  # noqa: F403

__all__ = [name for family in (basic, norm, dropout, conv, pool, rnn) for name in family.__all__]
