"""The experiments of 02_initialization, each next to the thresholds that decide its claims.

Every threshold the notebook asserts is a named constant used by a named predicate; the unit tests
run each predicate on the opposite experiment (He's init for the "vanishes" check, Xavier + tanh for
"saturated", ...). The deep statistics come from :func:`lecture_lib.init.activation_statistics`, the
trained networks are :class:`lecture_lib.nets.MLP`. "Not reached" is None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import init as I
from .. import nets
from .._checks import as_rng, check_array, check_names, check_positive_int, check_scalar, check_size
from ..config import single_thread
from ..optim import SGD
from ..preprocessing import as_matrix

# --------------------------------------------------------------------------- thresholds
SPEEDUP_FACTOR = 3.0        # "speeds up training": at least 3x fewer steps, each at its best rate
CENTRING_GAIN = 1.5         # centring alone: at least 1.5x fewer steps
LOCKED = 0.99               # above this share of sign-locked single-example gradients: "locked"
UNLOCKED = 0.05             # below this share: "unlocked"
COUPLED = 0.05              # mean |cosine| between features above this: "still coupled"
COUPLING_DROP = 0.5         # centring at least halves the coupling
DECORRELATED_TOL = 1e-8     # a covariance whose off-diagonal stays below this: decorrelated features
MOVED = 1e-3                # weights that changed by more than this during training "moved"
IDENTICAL = 1e-9            # hidden units that differ by less than this are copies of each other
DIFFERENT = 0.1             # ... and by more than this, distinct units
SHRINK_TOLERANCE = 0.1      # a measured per-layer factor within 10% of the predicted one
DECAY_RATIO = 0.1           # layer-last std below 10% of layer-1 std: "decays"
CONSTANT_BAND = (0.5, 2.0)  # layer-last std within 2x of layer-1 std: "stays near constant"
VANISHED_STD = 1e-5         # a last-layer std below this: the signal has vanished
SATURATED_MAJORITY = 0.8    # more than 80% of the last layer's outputs saturated: "almost all"
HARDLY_SATURATED = 0.01     # fewer than 1% saturated: "almost none"
TINY_GRADIENT = 1e-3        # every layer's weight gradient 1000x below the reference's: "tiny"
COLLAPSE_GAIN = 1e4         # keeps the scale 10^4x better than a collapsing init
SLOW_DRIFT = 0.85           # a per-layer factor above this: at most a slow drift
KEEPS_GRADIENT = 0.85       # backward factor above this: the gradient is kept
LOSES_GRADIENT = 0.3        # backward factor below this: three quarters lost per layer
UNCENTRED_MEAN = 0.4        # a mean activation above this is far from centred
HALF_TOLERANCE = 0.15       # E[h^2]/E[z^2] within 0.5 +- 0.15: "keeps half the second moment"
HALF_EXACT = 0.005          # E[relu(z)^2]/Var(z) within 0.5 +- 0.005: "exactly half" (10^6 draws)
NOT_HALF = 0.1              # a ratio further than this from 1/2 is not the half
ZERO_SHARE_BAND = (0.2, 0.8)  # each unit is zero on between 20% and 80% of the inputs: not dead
FEW_DEAD_UNITS = 0.25       # below this share of dead units: "nowhere near half"
NEARLY_DEAD = 0.95          # a unit zero on this share of the inputs or more is nearly dead
LOSS_TARGET = 1.0           # the training loss the deep-network runs are timed to (ln 10 = 2.30 at chance)
VARIANCE_MATCH = 0.02       # a sample variance within 2% of a formula's: it is that formula
VARIANCE_MISMATCH = 0.2     # more than 20% off: it is not
LEARNS_ACCURACY = 0.85      # "works": at least 85% validation accuracy on the digits
NEAR_ACCURACY = 0.05        # within 5 points of the reference's accuracy
CHANCE_MARGIN = 0.99        # "does not learn": final loss above 99% of the chance loss ln(C)


# --------------------------------------------------------------------------- preprocessing
def sign_locked_fraction(X, delta) -> float:
    """For a neuron with input rows ``X`` (N, D) and upstream gradients ``delta`` (N,), the
    per-example weight gradient is ``delta[n] * X[n]``. Returns the fraction of examples whose
    gradient has all its non-zero components of ONE sign. With all-positive inputs it is 1: every
    single-example update moves all weights of the neuron up together, or down together."""
    X = as_matrix(X)
    delta = check_array(delta, "delta", shape=(len(X),), kind="real")
    g = np.sign(X * delta[:, None])
    return float(np.mean(~(np.any(g > 0, axis=1) & np.any(g < 0, axis=1))))


def coupling(X, tol: float = 1e-10) -> float:
    """Mean |cosine| between pairs of features over the examples: the off-diagonal of the
    normalized second-moment matrix E[x x^T]. For a linear layer that matrix is the curvature
    that couples the weights' gradients; 0 means the gradient components are uncorrelated.
    Features that are zero on every example are left out."""
    X = as_matrix(X)
    M = X.T @ X / len(X)
    d = np.sqrt(np.diag(M))
    keep = d > check_scalar(tol, "tol", min=0.0)
    if keep.sum() < 2:
        return 0.0
    R = M[np.ix_(keep, keep)] / np.outer(d[keep], d[keep])
    return float(np.mean(np.abs(R[~np.eye(int(keep.sum()), dtype=bool)])))


def curvature(X) -> np.ndarray:
    """The eigenvalues of E[x x^T], largest first: the Hessian of a linear least-squares model (up
    to a constant). The largest caps the stable learning rate; their spread is the conditioning."""
    X = as_matrix(X)
    return np.linalg.eigvalsh(X.T @ X / len(X))[::-1]


@dataclass(frozen=True)
class InputVersion:
    """One version of the inputs: the steps of gradient descent (softmax regression) to the target
    loss at its best rate, the share of sign-locked single-example gradients, the coupling between
    features, and the curvature spectrum."""

    speed: nets.SpeedResult
    locked: float
    coupling: float
    eigenvalues: np.ndarray

    @property
    def top(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def condition(self) -> float:
        """Largest over smallest non-negligible eigenvalue (below 1e-6 of the largest: dropped)."""
        e = self.eigenvalues[self.eigenvalues > 1e-6 * self.eigenvalues[0]]
        return float(e[0] / e[-1])


@dataclass(frozen=True)
class PreprocessingComparison:
    target: float
    versions: dict


def measure_preprocessing(versions: dict, y, *, lrs, target: float, max_steps: int) -> PreprocessingComparison:
    """Each version of the inputs (``{name: X}``) measured as an :class:`InputVersion`. The sign
    lock is that of the neuron of class 0 at zero weights, whose upstream gradient is -0.9 on the
    examples of class 0 and 0.1 on the others."""
    if not isinstance(versions, dict) or not versions:
        raise TypeError("versions is not valid; expected a non-empty dict {name: inputs}")
    y = check_array(y, "y", kind="int", ndim=1)
    delta = np.where(y == 0, -0.9, 0.1)
    with single_thread():
        out = {name: InputVersion(nets.tuned_steps_to_loss(Z, y, lrs=lrs, target=target, max_steps=max_steps),
                                  sign_locked_fraction(Z, delta), coupling(Z), curvature(Z))
               for name, Z in versions.items()}
    return PreprocessingComparison(target, out)


def speeds_up(before: InputVersion, after: InputVersion, factor: float = SPEEDUP_FACTOR) -> bool:
    """``after`` reaches the target at least ``factor`` times sooner than ``before``."""
    if after.speed.steps is None:
        return False
    return before.speed.steps is None or before.speed.steps >= factor * max(after.speed.steps, 1)


def signs_locked(v: InputVersion) -> bool:
    return v.locked > LOCKED


def signs_unlocked(v: InputVersion) -> bool:
    return v.locked < UNLOCKED


def still_coupled(v: InputVersion) -> bool:
    """The features (hence a linear layer's gradient components) remain correlated."""
    return v.coupling > COUPLED


def coupling_halved(before: InputVersion, after: InputVersion) -> bool:
    return after.coupling < COUPLING_DROP * before.coupling


def decorrelated(covariance) -> bool:
    """No off-diagonal covariance above :data:`DECORRELATED_TOL`: the features are uncorrelated."""
    C = check_array(covariance, "covariance", ndim=2)
    return bool(np.abs(C - np.diag(np.diag(C))).max() < DECORRELATED_TOL)


# --------------------------------------------------------------------------- training from an init
@dataclass(frozen=True)
class InitRun:
    """A network trained from one init: its history (:class:`lecture_lib.nets.TrainResult`), the
    trained net, and a copy of its initial parameters."""

    history: nets.TrainResult
    net: nets.MLP
    initial: dict

    @property
    def train_loss(self) -> list:
        return self.history.train_loss

    @property
    def val_acc(self) -> list:
        return self.history.val_acc

    @property
    def diverged_at(self) -> int | None:
        return self.history.diverged_at


def measure_init_training(data, *, hidden, init="he", activation: str = "relu", scale: float = 1.0,
                          lr: float = 0.1, epochs: int, batch_size: int = 64, rng) -> InitRun:
    """Mini-batch SGD (no momentum, no tricks) on a fully connected :class:`lecture_lib.nets.MLP`
    from the init ``init`` (a scheme's name or a function ``(fan_in, fan_out, rng) -> W``), so that
    runs with the same ``rng`` seed differ only by their initial weights. A run whose loss becomes
    non-finite stops there (``diverged_at``)."""
    rng = as_rng(rng)
    X, Xv = data.X_train.astype(np.float64), data.X_val.astype(np.float64)
    net = nets.MLP([X.shape[1], *hidden, data.n_classes], activation=activation, init=init, scale=scale, rng=rng)
    start = {k: v.copy() for k, v in net.params.items()}
    with single_thread():
        history = nets.train(net, X, data.y_train, optimizer=SGD(lr=lr), epochs=epochs, batch_size=batch_size,
                             rng=rng, X_val=Xv, y_val=data.y_val, train_accuracy=False)
    return InitRun(history, net, start)


def learns(result: InitRun) -> bool:
    """The run ended with at least :data:`LEARNS_ACCURACY` validation accuracy."""
    return bool(result.diverged_at is None and result.val_acc and result.val_acc[-1] >= LEARNS_ACCURACY)


def close_to(result: InitRun, reference: InitRun) -> bool:
    """The run's final validation accuracy is within :data:`NEAR_ACCURACY` of the reference's."""
    return result.val_acc[-1] >= reference.val_acc[-1] - NEAR_ACCURACY


def stuck_at_chance(result: InitRun, n_classes: int = 10) -> bool:
    """The run's last training loss is still at the loss of a uniform guess, ln(n_classes)."""
    return bool(result.train_loss and result.train_loss[-1] > CHANCE_MARGIN * math.log(n_classes))


def unit_spread(W) -> float:
    """Largest difference between any hidden unit's incoming weights (columns) and unit 0's,
    relative to the weights' size: 0 means every unit is a copy of the first."""
    W = check_array(W, "W", ndim=2)
    return float(np.max(np.abs(W - W[:, :1])) / max(np.max(np.abs(W)), 1e-300))


def first_weights_moved(result: InitRun) -> float:
    """The largest change of any first-layer weight during training."""
    return float(np.abs(result.net.params["W1"] - result.initial["W1"]).max())


def units_identical(result: InitRun) -> bool:
    return unit_spread(result.net.params["W1"]) < IDENTICAL


def units_differ(result: InitRun) -> bool:
    return unit_spread(result.net.params["W1"]) > DIFFERENT


def weights_moved(result: InitRun) -> bool:
    return first_weights_moved(result) > MOVED


# --------------------------------------------------------------------------- activation statistics
@dataclass(frozen=True)
class StatisticsGrid:
    """:func:`lecture_lib.init.activation_statistics` for every (init, activation) pair, on the same
    inputs ``X`` and the same unit-variance matrices ``weights`` (each init scales them by its std),
    with the same upstream gradient; ``stats[activation][init]`` holds each run."""

    X: np.ndarray
    weights: tuple
    stats: dict

    def get(self, init: str, activation: str) -> I.ActivationStats:
        return self.stats[activation][init]


def measure_activation_statistics(inits=("small", "large", "lecun", "xavier", "he"),
                                  activations=("tanh", "relu", "sigmoid"), *, depth: int = 10, width: int = 500,
                                  n_samples: int = 1000, n_features: int = 500, weight_grads=(), rng,
                                  dtype=np.float32) -> StatisticsGrid:
    """The lecture's experiment: ``n_samples`` unit-Gaussian inputs of ``n_features`` through
    ``depth`` layers of ``width`` units; ``weight_grads`` lists the (init, activation) pairs whose
    weight gradients are measured too (one more matrix product per layer)."""
    inits = check_names(inits, "inits", I.INITS)
    activations = check_names(activations, "activations", I.ACTIVATIONS)
    depth, width = check_positive_int(depth, "depth"), check_positive_int(width, "width")
    n_samples, n_features = check_positive_int(n_samples, "n_samples"), check_positive_int(n_features, "n_features")
    check_size(n_samples * n_features + n_features * width + (depth - 1) * width * width + n_samples * width * depth,
               "measure_activation_statistics(depth, width, n_samples, n_features)")
    wanted = {(i, a) for i, a in weight_grads}
    rng = as_rng(rng)
    X = rng.standard_normal((n_samples, n_features), dtype=dtype)
    weights = I.standard_weights(depth, width, n_features, rng, dtype)
    dout_seed = int(rng.integers(2**31))
    fans = [n_features] + [width] * depth
    stats, done = {}, {}
    for a in activations:
        stats[a] = {}
        for i in inits:
            # Schemes that give every layer the same std (lecun and xavier do when all layers are
            # square) give identical runs: compute once, relabel the copy.
            key = (a, (i, a) in wanted, tuple(I.init_std(i, fans[k], fans[k + 1]) for k in range(depth)))
            if key in done:
                stats[a][i] = done[key].relabel(i)
                continue
            stats[a][i] = done[key] = I.activation_statistics(
                i, a, X, weights, rng=np.random.default_rng(dout_seed), weight_grads=(i, a) in wanted)
    return StatisticsGrid(X, tuple(weights), stats)


def shrinks_by(values, factor: float, tolerance: float = SHRINK_TOLERANCE) -> bool:
    """The values are multiplied by about ``factor`` (< 1) at every layer (from layer 2 on)."""
    measured = I.per_layer_factor(values, first=1)
    return bool(factor < 1 and abs(measured - factor) <= tolerance * factor)


def decays(values) -> bool:
    """The last layer's value is below :data:`DECAY_RATIO` times the first layer's."""
    return bool(I.depth_ratio(values) < DECAY_RATIO)


def stays_constant(values) -> bool:
    """The last layer's value is within :data:`CONSTANT_BAND` of the first layer's."""
    return bool(CONSTANT_BAND[0] < I.depth_ratio(values) < CONSTANT_BAND[1])


def vanished(stats: I.ActivationStats) -> bool:
    return bool(stats.stds[-1] < VANISHED_STD)


def mostly_saturated(stats: I.ActivationStats) -> bool:
    """More than :data:`SATURATED_MAJORITY` of the last layer's outputs sit on the flat part."""
    return bool(stats.saturated[-1] > SATURATED_MAJORITY)


def hardly_saturated(stats: I.ActivationStats) -> bool:
    return bool(stats.saturated[-1] < HARDLY_SATURATED)


def weight_gradients_tiny(stats: I.ActivationStats, reference: I.ActivationStats) -> bool:
    """Every layer's weight gradient is :data:`TINY_GRADIENT` times the reference's, or less."""
    return bool(np.all(stats.weight_grad_rms < TINY_GRADIENT * reference.weight_grad_rms))


def backward_factor(stats: I.ActivationStats) -> float:
    """The per-layer factor of the gradient's size on its way back (from the last layer)."""
    return I.per_layer_factor(stats.grad_rms[::-1])


def keeps_gradient(stats: I.ActivationStats) -> bool:
    return backward_factor(stats) > KEEPS_GRADIENT


def loses_gradient(stats: I.ActivationStats) -> bool:
    return backward_factor(stats) < LOSES_GRADIENT


def uncentred(stats: I.ActivationStats) -> bool:
    return bool(stats.means[-1] > UNCENTRED_MEAN)


def drifts_slowly(stats: I.ActivationStats) -> bool:
    return I.per_layer_factor(stats.stds, first=1) > SLOW_DRIFT


def keeps_scale_better(stats: I.ActivationStats, collapsing: I.ActivationStats) -> bool:
    return I.depth_ratio(stats.stds) > COLLAPSE_GAIN * I.depth_ratio(collapsing.stds)


def halves_second_moment(stats: I.ActivationStats) -> bool:
    """Every layer keeps about half of its pre-activations' second moment (He's factor 1/2)."""
    return bool(np.all(np.abs(stats.second_moment_ratio - 0.5) < HALF_TOLERANCE))


def no_dead_units_at_first(stats: I.ActivationStats) -> bool:
    """No unit of layer 1 is dead, and each is zero on a share of inputs in :data:`ZERO_SHARE_BAND`."""
    share = stats.unit_zero_share[0]
    return bool(stats.dead_units[0] == 0.0 and np.all((share > ZERO_SHARE_BAND[0]) & (share < ZERO_SHARE_BAND[1])))


def few_dead_units(stats: I.ActivationStats) -> bool:
    return bool(np.all(stats.dead_units < FEW_DEAD_UNITS))


def nearly_dead_share(stats: I.ActivationStats, layer: int = -1) -> float:
    """The share of ``layer``'s units that are zero on NEARLY_DEAD of the inputs or more."""
    return float(np.mean(stats.unit_zero_share[layer] >= NEARLY_DEAD))


def epochs_to_loss(train_loss, target: float = LOSS_TARGET) -> int | None:
    """The first epoch (counting from 1) whose training loss is below ``target``; None: never."""
    train_loss = check_array(train_loss, "train_loss", ndim=1, kind="real")
    target = check_scalar(target, "target")
    return next((epoch for epoch, loss in enumerate(train_loss, start=1) if loss < target), None)


@dataclass(frozen=True)
class SecondMoment:
    """For pre-activations z symmetric about 0: E[relu(z)^2] / Var(z) and Var(relu(z)) / Var(z)."""

    second_moment_ratio: float
    variance_ratio: float


def measure_relu_second_moment(std: float = 1.7, n: int = 1_000_000, *, rng) -> SecondMoment:
    z = check_scalar(std, "std", min=0.0, min_inclusive=False) * as_rng(rng).standard_normal(
        check_positive_int(n, "n", max=100_000_000))
    return SecondMoment(I.relu_second_moment_ratio(z), float(np.var(np.maximum(z, 0)) / np.var(z)))


def exactly_half(r: SecondMoment) -> bool:
    return abs(r.second_moment_ratio - 0.5) < HALF_EXACT


def variance_is_not_half(r: SecondMoment) -> bool:
    return abs(r.variance_ratio - 0.5) > NOT_HALF


# --------------------------------------------------------------------------- the names
@dataclass(frozen=True)
class XavierNaming:
    """The variance of a (fan_in, fan_out) layer drawn by the notes' "Xavier" code and by torch's
    ``xavier_normal_``, against the LeCun (1/fan_in) and Glorot (2/(fan_in+fan_out)) formulas."""

    fan_in: int
    fan_out: int
    notes: float
    torch: float
    lecun: float
    glorot: float


def measure_xavier_naming(fan_in: int = 1000, fan_out: int = 500, *, rng) -> XavierNaming:
    import torch

    from .._checks import torch_seed_from
    from ..notes_code.initialization import notes_xavier

    rng = as_rng(rng)
    fan_in, fan_out = check_positive_int(fan_in, "fan_in"), check_positive_int(fan_out, "fan_out")
    W_notes = notes_xavier(fan_in, fan_out, rng)                              # the notes' "Xavier"
    W_torch = torch.nn.init.xavier_normal_(torch.empty(fan_out, fan_in),      # torch stores (out, in)
                                           generator=torch.Generator().manual_seed(torch_seed_from(rng)))
    return XavierNaming(fan_in, fan_out, float(W_notes.var()), float(W_torch.var()),
                        I.init_std("lecun", fan_in, fan_out) ** 2, I.init_std("xavier", fan_in, fan_out) ** 2)


def same_variance(measured: float, formula: float) -> bool:
    return abs(measured / formula - 1) < VARIANCE_MATCH


def different_variance(measured: float, formula: float) -> bool:
    return abs(measured / formula - 1) > VARIANCE_MISMATCH
