"""The one input-validation module: every public function of lecture_lib checks its arguments here.

One rule for all messages: name the argument, show the value received, say what was expected::

    lr=-0.1 is not valid; expected a number > 0

and one rule for the exception's class:

- ``TypeError`` when the value has the wrong type (a string where a number is meant, a bool where
  an integer is meant, a list of names given as one string, a complex or integer array where real
  floats are needed);
- ``ValueError`` when the type is right but the value is not (out of range, NaN, a wrong shape,
  an unknown name).

NumPy scalars are numbers (``np.int64(2)`` is a valid integer, ``np.float32(0.1)`` a valid float);
booleans are not numbers here, although Python says ``True == 1``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

# The largest array a teaching function may be asked to allocate (elements), so that a typo such as
# depth=10**6 gets a message instead of exhausting the memory.
MAX_ELEMENTS = 200_000_000


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bounds_text(min, max, min_inclusive, max_inclusive) -> str:
    parts = []
    if min is not None:
        parts.append(f"{'>=' if min_inclusive else '>'} {min:g}")
    if max is not None:
        parts.append(f"{'<=' if max_inclusive else '<'} {max:g}")
    return " and ".join(parts)


def _check_bounds(number, name, min, max, min_inclusive, max_inclusive, kind):
    too_low = min is not None and (number < min if min_inclusive else number <= min)
    too_high = max is not None and (number > max if max_inclusive else number >= max)
    if too_low or too_high:
        raise ValueError(f"{name}={_show(number)} is not valid; expected {kind} "
                         f"{_bounds_text(min, max, min_inclusive, max_inclusive)}")


def check_int(value, name: str, *, min: int | None = None, max: int | None = None) -> int:
    """An integer (Python or NumPy, not bool) within [min, max]; returns a Python int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}={_show(value)} is not valid; expected an integer"
                        + (f" {_bounds_text(min, max, True, True)}" if (min, max) != (None, None) else ""))
    value = int(value)
    _check_bounds(value, name, min, max, True, True, "an integer")
    return value


def check_positive_int(value, name: str, *, max: int | None = None) -> int:
    """An integer >= 1 (a count, a size, a number of steps)."""
    return check_int(value, name, min=1, max=max)


def check_scalar(value, name: str, *, min: float | None = None, max: float | None = None,
                 min_inclusive: bool = True, max_inclusive: bool = True, allow_inf: bool = False) -> float:
    """A real number (Python or NumPy, not bool, not complex, not NaN) within the bounds; returns a
    Python float. Infinity is refused unless ``allow_inf``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={_show(value)} is not valid; expected a real number")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name}=nan is not valid; expected a number")
    if math.isinf(value) and not allow_inf:
        raise ValueError(f"{name}={value} is not valid; expected a finite number")
    _check_bounds(value, name, min, max, min_inclusive, max_inclusive, "a number")
    return value


def check_positive(value, name: str, *, max: float | None = None) -> float:
    """A finite number > 0 (a learning rate, a step, a scale)."""
    return check_scalar(value, name, min=0.0, min_inclusive=False, max=max)


def check_probability(value, name: str, *, allow_zero: bool = True, allow_one: bool = True) -> float:
    """A number in [0, 1]; ``allow_zero``/``allow_one`` make either end open."""
    return check_scalar(value, name, min=0.0, max=1.0, min_inclusive=allow_zero, max_inclusive=allow_one)


def check_bool(value, name: str) -> bool:
    """True or False (Python or NumPy); 0 and 1 are not accepted for a flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={_show(value)} is not valid; expected True or False")
    return bool(value)


def check_choice(value, name: str, options: Iterable):
    """One of ``options``; an unknown value is a ValueError that lists the options."""
    options = tuple(options)
    try:
        known = value in options
    except (TypeError, ValueError):  # unhashable, incomparable, or an array (ambiguous truth)
        known = False
    if not known:
        if not isinstance(value, (str, numbers.Number)) and all(isinstance(o, str) for o in options):
            raise TypeError(f"{name}={_show(value)} is not valid; expected one of {list(options)}")
        raise ValueError(f"{name}={_show(value)} is not known; expected one of {list(options)}")
    return value


def check_names(value, name: str, options: Iterable | None = None) -> tuple:
    """A non-empty sequence of names (a list or tuple of strings), each one of ``options`` when
    given. A bare string is refused whole: ``inits="lecun"`` would otherwise be read letter by
    letter."""
    if isinstance(value, str) or not isinstance(value, (Sequence, np.ndarray, set, frozenset)):
        raise TypeError(f"{name}={_show(value)} is not valid; expected a list of names, "
                        f"e.g. [{_show(value)}]" if isinstance(value, str) else
                        f"{name}={_show(value)} is not valid; expected a list of names")
    items = tuple(value)
    if not items:
        raise ValueError(f"{name}={_show(value)} is empty; expected at least one name")
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} holds {_show(item)}; expected names (strings)")
        if options is not None:
            check_choice(item, f"{name} item", options)
    return items


