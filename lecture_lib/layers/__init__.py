"""Vectorized gates on NumPy arrays, in the shape of CS231n's layers: every gate ``<name>`` has
``<name>_forward(...) -> (out, cache)`` and ``<name>_backward(dout, cache) -> grads``.

One module per family; this package re-exports every gate, so ``lecture_lib.layers.<gate>_forward``
is the path to use:

- ``basic``: affine, relu, sigmoid, tanh; the softmax and SVM losses
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
    "conv_backward_fast", "conv_backward_naive", "conv_forward_fast", "conv_forward_naive",
    "conv_forward_shifted", "conv_output_size", "receptive_field",
    "max_pool_backward_fast", "max_pool_backward_naive", "max_pool_forward_fast", "max_pool_forward_naive",
]
