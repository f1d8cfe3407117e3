"""The measurements of notebook 04 (optimizers), each next to the threshold that decides its claim.

Every ``measure_*`` function returns a dict of numbers; every ``*_holds`` predicate (with its
constants named in capitals) turns such a dict into the truth value a ``decide(...)`` check
asserts. tests/test_optimizer_experiments.py runs the *opposite* experiment for each predicate
and shows that it comes out False there, so no threshold is a formality.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import landscapes as L
from . import layers, optim, schedules
from . import notes_optimizers as notes
from .config import single_thread

# ---------------------------------------------------------------------------- running optimizers


def run(opt, landscape, start, steps: int) -> np.ndarray:
    """The iterates of ``opt`` on ``landscape`` from ``start``: shape ``(steps + 1, ..., 2)``.
    ``start`` may hold many points (shape (n, 2)): the optimizers are elementwise, so each row is
    an independent run."""
    p = np.array(start, dtype=np.float64)
    path = np.empty((steps + 1,) + p.shape)
    path[0] = p
    for t in range(steps):
        opt.step([p], [landscape.grad(p)])
        path[t + 1] = p
    return path


def steps_to(path: np.ndarray, target, tol: float) -> int | None:
    """First step at which the distance to ``target`` falls below ``tol`` times the initial one."""
    d = np.linalg.norm(path - np.asarray(target), axis=-1)
    hit = np.nonzero(d <= tol * d[0])[0]
    return int(hit[0]) if len(hit) else None


def rotation(angle: float) -> np.ndarray:
    a = math.radians(angle)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def tuned_gd(kappa: float) -> dict:
    """The best constant lr of gradient descent on a quadratic with curvatures 1 and 1/kappa."""
    return {"lr": 2 / (1 + 1 / kappa)}


def tuned_heavy_ball(kappa: float) -> dict:
    """Polyak's tuning of heavy-ball momentum for curvatures in [1/kappa, 1]."""
    r = math.sqrt(kappa)
    return {"lr": 4 / (1 + 1 / r) ** 2, "momentum": ((r - 1) / (r + 1)) ** 2}


# ---------------------------------------------------------------------------- gradient descent

def softmax_loss_grad(W, X, y, reg: float = 0.0):
    """Mean cross-entropy of softmax regression ``scores = X W`` and its gradient dW (float64)."""
    loss, dscores = layers.softmax_loss(X @ W, y)
    return loss + 0.5 * reg * float(np.sum(W * W)), X.T @ dscores + reg * W


def _digits(seed=0):
    from .data import digits

    s = digits(seed=seed)
    X = np.c_[s.X_train.astype(np.float64), np.ones(len(s.X_train))]  # a bias column
    return X, s.y_train, s


DUPLICATES_TOL = 1e-9  # float64 rounding over ~1000 rows; uneven copies give ~1


@single_thread()
def measure_duplicates(copies: int = 120, n_unique: int = 10, counts=None, seed: int = 0) -> dict:
    """Gradient on ``n_unique`` digits against the gradient on a dataset of their copies
    (``copies`` of each, or ``counts[i]`` of example i)."""
    X, y, _ = _digits()
    rng = np.random.default_rng(seed)
    idx = np.array([rng.choice(np.nonzero(y == k)[0]) for k in range(n_unique)])
    counts = np.full(n_unique, copies) if counts is None else np.asarray(counts)
    W = rng.normal(0, 0.1, (X.shape[1], 10))
    _, g_unique = softmax_loss_grad(W, X[idx], y[idx])
    big = np.repeat(idx, counts)
    _, g_big = softmax_loss_grad(W, X[big], y[big])
    rel = float(np.max(np.abs(g_big - g_unique) / np.maximum(1e-8, np.abs(g_big) + np.abs(g_unique))))
    return {"n_total": int(counts.sum()), "n_unique": n_unique, "rel_error": rel}


def duplicates_hold(m: dict) -> bool:
    return m["rel_error"] < DUPLICATES_TOL


NOISE_SLOPE = (-1.3, -0.7)  # gradient-noise variance against batch size, on log-log axes


@single_thread()
def measure_minibatch_noise(batch_sizes=(1, 4, 16, 64, 256), draws: int = 200, seed: int = 0,
                            one_example: bool = False) -> dict:
    """Mean squared distance between a mini-batch gradient and the full gradient, by batch size.
    ``one_example=True`` is the opposite experiment: each batch is B copies of one example."""
    X, y, _ = _digits()
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.1, (X.shape[1], 10))
    _, g_full = softmax_loss_grad(W, X, y)
    noise = []
    for b in batch_sizes:
        errs = []
        for _ in range(draws):
            idx = (np.repeat(rng.integers(len(y)), b) if one_example
                   else rng.choice(len(y), size=b, replace=False))
            _, g = softmax_loss_grad(W, X[idx], y[idx])
            errs.append(np.sum((g - g_full) ** 2))
        noise.append(float(np.mean(errs)))
    return {"batch_sizes": list(batch_sizes), "noise": noise,
            "slope": loglog_slope(batch_sizes, noise), "full_norm2": float(np.sum(g_full ** 2))}


def minibatch_noise_holds(m: dict) -> bool:
    return NOISE_SLOPE[0] <= m["slope"] <= NOISE_SLOPE[1]


TIMING_MARGIN = 3.0  # timing claims: "no effect" means within a factor 3 either way


