"""The experiments of 04's section on momentum and Nesterov: damping the zig-zag, Nesterov's two
forms, sharp against wide minima, and whether sharpness can decide generalization."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import landscapes as L
from ... import nets, optim
from ..._checks import as_rng, check_positive_int, check_scalar
from ...config import single_thread
from .gradient_descent import JITTER_FLIPS, iterate, steps_to

__all__ = ["DAMP_FLIPS", "DAMP_ACROSS", "EQUAL_TOL", "FORMS_DIFFER", "SKIP_GAIN", "BASIN_RADIUS",
           "OUTPUT_TOL", "SHARPER_BY", "zigzag", "envelope", "envelope_factor", "Damping", "measure_damping",
           "damping_holds", "swings_longer",
           "paths_agree", "paths_differ", "NesterovForms", "measure_nesterov_forms", "forms_equal",
           "start_grid", "SharpWide", "measure_sharp_wide", "momentum_skips_sharp",
           "top_hessian_eigenvalue", "Rescaling", "measure_rescaling_sharpness",
           "function_unchanged", "sharpness_changes"]

DAMP_FLIPS = 0.5      # momentum reverses the steep coordinate on fewer than half of the steps
DAMP_ACROSS = 2.0     # and travels at least 2x less distance across the valley
EQUAL_TOL = 1e-12     # two forms of one method agree to float64 rounding
FORMS_DIFFER = 1e-3   # two methods differ by more than this somewhere on their paths
SKIP_GAIN = 0.10      # "skips": momentum ends in the sharp basin for 10 points fewer of the starts
BASIN_RADIUS = 0.2    # a run that ends within this of a minimum ended in its basin
OUTPUT_TOL = 1e-10    # the network's outputs are unchanged (float64 rounding)
SHARPER_BY = 10.0     # "sharpness changes": the top Hessian eigenvalue moves by 10x


# --------------------------------------------------------------------------- damping
def zigzag(path: np.ndarray) -> tuple[float, float]:
    """(fraction of steps that reverse the steep coordinate x, distance travelled along x)."""
    dx = np.diff(path[:, 0])
    return float(np.mean(np.sign(dx[1:]) != np.sign(dx[:-1]))), float(np.sum(np.abs(dx)))


def envelope(path: np.ndarray) -> np.ndarray:
    """The swing of the steep coordinate: at each step, the largest |x| still to come (the
    envelope of the oscillation across the valley, whatever its period)."""
    return np.maximum.accumulate(np.abs(path[::-1, 0]))[::-1]


def envelope_factor(path: np.ndarray, tol: float = 1e-3) -> float:
    """The factor by which the swing across the valley shrinks per step, on average (geometric
    mean), from the start until it falls below ``tol``: GD at lr on curvature 1 gives |1 - lr|,
    heavy ball about sqrt(rho)."""
    env = envelope(path)
    end = int(np.argmax(env < tol)) if np.any(env < tol) else len(env)
    if end < 2:
        return 0.0
    return float(np.exp(np.mean(np.diff(np.log(env[:end])))))


@dataclass(frozen=True)
class Damping:
    """GD, heavy ball and Nesterov on the taco: per method its path, the share of reversals of the
    steep coordinate, the distance it travels across the valley, the per-step factor of its swing
    across (:func:`envelope_factor`), and its steps to ``tol`` (None: not within the run)."""

    kappa: float
    lr: float
    momentum: float
    tol: float
    paths: dict
    flips: dict
    across: dict
    swing: dict
    steps: dict


def measure_damping(kappa: float = 50.0, lr: float = 1.9, momentum: float = 0.9, steps: int = 400,
                    tol: float = 1e-3) -> Damping:
    """Plain GD at a zig-zagging lr against heavy ball and Nesterov with the same effective lr along
    the valley (``lr (1 - momentum)``, so the velocity's terminal step is ``lr g``)."""
    land = L.taco(kappa)
    runs = {"sgd": optim.SGD(lr=lr),
            "momentum": optim.SGD(lr=lr * (1 - momentum), momentum=momentum),
            "nesterov": optim.SGD(lr=lr * (1 - momentum), momentum=momentum, nesterov=True)}
    paths = {name: L.trajectory(opt, land, (1.0, 1.0), steps) for name, opt in runs.items()}
    zz = {name: zigzag(p) for name, p in paths.items()}
    return Damping(kappa, lr, momentum, tol, paths, {k: v[0] for k, v in zz.items()},
                   {k: v[1] for k, v in zz.items()}, {k: envelope_factor(p, tol) for k, p in paths.items()},
                   {name: steps_to(p, (0, 0), tol) for name, p in paths.items()})


def damping_holds(r: Damping, name: str = "momentum") -> bool:
    """``name`` rarely reverses, travels less across the valley and converges before GD, which
    zig-zags."""
    if r.flips["sgd"] < JITTER_FLIPS or r.steps[name] is None:
        return False
    return (r.flips[name] < DAMP_FLIPS and r.across["sgd"] >= DAMP_ACROSS * r.across[name]
            and (r.steps["sgd"] is None or r.steps[name] < r.steps["sgd"]))


def swings_longer(r: Damping, name: str = "momentum") -> bool:
    """``name``'s swing across the valley shrinks more slowly per step than GD's: what heavy ball
    trades for its speed along the valley."""
    return r.swing[name] > r.swing["sgd"]


def paths_agree(a, b) -> bool:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) < EQUAL_TOL


