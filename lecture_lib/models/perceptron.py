"""A multilayer perceptron in torch with any activation of 01_activations, for the experiments that
train one with :func:`lecture_lib.train.fit` (dead units, PReLU's learned slope, the convergence race).
The NumPy twin, on the gates, is :class:`lecture_lib.nets.MLP`."""

from __future__ import annotations

import math

from .. import activations as A
from .._checks import check_choice, check_int, check_positive_int, check_scalar

__all__ = ["mlp"]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout")


def mlp(num_classes: int = 10, *, n_in: int = 64, widths=(64, 64), activation: str = "relu",
        gain: float | None = None, bias: float = 0.0, seed: int = 0):
    """Hidden layers of ``widths`` units with ``activation`` after each, then a linear layer to
    ``num_classes`` scores. Weights are drawn as randn * gain / sqrt(fan_in) from a torch generator
    seeded with ``seed`` (default gain: 1 for sigmoid and tanh, LeCun's; sqrt 2 for the ReLU family
    and maxout, He's); hidden biases are set to ``bias``, the output's to 0. A maxout unit has two
    pieces; a PReLU layer learns one slope per unit, started at 0.25 as in torch."""
    import torch
    from torch import nn

    check_choice(activation, "activation", ACTIVATIONS)
    num_classes, n_in = check_positive_int(num_classes, "num_classes"), check_positive_int(n_in, "n_in")
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__"):
        raise TypeError(f"widths={widths!r} is not valid; expected a list of layer widths")
    widths = [check_positive_int(w, "width") for w in widths]
    gain = (1.0 if activation in ("sigmoid", "tanh") else math.sqrt(2.0)) if gain is None else \
        check_scalar(gain, "gain", min=0.0)
    bias = check_scalar(bias, "bias")
    generator = torch.Generator().manual_seed(check_int(seed, "seed", min=0))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            pieces = 2 if activation == "maxout" else 1
            dims = [n_in, *widths]
            self.hidden = nn.ModuleList(nn.Linear(a, b * pieces) for a, b in zip(dims, dims[1:], strict=False))
            self.out = nn.Linear(dims[-1], num_classes)
            self.prelu = nn.ModuleList(nn.PReLU(w, init=A.PRELU_INIT) for w in widths) \
                if activation == "prelu" else None
            with torch.no_grad():
                for lin in [*self.hidden, self.out]:
                    lin.weight.copy_(torch.randn(lin.weight.shape, generator=generator) * gain
                                     / math.sqrt(lin.in_features))
                    lin.bias.fill_(bias if lin is not self.out else 0.0)

        def act(self, i, z):
            import torch.nn.functional as F

            if activation == "maxout":
                return z.view(z.shape[0], -1, 2).amax(dim=2)
            if activation == "prelu":
                return self.prelu[i](z)
            return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
                    "leaky_relu": lambda t: F.leaky_relu(t, A.LEAKY_SLOPE), "elu": F.elu}[activation](z)

        def forward(self, x, keep=None):
            """Class scores; each hidden layer's pre-activations are appended to ``keep`` if given."""
            for i, lin in enumerate(self.hidden):
                z = lin(x)
                if keep is not None:
                    keep.append(z)
                x = self.act(i, z)
            return self.out(x)

    return MLP()