def measure_batch_timing(sizes=(31, 32, 33, 63, 64, 65, 127, 128, 129), width: int = 256,
                         repeats: int = 7, seed: int = 0) -> dict:
    """Time per example of a forward + backward pass of a two-layer ReLU MLP (NumPy matrix
    products, one BLAS thread), by batch size: best of ``repeats`` passes each."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((width, width)) / math.sqrt(width)
    W2 = rng.standard_normal((width, 10)) / math.sqrt(width)
    per_sample = []
    with single_thread():
        for b in sizes:
            X = rng.standard_normal((b, width))
            best = math.inf
            for _ in range(repeats):
                start = time.perf_counter()
                h = np.maximum(X @ W1, 0)            # forward
                dscores = h @ W2                      # (stand-in upstream gradient)
                dW2 = h.T @ dscores                   # backward
                dh = (dscores @ W2.T) * (h > 0)
                dW1 = X.T @ dh
                best = min(best, time.perf_counter() - start)
            del dW1, dW2
            per_sample.append(best / b)
    return powers_of_two_summary(sizes, per_sample)


def powers_of_two_summary(sizes, per_sample) -> dict:
    """For each power of two among ``sizes``: its time per example over the mean of its
    neighbours' (below 1 means the power of two is faster)."""
    sizes, per_sample = list(sizes), list(per_sample)
    ratios = {}
    for i, b in enumerate(sizes):
        if b & (b - 1) == 0 and 0 < i < len(sizes) - 1:
            ratios[b] = per_sample[i] / ((per_sample[i - 1] + per_sample[i + 1]) / 2)
    return {"sizes": sizes, "per_sample": per_sample, "ratios": ratios}


def powers_of_two_within_margin(m: dict) -> bool:
    """True when no power of two is more than TIMING_MARGIN times faster or slower per example
    than its neighbours (the measured effect, if any, is within the margin)."""
    return bool(m["ratios"]) and all(1 / TIMING_MARGIN <= r <= TIMING_MARGIN
                                     for r in m["ratios"].values())


# ---------------------------------------------------------------------------- problems with SGD

JITTER_FLIPS = 0.9    # the steep coordinate reverses on at least 90% of the steps
CRAWL_RATIO = 5.0     # the shallow axis takes 5x more steps to halve than the steep one


def measure_jitter(kappa: float = 50.0, lr: float = 1.5, steps: int = 60) -> dict:
    """Gradient descent on the axis-aligned taco shell: steep axis x, shallow axis y."""
    path = run(optim.SGD(lr=lr), L.taco(kappa), (1.0, 1.0), steps)
    dx = np.diff(path[:, 0])
    flips = float(np.mean(np.sign(dx[1:]) != np.sign(dx[:-1])))

    def half_life(v):
        hit = np.nonzero(np.abs(v) <= 0.5 * abs(v[0]))[0]
        return int(hit[0]) if len(hit) else steps + 1

    return {"kappa": kappa, "lr": lr, "path": path, "flips": flips,
            "half_steep": half_life(path[:, 0]), "half_shallow": half_life(path[:, 1])}


def jitter_holds(m: dict) -> bool:
    return m["flips"] >= JITTER_FLIPS and m["half_shallow"] >= CRAWL_RATIO * m["half_steep"]


GD_SLOPE = (0.8, 1.2)   # steps-to-converge against kappa: gradient descent ~ kappa
HB_SLOPE = (0.3, 0.7)   # tuned heavy ball ~ sqrt(kappa)


def measure_condition_scaling(kappas=(10, 30, 100, 300), tol: float = 1e-6) -> dict:
    """Steps to shrink the distance to the minimum by ``tol``: tuned GD and tuned heavy ball."""
    gd, hb = [], []
    for k in kappas:
        land = L.taco(k)
        n = int(3 * k * math.log(1 / tol)) + 10
        gd.append(steps_to(run(optim.SGD(**tuned_gd(k)), land, (1.0, 1.0), n), (0, 0), tol))
        n = int(3 * math.sqrt(k) * math.log(1 / tol)) + 50
        hb.append(steps_to(run(optim.SGD(**tuned_heavy_ball(k)), land, (1.0, 1.0), n), (0, 0), tol))
    return {"kappas": list(kappas), "gd": gd, "hb": hb,
            "gd_slope": loglog_slope(kappas, gd), "hb_slope": loglog_slope(kappas, hb)}


def slope_in(slope: float, window) -> bool:
    return window[0] <= slope <= window[1]


def random_hessian(kind: str, n: int, rng) -> np.ndarray:
    """``goe``: a random symmetric matrix (the Hessian at a random point, up to scale);
    ``wishart``: ``A A^T / n`` with A square (a Gauss-Newton Hessian with as many samples as
    parameters); ``lsq4``: ``A A^T`` with 4n samples (a well-sampled least-squares problem)."""
    if kind == "goe":
        A = rng.standard_normal((n, n))
        return (A + A.T) / math.sqrt(2 * n)
    if kind == "wishart":
        A = rng.standard_normal((n, n))
        return A @ A.T / n
    if kind == "lsq4":
        A = rng.standard_normal((n, 4 * n))
        return A @ A.T / (4 * n)
    raise ValueError(f"kind={kind!r} is not a Hessian family; expected 'goe', 'wishart' or 'lsq4'")


GROWTH = 10.0  # "grows with dimension": the median condition number rises 10x over the range


