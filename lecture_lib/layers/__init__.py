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

from .basic import (
                    affine_backward,
                    affine_forward,
                    relu_backward,
                    relu_forward,
                    sigmoid_backward,
                    sigmoid_forward,
                    softmax_loss,
                    svm_loss,
                    tanh_backward,
                    tanh_forward,
)
from .norm import (
                    batchnorm_backward,
                    batchnorm_backward_staged,
                    batchnorm_forward,
                    layernorm_backward,
                    layernorm_forward,
                    spatial_batchnorm_backward,
                    spatial_batchnorm_forward,
                    spatial_groupnorm_backward,
                    spatial_groupnorm_forward,
)
from .dropout import dropconnect_backward, dropconnect_forward, dropout_backward, dropout_forward
from .rnn import (
                    lstm_backward,
                    lstm_forward,
                    lstm_step_backward,
                    lstm_step_forward,
                    rnn_backward,
                    rnn_forward,
                    rnn_step_backward,
                    rnn_step_forward,
                    temporal_affine_backward,
                    temporal_affine_forward,
                    temporal_softmax_loss,
                    word_embedding_backward,
                    word_embedding_forward,
from .conv import (
                   conv_backward_fast,
                   conv_backward_naive,
                   conv_forward_fast,
                   conv_forward_naive,
                   conv_forward_shifted,
                   conv_output_size,
                   receptive_field,
)
from .pool import (
                   max_pool_backward_fast,
                   max_pool_backward_naive,
                   max_pool_forward_fast,
                   max_pool_forward_naive,
)

__all__ = [
    "affine_backward", "affine_forward", "relu_backward", "relu_forward", "sigmoid_backward",
    "sigmoid_forward", "softmax_loss", "svm_loss", "tanh_backward", "tanh_forward",
    "batchnorm_backward", "batchnorm_backward_staged", "batchnorm_forward", "layernorm_backward",
    "layernorm_forward", "spatial_batchnorm_backward", "spatial_batchnorm_forward",
    "spatial_groupnorm_backward", "spatial_groupnorm_forward",
    "dropout_forward", "dropout_backward", "dropconnect_forward", "dropconnect_backward",
    "lstm_backward", "lstm_forward", "lstm_step_backward", "lstm_step_forward", "rnn_backward", "rnn_forward",
    "rnn_step_backward", "rnn_step_forward", "temporal_affine_backward", "temporal_affine_forward",
    "temporal_softmax_loss", "word_embedding_backward", "word_embedding_forward",
    "conv_backward_fast", "conv_backward_naive", "conv_forward_fast", "conv_forward_naive",
    "conv_forward_shifted", "conv_output_size", "receptive_field",
    "max_pool_backward_fast", "max_pool_backward_naive", "max_pool_forward_fast", "max_pool_forward_naive",
]