def paths_differ(a, b) -> bool:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) > FORMS_DIFFER


# --------------------------------------------------------------------------- Nesterov
@dataclass(frozen=True)
class NesterovForms:
    """The look-ahead form's iterates x_t, the change-of-variables iterates x~_t, and optim.SGD with
    ``nesterov=True``; the largest difference between x_t + rho v_t and x~_t, and between x~_t and
    torch's form."""

    lookahead: np.ndarray
    change_of_variables: np.ndarray
    torch: np.ndarray
    max_diff: float
    max_diff_torch: float


def measure_nesterov_forms(lookahead, change_of_variables, *, kappa: float = 20.0, angle: float = 30.0,
                           lr: float = 0.5, rho: float = 0.9, steps: int = 100) -> NesterovForms:
    """``lookahead`` and ``change_of_variables`` are Nesterov's update in its two forms, written as
    ``step(x, grad, v, lr, rho) -> (x, v)`` (see :func:`iterate`), run from a velocity of 0."""
    land = L.taco(kappa, angle)
    x0 = np.array([1.5, -1.0])
    look = iterate(lookahead, land.exact_grad, x0, steps, 0.0, lr=lr, rho=rho)
    look_shifted = np.vstack([look[:1], look[1:] + rho * np.diff(look, axis=0)])  # x_t + rho v_t (v_0 = 0)
    cov = iterate(change_of_variables, land.exact_grad, x0, steps, 0.0, lr=lr, rho=rho)
    tor = L.trajectory(optim.SGD(lr=lr, momentum=rho, nesterov=True), land, x0, steps)
    return NesterovForms(look, cov, tor, float(np.max(np.abs(look_shifted - cov))), float(np.max(np.abs(cov - tor))))


def forms_equal(r: NesterovForms) -> bool:
    return r.max_diff < EQUAL_TOL and r.max_diff_torch < EQUAL_TOL


# --------------------------------------------------------------------------- sharp against wide minima
def start_grid(n_x: int = 15, n_y: int = 11, extent=(-2.4, 2.4, -1.8, 1.8)) -> np.ndarray:
    X, Y = np.meshgrid(np.linspace(extent[0], extent[1], check_positive_int(n_x, "n_x")),
                       np.linspace(extent[2], extent[3], check_positive_int(n_y, "n_y")))
    return np.stack([X.ravel(), Y.ravel()], axis=1)


@dataclass(frozen=True)
class SharpWide:
    """Where GD and heavy ball (the same lr) end from a grid of starts on ``landscape`` (the sharp
    minimum first), for each lr: ``ends[method][lr]``, one row per start."""

    landscape: L.Landscape
    lrs: tuple
    momentum: float
    starts: np.ndarray
    ends: dict

    @property
    def sharp_curvature(self) -> float:
        return float(np.linalg.eigvalsh(self.landscape.hessian(self.landscape.minima[0]))[-1])

    @property
    def wide_curvature(self) -> float:
        return float(np.linalg.eigvalsh(self.landscape.hessian(self.landscape.minima[1]))[-1])

    def in_sharp(self, method: str, lr: float) -> np.ndarray:
        """Which starts ended within :data:`BASIN_RADIUS` of the sharp minimum."""
        return np.linalg.norm(self.ends[method][lr] - self.landscape.minima[0], axis=1) < BASIN_RADIUS

    def fractions(self, method: str, lr: float) -> dict:
        """The share of the starts that ended in the sharp basin, the wide one, or neither yet."""
        d = np.linalg.norm(self.ends[method][lr][:, None, :] - self.landscape.minima[None], axis=2)
        sharp, wide = d[:, 0] < BASIN_RADIUS, d[:, 1] < BASIN_RADIUS
        return {"sharp": float(np.mean(sharp)), "wide": float(np.mean(wide)), "neither": float(np.mean(~sharp & ~wide))}

    def next_step_length(self, method: str, lr: float) -> float:
        """The mean length of the next gradient step of the runs counted in the sharp well."""
        inside = self.ends[method][lr][self.in_sharp(method, lr)]
        return float(np.mean(lr * np.linalg.norm(self.landscape.grad(inside), axis=1))) if len(inside) else 0.0


