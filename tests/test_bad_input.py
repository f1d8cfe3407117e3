"""Bad calls across the public API of the modules behind notebooks 00-04: each gets a clear error
that names the argument (and shows the value), ValueError for a bad value (a wrong shape included),
TypeError for a wrong type, as lecture_lib._checks decides. NumPy scalars are numbers; booleans are
not; a string where a list of names is expected is refused whole; NaN where a number is expected is
refused; None never becomes NaN; integer arrays never wrap around."""

import numpy as np
import pytest

from lecture_lib import activations as A
from lecture_lib import init as I
from lecture_lib import landscapes as L
from lecture_lib import layers, nets, optim, parabola, schedules, style, timing
from lecture_lib import preprocessing as P
from lecture_lib.autodiff import Value
from lecture_lib.course import source_of
from lecture_lib.experiments import activations as EA
from lecture_lib.experiments import backprop as EB
from lecture_lib.experiments import initialization as EI
from lecture_lib.experiments import optimizers as EO
from lecture_lib.experiments import start as ES
from lecture_lib.models.perceptron import mlp

X = np.ones((4, 3))
Y = np.array([0, 1, 0, 1])
NAN = float("nan")
RNG = 0  # a seed is a valid rng; each call makes its own generator from it


def _pca():
    return P.pca_fit(np.random.default_rng(0).standard_normal((20, 3)))


def _cost():
    return EA.ActivationCost(10, 1, {"relu": 1.0, "sigmoid": 1.0}, {"relu": 1.0, "sigmoid": 1.0}, 1.0)


def _quadratic(x):
    return float(x @ x), 2 * x


