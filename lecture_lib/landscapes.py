"""2-D loss landscapes with analytic gradients, for watching optimizers move.

Every landscape has ``f(x, y)`` (vectorised over grids), ``grad(p)`` for a point ``p`` of shape
``(2,)`` (or a stack ``(..., 2)``), a plotting window ``extent``, its minima, and ``noisy(sigma)``:
the same surface whose ``grad`` adds Gaussian noise of standard deviation ``sigma`` per coordinate,
a stand-in for mini-batch gradients.

- :func:`taco`: the quadratic ``1/2 p^T H p`` whose Hessian has eigenvalues ``1`` (steep) and
  ``1/kappa`` (shallow), turned by ``angle`` degrees: the notes' "taco shell".
- :func:`saddle`: ``x^2/2 - y^2/2 + y^4/4``, a saddle at the origin between minima at y = +-1.
- :func:`rosenbrock`: the curved banana valley, minimum at (a, a^2).
- :func:`sharp_wide`: a sharp narrow minimum next to a wide flat one, in a gentle bowl.

:func:`trajectory` runs an optimizer of :mod:`lecture_lib.optim` on a landscape and returns its path.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_rng, check_array, check_choice, check_int, check_positive, check_scalar

__all__ = ["Landscape", "taco", "saddle", "rosenbrock", "sharp_wide", "LANDSCAPES", "make", "trajectory"]


def _points(p) -> np.ndarray:
    if type(p) is np.ndarray and p.dtype == np.float64 and p.shape[-1:] == (2,):
        return p                                       # the usual case, checked cheaply: every step
    p = check_array(p, "p", kind="real").astype(np.float64, copy=False)
    if p.shape[-1:] != (2,):
        raise ValueError(f"p has shape {p.shape}; expected a last axis of length 2 (x, y)")
    return p


class Landscape:
    """A 2-D function with its analytic gradient and Hessian.

    ``f(x, y)`` and ``grad_xy(x, y) -> (gx, gy)`` work elementwise on arrays; ``grad(p)`` takes
    points whose last axis holds (x, y)."""

    def __init__(self, name, f, grad_xy, hessian, extent, minima, params, *, sigma=0.0, rng=None):
        self.name, self.f, self.grad_xy, self.hessian = name, f, grad_xy, hessian
        self.extent, self.minima, self.params = tuple(extent), np.asarray(minima, float), params
        self.sigma = sigma
        self.rng = rng

    def loss(self, p) -> np.ndarray:
        p = _points(p)
        return self.f(p[..., 0], p[..., 1])

    def exact_grad(self, p) -> np.ndarray:
        p = _points(p)
        gx, gy = self.grad_xy(p[..., 0], p[..., 1])
        return np.stack([np.broadcast_to(gx, p.shape[:-1]), np.broadcast_to(gy, p.shape[:-1])],
                        axis=-1)

    def grad(self, p) -> np.ndarray:
        """The gradient, plus Gaussian noise of std ``sigma`` on the noisy variant."""
        g = self.exact_grad(p)
        if self.sigma > 0:
            g = g + self.sigma * self.rng.standard_normal(g.shape)
        return g

    def noisy(self, sigma: float, rng) -> Landscape:
        """The same surface with stochastic gradients: exact gradient + N(0, sigma^2) noise drawn
        from ``rng``."""
        sigma = check_scalar(sigma, "sigma", min=0.0)
        return Landscape(self.name + " (noisy)", self.f, self.grad_xy, self.hessian, self.extent,
                         self.minima, self.params, sigma=sigma, rng=as_rng(rng))

    def grid(self, n: int = 121):
        """(X, Y, Z) on an n x n grid over ``extent`` (for contour plots)."""
        n = check_int(n, "n", min=2, max=4000)
        x0, x1, y0, y1 = self.extent
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self.f(X, Y)

    def condition_number(self, p=None) -> float:
        """Largest over smallest singular value of the Hessian at ``p`` (a minimum by default)."""
        p = self.minima[0] if p is None else _points(p)
        s = np.linalg.svd(self.hessian(p), compute_uv=False)
        return float(s[0] / s[-1]) if s[-1] > 0 else math.inf

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        noise = f", sigma={self.sigma}" if self.sigma else ""
        return f"<Landscape {self.name}({args}{noise})>"


def taco(kappa: float = 10.0, angle: float = 0.0, extent: float = 2.0) -> Landscape:
    """``1/2 p^T H p`` with ``H = R diag(1, 1/kappa) R^T``, R a rotation by ``angle`` degrees.
    At angle 0 the steep axis is x, the shallow one y. Condition number = ``kappa``."""
    kappa = check_scalar(kappa, "kappa", min=1.0)
    angle = check_scalar(angle, "angle")
    a = math.radians(angle)
    R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    H = R @ np.diag([1.0, 1.0 / kappa]) @ R.T
    h11, h12, h22 = H[0, 0], H[0, 1], H[1, 1]

    def f(x, y):
        return 0.5 * (h11 * x * x + 2 * h12 * x * y + h22 * y * y)

    def grad_xy(x, y):
        return h11 * x + h12 * y, h12 * x + h22 * y

    e = check_positive(extent, "extent")
    return Landscape("taco", f, grad_xy, lambda p: H.copy(), (-e, e, -e, e), [[0.0, 0.0]],
                     {"kappa": kappa, "angle": angle})


def saddle() -> Landscape:
    """``x^2/2 - y^2/2 + y^4/4``: a saddle at (0, 0) (Hessian diag(1, -1)), minima at (0, +-1)."""

    def f(x, y):
        return 0.5 * x * x - 0.5 * y * y + 0.25 * y ** 4

    def grad_xy(x, y):
        return x, -y + y ** 3

    def hessian(p):
        return np.array([[1.0, 0.0], [0.0, -1.0 + 3 * p[1] ** 2]])

    return Landscape("saddle", f, grad_xy, hessian, (-1.6, 1.6, -1.6, 1.6), [[0.0, 1.0], [0.0, -1.0]],
                     {})


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    """``(a - x)^2 + b (y - x^2)^2``: a curved narrow valley, minimum at (a, a^2)."""
    a, b = check_scalar(a, "a"), check_positive(b, "b")

    def f(x, y):
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def grad_xy(x, y):
        return -2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)

    def hessian(p):
        x, y = p
        return np.array([[2 - 4 * b * (y - 3 * x * x), -4 * b * x], [-4 * b * x, 2 * b]])

    return Landscape("rosenbrock", f, grad_xy, hessian, (-2.0, 2.0, -1.0, 3.0), [[a, a * a]],
                     {"a": a, "b": b})


# The two wells of sharp_wide: centre, depth, width.
SHARP = ((-1.0, 0.0), 1.2, 0.12)
WIDE = ((1.2, 0.0), 1.0, 0.7)
BOWL = 0.05


def sharp_wide(sharp_width: float = SHARP[2], wide_width: float = WIDE[2]) -> Landscape:
    """A sharp narrow Gaussian well at (-1, 0) (slightly deeper) next to a wide flat one at
    (1.2, 0), in a gentle bowl ``0.05 |p|^2`` that keeps everything bounded."""
    ws = check_positive(sharp_width, "sharp_width")
    ww = check_positive(wide_width, "wide_width")
    wells = [(SHARP[0], SHARP[1], ws), (WIDE[0], WIDE[1], ww)]

    def f(x, y):
        out = BOWL * (x * x + y * y)
        for (cx, cy), depth, w in wells:
            out = out - depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * w * w))
        return out

    def grad_xy(x, y):
        gx, gy = 2 * BOWL * x, 2 * BOWL * y
        for (cx, cy), depth, w in wells:
            e = depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * w * w)) / (w * w)
            gx = gx + e * (x - cx)
            gy = gy + e * (y - cy)
        return gx, gy

    def hessian(p):
        x, y = p
        H = 2 * BOWL * np.eye(2)
        for (cx, cy), depth, w in wells:
            d = np.array([x - cx, y - cy])
            e = depth * math.exp(-float(d @ d) / (2 * w * w)) / (w * w)
            H += e * (np.eye(2) - np.outer(d, d) / (w * w))
        return H

    minima = [_refine(grad_xy, hessian, c) for c, _, _ in wells]
    return Landscape("sharp_wide", f, grad_xy, hessian, (-2.5, 2.5, -2.0, 2.0), minima,
                     {"sharp_width": ws, "wide_width": ww})


def _refine(grad_xy, hessian, start, steps=30):
    """Newton's method from a well's centre to the exact minimum nearby."""
    p = np.array(start, dtype=float)
    for _ in range(steps):
        g = np.array(grad_xy(p[0], p[1]), dtype=float)
        p = p - np.linalg.solve(hessian(p), g)
    return p


LANDSCAPES = {"taco": taco, "saddle": saddle, "rosenbrock": rosenbrock, "sharp_wide": sharp_wide}


def make(name: str, **params) -> Landscape:
    """A landscape by name: ``make("taco", kappa=100, angle=45)``."""
    return LANDSCAPES[check_choice(name, "name", sorted(LANDSCAPES))](**params)


def trajectory(optimizer, landscape: Landscape, start, steps: int) -> np.ndarray:
    """The iterates of ``optimizer`` (a :mod:`lecture_lib.optim` optimizer) on ``landscape`` from
    ``start``, using ``landscape.grad`` (noisy on a noisy landscape): shape ``(steps + 1, ..., 2)``.
    ``start`` may hold many points (shape (n, 2)): the optimizers work elementwise, so each row is
    an independent run."""
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer={optimizer!r} is not valid; expected a lecture_lib.optim optimizer")
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape={landscape!r} is not valid; expected a Landscape")
    p = _points(start).copy()
    steps = check_int(steps, "steps", min=0, max=10_000_000)
    path = np.empty((steps + 1,) + p.shape)
    path[0] = p
    for t in range(steps):
        optimizer.step([p], [landscape.grad(p)])
        path[t + 1] = p
    return path
