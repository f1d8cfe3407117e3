"""What a model is made of, counted from its modules: parameters, weight layers, depth (the longest
chain of weight layers from input to output) and floating-point operations.

Not an architecture family (no ``__all__``): the functions here take any ``torch.nn.Module``.
Models are built on torch's ``meta`` device by :func:`describe`, so even VGG's 138M parameters
cost no memory and no time to initialise: only shapes are computed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from .._checks import check_positive_int

WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def meta(arch: str, **kwargs) -> nn.Module:
    """The architecture ``arch`` built on torch's meta device: shapes and counts without memory
    or initialization (VGG16's 138M parameters cost nothing). It cannot run on data."""
    from . import build

    with torch.device("meta"):
        return build(arch, **kwargs)


def parameter_count(model: nn.Module) -> int:
    """The number of trainable parameters (each shared tensor once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every conv and fc layer of the model, by qualified name, in definition order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHT_LAYERS)]


def depth(model: nn.Module) -> int:
    """The most weight layers (conv, fc) on one path from the input to the output: how papers
    count a network's layers. Traced with ``torch.fx`` (in eval mode, so training-only branches
    such as auxiliary classifiers are left out) and measured as the longest path of the graph."""
    from torch.fx import symbolic_trace

    was_training = model.training
    model.eval()
    try:
        graph = symbolic_trace(model).graph
    finally:
        model.train(was_training)
    modules = dict(model.named_modules())
    longest: dict = {}
    for node in graph.nodes:  # nodes come in topological order
        before = max((longest[i] for i in node.all_input_nodes), default=0)
        is_weight = node.op == "call_module" and isinstance(modules[node.target], WEIGHT_LAYERS)
        longest[node] = before + int(is_weight)
    return max(longest.values())


# Layers that keep the shape of their input and whose arithmetic FlopCounterMode does not count
# (it counts matrix products and convolutions): on the counted copy they become nn.Identity, which
# leaves the count unchanged and takes most of the time away (batch norm's meta kernel is Python).
UNCOUNTED_LAYERS = (nn.modules.batchnorm._BatchNorm, nn.ReLU, nn.Dropout)


def flops(model: nn.Module, input_shape) -> int:
    """Floating-point operations of one forward pass on a batch of ``input_shape`` (eval mode),
    counted by ``torch.utils.flop_counter.FlopCounterMode``: a multiply-add counts as 2 (tables
    that quote "FLOPs" as multiply-adds, torchvision's GFLOPS among them, are half of this).
    Counted on a copy on the meta device (shapes only, no arithmetic), in which the layers that
    FlopCounterMode does not count anyway (UNCOUNTED_LAYERS) are replaced by identities."""
    model = copy.deepcopy(model).to("meta")
    for name, module in list(model.named_modules()):
        if isinstance(module, UNCOUNTED_LAYERS):
            model.set_submodule(name, nn.Identity())
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(tuple(input_shape), device="meta"))
    return int(counter.get_total_flops())


@dataclass(frozen=True)
class ModelSummary:
    arch: str
    parameters: int
    weight_layers: int
    depth: int
    float32_megabytes: float  # the parameters stored as float32, in MB (10^6 bytes)


def input_channels(model: nn.Module) -> int:
    """The channels the model expects: those of its first conv layer."""
    first = next((m for _, m in weight_layers(model) if isinstance(m, nn.Conv2d)), None)
    if first is None:
        raise ValueError(f"{type(model).__name__} has no Conv2d layer; expected an image model")
    return first.in_channels


@cache
def _meta_model(arch: str, kwargs: tuple) -> nn.Module:
    """One meta build per configuration, shared by :func:`describe` and :func:`flops_of` (which
    read it and count on a copy): building a model takes longer than counting it."""
    return meta(arch, **dict(kwargs))


@cache
def _describe(arch: str, kwargs: tuple) -> ModelSummary:
    model = _meta_model(arch, kwargs)
    params = parameter_count(model)
    return ModelSummary(arch, params, len(weight_layers(model)), depth(model), 4 * params / 1e6)


def describe(arch: str, **kwargs) -> ModelSummary:
    """Parameters, weight layers and depth of the architecture ``arch`` (a name of
    :func:`lecture_lib.models.architectures`) built with ``kwargs``, on the meta device; cached."""
    return _describe(arch, tuple(sorted(kwargs.items())))


@cache
def _flops_of(arch: str, input_size: int, kwargs: tuple) -> int:
    model = _meta_model(arch, kwargs)
    return flops(model, (1, input_channels(model), input_size, input_size))


def flops_of(arch: str, input_size: int = 224, **kwargs) -> int:
    """FLOPs of one ``input_size`` x ``input_size`` image (with the channels of the model's first
    conv) through the architecture ``arch`` built with ``kwargs``; cached."""
    input_size = check_positive_int(input_size, "input_size")
    return _flops_of(arch, input_size, tuple(sorted(kwargs.items())))