_KINDS = {
    "float": ("a real floating dtype", lambda dt: np.issubdtype(dt, np.floating)),
    "int": ("an integer dtype", lambda dt: np.issubdtype(dt, np.integer)),
    "real": ("a real (integer or floating) dtype",
             lambda dt: np.issubdtype(dt, np.integer) or np.issubdtype(dt, np.floating)),
    "bool": ("a boolean dtype", lambda dt: dt == np.bool_),
    "uint8": ("dtype uint8", lambda dt: dt == np.uint8),
}


def _shape_text(shape) -> str:
    parts = ["?" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_array(value, name: str, *, ndim: int | Sequence[int] | None = None, shape: Sequence | None = None,
                kind: str | None = "float", finite: bool = False, nonempty: bool = False,
                max_elements: int = MAX_ELEMENTS) -> np.ndarray:
    """A NumPy array (array-likes are converted; the array itself is returned, never copied).

    - ``kind``: ``"float"`` (real floating dtype: integer, bool or complex inputs are refused with a
      TypeError, since a silent cast hides bugs such as uint8 pixels wrapping around), ``"int"``,
      ``"real"``, ``"bool"``, ``"uint8"``, or None for any numeric dtype;
    - ``ndim``: the number of dimensions, or a tuple of allowed ones;
    - ``shape``: the expected shape; each entry is an int, None (any size) or a string naming a size
      for the message (also any size), e.g. ``shape=("D", 10)``;
    - ``finite``: refuse NaN and infinity (the message gives the first bad index)."""
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{name}={_show(value)} is not valid; expected a NumPy array")
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except Exception as err:  # noqa: BLE001 - e.g. a torch tensor that requires grad
            raise TypeError(f"{name} of type {type(value).__name__} cannot be read as a NumPy array "
                            f"({err}); expected a NumPy array") from None
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"{name} has dtype {array.dtype}; expected a numeric NumPy array")
    if kind is not None:
        if kind not in _KINDS:
            raise ValueError(f"kind={kind!r} is not known; expected one of {list(_KINDS)}")
        text, accepts = _KINDS[kind]
        if not accepts(array.dtype):
            hint = " (convert with .astype(np.float64))" if kind == "float" and array.dtype.kind in "iub" else ""
            raise TypeError(f"{name} has dtype {array.dtype}; expected {text}{hint}")
    elif array.dtype.kind == "c":
        raise TypeError(f"{name} has dtype {array.dtype}; expected real numbers")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, numbers.Integral) else tuple(ndim)
        if array.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} has shape {array.shape}; expected {want} dimension(s)")
    if shape is not None:
        shape = tuple(shape)
        fits = array.ndim == len(shape) and all(
            not isinstance(s, numbers.Integral) or array.shape[i] == s for i, s in enumerate(shape))
        if not fits:
            raise ValueError(f"{name} has shape {array.shape}; expected {_shape_text(shape)}")
    if nonempty and array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); expected at least one element")
    if array.size > max_elements:
        raise ValueError(f"{name} has {array.size} elements; expected at most {max_elements}")
    if finite and array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name} holds NaN or infinity (first at index {bad}); expected finite values")
    return array


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}; "
                         "expected equal shapes")


def check_size(n_elements, name: str, *, max_elements: int = MAX_ELEMENTS) -> int:
    """Refuse a request that would allocate more than ``max_elements`` numbers, before allocating."""
    n_elements = int(n_elements)
    if n_elements > max_elements:
        raise ValueError(f"{name} asks for {n_elements:,} numbers; expected at most {max_elements:,} "
                         "(choose smaller sizes)")
    return n_elements


def check_seed(seed, name: str = "seed") -> int:
    """A non-negative integer seed."""
    return check_int(seed, name, min=0)


def as_rng(rng, name: str = "rng") -> np.random.Generator:
    """A NumPy ``Generator``: given one, it is used as is (so that a cell's own generator drives the
    experiment); a non-negative integer is taken as a seed. Anything else, None included, is a
    TypeError: every experiment states where its randomness comes from."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        return np.random.default_rng(check_seed(rng, name))
    raise TypeError(f"{name}={_show(rng)} is not valid; expected a numpy.random.Generator "
                    "(e.g. np.random.default_rng(0)) or a non-negative integer seed")


def torch_seed_from(rng: np.random.Generator) -> int:
    """A torch seed drawn from a NumPy generator, so one ``rng`` drives both libraries."""
    return int(as_rng(rng).integers(0, 2**31 - 1))
