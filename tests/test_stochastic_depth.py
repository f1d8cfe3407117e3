"""lecture_lib.models.stochastic_depth: the CIFAR ResNets' parameter counts, the linear survival
rule, dropped blocks that cost nothing and get no gradient, the test-time scaling, bad input."""

import pytest
import torch
import torch.nn.functional as F

from lecture_lib import models
from lecture_lib.models.stochastic_depth import StochasticBlock, survival_probabilities

# He et al.'s CIFAR ResNets (option-A shortcuts): the counts of the reference implementations
CIFAR_RESNET_PARAMETERS = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962}


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("depth", sorted(CIFAR_RESNET_PARAMETERS))
def test_parameter_counts_are_the_cifar_resnets(depth):
    assert _count(models.stochastic_depth_resnet(depth)) == CIFAR_RESNET_PARAMETERS[depth]


def test_discovered_by_the_models_package():
    assert {"stochastic_depth_resnet", "stochastic_depth_resnet110"} <= set(models.architectures())
    model = models.build("stochastic_depth_resnet110")
    assert len(model.blocks) == 54 and model.expected_blocks() == pytest.approx(54 - 0.5 * 55 / 2)


def test_survival_falls_linearly_to_the_last_block():
    p = survival_probabilities(4, 0.5)
    assert p == pytest.approx([0.875, 0.75, 0.625, 0.5])
    model = models.stochastic_depth_resnet(20, survival_last=0.2)
    assert [b.survival for b in model.blocks] == pytest.approx(survival_probabilities(9, 0.2))


def test_draws_follow_the_survival_probabilities():
    model = models.stochastic_depth_resnet(20, survival_last=0.3, seed=1)
    draws = torch.tensor([model.draw_survival() for _ in range(800)], dtype=torch.float64)
    assert torch.allclose(draws.mean(0), torch.tensor(model.survival, dtype=torch.float64), atol=0.06)


def test_a_dropped_block_is_its_shortcut_and_gets_no_gradient():
    torch.manual_seed(0)
    block = StochasticBlock(4, 8, 2, survival=1e-9, generator=torch.Generator().manual_seed(0)).train()
    x = torch.randn(3, 4, 6, 6)
    out = block(x)
    assert block.survived is False
    assert torch.equal(out, F.relu(block.shortcut(x)))
    assert out.shape == (3, 8, 3, 3) and torch.equal(out[:, :2], torch.zeros_like(out[:, :2]))  # zero-padded channels
    out.sum().backward() if out.requires_grad else None
    assert all(p.grad is None for p in block.parameters())


def test_test_time_scales_each_branch_by_its_survival():
    torch.manual_seed(1)
    block = StochasticBlock(4, 4, 1, survival=0.6, generator=torch.Generator()).eval()
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        expected = F.relu(x + 0.6 * block.branch(x))
        assert torch.allclose(block(x), expected)
        block.scale_at_test = False
        assert torch.allclose(block(x), F.relu(x + block.branch(x)))


def test_survival_one_is_the_plain_resnet_with_the_same_weights():
    a = models.stochastic_depth_resnet(20, survival_last=1.0, in_channels=1, seed=4).eval()
    b = models.stochastic_depth_resnet(20, survival_last=0.5, in_channels=1, seed=4).eval()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        a.train()
        a(x)
    assert all(a.survived())
    assert b.scale_at_test(False) is b and not any(blk.scale_at_test for blk in b.blocks)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"depth": 21}, ValueError, r"depth=21 is not valid; expected 6n \+ 2"),
    ({"depth": 20.0}, TypeError, "depth=20.0"),
    ({"survival_last": 0.0}, ValueError, "survival_last=0.0 is not valid"),
    ({"survival_last": 1.2}, ValueError, "survival_last=1.2"),
    ({"num_classes": 0}, ValueError, "num_classes=0"),
])
def test_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        models.stochastic_depth_resnet(**kwargs)
