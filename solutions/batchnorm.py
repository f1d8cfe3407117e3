"""Reference solutions (and canned mistakes) for the exercises of 05_batchnorm."""

import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    if bn_param["mode"] == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mean
        bn_param["running_var"] = momentum * bn_param["running_var"] + (1 - momentum) * var
    else:
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def batchnorm_backward(dout, x, gamma, eps):
    n = x.shape[0]
    std = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / std
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


SOLUTIONS = {"batchnorm_forward": batchnorm_forward, "batchnorm_backward": batchnorm_backward}


# --------------------------------------------------------------------------- canned wrong answers
def _forward(*, axis=0, ddof=0, eps_mode="inside", update_train=True, momentum_flip=False, update_test=False,
             batch_stats_in_test=False):
    def forward(x, gamma, beta, bn_param):
        eps, m = bn_param["eps"], bn_param["momentum"]
        m = 1 - m if momentum_flip else m
        mean, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, ddof=ddof, keepdims=True)
        train = bn_param["mode"] == "train"
        if not train and not batch_stats_in_test:
            mean, var = bn_param["running_mean"], bn_param["running_var"]
        std = {"inside": np.sqrt(var + eps), "missing": np.sqrt(var), "outside": np.sqrt(var) + eps}[eps_mode]
        out = gamma * (x - mean) / std + beta
        if (train and update_train) or (not train and update_test):
            batch_mean, batch_var = x.mean(axis=0), x.var(axis=0)
            bn_param["running_mean"] = m * bn_param["running_mean"] + (1 - m) * batch_mean
            bn_param["running_var"] = m * bn_param["running_var"] + (1 - m) * batch_var
        return out
    return forward


def _backward(*, mean_term=True, var_term=True, use_gamma=True, eps=True, reduce=np.sum):
    def backward(dout, x, gamma, eps_value):
        std = np.sqrt(x.var(axis=0) + (eps_value if eps else 0.0))
        xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps_value)
        dxhat = dout * gamma if use_gamma else dout
        dx = dxhat.copy()
        if mean_term:
            dx -= dxhat.mean(axis=0)
        if var_term:
            dx -= xhat * (dxhat * xhat).mean(axis=0)
        return dx / std, reduce(dout * xhat, axis=0), reduce(dout, axis=0)
    return backward


# Each canned wrong answer and the diagnosis the checker must give it.
MISTAKES = {
    "batchnorm_forward": {
        "axis": _forward(axis=1),
        "eps missing": _forward(eps_mode="missing"),
        "eps outside the root": _forward(eps_mode="outside"),
        "unbiased variance": _forward(ddof=1),
        "not updated": _forward(update_train=False),
        "momentum reversed": _forward(momentum_flip=True),
        "updated in test mode": _forward(update_test=True),
        "batch statistics in test mode": _forward(batch_stats_in_test=True),
        "none": lambda x, gamma, beta, bn_param: None,
    },
    "batchnorm_backward": {
        "variance term": _backward(var_term=False),
        "mean term": _backward(mean_term=False),
        "gamma": _backward(use_gamma=False),
        "eps": _backward(eps=False),
        "batch mean": _backward(reduce=np.mean),
        "sign": lambda dout, x, gamma, eps: tuple(-g for g in SOLUTIONS["batchnorm_backward"](dout, x, gamma, eps)),
        "type": lambda dout, x, gamma, eps: SOLUTIONS["batchnorm_backward"](dout, x, gamma, eps)[0],
    },
}