def measure_sharp_wide(lrs=(0.02, 0.05), momentum: float = 0.9, steps: int = 800, grid=(15, 11)) -> SharpWide:
    land = L.sharp_wide()
    starts = start_grid(*grid)
    ends = {name: {lr: L.trajectory(optim.SGD(lr=lr, momentum=mu), land, starts, steps)[-1] for lr in lrs}
            for name, mu in (("sgd", 0.0), ("momentum", momentum))}
    return SharpWide(land, tuple(lrs), momentum, starts, ends)


def momentum_skips_sharp(r: SharpWide, lr: float) -> bool:
    """At this lr, momentum leaves fewer runs in the sharp minimum than plain GD, by :data:`SKIP_GAIN`."""
    return r.fractions("momentum", lr)["sharp"] <= r.fractions("sgd", lr)["sharp"] - SKIP_GAIN


# --------------------------------------------------------------------------- sharpness and rescaling
def top_hessian_eigenvalue(net: nets.MLP, X, y, h: float = 1e-5) -> float:
    """The largest eigenvalue of the loss's Hessian with respect to all the net's parameters, by
    centred differences of the analytic gradient."""
    names = list(net.params)
    sizes = [net.params[k].size for k in names]
    w0 = np.concatenate([net.params[k].ravel() for k in names])

    def gradient(w):
        for k, part in zip(names, np.split(w, np.cumsum(sizes)[:-1]), strict=True):
            net.params[k][...] = part.reshape(net.params[k].shape)
        grads = net.loss(X, y)[1]
        return np.concatenate([grads[k].ravel() for k in names])

    H = np.empty((w0.size, w0.size))
    for i in range(w0.size):
        e = np.zeros(w0.size)
        e[i] = h
        H[:, i] = (gradient(w0 + e) - gradient(w0 - e)) / (2 * h)
    gradient(w0)                                           # put the parameters back
    return float(np.linalg.eigvalsh((H + H.T) / 2)[-1])


@dataclass(frozen=True)
class Rescaling:
    """A ReLU network before and after scaling its first layer by a factor c and its second by 1/c:
    the largest change of any output on fresh inputs, the losses, and the sharpness (the top
    eigenvalue of the loss's Hessian) before and after."""

    factor: float
    max_output_change: float
    loss_before: float
    loss_after: float
    sharp_before: float
    sharp_after: float


@single_thread()
def measure_rescaling_sharpness(factor: float = 10.0, *, rng) -> Rescaling:
    """Dinh et al. (2017): ReLU is positively homogeneous, relu(c z) = c relu(z) for c > 0, so the
    rescaled network computes the same function (every prediction, hence the test error, is
    unchanged) while its sharpness is not."""
    factor, rng = check_scalar(factor, "factor", min=0.0, min_inclusive=False), as_rng(rng)
    X, y, X_test = rng.standard_normal((40, 3)), rng.integers(0, 3, 40), rng.standard_normal((200, 3))
    net = nets.MLP([3, 6, 3], rng=rng)
    scaled = nets.MLP([3, 6, 3], rng=rng)
    scaled.params.update(W1=factor * net.params["W1"], b1=factor * net.params["b1"], W2=net.params["W2"] / factor,
                         b2=net.params["b2"].copy())
    return Rescaling(factor, float(np.max(np.abs(net.scores(X_test) - scaled.scores(X_test)))), net.loss(X, y)[0],
                     scaled.loss(X, y)[0], top_hessian_eigenvalue(net, X, y), top_hessian_eigenvalue(scaled, X, y))


def function_unchanged(r: Rescaling) -> bool:
    return r.max_output_change < OUTPUT_TOL


def sharpness_changes(r: Rescaling) -> bool:
    return max(r.sharp_after / r.sharp_before, r.sharp_before / r.sharp_after) > SHARPER_BY
