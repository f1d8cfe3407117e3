"""Property test: the public API of the cache, the training loop, the gradient check, the exercise
checker and the explorers' factories, driven with bad values (hypothesis draws them), answers only
with a ValueError or a TypeError whose message names the argument: never a crash deep inside
NumPy, torch or ipywidgets, never a silent success.

Each strategy draws values that are wrong for its argument (a valid value would run the real
thing, e.g. train for 10**12 epochs), so every call must raise.
"""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lecture_lib import cache, gradcheck, train
from lecture_lib.exercises import check
from lecture_lib.widgets import all_explorers

EXAMPLES = 15
EXAMPLES_PER_CONTROL = 6  # a factory builds its controls before it checks them: about 20 ms a try

# -- bad values by kind ----------------------------------------------------------------------------
JUNK = st.one_of(st.none(), st.text(max_size=4), st.lists(st.integers(), max_size=2),
                 st.complex_numbers(allow_nan=False, max_magnitude=10).filter(lambda z: z.imag != 0),
                 st.just(object()), st.just({"a": 1}), st.just(np.array([1.0, 2.0])))
BOOLS = st.sampled_from([True, False, np.bool_(True), np.bool_(False)])
NON_FINITE = st.sampled_from([float("nan"), float("inf"), -float("inf"), np.float32("nan"), np.float64("inf")])
FRACTIONS = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6).filter(
    lambda v: v != int(v))


def bad_count(allow_zero: bool = False):
    """Not a positive integer (not a non-negative one with ``allow_zero``)."""
    too_small = st.integers(max_value=-1 if allow_zero else 0, min_value=-10**12)
    return st.one_of(JUNK, BOOLS, NON_FINITE, FRACTIONS, too_small, st.sampled_from([np.float64(3.0), 2.0]))


def bad_positive_number(above: float = 0.0):
    """Not a finite real number greater than ``above``."""
    return st.one_of(JUNK, BOOLS, NON_FINITE, st.floats(max_value=above, min_value=-1e12),
                     st.integers(max_value=int(above), min_value=-10**6), st.just("0.1"))


def bad_flag():
    return st.one_of(JUNK.filter(lambda v: v is not None), st.integers(), st.floats(allow_nan=True))


BAD_ARRAYS = st.one_of(
    JUNK.filter(lambda v: not isinstance(v, np.ndarray)),
    st.sampled_from([np.array([[1.0, np.nan]]), np.array([[np.inf, 0.0]]), np.array([[1 + 1j, 0]]),
                     np.array([["a", "b"]]), np.array([[object()]], dtype=object), np.zeros((0, 64)),
                     np.array([True, False])]),
)


def names_the_argument(call, argument: str) -> None:
    """``call()`` must raise ValueError or TypeError, and the message must name ``argument``."""
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert re.search(rf"(?<![\w]){re.escape(argument)}(?![\w])", str(info.value)), \
        f"{argument}: the message does not name it: {info.value}"


def run(strategy, call, argument, examples=EXAMPLES):
    @settings(max_examples=examples, deadline=None)
    @given(strategy)
    def prop(value):
        names_the_argument(lambda: call(value), argument)
    prop()