@single_thread()
def measure_condition_vs_dimension(dims=(2, 8, 32, 128), trials: int = 20, kind: str = "goe",
                                   seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    med = []
    for n in dims:
        ks = []
        for _ in range(trials):
            s = np.linalg.svd(random_hessian(kind, n, rng), compute_uv=False)
            ks.append(s[0] / s[-1])
        med.append(float(np.median(ks)))
    return {"dims": list(dims), "median_kappa": med, "kind": kind}


def condition_grows(m: dict) -> bool:
    k = m["median_kappa"]
    return k[-1] >= GROWTH * k[0] and all(b >= a for a, b in zip(k, k[1:], strict=False))


MINIMA_RARE = 0.01  # at the largest dimension fewer than 1% of critical points are minima


@single_thread()
def measure_critical_points(dims=(1, 2, 3, 4, 6, 8), samples: int = 4000, kind: str = "goe",
                            seed: int = 0) -> dict:
    """Fraction of random critical points that are minima (all Hessian eigenvalues > 0),
    maxima (all < 0) and saddles (mixed signs), by dimension."""
    rng = np.random.default_rng(seed)
    minima, maxima = [], []
    for n in dims:
        H = np.stack([random_hessian(kind, n, rng) for _ in range(samples)])
        ev = np.linalg.eigvalsh(H)
        minima.append(float(np.mean(np.all(ev > 0, axis=1))))
        maxima.append(float(np.mean(np.all(ev < 0, axis=1))))
    saddles = [1 - a - b for a, b in zip(minima, maxima, strict=True)]
    return {"dims": list(dims), "minima": minima, "maxima": maxima, "saddles": saddles}


def minima_rare_holds(m: dict) -> bool:
    mins = m["minima"]
    return mins[-1] < MINIMA_RARE and all(b <= a for a, b in zip(mins, mins[1:], strict=False))


SADDLE_SLOWDOWN = 3.0  # starting near the saddle costs 3x more steps to escape


def escape_steps(opt, start, steps: int = 400, threshold: float = 0.5) -> int | None:
    """Steps until |y| exceeds ``threshold`` on the saddle landscape (the run has left it)."""
    path = run(opt, L.saddle(), start, steps)
    hit = np.nonzero(np.abs(path[:, 1]) > threshold)[0]
    return int(hit[0]) if len(hit) else None


def measure_saddle(lr: float = 0.1, momentum: float = 0.9, near: float = 1e-3,
                   far: float = 0.3) -> dict:
    out = {"lr": lr, "near": near, "far": far}
    for name, kw in (("sgd", {}), ("momentum", {"momentum": momentum}),
                     ("nesterov", {"momentum": momentum, "nesterov": True})):
        out[name + "_near"] = escape_steps(optim.SGD(lr=lr, **kw), (1.0, near))
        out[name + "_far"] = escape_steps(optim.SGD(lr=lr, **kw), (1.0, far))
    return out


def saddle_slows(m: dict) -> bool:
    return m["sgd_near"] is not None and m["sgd_near"] >= SADDLE_SLOWDOWN * m["sgd_far"]


MOMENTUM_ESCAPE = 2.0  # momentum leaves the saddle at least twice as fast


def momentum_escapes_faster(m: dict) -> bool:
    return (m["momentum_near"] is not None and m["sgd_near"] is not None
            and m["sgd_near"] >= MOMENTUM_ESCAPE * m["momentum_near"])


# ---------------------------------------------------------------------------- momentum

DAMP_FLIPS = 0.5   # momentum reverses the steep coordinate on fewer than half of the steps
DAMP_ACROSS = 2.0  # and travels at least 2x less distance across the valley


def zigzag(path: np.ndarray) -> tuple[float, float]:
    """(fraction of steps that reverse the steep coordinate x, distance travelled along x)."""
    dx = np.diff(path[:, 0])
    return float(np.mean(np.sign(dx[1:]) != np.sign(dx[:-1]))), float(np.sum(np.abs(dx)))


def measure_damping(kappa: float = 50.0, lr: float = 1.9, momentum: float = 0.9,
                    steps: int = 400, tol: float = 1e-3) -> dict:
    """Plain GD at a zig-zagging lr against heavy ball and Nesterov with the same effective lr
    along the valley (``lr (1 - momentum)``, so the velocity's terminal step is ``lr g``)."""
    land = L.taco(kappa)
    runs = {"sgd": optim.SGD(lr=lr),
            "momentum": optim.SGD(lr=lr * (1 - momentum), momentum=momentum),
            "nesterov": optim.SGD(lr=lr * (1 - momentum), momentum=momentum, nesterov=True)}
    out = {"kappa": kappa, "lr": lr, "momentum": momentum, "paths": {}}
    for name, opt in runs.items():
        path = run(opt, land, (1.0, 1.0), steps)
        out["paths"][name] = path
        out[name + "_flips"], out[name + "_across"] = zigzag(path)
        out[name + "_steps"] = steps_to(path, (0, 0), tol)
    return out


def damping_holds(m: dict, name: str = "momentum") -> bool:
    return (m[name + "_flips"] < DAMP_FLIPS and m["sgd_flips"] >= JITTER_FLIPS
            and m["sgd_across"] >= DAMP_ACROSS * m[name + "_across"]
            and m[name + "_steps"] is not None and m[name + "_steps"] < m["sgd_steps"])


def notes_momentum(grad, x0, lrs, rho):
    """The notes' momentum: ``v = rho v - lr_t g; x += v``."""
    x, v = np.array(x0, float), np.zeros(len(x0))
    path = [x.copy()]
    for lr in lrs:
        v = rho * v - lr * grad(x)
        x = x + v
        path.append(x.copy())
    return np.array(path)


def torch_momentum(grad, x0, lrs, mu):
    """torch.optim.SGD's momentum through :class:`optim.SGD`: ``b = mu b + g; x -= lr_t b``."""
    x = np.array(x0, float)
    opt = optim.SGD(lr=lrs[0], momentum=mu)
    path = [x.copy()]
    for lr in lrs:
        opt.lr = lr
        opt.step([x], [grad(x)])
        path.append(x.copy())
    return np.array(path)


def nesterov_lookahead(grad, x0, lr, rho, steps):
    """Nesterov as usually drawn: the gradient at the look-ahead point ``x + rho v``."""
    x, v = np.array(x0, float), np.zeros(len(x0))
    xs = [x.copy()]
    for _ in range(steps):
        v = rho * v - lr * grad(x + rho * v)
        x = x + v
        xs.append(x.copy())
    return np.array(xs)


def nesterov_change_of_variables(grad, x0, lr, rho, steps):
    """The same method in the variable ``x~ = x + rho v``, with the gradient where we stand:
    ``v_new = rho v - lr grad(x~); x~ += -rho v + (1 + rho) v_new``. Returns the x~ iterates."""
    xt, v = np.array(x0, float), np.zeros(len(x0))
    xs = [xt.copy()]
    for _ in range(steps):
        v_prev = v
        v = rho * v - lr * grad(xt)
        xt = xt - rho * v_prev + (1 + rho) * v
        xs.append(xt.copy())
    return np.array(xs)


def measure_nesterov_forms(kappa=20.0, angle=30.0, lr=0.5, rho=0.9, steps=100) -> dict:
    """Look-ahead iterates x_t mapped to x_t + rho v_t, against the change-of-variables iterates
    and torch's ``nesterov=True`` (through optim.SGD)."""
    land = L.taco(kappa, angle)
    grad = land.exact_grad
    x0 = np.array([1.5, -1.0])
    look = nesterov_lookahead(grad, x0, lr, rho, steps)
    v = np.diff(look, axis=0)
    look_shifted = np.vstack([look[:1], look[1:] + rho * v])  # x_t + rho v_t (v_0 = 0)
    cov = nesterov_change_of_variables(grad, x0, lr, rho, steps)
    tor = run(optim.SGD(lr=lr, momentum=rho, nesterov=True), land, x0, steps)
    return {"lookahead": look, "change_of_variables": cov, "torch": tor,
            "max_diff": float(np.max(np.abs(look_shifted - cov))),
            "max_diff_torch": float(np.max(np.abs(cov - tor)))}


EQUAL_TOL = 1e-12


def forms_equal(m: dict) -> bool:
    return m["max_diff"] < EQUAL_TOL and m["max_diff_torch"] < EQUAL_TOL


# sharp against wide minima
SKIP_GAIN = 0.10  # "skips": momentum ends in the sharp basin for 10 points fewer of the starts


def start_grid(n_x: int = 15, n_y: int = 11, extent=(-2.4, 2.4, -1.8, 1.8)) -> np.ndarray:
    X, Y = np.meshgrid(np.linspace(extent[0], extent[1], n_x), np.linspace(extent[2], extent[3], n_y))
    return np.stack([X.ravel(), Y.ravel()], axis=1)


def basin_fractions(final: np.ndarray, landscape, radius: float = 0.2) -> dict:
    """Where runs ended: within ``radius`` of the sharp minimum, of the wide one, or neither."""
    d = np.linalg.norm(final[:, None, :] - landscape.minima[None], axis=2)
    sharp = d[:, 0] < radius
    wide = d[:, 1] < radius
    return {"sharp": float(np.mean(sharp)), "wide": float(np.mean(wide)),
            "neither": float(np.mean(~sharp & ~wide))}


def measure_sharp_wide(lrs=(0.02, 0.05), momentum: float = 0.9, steps: int = 800,
                       grid=(15, 11)) -> dict:
    """Fraction of a grid of starts that GD and heavy ball (same lr) leave in each basin."""
    land = L.sharp_wide()
    starts = start_grid(*grid)
    out = {"lrs": list(lrs), "momentum": momentum, "n_starts": len(starts),
           "sharp_curvature": float(np.linalg.eigvalsh(land.hessian(land.minima[0]))[-1]),
           "wide_curvature": float(np.linalg.eigvalsh(land.hessian(land.minima[1]))[-1])}
    for lr in lrs:
        for name, mu in (("sgd", 0.0), ("momentum", momentum)):
            p = starts.copy()
            opt = optim.SGD(lr=lr, momentum=mu)
            for _ in range(steps):
                opt.step([p], [land.grad(p)])
            out[(name, lr)] = basin_fractions(p, land)
    return out


def momentum_skips_sharp(m: dict, lr: float) -> bool:
    """At this lr, momentum leaves fewer runs in the sharp minimum than plain GD, by SKIP_GAIN."""
    return m[("momentum", lr)]["sharp"] <= m[("sgd", lr)]["sharp"] - SKIP_GAIN


def _relu_net_loss_grad(w, X, y, d_in=3, hidden=6):
    """MSE of the ReLU net ``relu(X W1) W2`` and its gradient, for a flat weight vector w."""
    W1, W2 = w[:d_in * hidden].reshape(d_in, hidden), w[d_in * hidden:].reshape(hidden, 1)
    z = X @ W1
    h = np.maximum(z, 0)
    r = h @ W2 - y
    loss = float(np.mean(r ** 2))
    dout = 2 * r / len(y)
    dW2 = h.T @ dout
    dW1 = X.T @ ((dout @ W2.T) * (z > 0))
    return loss, np.concatenate([dW1.ravel(), dW2.ravel()])


def top_hessian_eigenvalue(w, X, y, h: float = 1e-5) -> float:
    """Largest eigenvalue of the loss Hessian, by centred differences of the analytic gradient."""
    n = len(w)
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        H[:, i] = (_relu_net_loss_grad(w + e, X, y)[1] - _relu_net_loss_grad(w - e, X, y)[1]) / (2 * h)
    return float(np.linalg.eigvalsh((H + H.T) / 2)[-1])


@single_thread()
def measure_rescaling_sharpness(alpha: float = 10.0, seed: int = 0) -> dict:
    """Dinh et al. (2017): scale a ReLU net's first layer by alpha and its second by 1/alpha. The
    function (so every train and test prediction) is unchanged; the Hessian's top eigenvalue
    (sharpness) is not."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 3))
    y = np.sin(X.sum(1, keepdims=True))
    W1, W2 = rng.standard_normal((3, 6)), 0.5 * rng.standard_normal((6, 1))
    w = np.concatenate([W1.ravel(), W2.ravel()])
    w_scaled = np.concatenate([(alpha * W1).ravel(), (W2 / alpha).ravel()])
    X_test = rng.standard_normal((200, 3))
    out_a = np.maximum(X_test @ W1, 0) @ W2
    out_b = np.maximum(X_test @ (alpha * W1), 0) @ (W2 / alpha)
    return {"alpha": alpha, "sharp_before": top_hessian_eigenvalue(w, X, y),
            "sharp_after": top_hessian_eigenvalue(w_scaled, X, y),
            "max_output_change": float(np.max(np.abs(out_a - out_b))),
            "loss_before": _relu_net_loss_grad(w, X, y)[0],
            "loss_after": _relu_net_loss_grad(w_scaled, X, y)[0]}


# ---------------------------------------------------------------------------- AdaGrad, RMSProp

PER_AXIS_GAIN = 1 / 3  # AdaGrad equalises the axes: speed ratio at least kappa/3 times SGD's


def measure_per_axis(kappa: float = 100.0, steps: int = 10) -> dict:
    """Distance moved along the weak (y) axis over the strong (x) axis, in the first steps on the
    axis-aligned taco, for SGD and AdaGrad (and the per-axis effective learning rates)."""
    land = L.taco(kappa)
    out = {"kappa": kappa}
    for name, opt in (("sgd", optim.SGD(lr=0.1)), ("adagrad", optim.Adagrad(lr=0.1))):
        path = run(opt, land, (1.0, 1.0), steps)
        move = np.abs(path[-1] - path[0])
        out[name + "_ratio"] = float(move[1] / move[0])
    g = land.exact_grad(np.array([1.0, 1.0]))
    out["adagrad_eff_lr"] = (0.1 / np.abs(g)).tolist()  # first step: lr / sqrt(g^2) per axis
    return out


def per_axis_holds(m: dict) -> bool:
    return m["adagrad_ratio"] >= PER_AXIS_GAIN * m["kappa"] * m["sgd_ratio"]


ADAGRAD_SLOPE = (-0.65, -0.35)  # effective step ~ t^-1/2 under noisy gradients
PLATEAU = (0.5, 2.0)            # RMSProp: late effective step within 2x of the earlier one


def effective_steps(opt_name: str, steps: int = 2000, sigma: float = 1.0, seed: int = 0,
                    lr: float = 0.01) -> np.ndarray:
    """lr / (sqrt(accumulator) + eps) of the x coordinate over steps, on the noisy taco."""
    land = L.taco(10.0).noisy(sigma, seed=seed)
    opt = optim.Adagrad(lr=lr) if opt_name == "adagrad" else optim.RMSprop(lr=lr, alpha=0.99)
    key = "sum" if opt_name == "adagrad" else "square_avg"
    p = np.array([1.0, 1.0])
    eff = np.empty(steps)
    for t in range(steps):
        opt.step([p], [land.grad(p)])
        eff[t] = lr / (math.sqrt(opt.state[0][key][0]) + opt.eps)
    return eff


def measure_step_decay(steps: int = 2000, seed: int = 0) -> dict:
    ada = effective_steps("adagrad", steps, seed=seed)
    rms = effective_steps("rmsprop", steps, seed=seed)
    t = np.arange(1, steps + 1)
    late = t >= steps // 10
    return {"adagrad": ada, "rmsprop": rms,
            "adagrad_slope": loglog_slope(t[late], ada[late]),
            "rmsprop_slope": loglog_slope(t[late], rms[late]),
            "adagrad_ratio": float(ada[-1] / ada[steps // 10]),
            "rmsprop_ratio": float(np.mean(rms[-steps // 10:]) / np.mean(rms[steps // 10: steps // 5]))}


def adagrad_decays(m: dict, name: str = "adagrad") -> bool:
    return slope_in(m[name + "_slope"], ADAGRAD_SLOPE)


def step_plateaus(m: dict, name: str = "rmsprop") -> bool:
    return PLATEAU[0] <= m[name + "_ratio"] <= PLATEAU[1]


# ---------------------------------------------------------------------------- errata

NOTES_BROKEN = 100.0  # the notes' code ends at least 100x further from the minimum than the fix


def _fixed_rmsprop(grad, x, lr, n, decay_rate=0.99):
    opt = optim.RMSprop(lr=lr, alpha=decay_rate, eps=1e-7)
    return run(opt, _GradOnly(grad), x, n)


class _GradOnly:
    def __init__(self, grad):
        self.grad = grad


def measure_notes_rmsprop(lr: float = 0.01, steps: int = 300, kappa: float = 10.0) -> dict:
    land = L.taco(kappa)
    start = np.array([1.0, 1.0])
    ns = notes.rmsprop(land.exact_grad, start, lr, steps)
    fx = _fixed_rmsprop(land.exact_grad, start, lr, steps)
    # the notes' accumulator after `steps` steps, replayed on the notes' own gradients
    gs = 0.0
    for x in ns[:-1]:
        dx = land.exact_grad(x)
        gs += 0.99 * gs + 0.01 * dx * dx
    return {"notes_path": ns, "fixed_path": fx, "notes_dist": float(np.linalg.norm(ns[-1])),
            "fixed_dist": float(np.linalg.norm(fx[-1])), "notes_grad_squared": float(np.max(gs))}


def notes_code_broken(m: dict) -> bool:
    return m["notes_dist"] >= NOTES_BROKEN * m["fixed_dist"]


def _fixed_adam_reduced(grad, x, lr, n, beta1=0.9, beta2=0.999):
    """The notes' reduced Adam with the typo fixed ((1 - beta1)), no bias correction."""
    x = np.array(x, float)
    m = v = 0
    path = [x.copy()]
    for _ in range(n):
        dx = grad(x)
        m = beta1 * m + (1 - beta1) * dx
        v = beta2 * v + (1 - beta2) * dx * dx
        x -= lr * m / (np.sqrt(v) + 1e-7)
        path.append(x.copy())
    return np.array(path)


ADAM_TYPO_FACTOR = 2.0  # the notes' Adam wanders at least 2x further from the minimum


def measure_notes_adam(lr: float = 0.01, steps: int = 600, kappa: float = 10.0,
                       sigma: float = 0.5, seed: int = 0) -> dict:
    """The notes' (1 + beta1) Adam against the fixed one. With a constant gradient the notes'
    first moment settles at (1 + beta1) / (1 - beta1) = 19 gradients instead of 1; on the noisy
    taco shell the 19x larger steps keep the iterate further from the minimum: by about
    sqrt(19) = 4.4, as the spread of a noisy iterate grows like the square root of its step
    (3.4x to 7x measured over 600 to 2000 steps, hence the threshold of 2)."""
    ones = notes.adam_reduced(lambda x: np.ones_like(x), np.zeros(1), 1.0, 200)
    fixed_ones = _fixed_adam_reduced(lambda x: np.ones_like(x), np.zeros(1), 1.0, 200)
    # with g = 1 both divide by the same sqrt(v): their step ratio is the ratio of first moments
    land = L.taco(kappa)
    start = np.array([1.0, 1.0])
    ns = notes.adam_reduced(land.noisy(sigma, seed).grad, start, lr, steps)
    fx = _fixed_adam_reduced(land.noisy(sigma, seed).grad, start, lr, steps)
    tail = slice(steps // 2, None)
    return {"notes_path": ns, "fixed_path": fx,
            "notes_dist": float(np.mean(np.linalg.norm(ns[tail], axis=1))),
            "fixed_dist": float(np.mean(np.linalg.norm(fx[tail], axis=1))),
            "step_ratio": float(np.diff(ones[:, 0])[-1] / np.diff(fixed_ones[:, 0])[-1])}


def notes_adam_broken(m: dict) -> bool:
    return m["notes_dist"] >= ADAM_TYPO_FACTOR * m["fixed_dist"]


FIRST_STEP_LARGE = 2.0  # uncorrected first step at least 2x the corrected one


def measure_first_steps(betas=(0.9, 0.999), lr: float = 0.01, steps: int = 20) -> dict:
    """Step lengths of Adam with and without bias correction in the first steps (on the taco;
    the correct moment updates (1 - beta) in both)."""
    land = L.taco(10.0)
    g = land.exact_grad
    b1, b2 = betas
    x = np.array([1.0, 1.0])
    m = v = np.zeros(2)
    raw = []
    for _ in range(steps):
        d = g(x)
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d * d
        step = lr * m / (np.sqrt(v) + 1e-8)
        raw.append(float(np.max(np.abs(step))))
        x = x - step
    corrected = np.abs(np.diff(run(optim.Adam(lr=lr, betas=betas), land, (1.0, 1.0), steps),
                               axis=0)).max(axis=1)
    return {"betas": betas, "lr": lr, "uncorrected": raw, "corrected": corrected.tolist(),
            "first_ratio": raw[0] / float(corrected[0]),
            "predicted": (1 - b1) / math.sqrt(1 - b2)}


def first_steps_large(m: dict) -> bool:
    return m["first_ratio"] >= FIRST_STEP_LARGE


def measure_bias_t0(lr: float = 0.01, steps: int = 5) -> dict:
    land = L.taco(10.0)
    ns = notes.adam_full(land.exact_grad, np.array([1.0, 1.0]), lr, steps)
    fx = run(optim.Adam(lr=lr, eps=1e-7), land, (1.0, 1.0), steps)
    return {"notes_path": ns, "fixed_path": fx,
            "notes_finite": bool(np.all(np.isfinite(ns[1:]))),
            "fixed_finite": bool(np.all(np.isfinite(fx)))}


# ---------------------------------------------------------------------------- rotation

ROTATION_PENALTY = 2.0  # Adam at 45 degrees needs at least 2x its steps at 0 degrees


def best_steps(make_opt, lrs, land, start, steps, tol):
    """Fewest steps to shrink the loss by ``tol`` over a grid of lrs (each run stops early)."""
    best = None
    f0 = land.loss(start)
    for lr in lrs:
        opt = make_opt(lr)
        p = np.array(start, float)
        for t in range(1, steps + 1):
            opt.step([p], [land.exact_grad(p)])
            if land.loss(p) <= tol * f0:
                best = t if best is None else min(best, t)
                break
            if best is not None and t >= best:
                break
    return best


def measure_rotation(kappa: float = 100.0, angles=(0, 15, 30, 45), lrs=(0.03, 0.1, 0.3),
                     steps: int = 1500, tol: float = 1e-6) -> dict:
    """Steps to converge on the taco turned by each angle (the start turns with it, so only the
    alignment with the coordinate axes changes): Adam (best lr of a grid) and tuned heavy ball."""
    out = {"kappa": kappa, "angles": list(angles), "adam": [], "momentum": []}
    hb = tuned_heavy_ball(kappa)
    for a in angles:
        land = L.taco(kappa, a)
        start = rotation(a) @ np.array([1.0, 1.0])
        out["adam"].append(best_steps(lambda lr: optim.Adam(lr=lr), lrs, land, start, steps, tol))
        out["momentum"].append(best_steps(lambda lr: optim.SGD(lr=lr, momentum=hb["momentum"]),
                                          [hb["lr"]], land, start, steps, tol))
    return out


def rotation_hurts_adam(m: dict) -> bool:
    adam = dict(zip(m["angles"], m["adam"], strict=True))
    return (None not in m["adam"] and adam[45] >= ROTATION_PENALTY * adam[0]
            and max(m["momentum"]) - min(m["momentum"]) <= 1)


# ---------------------------------------------------------------------------- LR decay

@single_thread()
def train_softmax(schedule, optimizer: str = "sgd", epochs: int = 30, batch_size: int = 32,
                  seed: int = 0, reg: float = 1e-3, opt_kwargs=None) -> dict:
    """Mini-batch softmax regression on the digits with our NumPy optimizer, its lr set by
    ``schedule`` once per epoch. Returns the full-batch train loss and val accuracy per epoch."""
    X, y, s = _digits()
    Xv = np.c_[s.X_val.astype(np.float64), np.ones(len(s.X_val))]
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.01, (X.shape[1], 10))
    opt = {"sgd": optim.SGD, "adam": optim.Adam}[optimizer](lr=schedule(0), **(opt_kwargs or {}))
    sched = schedules.Scheduler(opt, schedule)
    losses, accs, lrs = [], [], []
    for _ in range(epochs):
        lrs.append(opt.lr)
        order = rng.permutation(len(y))
        for i in range(0, len(y), batch_size):
            idx = order[i:i + batch_size]
            _, dW = softmax_loss_grad(W, X[idx], y[idx], reg)
            opt.step([W], [dW])
        sched.step()
        losses.append(softmax_loss_grad(W, X, y, reg)[0])
        accs.append(float(np.mean((Xv @ W).argmax(1) == s.y_val)))
    return {"loss": losses, "val_acc": accs, "lr": lrs}


def measure_lr_decay(epochs: int = 20, lr0: float = 4.0, seed: int = 0) -> dict:
    """Constant, step, exponential and 1/t decay, each ending near lr0 / 10."""
    scheds = {
        "constant": schedules.constant(lr0),
        "step": schedules.step_decay(lr0, step_size=max(1, epochs // 3), gamma=0.3),
        "exponential": schedules.exponential(lr0, k=math.log(10) / epochs),
        "1/t": schedules.inverse_time(lr0, k=9 / epochs),
    }
    runs = {name: train_softmax(s, "sgd", epochs, seed=seed) for name, s in scheds.items()}
    final = {name: float(np.mean(r["loss"][-3:])) for name, r in runs.items()}
    return {"runs": runs, "final": final, "schedules": scheds}


def decay_helps(m: dict) -> bool:
    f = m["final"]
    return all(f[k] < f["constant"] for k in ("step", "exponential", "1/t"))


def measure_adam_decay(epochs: int = 20, lr0: float = 0.1, seed: int = 0) -> dict:
    """Adam at a constant lr against linear warm-up + cosine decay."""
    runs = {"constant": train_softmax(schedules.constant(lr0), "adam", epochs, seed=seed),
            "warm-up + cosine": train_softmax(
                schedules.warmup_cosine(lr0, warmup=max(1, epochs // 10), total=epochs),
                "adam", epochs, seed=seed)}
    return {"runs": runs, "final": {k: float(np.mean(r["loss"][-3:])) for k, r in runs.items()}}


def cosine_helps_adam(m: dict) -> bool:
    return m["final"]["warm-up + cosine"] < m["final"]["constant"]


# ---------------------------------------------------------------------------- second order

@single_thread()
def measure_newton(n: int = 20, seed: int = 0, kappa: float = 1e3) -> dict:
    """One Newton step on a random quadratic ``1/2 x^T A x - b^T x`` with condition number kappa,
    against 100 steps of tuned gradient descent."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.geomspace(1, 1 / kappa, n)) @ Q.T
    b = rng.standard_normal(n)
    x_star = np.linalg.solve(A, b)
    x0 = rng.standard_normal(n)
    g = A @ x0 - b
    x1 = x0 - np.linalg.solve(A, g)        # Newton: x - H^-1 g, no learning rate
    x = x0.copy()
    for _ in range(100):
        x -= 2 / (1 + 1 / kappa) * (A @ x - b)
    return {"n": n, "kappa": kappa, "newton_error": float(np.linalg.norm(x1 - x_star)),
            "start_error": float(np.linalg.norm(x0 - x_star)),
            "gd100_error": float(np.linalg.norm(x - x_star))}


NEWTON_TOL = 1e-8


def measure_hessian_cost(sizes=(200, 400, 800), repeats: int = 3, seed: int = 0) -> dict:
    """Bytes of an n x n float64 Hessian and the best time to invert it, by n, on one BLAS thread
    (several threads on a shared machine make small sizes noisy; one thread shows the scaling)."""
    rng = np.random.default_rng(seed)
    nbytes, secs = [], []
    with single_thread():
        _time_inversions(sizes, repeats, rng, nbytes, secs)
    return {"sizes": list(sizes), "bytes": nbytes, "seconds": secs,
            "time_slope": loglog_slope(sizes[-2:], secs[-2:]),
            "time_ratio": secs[-1] / secs[-2], "predicted_ratio": (sizes[-1] / sizes[-2]) ** 3}


def _time_inversions(sizes, repeats, rng, nbytes, secs):
    for n in sizes:
        A = rng.standard_normal((n, n))
        H = A @ A.T / n + np.eye(n)
        nbytes.append(H.nbytes)
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            np.linalg.inv(H)
            best = min(best, time.perf_counter() - start)
        secs.append(best)


def memory_quadratic(m: dict) -> bool:
    return all(b == 8 * n * n for n, b in zip(m["sizes"], m["bytes"], strict=True))


def time_cubic_within_margin(m: dict) -> bool:
    r, p = m["time_ratio"], m["predicted_ratio"]
    return p / TIMING_MARGIN <= r <= p * TIMING_MARGIN


def numpy_lbfgs(f_and_grad, x0, iters: int, m: int = 10, gtol: float = 0.0):
    """L-BFGS with the two-loop recursion (:func:`optim.lbfgs_direction`) and a backtracking
    (Armijo) line search, stopping early once the gradient's norm is at most ``gtol``. Returns
    the losses after each iteration and the gradient count."""
    x = np.array(x0, float)
    f, g = f_and_grad(x)
    s_list, y_list, losses, evals = [], [], [f], 1
    for _ in range(iters):
        if float(np.linalg.norm(g)) <= gtol:
            break
        d = optim.lbfgs_direction(g, s_list, y_list)
        if float(d @ g) >= 0:
            d = -g
        x_new, f_new, g_new, tries = backtracking_step(f_and_grad, x, f, g, d)
        evals += tries
        s, yv = x_new - x, g_new - g
        if float(s @ yv) > 1e-12:
            s_list.append(s)
            y_list.append(yv)
            if len(s_list) > m:
                s_list.pop(0)
                y_list.pop(0)
        x, f, g = x_new, f_new, g_new
        losses.append(f)
    return x, losses, evals


def backtracking_step(f_and_grad, x, f, g, d):
    """Armijo backtracking along the direction ``d``: halve the step from 1 until the loss drops
    by at least 1e-4 x the predicted decrease. Returns the new point, its loss and gradient, and
    how many evaluations it took."""
    step, tries = 1.0, 0
    while True:
        x_new = x + step * d
        f_new, g_new = f_and_grad(x_new)
        tries += 1
        if f_new <= f + 1e-4 * step * float(g @ d) or step < 1e-10:
            return x_new, f_new, g_new, tries
        step *= 0.5


def numpy_bfgs(f_and_grad, x0, iters: int):
    """Dense BFGS (:func:`optim.bfgs_update`) with the same line search: O(n^2) memory."""
    x = np.array(x0, float)
    f, g = f_and_grad(x)
    H = np.eye(len(x))
    losses, evals = [f], 1
    for _ in range(iters):
        d = -H @ g
        if float(d @ g) >= 0:
            H, d = np.eye(len(x)), -g
        x_new, f_new, g_new, tries = backtracking_step(f_and_grad, x, f, g, d)
        evals += tries
        H = optim.bfgs_update(H, x_new - x, g_new - g)
        x, f, g = x_new, f_new, g_new
        losses.append(f)
    return x, losses, evals


def _line_search(f_and_grad, x, f, g, d):
    step = 1.0
    while True:
        x_new = x + step * d
        f_new, g_new = f_and_grad(x_new)
        if f_new <= f + 1e-4 * step * float(g @ d) or step < 1e-10:
            return x_new, f_new, g_new
        step *= 0.5


def minibatch_lbfgs(f_and_grad, x0, batches, m: int = 10):
    """L-BFGS where each iteration sees one mini-batch: direction, line search and the curvature
    pair (s, y) all come from that batch's loss, so y mixes curvature with sampling noise."""
    x = np.array(x0, float)
    s_list, y_list = [], []
    for idx in batches:
        def fg(w, idx=idx):
            return f_and_grad(w, idx)
        f, g = fg(x)
        d = optim.lbfgs_direction(g, s_list, y_list)
        if float(d @ g) >= 0:
            d = -g
        x_new, _, g_new = _line_search(fg, x, f, g, d)
        s, yv = x_new - x, g_new - g
        if float(s @ yv) > 1e-12:
            s_list, y_list = (s_list + [s])[-m:], (y_list + [yv])[-m:]
        x = x_new
    return x


# First-order settings (each the best of a small lr grid): full batch, and mini-batches of 32.
FULL_BATCH = {"momentum": (optim.SGD, {"lr": 1.0, "momentum": 0.9}),
              "adam": (optim.Adam, {"lr": 0.05})}
MINI_BATCH = {"momentum": (optim.SGD, {"lr": 0.03, "momentum": 0.9}),
              "adam": (optim.Adam, {"lr": 0.01})}


def measure_lbfgs(iters: int = 40, n_batches: int = 300, batch_size: int = 32, reg: float = 1e-2,
                  seed: int = 0) -> dict:
    """Softmax regression on the digits (float64, L2 ``reg``). Full batch: L-BFGS (NumPy two-loop
    and torch.optim.LBFGS) and dense BFGS against SGD+momentum and Adam given as many gradient
    evaluations. Mini-batch: L-BFGS and the same first-order methods on the same ``n_batches``
    mini-batches. Losses are the full training loss; 'excess' is above the optimum, found by
    running our L-BFGS on from the best point reached until it stalls. On one thread (see
    :func:`~lecture_lib.config.single_thread`), torch included."""
    with single_thread():
        return _measure_lbfgs(iters, n_batches, batch_size, reg, seed)


def _measure_lbfgs(iters, n_batches, batch_size, reg, seed) -> dict:
    import torch

    X, y, _ = _digits()
    shape = (X.shape[1], 10)

    def f_and_grad(w, idx=None):
        Xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        loss, dW = softmax_loss_grad(w.reshape(shape), Xb, yb, reg)
        return loss, dW.ravel()

    x0 = np.zeros(shape[0] * shape[1])
    out = {"iters": iters, "n_params": x0.size}
    _, out["numpy_lbfgs"], evals = numpy_lbfgs(f_and_grad, x0, iters)
    out["evals"] = evals
    _, out["numpy_bfgs"], _ = numpy_bfgs(f_and_grad, x0, iters)

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    lb = torch.optim.LBFGS([w], lr=1, max_iter=iters, history_size=10,
                           line_search_fn="strong_wolfe", tolerance_grad=1e-12,
                           tolerance_change=1e-14)
    seen = []

    def closure():
        lb.zero_grad()
        loss = torch.nn.functional.cross_entropy(Xt @ w, yt) + 0.5 * reg * (w * w).sum()
        loss.backward()
        seen.append(loss.item())
        return loss

    lb.step(closure)
    out["torch_lbfgs"] = seen
    for name, (cls, kw) in FULL_BATCH.items():
        opt, w_np = cls(**kw), x0.copy()
        losses = []
        for _ in range(evals):
            loss, g = f_and_grad(w_np)
            losses.append(loss)
            opt.step([w_np], [g])
        out[name + "_full"] = losses + [f_and_grad(w_np)[0]]
    rng = np.random.default_rng(seed)
    batches = [rng.choice(len(y), batch_size, replace=False) for _ in range(n_batches)]
    out["lbfgs_minibatch"] = f_and_grad(minibatch_lbfgs(f_and_grad, x0, batches))[0]
    for name, (cls, kw) in MINI_BATCH.items():
        opt, w_np = cls(**kw), x0.copy()
        for idx in batches:
            opt.step([w_np], [f_and_grad(w_np, idx)[1]])
        out[name + "_minibatch"] = f_and_grad(w_np)[0]
    # The reference optimum: L-BFGS continued from the end of torch's run (the best start).
    _, polish, _ = numpy_lbfgs(f_and_grad, w.detach().numpy().ravel().copy(), OPTIMUM_ITERS,
                               gtol=1e-9)
    out["optimum"] = min(min(polish), *(min(out[k]) for k in ("numpy_lbfgs", "torch_lbfgs",
                                                                "numpy_bfgs")))
    opt_ = out["optimum"]
    out["excess_full"] = {k: out[k][-1] - opt_ for k in
                          ("numpy_lbfgs", "torch_lbfgs", "numpy_bfgs", "momentum_full", "adam_full")}
    out["excess_minibatch"] = {k: out[k + "_minibatch"] - opt_ for k in ("lbfgs", "momentum", "adam")}
    return out


OPTIMUM_ITERS = 100  # L-BFGS iterations that polish the reference optimum
LBFGS_GAIN = 10.0    # full batch: L-BFGS's excess loss 10x below the first-order methods'
LBFGS_LOSS = 2.0     # mini-batch: L-BFGS's excess loss 2x above the best first-order method's


def lbfgs_full_batch_wins(m: dict) -> bool:
    e = m["excess_full"]
    return max(e["numpy_lbfgs"], e["torch_lbfgs"]) * LBFGS_GAIN <= min(e["momentum_full"],
                                                                        e["adam_full"])


def lbfgs_minibatch_degrades(m: dict) -> bool:
    e = m["excess_minibatch"]
    return e["lbfgs"] >= LBFGS_LOSS * min(e["momentum"], e["adam"])