CASES = [
    # ------------------------------------------------------------ activations
    ("sigmoid None", lambda: A.sigmoid(None), TypeError, "x=None"),
    ("sigmoid string", lambda: A.sigmoid("1.0"), TypeError, "x='1.0'"),
    ("sigmoid complex", lambda: A.sigmoid(np.array([1 + 2j])), TypeError, "x has dtype complex128"),
    ("sigmoid bools", lambda: A.sigmoid(np.array([True, False])), TypeError, "x has dtype bool"),
    ("relu objects", lambda: A.relu(np.array([object()])), TypeError, "x has dtype object"),
    ("tanh dict", lambda: A.tanh({"a": 1}), TypeError, "x="),
    ("tanh_grad None", lambda: A.tanh_grad(None), TypeError, "x=None"),
    ("leaky slope above 1", lambda: A.leaky_relu(X, slope=2.0), ValueError, "slope=2.0"),
    ("leaky slope string", lambda: A.leaky_relu(X, slope="0.1"), TypeError, "slope='0.1'"),
    ("leaky slope bool", lambda: A.leaky_relu_grad(X, slope=True), TypeError, "slope=True"),
    ("elu alpha nan", lambda: A.elu(X, alpha=NAN), ValueError, "alpha=nan"),
    ("elu alpha negative", lambda: A.elu_grad(X, alpha=-1), ValueError, "alpha=-1"),
    ("prelu alpha None", lambda: A.prelu(X, None), TypeError, "alpha=None"),
    ("prelu_grad complex alpha", lambda: A.prelu_grad(X, 1j), TypeError, "alpha has dtype complex"),
    ("maxout None piece", lambda: A.maxout(X, None), TypeError, "z2=None"),
    ("maxout_grad string", lambda: A.maxout_grad("a", X), TypeError, "z1='a'"),
    ("unknown activation", lambda: A.get("swish"), ValueError, "activation='swish' is not known"),
    ("activation as a number", lambda: A.get(3), ValueError, "activation=3 is not known"),
    ("activation as a list", lambda: A.apply(["relu"], X), TypeError, r"activation=\['relu'\]"),
    ("saturated tol negative", lambda: A.saturated("relu", X, tol=-1), ValueError, "tol=-1"),
    ("local gradient unknown", lambda: A.local_gradient("softmax", X), ValueError, "activation='softmax'"),
    # ------------------------------------------------------------ init
    ("init name", lambda: I.init_std("Xavier", 3, 3), ValueError, "init='Xavier' is not known"),
    ("init fan_in 0", lambda: I.init_std("he", 0, 3), ValueError, "fan_in=0"),
    ("init fan_in float", lambda: I.init_std("he", 3.0, 3), TypeError, "fan_in=3.0"),
    ("init fan_out bool", lambda: I.init_std("he", 3, True), TypeError, "fan_out=True"),
    ("init scale nan", lambda: I.init_std("he", 3, 3, scale=NAN), ValueError, "scale=nan"),
    ("init scale string", lambda: I.init_std("he", 3, 3, scale="1"), TypeError, "scale='1'"),
    ("init integer dtype", lambda: I.init_weights("he", 3, 3, RNG, dtype=np.int64), TypeError, "dtype="),
    ("init unknown dtype", lambda: I.init_weights("he", 3, 3, RNG, dtype="float128x"), TypeError, "dtype="),
    ("init rng None", lambda: I.init_weights("he", 3, 3, None), TypeError, "rng=None"),
    ("init negative seed", lambda: I.he(3, 3, -1), ValueError, "rng=-1"),
    ("init huge", lambda: I.init_weights("he", 10**5, 10**5, RNG), ValueError, "expected at most"),
    ("standard weights huge depth", lambda: I.standard_weights(10**6, 500, 500, RNG), ValueError, "expected at most"),
    ("statistics weights not a list", lambda: I.activation_statistics("he", "relu", X, np.ones((3, 3)), rng=RNG),
     TypeError, "weights of type ndarray"),
    ("statistics X 1-D", lambda: I.activation_statistics("he", "relu", np.ones(3), [np.ones((3, 3))], rng=RNG),
     ValueError, "X has shape"),
    ("statistics weights chain", lambda: I.activation_statistics("he", "relu", X, [np.ones((2, 3))], rng=RNG),
     ValueError, r"weights\[0\] has shape \(2, 3\)"),
    ("statistics hist_rows 0", lambda: I.activation_statistics("he", "relu", X, [np.ones((3, 3))], rng=RNG,
                                                                hist_rows=0), ValueError, "hist_rows=0"),
    ("statistics uneven bins", lambda: I.activation_statistics("he", "relu", X, [np.ones((3, 3))], rng=RNG,
                                                                bin_edges=[0, 1, 3]), ValueError, "bin_edges="),
    ("statistics backward flag", lambda: I.activation_statistics("he", "relu", X, [np.ones((3, 3))], rng=RNG,
                                                                  backward=1), TypeError, "backward=1"),
    ("per-layer factor of one value", lambda: I.per_layer_factor([1.0]), ValueError, "values has 1 entries"),
    ("per-layer factor negative", lambda: I.per_layer_factor([1.0, -1.0]), ValueError, "negative"),
    ("per-layer factor strings", lambda: I.per_layer_factor("abc"), TypeError, "values='abc'"),
    ("depth ratio empty", lambda: I.depth_ratio([]), ValueError, "values is empty"),
    ("saturated fraction name", lambda: I.saturated_fraction(X, "swish"), ValueError, "activation='swish'"),
    ("dead units 1-D", lambda: I.dead_unit_fraction(np.ones(3)), ValueError, "h has shape"),
    ("second moment empty", lambda: I.relu_second_moment_ratio([]), ValueError, "z is empty"),
    # ------------------------------------------------------------ preprocessing
    ("standardizer 1-D", lambda: P.fit_standardizer(np.ones(3)), ValueError, "X_train has shape"),
    ("standardizer nan", lambda: P.fit_standardizer(np.array([[1.0, NAN]])), ValueError, "X_train holds NaN"),
    ("standardizer complex", lambda: P.fit_standardizer(np.ones((2, 2)) * 1j), TypeError, "X_train has dtype"),
    ("zero_center mean shape", lambda: P.zero_center(X, np.zeros(2)), ValueError, r"mean has shape \(2,\)"),
    ("normalize zero std", lambda: P.normalize(X, np.zeros(3), np.zeros(3)), ValueError, "std holds 0"),
    ("project a string", lambda: P.pca_project(X, "pca"), TypeError, "pca of type str"),
    ("whiten k 0", lambda: P.whiten(X, _pca(), k=0), ValueError, "k=0"),
    ("whiten k float", lambda: P.whiten(X, _pca(), k=1.5), TypeError, "k=1.5"),
    ("as_matrix None", lambda: P.as_matrix(None), TypeError, "X=None"),
    ("components share above 1", lambda: _pca().components_for(1.5), ValueError, "share=1.5"),
    # ------------------------------------------------------------ optim
    ("lr string", lambda: optim.SGD(lr="0.1"), TypeError, "lr='0.1'"),
    ("lr bool", lambda: optim.SGD(lr=True), TypeError, "lr=True"),
    ("lr negative", lambda: optim.Adam(lr=-1), ValueError, "lr=-1"),
    ("momentum nan", lambda: optim.SGD(momentum=NAN), ValueError, "momentum=nan"),
    ("nesterov as 1", lambda: optim.SGD(momentum=0.9, nesterov=1), TypeError, "nesterov=1"),
    ("nesterov without momentum", lambda: optim.SGD(nesterov=True), ValueError, "nesterov=True needs"),
    ("betas a number", lambda: optim.Adam(betas=0.9), TypeError, "betas=0.9"),
    ("beta2 of 1", lambda: optim.Adam(betas=(0.9, 1.0)), ValueError, r"betas\[1\]=1.0"),
    ("amsgrad string", lambda: optim.Adam(amsgrad="yes"), TypeError, "amsgrad='yes'"),
    ("centered as 1", lambda: optim.RMSprop(centered=1), TypeError, "centered=1"),
    ("alpha negative", lambda: optim.RMSprop(alpha=-0.1), ValueError, "alpha=-0.1"),
    ("eps infinite", lambda: optim.Adagrad(eps=float("inf")), ValueError, "eps=inf"),
    ("step on a list", lambda: optim.SGD(lr=0.1).step([[1.0]], [[1.0]]), TypeError, r"params\[0\] of type list"),
    ("step on integers", lambda: optim.SGD(lr=0.1).step([np.zeros(2, int)], [np.zeros(2)]), TypeError,
     r"params\[0\] has dtype int64"),
    ("step shapes", lambda: optim.SGD(lr=0.1).step([np.zeros(2)], [np.zeros(3)]), ValueError, r"grads\[0\] has shape"),
    ("step on an array", lambda: optim.SGD(lr=0.1).step(np.zeros(2), np.zeros(2)), TypeError, "params of type ndarray"),
    ("lr set to a string", lambda: setattr(optim.SGD(), "lr", "x"), TypeError, "lr='x'"),
    ("bfgs update shapes", lambda: optim.bfgs_update(np.eye(3), np.ones(2), np.ones(2)), ValueError, "H_inv has shape"),
    ("lbfgs direction pairs", lambda: optim.lbfgs_direction(np.ones(2), [np.ones(2)], []), ValueError, "s_list has 1"),
    ("line search shrink 1", lambda: optim.backtracking_line_search(_quadratic, np.ones(2), 2.0, 2 * np.ones(2),
                                                                   -np.ones(2), shrink=1.0), ValueError, "shrink=1.0"),
    ("bfgs of a number", lambda: optim.bfgs(3, np.ones(2), 5), TypeError, "f_and_grad=3"),
    ("lbfgs x0 2-D", lambda: optim.lbfgs(_quadratic, np.ones((2, 2)), 5), ValueError, "x0 has shape"),
    ("lbfgs memory 0", lambda: optim.lbfgs(_quadratic, np.ones(2), 5, memory=0), ValueError, "memory=0"),
    ("lbfgs too few batches", lambda: optim.lbfgs(_quadratic, np.ones(2), 5, batches=[[0]]), ValueError,
     "batches holds 1"),
    # ------------------------------------------------------------ schedules
    ("lr0 zero", lambda: schedules.exponential(0, 0.1), ValueError, "lr0=0"),
    ("step size float", lambda: schedules.step_decay(1.0, 2.5), TypeError, "step_size=2.5"),
    ("cosine total 0", lambda: schedules.cosine(1.0, 0), ValueError, "total=0"),
    ("warm-up too long", lambda: schedules.warmup_cosine(1.0, 10, 5), ValueError, "warmup=10"),
    ("schedule at t float", lambda: schedules.constant(1.0)(1.5), TypeError, "t=1.5"),
    ("scheduler schedule", lambda: schedules.Scheduler(optim.SGD(), 3), TypeError, "schedule=3"),
    ("torch equivalent of a string", lambda: schedules.torch_equivalent("step", None), TypeError, "schedule='step'"),
    # ------------------------------------------------------------ landscapes
    ("taco kappa below 1", lambda: L.taco(0.5), ValueError, "kappa=0.5"),
    ("taco kappa string", lambda: L.taco("10"), TypeError, "kappa='10'"),
    ("taco angle nan", lambda: L.taco(10, NAN), ValueError, "angle=nan"),
    ("rosenbrock b 0", lambda: L.rosenbrock(b=0), ValueError, "b=0"),
    ("sharp width negative", lambda: L.sharp_wide(sharp_width=-1), ValueError, "sharp_width=-1"),
    ("landscape name", lambda: L.make("bowl"), ValueError, "name='bowl'"),
    ("gradient of 3 numbers", lambda: L.saddle().exact_grad(np.zeros(3)), ValueError, "last axis"),
    ("loss of None", lambda: L.saddle().loss(None), TypeError, "p=None"),
    ("noise negative", lambda: L.saddle().noisy(-1, rng=RNG), ValueError, "sigma=-1"),
    ("noise without rng", lambda: L.saddle().noisy(0.5, rng=None), TypeError, "rng=None"),
    ("grid of 1", lambda: L.taco().grid(1), ValueError, "n=1"),
    ("trajectory of an object", lambda: L.trajectory(object(), L.taco(), (1, 1), 3), TypeError, "optimizer="),
    ("trajectory on a name", lambda: L.trajectory(optim.SGD(), "taco", (1, 1), 3), TypeError, "landscape='taco'"),
    ("trajectory steps", lambda: L.trajectory(optim.SGD(), L.taco(), (1, 1), -1), ValueError, "steps=-1"),
    # ------------------------------------------------------------ autodiff
    ("Value of a string", lambda: Value("3"), TypeError, "data='3'"),
    ("Value of None", lambda: Value(None), TypeError, "data=None"),
    ("Value of a bool", lambda: Value(True), TypeError, "data=True"),
    ("Value of nan", lambda: Value(NAN), ValueError, "data=nan"),
    ("power of a string", lambda: Value(1.0) ** "2", TypeError, "k='2'"),
    ("log of a negative", lambda: Value(-1.0).log(), ValueError, "log of -1"),
    ("label a number", lambda: Value(1.0, label=3), TypeError, "label=3"),
    ("adding a string", lambda: Value(1.0) + "a", TypeError, "data='a'"),
    # ------------------------------------------------------------ layers
    ("affine on integers", lambda: layers.affine_forward(np.ones((2, 3), int), np.ones((3, 2)), np.ones(2)), TypeError,
     "x has dtype int64"),
    ("affine shapes", lambda: layers.affine_forward(X, np.ones((4, 2)), np.ones(2)), ValueError, r"\(4, 3\)"),
    ("relu of None", lambda: layers.relu_forward(None), TypeError, "x=None"),
    ("sigmoid gate complex", lambda: layers.sigmoid_forward(np.ones(2) * 1j), TypeError, "x has dtype complex"),
    ("tanh gate strings", lambda: layers.tanh_forward(np.array(["a"])), TypeError, "x has dtype"),
    ("softmax float labels", lambda: layers.softmax_loss(X, Y.astype(float)), TypeError, "y has dtype float64"),
    ("softmax labels range", lambda: layers.softmax_loss(np.ones((4, 2)), np.array([0, 1, 2, 0])), ValueError,
     "labels in"),
    ("svm shapes", lambda: layers.svm_loss(X, np.zeros(3, int)), ValueError, r"y of shape \(4,\)"),
    ("relu backward shapes", lambda: layers.relu_backward(np.ones((3, 4)), layers.relu_forward(X)[1]), ValueError,
     "dout has shape"),
    ("affine backward shapes", lambda: layers.affine_backward(np.ones((4, 5)), layers.affine_forward(
        X, np.ones((3, 2)), np.ones(2))[1]), ValueError, "dout has shape"),
    # ------------------------------------------------------------ nets (softmax regression, torch twin)
    ("descent lr 0", lambda: nets.softmax_regression_descent(X, Y, lr=0, steps=3), ValueError, "lr=0"),
    ("descent steps negative", lambda: nets.softmax_regression_descent(X, Y, lr=0.1, steps=-1), ValueError, "steps=-1"),
    ("descent target negative", lambda: nets.softmax_regression_descent(X, Y, lr=0.1, steps=3, target=-1), ValueError,
     "target=-1"),
    ("descent float labels", lambda: nets.softmax_regression_descent(X, Y * 1.0, lr=0.1, steps=3), TypeError,
     "y has dtype float64"),
    ("tuned without rates", lambda: nets.tuned_steps_to_loss(X, Y, lrs=[], target=0.1, max_steps=3), ValueError,
     "lrs is empty"),
    ("steps_to_loss float budget", lambda: nets.steps_to_loss(X, Y, lr=0.1, target=0.1, max_steps=1.5), TypeError,
     "steps=1.5"),
    ("torch twin of a string", lambda: nets.torch_twin("net"), TypeError, "net='net'"),
    # ------------------------------------------------------------ parabola, timing, course, models
    ("parabola lr 0", lambda: parabola.descend(0, 1.0, 3), ValueError, "lr=0"),
    ("parabola steps negative", lambda: parabola.descend(0.1, 1.0, -1), ValueError, "steps=-1"),
    ("parabola x0 nan", lambda: parabola.descend(0.1, NAN, 3), ValueError, "x0=nan"),
    ("parabola curvature", lambda: parabola.loss(1.0, curvature=0), ValueError, "curvature=0"),
    ("time a number", lambda: timing.best_seconds(3), TypeError, "fn=3"),
    ("time zero repeats", lambda: timing.best_seconds(len, [], repeats=0), ValueError, "repeats=0"),
    ("margin of a zero time", lambda: timing.within_margin(0.0, 1.0), ValueError, "a=0.0"),
    ("not slower negative", lambda: timing.not_slower(-1.0, 1.0), ValueError, "t=-1.0"),
    ("source of a number", lambda: source_of(3), TypeError, "fn=3"),
    ("font size a string", lambda: style.font_pt("12"), TypeError, "points='12'"),
    ("font size negative", lambda: style.font_pt(-1), ValueError, "points=-1"),
    ("small texts of no figure", lambda: style.small_texts(None), TypeError, "fig=None"),
    ("softmax of a string", lambda: layers.softmax("scores"), TypeError, "scores='scores'"),
    ("epochs to loss of a string", lambda: EI.epochs_to_loss("abc"), TypeError, "train_loss='abc'"),
    ("epochs to loss nan target", lambda: EI.epochs_to_loss([1.0], target=float("nan")), ValueError, "target=nan"),
    ("mlp activation", lambda: mlp(10, activation="gelu"), ValueError, "activation='gelu'"),
    ("mlp widths string", lambda: mlp(10, widths="64"), TypeError, "widths='64'"),
    ("mlp seed negative", lambda: mlp(10, seed=-1), ValueError, "seed=-1"),
    ("mlp gain negative", lambda: mlp(10, gain=-1.0), ValueError, "gain=-1.0"),
    ("mlp no classes", lambda: mlp(0), ValueError, "num_classes=0"),
    # ------------------------------------------------------------ experiments of 01
    ("gradient norms depth 1", lambda: EA.measure_gradient_norms(X, Y, "relu", init="he", depth=1, rng=RNG),
     ValueError, "depth=1"),
    ("gradient norms init", lambda: EA.measure_gradient_norms(X, Y, "relu", init="kaiming", rng=RNG), ValueError,
     "init='kaiming'"),
    ("saturation of one name", lambda: EA.measure_saturation("tanh", 1.0, rng=RNG), TypeError,
     r"activations='tanh' is not valid; expected a list of names"),
    ("saturation unknown name", lambda: EA.measure_saturation(["swish"], 1.0, rng=RNG), ValueError, "'swish'"),
    ("saturation std nan", lambda: EA.measure_saturation(["tanh"], NAN, rng=RNG), ValueError, "std=nan"),
    ("cost of nothing", lambda: EA.measure_activation_cost(0, rng=RNG), ValueError, "n=0"),
    ("layer outputs one name", lambda: EA.measure_layer_outputs(X, "relu", rng=RNG), TypeError, "activations='relu'"),
    ("parameter counts one name", lambda: EA.measure_parameter_counts("relu"), TypeError, "activations='relu'"),
    ("race one name", lambda: EA.measure_convergence_race(None, "relu", lrs=[0.1], n_seeds=1, epochs=1, target=0.5,
                                                          rng=RNG), TypeError, "activations='relu'"),
    ("dead units rng None", lambda: EA.measure_dead_at_init(X, rng=None), TypeError, "rng=None"),
    ("zero-centring rng string", lambda: EA.measure_zero_centring(X, Y, "relu", lrs=[1], target=0.1, max_steps=3,
                                                                  rng="0"), TypeError, "rng='0'"),
    ("timing library", lambda: EA.relu_not_slower(_cost(), "sigmoid", "jax"), ValueError, "library='jax'"),
    # ------------------------------------------------------------ experiments of 02
    ("statistics of one name", lambda: EI.measure_activation_statistics("lecun", rng=RNG), TypeError,
     "inits='lecun' is not valid; expected a list of names"),
    ("statistics huge depth", lambda: EI.measure_activation_statistics(depth=10**6, rng=RNG), ValueError,
     "expected at most"),
    ("naming fan_in 0", lambda: EI.measure_xavier_naming(0, 5, rng=RNG), ValueError, "fan_in=0"),
    ("second moment std 0", lambda: EI.measure_relu_second_moment(0.0, rng=RNG), ValueError, "std=0.0"),
    ("preprocessing of a list", lambda: EI.measure_preprocessing([X], Y, lrs=[1], target=0.1, max_steps=3), TypeError,
     "versions"),
    ("sign lock delta shape", lambda: EI.sign_locked_fraction(X, np.ones(3)), ValueError, r"delta has shape \(3,\)"),
    ("unit spread 1-D", lambda: EI.unit_spread(np.ones(3)), ValueError, "W has shape"),
    ("decorrelated 1-D", lambda: EI.decorrelated(np.ones(3)), ValueError, "covariance has shape"),
    # ------------------------------------------------------------ experiments of 03
    ("chain rule of nothing", lambda: EB.measure_chain_rule(0, rng=RNG), ValueError, "n_expressions=0"),
    ("sigmoid gate at a string", lambda: EB.measure_sigmoid_gate("a", number=1), TypeError, "x='a'"),
    ("gradient scale 0", lambda: EB.measure_gradient_scale(X, Y, scale=0, rng=RNG), ValueError, "scale=0"),
    ("stable lr bounds", lambda: EB.largest_stable_lr(X, Y, lo=10.0, hi=1.0), ValueError, "lo=10.0"),
    ("step sweep negative h", lambda: EB.measure_step_sweep([-1.0], rng=RNG), ValueError, "hs holds -1"),
    ("kink h 0", lambda: EB.measure_relu_kink(h=0, rng=RNG), ValueError, "h=0"),
    ("band of a negative error", lambda: EB.gradient_check_band(-1.0), ValueError, "err=-1.0"),
    ("program of no operations", lambda: EB.random_program(RNG, 0), ValueError, "n_ops=0"),
    ("stability of nothing", lambda: EB.is_stable([]), ValueError, "losses is empty"),
    # ------------------------------------------------------------ experiments of 04
    ("hessian family", lambda: EO.random_hessian("cauchy", 3, RNG), ValueError, "kind='cauchy'"),
    ("duplicates of 11 classes", lambda: EO.measure_duplicates(n_unique=11, rng=RNG), ValueError, "n_unique=11"),
    ("noise without draws", lambda: EO.measure_minibatch_noise(draws=0, rng=RNG), ValueError, "draws=0"),
    ("critical points rng None", lambda: EO.measure_critical_points(rng=None), TypeError, "rng=None"),
    ("iterate a number", lambda: EO.iterate(3, len, [0.0], 2, None, lr=0.1), TypeError, "step and grad"),
    ("iterate schedule length", lambda: EO.iterate(lambda x, g, s, lr: (x, s), len, [0.0], 2, None, lr=[0.1]),
     ValueError, "lr has shape"),
    ("softmax optimizer name", lambda: EO.train_softmax(schedules.constant(0.1), "lbfgs", rng=RNG), ValueError,
     "optimizer='lbfgs'"),
    ("decay without epochs", lambda: EO.measure_lr_decay(epochs=0, rng=RNG), ValueError, "epochs=0"),
    ("newton kappa below 1", lambda: EO.measure_newton(kappa=0.5, rng=RNG), ValueError, "kappa=0.5"),
    ("hessian size 0", lambda: EO.measure_hessian_cost(sizes=(0, 10), rng=RNG), ValueError, "sizes item=0"),
    ("copies of nothing", lambda: EO.copies(RNG, 0), ValueError, "n=0"),
    ("rescaling factor 0", lambda: EO.measure_rescaling_sharpness(factor=0, rng=RNG), ValueError, "factor=0"),
    ("tuned rate kappa", lambda: EO.tuned_gd(0.5), ValueError, "kappa=0.5"),
    ("steps to a tolerance", lambda: EO.steps_to(np.ones((3, 2)), (0, 0), -1.0), ValueError, "tol=-1.0"),
    # ------------------------------------------------------------ experiment of 00
    ("widget response of an object", lambda: ES.measure_widget_response(object(), "lr", [1.0]), TypeError,
     "explorer="),
]


@pytest.mark.parametrize("call, error, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_call_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_table_covers_the_api():
    assert len(CASES) >= 100
    assert len({c[0] for c in CASES}) == len(CASES), "each row has its own name"


def test_numpy_scalars_are_numbers_and_integer_pixels_do_not_wrap():
    assert I.init_std("he", np.int64(4), np.int32(3), scale=np.float32(2.0)) == pytest.approx(2 * np.sqrt(0.5))
    assert optim.SGD(lr=np.float64(0.1), momentum=np.float32(0.5)).momentum == 0.5
    pixels = np.array([0, 128, 255], dtype=np.uint8)
    out = A.relu(pixels)                      # computed in floats: 255 stays 255, nothing wraps
    assert out.dtype == np.float64 and out.tolist() == [0.0, 128.0, 255.0]
    assert A.relu(np.array([-3, 0, 5], dtype=np.int8)).tolist() == [0.0, 0.0, 5.0]   # signed ints keep their sign
    np.testing.assert_allclose(A.sigmoid(pixels), 1 / (1 + np.exp(-pixels.astype(float))))
    np.testing.assert_allclose(P.zero_center(pixels[None].repeat(2, 0), np.zeros(3)), [[0, 128, 255]] * 2)