# -- the cache --------------------------------------------------------------------------------------
BAD_NAMES = st.one_of(JUNK.filter(lambda v: not isinstance(v, str)), BOOLS, st.integers(),
                      st.text(max_size=90).filter(lambda s: not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}", s)))
BAD_KEYS = st.one_of(BAD_NAMES, st.text(max_size=30).map(lambda s: f"../{s}-0123456789abcdef"),
                     st.text(alphabet="0123456789abcdefABCDEF/.", max_size=20).map(lambda s: f"x-{s}"))
BAD_CONFIGS = st.one_of(JUNK.filter(lambda v: not isinstance(v, dict)), BOOLS,
                        st.dictionaries(st.text(max_size=3),
                                        st.sampled_from([object(), {1, 2}, print, np.array([object()])]),
                                        min_size=1, max_size=2))


@pytest.fixture(autouse=True)
def _cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_CACHE_DIR", str(tmp_path))


def test_cache_key_names_its_arguments():
    run(BAD_NAMES, lambda v: cache.cache_key(v, {}), "name")
    run(BAD_CONFIGS, lambda v: cache.cache_key("x", v), "config")


def test_cache_save_and_load_name_the_key():
    run(BAD_KEYS, lambda v: cache.save(v, {"a": 1}), "key")
    run(BAD_KEYS, lambda v: cache.load(v), "key")


def test_cached_names_compute_and_the_result():
    run(JUNK.filter(lambda v: not callable(v)), lambda v: cache.cached("x", {}, v), "compute")
    run(st.sampled_from([print, object(), {1}, b"x"]), lambda v: cache.cached("y", {}, lambda: {"v": v}), "result")


# -- the training loop -----------------------------------------------------------------------------
rng = np.random.default_rng(0)
X_SMALL = rng.standard_normal((12, 4)).astype(np.float32)
Y_SMALL = rng.integers(0, 3, 12)


def small_model():
    torch.manual_seed(0)
    return torch.nn.Linear(4, 3)


def fit(**kwargs):
    args = dict(X_train=X_SMALL, y_train=Y_SMALL, epochs=1, progress=False, device="cpu")
    args.update(kwargs)
    return train.fit(small_model(), **args)


BAD_DEVICES = st.one_of(JUNK, BOOLS, st.integers(), st.sampled_from(["gpu", "cuda:x", "", "tpu", "cuda:99"]))


@pytest.mark.parametrize("argument, strategy", [
    ("epochs", bad_count()), ("batch_size", bad_count()), ("patience", bad_count().filter(lambda v: v is not None)),
    ("lr", bad_positive_number()), ("seed", bad_count(allow_zero=True)),
    ("divergence_factor", bad_positive_number(above=1.0).filter(lambda v: v is not None)),
    ("progress", bad_flag()), ("amp", bad_flag()), ("restore_best", bad_flag()),
    ("device", BAD_DEVICES.filter(lambda v: v is not None)),
    ("optimizer", st.one_of(JUNK, st.text(max_size=6).filter(lambda s: s not in train.OPTIMIZERS))),
], ids=lambda v: v if isinstance(v, str) else "")
def test_fit_names_each_bad_argument(argument, strategy):
    extra = {"X_val": X_SMALL, "y_val": Y_SMALL} if argument == "patience" else {}
    run(strategy, lambda v: fit(**{argument: v}, **extra), argument)


def test_fit_and_evaluate_name_bad_data():
    run(BAD_ARRAYS, lambda v: fit(X_train=v), "X_train")
    run(st.one_of(BAD_ARRAYS, st.sampled_from([Y_SMALL.astype(float), Y_SMALL + 3, Y_SMALL - 1, Y_SMALL[:5],
                                               Y_SMALL[:, None]])),
        lambda v: fit(y_train=v), "y_train")
    run(BAD_ARRAYS, lambda v: fit(X_val=v, y_val=Y_SMALL), "X_val")
    run(bad_count(), lambda v: train.evaluate(small_model(), X_SMALL, Y_SMALL, batch_size=v), "batch_size")
    run(JUNK, lambda v: train.fit(v, X_SMALL, Y_SMALL, progress=False), "model")


# -- the gradient check ----------------------------------------------------------------------------
def square(v):
    return float(np.sum(v ** 2))


def test_gradient_checks_name_bad_arguments():
    x = partial(np.array, [0.5, -1.0])
    run(st.one_of(BAD_ARRAYS, st.sampled_from([np.ones(2, np.float32), np.ones(2, np.float16),
                                               np.ones(2, np.int64), [1.0, 2.0]])),
        lambda v: gradcheck.numerical_gradient(square, v), "x")
    run(bad_positive_number(), lambda v: gradcheck.numerical_gradient(square, x(), h=v), "h")
    run(JUNK.filter(lambda v: not callable(v)), lambda v: gradcheck.numerical_gradient(v, x()), "f")
    run(st.sampled_from([np.ones(3), "a", [[1.0]], None, np.ones(2, complex)]),
        lambda v: gradcheck.rel_error(v, np.ones(2)), "a")
    run(bad_flag(), lambda v: gradcheck.one_sided_gradient(square, x(), allow_low_precision=v),
        "allow_low_precision")


# -- the exercise checker ----------------------------------------------------------------------------
def test_check_names_bad_arguments():
    def answer(X):
        return X

    run(st.one_of(JUNK, st.text(max_size=8)), lambda v: check(v, answer, quiet=True), "name")
    run(JUNK.filter(lambda v: not callable(v)), lambda v: check("standardize", v, quiet=True), "function")
    run(bad_positive_number().filter(lambda v: v is not None),
        lambda v: check("standardize", answer, quiet=True, time_limit=v), "time_limit")
    run(bad_flag(), lambda v: check("standardize", answer, quiet=v), "quiet")


# -- the explorers' factories -------------------------------------------------------------------------
def _controls():
    import ipywidgets as W

    found = []
    for name, factory in sorted(all_explorers().items()):
        ex = factory()
        for control, widget in ex.controls.items():
            if hasattr(widget, "options"):  # drop-downs, toggle buttons, radio buttons
                options = [o[1] if isinstance(o, tuple) else o for o in widget.options]
                bad = st.one_of(JUNK, BOOLS, st.text(max_size=5), st.integers(-5, 5)).filter(
                    lambda v, options=options: not any(type(v) is type(o) and v == o for o in options))
            elif isinstance(widget, W.Checkbox):
                bad = bad_flag()
            else:
                lo, hi = ((widget.base ** widget.min, widget.base ** widget.max)
                          if isinstance(widget, W.FloatLogSlider) else (widget.min, widget.max))
                outside = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9).filter(
                    lambda v, lo=lo, hi=hi: not lo <= v <= hi)
                bad = st.one_of(JUNK, BOOLS, NON_FINITE, outside, st.just("1"))
                if isinstance(widget, W.IntSlider):
                    bad = st.one_of(bad, FRACTIONS)
            found.append((name, control, bad))
        ex.close()
    return found


CONTROLS = _controls()


@pytest.mark.parametrize("name", sorted({n for n, _, _ in CONTROLS}))
def test_explorer_factories_name_each_bad_initial_value(name):
    factory = all_explorers()[name]
    for explorer, control, bad in CONTROLS:
        if explorer == name:
            run(bad, lambda v, control=control: factory(**{control: v}), control, EXAMPLES_PER_CONTROL)
    names_the_argument(lambda: factory(no_such_control=1), "no_such_control")
