"""AdamW (decoupled weight decay) against torch.optim.AdamW in float64, and what sets it apart
from Adam's weight_decay (L2 in the loss), which SGD cannot tell apart."""

import numpy as np
import pytest
import torch

from lecture_lib import optim


def _gradients(params):
    x, W = params
    return [np.array([[2.0, 0.3], [0.3, 1.0]]) @ x + 0.3 * np.sin(x), 2 * W ** 3 - W + 0.1]


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.01, "weight_decay": 0.1},
                                    {"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.3},
                                    {"lr": 0.02, "weight_decay": 0.0, "eps": 1e-6}])
def test_adamw_matches_torch_to_1e12_over_100_steps(kwargs):
    rng = np.random.default_rng(0)
    p0 = [rng.standard_normal(2), rng.standard_normal((2, 3))]
    ours = [p.copy() for p in p0]
    theirs = [torch.tensor(p, dtype=torch.float64) for p in p0]
    opt, topt = optim.AdamW(**kwargs), torch.optim.AdamW(theirs, **kwargs)
    worst = 0.0
    for _ in range(100):
        opt.step(ours, _gradients(ours))
        for p, g in zip(theirs, _gradients([t.numpy() for t in theirs]), strict=True):
            p.grad = torch.from_numpy(g)
        topt.step()
        worst = max(worst, *(float(np.max(np.abs(a - b.numpy()))) for a, b in zip(ours, theirs, strict=True)))
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(ours, p0, strict=True)) > 1e-3
    assert worst < 1e-12


def test_adamw_defaults_are_torchs():
    opt, ref = optim.AdamW(), torch.optim.AdamW([torch.zeros(1)]).defaults
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay, opt.amsgrad) == \
        (ref["lr"], ref["betas"], ref["eps"], ref["weight_decay"], ref["amsgrad"])


def test_a_weight_without_gradient_decays_at_wds_rate_under_adamw_not_under_adam_l2():
    """Only the decay acts. AdamW multiplies the weight by (1 - lr wd) a step. Adam with L2 sees the
    gradient wd x and divides it by its own size (Adam ignores a gradient's scale), so the weight
    walks towards 0 by up to lr a step whatever wd is: wd no longer sets the rate."""
    def final(opt_class, wd):
        w, opt = np.array([1.0]), opt_class(lr=0.01, weight_decay=wd)
        for _ in range(50):
            opt.step([w], [np.zeros(1)])
        return w[0]

    assert final(optim.AdamW, 0.5) == pytest.approx((1 - 0.01 * 0.5) ** 50, rel=1e-12)
    assert final(optim.AdamW, 5.0) == pytest.approx((1 - 0.01 * 5.0) ** 50, rel=1e-12)
    assert final(optim.Adam, 0.5) == pytest.approx(final(optim.Adam, 5.0), abs=1e-6)
    assert 1 - 50 * 0.01 < final(optim.Adam, 0.5) < 0.6


def test_adamw_bad_input():
    with pytest.raises(ValueError, match="weight_decay=-1"):
        optim.AdamW(weight_decay=-1)
    with pytest.raises(ValueError, match="betas"):
        optim.AdamW(betas=(0.9,))
