"""Vectorized gates on NumPy arrays, in the shape of CS231n's layers: every gate ``<name>`` has
``<name>_forward(...) -> (out, cache)`` and ``<name>_backward(dout, cache) -> grads``.

One module per family; this package re-exports every gate, so ``lecture_lib.layers.<gate>_forward``
is the path to use:

- ``basic``: affine, relu, sigmoid, tanh; the softmax and SVM losses
- ``norm``: batch norm (staged and closed-form backward), spatial batch norm, layer norm, group norm
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

__all__ = [
    "affine_backward", "affine_forward", "relu_backward", "relu_forward", "sigmoid_backward",
    "sigmoid_forward", "softmax_loss", "svm_loss", "tanh_backward", "tanh_forward",
    "batchnorm_backward", "batchnorm_backward_staged", "batchnorm_forward", "layernorm_backward",
    "layernorm_forward", "spatial_batchnorm_backward", "spatial_batchnorm_forward",
    "spatial_groupnorm_backward", "spatial_groupnorm_forward",
]
